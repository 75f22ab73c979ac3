/**
 * @file The tridiagonal reduction's working memory in WebAssembly, with its per-column kernels (reductionKernels.wat,
 * assembled by scripts/build-wasm.mjs into reductionKernelsWasm.ts): the matrix–vector product reading only the
 * lower triangle, and the panel's corrections.
 *
 * Why: per column the reduction multiplies the not-yet-updated trailing block by the Householder vector. As an
 * onnxruntime Gemm that read the whole block and cost a run (~15 µs of fixed cost and an event-loop turn) per
 * column; here each off-diagonal value serves both of its products, so half the block is read, in the same thread
 * (d = 768: 170 → 130 ms per warm reduction on one thread). The panel's corrections (tridiagonal.ts updatedColumn
 * and subtractPanelTerms, ~40 ms of a d = 768 fit as JavaScript) run here too, two panel columns per f64x2.
 * The matrices and panels live in the kernel's memory so that the kernels read them where they are: onnxruntime's
 * trailing update reads and writes the same views. One memory is kept per thread for the next reduction (see
 * KEPT_MEMORY_MAX_SIZE).
 */
import { REDUCTION_KERNELS_WASM_BASE64 } from './reductionKernelsWasm';
import { aligned, instantiateKernel, KeptKernelMemory, kernelMemory, type KernelExports } from './wasmKernels';

interface ReductionKernel extends KernelExports {
  readonly lowerSymmetricProduct: (matrix: number, s: number, first: number, v: number, y: number) => void;
  readonly updatedColumn: (matrix: number, s: number, j: number, vPanel: number, wPanel: number, width: number, column: number) => void;
  readonly panelDots: (v: number, vPanel: number, wPanel: number, width: number, j: number, rows: number, wtv: number, vtv: number) => void;
  readonly panelCorrections: (y: number, vPanel: number, wPanel: number, width: number, j: number, rows: number, wtv: number, vtv: number) => void;
}

/** The largest reduction kept in WebAssembly memory (2 × 8,192² values = 1 GiB); larger ones use the product backend. */
export const SYMMETRIC_KERNEL_MAX_SIZE = 8192;

/**
 * A reduction's memory up to this size (2 × 1,024² values = 16 MiB) is kept for the next reduction on the same
 * thread: a fresh WebAssembly memory per fit cost its page faults again and swung the system time of a
 * 10,000 × 768 × 4-layer probe between 0.3 and 0.7 s. Larger ones are let go with their reduction.
 */
export const KEPT_MEMORY_MAX_SIZE = 1024;

/** The memory kept for the next reduction on this thread (up to KEPT_MEMORY_MAX_SIZE). */
const keptMemory = new KeptKernelMemory<ReductionMemory>();

/** Memory for a reduction of `size` in panels of `panelWidth`: the kept one when it is free and large enough, else a new one. */
export function takeReductionMemory(size: number, panelWidth: number): ReductionMemory {
  const kept = keptMemory.take((memory) => memory.capacity >= size && memory.panelWidth >= panelWidth);
  if (kept === undefined) return new ReductionMemory(size, panelWidth);
  kept.prepare(size);
  return kept;
}

/** Give back memory from takeReductionMemory once its reduction is done (kept when small enough, and no larger one is). */
export function releaseReductionMemory(memory: ReductionMemory): void {
  const current = keptMemory.current;
  if (memory.capacity <= KEPT_MEMORY_MAX_SIZE && (current === undefined || current.capacity < memory.capacity)) keptMemory.keep(memory);
}

export class ReductionMemory {
  private readonly kernel: ReductionKernel;
  /** Two size × size buffers (each holds the trailing block, compacted to its own stride, in turn). */
  matrices!: readonly [Float64Array, Float64Array];
  /** The product's operand (length size): v[f:] is read. */
  v!: Float64Array;
  /** The panels' V and W (size × panelWidth values each). */
  vPanel!: Float64Array;
  wPanel!: Float64Array;
  private y!: Float64Array;
  private column!: Float64Array;
  private wtv!: Float64Array;
  private vtv!: Float64Array;
  size = 0;

  constructor(readonly capacity: number, readonly panelWidth: number) {
    this.kernel = instantiateKernel<ReductionKernel>(REDUCTION_KERNELS_WASM_BASE64);
    kernelMemory(this.kernel.memory, ReductionMemory.bytes(capacity, panelWidth));
    this.prepare(capacity);
  }

  private static layout(size: number, panelWidth: number): number[] {
    const square = size * size * 8;
    const vector = aligned(size * 8);
    const panel = aligned(size * panelWidth * 8);
    const small = aligned(panelWidth * 8);
    // matrices, v, y, column, V, W, wtv, vtv
    const sizes = [square, square, vector, vector, vector, panel, panel, small, small];
    const offsets: number[] = [];
    let at = 0;
    for (const bytes of sizes) {
      offsets.push(at);
      at = aligned(at + bytes);
    }
    offsets.push(at);
    return offsets;
  }

  private static bytes(size: number, panelWidth: number): number {
    return ReductionMemory.layout(size, panelWidth).at(-1) as number;
  }

  /** Lay the views out for a reduction of `size` ≤ capacity. */
  prepare(size: number): void {
    if (size > this.capacity) throw new Error(`ReductionMemory: ${size} exceeds its capacity ${this.capacity}`);
    const heap = this.kernel.memory.buffer;
    const [first, second, v, y, column, vPanel, wPanel, wtv, vtv] = ReductionMemory.layout(size, this.panelWidth);
    this.size = size;
    this.matrices = [new Float64Array(heap, first, size * size), new Float64Array(heap, second, size * size)];
    this.v = new Float64Array(heap, v, size);
    this.y = new Float64Array(heap, y, size);
    this.column = new Float64Array(heap, column, size);
    this.vPanel = new Float64Array(heap, vPanel, size * this.panelWidth);
    this.wPanel = new Float64Array(heap, wPanel, size * this.panelWidth);
    this.wtv = new Float64Array(heap, wtv, this.panelWidth);
    this.vtv = new Float64Array(heap, vtv, this.panelWidth);
  }

  private own(array: Float64Array): number {
    if (array.buffer !== this.kernel.memory.buffer) throw new Error('ReductionMemory: not one of this reduction\'s buffers');
    return array.byteOffset;
  }

  /**
   * y = M[f:, f:]·v[f:] for M the s × s matrix at the start of `matrix` (a view of one of `matrices`), symmetric,
   * of which only the lower triangle is read. Returns a view of length s − f, valid until the next call.
   */
  lowerSymmetricProduct(matrix: Float64Array, s: number, f: number): Float64Array {
    if (s > this.size || f > s) throw new Error(`lowerSymmetricProduct: ${s} × ${s} from ${f} in a reduction of ${this.size}`);
    this.kernel.lowerSymmetricProduct(this.own(matrix), s, f, this.v.byteOffset, this.y.byteOffset);
    return this.y.subarray(0, s - f);
  }

  /** Column j of the trailing matrix (rows j … s−1) with the panel's earlier updates applied (tridiagonal.ts updatedColumn); a view valid until the next call. */
  updatedColumn(matrix: Float64Array, s: number, j: number, vPanel: Float64Array, wPanel: Float64Array, width: number): Float64Array {
    this.kernel.updatedColumn(this.own(matrix), s, j, this.own(vPanel), this.own(wPanel), width, this.column.byteOffset);
    return this.column.subarray(0, s - j);
  }

  /**
   * y −= V (Wᵀv) + W (Vᵀv) over the panel's first j columns, rows j+1 … (tridiagonal.ts subtractPanelTerms), with
   * v = this.v[j+1 …] and y the view lowerSymmetricProduct returned.
   */
  subtractPanelTerms(y: Float64Array, vPanel: Float64Array, wPanel: Float64Array, width: number, j: number): void {
    const v = this.v.byteOffset + (j + 1) * 8;
    this.kernel.panelDots(v, this.own(vPanel), this.own(wPanel), width, j, y.length, this.wtv.byteOffset, this.vtv.byteOffset);
    this.kernel.panelCorrections(this.own(y), this.own(vPanel), this.own(wPanel), width, j, y.length, this.wtv.byteOffset, this.vtv.byteOffset);
  }
}

/**
 * @file The tridiagonal reduction's working matrices in WebAssembly memory, with its matrix–vector product as a
 * SIMD kernel that reads only the lower triangle (symmetricMatVec.wat, assembled by scripts/build-wasm.mjs into
 * symmetricMatVecWasm.ts).
 *
 * Why: per column the reduction multiplies the not-yet-updated trailing block by the Householder vector. As an
 * onnxruntime Gemm that read the whole block and cost a run (~15 µs of fixed cost and an event-loop turn) per
 * column; here each off-diagonal value serves both of its products, so half the block is read, in the same thread.
 * The two matrices live in the kernel's memory so that the kernel reads them where they are: onnxruntime's trailing
 * update reads and writes the same views. One memory is kept per thread for the next reduction (see KEPT_MEMORY_MAX_SIZE).
 */
import { SYMMETRIC_MAT_VEC_WASM_BASE64 } from './symmetricMatVecWasm';
import { kernelMemory, type KernelExports } from './wasmKernels';

interface SymmetricKernel extends KernelExports {
  readonly lowerSymmetricProduct: (matrix: number, s: number, first: number, v: number, y: number) => void;
}

/** The largest reduction kept in WebAssembly memory (2 × 8,192² values = 1 GiB); larger ones use the product backend. */
export const SYMMETRIC_KERNEL_MAX_SIZE = 8192;

/**
 * A reduction's memory up to this size (2 × 1,024² values = 16 MiB) is kept for the next reduction on the same
 * thread: a fresh WebAssembly memory per fit cost its page faults again and swung the system time of a
 * 10,000 × 768 × 4-layer probe between 0.3 and 0.7 s. Larger ones are let go with their reduction.
 */
export const KEPT_MEMORY_MAX_SIZE = 1024;

let compiled: WebAssembly.Module | undefined;
/** The kept memory, when no reduction on this thread is using it (two fits on one thread may interleave at awaits). */
let idle: SymmetricReductionMemory | undefined;

/** Memory for a reduction of `size`: the kept one when it is free and large enough, else a new one. */
export function takeReductionMemory(size: number): SymmetricReductionMemory {
  const kept = idle;
  if (kept !== undefined && kept.capacity >= size) {
    idle = undefined;
    kept.prepare(size);
    return kept;
  }
  return new SymmetricReductionMemory(size);
}

/** Give back memory from takeReductionMemory once its reduction is done (kept when small enough). */
export function releaseReductionMemory(memory: SymmetricReductionMemory): void {
  if (memory.capacity <= KEPT_MEMORY_MAX_SIZE && (idle === undefined || idle.capacity < memory.capacity)) idle = memory;
}

export class SymmetricReductionMemory {
  private readonly kernel: SymmetricKernel;
  /** Two size × size buffers (each holds the trailing block, compacted to its own stride, in turn). */
  matrices!: readonly [Float64Array, Float64Array];
  /** The product's operand (length size): v[f:] is read. */
  v!: Float64Array;
  private y!: Float64Array;
  size = 0;

  constructor(readonly capacity: number) {
    compiled ??= new WebAssembly.Module(Buffer.from(SYMMETRIC_MAT_VEC_WASM_BASE64, 'base64'));
    this.kernel = new WebAssembly.Instance(compiled).exports as unknown as SymmetricKernel;
    kernelMemory(this.kernel.memory, 2 * capacity * capacity * 8 + 2 * capacity * 8);
    this.prepare(capacity);
  }

  /** Lay the views out for a reduction of `size` ≤ capacity. */
  prepare(size: number): void {
    if (size > this.capacity) throw new Error(`SymmetricReductionMemory: ${size} exceeds its capacity ${this.capacity}`);
    const heap = this.kernel.memory.buffer;
    const square = size * size * 8;
    this.size = size;
    this.matrices = [new Float64Array(heap, 0, size * size), new Float64Array(heap, square, size * size)];
    this.v = new Float64Array(heap, 2 * square, size);
    this.y = new Float64Array(heap, 2 * square + size * 8, size);
  }
  /**
   * y = M[f:, f:]·v[f:] for M the s × s matrix at the start of `matrix` (a view of one of `matrices`), symmetric,
   * of which only the lower triangle is read. Returns a view of length s − f, valid until the next call.
   */
  lowerSymmetricProduct(matrix: Float64Array, s: number, f: number): Float64Array {
    if (matrix.buffer !== this.kernel.memory.buffer || s > this.size || f > s) throw new Error('lowerSymmetricProduct: not one of this reduction\'s matrices');
    this.kernel.lowerSymmetricProduct(matrix.byteOffset, s, f, this.v.byteOffset, this.y.byteOffset);
    return this.y.subarray(0, s - f);
  }
}


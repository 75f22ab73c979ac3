/**
 * @file The ridge fit's passes over float32 rows on a WebAssembly SIMD kernel (centring.wat, assembled by
 * scripts/build-wasm.mjs into centringWasm.ts): column sums (the means), rows centred into float32 (the leave-one-out
 * chunks), and rows centred and transposed into the covariance's float64 panels.
 *
 * Why: each pass touches every value of the layer; on a fit worker the three JavaScript loops took ~75 ms of a
 * 10,000 × 768 fit (2-core VM, 2026-12-03). The kernel does the scalar loops' operations on each value (float32 →
 * float64 exactly, one float64 subtraction, one rounding to float32 where the result is float32; sums add rows in
 * order), so the numbers are the same; centring.test.ts checks them against those loops.
 *
 * Rows are copied into the kernel's memory a block at a time. The covariance panels live in that memory
 * (CovariancePanels), so that the kernel writes them where onnxruntime's products read them: copied out column by
 * column instead, the transposing kernel was slower than the JavaScript loop.
 */
import { CENTRING_WASM_BASE64 } from './centringWasm';
import { aligned, blockRows, instantiateKernel, KeptKernelMemory, kernelMemory, type KernelExports } from './wasmKernels';

interface CentringKernel extends KernelExports {
  readonly columnSums: (rows: number, count: number, size: number, sums: number) => void;
  readonly centredInto32: (rows: number, count: number, size: number, means: number, out: number) => void;
  readonly centredTransposed: (rows: number, count: number, size: number, first: number, width: number, means: number, out: number, stride: number) => void;
}

/** Bytes of rows per kernel call. */
export const BLOCK_BYTES = 1 << 20;

/** Covariance panels up to this many bytes are kept for the next fit on the same thread (d = 768: 34 MB). */
export const KEPT_PANEL_BYTES = 64 * 1024 * 1024;

let rowKernel: CentringKernel | undefined;

function newKernel(): CentringKernel {
  return instantiateKernel<CentringKernel>(CENTRING_WASM_BASE64);
}

/** Column sums of the rows × cols float32 rows (float64, each column's rows added in order). */
export function columnSumsFloat32(x: Float32Array, rows: number, cols: number, blockBytes = BLOCK_BYTES): Float64Array {
  const sums = new Float64Array(cols);
  if (rows === 0 || cols === 0) return sums;
  const kernel = (rowKernel ??= newKernel());
  const block = blockRows(rows, cols * 4, blockBytes);
  const rowsAt = aligned(cols * 8);
  const heap = kernelMemory(kernel.memory, rowsAt + block * cols * 4);
  const kernelSums = new Float64Array(heap, 0, cols).fill(0);
  const kernelRows = new Float32Array(heap, rowsAt, block * cols);
  for (let start = 0; start < rows; start += block) {
    const count = Math.min(block, rows - start);
    kernelRows.set(x.subarray(start * cols, (start + count) * cols));
    kernel.columnSums(rowsAt, count, cols, 0);
  }
  sums.set(kernelSums);
  return sums;
}

/** out (rows start…end, row-major) = float32(x − means), each value the float64 difference rounded once. */
export function centredFloat32Into32(x: Float32Array, means: Float64Array, start: number, end: number, cols: number, out: Float32Array,
  blockBytes = BLOCK_BYTES): Float32Array {
  const total = end - start;
  if (total <= 0 || cols === 0) return out;
  const kernel = (rowKernel ??= newKernel());
  const block = blockRows(total, cols * 4, blockBytes);
  const rowsAt = aligned(cols * 8);
  const outAt = aligned(rowsAt + block * cols * 4);
  const heap = kernelMemory(kernel.memory, outAt + block * cols * 4);
  new Float64Array(heap, 0, cols).set(means.subarray(0, cols));
  const kernelRows = new Float32Array(heap, rowsAt, block * cols);
  const kernelOut = new Float32Array(heap, outAt, block * cols);
  for (let first = 0; first < total; first += block) {
    const count = Math.min(block, total - first);
    kernelRows.set(x.subarray((start + first) * cols, (start + first + count) * cols));
    kernel.centredInto32(rowsAt, count, cols, 0, outAt);
    out.set(kernelOut.subarray(0, count * cols), first * cols);
  }
  return out;
}

/** The panels kept for the next fit on this thread (up to KEPT_PANEL_BYTES). */
const keptPanels = new KeptKernelMemory<CovariancePanels>();

/**
 * The covariance's operand for float32 rows: a chunk's centred rows transposed (d × rows, row-major, in the kernel's
 * memory), so that any run of features is one contiguous panel. Take one with CovariancePanels.take, give it back
 * with CovariancePanels.release when the covariance is done.
 */
export class CovariancePanels {
  private readonly kernel: CentringKernel;
  private readonly bytes: number;
  private readonly rowsAt: number;
  private readonly block: number;
  private readonly transposedAt: number;
  /** maxRows × d values (a view of the kernel's memory); a chunk of `rows` rows fills the first d × rows. */
  readonly transposed: Float64Array;

  private constructor(kernel: CentringKernel, readonly d: number, readonly maxRows: number, blockBytes: number) {
    this.kernel = kernel;
    this.rowsAt = aligned(d * 8);
    this.block = blockRows(maxRows, d * 4, blockBytes);
    this.transposedAt = aligned(this.rowsAt + this.block * d * 4);
    this.bytes = aligned(this.transposedAt + maxRows * d * 8);
    this.transposed = new Float64Array(kernelMemory(kernel.memory, this.bytes), this.transposedAt, maxRows * d);
  }

  /** Panels for chunks of up to maxRows rows of d features, with the column means `means`. */
  static take(d: number, maxRows: number, means: Float64Array, blockBytes = BLOCK_BYTES): CovariancePanels {
    const panels = keptPanels.take((kept) => kept.d === d && kept.maxRows >= maxRows && kept.block === blockRows(maxRows, d * 4, blockBytes))
      ?? new CovariancePanels(newKernel(), d, maxRows, blockBytes);
    new Float64Array(panels.kernel.memory.buffer, 0, d).set(means.subarray(0, d));
    return panels;
  }

  /**
   * Kept panels for d features and at least `rows` rows, when this thread has some (never new ones): between
   * covariances their memory may serve as other scratch. Give them back with release.
   */
  static takeKept(d: number, rows: number): CovariancePanels | undefined {
    return keptPanels.take((kept) => kept.d === d && kept.maxRows >= rows);
  }

  /** Fill `transposed` with rows start … start + rows − 1 of x (rows ≤ maxRows), centred: feature f's values at f·rows. */
  fill(x: Float32Array, start: number, rows: number): void {
    const { d, kernel, block } = this;
    const kernelRows = new Float32Array(kernel.memory.buffer, this.rowsAt, block * d);
    for (let first = 0; first < rows; first += block) {
      const count = Math.min(block, rows - first);
      kernelRows.set(x.subarray((start + first) * d, (start + first + count) * d));
      kernel.centredTransposed(this.rowsAt, count, d, 0, d, 0, this.transposedAt + first * 8, rows);
    }
  }

  /** Whether CovariancePanels.release keeps these panels for the next fit on this thread. */
  get kept(): boolean {
    return this.bytes <= KEPT_PANEL_BYTES;
  }

  /** Done with `panels`: kept for the next fit on this thread when small enough. */
  static release(panels: CovariancePanels): void {
    if (panels.kept) keptPanels.keep(panels);
  }
}

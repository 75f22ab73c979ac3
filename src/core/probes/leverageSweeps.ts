/**
 * @file The leave-one-out sweeps of the tridiagonal ridge forms (ridge.ts quadraticForms) on a WebAssembly SIMD
 * kernel (leverageSweeps.wat, assembled by scripts/build-wasm.mjs into leverageSweepsWasm.ts).
 *
 * Why: for every row p of the projected samples and four alphas at once, the recurrences
 * u_k = p_k − l_k·u_{k−1}, s += u_k²/D_k run over all d steps — 12 alphas × n rows × d steps per fit, the largest
 * JavaScript loop of a d = 768 fit. The kernel keeps the four alphas in two f64x2 lanes: a 4-alpha sweep of
 * 5,461 × 768 float32 rows took 16.3 ms as two-rows-per-pass JavaScript and 6.9 ms here (2-core VM, 2026-12-03).
 * Each lane does the scalar loop's IEEE operations in its order (no fused multiply-add), so the sums are the same
 * doubles as the JavaScript gave; leverageSweeps.test.ts checks them against the scalar loop.
 *
 * Rows are copied into the kernel's memory a block at a time (BLOCK_BYTES), so that a block is still in cache when
 * it is swept and the memory stays small whatever the chunk. One instance per thread (each worker has its own).
 */
import { LEVERAGE_SWEEPS_WASM_BASE64 } from './leverageSweepsWasm';
import { aligned, blockRows, instantiateKernel, kernelMemory, type KernelExports } from './wasmKernels';

interface SweepKernel extends KernelExports {
  readonly sweepFloat32: (rows: number, count: number, size: number, coefficients: number, out: number) => void;
  readonly sweepFloat64: (rows: number, count: number, size: number, coefficients: number, out: number) => void;
}

/** Bytes of rows per kernel call. */
export const BLOCK_BYTES = 1 << 19;

let kernel: SweepKernel | undefined;

/**
 * For rows i < count of p (count × size, row-major) and the four alphas whose coefficients are interleaved in
 * `coefficients` (size × 8: per step k, l_{k−1} for alphas 0–3 (0 at k = 0), then 1/D_k for alphas 0–3), writes
 * Σ_k u_k²/D_k of alpha j to targets[j][i].
 */
export function sweepRows(p: Float32Array | Float64Array, count: number, size: number, coefficients: Float64Array,
  targets: readonly [Float64Array, Float64Array, Float64Array, Float64Array], blockBytes = BLOCK_BYTES): void {
  if (count === 0 || size === 0) {
    for (const target of targets) target.fill(0, 0, count);
    return;
  }
  if (coefficients.length < size * 8) throw new Error(`sweepRows: ${coefficients.length} coefficients for ${size} steps`);
  if (p.length < count * size) throw new Error(`sweepRows: ${p.length} values for ${count} × ${size}`);
  kernel ??= instantiateKernel<SweepKernel>(LEVERAGE_SWEEPS_WASM_BASE64);
  const sweeps = kernel;
  const width = p.BYTES_PER_ELEMENT;
  const block = blockRows(count, size * width, blockBytes);
  const rowsAt = size * 64;
  const outAt = aligned(rowsAt + block * size * width);
  const heap = kernelMemory(sweeps.memory, outAt + 4 * block * 8);
  new Float64Array(heap, 0, size * 8).set(coefficients.subarray(0, size * 8));
  const rows = p instanceof Float32Array ? new Float32Array(heap, rowsAt, block * size) : new Float64Array(heap, rowsAt, block * size);
  const out = new Float64Array(heap, outAt, 4 * block);
  const sweep = p instanceof Float32Array ? sweeps.sweepFloat32 : sweeps.sweepFloat64;
  for (let start = 0; start < count; start += block) {
    const blockRows = Math.min(block, count - start);
    rows.set(p.subarray(start * size, (start + blockRows) * size));
    sweep(rowsAt, blockRows, size, 0, outAt);
    for (let j = 0; j < 4; j++) targets[j].set(out.subarray(j * blockRows, (j + 1) * blockRows), start);
  }
}

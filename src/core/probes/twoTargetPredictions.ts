/**
 * @file ridge.ts predict for the common two-target probe (latitude and longitude) on a WebAssembly SIMD kernel
 * (twoTargetPredictions.wat, assembled by scripts/build-wasm.mjs into twoTargetPredictionsWasm.ts): both targets
 * in the two lanes of one f64x2, four rows at a time.
 *
 * Why: predictions run on the main thread for every row of every layer while the fit workers have the cores;
 * 10,000 × 768 float32 rows took ~25 ms a layer as a JavaScript loop. Each lane's sum adds x_f·coef_f in feature order
 * after the intercept, as the JavaScript loop did (no fused multiply-add), so the predictions are the same doubles;
 * twoTargetPredictions.test.ts checks them against that loop. Rows are copied in a block (BLOCK_BYTES) at a time.
 */
import { TWO_TARGET_PREDICTIONS_WASM_BASE64 } from './twoTargetPredictionsWasm';
import { aligned, blockRows, instantiateKernel, kernelMemory, type KernelExports } from './wasmKernels';

interface PredictionKernel extends KernelExports {
  readonly predictFloat32: (rows: number, count: number, size: number, coefficients: number, intercept: number, out: number) => void;
  readonly predictFloat64: (rows: number, count: number, size: number, coefficients: number, intercept: number, out: number) => void;
}

/** Bytes of rows per kernel call. */
export const BLOCK_BYTES = 1 << 19;

let kernel: PredictionKernel | undefined;

/**
 * out[2i + c] = intercept[c] + Σ_f x[i·d + f]·coef[2f + c] for the nSamples rows of x (row-major, d features) and
 * the two targets c, summed in feature order.
 */
export function predictTwoTargets(coef: Float64Array, intercept: Float64Array, x: Float32Array | Float64Array, nSamples: number, d: number,
  blockBytes = BLOCK_BYTES): Float64Array {
  const out = new Float64Array(nSamples * 2);
  if (nSamples === 0) return out;
  kernel ??= instantiateKernel<PredictionKernel>(TWO_TARGET_PREDICTIONS_WASM_BASE64);
  const predictions = kernel;
  const width = x.BYTES_PER_ELEMENT;
  const block = blockRows(nSamples, d * width, blockBytes);
  const interceptAt = d * 16;
  const rowsAt = interceptAt + 16;
  const outAt = aligned(rowsAt + block * d * width);
  const heap = kernelMemory(predictions.memory, outAt + block * 16);
  new Float64Array(heap, 0, d * 2).set(coef.subarray(0, d * 2));
  new Float64Array(heap, interceptAt, 2).set(intercept.subarray(0, 2));
  const rows = x instanceof Float32Array ? new Float32Array(heap, rowsAt, block * d) : new Float64Array(heap, rowsAt, block * d);
  const results = new Float64Array(heap, outAt, block * 2);
  const run = x instanceof Float32Array ? predictions.predictFloat32 : predictions.predictFloat64;
  for (let start = 0; start < nSamples; start += block) {
    const count = Math.min(block, nSamples - start);
    rows.set(x.subarray(start * d, (start + count) * d));
    run(rowsAt, count, d, 0, interceptAt, outAt);
    out.set(results.subarray(0, count * 2), start * 2);
  }
  return out;
}

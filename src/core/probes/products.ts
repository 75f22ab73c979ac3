/**
 * @file Dense float64/float32 matrix products for the probe engine, behind one small interface so that the same
 * algorithm runs on onnxruntime's MLAS kernels (fast) or on plain TypeScript loops (fallback, and the independent
 * check in the tests).
 */
import { OrtGemm, sharedGemm } from '../runtime/linalg';
import { OrtBandSweep, sharedBandSweep, type BandSweepInput } from '../runtime/bandSweep';

export type { BandSweepInput } from '../runtime/bandSweep';

export type ProductDtype = 'float32' | 'float64';
export type ArrayOf<D extends ProductDtype> = D extends 'float32' ? Float32Array : Float64Array;

export interface Matrix<D extends ProductDtype = 'float64'> {
  readonly data: ArrayOf<D>;
  readonly rows: number;
  readonly cols: number;
}

export interface ProductOptions<D extends ProductDtype> {
  readonly transA?: boolean;
  readonly transB?: boolean;
  readonly alpha?: number;
  readonly beta?: number;
  readonly c?: Matrix<D>;
  /** Preallocated result (may be a subarray view), written and returned; must not alias A, B or C. */
  readonly out?: ArrayOf<D>;
}

/** Y = alpha·op(A)·op(B) + beta·C (ONNX/BLAS Gemm semantics), row-major. */
export interface DenseProducts {
  readonly name: 'onnxruntime' | 'javascript' | 'accelerated';
  gemm<D extends ProductDtype>(dtype: D, a: Matrix<D>, b: Matrix<D>, options?: ProductOptions<D>): Promise<ArrayOf<D>>;
  /**
   * The band form's whole leave-one-out sweep of a chunk in one call (runtime/bandSweep.ts), alphas × rows
   * leverages. Optional: without it the sweep runs block by block through `gemm` (probes/ridge.ts).
   */
  bandLeverages?<D extends ProductDtype>(dtype: D, input: BandSweepInput<D>, out?: ArrayOf<D>): Promise<ArrayOf<D>>;
}

/** onnxruntime (MLAS) products: ~85 GFLOP/s float64, ~190 GFLOP/s float32 per core on the benchmark VM (BENCHMARKS.md). */
export function onnxProducts(gemm: OrtGemm = sharedGemm(), sweep: OrtBandSweep = sharedBandSweep()): DenseProducts {
  return {
    name: 'onnxruntime',
    gemm: (dtype, a, b, options) => gemm.gemm(dtype, a, b, options),
    bandLeverages: (dtype, input, out) => sweep.leverages(dtype, input, out),
  };
}

/**
 * float32 products on an accelerator's Gemm (`float32`, an OrtGemm on the WebGPU or CUDA provider), float64 ones on
 * the CPU's. The probe engine's float32 products are exactly its leave-one-out pass, whose float64 check
 * (looScores.ts) scores a row sample with these float32 products against the CPU's float64 ones — so the
 * accelerator's rounding is checked the same way as MLAS's, and the choice of alpha is the CPU path's.
 */
export function acceleratedProducts(float32: OrtGemm, float64: OrtGemm = sharedGemm()): DenseProducts {
  return {
    name: 'accelerated',
    gemm: (dtype, a, b, options) => (dtype === 'float32' ? float32 : float64).gemm(dtype, a, b, options),
  };
}

/**
 * Plain TypeScript products (i-k-j loop order so the inner loop runs over contiguous memory; about 1 GFLOP/s).
 * Used where onnxruntime-node cannot load, and as the slow path the fast path is tested against.
 */
export const javascriptProducts: DenseProducts = {
  name: 'javascript',
  async gemm<D extends ProductDtype>(dtype: D, a: Matrix<D>, b: Matrix<D>, options: ProductOptions<D> = {}): Promise<ArrayOf<D>> {
    const transA = options.transA ?? false;
    const transB = options.transB ?? false;
    const m = transA ? a.cols : a.rows;
    const k = transA ? a.rows : a.cols;
    const n = transB ? b.rows : b.cols;
    if ((transB ? b.cols : b.rows) !== k) throw new Error(`gemm: inner dimensions differ (${k} vs ${transB ? b.cols : b.rows})`);
    const alpha = options.alpha ?? 1;
    const beta = options.beta ?? 1;
    const out = new Float64Array(m * n);
    // B as k × n row-major (copy when transposed) so the innermost loop is contiguous.
    let bk: ArrayLike<number> = b.data;
    if (transB) {
      const copy = new Float64Array(k * n);
      for (let row = 0; row < b.rows; row++) for (let col = 0; col < b.cols; col++) copy[col * n + row] = b.data[row * b.cols + col];
      bk = copy;
    }
    const aData = a.data;
    for (let i = 0; i < m; i++) {
      const outOffset = i * n;
      for (let p = 0; p < k; p++) {
        const aip = transA ? aData[p * a.cols + i] : aData[i * a.cols + p];
        if (aip === 0) continue;
        const bOffset = p * n;
        for (let j = 0; j < n; j++) out[outOffset + j] += aip * bk[bOffset + j];
      }
    }
    if (alpha !== 1) for (let index = 0; index < out.length; index++) out[index] *= alpha;
    if (options.c !== undefined) for (let index = 0; index < out.length; index++) out[index] += beta * options.c.data[index];
    if (options.out !== undefined) {
      if (options.out.length !== out.length) throw new Error(`gemm: out has ${options.out.length} values, result is ${m}×${n}`);
      options.out.set(out);
      return options.out;
    }
    return (dtype === 'float32' ? Float32Array.from(out) : out) as ArrayOf<D>;
  },
};

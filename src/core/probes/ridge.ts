/**
 * @file Ridge regression with intercept and efficient leave-one-out choice of alpha — the maths of
 * scikit-learn's `RidgeCV(alphas, fit_intercept=True)` (its `_RidgeGCV`, scoring=None, one alpha for all targets).
 *
 * ## Formula
 * Centre X and y on their column means (the intercept is not penalised). For each alpha the fitted ridge model
 * on the centred data has the hat matrix H(α) = 𝟙𝟙ᵀ/n + X_c (X_cᵀX_c + αI)⁻¹ X_cᵀ, and the leave-one-out error of
 * sample i is the closed form
 *
 *     e_i(α) = (y_i − ŷ_i(α)) / (1 − h_ii(α)),   h_ii(α) = 1/n + x_iᵀ (C + αI)⁻¹ x_i,   C = X_cᵀX_c,
 *
 * identical to scikit-learn's c / diag(G⁻¹) (it writes I − H = α G⁻¹ and removes the intercept direction with
 * `_find_smallest_angle`; here the intercept's 1/n is added analytically). The score of α is the mean of e² over
 * samples and targets; the FIRST alpha with the smallest mean wins (scikit-learn updates only on a strictly better
 * score). Arithmetic is float64, as scikit-learn's, except the primal leave-one-out pass, which runs in float32 when a
 * float64 check on a row sample vouches for the choice of alpha (looScores.ts; coefficients are float64 always).
 *
 * ## Primal or dual, by shape (as scikit-learn's `_check_gcv_mode`)
 * - n > d ("primal", scikit-learn's "svd" mode): decompose the d×d covariance C = Q T Qᵀ (T tridiagonal). With
 *   Yᵀ = Qᵀ X_cᵀ (one Gemm), h_ii(α) = y_iᵀ (T + αI)⁻¹ y_i and ŷ(α) = Y (T + αI)⁻¹ Yᵀ y_c, all O(n·d) per alpha via
 *   an LDLᵀ factorisation of the tridiagonal T + αI. Cost: n·d² for C, 4/3·d³ for the reduction, 2·n·d² for Y.
 * - n ≤ d ("dual", scikit-learn's "eigen" mode): decompose the n×n Gram matrix K = X_c X_cᵀ = Q T Qᵀ. Then
 *   G⁻¹ = (K + αI)⁻¹ − 𝟙𝟙ᵀ/(nα) (𝟙 is K's null vector after centring: removing it unpenalises the intercept), the
 *   dual coefficients are c = G⁻¹ y_c, e = c / diag(G⁻¹), and the primal coefficients are X_cᵀ c. Cost: d·n² for K,
 *   4/3·n³ for the reduction — cheaper than the d³ of the primal form when n < d.
 *
 * Rows are processed in chunks, so memory is bounded by the input, two d×d (or n×n) float64 matrices and a few
 * chunk buffers: the full centred float64 copy of X is never formed in primal mode.
 */
import { javascriptProducts, onnxProducts, type ArrayOf, type DenseProducts, type ProductDtype } from './products';
import { checkedLooSums, LOO_ROWS_SCRATCH, looErrorsPerRow, pickAlpha, type ChunkScorer, type LooPass, type LooTiming } from './looScores';
import { tridiagonalize, type Tridiagonal } from './tridiagonal';
import { factorShiftedBand, reduceToBand, solveShiftedBand, type BandReduction } from './band';
import { HalfMatrix, type LayerValues } from './halfMatrix';
import { FactoredOrthogonal } from './blockReflectors';
import { sweepRows } from './leverageSweeps';
import { centredFloat32Into32, columnSumsFloat32, CovariancePanels } from './centring';
import { predictTwoTargets } from './twoTargetPredictions';
import { ScratchBuffers } from '../util/scratch';

export type RidgeMode = 'primal' | 'dual';

export interface RidgeCVOptions {
  /** Candidate regularisation strengths, each finite and > 0, tried in this order. */
  readonly alphas: readonly number[];
  /** 'auto' (default) picks 'primal' when nSamples > nFeatures, else 'dual', like scikit-learn. */
  readonly mode?: RidgeMode | 'auto';
  /** Where the big matrix products run: onnxruntime (default) or plain TypeScript. */
  readonly products?: DenseProducts | 'onnxruntime' | 'javascript';
  /**
   * Precision of the products used only for the leave-one-out scores (primal mode: the n×d×d projection Y = X_c Q
   * and the band form's sweeps). 'float32' roughly halves their time at ~1e-7 relative error in the scores, and is
   * checked: a row sample is scored in both precisions, and unless the chosen alpha wins by a clear margin over
   * that error the scores are recomputed in float64 (looScores.ts), so the alpha is the one float64 picks.
   * Coefficients are always computed in float64. 'auto' (default): float32 from FLOAT32_PROJECTION_MIN_FEATURES
   * features and FLOAT32_PROJECTION_MIN_SAMPLES samples up, float64 below (where the pass is cheap anyway).
   */
  readonly projectionPrecision?: 'auto' | 'float64' | 'float32';
  /** Rows per chunk; default chosen so a chunk holds about 4M values. */
  readonly chunkRows?: number;
  /**
   * How the primal form reduces C: to tridiagonal (one-stage Householder; half its flops are matrix–vector products
   * that stream the trailing matrix from memory once per column) or to a band of width `bandwidth` (every large
   * product a Gemm; the leave-one-out sweeps become block solves, also Gemms). 'auto' (default): band from
   * BAND_REDUCTION_MIN_FEATURES features up. See docs/probes.md for the measurements behind the threshold.
   */
  readonly reduction?: 'auto' | 'tridiagonal' | 'band';
  /** Block width of the band reduction. Default 32. */
  readonly bandwidth?: number;
  /** Receives the seconds spent in each phase (for benchmarks and docs). */
  readonly onPhase?: (phase: RidgePhase, seconds: number) => void;
  /**
   * Where the fit takes its large working buffers (the covariance's panels, the d × d matrices, the leave-one-out
   * chunks): a fit worker passes the same ScratchBuffers to consecutive fits, whose buffers are then already mapped
   * (a fresh one costs page faults: ~100 MB, 0.05–0.1 s of system time per 10,000 × 768 fit). Only one fit may use it
   * at a time. Default: fresh buffers for this fit. The result never points into it.
   */
  readonly scratch?: ScratchBuffers;
}

/** Where 'auto' switches the primal form from the tridiagonal to the band reduction (see docs/probes.md). */
// With Q factored and the fused sweep (2026-12-02, n = 10,000, one layer, seconds): d = 1,024 tridiagonal 0.96–1.45,
// band 1.04–1.36 (a tie); d = 1,536 2.15–2.62 against 1.88–2.24; d = 2,048 4.33–4.34 against 3.28–3.79.
export const BAND_REDUCTION_MIN_FEATURES = 1536;

/** From these sizes on, projectionPrecision 'auto' runs the leave-one-out pass in checked float32. */
export const FLOAT32_PROJECTION_MIN_FEATURES = 256;
export const FLOAT32_PROJECTION_MIN_SAMPLES = 2048;

export type RidgePhase = 'covariance' | 'gram' | 'tridiagonalize' | 'band reduction' | 'projection' | 'leave-one-out sweeps' | 'precision check';

export interface RidgeCVResult {
  readonly alpha: number;
  readonly alphaIndex: number;
  /** nFeatures × nTargets, row-major. */
  readonly coef: Float64Array;
  /** nTargets. */
  readonly intercept: Float64Array;
  /** Mean leave-one-out squared error (over samples and targets) for each alpha, in the order given. */
  readonly looMse: Float64Array;
  readonly mode: RidgeMode;
  /**
   * Precision the leave-one-out scores (looMse) were computed in: 'float32' only when the float64 check on a row
   * sample vouched for the choice of alpha (looScores.ts). Coefficients and intercepts are float64 either way.
   */
  readonly looPrecision: ProductDtype;
  readonly nSamples: number;
  readonly nFeatures: number;
  readonly nTargets: number;
}

export interface RidgeInput {
  /**
   * nSamples × nFeatures, row-major. A HalfMatrix (float16/bfloat16 bits) is widened row chunk by row chunk into
   * the float64 buffers, never as a whole.
   */
  readonly x: LayerValues;
  /** nSamples × nTargets, row-major. */
  readonly y: Float64Array | Float32Array;
  readonly nSamples: number;
  readonly nFeatures: number;
  readonly nTargets: number;
}

/** Thrown for inputs that cannot be fitted (shapes, non-finite values, bad alphas); the message says which. */
export class RidgeInputError extends Error {
  override readonly name = 'RidgeInputError';
}

function resolveProducts(products: RidgeCVOptions['products']): DenseProducts {
  if (products === undefined || products === 'onnxruntime') return onnxProducts();
  if (products === 'javascript') return javascriptProducts;
  return products;
}

/**
 * Check the input (shapes, finite values, alphas) and return x's column means: the finiteness of x is read off
 * the column sums, which a single pass makes anyway (a non-finite value makes its column's sum non-finite; only
 * then is x scanned for the first one, to name it). One pass over x instead of two; the means are the same
 * doubles as summing each column row by row and dividing by the row count.
 */
function validate(input: RidgeInput, alphas: readonly number[]): Float64Array {
  const { x, y, nSamples, nFeatures, nTargets } = input;
  for (const [name, value] of [['nSamples', nSamples], ['nFeatures', nFeatures], ['nTargets', nTargets]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RidgeInputError(`fitRidgeCV: ${name} must be a positive integer, got ${value}`);
  }
  if (nSamples < 2) throw new RidgeInputError('fitRidgeCV: leave-one-out needs at least 2 samples');
  if (x.length !== nSamples * nFeatures) throw new RidgeInputError(`fitRidgeCV: x has ${x.length} values, expected nSamples × nFeatures = ${nSamples} × ${nFeatures}`);
  if (y.length !== nSamples * nTargets) throw new RidgeInputError(`fitRidgeCV: y has ${y.length} values, expected nSamples × nTargets = ${nSamples} × ${nTargets}`);
  if (alphas.length === 0) throw new RidgeInputError('fitRidgeCV: alphas is empty');
  alphas.forEach((alpha, index) => {
    if (!(Number.isFinite(alpha) && alpha > 0)) throw new RidgeInputError(`fitRidgeCV: alphas[${index}] = ${alpha} must be finite and > 0`);
  });
  const sums = columnSums(x, nSamples, nFeatures);
  if (!sums.every(Number.isFinite)) {
    const index = x instanceof HalfMatrix ? x.firstNonFinite() : (x as Float32Array | Float64Array).findIndex((value) => !Number.isFinite(value));
    if (index >= 0) {
      const value = x instanceof HalfMatrix ? x.table[x.bits[index]] : x[index];
      throw new RidgeInputError(`fitRidgeCV: x[${Math.floor(index / nFeatures)}, ${index % nFeatures}] is ${value} (features must be finite)`);
    }
    const column = sums.findIndex((sum) => !Number.isFinite(sum));
    throw new RidgeInputError(`fitRidgeCV: the values of x's column ${column} are too large to add up in float64 (their sum is ${sums[column]})`);
  }
  for (let index = 0; index < y.length; index++) {
    if (!Number.isFinite(y[index])) {
      throw new RidgeInputError(`fitRidgeCV: y[${Math.floor(index / nTargets)}, ${index % nTargets}] is ${y[index]} (targets must be finite)`);
    }
  }
  for (let col = 0; col < nFeatures; col++) sums[col] /= nSamples;
  return sums;
}

/** Column sums of x, row by row (one loop per element type, so that each stays monomorphic). */
function columnSums(x: LayerValues, rows: number, cols: number): Float64Array {
  if (x instanceof HalfMatrix) {
    const sums = new Float64Array(cols);
    const table = x.table;
    const bits = x.bits;
    for (let row = 0; row < rows; row++) {
      const offset = row * cols;
      for (let col = 0; col < cols; col++) sums[col] += table[bits[offset + col]];
    }
    return sums;
  }
  return x instanceof Float32Array ? columnSumsFloat32(x, rows, cols) : columnSumsFloat64(x, rows, cols);
}

function columnSumsFloat64(x: Float64Array, rows: number, cols: number): Float64Array {
  const sums = new Float64Array(cols);
  for (let row = 0; row < rows; row++) {
    const offset = row * cols;
    for (let col = 0; col < cols; col++) sums[col] += x[offset + col];
  }
  return sums;
}

/** Column means of the targets (x's come from validate). */
function columnMeans(data: Float64Array | Float32Array, rows: number, cols: number): Float64Array {
  const means = new Float64Array(cols);
  for (let row = 0; row < rows; row++) {
    const offset = row * cols;
    for (let col = 0; col < cols; col++) means[col] += data[offset + col];
  }
  for (let col = 0; col < cols; col++) means[col] /= rows;
  return means;
}

/**
 * Rows start…end of x, centred, as float64 (end − start) × cols. Two copies of the same loop, one per element
 * type, so that each stays monomorphic (a shared loop over Float32Array and Float64Array runs several times slower).
 */
function centredRows(x: LayerValues, means: Float64Array, start: number, end: number, cols: number,
  buffer?: Float64Array): Float64Array {
  const out = buffer === undefined ? new Float64Array((end - start) * cols) : buffer.subarray(0, (end - start) * cols);
  if (x instanceof HalfMatrix) return centredRowsHalf(x, means, start, end, cols, out);
  return x instanceof Float32Array ? centredRowsFloat32(x, means, start, end, cols, out) : centredRowsFloat64(x, means, start, end, cols, out);
}

function centredRowsFloat32(x: Float32Array, means: Float64Array, start: number, end: number, cols: number, out: Float64Array): Float64Array {
  for (let row = start; row < end; row++) {
    const source = row * cols;
    const target = (row - start) * cols;
    for (let col = 0; col < cols; col++) out[target + col] = x[source + col] - means[col];
  }
  return out;
}

function centredRowsHalf(x: HalfMatrix, means: Float64Array, start: number, end: number, cols: number, out: Float64Array): Float64Array {
  const table = x.table;
  const bits = x.bits;
  for (let row = start; row < end; row++) {
    const source = row * cols;
    const target = (row - start) * cols;
    for (let col = 0; col < cols; col++) out[target + col] = table[bits[source + col]] - means[col];
  }
  return out;
}

function centredRowsFloat64(x: Float64Array, means: Float64Array, start: number, end: number, cols: number, out: Float64Array): Float64Array {
  for (let row = start; row < end; row++) {
    const source = row * cols;
    const target = (row - start) * cols;
    for (let col = 0; col < cols; col++) out[target + col] = x[source + col] - means[col];
  }
  return out;
}

/**
 * Rows start…end of x, centred, rounded to float32 (the float64 differences of centredRows, each rounded once), for
 * a float32 leave-one-out pass. One loop per element type, for the same reason as centredRows.
 */
function centredRowsInto32(x: LayerValues, means: Float64Array, start: number, end: number, cols: number, buffer: Float32Array): Float32Array {
  const out = buffer.subarray(0, (end - start) * cols);
  if (x instanceof HalfMatrix) {
    const table = x.table;
    const bits = x.bits;
    for (let row = start; row < end; row++) {
      const source = row * cols;
      const target = (row - start) * cols;
      for (let col = 0; col < cols; col++) out[target + col] = table[bits[source + col]] - means[col];
    }
    return out;
  }
  return x instanceof Float32Array ? centredFloat32Into32(x, means, start, end, cols, out) : centredFloat64Into32(x, means, start, end, cols, out);
}

function centredFloat64Into32(x: Float64Array, means: Float64Array, start: number, end: number, cols: number, out: Float32Array): Float32Array {
  for (let row = start; row < end; row++) {
    const source = row * cols;
    const target = (row - start) * cols;
    for (let col = 0; col < cols; col++) out[target + col] = x[source + col] - means[col];
  }
  return out;
}

/** LDLᵀ factor of T + αI: 1/D_k and the sub-diagonal multipliers l_k of the unit lower bidiagonal L. */
export interface ShiftedFactor {
  readonly inverseD: Float64Array;
  readonly multipliers: Float64Array;
}

/** LDLᵀ of T + αI for a symmetric positive definite tridiagonal T + αI: returns 1/D and the multipliers l. */
export function factorShiftedTridiagonal(t: Pick<Tridiagonal, 'diagonal' | 'offDiagonal' | 'size'>, alpha: number): ShiftedFactor {
  const size = t.size;
  const inverseD = new Float64Array(size);
  const multipliers = new Float64Array(Math.max(0, size - 1));
  let d = t.diagonal[0] + alpha;
  inverseD[0] = 1 / d;
  for (let k = 1; k < size; k++) {
    const l = t.offDiagonal[k - 1] / d;
    multipliers[k - 1] = l;
    d = t.diagonal[k] + alpha - l * t.offDiagonal[k - 1];
    inverseD[k] = 1 / d;
  }
  return { inverseD, multipliers };
}

/** Solve (T + αI) s = b for `columns` right-hand sides stored size × columns row-major. */
export function solveShiftedTridiagonal(factor: ShiftedFactor, b: Float64Array, size: number, columns: number): Float64Array {
  const { inverseD, multipliers } = factor;
  const s = Float64Array.from(b);
  for (let k = 1; k < size; k++) for (let c = 0; c < columns; c++) s[k * columns + c] -= multipliers[k - 1] * s[(k - 1) * columns + c];
  for (let c = 0; c < columns; c++) s[(size - 1) * columns + c] *= inverseD[size - 1];
  for (let k = size - 2; k >= 0; k--) {
    for (let c = 0; c < columns; c++) s[k * columns + c] = s[k * columns + c] * inverseD[k] - multipliers[k] * s[(k + 1) * columns + c];
  }
  return s;
}

/**
 * For each alpha and each row i of P (count × size, row-major), the quadratic form
 * p_iᵀ (T + αI)⁻¹ p_i = Σ_k u_k² / D_k with u = L⁻¹ p_i (forward substitution through the LDLᵀ factor).
 * Each row is swept once per group of four alphas (leverageSweeps.ts: a WebAssembly SIMD kernel, the four alphas'
 * recurrences side by side), reading nothing but the row and the group's coefficients.
 */
function quadraticForms(p: Float64Array | Float32Array, count: number, size: number, factors: readonly ShiftedFactor[]): Float64Array[] {
  const nAlphas = factors.length;
  const sums = factors.map(() => new Float64Array(count));
  for (let group = 0; group < nAlphas; group += 4) {
    // Interleaved per k: [l_k−1 (or 0 at k = 0), 1/D_k] for each of the 4 alphas (missing alphas repeat the last).
    const coefficients = new Float64Array(size * 8);
    for (let j = 0; j < 4; j++) {
      const factor = factors[Math.min(nAlphas - 1, group + j)];
      for (let k = 0; k < size; k++) {
        coefficients[k * 8 + j] = k === 0 ? 0 : factor.multipliers[k - 1];
        coefficients[k * 8 + 4 + j] = factor.inverseD[k];
      }
    }
    const targets = [0, 1, 2, 3].map((j) => sums[Math.min(nAlphas - 1, group + j)]) as [Float64Array, Float64Array, Float64Array, Float64Array];
    sweepRows(p, count, size, coefficients, targets);
  }
  return sums;
}

/**
 * Rows per chunk of the projection (and of the covariance for small d): ~4 M values, at most 8,192 rows. The row
 * cap matters for narrow layers (d = 32: 131,072 rows would make every scratch buffer a fresh 8–30 MB, whose page
 * faults and garbage collection made a 32-feature fit take 40–340 ms; 8,192-row chunks take a steady ~50 ms).
 */
function defaultChunkRows(nFeatures: number, nSamples: number): number {
  return Math.max(64, Math.min(nSamples, 8192, Math.floor(4_194_304 / Math.max(1, nFeatures))));
}

/**
 * Rows per chunk of the covariance: at least d. Each chunk's block products come back from onnxruntime as ~d²
 * fresh values (~3 ns per byte on the benchmark VM), so chunks much shorter than d rows spend more on receiving
 * results than on the rows themselves (d = 4,096: 1,024-row chunks cost 16 × 5/8 × 134 MB of results).
 */
function covarianceChunkRows(nFeatures: number, nSamples: number): number {
  return Math.max(defaultChunkRows(nFeatures, nSamples), Math.min(nSamples, nFeatures));
}

/**
 * Fit ridge regression with intercept, choosing alpha by efficient leave-one-out on the given samples.
 * See the file comment for the formula and the choice between primal and dual form.
 */
export async function fitRidgeCV(input: RidgeInput, options: RidgeCVOptions): Promise<RidgeCVResult> {
  const alphas = [...options.alphas];
  const xMeans = validate(input, alphas);
  const products = resolveProducts(options.products);
  const { nSamples, nFeatures } = input;
  const requested = options.mode ?? 'auto';
  const mode: RidgeMode = requested === 'auto' ? (nSamples > nFeatures ? 'primal' : 'dual') : requested;
  if (mode === 'dual') return fitDual(input, xMeans, alphas, products, options);
  const reduction = options.reduction ?? 'auto';
  const band = reduction === 'band' || (reduction === 'auto' && nFeatures >= BAND_REDUCTION_MIN_FEATURES);
  return band ? fitPrimalBand(input, xMeans, alphas, products, options) : fitPrimal(input, xMeans, alphas, products, options);
}

function finish(input: RidgeInput, alphas: number[], looMse: Float64Array, best: number, coef: Float64Array, xMeans: Float64Array, yMeans: Float64Array,
  mode: RidgeMode, looPrecision: ProductDtype): RidgeCVResult {
  const { nFeatures, nTargets } = input;
  const intercept = new Float64Array(nTargets);
  for (let t = 0; t < nTargets; t++) {
    let dot = 0;
    for (let f = 0; f < nFeatures; f++) dot += xMeans[f] * coef[f * nTargets + t];
    intercept[t] = yMeans[t] - dot;
  }
  return Object.freeze({
    alpha: alphas[best], alphaIndex: best, coef, intercept, looMse, mode, looPrecision,
    nSamples: input.nSamples, nFeatures, nTargets,
  });
}

/** transposed[c·stride + offset + r] = block[r·d + c] for the block's `count` rows and all d columns. */
function scatterTransposed(block: Float64Array, count: number, d: number, transposed: Float64Array, stride: number, offset: number): void {
  for (let c = 0; c < d; c++) {
    const target = c * stride + offset;
    for (let r = 0; r < count; r++) transposed[target + r] = block[r * d + c];
  }
}

/**
 * Features per strip of the covariance: about 96, and d/16 for wide layers. Each strip of rows of C is one Gemm
 * against all the features before it, so the products cover (strips + 1)/(2·strips) of the full d², and narrower
 * strips save more but run slower. One thread, 2-core VM (2026-12-03): d = 768 over 5,461 rows took 108 ms as 2
 * strips, 84 ms as 8 (96 wide) and 91 ms as 12; d = 4,096 over 4,096 rows 2.95 s as 2, 2.26 s as 8 and 1.82 s as
 * 16 (256 wide), 1.80 s as 32.
 */
export function covarianceStripWidth(d: number): number {
  return Math.max(96, Math.ceil(d / 16));
}

/**
 * C = X_cᵀX_c (d × d, both triangles) and X_cᵀy_c (d × t), accumulated over row chunks. Each chunk's centred rows
 * are stored transposed (d × rows), so that any run of features is one contiguous panel; the features are split
 * into strips, and strip i's rows of C are one Gemm of the strip's panel against the panel of all features up to
 * the strip's end — the lower triangle only (with the strip's diagonal block), about half the flops of XᵀX
 * (56% at d = 768). The upper triangle is the mirror image of the lower, so C is exactly symmetric.
 */
async function covarianceAndCrossProducts(x: LayerValues, xMeans: Float64Array, yc: Float64Array, n: number, d: number, t: number,
  chunkRows: number, products: DenseProducts, scratch: ScratchBuffers): Promise<{ covariance: Float64Array; xty: Float64Array }> {
  const strips = Math.max(1, Math.round(d / covarianceStripWidth(d)));
  const bounds = Array.from({ length: strips + 1 }, (_, j) => Math.round((j * d) / strips));
  const maxRows = Math.min(n, chunkRows);
  // Every product has an untransposed A: products this large run as pieces of result rows (linalg.ts gemmInPieces),
  // and a transposed A would have each piece copy its column block first. Every value a chunk uses is written
  // first, and each sum starts from zero. Float32 rows are centred and transposed in a kernel's memory
  // (centring.ts), others here.
  const kernelPanels = x instanceof Float32Array ? CovariancePanels.take(d, maxRows, xMeans) : undefined;
  const transposed = kernelPanels?.transposed ?? scratch.get('float64', 'covariance transposed rows', maxRows * d);
  const rowBlock = 64;
  const centred = kernelPanels === undefined ? new Float64Array(rowBlock * d) : undefined;
  const sums = bounds.slice(1).map((end, i) => scratch.get('float64', `covariance strip ${i}`, (end - bounds[i]) * end).fill(0));
  const product = scratch.get('float64', 'covariance product', (bounds[strips] - bounds[strips - 1]) * d);
  const xty = new Float64Array(d * t);
  for (let start = 0; start < n; start += chunkRows) {
    const end = Math.min(n, start + chunkRows);
    const rows = end - start;
    if (kernelPanels !== undefined) kernelPanels.fill(x as Float32Array, start, rows);
    else {
      for (let r0 = 0; r0 < rows; r0 += rowBlock) {
        const r1 = Math.min(rows, r0 + rowBlock);
        centredRows(x, xMeans, start + r0, start + r1, d, centred);
        scatterTransposed(centred as Float64Array, r1 - r0, d, transposed, rows, r0);
      }
    }
    for (let i = 0; i < strips; i++) {
      const width = bounds[i + 1] - bounds[i];
      const strip = { data: transposed.subarray(bounds[i] * rows, bounds[i + 1] * rows), rows: width, cols: rows };
      const before = { data: transposed.subarray(0, bounds[i + 1] * rows), rows: bounds[i + 1], cols: rows };
      addInto(sums[i], await products.gemm('float64', strip, before, { transB: true, out: product.subarray(0, width * bounds[i + 1]) }), 0);
    }
    const all = { data: transposed.subarray(0, d * rows), rows: d, cols: rows };
    addInto(xty, await products.gemm('float64', all, { data: yc.subarray(start * t, end * t), rows, cols: t }), 0);
  }
  // Not in a finally: panels of a fit that failed half-way are simply not kept.
  if (kernelPanels !== undefined) CovariancePanels.release(kernelPanels);
  const covariance = scratch.get('float64', 'covariance', d * d);
  for (let i = 0; i < strips; i++) placeStripAndMirror(covariance, d, sums[i], bounds[i], bounds[i + 1]);
  return { covariance, xty };
}

// The covariance's element loops, as synchronous functions: inside the async covarianceAndCrossProducts they ran
// partly unoptimised (each double boxed on the heap).

/** target[offset + i] += values[i]. */
function addInto(target: Float64Array, values: Float64Array, offset: number): void {
  for (let index = 0; index < values.length; index++) target[offset + index] += values[index];
}

/**
 * Strip rows first … end − 1 of the covariance (`sum`: (end − first) × end, columns 0 … end − 1) into its lower
 * triangle and, mirrored, its upper: the strip's diagonal block gives only its lower half, so C is exactly symmetric.
 */
function placeStripAndMirror(covariance: Float64Array, d: number, sum: Float64Array, first: number, end: number): void {
  for (let a = 0; a < end - first; a++) {
    const row = first + a;
    for (let c = 0; c <= row; c++) {
      const value = sum[a * end + c];
      covariance[row * d + c] = value;
      covariance[c * d + row] = value;
    }
  }
}

/** Whether 'auto' runs the leave-one-out pass in (checked) float32: where the projection is big enough to matter. */
export function autoProjectionPrecision(nSamples: number, nFeatures: number): 'float32' | 'float64' {
  return nFeatures >= FLOAT32_PROJECTION_MIN_FEATURES && nSamples >= FLOAT32_PROJECTION_MIN_SAMPLES ? 'float32' : 'float64';
}

function resolveProjectionPrecision(options: RidgeCVOptions, n: number, d: number): ProductDtype {
  const requested = options.projectionPrecision ?? 'auto';
  return requested === 'auto' ? autoProjectionPrecision(n, d) : requested;
}

/** The scratch buffer (RidgeCVOptions.scratch) a chunk's projection onto Q goes into. */
const PROJECTED_SCRATCH = 'projected';

/** Report the leave-one-out pass's phases (and the precision check, when one ran). */
function reportLooPhases(options: RidgeCVOptions, timing: LooTiming, pass: LooPass): void {
  options.onPhase?.('projection', timing.projection);
  options.onPhase?.('leave-one-out sweeps', timing.sweeps);
  if (timing.check > 0 || pass.recomputed) options.onPhase?.('precision check', timing.check);
}

/** A float32 copy of a float64 array, made once on first use. */
function lazyFloat32(source: Float64Array): () => Float32Array {
  let copy: Float32Array | undefined;
  return () => (copy ??= Float32Array.from(source));
}

async function fitPrimal(input: RidgeInput, xMeans: Float64Array, alphas: number[], products: DenseProducts, options: RidgeCVOptions): Promise<RidgeCVResult> {
  const { x, nSamples: n, nFeatures: d, nTargets: t } = input;
  let clock = performance.now();
  const phase = (name: RidgePhase): void => {
    const now = performance.now();
    options.onPhase?.(name, (now - clock) / 1000);
    clock = now;
  };
  const yMeans = columnMeans(input.y, n, t);
  const yc = centredRows(input.y, yMeans, 0, n, t);
  const chunkRows = options.chunkRows ?? defaultChunkRows(d, n);

  // C = X_cᵀX_c and X_cᵀy_c, accumulated over row chunks.
  const scratch = options.scratch ?? new ScratchBuffers();
  const { covariance, xty } = await covarianceAndCrossProducts(x, xMeans, yc, n, d, t, options.chunkRows ?? covarianceChunkRows(d, n), products, scratch);
  const spare = scratch.get('float64', 'reduction workspace', d * d);
  phase('covariance');
  const tri = await tridiagonalize(covariance, d, products, { workspace: spare });
  phase('tridiagonalize');
  // b = Qᵀ X_cᵀ y_c (d × t), then per alpha s(α) = (T + αI)⁻¹ b, the coefficients in Q's basis.
  const b = await products.gemm('float64', { data: tri.q, rows: d, cols: d }, { data: xty, rows: d, cols: t }, { transA: true });
  const factors = alphas.map((alpha) => factorShiftedTridiagonal(tri, alpha));
  const nAlphas = alphas.length;
  const sAll = new Float64Array(d * nAlphas * t);
  factors.forEach((factor, a) => {
    const s = solveShiftedTridiagonal(factor, b, d, t);
    for (let k = 0; k < d; k++) for (let c = 0; c < t; c++) sAll[k * nAlphas * t + a * t + c] = s[k * t + c];
  });

  const q32 = lazyFloat32(tri.q);
  const s32 = lazyFloat32(sAll);
  // Y = X_c Q (rows × d): the chunk's samples in Q's basis; each row is then swept by the LDLᵀ recurrences.
  const scorer: ChunkScorer = async (dtype, chunk, ycRows, rows, out, timing) => {
    const started = performance.now();
    let projected: Float64Array | Float32Array;
    let fitted: Float64Array | Float32Array;
    if (dtype === 'float32') {
      let chunk32: Float32Array;
      if (chunk instanceof Float32Array) chunk32 = chunk;
      else {
        chunk32 = scratch.get('float32', 'chunk', rows * d);
        chunk32.set(chunk);
      }
      projected = await products.gemm('float32', { data: chunk32, rows, cols: d }, { data: q32(), rows: d, cols: d },
        { out: scratch.get('float32', PROJECTED_SCRATCH, rows * d) });
      fitted = await products.gemm('float32', { data: projected, rows, cols: d }, { data: s32(), rows: d, cols: nAlphas * t },
        { out: scratch.get('float32', 'fitted', rows * nAlphas * t) });
    } else {
      if (!(chunk instanceof Float64Array)) throw new Error('fitPrimal: a float64 pass needs float64 rows');
      projected = await products.gemm('float64', { data: chunk, rows, cols: d }, { data: tri.q, rows: d, cols: d },
        { out: scratch.get('float64', PROJECTED_SCRATCH, rows * d) });
      fitted = await products.gemm('float64', { data: projected, rows, cols: d }, { data: sAll, rows: d, cols: nAlphas * t },
        { out: scratch.get('float64', 'fitted', rows * nAlphas * t) });
    }
    const sweepStart = performance.now();
    timing.projection += (sweepStart - started) / 1000;
    const leverage = quadraticForms(projected, rows, d, factors);
    looErrorsPerRow(out, leverage, fitted, ycRows, rows, n, t);
    timing.sweeps += (performance.now() - sweepStart) / 1000;
  };
  const timing: LooTiming = { projection: 0, sweeps: 0, check: 0 };
  const precision = resolveProjectionPrecision(options, n, d);
  // A float32 pass's two chunk-sized buffers (its centred rows and their projection) live in the covariance's kept
  // panels, idle until the next fit's covariance: exactly their size (maxRows × d float64 = 2 × maxRows × d
  // float32), so a worker touches 34 MB less fresh memory per fit at d = 768 (8,000 fewer page faults).
  const lent = x instanceof Float32Array && precision === 'float32' ? CovariancePanels.takeKept(d, Math.min(n, chunkRows)) : undefined;
  if (lent !== undefined) {
    const half = lent.transposed.length;
    scratch.lend('float32', LOO_ROWS_SCRATCH, new Float32Array(lent.transposed.buffer, lent.transposed.byteOffset, half));
    scratch.lend('float32', PROJECTED_SCRATCH, new Float32Array(lent.transposed.buffer, lent.transposed.byteOffset + half * 4, half));
  }
  let pass: LooPass;
  try {
    pass = await checkedLooSums({ x, xMeans, yc, n, d, t, nAlphas, chunkRows, scratch, centre: (start, end, out) => centredRows(x, xMeans, start, end, d, out),
      centre32: (start, end, out) => centredRowsInto32(x, xMeans, start, end, d, out) }, scorer, precision, timing);
  } finally {
    if (lent !== undefined) {
      scratch.forget('float32', LOO_ROWS_SCRATCH);
      scratch.forget('float32', PROJECTED_SCRATCH);
      CovariancePanels.release(lent);
    }
  }
  reportLooPhases(options, timing, pass);
  return finishPrimal(input, alphas, pass, (s) => products.gemm('float64', { data: tri.q, rows: d, cols: d }, { data: s, rows: d, cols: t }), sAll, xMeans, yMeans);
}

/** The operands of the band form's block-by-block leave-one-out sweep, in one precision. */
interface BandSweepOperands<D extends ProductDtype> {
  /** Per block k: [M_k(α)ᵀ]_α stacked (nAlphas·w × w). */
  readonly stackedTransposes: readonly ArrayOf<D>[];
  /** Per alpha, per block k ≥ 1 (index k − 1): P_k(α) = M_k(α)ᵀ E_k(α) (w × w_{k−1}). */
  readonly recurrence: readonly (readonly ArrayOf<D>[])[];
}

/**
 * h[i] += Σ_r u[r·rows + i]², four rows of u per pass over h: h is then read and written a quarter as often (at
 * d = 4,096, n = 20,000 this loop ran 2.05 s per leave-one-out pass one row at a time, 0.86 s four at a time; /tmp
 * microbenchmark, 2026-12-02). It serves the block-by-block sweep only (products without the fused one), so one
 * function takes both element types.
 */
function addColumnSquares(h: Float64Array, u: Float32Array | Float64Array, w: number, rows: number): void {
  let r = 0;
  for (; r + 4 <= w; r += 4) {
    const o0 = r * rows;
    const o1 = o0 + rows;
    const o2 = o1 + rows;
    const o3 = o2 + rows;
    for (let i = 0; i < rows; i++) {
      const u0 = u[o0 + i];
      const u1 = u[o1 + i];
      const u2 = u[o2 + i];
      const u3 = u[o3 + i];
      h[i] += u0 * u0 + u1 * u1 + u2 * u2 + u3 * u3;
    }
  }
  for (; r < w; r++) {
    const offset = r * rows;
    for (let i = 0; i < rows; i++) h[i] += u[offset + i] * u[offset + i];
  }
}

/**
 * The band form's covariance and reduction, in a function of their own so that the d × d covariance, the reduction's
 * workspace and the panels' reflectors (merged into `q`) are garbage once it returns: the leave-one-out pass that
 * follows keeps only the band's blocks and Q's merged reflectors (at d = 8,192: 0.5 GB each for the two d² buffers).
 */
async function reduceCovarianceToBand(x: LayerValues, xMeans: Float64Array, yc: Float64Array, n: number, d: number, t: number, products: DenseProducts,
  options: RidgeCVOptions, phase: (name: RidgePhase) => void): Promise<{ band: Pick<BandReduction, 'bounds' | 'diagonalBlocks' | 'subdiagonalBlocks'>; q: FactoredOrthogonal; xty: Float64Array }> {
  // Buffers of their own, not options.scratch: the covariance and its panels must be garbage once this returns.
  const { covariance, xty } = await covarianceAndCrossProducts(x, xMeans, yc, n, d, t, options.chunkRows ?? covarianceChunkRows(d, n), products,
    new ScratchBuffers());
  phase('covariance');
  // Q stays factored (blockReflectors.ts): forming it would cost 2·d³ more float64 products than multiplying by it.
  const band = await reduceToBand(covariance, d, products, { bandwidth: options.bandwidth, workspace: new Float64Array(d * d), formQ: false });
  const q = await FactoredOrthogonal.fromReflectors(d, band.reflectors, products);
  phase('band reduction');
  return { band: { bounds: band.bounds, diagonalBlocks: band.diagonalBlocks, subdiagonalBlocks: band.subdiagonalBlocks }, q, xty };
}

/**
 * Primal form through the band reduction C = Q B Qᵀ (band.ts), Q kept as its block reflectors (blockReflectors.ts).
 * With Yᵀ = Qᵀ X_cᵀ (d × rows per chunk, through the reflectors) and B + αI = L Lᵀ (block lower bidiagonal L:
 * diagonal blocks G_k, sub-diagonal E_k), the leverages are h_i = 1/n + ‖L⁻¹ y_i‖², computed for a whole chunk
 * block by block: U_kᵀ = G_k⁻¹ (Y_kᵀ − E_k U_{k−1}ᵀ) — in one onnxruntime graph per chunk when the products offer
 * it (runtime/bandSweep.ts), else as Gemms block by block.
 */
async function fitPrimalBand(input: RidgeInput, xMeans: Float64Array, alphas: number[], products: DenseProducts, options: RidgeCVOptions): Promise<RidgeCVResult> {
  const { x, nSamples: n, nFeatures: d, nTargets: t } = input;
  let clock = performance.now();
  const phase = (name: RidgePhase): void => {
    const now = performance.now();
    options.onPhase?.(name, (now - clock) / 1000);
    clock = now;
  };
  const yMeans = columnMeans(input.y, n, t);
  const yc = centredRows(input.y, yMeans, 0, n, t);
  const { band, q, xty } = await reduceCovarianceToBand(x, xMeans, yc, n, d, t, products, options, phase);
  const b = await q.applyTransposed(xty, t);
  const factors = alphas.map((alpha) => factorShiftedBand(band, alpha));
  const nAlphas = alphas.length;
  const sAll = new Float64Array(d * nAlphas * t);
  factors.forEach((factor, a) => {
    const s = solveShiftedBand(band, factor, b, t);
    for (let k = 0; k < d; k++) for (let c = 0; c < t; c++) sAll[k * nAlphas * t + a * t + c] = s[k * t + c];
  });

  // ~4M values per chunk (1,024 rows at d = 4,096): the fused sweep is one synchronous onnxruntime run per chunk, and
  // at this size it takes ~0.1 s, so the event loop (a SIGTERM, progress) waits no longer than on a Gemm piece. 16M
  // values per chunk were no faster (16.0 against 16.4 and 15.5 s for the layer, 2026-12-02).
  const chunkRows = options.chunkRows ?? Math.max(256, Math.min(n, Math.floor(4_194_304 / d)));
  const bounds = band.bounds;
  const nBlocks = bounds.length - 1;
  const widths = bounds.slice(1).map((bound, k) => bound - bounds[k]);
  const maxWidth = Math.max(...widths);
  const stackedTransposes: Float64Array[] = [];
  for (let k = 0; k < nBlocks; k++) {
    const w = widths[k];
    const stackedM = new Float64Array(nAlphas * w * w);
    factors.forEach((factor, a) => {
      const m = factor.inverseTransposedDiagonal[k];
      for (let i = 0; i < w; i++) for (let j = 0; j < w; j++) stackedM[a * w * w + i * w + j] = m[j * w + i];
    });
    stackedTransposes.push(stackedM);
  }
  const recurrence = factors.map((factor) => factor.subdiagonal.map((e, index) => {
    const k = index + 1;
    const w = widths[k];
    const wPrevious = widths[k - 1];
    const m = factor.inverseTransposedDiagonal[k];
    const p = new Float64Array(w * wPrevious);
    for (let i = 0; i < w; i++) for (let q = 0; q <= i; q++) {
      const mqi = m[q * w + i];
      if (mqi === 0) continue;
      for (let j = 0; j < wPrevious; j++) p[i * wPrevious + j] += mqi * e[q * wPrevious + j];
    }
    return p;
  }));
  const s32 = lazyFloat32(sAll);
  const operands64: BandSweepOperands<'float64'> = { stackedTransposes, recurrence };
  let operands32: BandSweepOperands<'float32'> | undefined;
  const operands = <D extends ProductDtype>(dtype: D): BandSweepOperands<D> => {
    if (dtype === 'float64') return operands64 as unknown as BandSweepOperands<D>;
    operands32 ??= {
      stackedTransposes: stackedTransposes.map((m) => Float32Array.from(m)),
      recurrence: recurrence.map((perBlock) => perBlock.map((p) => Float32Array.from(p))),
    };
    return operands32 as unknown as BandSweepOperands<D>;
  };
  const scratch = new ScratchBuffers();
  // The fused sweep (runtime/bandSweep.ts) takes every block at the full width, zero-padded.
  const fusedSweep = products.bandLeverages?.bind(products);
  const paddedSize = nBlocks * maxWidth;
  const fusedOperands = new Map<ProductDtype, { mTransposed: Float32Array | Float64Array; recurrence: Float32Array | Float64Array }>();
  const fusedOperandsOf = <D extends ProductDtype>(dtype: D): { mTransposed: ArrayOf<D>; recurrence: ArrayOf<D> } => {
    let made = fusedOperands.get(dtype);
    if (made === undefined) {
      const square = maxWidth * maxWidth;
      const mTransposed = new Float64Array(nBlocks * nAlphas * square);
      const carried = new Float64Array(nBlocks * nAlphas * square);
      for (let k = 0; k < nBlocks; k++) {
        const w = widths[k];
        for (let a = 0; a < nAlphas; a++) {
          const offset = (k * nAlphas + a) * square;
          const stacked = stackedTransposes[k];
          for (let i = 0; i < w; i++) for (let j = 0; j < w; j++) mTransposed[offset + i * maxWidth + j] = stacked[a * w * w + i * w + j];
          if (k === 0) continue;
          const wPrevious = widths[k - 1];
          const p = recurrence[a][k - 1];
          for (let i = 0; i < w; i++) for (let j = 0; j < wPrevious; j++) carried[offset + i * maxWidth + j] = p[i * wPrevious + j];
        }
      }
      made = dtype === 'float32' ? { mTransposed: Float32Array.from(mTransposed), recurrence: Float32Array.from(carried) } : { mTransposed, recurrence: carried };
      fusedOperands.set(dtype, made);
    }
    return made as { mTransposed: ArrayOf<D>; recurrence: ArrayOf<D> };
  };

  async function scoreChunk<D extends ProductDtype>(dtype: D, chunk: Float64Array | Float32Array, ycRows: Float64Array, rows: number, out: Float64Array, timing: LooTiming): Promise<void> {
    // This pass gives no centre32, so its chunks are float64 in both precisions (projectRows transposes them).
    if (!(chunk instanceof Float64Array)) throw new Error('fitPrimalBand: expected float64 rows');
    const started = performance.now();
    const sD = (dtype === 'float32' ? s32() : sAll) as ArrayOf<D>;
    // Yᵀ = Qᵀ X_cᵀ (d × rows), through Q's block reflectors in this pass's precision: block k of Y's columns is
    // then the contiguous row range of Yᵀ.
    const padded = scratch.get(dtype, PROJECTED_SCRATCH, paddedSize * rows);
    const yt = await q.projectRows(dtype, chunk, rows, padded.subarray(0, d * rows) as ArrayOf<D>);
    const fitted = await products.gemm(dtype, { data: yt, rows: d, cols: rows }, { data: sD, rows: d, cols: nAlphas * t },
      { transA: true, out: scratch.get(dtype, 'fitted', rows * nAlphas * t) });
    const sweepStart = performance.now();
    timing.projection += (sweepStart - started) / 1000;
    if (fusedSweep !== undefined) {
      // The padding rows meet zero columns of the padded Mᵀ and P; zeroed anyway, as 0 × a stale non-finite is not 0.
      padded.fill(0, d * rows);
      const { mTransposed, recurrence: carried } = fusedOperandsOf(dtype);
      const h = await fusedSweep(dtype, { y: padded, mTransposed, recurrence: carried, blocks: nBlocks, width: maxWidth, alphas: nAlphas, rows },
        scratch.get(dtype, 'leverage', nAlphas * rows));
      looErrorsPerRow(out, alphas.map((_, a) => h.subarray(a * rows, (a + 1) * rows)), fitted, ycRows, rows, n, t);
      timing.sweeps += (performance.now() - sweepStart) / 1000;
      return;
    }
    const { stackedTransposes: stackedD, recurrence: recurrenceD } = operands(dtype);
    // Per block k: U_k(α)ᵀ = M_k(α)ᵀ Y_kᵀ − P_k(α) U_{k−1}(α)ᵀ with M_k = G_k⁻ᵀ and P_k = M_kᵀ E_k. The first term
    // is one Gemm for all alphas at once (M_kᵀ stacked); the recurrence is one small Gemm per alpha. U_{k−1}(α)ᵀ
    // and U_k(α)ᵀ live in per-alpha ping-pong buffers swapped after each block (the recurrence writes straight into
    // the current one, so only the first block of a chunk is copied).
    const previousU = alphas.map((_, a) => scratch.get(dtype, `previous ${a}`, maxWidth * rows));
    const currentU = alphas.map((_, a) => scratch.get(dtype, `current ${a}`, maxWidth * rows));
    const leverage = alphas.map(() => new Float64Array(rows));
    for (let k = 0; k < nBlocks; k++) {
      const w = widths[k];
      const yk = yt.subarray(bounds[k] * rows, bounds[k + 1] * rows) as ArrayOf<D>;
      const stacked = await products.gemm(dtype, { data: stackedD[k], rows: nAlphas * w, cols: w }, { data: yk, rows: w, cols: rows },
        { out: scratch.get(dtype, 'stacked', nAlphas * w * rows) });
      for (let a = 0; a < nAlphas; a++) {
        const own = stacked.subarray(a * w * rows, (a + 1) * w * rows) as ArrayOf<D>;
        let u = own;
        if (k > 0) {
          const wPrevious = widths[k - 1];
          u = await products.gemm(dtype, { data: recurrenceD[a][k - 1], rows: w, cols: wPrevious },
            { data: previousU[a].subarray(0, wPrevious * rows) as ArrayOf<D>, rows: wPrevious, cols: rows },
            { alpha: -1, beta: 1, c: { data: own, rows: w, cols: rows }, out: currentU[a].subarray(0, w * rows) as ArrayOf<D> });
        }
        addColumnSquares(leverage[a], u, w, rows);
        if (k === 0) {
          previousU[a].set(u); // `own` lives in the stacked buffer, which the next block overwrites
        } else {
          const swap = previousU[a];
          previousU[a] = currentU[a];
          currentU[a] = swap;
        }
      }
    }
    looErrorsPerRow(out, leverage, fitted, ycRows, rows, n, t);
    timing.sweeps += (performance.now() - sweepStart) / 1000;
  }

  const timing: LooTiming = { projection: 0, sweeps: 0, check: 0 };
  const pass = await checkedLooSums({ x, xMeans, yc, n, d, t, nAlphas, chunkRows, centre: (start, end, out) => centredRows(x, xMeans, start, end, d, out) },
    scoreChunk, resolveProjectionPrecision(options, n, d), timing);
  reportLooPhases(options, timing, pass);
  return finishPrimal(input, alphas, pass, (s) => q.apply(s, t), sAll, xMeans, yMeans);
}

/** Pick alpha from the LOO sums and form coef = Q s(α*) in float64 (whatever precision the projection used). */
async function finishPrimal(input: RidgeInput, alphas: number[], pass: LooPass, multiplyByQ: (s: Float64Array) => Promise<Float64Array>, sAll: Float64Array,
  xMeans: Float64Array, yMeans: Float64Array): Promise<RidgeCVResult> {
  const { nSamples: n, nFeatures: d, nTargets: t } = input;
  const nAlphas = alphas.length;
  const looMse = pass.sums.map((sum) => sum / (n * t));
  const best = pickAlpha(looMse);
  const sBest = new Float64Array(d * t);
  for (let k = 0; k < d; k++) for (let c = 0; c < t; c++) sBest[k * t + c] = sAll[k * nAlphas * t + best * t + c];
  const coef = await multiplyByQ(sBest);
  return finish(input, alphas, looMse, best, coef, xMeans, yMeans, 'primal', pass.precision);
}

async function fitDual(input: RidgeInput, xMeans: Float64Array, alphas: number[], products: DenseProducts, options: RidgeCVOptions): Promise<RidgeCVResult> {
  const { x, nSamples: n, nFeatures: d, nTargets: t } = input;
  let clock = performance.now();
  const phase = (name: RidgePhase): void => {
    const now = performance.now();
    options.onPhase?.(name, (now - clock) / 1000);
    clock = now;
  };
  const yMeans = columnMeans(input.y, n, t);
  const yc = centredRows(input.y, yMeans, 0, n, t);
  const xc = centredRows(x, xMeans, 0, n, d);
  const gram = await products.gemm('float64', { data: xc, rows: n, cols: d }, { data: xc, rows: n, cols: d }, { transB: true });
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) {
    const mean = 0.5 * (gram[i * n + j] + gram[j * n + i]);
    gram[i * n + j] = mean;
    gram[j * n + i] = mean;
  }
  phase('gram');
  const tri = await tridiagonalize(gram, n, products, { workspace: new Float64Array(n * n) });
  phase('tridiagonalize');
  const b = await products.gemm('float64', { data: tri.q, rows: n, cols: n }, { data: yc, rows: n, cols: t }, { transA: true });
  const factors = alphas.map((alpha) => factorShiftedTridiagonal(tri, alpha));
  const nAlphas = alphas.length;
  const sAll = new Float64Array(n * nAlphas * t);
  factors.forEach((factor, a) => {
    const s = solveShiftedTridiagonal(factor, b, n, t);
    for (let k = 0; k < n; k++) for (let c = 0; c < t; c++) sAll[k * nAlphas * t + a * t + c] = s[k * t + c];
  });
  // Dual coefficients for every alpha: c(α) = Q s(α) (n × nAlphas·t).
  const dual = await products.gemm('float64', { data: tri.q, rows: n, cols: n }, { data: sAll, rows: n, cols: nAlphas * t });
  // diag((K + αI)⁻¹)_i = q_iᵀ (T + αI)⁻¹ q_i with q_i the i-th row of Q.
  const inverseDiagonals = quadraticForms(tri.q, n, n, factors);
  phase('leave-one-out sweeps');
  const looMse = new Float64Array(nAlphas);
  for (let a = 0; a < nAlphas; a++) {
    const correction = 1 / (n * alphas[a]);
    const g = inverseDiagonals[a];
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const diagonal = g[i] - correction;
      for (let c = 0; c < t; c++) {
        const error = dual[i * nAlphas * t + a * t + c] / diagonal;
        sum += error * error;
      }
    }
    looMse[a] = sum / (n * t);
  }
  const best = pickAlpha(looMse);
  // coef = X_cᵀ c(α*) (d × t).
  const coef = new Float64Array(d * t);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < t; c++) {
      const weight = dual[i * nAlphas * t + best * t + c];
      if (weight === 0) continue;
      for (let f = 0; f < d; f++) coef[f * t + c] += xc[i * d + f] * weight;
    }
  }
  return finish(input, alphas, looMse, best, coef, xMeans, yMeans, 'dual', 'float64');
}

/** Predictions X·coef + intercept for nSamples × nFeatures row-major x; returns nSamples × nTargets. */
export function predict(model: Pick<RidgeCVResult, 'coef' | 'intercept' | 'nFeatures' | 'nTargets'>, x: LayerValues, nSamples: number): Float64Array {
  const { coef, intercept, nFeatures: d, nTargets: t } = model;
  if (x.length !== nSamples * d) throw new RidgeInputError(`predict: x has ${x.length} values, expected ${nSamples} × ${d}`);
  if (x instanceof HalfMatrix) return predictHalf(coef, intercept, x, nSamples, d, t);
  // Latitude and longitude (the common case): both targets at once on a SIMD kernel, the same doubles as below.
  if (t === 2) return predictTwoTargets(coef, intercept, x, nSamples, d);
  const out = new Float64Array(nSamples * t);
  for (let i = 0; i < nSamples; i++) {
    for (let c = 0; c < t; c++) {
      let sum = intercept[c];
      for (let f = 0; f < d; f++) sum += x[i * d + f] * coef[f * t + c];
      out[i * t + c] = sum;
    }
  }
  return out;
}

/** predict() for 16-bit rows: each row widened into one float64 buffer before its dot products. */
function predictHalf(coef: Float64Array, intercept: Float64Array, x: HalfMatrix, nSamples: number, d: number, t: number): Float64Array {
  const out = new Float64Array(nSamples * t);
  const row = new Float64Array(d);
  const table = x.table;
  const bits = x.bits;
  for (let i = 0; i < nSamples; i++) {
    const offset = i * d;
    for (let f = 0; f < d; f++) row[f] = table[bits[offset + f]];
    for (let c = 0; c < t; c++) {
      let sum = intercept[c];
      for (let f = 0; f < d; f++) sum += row[f] * coef[f * t + c];
      out[i * t + c] = sum;
    }
  }
  return out;
}

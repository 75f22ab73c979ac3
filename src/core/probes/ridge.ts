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
 * score). All arithmetic is float64, as scikit-learn's.
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
import { javascriptProducts, onnxProducts, type DenseProducts } from './products';
import { tridiagonalize, type Tridiagonal } from './tridiagonal';

export type RidgeMode = 'primal' | 'dual';

export interface RidgeCVOptions {
  /** Candidate regularisation strengths, each finite and > 0, tried in this order. */
  readonly alphas: readonly number[];
  /** 'auto' (default) picks 'primal' when nSamples > nFeatures, else 'dual', like scikit-learn. */
  readonly mode?: RidgeMode | 'auto';
  /** Where the big matrix products run: onnxruntime (default) or plain TypeScript. */
  readonly products?: DenseProducts | 'onnxruntime' | 'javascript';
  /**
   * Precision of the n×d×d projection Y = X_c Q used only for the leave-one-out scores (primal mode). 'float32'
   * halves that Gemm's time at ~1e-7 relative error in the scores; coefficients are always computed in float64.
   * Default 'float64'.
   */
  readonly projectionPrecision?: 'float64' | 'float32';
  /** Rows per chunk; default chosen so a chunk holds about 4M values. */
  readonly chunkRows?: number;
}

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
  readonly nSamples: number;
  readonly nFeatures: number;
  readonly nTargets: number;
}

export interface RidgeInput {
  /** nSamples × nFeatures, row-major. */
  readonly x: Float32Array | Float64Array;
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

function validate(input: RidgeInput, alphas: readonly number[]): void {
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
  for (let index = 0; index < x.length; index++) {
    if (!Number.isFinite(x[index])) {
      throw new RidgeInputError(`fitRidgeCV: x[${Math.floor(index / nFeatures)}, ${index % nFeatures}] is ${x[index]} (features must be finite)`);
    }
  }
  for (let index = 0; index < y.length; index++) {
    if (!Number.isFinite(y[index])) {
      throw new RidgeInputError(`fitRidgeCV: y[${Math.floor(index / nTargets)}, ${index % nTargets}] is ${y[index]} (targets must be finite)`);
    }
  }
}

function columnMeans(data: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const means = new Float64Array(cols);
  for (let row = 0; row < rows; row++) {
    const offset = row * cols;
    for (let col = 0; col < cols; col++) means[col] += data[offset + col];
  }
  for (let col = 0; col < cols; col++) means[col] /= rows;
  return means;
}

/** Rows start…end of x, centred, as float64 (end − start) × cols. */
function centredRows(x: ArrayLike<number>, means: Float64Array, start: number, end: number, cols: number): Float64Array {
  const out = new Float64Array((end - start) * cols);
  for (let row = start; row < end; row++) {
    const source = row * cols;
    const target = (row - start) * cols;
    for (let col = 0; col < cols; col++) out[target + col] = x[source + col] - means[col];
  }
  return out;
}

/** LDLᵀ of T + αI for a symmetric positive definite tridiagonal T + αI: returns 1/D and the multipliers l. */
export function factorShiftedTridiagonal(t: Pick<Tridiagonal, 'diagonal' | 'offDiagonal' | 'size'>, alpha: number): { inverseD: Float64Array; multipliers: Float64Array } {
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
export function solveShiftedTridiagonal(factor: { inverseD: Float64Array; multipliers: Float64Array }, b: Float64Array, size: number, columns: number): Float64Array {
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
 * For each alpha and each column i of P (size × count, row-major: P[k, i]), the quadratic form
 * p_iᵀ (T + αI)⁻¹ p_i = Σ_k u_k² / D_k with u = L⁻¹ p_i. One pass over P serves every alpha.
 */
function quadraticForms(p: ArrayLike<number>, size: number, count: number, factors: readonly { inverseD: Float64Array; multipliers: Float64Array }[]): Float64Array[] {
  const nAlphas = factors.length;
  const u = factors.map(() => new Float64Array(count));
  const sums = factors.map(() => new Float64Array(count));
  for (let k = 0; k < size; k++) {
    const row = k * count;
    for (let a = 0; a < nAlphas; a++) {
      const ua = u[a];
      const sa = sums[a];
      const invD = factors[a].inverseD[k];
      if (k === 0) {
        for (let i = 0; i < count; i++) {
          const value = p[row + i];
          ua[i] = value;
          sa[i] += value * value * invD;
        }
      } else {
        const l = factors[a].multipliers[k - 1];
        for (let i = 0; i < count; i++) {
          const value = p[row + i] - l * ua[i];
          ua[i] = value;
          sa[i] += value * value * invD;
        }
      }
    }
  }
  return sums;
}

function defaultChunkRows(nFeatures: number, nSamples: number): number {
  return Math.max(64, Math.min(nSamples, Math.floor(4_194_304 / Math.max(1, nFeatures))));
}

/**
 * Fit ridge regression with intercept, choosing alpha by efficient leave-one-out on the given samples.
 * See the file comment for the formula and the choice between primal and dual form.
 */
export async function fitRidgeCV(input: RidgeInput, options: RidgeCVOptions): Promise<RidgeCVResult> {
  const alphas = [...options.alphas];
  validate(input, alphas);
  const products = resolveProducts(options.products);
  const { nSamples, nFeatures } = input;
  const requested = options.mode ?? 'auto';
  const mode: RidgeMode = requested === 'auto' ? (nSamples > nFeatures ? 'primal' : 'dual') : requested;
  return mode === 'primal' ? fitPrimal(input, alphas, products, options) : fitDual(input, alphas, products);
}

function pickAlpha(looMse: Float64Array): number {
  let best = 0;
  for (let index = 1; index < looMse.length; index++) if (looMse[index] < looMse[best]) best = index;
  return best;
}

function finish(input: RidgeInput, alphas: number[], looMse: Float64Array, best: number, coef: Float64Array, xMeans: Float64Array, yMeans: Float64Array, mode: RidgeMode): RidgeCVResult {
  const { nFeatures, nTargets } = input;
  const intercept = new Float64Array(nTargets);
  for (let t = 0; t < nTargets; t++) {
    let dot = 0;
    for (let f = 0; f < nFeatures; f++) dot += xMeans[f] * coef[f * nTargets + t];
    intercept[t] = yMeans[t] - dot;
  }
  return Object.freeze({
    alpha: alphas[best], alphaIndex: best, coef, intercept, looMse, mode,
    nSamples: input.nSamples, nFeatures, nTargets,
  });
}

async function fitPrimal(input: RidgeInput, alphas: number[], products: DenseProducts, options: RidgeCVOptions): Promise<RidgeCVResult> {
  const { x, nSamples: n, nFeatures: d, nTargets: t } = input;
  const xMeans = columnMeans(x, n, d);
  const yMeans = columnMeans(input.y, n, t);
  const yc = centredRows(input.y, yMeans, 0, n, t);
  const chunkRows = options.chunkRows ?? defaultChunkRows(d, n);

  // C = X_cᵀX_c and X_cᵀy_c, accumulated over row chunks.
  let covariance: Float64Array | undefined;
  const xty = new Float64Array(d * t);
  for (let start = 0; start < n; start += chunkRows) {
    const end = Math.min(n, start + chunkRows);
    const rows = end - start;
    const chunk = centredRows(x, xMeans, start, end, d);
    covariance = await products.gemm('float64', { data: chunk, rows, cols: d }, { data: chunk, rows, cols: d },
      covariance === undefined ? { transA: true } : { transA: true, c: { data: covariance, rows: d, cols: d } });
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < t; c++) {
        const yv = yc[(start + r) * t + c];
        if (yv === 0) continue;
        for (let f = 0; f < d; f++) xty[f * t + c] += chunk[r * d + f] * yv;
      }
    }
  }
  // Symmetrise: MLAS sums in a blocked order, so C may differ from Cᵀ in the last bit.
  const cov = covariance as Float64Array;
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) {
    const mean = 0.5 * (cov[i * d + j] + cov[j * d + i]);
    cov[i * d + j] = mean;
    cov[j * d + i] = mean;
  }
  const tri = await tridiagonalize(cov, d, products);
  covariance = undefined;
  // b = Qᵀ X_cᵀ y_c (d × t), then per alpha s(α) = (T + αI)⁻¹ b, the coefficients in Q's basis.
  const b = await products.gemm('float64', { data: tri.q, rows: d, cols: d }, { data: xty, rows: d, cols: t }, { transA: true });
  const factors = alphas.map((alpha) => factorShiftedTridiagonal(tri, alpha));
  const nAlphas = alphas.length;
  const sAll = new Float64Array(d * nAlphas * t);
  factors.forEach((factor, a) => {
    const s = solveShiftedTridiagonal(factor, b, d, t);
    for (let k = 0; k < d; k++) for (let c = 0; c < t; c++) sAll[k * nAlphas * t + a * t + c] = s[k * t + c];
  });

  const squaredErrorSums = new Float64Array(nAlphas);
  const float32 = options.projectionPrecision === 'float32';
  const q32 = float32 ? Float32Array.from(tri.q) : undefined;
  const s32 = float32 ? Float32Array.from(sAll) : undefined;
  for (let start = 0; start < n; start += chunkRows) {
    const end = Math.min(n, start + chunkRows);
    const rows = end - start;
    const chunk = centredRows(x, xMeans, start, end, d);
    // Yᵀ = Qᵀ X_cᵀ (d × rows): rows of Yᵀ are contiguous over samples for the LDLᵀ sweeps.
    let yt: Float64Array | Float32Array;
    let fitted: Float64Array | Float32Array;
    if (q32 !== undefined && s32 !== undefined) {
      const chunk32 = Float32Array.from(chunk);
      yt = await products.gemm('float32', { data: q32, rows: d, cols: d }, { data: chunk32, rows, cols: d }, { transA: true, transB: true });
      fitted = await products.gemm('float32', { data: yt, rows: d, cols: rows }, { data: s32, rows: d, cols: nAlphas * t }, { transA: true });
    } else {
      yt = await products.gemm('float64', { data: tri.q, rows: d, cols: d }, { data: chunk, rows, cols: d }, { transA: true, transB: true });
      fitted = await products.gemm('float64', { data: yt, rows: d, cols: rows }, { data: sAll, rows: d, cols: nAlphas * t }, { transA: true });
    }
    const leverage = quadraticForms(yt, d, rows, factors);
    for (let a = 0; a < nAlphas; a++) {
      const h = leverage[a];
      let sum = 0;
      for (let r = 0; r < rows; r++) {
        const denominator = 1 - 1 / n - h[r];
        for (let c = 0; c < t; c++) {
          const error = (yc[(start + r) * t + c] - fitted[r * nAlphas * t + a * t + c]) / denominator;
          sum += error * error;
        }
      }
      squaredErrorSums[a] += sum;
    }
  }
  const looMse = squaredErrorSums.map((sum) => sum / (n * t));
  const best = pickAlpha(looMse);
  // coef = Q s(α*) in float64, whatever the projection precision.
  const sBest = new Float64Array(d * t);
  for (let k = 0; k < d; k++) for (let c = 0; c < t; c++) sBest[k * t + c] = sAll[k * nAlphas * t + best * t + c];
  const coef = await products.gemm('float64', { data: tri.q, rows: d, cols: d }, { data: sBest, rows: d, cols: t });
  return finish(input, alphas, looMse, best, coef, xMeans, yMeans, 'primal');
}

async function fitDual(input: RidgeInput, alphas: number[], products: DenseProducts): Promise<RidgeCVResult> {
  const { x, nSamples: n, nFeatures: d, nTargets: t } = input;
  const xMeans = columnMeans(x, n, d);
  const yMeans = columnMeans(input.y, n, t);
  const yc = centredRows(input.y, yMeans, 0, n, t);
  const xc = centredRows(x, xMeans, 0, n, d);
  const gram = await products.gemm('float64', { data: xc, rows: n, cols: d }, { data: xc, rows: n, cols: d }, { transB: true });
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) {
    const mean = 0.5 * (gram[i * n + j] + gram[j * n + i]);
    gram[i * n + j] = mean;
    gram[j * n + i] = mean;
  }
  const tri = await tridiagonalize(gram, n, products);
  // Qᵀ (n × n) so that each row k of it runs over samples, for the LDLᵀ sweeps.
  const qt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) qt[k * n + i] = tri.q[i * n + k];
  const b = await products.gemm('float64', { data: qt, rows: n, cols: n }, { data: yc, rows: n, cols: t });
  const factors = alphas.map((alpha) => factorShiftedTridiagonal(tri, alpha));
  const nAlphas = alphas.length;
  const sAll = new Float64Array(n * nAlphas * t);
  factors.forEach((factor, a) => {
    const s = solveShiftedTridiagonal(factor, b, n, t);
    for (let k = 0; k < n; k++) for (let c = 0; c < t; c++) sAll[k * nAlphas * t + a * t + c] = s[k * t + c];
  });
  // Dual coefficients for every alpha: c(α) = Q s(α) (n × nAlphas·t).
  const dual = await products.gemm('float64', { data: tri.q, rows: n, cols: n }, { data: sAll, rows: n, cols: nAlphas * t });
  const inverseDiagonals = quadraticForms(qt, n, n, factors);
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
  return finish(input, alphas, looMse, best, coef, xMeans, yMeans, 'dual');
}

/** Predictions X·coef + intercept for nSamples × nFeatures row-major x; returns nSamples × nTargets. */
export function predict(model: Pick<RidgeCVResult, 'coef' | 'intercept' | 'nFeatures' | 'nTargets'>, x: Float32Array | Float64Array, nSamples: number): Float64Array {
  const { coef, intercept, nFeatures: d, nTargets: t } = model;
  if (x.length !== nSamples * d) throw new RidgeInputError(`predict: x has ${x.length} values, expected ${nSamples} × ${d}`);
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

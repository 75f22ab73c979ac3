/**
 * @file Top-k principal components of a set of rows, for the PCA baseline (ridge on the first k components).
 *
 * Method: covariance C = X_cᵀX_c / n of the given rows (row chunks, product backend), Householder reduction
 * C = Q T Qᵀ (tridiagonal.ts), every eigenvalue of the tridiagonal T by the implicit QL algorithm with Wilkinson
 * shifts (no vectors: O(d²)), then eigenvectors only for the k largest, by inverse iteration on T − λI (tridiagonal
 * LU with partial pivoting, as LAPACK's dstein) with Gram–Schmidt against the vectors already found (which keeps
 * clustered eigenvalues apart), and finally V = Q·Z as one product. For k ≪ d this avoids accumulating all QL
 * rotations (~6d³ flops).
 */
import { javascriptProducts, onnxProducts, type DenseProducts } from './products';
import { mulberry32 } from './split';
import { tridiagonalize } from './tridiagonal';

export interface PrincipalComponents {
  /** nFeatures × k, row-major: column j is the j-th component (unit norm), by decreasing variance. */
  readonly components: Float64Array;
  /** Variance along each component (eigenvalues of the covariance, population normalisation), decreasing. */
  readonly variances: Float64Array;
  /** Trace of the covariance (total variance). */
  readonly totalVariance: number;
  /** Column means of the rows used. */
  readonly mean: Float64Array;
  readonly nFeatures: number;
  readonly k: number;
}

/** Every eigenvalue of the symmetric tridiagonal matrix (diagonal, offDiagonal), in decreasing order. */
export function tridiagonalEigenvalues(diagonal: ArrayLike<number>, offDiagonal: ArrayLike<number>): Float64Array {
  const n = diagonal.length;
  const d = Float64Array.from(diagonal);
  // e[i] couples d[i] and d[i+1]; e[n−1] = 0.
  const e = new Float64Array(n);
  for (let i = 0; i < n - 1; i++) e[i] = offDiagonal[i];
  for (let l = 0; l < n; l++) {
    let iterations = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const scale = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * scale) break;
      }
      if (m === l) break;
      if (++iterations > 60) throw new Error('tridiagonalEigenvalues: no convergence after 60 QL iterations');
      // Wilkinson shift from the leading 2×2 block.
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let deflated = false;
      for (let i = m - 1; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] -= p;
          e[m] = 0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
      }
      if (deflated) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  return d.sort().reverse();
}

/** Solve (T − μI) x = b in place of b (LU with partial pivoting, LAPACK dgttrf + dgtts2); tiny pivots are nudged. */
function solveShiftedPivoted(diagonal: ArrayLike<number>, offDiagonal: ArrayLike<number>, mu: number, b: Float64Array, tiny: number): void {
  const n = diagonal.length;
  const d = Float64Array.from(diagonal, (value) => value - mu);
  const dl = Float64Array.from(offDiagonal);
  const du = Float64Array.from(offDiagonal);
  const du2 = new Float64Array(Math.max(0, n - 2));
  const swapped = new Uint8Array(Math.max(0, n - 1));
  for (let i = 0; i < n - 1; i++) {
    if (Math.abs(d[i]) >= Math.abs(dl[i])) {
      if (d[i] === 0) d[i] = tiny;
      const fact = dl[i] / d[i];
      dl[i] = fact;
      d[i + 1] -= fact * du[i];
    } else {
      const fact = d[i] / dl[i];
      d[i] = dl[i];
      dl[i] = fact;
      const temp = du[i];
      du[i] = d[i + 1];
      d[i + 1] = temp - fact * d[i + 1];
      if (i < n - 2) {
        du2[i] = du[i + 1];
        du[i + 1] = -fact * du[i + 1];
      }
      swapped[i] = 1;
    }
  }
  for (let i = 0; i < n; i++) if (Math.abs(d[i]) < tiny) d[i] = d[i] < 0 ? -tiny : tiny;
  for (let i = 0; i < n - 1; i++) {
    if (swapped[i]) {
      const temp = b[i];
      b[i] = b[i + 1];
      b[i + 1] = temp - dl[i] * b[i];
    } else {
      b[i + 1] -= dl[i] * b[i];
    }
  }
  b[n - 1] /= d[n - 1];
  if (n > 1) b[n - 2] = (b[n - 2] - du[n - 2] * b[n - 1]) / d[n - 2];
  for (let i = n - 3; i >= 0; i--) b[i] = (b[i] - du[i] * b[i + 1] - du2[i] * b[i + 2]) / d[i];
}

function normalise(v: Float64Array): number {
  let norm = 0;
  for (const value of v) norm += value * value;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] /= norm;
  return norm;
}

/**
 * Eigenvectors of the tridiagonal T for the given eigenvalues (decreasing), by inverse iteration with
 * re-orthogonalisation against the vectors already computed. Returns size × count, row-major.
 */
export function tridiagonalEigenvectors(diagonal: ArrayLike<number>, offDiagonal: ArrayLike<number>, eigenvalues: ArrayLike<number>, seed = 0): Float64Array {
  const n = diagonal.length;
  const count = eigenvalues.length;
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(diagonal[i]) + (i > 0 ? Math.abs(offDiagonal[i - 1]) : 0) + (i < n - 1 ? Math.abs(offDiagonal[i]) : 0));
  const scale = norm > 0 ? norm : 1;
  const tiny = Number.EPSILON * scale;
  const random = mulberry32(seed);
  const vectors: Float64Array[] = [];
  const orthogonalise = (v: Float64Array): void => {
    // Twice is enough (Kahan–Parlett "twice is enough").
    for (let pass = 0; pass < 2; pass++) {
      for (const u of vectors) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += u[i] * v[i];
        for (let i = 0; i < n; i++) v[i] -= dot * u[i];
      }
    }
  };
  for (let j = 0; j < count; j++) {
    // A shift a hair away from λ keeps T − μI invertible; inverse iteration converges in a few steps.
    const mu = eigenvalues[j] + 10 * Number.EPSILON * scale;
    const v = Float64Array.from({ length: n }, () => random() - 0.5);
    orthogonalise(v);
    normalise(v);
    for (let iteration = 0; iteration < 4; iteration++) {
      solveShiftedPivoted(diagonal, offDiagonal, mu, v, tiny);
      orthogonalise(v);
      if (normalise(v) === 0) v.fill(0).set([1], j % n);
    }
    vectors.push(v);
  }
  const out = new Float64Array(n * count);
  vectors.forEach((v, j) => { for (let i = 0; i < n; i++) out[i * count + j] = v[i]; });
  return out;
}

export interface PcaOptions {
  readonly products?: DenseProducts | 'onnxruntime' | 'javascript';
  /** Rows per chunk of the covariance product (default: about 4M values). */
  readonly chunkRows?: number;
}

/** Top-k principal components of rows `rows` of x (n × d); k is clipped to d. */
export async function principalComponents(x: Float32Array | Float64Array, nFeatures: number, rows: Int32Array, k: number, options: PcaOptions = {}): Promise<PrincipalComponents> {
  const d = nFeatures;
  if (rows.length < 2) throw new Error(`principalComponents: need at least 2 rows, got ${rows.length}`);
  const components = Math.max(1, Math.min(k, d));
  const products = options.products === 'javascript' ? javascriptProducts : options.products === undefined || options.products === 'onnxruntime' ? onnxProducts() : options.products;
  const mean = new Float64Array(d);
  for (const row of rows) for (let f = 0; f < d; f++) mean[f] += x[row * d + f];
  for (let f = 0; f < d; f++) mean[f] /= rows.length;
  const chunkRows = options.chunkRows ?? Math.max(64, Math.floor(4_194_304 / d));
  let covariance: Float64Array = new Float64Array(d * d);
  let spare: Float64Array = new Float64Array(d * d);
  const chunk = new Float64Array(Math.min(rows.length, chunkRows) * d);
  for (let start = 0; start < rows.length; start += chunkRows) {
    const count = Math.min(chunkRows, rows.length - start);
    for (let r = 0; r < count; r++) {
      const source = rows[start + r] * d;
      for (let f = 0; f < d; f++) chunk[r * d + f] = x[source + f] - mean[f];
    }
    const view = chunk.subarray(0, count * d);
    const sum = await products.gemm('float64', { data: view, rows: count, cols: d }, { data: view, rows: count, cols: d },
      start === 0 ? { transA: true, out: spare } : { transA: true, c: { data: covariance, rows: d, cols: d }, out: spare });
    spare = covariance;
    covariance = sum;
  }
  let trace = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) {
      const value = 0.5 * (covariance[i * d + j] + covariance[j * d + i]) / rows.length;
      covariance[i * d + j] = value;
      covariance[j * d + i] = value;
    }
    covariance[i * d + i] /= rows.length;
    trace += covariance[i * d + i];
  }
  const tri = await tridiagonalize(covariance, d, products, { workspace: spare });
  const eigenvalues = tridiagonalEigenvalues(tri.diagonal, tri.offDiagonal).subarray(0, components);
  const z = tridiagonalEigenvectors(tri.diagonal, tri.offDiagonal, eigenvalues);
  const vectors = await products.gemm('float64', { data: tri.q, rows: d, cols: d }, { data: z, rows: d, cols: components });
  return Object.freeze({
    components: vectors,
    variances: Float64Array.from(eigenvalues, (value) => Math.max(0, value)),
    totalVariance: trace,
    mean,
    nFeatures: d,
    k: components,
  });
}

/** Scores (x − mean)·V of every row of x (n × d) on all k components → n × k (row chunks through the backend). */
export async function projectOnComponents(pca: PrincipalComponents, x: Float32Array | Float64Array, nSamples: number, options: PcaOptions = {}): Promise<Float64Array> {
  const d = pca.nFeatures;
  const k = pca.k;
  if (x.length !== nSamples * d) throw new Error(`projectOnComponents: x has ${x.length} values, expected ${nSamples} × ${d}`);
  const products = options.products === 'javascript' ? javascriptProducts : options.products === undefined || options.products === 'onnxruntime' ? onnxProducts() : options.products;
  const chunkRows = options.chunkRows ?? Math.max(64, Math.floor(4_194_304 / d));
  const out = new Float64Array(nSamples * k);
  const chunk = new Float64Array(Math.min(nSamples, chunkRows) * d);
  for (let start = 0; start < nSamples; start += chunkRows) {
    const count = Math.min(chunkRows, nSamples - start);
    for (let r = 0; r < count; r++) {
      const source = (start + r) * d;
      for (let f = 0; f < d; f++) chunk[r * d + f] = x[source + f] - pca.mean[f];
    }
    await products.gemm('float64', { data: chunk.subarray(0, count * d), rows: count, cols: d }, { data: pca.components, rows: d, cols: k },
      { out: out.subarray(start * k, (start + count) * k) });
  }
  return out;
}

/** The first `k` columns of an n × width row-major matrix. */
export function leadingColumns(matrix: Float64Array, nRows: number, width: number, k: number): Float64Array {
  const out = new Float64Array(nRows * k);
  for (let row = 0; row < nRows; row++) out.set(matrix.subarray(row * width, row * width + k), row * k);
  return out;
}

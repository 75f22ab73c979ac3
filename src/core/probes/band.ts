/**
 * @file Reduction of a symmetric matrix to block-tridiagonal (banded) form, A = Q B Qᵀ, with every flop that
 * touches the big trailing matrix in a Gemm — and shifted block-Cholesky factors of B + αI.
 *
 * Why not tridiagonal for large matrices: a one-stage Householder tridiagonalisation (tridiagonal.ts) must read the
 * whole trailing matrix once per column (a matrix–vector product), so ~m³/3 values stream through memory and the
 * CPU waits on it. Reducing to a band of width b instead reads it once per panel of b columns — b times less
 * traffic — with A₂₂ ← Hᵀ A₂₂ H computed as X = A₂₂ V T (Gemm), W = X − ½ V (Tᵀ Vᵀ X), A₂₂ − V Wᵀ − W Vᵀ (Gemm).
 * The band form serves ridge leave-one-out just as well: (B + αI) = L Lᵀ with L block lower bidiagonal, so the
 * quadratic forms yᵀ(B + αI)⁻¹y = ‖L⁻¹y‖² of many rows y are two Gemms per block per alpha.
 *
 * B is stored as its diagonal blocks D_k (w_k × w_k) and sub-diagonal blocks R_k = B[k+1, k] (w_{k+1} × w_k,
 * upper trapezoidal: the R factor of the panel's QR), with blocks of `bandwidth` indices (the last may be smaller).
 */
import type { DenseProducts } from './products';
import { accumulateBlockReflectors, triangularFactorFromGram, type BlockReflector } from './blockReflectors';

export type { BlockReflector } from './blockReflectors';

export interface BandReduction {
  readonly size: number;
  readonly bandwidth: number;
  /** Start index of each block, plus `size` at the end. */
  readonly bounds: readonly number[];
  /** D_k, w_k × w_k row-major. */
  readonly diagonalBlocks: readonly Float64Array[];
  /** R_k = B[k+1, k], w_{k+1} × w_k row-major. */
  readonly subdiagonalBlocks: readonly Float64Array[];
  /** Orthogonal Q (size × size, row-major) with A = Q B Qᵀ; formed only when BandOptions.formQ is not false. */
  readonly q: Float64Array | undefined;
  /** Q's block reflectors in order (Q = H₀ H₁ ⋯), for FactoredOrthogonal (blockReflectors.ts). */
  readonly reflectors: readonly BlockReflector[];
}

/** Householder QR of a rows × width panel (row-major, in place): returns V (unit lower trapezoidal), T and R. */
async function panelQR(panel: Float64Array, rows: number, width: number, products: DenseProducts): Promise<{ v: Float64Array; t: Float64Array; r: Float64Array; reflectors: number }> {
  const reflectors = Math.min(rows, width);
  const taus = new Float64Array(reflectors);
  const dots = new Float64Array(width);
  for (let j = 0; j < reflectors; j++) {
    const alpha = panel[j * width + j];
    let tailNormSq = 0;
    for (let i = j + 1; i < rows; i++) tailNormSq += panel[i * width + j] ** 2;
    if (tailNormSq === 0) { taus[j] = 0; continue; }
    const beta = -Math.sign(alpha || 1) * Math.hypot(alpha, Math.sqrt(tailNormSq));
    const tau = (beta - alpha) / beta;
    const scale = 1 / (alpha - beta);
    for (let i = j + 1; i < rows; i++) panel[i * width + j] *= scale;
    panel[j * width + j] = beta;
    taus[j] = tau;
    // Apply H_j = I − τ v vᵀ to the remaining columns (v = [1, panel[j+1…, j]]): all their dot products in one pass
    // over the rows, then all their updates in a second, so the inner loops run along contiguous rows (the same sums
    // in the same order as column by column, which read a stride-`width` column per sum; at d = 4,096 the panel
    // QRs' own time went 1.05 → 0.86 s).
    if (j + 1 < width) {
      for (let c = j + 1; c < width; c++) dots[c] = panel[j * width + c];
      for (let i = j + 1; i < rows; i++) {
        const base = i * width;
        const vi = panel[base + j];
        for (let c = j + 1; c < width; c++) dots[c] += vi * panel[base + c];
      }
      for (let c = j + 1; c < width; c++) {
        dots[c] *= tau;
        panel[j * width + c] -= dots[c];
      }
      for (let i = j + 1; i < rows; i++) {
        const base = i * width;
        const vi = panel[base + j];
        for (let c = j + 1; c < width; c++) panel[base + c] -= dots[c] * vi;
      }
    }
  }
  const v = new Float64Array(rows * reflectors);
  const r = new Float64Array(reflectors * width);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < reflectors; j++) {
      if (i === j) v[i * reflectors + j] = 1;
      else if (i > j) v[i * reflectors + j] = panel[i * width + j];
    }
  }
  for (let i = 0; i < reflectors; i++) for (let c = i; c < width; c++) r[i * width + c] = panel[i * width + c];
  // T from VᵀV (one Gemm, m·w² flops) rather than column by column in loops: at d = 4,096 the loops took ~0.2 s.
  const gram = await products.gemm('float64', { data: v, rows, cols: reflectors }, { data: v, rows, cols: reflectors }, { transA: true });
  return { v, t: triangularFactorFromGram(gram, reflectors, taus), r, reflectors };
}

/** out (rows × width) = a (rows × k) · b (k × width), small matrices in plain loops. */
function multiplySmall(a: Float64Array, b: Float64Array, rows: number, k: number, width: number, out = new Float64Array(rows * width)): Float64Array {
  out.fill(0);
  for (let i = 0; i < rows; i++) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      if (aip === 0) continue;
      for (let j = 0; j < width; j++) out[i * width + j] += aip * b[p * width + j];
    }
  }
  return out;
}

export interface BandOptions {
  /** Block width b (the band's half-bandwidth). Default 32. */
  readonly bandwidth?: number;
  /**
   * Panels whose trailing-matrix updates are deferred and applied together as one rank-2·b·g Gemm. Default 8.
   * Every Gemm result comes back from onnxruntime-node as freshly allocated memory (~3 ns per byte on the
   * benchmark VM, more than the arithmetic of a rank-64 update), so writing the m × m trailing matrix once per
   * g panels instead of once per panel is what makes the reduction fast; in between, the columns a panel needs
   * are corrected on the fly with skinny products.
   */
  readonly groupPanels?: number;
  /** Reflector columns merged into one block when accumulating Q (see accumulateBlockReflectors). Default 256. */
  readonly qBlockWidth?: number;
  /** A second size × size buffer to work in (allocated when not given). */
  readonly workspace?: Float64Array;
  /**
   * Form Q explicitly (default true): 2·size³ more float64 products. The ridge fit passes false and multiplies
   * through the reflectors instead (blockReflectors.ts FactoredOrthogonal).
   */
  readonly formQ?: boolean;
}

/**
 * Reduce the symmetric matrix `a` (size × size, row-major, both triangles filled) to block-tridiagonal form.
 * `a` is destroyed; it and the workspace are the only size² buffers, and Q is returned in one of them.
 *
 * Updates are deferred within a group of panels (as LAPACK's dlatrd does for the tridiagonal reduction): with
 * A_g the trailing matrix at the start of the group and L = [V W], R = [W V] the group's reflectors and update
 * vectors so far (zero above each panel's rows), the current matrix is A_g − L Rᵀ. A panel needs its own columns
 * (A_g's columns − L Rᵀ, a skinny Gemm) and X = A_cur V T = A_g V T − L (Rᵀ V T); A_g itself is rewritten once
 * per group.
 */
export async function reduceToBand(a: Float64Array, size: number, products: DenseProducts, options: BandOptions = {}): Promise<BandReduction> {
  if (a.length !== size * size) throw new Error(`reduceToBand: expected ${size * size} values, got ${a.length}`);
  const bandwidth = Math.max(1, options.bandwidth ?? 32);
  const groupPanels = Math.max(1, options.groupPanels ?? 8);
  const workspace = options.workspace ?? new Float64Array(size * size);
  if (workspace.length < size * size || workspace.buffer === a.buffer) throw new Error('reduceToBand: workspace must be a separate buffer of size² values');
  const bounds: number[] = [];
  for (let start = 0; start < size; start += bandwidth) bounds.push(start);
  bounds.push(size);
  const nBlocks = bounds.length - 1;
  const diagonalBlocks: Float64Array[] = [];
  const subdiagonalBlocks: Float64Array[] = [];
  const reflectors: BlockReflector[] = [];
  const lanesCapacity = Math.min(size, groupPanels * bandwidth);
  const lBuffer = new Float64Array(size * 2 * lanesCapacity);
  const rBuffer = new Float64Array(size * 2 * lanesCapacity);
  const slabBuffer = new Float64Array(size * bandwidth);
  const paddedBuffer = new Float64Array(size * bandwidth);
  const vzBuffer = new Float64Array(size * bandwidth);

  let current = a;
  let spare = workspace;
  let groupOffset = 0;
  let k = 0;
  groups: while (k < nBlocks) {
    // `current` is the trailing matrix from index groupOffset on, s × s, with every earlier group's update applied.
    const s = size - groupOffset;
    const groupEnd = Math.min(nBlocks, k + groupPanels);
    const lanes = bounds[groupEnd] - groupOffset;
    const stride = 2 * lanes;
    const l = lBuffer.subarray(0, s * stride).fill(0);
    const r = rBuffer.subarray(0, s * stride).fill(0);
    for (let panelIndex = k; panelIndex < groupEnd; panelIndex++) {
      const p = bounds[panelIndex] - groupOffset;
      const w = bounds[panelIndex + 1] - bounds[panelIndex];
      const below = s - p;
      // Columns p … p+w−1 of the current matrix, rows p … s−1: A_g's, minus this group's earlier updates.
      let slab: Float64Array = slabBuffer.subarray(0, below * w);
      for (let i = 0; i < below; i++) slab.set(current.subarray((p + i) * s + p, (p + i) * s + p + w), i * w);
      if (panelIndex > k) {
        slab = await products.gemm('float64', { data: l.subarray(p * stride, s * stride), rows: below, cols: stride },
          { data: r.subarray(p * stride, (p + w) * stride), rows: w, cols: stride },
          { transB: true, alpha: -1, beta: 1, c: { data: slab, rows: below, cols: w } });
      }
      diagonalBlocks.push(Float64Array.from(slab.subarray(0, w * w)));
      if (below === w) break groups;
      const m = below - w;
      const panel = Float64Array.from(slab.subarray(w * w, below * w));
      const { v, t, r: rFactor, reflectors: width } = await panelQR(panel, m, w, products);
      const nextWidth = bounds[panelIndex + 2] - bounds[panelIndex + 1];
      const sub = new Float64Array(nextWidth * w);
      sub.set(rFactor.subarray(0, Math.min(nextWidth, width) * w));
      subdiagonalBlocks.push(sub);
      reflectors.push({ base: bounds[panelIndex] + w, v, rows: m, width, t });
      // X = A_cur V T over rows/columns p+w … s−1. A_g's rows are used whole (VT padded with zeros in front), so
      // the operand is a contiguous block; the columns before p+w meet zeros.
      const padded = paddedBuffer.subarray(0, s * width);
      padded.fill(0, 0, (p + w) * width);
      const vt = await products.gemm('float64', { data: v, rows: m, cols: width }, { data: t, rows: width, cols: width },
        { out: padded.subarray((p + w) * width, s * width) });
      let x = await products.gemm('float64', { data: current.subarray((p + w) * s, s * s), rows: m, cols: s }, { data: padded, rows: s, cols: width });
      if (panelIndex > k) {
        const rtvt = await products.gemm('float64', { data: r.subarray((p + w) * stride, s * stride), rows: m, cols: stride },
          { data: vt, rows: m, cols: width }, { transA: true });
        x = await products.gemm('float64', { data: l.subarray((p + w) * stride, s * stride), rows: m, cols: stride },
          { data: rtvt, rows: stride, cols: width }, { alpha: -1, beta: 1, c: { data: x, rows: m, cols: width } });
      }
      // Z = Tᵀ (Vᵀ X) (symmetric), W = X − ½ V Z; the panel's update of the trailing matrix is −V Wᵀ − W Vᵀ.
      // Vᵀ X and V Z are m-long products (m·w² each, ~1 GFLOP per product summed over the panels at d = 4,096): Gemms,
      // not loops.
      const vtx = await products.gemm('float64', { data: v, rows: m, cols: width }, { data: x, rows: m, cols: width }, { transA: true });
      const tTransposed = new Float64Array(width * width);
      for (let q = 0; q < width; q++) for (let c = 0; c < width; c++) tTransposed[q * width + c] = t[c * width + q];
      const z = multiplySmall(tTransposed, vtx, width, width, width);
      const vz = await products.gemm('float64', { data: v, rows: m, cols: width }, { data: z, rows: width, cols: width },
        { out: vzBuffer.subarray(0, m * width) });
      for (let i = 0; i < m; i++) {
        const row = (p + w + i) * stride;
        for (let q = 0; q < width; q++) {
          const wiq = x[i * width + q] - 0.5 * vz[i * width + q];
          const viq = v[i * width + q];
          l[row + p + q] = viq;
          l[row + lanes + p + q] = wiq;
          r[row + p + q] = wiq;
          r[row + lanes + p + q] = viq;
        }
      }
    }
    // Apply the group's updates: A' = A_g[shift:, shift:] − L Rᵀ, one Gemm. The trailing block is first compacted
    // to stride `next` in place (each row moves to a lower offset, so a forward copy is safe).
    const shift = lanes;
    const next = s - shift;
    for (let i = 0; i < next; i++) current.copyWithin(i * next, (shift + i) * s + shift, (shift + i + 1) * s);
    const updated = await products.gemm('float64', { data: l.subarray(shift * stride, s * stride), rows: next, cols: stride },
      { data: r.subarray(shift * stride, s * stride), rows: next, cols: stride },
      { transB: true, alpha: -1, beta: 1, c: { data: current.subarray(0, next * next), rows: next, cols: next }, out: spare.subarray(0, next * next) });
    spare = current;
    current = updated;
    groupOffset = bounds[groupEnd];
    k = groupEnd;
  }
  const q = options.formQ === false ? undefined : await accumulateBlockReflectors(size, reflectors, products, a, workspace, Math.max(1, options.qBlockWidth ?? 256));
  return Object.freeze({ size, bandwidth, bounds: Object.freeze(bounds), diagonalBlocks, subdiagonalBlocks, q, reflectors });
}

/** Block-Cholesky factors of B + αI = L Lᵀ: L has diagonal blocks G_k and sub-diagonal blocks E_k = R_{k−1} G_{k−1}⁻ᵀ. */
export interface BandCholesky {
  /** M_k = G_k⁻ᵀ (upper triangular), w_k × w_k. */
  readonly inverseTransposedDiagonal: readonly Float64Array[];
  /** E_k for k ≥ 1 (index k−1 here), w_k × w_{k−1}. */
  readonly subdiagonal: readonly Float64Array[];
}

/** Factor B + αI (symmetric positive definite for α > 0 and B positive semidefinite). */
export function factorShiftedBand(band: Pick<BandReduction, 'bounds' | 'diagonalBlocks' | 'subdiagonalBlocks'>, alpha: number): BandCholesky {
  const inverseTransposedDiagonal: Float64Array[] = [];
  const subdiagonal: Float64Array[] = [];
  const nBlocks = band.diagonalBlocks.length;
  for (let k = 0; k < nBlocks; k++) {
    const w = band.bounds[k + 1] - band.bounds[k];
    const s = Float64Array.from(band.diagonalBlocks[k]);
    for (let i = 0; i < w; i++) s[i * w + i] += alpha;
    if (k > 0) {
      const wPrevious = band.bounds[k] - band.bounds[k - 1];
      // E_k = R_{k−1} M_{k−1} (w × wPrevious); S −= E_k E_kᵀ.
      const e = multiplySmall(band.subdiagonalBlocks[k - 1], inverseTransposedDiagonal[k - 1], w, wPrevious, wPrevious);
      subdiagonal.push(e);
      for (let i = 0; i < w; i++) {
        for (let j = 0; j <= i; j++) {
          let dot = 0;
          for (let p = 0; p < wPrevious; p++) dot += e[i * wPrevious + p] * e[j * wPrevious + p];
          s[i * w + j] -= dot;
          if (j !== i) s[j * w + i] -= dot;
        }
      }
    }
    inverseTransposedDiagonal.push(inverseTransposedCholesky(s, w));
  }
  return { inverseTransposedDiagonal, subdiagonal };
}

/** For SPD S (w × w): the Cholesky factor G (S = G Gᵀ, G lower) and then M = G⁻ᵀ (upper triangular). */
function inverseTransposedCholesky(s: Float64Array, w: number): Float64Array {
  const g = new Float64Array(w * w);
  for (let j = 0; j < w; j++) {
    let diagonal = s[j * w + j];
    for (let p = 0; p < j; p++) diagonal -= g[j * w + p] ** 2;
    if (!(diagonal > 0)) throw new Error('factorShiftedBand: B + αI is not positive definite (alpha too small for the rounding in B?)');
    const root = Math.sqrt(diagonal);
    g[j * w + j] = root;
    for (let i = j + 1; i < w; i++) {
      let value = s[i * w + j];
      for (let p = 0; p < j; p++) value -= g[i * w + p] * g[j * w + p];
      g[i * w + j] = value / root;
    }
  }
  // G⁻¹ (lower) by forward substitution on the identity, then transpose.
  const inverse = new Float64Array(w * w);
  for (let c = 0; c < w; c++) {
    for (let i = c; i < w; i++) {
      let value = i === c ? 1 : 0;
      for (let p = c; p < i; p++) value -= g[i * w + p] * inverse[p * w + c];
      inverse[i * w + c] = value / g[i * w + i];
    }
  }
  const m = new Float64Array(w * w);
  for (let i = 0; i < w; i++) for (let j = 0; j < w; j++) m[i * w + j] = inverse[j * w + i];
  return m;
}

/** Solve (B + αI) s = b for `columns` right-hand sides (size × columns row-major) with the block-Cholesky factor. */
export function solveShiftedBand(band: Pick<BandReduction, 'bounds'>, factor: BandCholesky, b: Float64Array, columns: number): Float64Array {
  const bounds = band.bounds;
  const nBlocks = bounds.length - 1;
  // Forward: u_k = G_k⁻¹ (b_k − E_k u_{k−1}) = M_kᵀ (…).
  const u = new Float64Array(b.length);
  for (let k = 0; k < nBlocks; k++) {
    const start = bounds[k];
    const w = bounds[k + 1] - start;
    const rhs = new Float64Array(w * columns);
    for (let i = 0; i < w; i++) for (let c = 0; c < columns; c++) rhs[i * columns + c] = b[(start + i) * columns + c];
    if (k > 0) {
      const e = factor.subdiagonal[k - 1];
      const previous = bounds[k - 1];
      const wPrevious = start - previous;
      for (let i = 0; i < w; i++) for (let p = 0; p < wPrevious; p++) for (let c = 0; c < columns; c++) rhs[i * columns + c] -= e[i * wPrevious + p] * u[(previous + p) * columns + c];
    }
    const m = factor.inverseTransposedDiagonal[k];
    for (let i = 0; i < w; i++) for (let c = 0; c < columns; c++) {
      let value = 0;
      for (let p = 0; p <= i; p++) value += m[p * w + i] * rhs[p * columns + c];
      u[(start + i) * columns + c] = value;
    }
  }
  // Backward: s_k = G_k⁻ᵀ (u_k − E_{k+1}ᵀ s_{k+1}) = M_k (…).
  const s = new Float64Array(b.length);
  for (let k = nBlocks - 1; k >= 0; k--) {
    const start = bounds[k];
    const w = bounds[k + 1] - start;
    const rhs = new Float64Array(w * columns);
    for (let i = 0; i < w; i++) for (let c = 0; c < columns; c++) rhs[i * columns + c] = u[(start + i) * columns + c];
    if (k < nBlocks - 1) {
      const e = factor.subdiagonal[k];
      const next = bounds[k + 1];
      const wNext = bounds[k + 2] - next;
      for (let p = 0; p < wNext; p++) for (let i = 0; i < w; i++) for (let c = 0; c < columns; c++) rhs[i * columns + c] -= e[p * w + i] * s[(next + p) * columns + c];
    }
    const m = factor.inverseTransposedDiagonal[k];
    for (let i = 0; i < w; i++) for (let c = 0; c < columns; c++) {
      let value = 0;
      for (let p = i; p < w; p++) value += m[i * w + p] * rhs[p * columns + c];
      s[(start + i) * columns + c] = value;
    }
  }
  return s;
}

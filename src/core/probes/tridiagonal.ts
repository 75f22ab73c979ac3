/**
 * @file Householder reduction of a symmetric matrix to tridiagonal form, A = Q T Qᵀ, with Q formed explicitly.
 *
 * Why tridiagonal and not a full eigendecomposition: ridge leave-one-out only needs (A + αI)⁻¹ applied to a few
 * vectors and quadratic forms xᵀ(A + αI)⁻¹x for 12 alphas. With A = Q T Qᵀ these become (T + αI)⁻¹ solves, which
 * cost O(m) each through an LDLᵀ factorisation of the tridiagonal T + αI — so no eigenvectors are needed, which
 * saves the ~6m³ flops of accumulating QL rotations (the expensive, non-blockable part of a symmetric eigensolver).
 *
 * Blocking (LAPACK dsytrd/dlatrd style, lower triangle): panels of `blockSize` columns are reduced with
 * matrix–vector products against the not-yet-updated trailing matrix plus low-rank corrections; the trailing
 * matrix then receives one rank-2·blockSize update A ← A − V Wᵀ − W Vᵀ as a Gemm. Q is accumulated backwards in
 * compact-WY blocks (I − V Tᵥ Vᵀ) of qBlockSize reflectors, also as Gemms. About half of the 4/3·m³ reduction flops remain in
 * matrix–vector products (memory-bound); by default they run on a WebAssembly kernel that reads only the lower
 * triangle of the trailing block (reductionKernels.ts: d = 768, 170 → 130 ms per warm reduction on one thread), else
 * through the product backend when large.
 */
import type { DenseProducts } from './products';
import { accumulateBlockReflectors, type BlockReflector } from './blockReflectors';
import { releaseReductionMemory, SYMMETRIC_KERNEL_MAX_SIZE, takeReductionMemory, type ReductionMemory } from './reductionKernels';

export interface Tridiagonal {
  /** Size of the matrix. */
  readonly size: number;
  /** Diagonal of T (length size). */
  readonly diagonal: Float64Array;
  /** Sub/super-diagonal of T (length size − 1). */
  readonly offDiagonal: Float64Array;
  /** Orthogonal Q (size × size, row-major) with A = Q T Qᵀ. */
  readonly q: Float64Array;
}

export interface TridiagonalOptions {
  /** Panel width of the blocked reduction. Default 32. */
  readonly blockSize?: number;
  /**
   * How many Householder vectors go into one block reflector when Q is formed. Default 128: at d = 768 forming Q
   * took 46–48 ms in 32-wide blocks and 30–31 ms in 128-wide ones (fewer, fatter products; 256 was no better).
   */
  readonly qBlockSize?: number;
  /**
   * Where the per-column matrix–vector products run: 'symmetric' (default up to SYMMETRIC_KERNEL_MAX_SIZE) keeps
   * the trailing block in WebAssembly memory and reads half of it per product (reductionKernels.ts); 'backend' sends
   * products of at least `backendGemvThreshold` elements to the product backend (and smaller ones to a loop here).
   */
  readonly matVec?: 'symmetric' | 'backend';
  /** With matVec 'backend': matrix–vector products with at least this many elements go to the product backend. Default 65,536. */
  readonly backendGemvThreshold?: number;
  /** A second size × size buffer to work in (allocated when not given). */
  readonly workspace?: Float64Array;
}

/**
 * Reduce the symmetric matrix `a` (size × size, row-major, both triangles filled) to tridiagonal form.
 * `a` is destroyed: it and `options.workspace` are the only size² buffers used, and Q is returned in one of them.
 * (Large fresh typed arrays cost page faults comparable to the arithmetic, so buffers are reused throughout.)
 */
export async function tridiagonalize(a: Float64Array, size: number, products: DenseProducts, options: TridiagonalOptions = {}): Promise<Tridiagonal> {
  if (a.length !== size * size) throw new Error(`tridiagonalize: expected ${size * size} values, got ${a.length}`);
  const workspace = options.workspace ?? new Float64Array(size * size);
  if (workspace.length < size * size || workspace.buffer === a.buffer) throw new Error('tridiagonalize: workspace must be a separate buffer of size² values');
  const blockSize = Math.max(1, options.blockSize ?? 32);
  const symmetric = (options.matVec ?? (size <= SYMMETRIC_KERNEL_MAX_SIZE ? 'symmetric' : 'backend')) === 'symmetric'
    ? takeReductionMemory(size, blockSize) : undefined;
  try {
    return await reduce(a, size, blockSize, products, options, workspace, symmetric);
  } finally {
    if (symmetric !== undefined) releaseReductionMemory(symmetric);
  }
}

async function reduce(a: Float64Array, size: number, blockSize: number, products: DenseProducts, options: TridiagonalOptions, workspace: Float64Array,
  symmetric: ReductionMemory | undefined): Promise<Tridiagonal> {
  const gemvThreshold = options.backendGemvThreshold ?? 65_536;
  const diagonal = new Float64Array(size);
  const offDiagonal = new Float64Array(Math.max(0, size - 1));
  // Reflector k acts on indices k+1 … size−1: H_k = I − τ_k v_k v_kᵀ with v_k[0] = 1.
  const taus = new Float64Array(Math.max(0, size - 1));
  const reflectors: Float64Array[] = [];
  const panelCapacity = size * blockSize;
  const vBuffer = symmetric?.vPanel ?? new Float64Array(panelCapacity);
  const wBuffer = symmetric?.wPanel ?? new Float64Array(panelCapacity);
  const leftBuffer = new Float64Array(2 * panelCapacity);
  const rightBuffer = new Float64Array(2 * panelCapacity);
  const vFullBuffer = symmetric?.v ?? new Float64Array(size);
  // Per-column vectors, reused: thousands of small fresh typed arrays per reduction (each its own ArrayBuffer) cost
  // more in garbage collection than their arithmetic (d = 768: GC 85 ms in a first fit, 23 ms once warm).
  const columnBuffer = new Float64Array(size);
  const yBuffer = new Float64Array(size);
  // The Householder vectors, packed one after another (reflector k has size − k − 1 entries).
  const reflectorStore = new Float64Array((size * Math.max(0, size - 1)) / 2);
  let reflectorEnd = 0;
  const wtvBuffer = new Float64Array(blockSize);
  const vtvBuffer = new Float64Array(blockSize);

  // With the symmetric kernel the reduction works in its memory (`a` is copied in; Q is still formed in `a` and
  // `workspace`).
  let current = a;
  let spare = workspace;
  if (symmetric !== undefined) {
    symmetric.matrices[0].set(a);
    [current, spare] = symmetric.matrices;
  }
  let offset = 0;
  while (offset < size) {
    const s = size - offset;
    const width = Math.min(blockSize, s);
    // V and W, s × width row-major: V holds the Householder vectors, W the matching symmetric-update vectors.
    const vPanel = vBuffer.subarray(0, s * width).fill(0);
    const wPanel = wBuffer.subarray(0, s * width).fill(0);
    const vFull = vFullBuffer.subarray(0, s);
    for (let j = 0; j < width; j++) {
      const length = s - j;
      // Column j of the trailing matrix (rows j … s−1) with this panel's earlier updates applied.
      const column = symmetric !== undefined ? symmetric.updatedColumn(current, s, j, vPanel, wPanel, width)
        : updatedColumn(current, s, j, vPanel, wPanel, width, columnBuffer.subarray(0, length));
      diagonal[offset + j] = column[0];
      if (length === 1) break;
      // Householder vector annihilating column[2 …], i.e. (I − τvvᵀ)·column[1 …] = β e₁ (LAPACK dlarfg).
      const k = offset + j;
      const v = reflectorStore.subarray(reflectorEnd, reflectorEnd + length - 1);
      reflectorEnd += length - 1;
      const { beta, tau } = householder(column, v);
      offDiagonal[k] = beta;
      taus[k] = tau;
      reflectors[k] = v;
      if (tau === 0) continue;
      placeReflector(v, vPanel, width, j, vFull);
      // w = τ (A₂₂ v − V (Wᵀv) − W (Vᵀv)), then w −= (τ/2)(wᵀv) v, over rows j+1 … s−1.
      const rows = length - 1;
      const y = symmetric !== undefined ? symmetric.lowerSymmetricProduct(current, s, j + 1)
        : await matVec(current, (j + 1) * s, rows, s, vFull, j + 1, products, gemvThreshold, yBuffer.subarray(0, rows));
      if (j > 0 && symmetric !== undefined) symmetric.subtractPanelTerms(y, vPanel, wPanel, width, j);
      else if (j > 0) subtractPanelTerms(y, v, vPanel, wPanel, width, j, wtvBuffer.subarray(0, j), vtvBuffer.subarray(0, j));
      finishUpdateVector(y, v, tau, wPanel, width, j);
    }
    if (width === s) break;
    // Trailing update A' = A[w:, w:] − V Wᵀ − W Vᵀ as one Gemm with [V W]·[W V]ᵀ. The trailing block is first
    // compacted to stride `next` in place.
    const next = s - width;
    compactTrailing(current, s, width);
    const trailing = current.subarray(0, next * next);
    const left = leftBuffer.subarray(0, next * 2 * width);
    const right = rightBuffer.subarray(0, next * 2 * width);
    stackPanels(vPanel, wPanel, width, next, left, right);
    const updated = await products.gemm('float64',
      { data: left, rows: next, cols: 2 * width },
      { data: right, rows: next, cols: 2 * width },
      { transB: true, alpha: -1, beta: 1, c: { data: trailing, rows: next, cols: next }, out: spare.subarray(0, next * next) });
    spare = current;
    current = updated;
    offset += width;
  }
  // Q = H₀ H₁ ⋯ H_{m−2}, accumulated backwards in compact-WY blocks of `qBlockSize` reflectors, as the band
  // reduction accumulates its block reflectors (each Householder vector is a block of width 1 with T = [τ]).
  const blocks: BlockReflector[] = [];
  reflectors.forEach((v, k) => blocks.push({ base: k + 1, v, rows: v.length, width: 1, t: Float64Array.of(taus[k]) }));
  const q = await accumulateBlockReflectors(size, blocks, products, a, workspace, Math.max(1, options.qBlockSize ?? 128));
  return Object.freeze({ size, diagonal, offDiagonal, q });
}

// The panel's loops, as synchronous functions of their own: inside the async tridiagonalize (resumed after every
// matrix–vector product) they ran partly unoptimised, boxing each double — 80 MB of short-lived heap numbers per
// d = 768 reduction, and the garbage collection that goes with it.

/** Column j of the trailing matrix (rows j … s−1) with the panel's earlier updates applied, into `column`. */
function updatedColumn(current: Float64Array, s: number, j: number, vPanel: Float64Array, wPanel: Float64Array, width: number, column: Float64Array): Float64Array {
  const length = s - j;
  for (let r = 0; r < length; r++) {
    const row = j + r;
    let value = current[row * s + j];
    for (let p = 0; p < j; p++) value -= vPanel[row * width + p] * wPanel[j * width + p] + wPanel[row * width + p] * vPanel[j * width + p];
    column[r] = value;
  }
  return column;
}

/**
 * The Householder vector v (v[0] = 1) with (I − τvvᵀ)·column[1 …] = β e₁, annihilating column[2 …] (LAPACK dlarfg).
 * `v` must hold zeros past v[0] (it is written only when the tail is not already zero).
 */
function householder(column: Float64Array, v: Float64Array): { beta: number; tau: number } {
  const length = column.length;
  const alpha = column[1];
  let tailNormSq = 0;
  for (let r = 2; r < length; r++) tailNormSq += column[r] * column[r];
  v[0] = 1;
  if (!(tailNormSq > 0)) return { beta: alpha, tau: 0 };
  const beta = -Math.sign(alpha || 1) * Math.hypot(alpha, Math.sqrt(tailNormSq));
  const scale = 1 / (alpha - beta);
  for (let r = 2; r < length; r++) v[r - 1] = column[r] * scale;
  return { beta, tau: (beta - alpha) / beta };
}

/**
 * y −= V (Wᵀv) + W (Vᵀv) over the panel's first j columns, rows j+1 … (wtv, vtv: j-value scratch).
 * Each sum is taken in the same order as a plain row-by-row loop (over rows for Wᵀv and Vᵀv, over panel columns for a
 * row's correction), so the doubles are those of the simple loops; the loops are arranged for independent chains:
 * two panel columns at a time for the dot products, four rows at a time for the corrections (d = 768: 35 → 22 ms of
 * self time per reduction under the profiler).
 */
function subtractPanelTerms(y: Float64Array, v: Float64Array, vPanel: Float64Array, wPanel: Float64Array, width: number, j: number,
  wtv: Float64Array, vtv: Float64Array): void {
  const rows = v.length;
  const first = (j + 1) * width;
  let p = 0;
  for (; p + 2 <= j; p += 2) {
    let w0 = 0, v0 = 0, w1 = 0, v1 = 0;
    for (let r = 0, base = first + p; r < rows; r++, base += width) {
      const vr = v[r];
      w0 += wPanel[base] * vr;
      v0 += vPanel[base] * vr;
      w1 += wPanel[base + 1] * vr;
      v1 += vPanel[base + 1] * vr;
    }
    wtv[p] = w0; vtv[p] = v0; wtv[p + 1] = w1; vtv[p + 1] = v1;
  }
  for (; p < j; p++) {
    let w0 = 0, v0 = 0;
    for (let r = 0, base = first + p; r < rows; r++, base += width) {
      w0 += wPanel[base] * v[r];
      v0 += vPanel[base] * v[r];
    }
    wtv[p] = w0; vtv[p] = v0;
  }
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const b0 = first + r * width;
    const b1 = b0 + width;
    const b2 = b1 + width;
    const b3 = b2 + width;
    let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    for (let q = 0; q < j; q++) {
      const a = wtv[q];
      const b = vtv[q];
      c0 += vPanel[b0 + q] * a + wPanel[b0 + q] * b;
      c1 += vPanel[b1 + q] * a + wPanel[b1 + q] * b;
      c2 += vPanel[b2 + q] * a + wPanel[b2 + q] * b;
      c3 += vPanel[b3 + q] * a + wPanel[b3 + q] * b;
    }
    y[r] -= c0; y[r + 1] -= c1; y[r + 2] -= c2; y[r + 3] -= c3;
  }
  for (; r < rows; r++) {
    const base = first + r * width;
    let correction = 0;
    for (let q = 0; q < j; q++) correction += vPanel[base + q] * wtv[q] + wPanel[base + q] * vtv[q];
    y[r] -= correction;
  }
}

/** w = τ·y, then w −= (τ/2)(wᵀv) v, stored as the panel's column j of W (rows j+1 …). */
function finishUpdateVector(y: Float64Array, v: Float64Array, tau: number, wPanel: Float64Array, width: number, j: number): void {
  const rows = v.length;
  let wDotV = 0;
  for (let r = 0; r < rows; r++) {
    y[r] *= tau;
    wDotV += y[r] * v[r];
  }
  const shift = -0.5 * tau * wDotV;
  for (let r = 0; r < rows; r++) wPanel[(j + 1 + r) * width + j] = y[r] + shift * v[r];
}

/** v into the panel's column j (rows j+1 …), and into `vFull` (length s) after j + 1 zeros, the matrix–vector product's operand. */
function placeReflector(v: Float64Array, vPanel: Float64Array, width: number, j: number, vFull: Float64Array): void {
  for (let r = 0; r < v.length; r++) vPanel[(j + 1 + r) * width + j] = v[r];
  vFull.fill(0, 0, j + 1);
  vFull.set(v, j + 1);
}

/** The trailing (s − width)² block moved to stride s − width at the start of `current` (a forward copy is safe: each row moves down). */
function compactTrailing(current: Float64Array, s: number, width: number): void {
  const next = s - width;
  for (let r = 0; r < next; r++) current.copyWithin(r * next, (width + r) * s + width, (width + r + 1) * s);
}

/** left = [V W], right = [W V] over the trailing rows (the panel's rows width …), for the rank-2·width update. */
function stackPanels(vPanel: Float64Array, wPanel: Float64Array, width: number, next: number, left: Float64Array, right: Float64Array): void {
  for (let r = 0; r < next; r++) {
    const source = (width + r) * width;
    const target = r * 2 * width;
    for (let p = 0; p < width; p++) {
      left[target + p] = vPanel[source + p];
      left[target + width + p] = wPanel[source + p];
      right[target + p] = wPanel[source + p];
      right[target + width + p] = vPanel[source + p];
    }
  }
}

/** y = M[rowStart…] · x over `rows` rows of length `cols` into `y`, skipping the leading zeros of x (first `skip` entries). */
async function matVec(matrix: Float64Array, start: number, rows: number, cols: number, x: Float64Array, skip: number,
  products: DenseProducts, threshold: number, y: Float64Array): Promise<Float64Array> {
  if (products.name !== 'javascript' && rows * cols >= threshold) {
    return products.gemm('float64', { data: matrix.subarray(start, start + rows * cols), rows, cols }, { data: x, rows: cols, cols: 1 }, { out: y });
  }
  return matVecHere(matrix, start, rows, cols, x, skip, y);
}

function matVecHere(matrix: Float64Array, start: number, rows: number, cols: number, x: Float64Array, skip: number, y: Float64Array): Float64Array {
  for (let r = 0; r < rows; r++) {
    const base = start + r * cols;
    let sum = 0;
    for (let c = skip; c < cols; c++) sum += matrix[base + c] * x[c];
    y[r] = sum;
  }
  return y;
}

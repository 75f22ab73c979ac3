/**
 * @file Products with an orthogonal Q = H₀ H₁ ⋯ H_K kept as its block Householder reflectors (compact WY form,
 * H_i = I − V_i T_i V_iᵀ), and Q formed explicitly when a caller needs it.
 *
 * Why keep Q factored: the ridge fit needs Q only to multiply by it — Yᵀ = Qᵀ X_cᵀ over the rows (n·d² products
 * either way) and two d × t vectors. Forming Q costs 2·d³ more products (137 GFLOP at d = 4,096, 1.1 TFLOP at
 * 8,192, all float64) and a d × d buffer; applying the reflectors to the rows instead costs the same 2·n·d² as the
 * one product with Q would, in the rows' precision (float32 in the checked leave-one-out pass).
 */
import type { ArrayOf, DenseProducts, ProductDtype } from './products';
import { ScratchBuffers } from '../util/scratch';

/** A block of Householder reflectors in compact WY form (a single reflector is a block of width 1, T = [τ]). */
export interface BlockReflector {
  /** First index the reflector acts on. */
  readonly base: number;
  /** rows × width, unit lower trapezoidal Householder vectors. */
  readonly v: Float64Array;
  readonly rows: number;
  readonly width: number;
  /** width × width upper-triangular T of the compact WY form H = I − V T Vᵀ. */
  readonly t: Float64Array;
}

/** LAPACK dlarft (forward, columnwise) from G = VᵀV: T[p,p] = τ_p, T[0:p,p] = −τ_p T[0:p,0:p] G[0:p,p]. */
export function triangularFactorFromGram(gram: Float64Array, width: number, taus: Float64Array): Float64Array {
  const t = new Float64Array(width * width);
  for (let p = 0; p < width; p++) {
    const tau = taus[p];
    t[p * width + p] = tau;
    if (tau === 0) continue;
    for (let row = 0; row < p; row++) {
      let sum = 0;
      for (let c = row; c < p; c++) sum += t[row * width + c] * gram[c * width + p];
      t[row * width + p] = -tau * sum;
    }
  }
  return t;
}

/**
 * Consecutive reflectors (in order of increasing base, each acting on base … size−1) merged into blocks of up to
 * `mergeWidth` columns, grouped from the last one back (as the accumulation of Q has always grouped them), returned
 * in order of increasing base. The merged T is rebuilt from the reflectors' τ (the diagonals of their T's) and VᵀV
 * as LAPACK's dlarft does. Wide blocks give the skinny products a deeper inner dimension.
 */
export async function mergeBlockReflectors(reflectors: readonly BlockReflector[], products: DenseProducts, mergeWidth = 256): Promise<BlockReflector[]> {
  const merged: BlockReflector[] = [];
  for (let blockEnd = reflectors.length; blockEnd > 0;) {
    let blockStart = blockEnd - 1;
    let width = reflectors[blockStart].width;
    while (blockStart > 0 && width + reflectors[blockStart - 1].width <= mergeWidth) width += reflectors[--blockStart].width;
    const { base, rows } = reflectors[blockStart];
    const v = new Float64Array(rows * width);
    const taus = new Float64Array(width);
    for (let index = blockStart, column = 0; index < blockEnd; column += reflectors[index++].width) {
      const reflector = reflectors[index];
      const shift = reflector.base - base;
      for (let i = 0; i < reflector.rows; i++) {
        for (let j = 0; j < reflector.width; j++) v[(shift + i) * width + column + j] = reflector.v[i * reflector.width + j];
      }
      for (let j = 0; j < reflector.width; j++) taus[column + j] = reflector.t[j * reflector.width + j];
    }
    const gram = await products.gemm('float64', { data: v, rows, cols: width }, { data: v, rows, cols: width }, { transA: true });
    merged.push({ base, v, rows, width, t: triangularFactorFromGram(gram, width, taus) });
    blockEnd = blockStart;
  }
  return merged.reverse();
}

/**
 * Q = H₀ H₁ ⋯ (size × size, row-major, in `qBuffer`), accumulated backwards: Q[base:, :] ← (I − V T Vᵀ) Q[base:, :]
 * for the merged blocks. Whole rows are updated (their leading columns are still zero), so every operand is a
 * contiguous block; each pass rewrites the rows of Q, so wide blocks also mean fewer passes.
 */
export async function accumulateBlockReflectors(size: number, reflectors: readonly BlockReflector[], products: DenseProducts, qBuffer: Float64Array,
  temporary: Float64Array, mergeWidth = 256): Promise<Float64Array> {
  const q = qBuffer.subarray(0, size * size).fill(0);
  for (let i = 0; i < size; i++) q[i * size + i] = 1;
  const merged = await mergeBlockReflectors(reflectors, products, mergeWidth);
  for (let index = merged.length - 1; index >= 0; index--) {
    const { base, rows, width, v, t } = merged[index];
    const rowsOfQ = q.subarray(base * size, size * size);
    const vtq = await products.gemm('float64', { data: v, rows, cols: width }, { data: rowsOfQ, rows, cols: size }, { transA: true });
    const tvtq = await products.gemm('float64', { data: t, rows: width, cols: width }, { data: vtq, rows: width, cols: size });
    const updated = await products.gemm('float64', { data: v, rows, cols: width }, { data: tvtq, rows: width, cols: size },
      { alpha: -1, beta: 1, c: { data: rowsOfQ, rows, cols: size }, out: temporary.subarray(0, rows * size) });
    rowsOfQ.set(updated);
  }
  return q;
}

/** One merged block's operands in one precision: V (rows × width) and U = V Tᵀ (so that Hᵀ = I − U Vᵀ). */
interface BlockOperands<D extends ProductDtype> {
  readonly base: number;
  readonly rows: number;
  readonly width: number;
  readonly v: ArrayOf<D>;
  readonly u: ArrayOf<D>;
}

/** Sample rows transposed and projected per piece: this many columns of Xᵀ keep a piece's buffers in cache. */
export const PROJECTION_PIECE_COLUMNS = 512;

/**
 * Q = H₀ H₁ ⋯ H_K (size × size) held as merged block reflectors. Products with Q and Qᵀ go through the blocks;
 * nothing of size² is formed.
 */
export class FactoredOrthogonal {
  private readonly operands = new Map<ProductDtype, readonly BlockOperands<ProductDtype>[]>();
  private readonly scratch = new ScratchBuffers();

  constructor(readonly size: number, readonly blocks: readonly BlockReflector[], private readonly products: DenseProducts) {}

  static async fromReflectors(size: number, reflectors: readonly BlockReflector[], products: DenseProducts, mergeWidth = 256): Promise<FactoredOrthogonal> {
    return new FactoredOrthogonal(size, await mergeBlockReflectors(reflectors, products, mergeWidth), products);
  }

  /** Q x for x (size × cols, row-major), float64; returns a new array. */
  async apply(x: Float64Array, cols: number): Promise<Float64Array> {
    return this.applyInPlace(Float64Array.from(x), cols, false);
  }

  /** Qᵀ x for x (size × cols, row-major), float64; returns a new array. */
  async applyTransposed(x: Float64Array, cols: number): Promise<Float64Array> {
    return this.applyInPlace(Float64Array.from(x), cols, true);
  }

  private async applyInPlace(x: Float64Array, cols: number, transposed: boolean): Promise<Float64Array> {
    if (x.length !== this.size * cols) throw new Error(`FactoredOrthogonal: expected ${this.size} × ${cols} values, got ${x.length}`);
    const order = transposed ? this.blocks : [...this.blocks].reverse();
    for (const { base, rows, width, v, t } of order) {
      const tail = x.subarray(base * cols);
      const vtx = await this.products.gemm('float64', { data: v, rows, cols: width }, { data: tail, rows, cols }, { transA: true });
      const z = await this.products.gemm('float64', { data: t, rows: width, cols: width }, { data: vtx, rows: width, cols }, { transA: transposed });
      tail.set(await this.products.gemm('float64', { data: v, rows, cols: width }, { data: z, rows: width, cols }, { alpha: -1, beta: 1, c: { data: tail, rows, cols } }));
    }
    return x;
  }

  /**
   * out (size × rows) = Qᵀ Xᵀ for the row-major rows X (rows × size, float64), in `dtype`: the projection of a
   * chunk of centred rows. Pieces of PROJECTION_PIECE_COLUMNS rows are transposed into a size × piece buffer and
   * the blocks applied in order (Hᵀ = I − U Vᵀ: two products each). Each block writes its rows base … size−1 into
   * the other of two buffers; its first rows (up to the next block's base) are final there, so the result is read
   * from the buffers segment by segment straight into `out`, with no copying back in between.
   */
  async projectRows<D extends ProductDtype>(dtype: D, x: Float64Array, rows: number, out: ArrayOf<D>): Promise<ArrayOf<D>> {
    const size = this.size;
    if (x.length < rows * size || out.length !== size * rows) throw new Error(`FactoredOrthogonal.projectRows: expected ${rows} × ${size} rows and a ${size} × ${rows} result`);
    const blocks = await this.blockOperands(dtype);
    const pieceColumns = Math.min(rows, PROJECTION_PIECE_COLUMNS);
    const first = this.scratch.get(dtype, 'piece', size * pieceColumns) as ArrayOf<D>;
    const second = this.scratch.get(dtype, 'other piece', size * pieceColumns) as ArrayOf<D>;
    const update = this.scratch.get(dtype, 'update', Math.max(0, ...blocks.map((block) => block.width)) * pieceColumns) as ArrayOf<D>;
    for (let start = 0; start < rows; start += pieceColumns) {
      const cols = Math.min(pieceColumns, rows - start);
      const current = [first.subarray(0, size * cols), second.subarray(0, size * cols)] as ArrayOf<D>[];
      transposeInto(x, start, cols, size, current[0]);
      // Segment s: rows [segmentStart[s], segmentStart[s + 1]) are final in buffer segmentBuffer[s].
      const segmentStart = [0];
      const segmentBuffer = [0];
      let source = 0;
      for (const { base, rows: blockRows, width, v, u } of blocks) {
        const tail = current[source].subarray(base * cols) as ArrayOf<D>;
        const vtx = await this.products.gemm(dtype, { data: v, rows: blockRows, cols: width }, { data: tail, rows: blockRows, cols },
          { transA: true, out: update.subarray(0, width * cols) as ArrayOf<D> });
        const target = 1 - source;
        await this.products.gemm(dtype, { data: u, rows: blockRows, cols: width }, { data: vtx, rows: width, cols },
          { alpha: -1, beta: 1, c: { data: tail, rows: blockRows, cols }, out: current[target].subarray(base * cols) as ArrayOf<D> });
        segmentStart.push(base);
        segmentBuffer.push(target);
        source = target;
      }
      segmentStart.push(size);
      for (let s = 0; s + 1 < segmentStart.length; s++) {
        const buffer = current[segmentBuffer[s]];
        for (let row = segmentStart[s]; row < segmentStart[s + 1]; row++) out.set(buffer.subarray(row * cols, (row + 1) * cols), row * rows + start);
      }
    }
    return out;
  }

  private async blockOperands<D extends ProductDtype>(dtype: D): Promise<readonly BlockOperands<D>[]> {
    let operands = this.operands.get(dtype);
    if (operands === undefined) {
      const made: BlockOperands<ProductDtype>[] = [];
      for (const { base, rows, width, v, t } of this.blocks) {
        // U = V Tᵀ, once per block (float64, then rounded for a float32 pass).
        const u = await this.products.gemm('float64', { data: v, rows, cols: width }, { data: t, rows: width, cols: width }, { transB: true });
        made.push(dtype === 'float32' ? { base, rows, width, v: Float32Array.from(v), u: Float32Array.from(u) } : { base, rows, width, v, u });
      }
      operands = made;
      this.operands.set(dtype, operands);
    }
    return operands as readonly BlockOperands<D>[];
  }
}

/** out[c·cols + r] = x[(start + r)·size + c] (size × cols from cols rows), in tiles so neither side is walked with a long stride. */
function transposeInto(x: Float64Array, start: number, cols: number, size: number, out: Float32Array | Float64Array): void {
  const tile = 32;
  for (let r0 = 0; r0 < cols; r0 += tile) {
    const r1 = Math.min(cols, r0 + tile);
    for (let c0 = 0; c0 < size; c0 += tile) {
      const c1 = Math.min(size, c0 + tile);
      for (let r = r0; r < r1; r++) {
        const source = (start + r) * size;
        for (let c = c0; c < c1; c++) out[c * cols + r] = x[source + c];
      }
    }
  }
}

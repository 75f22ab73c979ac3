import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { reduceToBand } from '../../../src/core/probes/band';
import { FactoredOrthogonal, PROJECTION_PIECE_COLUMNS } from '../../../src/core/probes/blockReflectors';
import { javascriptProducts, onnxProducts } from '../../../src/core/probes/products';
import { mulberry32 } from '../../../src/core/probes/split';

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(random(), 1e-300))) * Math.cos(2 * Math.PI * random());
}

/** a (m × k) · b (k × n), or aᵀ · b when a is given as k × m, in plain loops. */
function multiply(a: Float64Array, b: Float64Array, m: number, k: number, n: number, transposeA = false): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) {
    const aip = transposeA ? a[p * m + i] : a[i * k + p];
    for (let j = 0; j < n; j++) out[i * n + j] += aip * b[p * n + j];
  }
  return out;
}

function maxAbsolute(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

for (const products of [javascriptProducts, onnxProducts()]) {
  test(`FactoredOrthogonal: Q x, Qᵀ x and the rows' projection Qᵀ Xᵀ through the reflectors equal the products with the formed Q (${products.name})`, async () => {
    // [size, bandwidth, mergeWidth]: no reflectors at all (Q = I), one block, several merged blocks of uneven widths.
    for (const [size, bandwidth, mergeWidth] of [[3, 4, 256], [9, 4, 256], [40, 4, 8], [64, 8, 20], [37, 5, 5]] as const) {
      const random = mulberry32(size * 31 + bandwidth);
      const a = new Float64Array(size * size);
      for (let i = 0; i < size; i++) for (let j = 0; j <= i; j++) a[i * size + j] = a[j * size + i] = gaussian(random) + (i === j ? 2 : 0);
      const band = await reduceToBand(a, size, products, { bandwidth, qBlockWidth: mergeWidth });
      const q = band.q as Float64Array;
      const factored = await FactoredOrthogonal.fromReflectors(size, band.reflectors, products, mergeWidth);
      const cols = 3;
      const x = Float64Array.from({ length: size * cols }, () => gaussian(random));
      assert.ok(maxAbsolute(await factored.apply(x, cols), multiply(q, x, size, size, cols)) < 1e-13, `size ${size}: Q x`);
      assert.ok(maxAbsolute(await factored.applyTransposed(x, cols), multiply(q, x, size, size, cols, true)) < 1e-13, `size ${size}: Qᵀ x`);
      // Rows across more than one projection piece, the last one partial.
      const rows = PROJECTION_PIECE_COLUMNS + 77;
      const xRows = Float64Array.from({ length: rows * size }, () => 5 * gaussian(random));
      const xColumns = new Float64Array(size * rows);
      for (let r = 0; r < rows; r++) for (let c = 0; c < size; c++) xColumns[c * rows + r] = xRows[r * size + c];
      const expected = multiply(q, xColumns, size, size, rows, true);
      const projected64 = await factored.projectRows('float64', xRows, rows, new Float64Array(size * rows));
      assert.ok(maxAbsolute(projected64, expected) < 1e-12, `size ${size}: float64 projection`);
      const projected32 = await factored.projectRows('float32', xRows, rows, new Float32Array(size * rows));
      assert.ok(maxAbsolute(projected32, expected) < 2e-5 * 5 * Math.sqrt(size), `size ${size}: float32 projection, ${maxAbsolute(projected32, expected)}`);
    }
  });
}

test('reduceToBand with formQ false returns the reflectors and no Q', async () => {
  const size = 20;
  const random = mulberry32(7);
  const a = new Float64Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j <= i; j++) a[i * size + j] = a[j * size + i] = gaussian(random);
  const withQ = await reduceToBand(Float64Array.from(a), size, onnxProducts(), { bandwidth: 4 });
  const withoutQ = await reduceToBand(Float64Array.from(a), size, onnxProducts(), { bandwidth: 4, formQ: false });
  assert.equal(withoutQ.q, undefined);
  assert.deepEqual(withoutQ.diagonalBlocks, withQ.diagonalBlocks);
  assert.equal(withoutQ.reflectors.length, withQ.reflectors.length);
});

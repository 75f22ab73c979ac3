/**
 * The float32 row passes on the WebAssembly kernel (src/core/probes/centring.ts) give the scalar loops' numbers
 * exactly: column sums in row order, rows centred into float32 (the float64 difference rounded once), rows centred
 * and transposed into the covariance panels — for widths that are and are not multiples of four, rows split over
 * several kernel calls, and panels kept from one use to the next.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { centredFloat32Into32, columnSumsFloat32, CovariancePanels } from '../../../src/core/probes/centring';
import { fitRidgeCV } from '../../../src/core/probes/ridge';
import { DEFAULT_ALPHAS } from '../../../src/core/probes/probe';
import { mulberry32 } from '../../../src/core/probes/split';

const shapes = [[1, 1, undefined], [3, 5, undefined], [17, 8, undefined], [40, 11, 11 * 4 * 3], [9, 768, undefined], [12, 6, 1]] as const;

function rowsOf(rows: number, cols: number, seed: number): { x: Float32Array; means: Float64Array } {
  const random = mulberry32(seed);
  // Large offsets and small spreads: the centred values keep few of the raw values' bits, so a rounding would show.
  const x = Float32Array.from({ length: rows * cols }, (_, index) => 1000 * ((index % cols) - 3) + (random() - 0.5));
  const means = Float64Array.from({ length: cols }, (_, c) => 1000 * (c - 3) + (random() - 0.5) * 0.01);
  return { x, means };
}

test('column sums are the row-by-row float64 sums', () => {
  for (const [rows, cols, blockBytes] of shapes) {
    const { x } = rowsOf(rows, cols, 51);
    const expected = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) expected[c] += x[r * cols + c];
    assert.deepEqual(Array.from(columnSumsFloat32(x, rows, cols, blockBytes)), Array.from(expected), `${rows} × ${cols}`);
  }
});

test('rows centred into float32 are each float64 difference rounded once; only the asked rows are written', () => {
  for (const [rows, cols, blockBytes] of shapes) {
    const { x, means } = rowsOf(rows, cols, 52);
    const start = Math.floor(rows / 3);
    const out = new Float32Array((rows - start) * cols + 3).fill(7);
    centredFloat32Into32(x, means, start, rows, cols, out, blockBytes);
    const expected = new Float32Array((rows - start) * cols + 3).fill(7);
    for (let r = start; r < rows; r++) for (let c = 0; c < cols; c++) expected[(r - start) * cols + c] = x[r * cols + c] - means[c];
    assert.deepEqual(Array.from(out), Array.from(expected), `${rows} × ${cols}`);
  }
});

test('covariance panels hold each chunk\'s centred rows transposed (d × rows), chunk after chunk, kept panels too', () => {
  for (const [rows, cols, blockBytes] of shapes) {
    const { x, means } = rowsOf(rows, cols, 53);
    const maxRows = Math.max(1, Math.ceil(rows / 2));
    for (let use = 0; use < 2; use++) {
      const panels = CovariancePanels.take(cols, maxRows, means, blockBytes);
      for (let start = 0; start < rows; start += maxRows) {
        const chunk = Math.min(maxRows, rows - start);
        panels.fill(x, start, chunk);
        const expected = Array.from({ length: cols * chunk }, (_, k) => x[(start + (k % chunk)) * cols + Math.floor(k / chunk)] - means[Math.floor(k / chunk)]);
        assert.deepEqual(Array.from(panels.transposed.subarray(0, cols * chunk)), expected, `${rows} × ${cols}, use ${use}, rows ${start}…`);
      }
      CovariancePanels.release(panels);
    }
  }
});

test('a float32 leave-one-out pass in the covariance\'s kept panels (lent as its scratch) gives the fit of one in fresh buffers', async () => {
  const n = 1500;
  const d = 130;
  const random = mulberry32(61);
  const x = Float32Array.from({ length: n * d }, () => 3 + random());
  const y = Float64Array.from({ length: 2 * n }, (_, k) => x[Math.floor(k / 2) * d + (k % 2)] * 2 + random());
  const options = { alphas: DEFAULT_ALPHAS, projectionPrecision: 'float32' as const, chunkRows: 400 };
  // Float32 rows: centred into kernel panels, which the pass then borrows. Float64 rows with the same values: no
  // kernel panels, so fresh buffers; every number on the way is the same.
  const lent = await fitRidgeCV({ x, y, nSamples: n, nFeatures: d, nTargets: 2 }, options);
  const fresh = await fitRidgeCV({ x: Float64Array.from(x), y, nSamples: n, nFeatures: d, nTargets: 2 }, options);
  assert.equal(lent.looPrecision, 'float32');
  assert.deepEqual(Array.from(lent.looMse), Array.from(fresh.looMse));
  assert.deepEqual(Array.from(lent.coef), Array.from(fresh.coef));
  // The scratch that was lent is given back: a second fit on this thread borrows the panels again, same result.
  assert.deepEqual(Array.from((await fitRidgeCV({ x, y, nSamples: n, nFeatures: d, nTargets: 2 }, options)).looMse), Array.from(lent.looMse));
});

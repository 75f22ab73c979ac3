/**
 * Two-target predictions on the WebAssembly kernel (src/core/probes/twoTargetPredictions.ts): the same doubles as
 * the scalar loop (intercept, then x_f·coef_f in feature order), for float32 and float64 rows, row counts that do
 * and do not fill a group of four, rows split over several kernel calls, and through ridge.ts predict.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { predictTwoTargets } from '../../../src/core/probes/twoTargetPredictions';
import { predict } from '../../../src/core/probes/ridge';
import { mulberry32 } from '../../../src/core/probes/split';

function scalarPredictions(coef: Float64Array, intercept: Float64Array, x: ArrayLike<number>, n: number, d: number): Float64Array {
  const out = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 2; c++) {
      let sum = intercept[c];
      for (let f = 0; f < d; f++) sum += x[i * d + f] * coef[f * 2 + c];
      out[i * 2 + c] = sum;
    }
  }
  return out;
}

test('the kernel\'s predictions are the scalar loop\'s doubles: float32 and float64 rows, 1–4 rows per group, several blocks', () => {
  const random = mulberry32(43);
  for (const [n, d, blockBytes] of [[1, 1, undefined], [3, 7, undefined], [4, 16, undefined], [9, 768, undefined], [257, 30, 30 * 4 * 5], [21, 13, 1], [5, 0, undefined]] as const) {
    const coef = Float64Array.from({ length: d * 2 }, () => (random() - 0.5) * 3);
    const intercept = Float64Array.of(random() * 50, -random() * 100);
    const values = Float64Array.from({ length: n * d }, () => (random() - 0.5) * 40);
    for (const x of [Float32Array.from(values), values]) {
      const expected = scalarPredictions(coef, intercept, x, n, d);
      assert.deepEqual(Array.from(predictTwoTargets(coef, intercept, x, n, d, blockBytes)), Array.from(expected), `${x.constructor.name} n ${n} d ${d}`);
      assert.deepEqual(Array.from(predict({ coef, intercept, nFeatures: d, nTargets: 2 }, x, n)), Array.from(expected));
    }
  }
});

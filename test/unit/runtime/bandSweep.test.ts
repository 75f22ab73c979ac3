import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { OrtBandSweep } from '../../../src/core/runtime/bandSweep';
import { mulberry32 } from '../../../src/core/probes/split';

/** The sweep in plain loops: U_k = Mᵀ_k Y_k − P_k U_{k−1} (U_{−1} = 0), h += Σ_w U_k², per alpha. */
function referenceLeverages(y: Float64Array, mt: Float64Array, p: Float64Array, blocks: number, w: number, alphas: number, rows: number): Float64Array {
  const h = new Float64Array(alphas * rows);
  for (let a = 0; a < alphas; a++) {
    let previous = new Float64Array(w * rows);
    for (let k = 0; k < blocks; k++) {
      const u = new Float64Array(w * rows);
      const offset = (k * alphas + a) * w * w;
      for (let i = 0; i < w; i++) for (let j = 0; j < w; j++) for (let r = 0; r < rows; r++) {
        u[i * rows + r] += mt[offset + i * w + j] * y[(k * w + j) * rows + r] - (k > 0 ? p[offset + i * w + j] * previous[j * rows + r] : 0);
      }
      for (let i = 0; i < w; i++) for (let r = 0; r < rows; r++) h[a * rows + r] += u[i * rows + r] ** 2;
      previous = u;
    }
  }
  return h;
}

test('OrtBandSweep: the Scan graph gives the leverages of the block recurrence, float64 and float32; block 0 ignores P', async () => {
  const sweep = new OrtBandSweep(2);
  try {
    for (const [blocks, w, alphas, rows] of [[1, 3, 2, 5], [4, 3, 3, 7], [9, 8, 12, 33]] as const) {
      const random = mulberry32(blocks * 100 + rows);
      const y = Float64Array.from({ length: blocks * w * rows }, () => random() - 0.5);
      const mt = Float64Array.from({ length: blocks * alphas * w * w }, () => random() - 0.5);
      const p = Float64Array.from({ length: blocks * alphas * w * w }, () => 0.3 * (random() - 0.5));
      const expected = referenceLeverages(y, mt, p, blocks, w, alphas, rows);
      // Garbage in block 0's P must not matter (it multiplies U_{−1} = 0).
      const withGarbage = Float64Array.from(p);
      withGarbage.fill(1e6, 0, alphas * w * w);
      const h64 = await sweep.leverages('float64', { y, mTransposed: mt, recurrence: withGarbage, blocks, width: w, alphas, rows });
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(h64[i] - expected[i]) / expected[i]);
      assert.ok(worst < 1e-12, `float64: ${worst}`);
      const out = new Float32Array(alphas * rows);
      const h32 = await sweep.leverages('float32', { y: Float32Array.from(y), mTransposed: Float32Array.from(mt), recurrence: Float32Array.from(p), blocks, width: w, alphas, rows }, out);
      assert.equal(h32, out);
      worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(h32[i] - expected[i]) / expected[i]);
      assert.ok(worst < 1e-4 && worst > 0, `float32: ${worst}`);
    }
    await assert.rejects(sweep.leverages('float64', { y: new Float64Array(5), mTransposed: new Float64Array(4), recurrence: new Float64Array(4), blocks: 1, width: 2, alphas: 1, rows: 2 }),
      /y has 5 values, expected 4/);
  } finally {
    await sweep.dispose();
  }
});

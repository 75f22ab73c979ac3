/**
 * The tridiagonal reduction's symmetric matrix–vector kernel (src/core/probes/reductionKernels.ts): it reads only
 * the lower triangle (the upper one is NaN here) and agrees with a plain product to rounding; and the memory kept
 * from one reduction to the next carries nothing over — reductions after others of other sizes, and two at once on
 * one thread, give exactly the doubles of a reduction in fresh memory.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ReductionMemory, takeReductionMemory, releaseReductionMemory } from '../../../src/core/probes/reductionKernels';
import { tridiagonalize } from '../../../src/core/probes/tridiagonal';
import { onnxProducts } from '../../../src/core/probes/products';
import { mulberry32 } from '../../../src/core/probes/split';

function symmetricMatrix(size: number, seed: number): Float64Array {
  const random = mulberry32(seed);
  const a = new Float64Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j <= i; j++) a[i * size + j] = a[j * size + i] = (random() - 0.5) * (i === j ? 20 : 2);
  return a;
}

test('y = A[f:, f:]·v[f:] from the lower triangle alone, to rounding of the plain product', () => {
  const memory = new ReductionMemory(40, 8);
  for (const [s, f] of [[1, 0], [2, 0], [2, 1], [9, 0], [9, 4], [40, 0], [40, 13], [40, 39], [40, 40], [23, 6]] as const) {
    memory.prepare(40);
    const a = symmetricMatrix(s, s * 100 + f);
    const random = mulberry32(f + 7);
    const v = Float64Array.from({ length: s }, (_, k) => (k < f ? 0 : random() - 0.5));
    const matrix = memory.matrices[1].subarray(0, s * s);
    matrix.set(a);
    for (let i = 0; i < s; i++) for (let j = i + 1; j < s; j++) matrix[i * s + j] = Number.NaN;
    memory.v.set(v);
    const y = memory.lowerSymmetricProduct(matrix, s, f);
    assert.equal(y.length, s - f);
    for (let r = f; r < s; r++) {
      let expected = 0;
      let scale = 0;
      for (let c = f; c < s; c++) {
        expected += a[r * s + c] * v[c];
        scale += Math.abs(a[r * s + c] * v[c]);
      }
      assert.ok(Math.abs(y[r - f] - expected) <= 1e-14 * Math.max(1, scale), `s ${s} f ${f} row ${r}: ${y[r - f]} against ${expected}`);
    }
  }
  assert.throws(() => memory.lowerSymmetricProduct(new Float64Array(4), 2, 0), /not one of this reduction's buffers/);
});

test('the kept memory carries nothing from one reduction to the next, nor between two reductions at once', async () => {
  const products = onnxProducts();
  const sizes = [130, 57, 130, 200, 31];
  // Each size's reference: a reduction in memory of its own, not taken from the kept one.
  const fresh = new Map<number, { diagonal: number[]; offDiagonal: number[]; q: number[] }>();
  for (const size of sizes) {
    // Holding the kept memory makes the reduction take a new one.
    const kept = takeReductionMemory(size, 32);
    assert.notEqual(takeReductionMemory(size, 32), kept, 'memory in use is not handed out again');
    const t = await tridiagonalize(symmetricMatrix(size, size), size, products, { matVec: 'symmetric' });
    releaseReductionMemory(kept);
    fresh.set(size, { diagonal: Array.from(t.diagonal), offDiagonal: Array.from(t.offDiagonal), q: Array.from(t.q) });
  }
  const same = (t: { diagonal: Float64Array; offDiagonal: Float64Array; q: Float64Array }, size: number): void => {
    const expected = fresh.get(size)!;
    assert.deepEqual(Array.from(t.diagonal), expected.diagonal, `size ${size}: diagonal`);
    assert.deepEqual(Array.from(t.offDiagonal), expected.offDiagonal, `size ${size}: off-diagonal`);
    assert.deepEqual(Array.from(t.q), expected.q, `size ${size}: Q`);
  };
  for (const size of sizes) same(await tridiagonalize(symmetricMatrix(size, size), size, products), size);
  const together = await Promise.all(sizes.map((size) => tridiagonalize(symmetricMatrix(size, size), size, products)));
  together.forEach((t, index) => same(t, sizes[index]));
});

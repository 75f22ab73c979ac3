/**
 * The WebAssembly leave-one-out sweeps (src/core/probes/leverageSweeps.ts): the same doubles as the scalar
 * recurrences they replace, for float32 and float64 rows, odd and even row counts, rows split over several kernel
 * calls (wasmKernels.test.ts checks the committed kernel against its source).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { sweepRows } from '../../../src/core/probes/leverageSweeps';
import { mulberry32 } from '../../../src/core/probes/split';

/** The recurrences one row and one alpha at a time, as written in ridge.ts's comment: u_k = p_k − l_k·u_{k−1}, s += u_k·u_k·(1/D_k). */
function scalarSweeps(p: ArrayLike<number>, count: number, size: number, coefficients: Float64Array): Float64Array[] {
  return [0, 1, 2, 3].map((alpha) => Float64Array.from({ length: count }, (_, i) => {
    let u = 0;
    let sum = 0;
    for (let k = 0; k < size; k++) {
      u = p[i * size + k] - coefficients[k * 8 + alpha] * u;
      sum += u * u * coefficients[k * 8 + 4 + alpha];
    }
    return sum;
  }));
}

function coefficientsFor(size: number, random: () => number): Float64Array {
  const coefficients = new Float64Array(size * 8);
  for (let k = 0; k < size; k++) {
    for (let j = 0; j < 4; j++) {
      coefficients[k * 8 + j] = k === 0 ? 0 : (random() - 0.5) * 0.8;
      coefficients[k * 8 + 4 + j] = 1 / (0.1 + random() * 10);
    }
  }
  return coefficients;
}

test('the kernel\'s sums are the scalar recurrences\' doubles: float32 and float64 rows, odd and even counts, several blocks', () => {
  const random = mulberry32(41);
  for (const [count, size, blockBytes] of [[1, 1, undefined], [2, 5, undefined], [7, 37, undefined], [8, 768, undefined], [301, 64, 64 * 4 * 3], [33, 100, 1]] as const) {
    const coefficients = coefficientsFor(size, random);
    const values = Float64Array.from({ length: count * size }, () => (random() - 0.5) * 100);
    for (const p of [Float32Array.from(values), values]) {
      const targets = [0, 1, 2, 3].map(() => new Float64Array(count).fill(Number.NaN)) as [Float64Array, Float64Array, Float64Array, Float64Array];
      sweepRows(p, count, size, coefficients, targets, blockBytes);
      const expected = scalarSweeps(p, count, size, coefficients);
      for (let j = 0; j < 4; j++) assert.deepEqual(Array.from(targets[j]), Array.from(expected[j]), `${p.constructor.name} count ${count} size ${size} alpha ${j}`);
    }
  }
});

test('targets may repeat (fewer than four alphas): every target gets its alpha\'s sums', () => {
  const random = mulberry32(42);
  const size = 9;
  const count = 5;
  const coefficients = coefficientsFor(size, random);
  for (let k = 0; k < size; k++) for (const j of [2, 3]) { coefficients[k * 8 + j] = coefficients[k * 8 + 1]; coefficients[k * 8 + 4 + j] = coefficients[k * 8 + 5]; }
  const p = Float64Array.from({ length: count * size }, () => random());
  const first = new Float64Array(count);
  const last = new Float64Array(count);
  sweepRows(p, count, size, coefficients, [first, last, last, last]);
  const expected = scalarSweeps(p, count, size, coefficients);
  assert.deepEqual(Array.from(first), Array.from(expected[0]));
  assert.deepEqual(Array.from(last), Array.from(expected[1]));
});

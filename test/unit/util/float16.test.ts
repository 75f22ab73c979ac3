import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  decodeFloat16, encodeFloat16, float16BitsToFloat32, float32ToFloat16Bits, roundToFloat16InPlace,
} from '../../../src/core/util/float16';

/** Value of a half bit pattern computed independently from the IEEE formula in float64. */
function halfValue(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * (fraction / 1024) * 2 ** -14;
  if (exponent === 31) return fraction ? Number.NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

test('every float16 bit pattern decodes to its IEEE value and re-encodes to itself', () => {
  for (let bits = 0; bits < 65536; bits += 1) {
    const value = float16BitsToFloat32(bits);
    const expected = halfValue(bits);
    if (Number.isNaN(expected)) {
      assert.ok(Number.isNaN(value));
      assert.ok(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(value))));
      continue;
    }
    assert.equal(value, expected, `bits 0x${bits.toString(16)}`);
    assert.equal(float32ToFloat16Bits(value), bits, `round trip 0x${bits.toString(16)}`);
  }
});

test('float32 → float16 picks the nearest half, ties to even, overflow to Infinity', () => {
  // Brute force: the nearest of all finite halves of the same sign, for random values across the range.
  const positives: number[] = [];
  for (let bits = 0; bits < 0x7c00; bits += 1) positives.push(halfValue(bits));
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let trial = 0; trial < 1000; trial += 1) {
    const value = Math.fround((random() < 0.5 ? -1 : 1) * 2 ** (random() * 44 - 28) * (1 + random()));
    const magnitude = Math.abs(value);
    let best = 0;
    for (let index = 1; index < positives.length; index += 1) {
      const distance = Math.abs(positives[index] - magnitude);
      const bestDistance = Math.abs(positives[best] - magnitude);
      if (distance < bestDistance || (distance === bestDistance && index % 2 === 0)) best = index;
    }
    const got = float32ToFloat16Bits(value);
    if (magnitude >= 65520) {
      assert.equal(got & 0x7fff, 0x7c00, `${value} should overflow`);
      continue;
    }
    assert.equal(got & 0x7fff, best, `${value}`);
    assert.equal(got & 0x8000, value < 0 ? 0x8000 : 0);
  }
  assert.equal(float32ToFloat16Bits(1 + 2 ** -11), 0x3c00, 'tie rounds to even (down)');
  assert.equal(float32ToFloat16Bits(1 + 3 * 2 ** -11), 0x3c02, 'tie rounds to even (up)');
  assert.equal(float32ToFloat16Bits(2 ** -25), 0, 'half of the smallest subnormal ties to zero');
  assert.equal(float32ToFloat16Bits(Math.fround(2 ** -25 * 1.01)), 1);
});

test('array helpers agree with the scalar functions', () => {
  const values = new Float32Array([0, -0.5, 1 / 3, 1e-6, 70000, -3.14159]);
  const bits = encodeFloat16(values);
  assert.deepEqual([...bits], [...values].map(float32ToFloat16Bits));
  const decoded = decodeFloat16(bits);
  const rounded = new Float32Array(values);
  roundToFloat16InPlace(rounded);
  assert.deepEqual([...decoded], [...rounded]);
  assert.equal(rounded[4], Infinity);
});

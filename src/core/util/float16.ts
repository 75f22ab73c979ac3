/**
 * @file IEEE 754 half precision ⇄ single precision, in plain JavaScript (Node 20 has no Float16Array).
 * Used by the activation cache (float16 records), the GloVe converter (float16 embedding table), the checkpoint
 * graph builder (float16 constants) and float16 activation folders (probes/halfMatrix.ts).
 * float32 → float16 rounds to nearest, ties to even, like numpy's `astype(np.float16)`; overflow gives ±Infinity.
 */

const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/** The float16 bit pattern nearest to `value`. */
export function float32ToFloat16Bits(value: number): number {
  scratchFloat[0] = value;
  const bits = scratchBits[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half: value = m · 2⁻²⁴ with m = (2²³ + mantissa) / 2^(14 − halfExponent), rounded.
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    let half = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && (half & 1) === 1)) half += 1;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and reaches Infinity at the top).
  if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1)) half += 1;
  return sign | half;
}

let decodeTable: Float32Array | undefined;

function buildDecodeTable(): Float32Array {
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits += 1) {
    const sign = (bits & 0x8000) !== 0 ? -1 : 1;
    const exponent = (bits >>> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    if (exponent === 0) table[bits] = sign * mantissa * 2 ** -24;
    else if (exponent === 0x1f) table[bits] = mantissa !== 0 ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else table[bits] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return table;
}

/** The value of a float16 bit pattern. */
export function float16BitsToFloat32(bits: number): number {
  decodeTable ??= buildDecodeTable();
  return decodeTable[bits & 0xffff];
}

/** Encode a whole array. */
export function encodeFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let index = 0; index < values.length; index += 1) out[index] = float32ToFloat16Bits(values[index]);
  return out;
}

/** Decode into `out` (allocated when omitted). */
export function decodeFloat16(bits: Uint16Array, out: Float32Array = new Float32Array(bits.length)): Float32Array {
  decodeTable ??= buildDecodeTable();
  const table = decodeTable;
  for (let index = 0; index < bits.length; index += 1) out[index] = table[bits[index]];
  return out;
}

/** Round every value to the nearest float16, in place (what a float16 store followed by a load gives). */
export function roundToFloat16InPlace(values: Float32Array): void {
  decodeTable ??= buildDecodeTable();
  const table = decodeTable;
  for (let index = 0; index < values.length; index += 1) values[index] = table[float32ToFloat16Bits(values[index])];
}

/**
 * @file 16-bit activation matrices (float16 and bfloat16) kept as their raw bits, so a layer of 40,000 × 8,192
 * values takes 655 MB instead of 1.3 GB as float32: the probe converts row chunks into its float64 buffers as it
 * goes (ridge.ts centredRows, predict), never the whole layer at once. Node has no Float16Array; each 16-bit
 * pattern is widened through a 65,536-entry table (exact: every float16 and bfloat16 value is a float32).
 */

export type HalfKind = 'float16' | 'bfloat16';

/** Row-major [rows × cols] matrix of 16-bit floats. */
export class HalfMatrix {
  constructor(readonly kind: HalfKind, readonly bits: Uint16Array) {}

  /** Number of values (as a typed array's length). */
  get length(): number {
    return this.bits.length;
  }

  /** The float32 value of every bit pattern of this kind. */
  get table(): Float32Array {
    return halfTable(this.kind);
  }

  /** Values [start, end) widened to float32 (a fresh array, or `out`). */
  widen(start = 0, end = this.bits.length, out?: Float32Array): Float32Array {
    const table = this.table;
    const target = out ?? new Float32Array(end - start);
    const bits = this.bits;
    for (let index = start; index < end; index++) target[index - start] = table[bits[index]];
    return target;
  }

  /** The given rows (cols values each), copied into a new matrix of the same kind. */
  gatherRows(cols: number, rows: Int32Array): HalfMatrix {
    const out = new Uint16Array(rows.length * cols);
    for (let r = 0; r < rows.length; r++) out.set(this.bits.subarray(rows[r] * cols, (rows[r] + 1) * cols), r * cols);
    return new HalfMatrix(this.kind, out);
  }

  /** Index of the first non-finite value (Inf or NaN), or −1. */
  firstNonFinite(): number {
    const mask = this.kind === 'float16' ? 0x7c00 : 0x7f80;
    const bits = this.bits;
    for (let index = 0; index < bits.length; index++) if ((bits[index] & mask) === mask) return index;
    return -1;
  }
}

const tables: Partial<Record<HalfKind, Float32Array>> = {};

/** float32 value of each of the 65,536 bit patterns of a float16 or bfloat16. */
export function halfTable(kind: HalfKind): Float32Array {
  const cached = tables[kind];
  if (cached !== undefined) return cached;
  const table = new Float32Array(65536);
  if (kind === 'bfloat16') {
    const words = new Uint32Array(table.buffer);
    for (let bits = 0; bits < 65536; bits++) words[bits] = bits << 16;
  } else {
    for (let bits = 0; bits < 65536; bits++) table[bits] = decodeFloat16(bits);
  }
  tables[kind] = table;
  return table;
}

/** IEEE 754 binary16 → number. */
export function decodeFloat16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** number → IEEE 754 binary16 bits, rounding to nearest even (for tests and the synthetic benchmark folder). */
export function encodeFloat16(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let rounded = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    if (rest > half || (rest === half && (rounded & 1))) rounded++;
    return sign | rounded;
  }
  let rounded = mantissa >>> 13;
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (rounded & 1))) {
    rounded++;
    if (rounded === 0x400) { rounded = 0; e++; if (e >= 0x1f) return sign | 0x7c00; }
  }
  return sign | (e << 10) | rounded;
}

/** number → bfloat16 bits, rounding to nearest even. */
export function encodeBfloat16(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0];
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** What the probe engine accepts as a layer: float32/float64 values or 16-bit bits. */
export type LayerValues = Float32Array | Float64Array | HalfMatrix;

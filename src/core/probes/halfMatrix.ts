/**
 * @file 16-bit activation matrices (float16 and bfloat16) kept as their raw bits, so a layer of 40,000 × 8,192
 * values takes 655 MB instead of 1.3 GB as float32: the probe converts row chunks into its float64 buffers as it
 * goes (ridge.ts centredRows, predict), never the whole layer at once. Node has no Float16Array; each 16-bit
 * pattern is widened through a 65,536-entry table (exact: every float16 and bfloat16 value is a float32).
 */
import { float16BitsToFloat32 } from '../util/float16';

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
    for (let bits = 0; bits < 65536; bits++) table[bits] = float16BitsToFloat32(bits);
  }
  tables[kind] = table;
  return table;
}

/** IEEE 754 binary16 → number, and number → binary16 bits (round to nearest even): the shared converters. */
export { float16BitsToFloat32 as decodeFloat16, float32ToFloat16Bits as encodeFloat16 } from '../util/float16';
/** number → bfloat16 bits, rounding to nearest even. */
export function encodeBfloat16(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0];
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** What the probe engine accepts as a layer: float32/float64 values or 16-bit bits. */
export type LayerValues = Float32Array | Float64Array | HalfMatrix;

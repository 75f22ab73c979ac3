/**
 * @file On-disk formats of the activation cache: records (in chunk files) and chunk indexes. Pure byte layout and
 * checksums, no I/O, so the corruption tests can target exact bytes.
 *
 * Record (little-endian), self-describing so a chunk can be re-indexed by scanning it:
 *   0  u32  magic 'STPR'
 *   4  u16  format version (1)
 *   6  u8   dtype (1 = float32, 2 = float16)
 *   7  u8   reserved (0)
 *   8  16B  key = first 16 bytes of SHA-256(prompt text)
 *   24 u32  payload bytes
 *   28 u32  CRC-32 of the payload
 *   32 u32  CRC-32 of bytes 0–31
 *   36 …    payload: numLayers × hiddenSize values, row-major by layer
 *
 * Index (`<chunk>.idx`, written whole to a temporary file and renamed):
 *   0  u32 magic 'STPI', 4 u32 version (1), 8 u32 entry count, 12 u32 reserved, 16 f64 chunk bytes covered
 *   24 entries × 24 bytes: 16B key, u32 offset, u32 record bytes
 *   …  u32 CRC-32 of everything before it
 */
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { decodeFloat16, float32ToFloat16Bits } from './cacheFloat16';

export type CacheDType = 'float32' | 'float16';

export const RECORD_MAGIC = 0x52505453; // 'STPR'
export const INDEX_MAGIC = 0x49505453; // 'STPI'
export const FORMAT_VERSION = 1;
export const RECORD_HEADER_BYTES = 36;
export const KEY_BYTES = 16;
export const INDEX_HEADER_BYTES = 24;
export const INDEX_ENTRY_BYTES = 24;

const DTYPE_CODE: Readonly<Record<CacheDType, number>> = { float32: 1, float16: 2 };

export function bytesPerValue(dtype: CacheDType): number {
  return dtype === 'float32' ? 4 : 2;
}

let crcTable: Int32Array | undefined;

/** CRC-32 (IEEE), zlib's when the runtime has it (Node ≥ 20.15), else a table-driven fallback. */
export function crc32(bytes: Uint8Array): number {
  const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  if (native) return native(bytes) >>> 0;
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n += 1) {
      let c = n;
      for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let crc = -1;
  for (let index = 0; index < bytes.length; index += 1) crc = crcTable[(crc ^ bytes[index]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** The 16-byte record key of a prompt text, as hex (the in-memory index key). */
export function recordKey(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, KEY_BYTES * 2);
}

/**
 * Encode one record. In float16 mode the caller's values are rounded in place to what a later decode returns,
 * so a first run and a cached re-run see identical numbers.
 */
export function encodeRecord(key: string, values: Float32Array, dtype: CacheDType): Buffer {
  const payloadBytes = values.length * bytesPerValue(dtype);
  const record = Buffer.alloc(RECORD_HEADER_BYTES + payloadBytes);
  const payload = record.subarray(RECORD_HEADER_BYTES);
  if (dtype === 'float32') {
    Buffer.from(values.buffer, values.byteOffset, values.byteLength).copy(payload);
  } else {
    const halves = new Uint16Array(values.length);
    for (let index = 0; index < values.length; index += 1) halves[index] = float32ToFloat16Bits(values[index]);
    Buffer.from(halves.buffer).copy(payload);
    decodeFloat16(halves, values);
  }
  record.writeUInt32LE(RECORD_MAGIC, 0);
  record.writeUInt16LE(FORMAT_VERSION, 4);
  record.writeUInt8(DTYPE_CODE[dtype], 6);
  record.writeUInt8(0, 7);
  record.write(key, 8, KEY_BYTES, 'hex');
  record.writeUInt32LE(payloadBytes, 24);
  record.writeUInt32LE(crc32(payload), 28);
  record.writeUInt32LE(crc32(record.subarray(0, 32)), 32);
  return record;
}

export interface RecordHeader {
  readonly key: string;
  readonly dtype: CacheDType;
  readonly payloadBytes: number;
  readonly payloadCrc: number;
}

/** Parse and check a record header; undefined when it is not a valid header (torn write, garbage, other version). */
export function decodeRecordHeader(bytes: Uint8Array): RecordHeader | undefined {
  if (bytes.length < RECORD_HEADER_BYTES) return undefined;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, RECORD_HEADER_BYTES);
  if (view.readUInt32LE(0) !== RECORD_MAGIC || view.readUInt16LE(4) !== FORMAT_VERSION) return undefined;
  if (view.readUInt32LE(32) !== crc32(view.subarray(0, 32))) return undefined;
  const code = view.readUInt8(6);
  const dtype: CacheDType | undefined = code === 1 ? 'float32' : code === 2 ? 'float16' : undefined;
  if (!dtype) return undefined;
  return { key: view.toString('hex', 8, 8 + KEY_BYTES), dtype, payloadBytes: view.readUInt32LE(24), payloadCrc: view.readUInt32LE(28) };
}

export type RecordCheck =
  | { readonly ok: true; readonly values: Float32Array }
  | { readonly ok: false; readonly reason: string };

/** Decode and fully validate a record read from disk against what the index promised. */
export function decodeRecord(bytes: Uint8Array, expectedKey: string, expectedValues: number, dtype: CacheDType): RecordCheck {
  const header = decodeRecordHeader(bytes);
  if (!header) return { ok: false, reason: 'record header is invalid (bad magic, version or checksum)' };
  if (header.key !== expectedKey) return { ok: false, reason: 'record belongs to a different key' };
  if (header.dtype !== dtype) return { ok: false, reason: `record is ${header.dtype}, namespace is ${dtype}` };
  const payloadBytes = expectedValues * bytesPerValue(dtype);
  if (header.payloadBytes !== payloadBytes) return { ok: false, reason: `record holds ${header.payloadBytes} bytes, expected ${payloadBytes}` };
  if (bytes.length < RECORD_HEADER_BYTES + payloadBytes) return { ok: false, reason: 'record is truncated' };
  const payload = bytes.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + payloadBytes);
  if (crc32(payload) !== header.payloadCrc) return { ok: false, reason: 'payload checksum mismatch' };
  const values = new Float32Array(expectedValues);
  if (dtype === 'float32') {
    new Uint8Array(values.buffer).set(payload);
  } else {
    const halves = new Uint16Array(expectedValues);
    new Uint8Array(halves.buffer).set(payload);
    decodeFloat16(halves, values);
  }
  return { ok: true, values };
}

export interface IndexEntry {
  readonly key: string;
  readonly offset: number;
  readonly bytes: number;
}

export function encodeIndex(entries: readonly IndexEntry[], coveredBytes: number): Buffer {
  const buffer = Buffer.alloc(INDEX_HEADER_BYTES + entries.length * INDEX_ENTRY_BYTES + 4);
  buffer.writeUInt32LE(INDEX_MAGIC, 0);
  buffer.writeUInt32LE(FORMAT_VERSION, 4);
  buffer.writeUInt32LE(entries.length, 8);
  buffer.writeUInt32LE(0, 12);
  buffer.writeDoubleLE(coveredBytes, 16);
  entries.forEach((entry, index) => {
    const at = INDEX_HEADER_BYTES + index * INDEX_ENTRY_BYTES;
    buffer.write(entry.key, at, KEY_BYTES, 'hex');
    buffer.writeUInt32LE(entry.offset, at + 16);
    buffer.writeUInt32LE(entry.bytes, at + 20);
  });
  const end = buffer.length - 4;
  buffer.writeUInt32LE(crc32(buffer.subarray(0, end)), end);
  return buffer;
}

/** Parse an index; undefined when damaged (the chunk is then re-scanned). */
export function decodeIndex(buffer: Buffer): { entries: IndexEntry[]; coveredBytes: number } | undefined {
  if (buffer.length < INDEX_HEADER_BYTES + 4) return undefined;
  if (buffer.readUInt32LE(0) !== INDEX_MAGIC || buffer.readUInt32LE(4) !== FORMAT_VERSION) return undefined;
  const count = buffer.readUInt32LE(8);
  if (buffer.length !== INDEX_HEADER_BYTES + count * INDEX_ENTRY_BYTES + 4) return undefined;
  const end = buffer.length - 4;
  if (buffer.readUInt32LE(end) !== crc32(buffer.subarray(0, end))) return undefined;
  const entries: IndexEntry[] = [];
  for (let index = 0; index < count; index += 1) {
    const at = INDEX_HEADER_BYTES + index * INDEX_ENTRY_BYTES;
    entries.push({ key: buffer.toString('hex', at, at + KEY_BYTES), offset: buffer.readUInt32LE(at + 16), bytes: buffer.readUInt32LE(at + 20) });
  }
  return { entries, coveredBytes: buffer.readDoubleLE(16) };
}

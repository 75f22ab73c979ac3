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
import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';
import { decodeFloat16, float32ToFloat16Bits } from '../util/float16';

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

function table(): Int32Array {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n += 1) {
      let c = n;
      for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  return crcTable;
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/**
 * CRC-32 (IEEE) of bytes[start, end). Short ranges (32-byte record headers) in JavaScript — cheaper than a
 * native call per record; long ones with zlib's when the runtime has it (Node ≥ 20.15).
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (nativeCrc32 && end - start > 64) return nativeCrc32(bytes.subarray(start, end)) >>> 0;
  const lookup = table();
  let crc = -1;
  for (let index = start; index < end; index += 1) crc = lookup[(crc ^ bytes[index]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

function hexOf(bytes: Uint8Array, start: number, length: number): string {
  let text = '';
  for (let index = start; index < start + length; index += 1) text += HEX[bytes[index]];
  return text;
}

type OneShotHash = (algorithm: string, data: string, encoding: 'hex') => string;
/** Node ≥ 20.12's one-shot `crypto.hash`: several times faster than createHash for short strings. */
const oneShotHash = (crypto as unknown as { hash?: OneShotHash }).hash;

/** The 16-byte record key of a prompt text (first half of its UTF-8 SHA-256), as hex (the in-memory index key). */
export function recordKey(text: string): string {
  const digest = oneShotHash ? oneShotHash('sha256', text, 'hex') : crypto.createHash('sha256').update(text, 'utf8').digest('hex');
  return digest.slice(0, KEY_BYTES * 2);
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
  record.writeUInt32LE(crc32(record, 0, 32), 32);
  return record;
}

export interface RecordHeader {
  readonly key: string;
  readonly dtype: CacheDType;
  readonly payloadBytes: number;
  readonly payloadCrc: number;
}

/** Parse and check the record header at `at`; undefined when it is not a valid header (torn write, garbage, other version). */
export function decodeRecordHeader(bytes: Uint8Array, at = 0): RecordHeader | undefined {
  if (bytes.length - at < RECORD_HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, RECORD_HEADER_BYTES);
  if (view.getUint32(0, true) !== RECORD_MAGIC || view.getUint16(4, true) !== FORMAT_VERSION) return undefined;
  if (view.getUint32(32, true) !== crc32(bytes, at, at + 32)) return undefined;
  const code = view.getUint8(6);
  const dtype: CacheDType | undefined = code === 1 ? 'float32' : code === 2 ? 'float16' : undefined;
  if (!dtype) return undefined;
  return { key: hexOf(bytes, at + 8, KEY_BYTES), dtype, payloadBytes: view.getUint32(24, true), payloadCrc: view.getUint32(28, true) };
}

export type RecordCheck =
  | { readonly ok: true; readonly values: Float32Array }
  | { readonly ok: false; readonly reason: string };

/**
 * Decode and fully validate the record at `at` against what the index promised. float32 values are returned as a
 * view into `bytes` when it is 4-byte aligned there (no copy: a lookup of 40,000 records allocates one buffer per
 * coalesced read, not one per record); callers that keep a vector long should copy it.
 */
export function decodeRecord(bytes: Uint8Array, expectedKey: string, expectedValues: number, dtype: CacheDType, at = 0): RecordCheck {
  const header = decodeRecordHeader(bytes, at);
  if (!header) return { ok: false, reason: 'record header is invalid (bad magic, version or checksum)' };
  if (header.key !== expectedKey) return { ok: false, reason: 'record belongs to a different key' };
  if (header.dtype !== dtype) return { ok: false, reason: `record is ${header.dtype}, namespace is ${dtype}` };
  const payloadBytes = expectedValues * bytesPerValue(dtype);
  if (header.payloadBytes !== payloadBytes) return { ok: false, reason: `record holds ${header.payloadBytes} bytes, expected ${payloadBytes}` };
  const start = at + RECORD_HEADER_BYTES;
  if (bytes.length < start + payloadBytes) return { ok: false, reason: 'record is truncated' };
  if (crc32(bytes, start, start + payloadBytes) !== header.payloadCrc) return { ok: false, reason: 'payload checksum mismatch' };
  if (dtype === 'float32') {
    const offset = bytes.byteOffset + start;
    if (offset % 4 === 0) return { ok: true, values: new Float32Array(bytes.buffer, offset, expectedValues) };
    const values = new Float32Array(expectedValues);
    new Uint8Array(values.buffer).set(bytes.subarray(start, start + payloadBytes));
    return { ok: true, values };
  }
  const halves = new Uint16Array(expectedValues);
  new Uint8Array(halves.buffer).set(bytes.subarray(start, start + payloadBytes));
  return { ok: true, values: decodeFloat16(halves) };
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
  buffer.writeUInt32LE(crc32(buffer, 0, end), end);
  return buffer;
}

/** Parse an index; undefined when damaged (the chunk is then re-scanned). */
export function decodeIndex(buffer: Buffer): { entries: IndexEntry[]; coveredBytes: number } | undefined {
  if (buffer.length < INDEX_HEADER_BYTES + 4) return undefined;
  if (buffer.readUInt32LE(0) !== INDEX_MAGIC || buffer.readUInt32LE(4) !== FORMAT_VERSION) return undefined;
  const count = buffer.readUInt32LE(8);
  if (buffer.length !== INDEX_HEADER_BYTES + count * INDEX_ENTRY_BYTES + 4) return undefined;
  const end = buffer.length - 4;
  if (buffer.readUInt32LE(end) !== crc32(buffer, 0, end)) return undefined;
  const entries: IndexEntry[] = [];
  for (let index = 0; index < count; index += 1) {
    const at = INDEX_HEADER_BYTES + index * INDEX_ENTRY_BYTES;
    entries.push({ key: buffer.toString('hex', at, at + KEY_BYTES), offset: buffer.readUInt32LE(at + 16), bytes: buffer.readUInt32LE(at + 20) });
  }
  return { entries, coveredBytes: buffer.readDoubleLE(16) };
}

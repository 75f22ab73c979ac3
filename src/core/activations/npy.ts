/**
 * @file NumPy `.npy` files (format versions 1.0–3.0 read, 1.0 written), so activations and probe inputs can be
 * exchanged with NumPy/scikit-learn byte for byte.
 *
 * Layout: magic `\x93NUMPY`, major, minor, header length (uint16 LE in v1, uint32 LE in v2/v3), an ASCII
 * Python-literal dict `{'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }` padded with spaces and a final
 * newline so that the data starts at a multiple of 64 bytes (what NumPy itself writes), then the raw C-order data.
 * Only little-endian numeric dtypes are supported; float16 is widened to float32 on read (Node has no Float16Array).
 */
import * as fs from 'node:fs';
import { writeFileAtomicSync } from '../util/atomicWrite';

export type NpyDtype = 'float16' | 'float32' | 'float64' | 'uint8' | 'uint16' | 'bool' | 'int32';
export type NpyData = Float32Array | Float64Array | Uint8Array | Uint16Array | Int32Array;

export interface NpyArray {
  /** dtype as stored in the file (float16 data is returned widened to a Float32Array). */
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  readonly data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR_TO_DTYPE: Readonly<Record<string, { dtype: NpyDtype; bytes: number }>> = {
  '<f2': { dtype: 'float16', bytes: 2 },
  '<f4': { dtype: 'float32', bytes: 4 },
  '<f8': { dtype: 'float64', bytes: 8 },
  '|u1': { dtype: 'uint8', bytes: 1 },
  '<u1': { dtype: 'uint8', bytes: 1 },
  '|b1': { dtype: 'bool', bytes: 1 },
  '<i4': { dtype: 'int32', bytes: 4 },
  '<u2': { dtype: 'uint16', bytes: 2 },
};

/** An error that names the file and what is wrong with it. */
export class NpyFormatError extends Error {
  constructor(readonly file: string, detail: string) {
    super(`${file}: not a supported .npy file: ${detail}`);
    this.name = 'NpyFormatError';
  }
}

interface ParsedHeader {
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: number[];
  readonly dataOffset: number;
}

function parseHeader(bytes: Uint8Array, file: string): ParsedHeader {
  if (bytes.length < 10 || MAGIC.some((value, index) => bytes[index] !== value)) {
    throw new NpyFormatError(file, 'missing the \\x93NUMPY magic string');
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyFormatError(file, 'truncated header');
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new NpyFormatError(file, `format version ${major}.${bytes[7]} (expected 1.0, 2.0 or 3.0)`);
  }
  const dataOffset = headerStart + headerLength;
  if (bytes.length < dataOffset) throw new NpyFormatError(file, 'truncated header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataOffset));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new NpyFormatError(file, `cannot read the header dict ${JSON.stringify(header.trim())}`);
  }
  const shape = shapeText.split(',').map((part) => part.trim()).filter((part) => part.length > 0).map((part) => {
    const value = Number(part.replace(/L$/, ''));
    if (!Number.isSafeInteger(value) || value < 0) throw new NpyFormatError(file, `bad shape entry ${JSON.stringify(part)}`);
    return value;
  });
  return { descr, fortranOrder: fortran === 'True', shape, dataOffset };
}

function decodeHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Parse the bytes of a `.npy` file. The returned data is a copy (aligned, independent of `bytes`). */
export function parseNpy(bytes: Uint8Array, file = '<buffer>'): NpyArray {
  const header = parseHeader(bytes, file);
  const kind = DESCR_TO_DTYPE[header.descr];
  if (kind === undefined) {
    throw new NpyFormatError(file, `dtype ${header.descr} (supported: ${Object.keys(DESCR_TO_DTYPE).join(', ')}; big-endian is not)`);
  }
  if (header.fortranOrder) throw new NpyFormatError(file, 'fortran_order=True (save with np.ascontiguousarray first)');
  const count = header.shape.reduce((product, size) => product * size, 1);
  const expected = count * kind.bytes;
  const available = bytes.length - header.dataOffset;
  if (available < expected) {
    throw new NpyFormatError(file, `shape (${header.shape.join(', ')}) needs ${expected} data bytes, file has ${available}`);
  }
  // Copy into a fresh buffer: the data offset need not be aligned for the element type.
  // (Buffer#slice would return a view, hence the explicit copy into a new Uint8Array.)
  const raw = new Uint8Array(expected);
  raw.set(bytes.subarray(header.dataOffset, header.dataOffset + expected));
  let data: NpyData;
  switch (kind.dtype) {
    case 'float16': {
      const bits = new Uint16Array(raw.buffer, 0, count);
      const widened = new Float32Array(count);
      for (let index = 0; index < count; index++) widened[index] = decodeHalf(bits[index]);
      data = widened;
      break;
    }
    case 'float32': data = new Float32Array(raw.buffer, 0, count); break;
    case 'float64': data = new Float64Array(raw.buffer, 0, count); break;
    case 'int32': data = new Int32Array(raw.buffer, 0, count); break;
    case 'uint16': data = new Uint16Array(raw.buffer, 0, count); break;
    case 'uint8': case 'bool': data = raw; break;
  }
  return Object.freeze({ dtype: kind.dtype, shape: Object.freeze([...header.shape]), data });
}

/** Descriptors we write: '<f2' holds float16 bits in a Uint16Array, '<u2' uint16 (also bfloat16 bits). */
export type NpyDescr = '<f4' | '<f8' | '<i4' | '|u1' | '<u2' | '<f2';

/**
 * Header and data of a `.npy` file whose descriptor is one of `accepted` (elements of `bytes` bytes each), the data
 * read straight from the file into a fresh aligned buffer: no whole-file Buffer and no second copy (for a
 * 328 MB layer, one fewer 328 MB allocation — page faults — and copy).
 */
function readNpyDirect(file: string, accepted: readonly string[], expected: string, bytes: number, shared = false): { readonly descr: string; readonly shape: readonly number[]; readonly data: ArrayBuffer | SharedArrayBuffer; readonly count: number } {
  const stat = fs.statSync(file);
  if (!stat.isFile()) throw new NpyFormatError(file, 'it is not a regular file (a device, FIFO, socket or folder)');
  const fd = fs.openSync(file, 'r');
  try {
    // The header (at most ~1 MiB even for format 2.0 in practice), then the data straight into the result.
    const head = Buffer.alloc(Math.min(stat.size, 1 << 20));
    fs.readSync(fd, head, 0, head.length, 0);
    const header = parseHeader(head, file);
    if (!accepted.includes(header.descr)) throw new NpyFormatError(file, `dtype ${header.descr}, expected ${expected}`);
    if (header.fortranOrder) throw new NpyFormatError(file, 'fortran_order=True (save with np.ascontiguousarray first)');
    const count = header.shape.reduce((product, size) => product * size, 1);
    if (stat.size - header.dataOffset < count * bytes) {
      throw new NpyFormatError(file, `shape (${header.shape.join(', ')}) needs ${count * bytes} data bytes, file has ${stat.size - header.dataOffset}`);
    }
    const data = shared ? new SharedArrayBuffer(count * bytes) : new ArrayBuffer(count * bytes);
    const target = new Uint8Array(data);
    for (let done = 0; done < target.length;) {
      const read = fs.readSync(fd, target, done, Math.min(target.length - done, 1 << 30), header.dataOffset + done);
      if (read === 0) throw new NpyFormatError(file, 'the file ended early (truncated while reading?)');
      done += read;
    }
    return { descr: header.descr, shape: Object.freeze([...header.shape]), data, count };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A 16-bit `.npy` file ('<f2' float16 or '<u2', which holds bfloat16 bits in our activation folders) as its raw
 * bits, without widening: half the memory of a float32 copy.
 */
export function readNpyBits16(file: string): { readonly descr: '<f2' | '<u2'; readonly shape: readonly number[]; readonly bits: Uint16Array } {
  const array = readNpyDirect(file, ['<f2', '<u2'], "a 16-bit '<f2' or '<u2'", 2);
  return { descr: array.descr as '<f2' | '<u2', shape: array.shape, bits: new Uint16Array(array.data, 0, array.count) };
}

/**
 * A float32 ('<f4') `.npy` file, read straight into its Float32Array (readNpy reads the file whole, then copies);
 * with `shared`, over a SharedArrayBuffer (worker threads can then read it without a copy).
 */
export function readNpyFloat32(file: string, shared = false): { readonly shape: readonly number[]; readonly data: Float32Array } {
  const array = readNpyDirect(file, ['<f4'], "float32 '<f4'", 4, shared);
  return { shape: array.shape, data: new Float32Array(array.data, 0, array.count) };
}

/** Encode 16-bit values with an explicit descriptor ('<f2': the bits are float16; '<u2': uint16 or bfloat16 bits). */
export function encodeNpyBits16(bits: Uint16Array, shape: readonly number[], descr: '<f2' | '<u2'): Uint8Array {
  const count = shape.reduce((product, size) => product * size, 1);
  if (count !== bits.length) throw new Error(`encodeNpyBits16: shape (${shape.join(', ')}) has ${count} elements, data has ${bits.length}`);
  const header = encodeNpyHeader(descr, shape);
  const out = new Uint8Array(header.length + bits.byteLength);
  out.set(header, 0);
  out.set(new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength), header.length);
  return out;
}

/** Read a whole `.npy` file. */
export function readNpy(file: string): NpyArray {
  // Type and size before reading: a device (/dev/zero), FIFO or socket would be read without end.
  const stat = fs.statSync(file);
  if (!stat.isFile()) throw new NpyFormatError(file, 'it is not a regular file (a device, FIFO, socket or folder)');
  return parseNpy(fs.readFileSync(file), file);
}

function descrOf(data: NpyData): NpyDescr {
  if (data instanceof Uint16Array) return '<u2';
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof Int32Array) return '<i4';
  return '|u1';
}

/**
 * The magic, version and header dict of a version 1.0 `.npy` file, padded to 64 bytes like NumPy; the C-order data
 * follows directly. Used alone by writers that stream the data (src/core/activations/npyRowWriter.ts).
 */
export function encodeNpyHeader(descr: NpyDescr, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (header.length > 0xffff) throw new Error('encodeNpy: header too long for format 1.0');
  const out = new Uint8Array(10 + header.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let index = 0; index < header.length; index++) out[10 + index] = header.charCodeAt(index);
  return out;
}

/** Encode a C-order array as a version 1.0 `.npy` file, header padded to 64 bytes like NumPy. */
export function encodeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((product, size) => product * size, 1);
  if (count !== data.length) throw new Error(`encodeNpy: shape (${shape.join(', ')}) has ${count} elements, data has ${data.length}`);
  const header = encodeNpyHeader(descrOf(data), shape);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header, 0);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  return out;
}

/** Write a `.npy` file atomically (temporary file in the same folder, then rename). */
export function writeNpy(file: string, data: NpyData, shape: readonly number[]): void {
  writeFileAtomicSync(file, encodeNpy(data, shape));
}

/**
 * @file Read the tensor directory of a safetensors checkpoint (one file, or shards + model.safetensors.index.json).
 *
 * Format (https://github.com/huggingface/safetensors): u64 little-endian header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}`, then the raw row-major little-endian data;
 * a tensor's bytes sit at absolute offset 8 + N + begin. We never read the data: the graph builder points ONNX
 * external-data initializers at these byte ranges, and onnxruntime maps them. So every claim of the header is
 * checked here — dtype known, shape × dtype size = byte length, ranges inside the file and not overlapping — and a
 * checkpoint that lies is refused with the file and tensor named, before anything is built or written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelLoadError } from '../errors';

/** Element types a safetensors header may name, with their size in bytes. */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
  U16: 2, U32: 4, U64: 8, F8_E4M3: 1, F8_E5M2: 1,
};

/** The floating dtypes a weight may have (what the graph builder can turn into float32/float16). */
export type WeightDType = 'F32' | 'F16' | 'BF16';
export const WEIGHT_DTYPES: ReadonlySet<string> = new Set(['F32', 'F16', 'BF16']);

export interface TensorRef {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** The file as the checkpoint names it (a shard may be a symlink into a Hugging Face cache's blobs/). */
  readonly file: string;
  /** The file's real path (symlinks resolved): what onnxruntime is pointed at. */
  readonly realFile: string;
  /** Absolute byte offset of the data in the file. */
  readonly offset: number;
  readonly length: number;
}

export interface SafetensorsFile {
  readonly file: string;
  readonly realFile: string;
  readonly size: number;
  readonly headerLength: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: readonly TensorRef[];
}

/** The largest header we accept (the format's reference implementation caps it at 100 MB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function fail(file: string, message: string, details: readonly string[] = []): never {
  throw new ModelLoadError(`${file}: ${message}`, details);
}

/** Read and validate one safetensors file's header. */
export function readSafetensorsHeader(file: string): SafetensorsFile {
  let fd: number;
  let size: number;
  let realFile: string;
  try {
    realFile = fs.realpathSync(file);
    const stat = fs.statSync(realFile);
    if (!stat.isFile()) fail(file, 'is not a regular file.');
    size = stat.size;
    fd = fs.openSync(realFile, 'r');
  } catch (error) {
    if (error instanceof ModelLoadError) throw error;
    fail(file, `cannot be read: ${(error as Error).message}`);
  }
  try {
    if (size < 8) fail(file, `is ${size} bytes long, too short for a safetensors header (truncated download?).`);
    const lengthBytes = Buffer.alloc(8);
    fs.readSync(fd, lengthBytes, 0, 8, 0);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > size) {
      fail(file, `claims a ${headerLength}-byte header but the file is ${size} bytes (truncated, or not safetensors).`);
    }
    const headerBytes = Buffer.alloc(headerLength);
    fs.readSync(fd, headerBytes, 0, headerLength, 8);
    let header: unknown;
    try {
      header = JSON.parse(headerBytes.toString('utf8'));
    } catch (error) {
      fail(file, `has a header that is not valid JSON: ${(error as Error).message}`);
    }
    if (header === null || typeof header !== 'object' || Array.isArray(header)) fail(file, 'has a header that is not a JSON object.');
    const dataStart = 8 + headerLength;
    const dataBytes = size - dataStart;
    const tensors: TensorRef[] = [];
    let metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (value !== null && typeof value === 'object') metadata = value as Record<string, string>;
        continue;
      }
      const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
      const where = `tensor ${name}`;
      if (entry === null || typeof entry !== 'object') fail(file, `${where}: header entry is not an object.`);
      const dtype = entry.dtype;
      if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
        fail(file, `${where}: unknown dtype ${JSON.stringify(dtype)}.`, [`Known: ${Object.keys(DTYPE_BYTES).join(', ')}.`]);
      }
      const shape = entry.shape;
      if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
        fail(file, `${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers.`);
      }
      const offsets = entry.data_offsets;
      if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((x) => Number.isSafeInteger(x) && x >= 0) || offsets[1] < offsets[0]) {
        fail(file, `${where}: data_offsets ${JSON.stringify(offsets)} is not [begin, end] with 0 <= begin <= end.`);
      }
      const [begin, end] = offsets as [number, number];
      const expected = (shape as number[]).reduce((product, dim) => product * dim, 1) * DTYPE_BYTES[dtype];
      if (end - begin !== expected) {
        fail(file, `${where}: ${dtype} [${(shape as number[]).join(', ')}] needs ${expected} bytes but data_offsets span ${end - begin}.`);
      }
      if (end > dataBytes) {
        fail(file, `${where}: data_offsets end at ${end} but the file has only ${dataBytes} data bytes (truncated download?).`);
      }
      tensors.push({ name, dtype, shape: shape as number[], file, realFile, offset: dataStart + begin, length: end - begin });
    }
    // Overlapping ranges mean a header that lies (two tensors would share bytes).
    const sorted = [...tensors].filter((tensor) => tensor.length > 0).sort((a, b) => a.offset - b.offset);
    for (let index = 1; index < sorted.length; index++) {
      const previous = sorted[index - 1];
      if (sorted[index].offset < previous.offset + previous.length) {
        fail(file, `tensors ${previous.name} and ${sorted[index].name} overlap in the data section (corrupt header).`);
      }
    }
    return { file, realFile, size, headerLength, metadata, tensors };
  } finally {
    fs.closeSync(fd);
  }
}

/** All tensors of a checkpoint folder, by name. */
export interface CheckpointTensors {
  readonly folder: string;
  /** The safetensors files in the order their tensors are listed. */
  readonly files: readonly SafetensorsFile[];
  readonly tensors: ReadonlyMap<string, TensorRef>;
  /** model.safetensors.index.json, when the checkpoint is sharded. */
  readonly indexFile?: string;
}

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

/** True when the folder holds a safetensors checkpoint (single file or index). */
export function hasSafetensorsCheckpoint(folder: string): boolean {
  return fs.existsSync(path.join(folder, SINGLE_FILE)) || fs.existsSync(path.join(folder, INDEX_FILE));
}

/** Shard names from model.safetensors.index.json's weight_map, checked to stay inside the folder. */
function readIndex(indexFile: string): { shards: string[]; weightMap: Record<string, string> } {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
  } catch (error) {
    fail(indexFile, `cannot be read as JSON: ${(error as Error).message}`);
  }
  const weightMap = (raw as { weight_map?: unknown } | null)?.weight_map;
  if (weightMap === null || typeof weightMap !== 'object' || Array.isArray(weightMap)) fail(indexFile, 'has no weight_map object.');
  const shards: string[] = [];
  for (const [tensor, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard.length === 0 || shard.includes('/') || shard.includes('\\') || shard.includes('\0') || shard === '..' || shard === '.') {
      fail(indexFile, `weight_map names shard ${JSON.stringify(shard)} for ${tensor}; expected a file name in the same folder.`);
    }
    if (!shards.includes(shard)) shards.push(shard);
  }
  return { shards, weightMap: weightMap as Record<string, string> };
}

/** Read a checkpoint folder's tensor directory: model.safetensors, or every shard named by the index. */
export function readCheckpointTensors(folder: string): CheckpointTensors {
  const indexFile = path.join(folder, INDEX_FILE);
  const single = path.join(folder, SINGLE_FILE);
  const tensors = new Map<string, TensorRef>();
  const files: SafetensorsFile[] = [];
  if (fs.existsSync(indexFile)) {
    const { shards, weightMap } = readIndex(indexFile);
    for (const shard of shards) {
      const shardPath = path.join(folder, shard);
      if (!fs.existsSync(shardPath)) fail(indexFile, `names shard ${shard}, which is not in ${folder} (incomplete download?).`);
      const read = readSafetensorsHeader(shardPath);
      files.push(read);
      for (const tensor of read.tensors) {
        const other = tensors.get(tensor.name);
        if (other) fail(shardPath, `tensor ${tensor.name} is also in ${path.basename(other.file)}.`);
        tensors.set(tensor.name, tensor);
      }
    }
    for (const [name, shard] of Object.entries(weightMap)) {
      const tensor = tensors.get(name);
      if (!tensor) fail(indexFile, `maps ${name} to ${shard}, but ${shard} has no such tensor.`);
      if (path.basename(tensor.file) !== shard) fail(indexFile, `maps ${name} to ${shard}, but it is in ${path.basename(tensor.file)}.`);
    }
    return { folder, files, tensors, indexFile };
  }
  if (!fs.existsSync(single)) {
    throw new ModelLoadError(`No safetensors checkpoint in ${folder}.`, [`Looked for ${SINGLE_FILE} and ${INDEX_FILE}.`]);
  }
  const read = readSafetensorsHeader(single);
  for (const tensor of read.tensors) tensors.set(tensor.name, tensor);
  return { folder, files: [read], tensors };
}

/**
 * @file The random-weights control: the same architecture and tokenizer with every learned tensor replaced by
 * seeded noise of the same shape, mean and standard deviation (per tensor). What a probe finds there is what the
 * architecture and the tokenizer alone give away.
 *
 * - ONNX transformers: every float initializer (float32, float16, bfloat16, float64) with at least two elements
 *   and a finite, non-zero spread is redrawn from N(mean, std²) of its own values, seeded by (seed, tensor name);
 *   constant tensors (LayerNorm's ones and zeros), scalars and integer tensors are copied unchanged. The model is
 *   rewritten by splicing raw protobuf fields (as graphRewrite.ts does), so nothing else in the graph changes.
 *   External data (models over 2 GB) is read tensor by tensor from the original file and written to a new
 *   `model.onnx_data` beside the new graph; the copy goes to a temporary folder (graph, config and tokenizer
 *   files), loaded through the normal path, and removed after extraction. Its fingerprint differs, so the
 *   activation cache keeps its vectors apart.
 * - The built-in GloVe model (a mean of word vectors): each token gets a seeded random vector drawn per dimension
 *   from N(mean, std²) of the real table (estimated on the first 20,000 words), and the prompt's vector is their
 *   mean, exactly as the real model averages real vectors.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Reader, Writer } from 'protobufjs/minimal';
import type { PromptInput, ResidualModel, TokenizedPrompt } from '../model/types';
import { GloveModel } from '../model/glove/glove';
import { resolveModelFiles } from '../model/modelFolder';
import { loadTransformerModel } from '../model/onnx/transformerModel';
import { GraphField, ModelField, OnnxDataType, TensorField, longToNumber, parseOnnxModel, scanFields, type ProtoField } from '../model/onnx/onnxGraph';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../util/float16';
import { mulberry32 } from '../probes/split';
import { ExperimentInputError } from './experimentSession';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;
/** TensorProto fields beyond onnxGraph.ts's TensorField. */
const FLOAT_DATA = 4;
const INT32_DATA = 5;
const DOUBLE_DATA = 10;
const DATA_LOCATION_EXTERNAL = 1;
const FLOAT_TYPES = new Set<number>([OnnxDataType.FLOAT, OnnxDataType.FLOAT16, OnnxDataType.DOUBLE, OnnxDataType.BFLOAT16]);
const BYTES_PER_ELEMENT: Readonly<Record<number, number>> = {
  [OnnxDataType.FLOAT]: 4, [OnnxDataType.FLOAT16]: 2, [OnnxDataType.DOUBLE]: 8, [OnnxDataType.BFLOAT16]: 2,
};
/** Tensors at least this large go to the external data file when the model uses one. */
const EXTERNAL_MIN_BYTES = 1024;

/** FNV-1a of a string (a stable per-tensor seed component). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Seeded standard normal draws (Box–Muller on mulberry32). */
export function seededNormals(seed: number): () => number {
  const random = mulberry32(seed);
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const u = 1 - random();
    const v = random();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };
}

function fieldHeader(field: number, length: number): Uint8Array {
  return Writer.create().uint32((field << 3) | WIRE_LENGTH_DELIMITED).uint32(length).finish();
}

function wrapField(field: number, chunks: readonly Uint8Array[]): Uint8Array[] {
  let length = 0;
  for (const chunk of chunks) length += chunk.byteLength;
  return [fieldHeader(field, length), ...chunks];
}

function stringEntry(key: string, value: string): Uint8Array {
  return Writer.create().uint32((1 << 3) | WIRE_LENGTH_DELIMITED).string(key).uint32((2 << 3) | WIRE_LENGTH_DELIMITED).string(value).finish();
}

interface TensorInfo {
  readonly name: string;
  readonly dataType: number;
  readonly count: number;
  readonly fields: readonly ProtoField[];
  readonly external?: { readonly location: string; readonly offset: number; readonly length?: number };
}

function describeTensor(bytes: Uint8Array, field: ProtoField): TensorInfo {
  const fields = scanFields(bytes, field.payloadStart, field.end);
  let name = '';
  let dataType = 0;
  let count = 1;
  const external: Record<string, string> = {};
  const decoder = new TextDecoder();
  for (const inner of fields) {
    const payload = bytes.subarray(inner.payloadStart, inner.end);
    if (inner.field === TensorField.name && inner.wireType === WIRE_LENGTH_DELIMITED) name = decoder.decode(payload);
    else if (inner.field === TensorField.dataType && inner.wireType === WIRE_VARINT) dataType = longToNumber(Reader.create(payload).int64());
    else if (inner.field === TensorField.dims) {
      const reader = Reader.create(payload);
      if (inner.wireType === WIRE_LENGTH_DELIMITED) while (reader.pos < reader.len) count *= longToNumber(reader.int64());
      else count *= longToNumber(reader.int64());
    } else if (inner.field === TensorField.externalData && inner.wireType === WIRE_LENGTH_DELIMITED) {
      const entry = Reader.create(payload);
      let key = '';
      let value = '';
      while (entry.pos < entry.len) {
        const tag = entry.uint32();
        if (tag >>> 3 === 1) key = entry.string();
        else if (tag >>> 3 === 2) value = entry.string();
        else entry.skipType(tag & 7);
      }
      external[key] = value;
    }
  }
  return {
    name, dataType, count, fields,
    ...(external.location !== undefined ? {
      external: { location: external.location, offset: Number(external.offset ?? 0), ...(external.length !== undefined ? { length: Number(external.length) } : {}) },
    } : {}),
  };
}

/** The tensor's data as raw little-endian bytes (raw_data, typed repeated fields, or external data). */
function rawTensorBytes(bytes: Uint8Array, tensor: TensorInfo, sourceDir: string): Uint8Array | undefined {
  if (tensor.external) {
    const file = path.resolve(sourceDir, tensor.external.location);
    if (path.relative(sourceDir, file).startsWith('..')) throw new ExperimentInputError(`external data of ${tensor.name} points outside the model folder`);
    const length = tensor.external.length ?? fs.statSync(file).size - tensor.external.offset;
    const out = Buffer.alloc(length);
    const fd = fs.openSync(file, 'r');
    try {
      fs.readSync(fd, out, 0, length, tensor.external.offset);
    } finally {
      fs.closeSync(fd);
    }
    return out;
  }
  const raw = tensor.fields.find((field) => field.field === TensorField.rawData && field.wireType === WIRE_LENGTH_DELIMITED);
  if (raw) return bytes.slice(raw.payloadStart, raw.end);
  const size = BYTES_PER_ELEMENT[tensor.dataType];
  if (size === undefined) return undefined;
  const out = new DataView(new ArrayBuffer(tensor.count * size));
  let index = 0;
  for (const field of tensor.fields) {
    const payload = bytes.subarray(field.payloadStart, field.end);
    if (field.field === FLOAT_DATA && tensor.dataType === OnnxDataType.FLOAT) {
      const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
      if (field.wireType === WIRE_LENGTH_DELIMITED) for (let offset = 0; offset < payload.byteLength; offset += 4) out.setFloat32(4 * index++, view.getFloat32(offset, true), true);
      else if (field.wireType === WIRE_FIXED32) out.setFloat32(4 * index++, view.getFloat32(0, true), true);
    } else if (field.field === DOUBLE_DATA && tensor.dataType === OnnxDataType.DOUBLE) {
      const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
      if (field.wireType === WIRE_LENGTH_DELIMITED) for (let offset = 0; offset < payload.byteLength; offset += 8) out.setFloat64(8 * index++, view.getFloat64(offset, true), true);
      else if (field.wireType === WIRE_FIXED64) out.setFloat64(8 * index++, view.getFloat64(0, true), true);
    } else if (field.field === INT32_DATA && (tensor.dataType === OnnxDataType.FLOAT16 || tensor.dataType === OnnxDataType.BFLOAT16)) {
      const reader = Reader.create(payload);
      if (field.wireType === WIRE_LENGTH_DELIMITED) while (reader.pos < reader.len) out.setUint16(2 * index++, reader.int32() & 0xffff, true);
      else out.setUint16(2 * index++, reader.int32() & 0xffff, true);
    }
  }
  return index === tensor.count ? new Uint8Array(out.buffer) : undefined;
}

function decodeValues(raw: Uint8Array, dataType: number, count: number): Float64Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float64Array(count);
  for (let index = 0; index < count; index++) {
    switch (dataType) {
      case OnnxDataType.FLOAT: out[index] = view.getFloat32(4 * index, true); break;
      case OnnxDataType.DOUBLE: out[index] = view.getFloat64(8 * index, true); break;
      case OnnxDataType.FLOAT16: out[index] = float16BitsToFloat32(view.getUint16(2 * index, true)); break;
      default: out[index] = new Float32Array(new Uint32Array([view.getUint16(2 * index, true) << 16]).buffer)[0]; break;
    }
  }
  return out;
}

function encodeValues(values: Float64Array, dataType: number): Uint8Array {
  const size = BYTES_PER_ELEMENT[dataType];
  const view = new DataView(new ArrayBuffer(values.length * size));
  const scratch = new Float32Array(1);
  const bits = new Uint32Array(scratch.buffer);
  values.forEach((value, index) => {
    switch (dataType) {
      case OnnxDataType.FLOAT: view.setFloat32(4 * index, value, true); break;
      case OnnxDataType.DOUBLE: view.setFloat64(8 * index, value, true); break;
      case OnnxDataType.FLOAT16: view.setUint16(2 * index, float32ToFloat16Bits(value), true); break;
      default:
        // bfloat16: round the float32 to nearest even on the upper 16 bits.
        scratch[0] = value;
        view.setUint16(2 * index, ((bits[0] + 0x7fff + ((bits[0] >>> 16) & 1)) >>> 16) & 0xffff, true);
        break;
    }
  });
  return new Uint8Array(view.buffer);
}

/** Mean and population standard deviation. */
function moments(values: Float64Array): { mean: number; std: number } {
  let mean = 0;
  for (const value of values) mean += value;
  mean /= values.length;
  let variance = 0;
  for (const value of values) variance += (value - mean) ** 2;
  return { mean, std: Math.sqrt(variance / values.length) };
}

export interface RandomizedOnnx {
  /** The new graph file. */
  readonly modelPath: string;
  /** Float tensors redrawn. */
  readonly randomized: number;
  /** Tensors copied unchanged (constants, scalars, integers). */
  readonly copied: number;
  readonly external: boolean;
}

export interface RandomizeOptions {
  /** Write tensor data to an external file (default: when the source uses one). */
  readonly external?: boolean;
}

/**
 * Write a copy of the ONNX model `sourcePath` with re-randomised float initializers to `targetPath`
 * (see the file comment); external data goes to `<targetPath>_data`.
 */
export function writeRandomizedOnnx(sourcePath: string, targetPath: string, seed: number, options: RandomizeOptions = {}): RandomizedOnnx {
  const bytes = fs.readFileSync(sourcePath);
  const model = parseOnnxModel(bytes);
  const graphField = model.modelFields.find((field) => field.field === ModelField.graph && field.wireType === WIRE_LENGTH_DELIMITED);
  if (!graphField) throw new ExperimentInputError(`${sourcePath}: no graph`);
  const external = options.external ?? model.initializers.some((initializer) => initializer.externalLocation !== undefined);
  const sourceDir = path.dirname(sourcePath);
  fs.mkdirSync(path.dirname(targetPath), { recursive: true });
  const location = `${path.basename(targetPath)}_data`;
  const dataFd = external ? fs.openSync(path.join(path.dirname(targetPath), location), 'w') : undefined;
  let dataOffset = 0;
  let randomized = 0;
  let copied = 0;
  try {
    const graphChunks: Uint8Array[] = [];
    for (const field of model.graphFields) {
      if (field.field !== GraphField.initializer || field.wireType !== WIRE_LENGTH_DELIMITED) {
        graphChunks.push(bytes.subarray(field.start, field.end));
        continue;
      }
      const tensor = describeTensor(bytes, field);
      let raw: Uint8Array | undefined = FLOAT_TYPES.has(tensor.dataType) || tensor.external ? rawTensorBytes(bytes, tensor, sourceDir) : undefined;
      let changed = false;
      if (raw && FLOAT_TYPES.has(tensor.dataType) && tensor.count >= 2) {
        const values = decodeValues(raw, tensor.dataType, tensor.count);
        const { mean, std } = moments(values);
        if (Number.isFinite(mean) && Number.isFinite(std) && std > 0) {
          const normal = seededNormals((seed ^ fnv1a(tensor.name)) >>> 0);
          for (let index = 0; index < values.length; index++) values[index] = mean + std * normal();
          raw = encodeValues(values, tensor.dataType);
          changed = true;
        }
      }
      if (changed) randomized++;
      else copied++;
      if (!changed && !tensor.external) {
        graphChunks.push(bytes.subarray(field.start, field.end));
        continue;
      }
      // Rebuild the TensorProto: every field but the data ones, then the data (inline or external).
      const dropped = new Set<number>([TensorField.rawData, TensorField.externalData, TensorField.dataLocation, FLOAT_DATA, DOUBLE_DATA]);
      if (tensor.dataType === OnnxDataType.FLOAT16 || tensor.dataType === OnnxDataType.BFLOAT16) dropped.add(INT32_DATA);
      const chunks: Uint8Array[] = tensor.fields.filter((inner) => !dropped.has(inner.field)).map((inner) => bytes.subarray(inner.start, inner.end));
      const data = raw ?? new Uint8Array(0);
      if (dataFd !== undefined && data.byteLength >= EXTERNAL_MIN_BYTES) {
        const padding = (64 - (dataOffset % 64)) % 64;
        if (padding > 0) fs.writeSync(dataFd, Buffer.alloc(padding));
        dataOffset += padding;
        fs.writeSync(dataFd, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        for (const [key, value] of [['location', location], ['offset', String(dataOffset)], ['length', String(data.byteLength)]]) {
          chunks.push(...wrapField(TensorField.externalData, [stringEntry(key, value)]));
        }
        chunks.push(Writer.create().uint32((TensorField.dataLocation << 3) | WIRE_VARINT).int32(DATA_LOCATION_EXTERNAL).finish());
        dataOffset += data.byteLength;
      } else {
        chunks.push(...wrapField(TensorField.rawData, [data]));
      }
      graphChunks.push(...wrapField(GraphField.initializer, chunks));
    }
    const out: Uint8Array[] = [];
    for (const field of model.modelFields) {
      if (field === graphField) out.push(...wrapField(ModelField.graph, graphChunks));
      else out.push(bytes.subarray(field.start, field.end));
    }
    fs.writeFileSync(targetPath, Buffer.concat(out.map((chunk) => Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))));
  } finally {
    if (dataFd !== undefined) fs.closeSync(dataFd);
  }
  return { modelPath: targetPath, randomized, copied, external };
}

/** A random-weights model, its description for the output file, and how to clean up after it. */
export interface RandomWeightsModel {
  readonly model: ResidualModel;
  readonly method: string;
  readonly tensors: number;
  /** Dispose the model and remove its temporary files. */
  dispose(): Promise<void>;
}

/**
 * Mean of seeded random vectors per token: the random-weights twin of a bag-of-words model. Token ids, usability
 * and skipping come from the real model's tokenizer.
 */
export class RandomTokenVectorsModel implements ResidualModel {
  readonly id: string;
  readonly architecture: string;
  readonly numLayers = 1;
  readonly hiddenSize: number;
  readonly fingerprint: string;
  readonly device: ResidualModel['device'];

  constructor(private readonly base: ResidualModel, private readonly seed: number, private readonly mean: Float64Array, private readonly std: Float64Array) {
    this.id = `${base.id}#random-vectors-${seed}`;
    this.architecture = `${base.architecture} (random vectors)`;
    this.hiddenSize = base.hiddenSize;
    this.device = { requested: base.device.requested, used: 'cpu', fallbacks: [] };
    const hash = createHash('sha256').update('spacetime-probe-random-token-vectors/1\0').update(base.fingerprint).update(`\0${seed}\0`);
    hash.update(new Uint8Array(mean.buffer, mean.byteOffset, mean.byteLength)).update(new Uint8Array(std.buffer, std.byteOffset, std.byteLength));
    this.fingerprint = hash.digest('hex');
  }

  tokenize(prompts: readonly (string | PromptInput)[]): TokenizedPrompt[] {
    return this.base.tokenize(prompts);
  }

  /** The random vector of token `id` (float32 values, as a real table would hold). */
  tokenVector(id: number): Float32Array {
    const normal = seededNormals((Math.imul(this.seed, 0x9e3779b1) ^ id) >>> 0);
    return Float32Array.from({ length: this.hiddenSize }, (_, f) => this.mean[f] + this.std[f] * normal());
  }

  async runBatch(prompts: readonly TokenizedPrompt[]): Promise<Float32Array> {
    const d = this.hiddenSize;
    const out = new Float32Array(prompts.length * d);
    const sum = new Float64Array(d);
    prompts.forEach((prompt, row) => {
      if (!prompt.usable || prompt.ids.length === 0) throw new Error(`random vectors: prompt ${row} is not usable`);
      sum.fill(0);
      for (const id of prompt.ids) {
        const vector = this.tokenVector(id);
        for (let f = 0; f < d; f++) sum[f] += vector[f];
      }
      for (let f = 0; f < d; f++) out[row * d + f] = sum[f] / prompt.ids.length;
    });
    return out;
  }

  async dispose(): Promise<void> {
    // The base model belongs to the caller.
  }
}

/** Per-dimension mean and std of the first `count` token vectors of a GloVe model (single-token prompts). */
async function gloveTableStats(model: GloveModel, count = 20_000): Promise<{ mean: Float64Array; std: Float64Array }> {
  const d = model.hiddenSize;
  const rows = Math.min(count, model.vocabulary.size);
  const sum = new Float64Array(d);
  const squares = new Float64Array(d);
  for (let start = 0; start < rows; start += 1024) {
    const prompts = Array.from({ length: Math.min(1024, rows - start) }, (_, index) => ({ ids: [start + index], usable: true }));
    const vectors = await model.runBatch(prompts);
    for (let row = 0; row < prompts.length; row++) {
      for (let f = 0; f < d; f++) {
        const value = vectors[row * d + f];
        sum[f] += value;
        squares[f] += value * value;
      }
    }
  }
  const mean = sum.map((value) => value / rows);
  const std = squares.map((value, f) => Math.sqrt(Math.max(0, value / rows - mean[f] * mean[f])));
  return { mean, std };
}

/**
 * The random-weights twin of `model` (see the file comment). `workDir` receives the temporary ONNX copy for
 * transformers; it is removed by `dispose()`.
 */
export async function randomWeightsModel(model: ResidualModel, seed: number, workDir: string, options: { device?: ResidualModel['device']['requested'] } = {}): Promise<RandomWeightsModel> {
  if (model instanceof GloveModel) {
    const { mean, std } = await gloveTableStats(model);
    const twin = new RandomTokenVectorsModel(model, seed, mean, std);
    return {
      model: twin,
      method: `random vector per token, N(mean, std²) per dimension of the first ${Math.min(20_000, model.vocabulary.size)} GloVe vectors, seed ${seed}`,
      tensors: 1,
      dispose: () => twin.dispose(),
    };
  }
  const modelPath = (model as Partial<{ modelPath: string }>).modelPath;
  if (typeof modelPath !== 'string') {
    throw new ExperimentInputError(`the random-weights control needs an ONNX model file or the built-in GloVe model; ${model.id} is neither`);
  }
  const files = resolveModelFiles(modelPath);
  const dir = path.resolve(workDir);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  try {
    for (const file of [files.tokenizerPath, files.tokenizerConfigPath, files.configPath]) {
      if (file) fs.copyFileSync(file, path.join(dir, path.basename(file)));
    }
    const written = writeRandomizedOnnx(modelPath, path.join(dir, 'onnx', 'model.onnx'), seed);
    const twin = await loadTransformerModel(dir, { device: options.device, id: `${model.id}#random-weights-${seed}` });
    return {
      model: twin,
      method: `float initializers redrawn from N(mean, std²) of each tensor, seed ${seed} (${written.randomized} redrawn, ${written.copied} constant or integer tensors kept)`,
      tensors: written.randomized,
      dispose: async () => {
        await twin.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

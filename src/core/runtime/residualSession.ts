/**
 * @file Run a tap-rewritten model (see src/core/model/onnx/graphRewrite.ts) on one right-padded batch.
 *
 * The model layer decides what each graph input means (a FeedSpec per input); this module only turns a padded
 * batch into onnxruntime tensors and reads back the single float32 output. It is the one place, besides ort.ts,
 * that touches onnxruntime-node.
 */
import * as os from 'node:os';
import { createSession, ort, type SessionOptions } from './ort';
import type { DeviceInfo } from '../model/types';

export type IntegerDType = 'int64' | 'int32';
/** Element types onnxruntime-node's JS API can create for the empty KV-cache tensors we feed (it has no bfloat16). */
export type PastDType = 'float32' | 'float16' | 'float64';

/** What to feed into one graph input. */
export type FeedSpec =
  /** Token ids [B, T], right-padded. */
  | { readonly name: string; readonly role: 'input_ids'; readonly dtype: IntegerDType }
  /** 1 for real tokens, 0 for padding [B, T]. */
  | { readonly name: string; readonly role: 'attention_mask'; readonly dtype: IntegerDType | 'float32' | 'bool' }
  /** 0…T-1 per row [B, T]. */
  | { readonly name: string; readonly role: 'position_ids'; readonly dtype: IntegerDType }
  /** 0…T-1 [T]. */
  | { readonly name: string; readonly role: 'cache_position'; readonly dtype: IntegerDType }
  /** Zeros [B, T]. */
  | { readonly name: string; readonly role: 'token_type_ids'; readonly dtype: IntegerDType }
  /** Each row's position to read, PaddedBatch.readIndex [B, 1] (input of the added GatherND). */
  | { readonly name: string; readonly role: 'last_index' }
  /** A zero-length KV-cache tensor; 'batch' is replaced by B, one dim is 0. */
  | { readonly name: string; readonly role: 'empty_past'; readonly dtype: PastDType; readonly dims: readonly (number | 'batch')[] }
  /** A scalar/[1] boolean input of merged decoders, fed false (no cache). */
  | { readonly name: string; readonly role: 'use_cache_branch' };

/** Token ids of one batch, right-padded: row b holds lengths[b] real tokens, then padding. */
export interface PaddedBatch {
  readonly batchSize: number;
  readonly seqLength: number;
  /** Row-major [batchSize, seqLength]. */
  readonly ids: Int32Array;
  readonly lengths: Int32Array;
  /**
   * Per row, the position whose residual stream is read (0 ≤ readIndex[b] < lengths[b]): the entity's last token
   * or the prompt's last token (TokenizedPrompt.readIndex). Fed as `last_index`.
   */
  readonly readIndex: Int32Array;
}

export interface ResidualRunResult {
  /** Row-major [batchSize, width] float32. */
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface ResidualSessionOptions extends SessionOptions {
  readonly feeds: readonly FeedSpec[];
  readonly outputName: string;
}

type OrtTensor = InstanceType<typeof ort.Tensor>;

export class ResidualSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly feeds: readonly FeedSpec[],
    private readonly outputName: string,
    readonly device: DeviceInfo,
  ) {}

  /** Create the session from a path (needed for external data) or bytes. */
  static async create(model: string | Uint8Array, options: ResidualSessionOptions): Promise<ResidualSession> {
    const { session, device } = await createSession(model, options);
    const declared = new Set(session.inputNames);
    const fed = new Set(options.feeds.map((feed) => feed.name));
    const unfed = [...declared].filter((name) => !fed.has(name));
    if (unfed.length > 0) {
      await session.release();
      throw new Error(`model inputs without a feed: ${unfed.join(', ')}`);
    }
    if (!session.outputNames.includes(options.outputName)) {
      await session.release();
      throw new Error(`model has no output ${options.outputName} (outputs: ${session.outputNames.join(', ')})`);
    }
    return new ResidualSession(session, options.feeds.filter((feed) => declared.has(feed.name)), options.outputName, device);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  async run(batch: PaddedBatch): Promise<ResidualRunResult> {
    const feeds: Record<string, OrtTensor> = {};
    for (const spec of this.feeds) feeds[spec.name] = buildTensor(spec, batch);
    // Pre-allocated outputs (fetches { name: tensor }) were tried: onnxruntime-node 1.30 fills the given buffer
    // but still returns a freshly allocated copy, and CPU timings did not change (docs/gpu.md).
    const results = await this.session.run(feeds, [this.outputName]);
    const output = results[this.outputName] as OrtTensor;
    if (output.type !== 'float32') throw new Error(`output ${this.outputName} is ${output.type}, expected float32`);
    return { data: output.data as Float32Array, dims: output.dims };
  }

  /** Write onnxruntime's profile (sessions created with enableProfiling). */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

const LITTLE_ENDIAN = os.endianness() === 'LE';

function integerTensor(dtype: IntegerDType, values: ArrayLike<number>, dims: readonly number[]): OrtTensor {
  if (dtype === 'int32') return new ort.Tensor('int32', Int32Array.from(values), dims);
  const data = new BigInt64Array(values.length);
  if (LITTLE_ENDIAN) {
    // Write each int64 as two 32-bit words (low, sign): ~4× faster than a BigInt per element, which matters for
    // GPU-sized batches (16k tokens: 0.2 vs 0.75 ms per tensor). Values are token ids, masks and positions (int32).
    const words = new Int32Array(data.buffer);
    for (let index = 0; index < values.length; index++) {
      const value = values[index];
      words[2 * index] = value;
      words[2 * index + 1] = value < 0 ? -1 : 0;
    }
  } else {
    for (let index = 0; index < values.length; index++) data[index] = BigInt(values[index]);
  }
  return new ort.Tensor('int64', data, dims);
}

function buildTensor(spec: FeedSpec, batch: PaddedBatch): OrtTensor {
  const { batchSize: B, seqLength: T } = batch;
  switch (spec.role) {
    case 'input_ids':
      return integerTensor(spec.dtype, batch.ids, [B, T]);
    case 'attention_mask': {
      const mask = new Uint8Array(B * T);
      for (let row = 0; row < B; row++) mask.fill(1, row * T, row * T + batch.lengths[row]);
      if (spec.dtype === 'bool') return new ort.Tensor('bool', mask, [B, T]);
      if (spec.dtype === 'float32') return new ort.Tensor('float32', Float32Array.from(mask), [B, T]);
      return integerTensor(spec.dtype, mask, [B, T]);
    }
    case 'position_ids': {
      const positions = new Int32Array(B * T);
      for (let row = 0; row < B; row++) for (let t = 0; t < T; t++) positions[row * T + t] = t;
      return integerTensor(spec.dtype, positions, [B, T]);
    }
    case 'cache_position':
      return integerTensor(spec.dtype, Int32Array.from({ length: T }, (_, t) => t), [T]);
    case 'token_type_ids':
      return integerTensor(spec.dtype, new Int32Array(B * T), [B, T]);
    case 'last_index':
      return integerTensor('int64', batch.readIndex, [B, 1]);
    case 'empty_past': {
      const dims = spec.dims.map((dim) => (dim === 'batch' ? B : dim));
      switch (spec.dtype) {
        case 'float32': return new ort.Tensor('float32', new Float32Array(0), dims);
        case 'float64': return new ort.Tensor('float64', new Float64Array(0), dims);
        case 'float16': return new ort.Tensor('float16', new Uint16Array(0), dims);
      }
      break;
    }
    case 'use_cache_branch':
      return new ort.Tensor('bool', new Uint8Array([0]), [1]);
  }
  throw new Error(`cannot build input ${(spec as FeedSpec).name}`);
}

/**
 * @file How many prompts (and padded tokens) go into one model run, per device.
 *
 * CPU: throughput is flat from batch 8 to 32 and no better at 128 (docs/models.md, BENCHMARKS.md), so 32 prompts,
 * capped at 4,096 padded tokens so that long prompts on large models keep intermediate tensors to a few hundred MB.
 *
 * GPU (webgpu, cuda): throughput keeps growing with the batch (measured with onnxruntime-node WebGPU on an H200,
 * GPT-2-small shape, 16 tokens: 41,700 tokens/s at 64 prompts, 63,400 at 512, 57,900 at 1,024), so batches are
 * as large as a memory budget allows. onnxruntime-node cannot report free GPU memory, so the budget is a fixed
 * `gpuMemoryBudgetBytes` (default 2 GiB on top of the weights) and the per-token cost is estimated from the model's
 * size: 4 bytes × hiddenSize × numLayers × 4. That is one float32 residual vector per layer kept alive (the taps)
 * plus three more for the widest intermediates (MLP 4·d, QKV 3·d, attention output), an upper bound because the
 * runtime reuses buffers between layers. GPT-2 small (13 taps × 768) → 160 KB per token → 13,400 tokens per batch;
 * a 7B Llama (33 × 4,096) → 2.2 MB → 970 tokens.
 */
import type { DeviceName } from '../model/types';

export interface BatchSizingInput {
  readonly device: DeviceName;
  /** Residual taps per prompt (L + 1). */
  readonly numLayers: number;
  readonly hiddenSize: number;
  /** Prompts per batch the user asked for; undefined = choose. */
  readonly batchSize?: number;
  /** Padded tokens per batch the user asked for; undefined = choose. */
  readonly maxBatchTokens?: number;
  /** GPU devices: memory the intermediate tensors of one batch may take (default 2 GiB). */
  readonly gpuMemoryBudgetBytes?: number;
}

export interface BatchSizing {
  readonly batchSize: number;
  /** Upper bound on prompts × padded length of one batch (a batch of long prompts is cut to fit). */
  readonly maxBatchTokens: number;
  /** One line for logs: what was chosen and why. */
  readonly reason: string;
}

export const CPU_BATCH_SIZE = 32;
export const CPU_MAX_BATCH_TOKENS = 4096;
export const GPU_MAX_BATCH_SIZE = 1024;
export const DEFAULT_GPU_MEMORY_BUDGET_BYTES = 2 * 1024 ** 3;
/** Estimated live float32 vectors per token and tap: the tap itself plus the widest intermediates. */
const GPU_VECTORS_PER_TAP = 4;

/** Estimated bytes of intermediate tensors per token of a batch on a GPU (see the file comment). */
export function gpuBytesPerToken(numLayers: number, hiddenSize: number): number {
  return 4 * hiddenSize * numLayers * GPU_VECTORS_PER_TAP;
}

/** Choose the batch size and the padded-token cap for a device and model; the user's values win. */
export function chooseBatchSizing(input: BatchSizingInput): BatchSizing {
  const { device, numLayers, hiddenSize } = input;
  for (const [name, value] of [['batch size', input.batchSize], ['max batch tokens', input.maxBatchTokens]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  if (device === 'cpu') {
    const batchSize = input.batchSize ?? CPU_BATCH_SIZE;
    const maxBatchTokens = input.maxBatchTokens ?? Math.max(CPU_MAX_BATCH_TOKENS, batchSize);
    return {
      batchSize, maxBatchTokens,
      reason: `cpu: ${batchSize} prompts per batch${input.batchSize === undefined ? ' (default; larger batches are no faster on CPU)' : ''}, ` +
        `at most ${maxBatchTokens} padded tokens`,
    };
  }
  const budget = input.gpuMemoryBudgetBytes ?? DEFAULT_GPU_MEMORY_BUDGET_BYTES;
  const perToken = gpuBytesPerToken(numLayers, hiddenSize);
  const fromBudget = Math.max(1, Math.floor(budget / perToken));
  const maxBatchTokens = input.maxBatchTokens ?? fromBudget;
  const batchSize = input.batchSize ?? Math.max(1, Math.min(GPU_MAX_BATCH_SIZE, maxBatchTokens));
  const budgetNote = input.maxBatchTokens === undefined
    ? ` (${(budget / 1024 ** 3).toFixed(1)} GiB budget / ${(perToken / 1024).toFixed(0)} KiB per token for ${numLayers} × ${hiddenSize})`
    : '';
  return {
    batchSize, maxBatchTokens,
    reason: `${device}: up to ${batchSize} prompts per batch, at most ${maxBatchTokens} padded tokens${budgetNote}`,
  };
}

/** What one batch's intermediate tensors are estimated from. */
export interface BatchMemoryShape {
  readonly batch: number;
  /** Padded length (the longest prompt of the batch). */
  readonly seqLength: number;
  readonly numLayers: number;
  readonly hiddenSize: number;
  /** Attention heads; when unknown, hiddenSize / 64 (the smallest common head size: the most heads, an upper bound). */
  readonly numAttentionHeads?: number;
}

/** Bytes per value of the estimate: float32, what the graphs compute in (an upper bound for float16 ones). */
const ESTIMATE_VALUE_BYTES = 4;
/** Residual-sized vectors alive per token inside one block: residual, normed input, Q/K/V, attention output, MLP (4·d). */
const ESTIMATE_VECTORS_PER_TOKEN = 10;

/**
 * Estimated peak bytes of one model run's intermediate tensors. Quadratic in the prompt length: a block's
 * attention scores and their softmax (batch × heads × seq² each) are alive together, plus about ten residual-sized
 * vectors per token (batch × seq × hidden) inside the block; the runtime frees a block's tensors before the next,
 * so one block counts, plus the gathered taps (batch × numLayers × hidden). A 2,048-token prompt on a 32-head,
 * 4,096-wide model: 1.4 GB; GPT-2 small at 16 tokens: 0.6 MB.
 */
export function estimateBatchBytes(shape: BatchMemoryShape): number {
  const { batch, seqLength, numLayers, hiddenSize } = shape;
  const heads = shape.numAttentionHeads ?? Math.max(1, Math.ceil(hiddenSize / 64));
  const attention = 2 * batch * heads * seqLength * seqLength;
  const activations = ESTIMATE_VECTORS_PER_TOKEN * batch * seqLength * hiddenSize;
  const taps = batch * numLayers * hiddenSize;
  return ESTIMATE_VALUE_BYTES * (attention + activations + taps);
}

/** Default budget for one batch's intermediates on the CPU: half the memory free at the start (at least 256 MiB). */
export function defaultCpuBatchMemoryBudget(freeBytes: number): number {
  return Math.max(256 * 1024 ** 2, Math.floor(freeBytes / 2));
}

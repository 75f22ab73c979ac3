/**
 * Batch sizing per device: CPU keeps the measured sweet spot, GPUs size batches from a memory budget and the
 * model's size, the user's values always win.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  CPU_BATCH_SIZE, CPU_MAX_BATCH_TOKENS, DEFAULT_GPU_MEMORY_BUDGET_BYTES, GPU_MAX_BATCH_SIZE, chooseBatchSizing, gpuBytesPerToken,
} from '../../../src/core/runtime/batchSizing';

test('cpu: 32 prompts, 4096 padded tokens, unless the user says otherwise', () => {
  const auto = chooseBatchSizing({ device: 'cpu', numLayers: 13, hiddenSize: 768 });
  assert.equal(auto.batchSize, CPU_BATCH_SIZE);
  assert.equal(auto.maxBatchTokens, CPU_MAX_BATCH_TOKENS);
  assert.match(auto.reason, /^cpu: 32 prompts per batch \(default/);
  const explicit = chooseBatchSizing({ device: 'cpu', numLayers: 13, hiddenSize: 768, batchSize: 8, maxBatchTokens: 100 });
  assert.deepEqual([explicit.batchSize, explicit.maxBatchTokens], [8, 100]);
  // A batch larger than the default token cap keeps room for at least one token per prompt.
  assert.equal(chooseBatchSizing({ device: 'cpu', numLayers: 2, hiddenSize: 4, batchSize: 5000 }).maxBatchTokens, 5000);
});

test('gpu: tokens per batch = budget / (4 bytes × hidden × layers × 4), batch up to 1024 prompts', () => {
  assert.equal(gpuBytesPerToken(13, 768), 4 * 768 * 13 * 4);
  const gpt2 = chooseBatchSizing({ device: 'webgpu', numLayers: 13, hiddenSize: 768 });
  assert.equal(gpt2.maxBatchTokens, Math.floor(DEFAULT_GPU_MEMORY_BUDGET_BYTES / (4 * 768 * 13 * 4)));
  assert.equal(gpt2.maxBatchTokens, 13443);
  assert.equal(gpt2.batchSize, GPU_MAX_BATCH_SIZE);
  assert.match(gpt2.reason, /^webgpu: up to 1024 prompts per batch, at most 13443 padded tokens \(2\.0 GiB budget/);
  const llama7b = chooseBatchSizing({ device: 'cuda', numLayers: 33, hiddenSize: 4096 });
  assert.equal(llama7b.maxBatchTokens, 992);
  assert.equal(llama7b.batchSize, 992);
  const halfBudget = chooseBatchSizing({ device: 'cuda', numLayers: 33, hiddenSize: 4096, gpuMemoryBudgetBytes: DEFAULT_GPU_MEMORY_BUDGET_BYTES / 2 });
  assert.equal(halfBudget.maxBatchTokens, 496);
  // A model too large for even one token per budget still runs one prompt at a time.
  assert.deepEqual(
    (({ batchSize, maxBatchTokens }) => [batchSize, maxBatchTokens])(chooseBatchSizing({ device: 'webgpu', numLayers: 100, hiddenSize: 100000, gpuMemoryBudgetBytes: 1 })),
    [1, 1]);
});

test('gpu: explicit batch size and token cap win over the budget', () => {
  const sizing = chooseBatchSizing({ device: 'webgpu', numLayers: 13, hiddenSize: 768, batchSize: 64, maxBatchTokens: 1024 });
  assert.deepEqual([sizing.batchSize, sizing.maxBatchTokens], [64, 1024]);
  assert.doesNotMatch(sizing.reason, /budget/);
});

test('non-integer or non-positive sizes are refused', () => {
  assert.throws(() => chooseBatchSizing({ device: 'cpu', numLayers: 1, hiddenSize: 1, batchSize: 0 }), /batch size must be a positive integer/);
  assert.throws(() => chooseBatchSizing({ device: 'webgpu', numLayers: 1, hiddenSize: 1, maxBatchTokens: 2.5 }), /max batch tokens/);
});

/**
 * GPU-shaped batching gives the same numbers as CPU-shaped batching (run here on the CPU provider): the layer files
 * of an extraction with one prompt per batch, the CPU default, a token-capped plan and the plan a GPU would use for
 * this model agree, and agree with the PyTorch reference.
 */
import { describe, test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractActivations } from '../../../src/core/activations/extract';
import { readActivationLayer, readActivationManifest } from '../../../src/core/activations/manifest';
import { loadTransformerModel, type TransformerModel } from '../../../src/core/model/onnx/transformerModel';
import { chooseBatchSizing } from '../../../src/core/runtime/batchSizing';
import { maxDeviation, readReference, onnxModelDir } from '../../helpers/modelFixtures';

/** Prompts of 1 to 12 words so batches mix lengths (right padding) and a token cap cuts them. */
function prompts(count: number): { text: string; row: number }[] {
  const words = ['Paris', 'the', 'river', 'Tokyo', 'old', 'bridge', 'of', 'New', 'York', 'castle', 'lake', 'north'];
  return Array.from({ length: count }, (_, k) => ({
    text: Array.from({ length: 1 + ((k * 5) % 12) }, (_, w) => words[(k + w * 7) % words.length]).join(' '),
    row: k + 2,
  }));
}

describe('batch plans give identical activations (gpt2-tiny, CPU provider)', () => {
  let model: TransformerModel;
  let dir: string;
  const input = prompts(70);

  before(async () => {
    model = await loadTransformerModel(onnxModelDir('gpt2-tiny'), { device: 'cpu' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'device-batching-'));
  });
  after(async () => {
    await model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function extract(name: string, options: { batchSize?: number; maxBatchTokens?: number }) {
    const result = await extractActivations(model, input, { outDir: path.join(dir, name), model: 'gpt2-tiny', prompt: '{entity}', dataset: 'test', ...options });
    const manifest = readActivationManifest(result.outDir);
    const layers = Array.from({ length: model.numLayers }, (_, layer) => readActivationLayer(result.outDir, manifest, layer));
    return { result, layers };
  }

  test('one prompt per batch, CPU default, token cap and the GPU plan agree within 1e-5', async () => {
    const gpu = chooseBatchSizing({ device: 'webgpu', numLayers: model.numLayers, hiddenSize: model.hiddenSize });
    const single = await extract('single', { batchSize: 1 });
    const cpuDefault = await extract('cpu-default', {});
    const capped = await extract('capped', { batchSize: 64, maxBatchTokens: 20 });
    const gpuPlan = await extract('gpu-plan', { batchSize: gpu.batchSize, maxBatchTokens: gpu.maxBatchTokens });

    assert.equal(single.result.batches, input.length);
    assert.equal(cpuDefault.result.batching.batchSize, 32);
    assert.equal(cpuDefault.result.batches, Math.ceil(input.length / 32));
    assert.ok(capped.result.batches > Math.ceil(input.length / 64), 'the token cap should split batches');
    assert.ok(capped.result.paddedTokens <= single.result.paddedTokens * 2);
    assert.equal(gpuPlan.result.batches, 1, 'the GPU plan puts all 70 short prompts in one batch');

    for (const other of [cpuDefault, capped, gpuPlan]) {
      for (let layer = 0; layer < model.numLayers; layer++) {
        const a = single.layers[layer];
        const b = other.layers[layer];
        assert.equal(a.length, b.length);
        let worst = 0;
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
        assert.ok(worst <= 1e-5, `layer ${layer}: max |Δ| ${worst}`);
      }
    }
  });

  test('the large GPU-plan batch matches the PyTorch reference prompts', async () => {
    const reference = readReference(onnxModelDir('gpt2-tiny'));
    const gpu = chooseBatchSizing({ device: 'webgpu', numLayers: model.numLayers, hiddenSize: model.hiddenSize });
    // Repeat the reference prompts to fill a batch much larger than the CPU default.
    const repeats = Math.ceil(100 / reference.prompts.length);
    const expected = Array.from({ length: repeats }, () => reference.prompts).flat();
    const batch = expected.map((prompt) => ({ ids: [...prompt.ids], usable: true }));
    assert.ok(batch.length <= gpu.batchSize);
    const output = await model.runBatch(batch);
    assert.ok(maxDeviation(output, reference, expected) <= 1e-4, `max |ORT − torch| ${maxDeviation(output, reference, expected)}`);
  });
});

/**
 * The activation cache plugged into the extraction engine with a real model (the gpt2-tiny fixture through
 * onnxruntime-node): a re-run after editing one row runs exactly that entity through the model, and the layer
 * files it writes are identical to a cold run's.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ActivationCache } from '../../../src/core/activations/cache';
import { extractActivations, renderPrompt, type ExtractionPrompt } from '../../../src/core/activations/extract';
import { readActivationLayer, readActivationManifest } from '../../../src/core/activations/manifest';
import { loadModel } from '../../../src/core/model/loadModel';
import { promptText, type ResidualModel, type TokenizedPrompt } from '../../../src/core/model/types';
import { onnxModelDir } from '../../helpers/modelFixtures';

const GPT2 = onnxModelDir('gpt2-tiny');

/** Wraps a model and records every prompt that reaches runBatch, and every text it is asked to tokenize. */
function counting(model: ResidualModel): { model: ResidualModel; seen: number[][]; tokenized: string[] } {
  const seen: number[][] = [];
  const tokenized: string[] = [];
  const wrapper: ResidualModel = {
    id: model.id, architecture: model.architecture, numLayers: model.numLayers, hiddenSize: model.hiddenSize,
    fingerprint: model.fingerprint, device: model.device,
    tokenize: (texts) => {
      tokenized.push(...texts.map(promptText));
      return model.tokenize(texts);
    },
    runBatch: (prompts: readonly TokenizedPrompt[]) => {
      seen.push(...prompts.map((prompt) => [...prompt.ids]));
      return model.runBatch(prompts);
    },
    dispose: () => model.dispose(),
  };
  return { model: wrapper, seen, tokenized };
}

test('extractActivations + cache: editing one row re-extracts exactly one entity; outputs equal a cold run', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cache-extract-'));
  const base = await loadModel(GPT2, { device: 'cpu' });
  try {
    const template = 'The city of {entity}';
    const names = Array.from({ length: 300 }, (_, index) => `Place ${index} ${'abcdefghij'[index % 10]}ville`);
    const prompts = (list: string[]): ExtractionPrompt[] => list.map((name, index) => ({ text: renderPrompt(template, name), row: index + 2 }));
    const cache = new ActivationCache({ dir: path.join(dir, 'cache') });
    const key = { fingerprint: base.fingerprint, template, numLayers: base.numLayers, hiddenSize: base.hiddenSize, modelId: base.id };
    const common = { model: GPT2, prompt: template, dataset: 'test.csv', batchSize: 16 };

    const first = counting(base);
    const namespace = await cache.namespace(key);
    const cold = await extractActivations(first.model, prompts(names), { ...common, outDir: path.join(dir, 'cold'), cache: namespace });
    await namespace.close();
    assert.equal(cold.cacheHits, 0);
    assert.equal(first.seen.length, 300);

    const edited = [...names];
    edited[123] = 'Somewhere else entirely';
    const second = counting(base);
    const again = await cache.namespace(key);
    const warm = await extractActivations(second.model, prompts(edited), { ...common, outDir: path.join(dir, 'warm'), cache: again });
    await again.close();
    assert.equal(warm.cacheHits, 299);
    assert.equal(second.seen.length, 1, 'exactly one entity through the model');
    assert.deepEqual(second.seen[0], base.tokenize([renderPrompt(template, edited[123])])[0].ids);
    assert.deepEqual(second.tokenized, [renderPrompt(template, edited[123])], 'only the prompt the cache lacks is tokenized');

    // Records that vanish after the namespace was opened (another process cleared the cache): the prompts the
    // index still lists are tokenized on demand and recomputed, never written as zeros.
    const third = counting(base);
    const stale = await cache.namespace(key);
    const namespaceDir = fs.readdirSync(path.join(dir, 'cache'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.chunk'));
    assert.ok(namespaceDir.length > 0, 'the cache wrote chunk files');
    for (const entry of namespaceDir) fs.rmSync(path.join(entry.parentPath, entry.name));
    const recomputed = await extractActivations(third.model, prompts(edited), { ...common, outDir: path.join(dir, 'recomputed'), cache: stale });
    await stale.close();
    assert.equal(recomputed.cacheHits, 0);
    assert.equal(third.seen.length, 300);

    // The warm run's files equal a cache-less run on the edited dataset (up to float rounding that batch
    // composition may cause in the matrix kernels).
    const reference = await extractActivations(base, prompts(edited), { ...common, outDir: path.join(dir, 'reference') });
    const manifest = readActivationManifest(reference.outDir);
    for (const outDir of [warm.outDir, recomputed.outDir]) for (let layer = 0; layer < base.numLayers; layer += 1) {
      const expected = readActivationLayer(reference.outDir, manifest, layer);
      const actual = readActivationLayer(outDir, readActivationManifest(outDir), layer);
      assert.equal(actual.length, expected.length);
      let worst = 0;
      for (let index = 0; index < expected.length; index += 1) worst = Math.max(worst, Math.abs(actual[index] - expected[index]));
      assert.ok(worst <= 1e-5, `layer ${layer}: max difference ${worst}`);
    }
  } finally {
    await base.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

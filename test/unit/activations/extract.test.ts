/**
 * extractActivations: per-layer .npy files in dataset order, bounded windows, length-sorted batches, the cache
 * seam, skipped prompts, cancel/failure leaving nothing behind, and the output-folder rules.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractActivations, ExtractionError, renderEntityPrompt, renderPrompt, type ActivationCache, type ExtractionProgress } from '../../../src/core/activations/extract';
import { ACTIVATIONS_FORMAT, readActivationLayer, readActivationManifest } from '../../../src/core/activations/manifest';
import { readNpy } from '../../../src/core/activations/npy';
import { loadTransformerModel } from '../../../src/core/model/onnx/transformerModel';
import { promptText, type PromptInput, type ResidualModel, type TokenizedPrompt } from '../../../src/core/model/types';
import { maxDeviation, readReference, onnxModelDir } from '../../helpers/modelFixtures';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'extract-test-'));
}

/**
 * A model whose output encodes which prompt it saw: text "e<k> w w …" tokenizes to [k, 1, 1, …] and row
 * vector[layer·D + d] = k + layer/8 + d/1024 (exact in float32). "" and "skip …" are unusable.
 */
class FakeModel implements ResidualModel {
  readonly id = 'fake';
  readonly architecture = 'fake';
  readonly fingerprint = 'f'.repeat(64);
  readonly device = { requested: 'cpu' as const, used: 'cpu' as const, fallbacks: [] };
  readonly batches: number[][][] = [];
  failAfter = Infinity;
  constructor(readonly numLayers = 3, readonly hiddenSize = 4) {}
  tokenize(prompts: readonly (string | PromptInput)[]): TokenizedPrompt[] {
    return prompts.map(promptText).map((text) => {
      if (text === '' || text.startsWith('skip')) return { ids: [], usable: false, reason: 'fake: no token' };
      const [head, ...rest] = text.split(' ');
      return { ids: [Number(head.slice(1)), ...rest.map(() => 1)], usable: true };
    });
  }
  async runBatch(prompts: readonly TokenizedPrompt[]): Promise<Float32Array> {
    if (this.batches.length >= this.failAfter) throw new Error('fake failure');
    this.batches.push(prompts.map((prompt) => [...prompt.ids]));
    const stride = this.numLayers * this.hiddenSize;
    const out = new Float32Array(prompts.length * stride);
    prompts.forEach((prompt, row) => {
      for (let layer = 0; layer < this.numLayers; layer++) {
        for (let d = 0; d < this.hiddenSize; d++) out[row * stride + layer * this.hiddenSize + d] = FakeModel.value(prompt.ids[0], layer, d);
      }
    });
    return out;
  }
  static value(k: number, layer: number, d: number): number {
    return k + layer / 8 + d / 1024;
  }
  async dispose(): Promise<void> {}
}

function fakePrompts(count: number): { text: string; row: number }[] {
  // Varying lengths so length sorting matters; dataset line = k + 2 (header on line 1).
  return Array.from({ length: count }, (_, k) => ({ text: `e${k}${' w'.repeat((k * 7) % 5)}`, row: k + 2 }));
}

const manifestFields = { model: 'fake', prompt: '{entity}', dataset: 'data.csv' };

describe('extractActivations on a real model', () => {
  test('gpt2-tiny: layer files in dataset order reproduce the reference; unusable rows skipped', async () => {
    const dir = onnxModelDir('gpt2-tiny');
    const reference = readReference(dir);
    const model = await loadTransformerModel(dir, { device: 'cpu' });
    const out = path.join(tempDir(), 'acts');
    const prompts = reference.prompts.map((prompt, index) => ({ text: prompt.prompt, row: 10 + index }));
    prompts.splice(5, 0, { text: '', row: 99 });
    const progress: ExtractionProgress[] = [];
    try {
      // A tiny memory budget forces several windows (5 layers × 32 × 4 B = 640 B per entity).
      const result = await extractActivations(model, prompts, {
        ...manifestFields, model: dir, outDir: out, batchSize: 3, memoryBudgetBytes: 640 * 2 * 7, onProgress: (p) => progress.push(p),
      });
      assert.equal(result.skipped.length, 1);
      assert.equal(result.skipped[0].row, 99);
      assert.equal(result.tokens, reference.prompts.reduce((sum, prompt) => sum + prompt.ids.length, 0));
      assert.ok(result.paddedTokens >= result.tokens);
      assert.ok(result.tokensPerSecond > 0);
    } finally {
      await model.dispose();
    }
    assert.deepEqual(fs.readdirSync(out).sort(), ['layer_000.npy', 'layer_001.npy', 'layer_002.npy', 'layer_003.npy', 'layer_004.npy', 'manifest.json']);
    const manifest = readActivationManifest(out);
    assert.equal(manifest.format, ACTIVATIONS_FORMAT);
    assert.equal(manifest.numEntities, reference.prompts.length);
    assert.equal(manifest.hiddenSize, 32);
    assert.deepEqual(manifest.rows, reference.prompts.map((_, index) => 10 + index));
    assert.deepEqual(manifest.layers.map((layer) => layer.file), ['layer_000.npy', 'layer_001.npy', 'layer_002.npy', 'layer_003.npy', 'layer_004.npy']);
    assert.equal(manifest.skipped?.[0].row, 99);
    const npy = readNpy(path.join(out, 'layer_003.npy'));
    assert.deepEqual(npy.shape, [reference.prompts.length, 32]);
    assert.equal(npy.dtype, 'float32');
    // Reassemble [entity, layer, hidden] from the per-layer files and compare with the PyTorch reference.
    const combined = new Float32Array(reference.prompts.length * 5 * 32);
    for (let layer = 0; layer < 5; layer++) {
      const data = readActivationLayer(out, manifest, layer);
      for (let row = 0; row < reference.prompts.length; row++) combined.set(data.subarray(row * 32, (row + 1) * 32), (row * 5 + layer) * 32);
    }
    assert.ok(maxDeviation(combined, reference) < 1e-4);
    assert.equal(progress.at(-1)?.done, reference.prompts.length);
    assert.ok(progress.every((p, index) => index === 0 || p.done >= progress[index - 1].done));
  });
});

describe('extractActivations with a fake model', () => {
  test('windows are consecutive dataset rows, batches inside them are length-sorted', async () => {
    const model = new FakeModel(3, 4);
    const rowBytes = 3 * 4 * 4;
    const out = path.join(tempDir(), 'acts');
    await extractActivations(model, fakePrompts(50), { ...manifestFields, outDir: out, batchSize: 4, memoryBudgetBytes: 2 * 10 * rowBytes });
    const windowOf = (k: number): number => Math.floor(k / 10);
    for (const batch of model.batches) {
      assert.ok(batch.length <= 4);
      assert.equal(new Set(batch.map((ids) => windowOf(ids[0]))).size, 1, 'a batch never spans two windows');
      for (let i = 1; i < batch.length; i++) assert.ok(batch[i - 1].length >= batch[i].length, 'longest first');
    }
    const manifest = readActivationManifest(out);
    for (let layer = 0; layer < 3; layer++) {
      const data = readActivationLayer(out, manifest, layer);
      for (let k = 0; k < 50; k++) for (let d = 0; d < 4; d++) assert.equal(data[k * 4 + d], FakeModel.value(k, layer, d));
    }
  });

  test('the cache seam: hits skip the model, misses are computed and stored', async () => {
    const model = new FakeModel(2, 3);
    const prompts = fakePrompts(12);
    const stored = new Map<string, Float32Array>();
    const lookups: string[][] = [];
    const cache: ActivationCache = {
      lookup(texts) {
        lookups.push([...texts]);
        // Every third prompt is cached, with recognisable values (k + 0.5 everywhere).
        return texts.map((text) => {
          const k = Number(text.split(' ')[0].slice(1));
          return k % 3 === 0 ? new Float32Array(6).fill(k + 0.5) : undefined;
        });
      },
      store(texts, vectors) {
        texts.forEach((text, index) => stored.set(text, vectors[index]));
      },
    };
    const out = path.join(tempDir(), 'acts');
    const result = await extractActivations(model, prompts, { ...manifestFields, outDir: out, batchSize: 5, cache });
    assert.equal(result.cacheHits, 4);
    assert.deepEqual(lookups.flat(), prompts.map((prompt) => prompt.text));
    const computed = model.batches.flat().map((ids) => ids[0]).sort((a, b) => a - b);
    assert.deepEqual(computed, [1, 2, 4, 5, 7, 8, 10, 11]);
    assert.deepEqual([...stored.keys()].map((text) => Number(text.split(' ')[0].slice(1))).sort((a, b) => a - b), computed);
    for (const [text, vector] of stored) {
      const k = Number(text.split(' ')[0].slice(1));
      assert.deepEqual([...vector], [0, 1].flatMap((layer) => [0, 1, 2].map((d) => FakeModel.value(k, layer, d))));
    }
    const manifest = readActivationManifest(out);
    const layer1 = readActivationLayer(out, manifest, 1);
    assert.equal(layer1[3 * 3 + 2], 3.5, 'cached row 3 comes from the cache');
    assert.equal(layer1[4 * 3 + 2], FakeModel.value(4, 1, 2), 'row 4 comes from the model');
  });

  test('cancel leaves no output and no partial folder', async () => {
    const parent = tempDir();
    const out = path.join(parent, 'acts');
    const controller = new AbortController();
    const model = new FakeModel();
    await assert.rejects(extractActivations(model, fakePrompts(40), {
      ...manifestFields, outDir: out, batchSize: 4, signal: controller.signal,
      onProgress: (progress) => { if (progress.done >= 8) controller.abort(); },
    }), (error: unknown) => error instanceof Error && error.name === 'AbortError');
    assert.ok(model.batches.length >= 2 && model.batches.length < 10);
    assert.deepEqual(fs.readdirSync(parent), []);
  });

  test('a model failure leaves an existing activation folder untouched', async () => {
    const parent = tempDir();
    const out = path.join(parent, 'acts');
    await extractActivations(new FakeModel(), fakePrompts(6), { ...manifestFields, outDir: out });
    const before = fs.readFileSync(path.join(out, 'layer_001.npy'));
    const failing = new FakeModel();
    failing.failAfter = 1;
    await assert.rejects(extractActivations(failing, fakePrompts(9), { ...manifestFields, outDir: out, batchSize: 2 }), /fake failure/);
    assert.deepEqual(fs.readdirSync(parent), ['acts']);
    assert.ok(fs.readFileSync(path.join(out, 'layer_001.npy')).equals(before));
    assert.equal(readActivationManifest(out).numEntities, 6);
  });

  test('an existing activation folder is replaced; anything else in the way is refused and kept', async () => {
    const parent = tempDir();
    const out = path.join(parent, 'acts');
    await extractActivations(new FakeModel(), fakePrompts(6), { ...manifestFields, outDir: out });
    await extractActivations(new FakeModel(), fakePrompts(8), { ...manifestFields, outDir: out });
    assert.equal(readActivationManifest(out).numEntities, 8);
    assert.deepEqual(fs.readdirSync(parent), ['acts']);
    await assert.rejects(extractActivations(new FakeModel(), fakePrompts(8), { ...manifestFields, outDir: out, overwrite: false }),
      (error: unknown) => error instanceof ExtractionError && /already holds activations/.test(error.message));

    const other = path.join(parent, 'notes');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'keep.txt'), 'mine');
    await assert.rejects(extractActivations(new FakeModel(), fakePrompts(3), { ...manifestFields, outDir: other }),
      (error: unknown) => error instanceof ExtractionError && /not an activation folder/.test(error.message));
    assert.deepEqual(fs.readdirSync(other), ['keep.txt']);
  });

  test('no usable prompt at all is an ExtractionError naming the lines', async () => {
    const out = path.join(tempDir(), 'acts');
    await assert.rejects(extractActivations(new FakeModel(), [{ text: '', row: 4 }, { text: 'skip me', row: 5 }], { ...manifestFields, outDir: out }),
      (error: unknown) => error instanceof ExtractionError && /line 4/.test(error.message) && /line 5/.test(error.message));
    assert.equal(fs.existsSync(out), false);
  });
});

describe('token choice', () => {
  test('entity-last (default) gives the model each entity span and records the choice; prompt-last gives plain texts', async () => {
    const seen: (string | PromptInput)[] = [];
    const model = new FakeModel();
    const tokenize = model.tokenize.bind(model);
    model.tokenize = (prompts) => { seen.push(...prompts); return tokenize(prompts); };
    const prompts = ['e1', 'e2 w'].map((name, k) => ({ ...renderEntityPrompt('{entity} w?', name), row: k + 2 }));
    const out = path.join(tempDir(), 'acts');
    const byDefault = await extractActivations(model, prompts, { ...manifestFields, outDir: out });
    assert.equal(byDefault.manifest.token, 'entity-last');
    assert.equal(readActivationManifest(out).token, 'entity-last');
    assert.deepEqual(seen.splice(0), [{ text: 'e1 w?', entity: { start: 0, end: 2 } }, { text: 'e2 w w?', entity: { start: 0, end: 4 } }]);
    const plain = await extractActivations(model, prompts, { ...manifestFields, outDir: out, token: 'prompt-last' });
    assert.equal(plain.manifest.token, 'prompt-last');
    assert.deepEqual(seen.splice(0), [{ text: 'e1 w?' }, { text: 'e2 w w?' }]);
    // A prompt without a span is all entity.
    await extractActivations(model, [{ text: 'e3', row: 2 }], { ...manifestFields, outDir: out });
    assert.deepEqual(seen.splice(0), [{ text: 'e3', entity: { start: 0, end: 2 } }]);
  });
});

describe('renderPrompt', () => {
  test('renderEntityPrompt returns the span of the last occurrence', () => {
    assert.deepEqual(renderEntityPrompt('Where is {entity}?', 'Paris'), { text: 'Where is Paris?', entity: { start: 9, end: 14 } });
    assert.deepEqual(renderEntityPrompt('{entity} or {entity}', 'São'), { text: 'São or São', entity: { start: 7, end: 10 } });
  });

  test('substitutes every {entity}; a template without it is an error', () => {
    assert.equal(renderPrompt('{entity}', 'Paris'), 'Paris');
    assert.equal(renderPrompt('Where is {entity}? {entity} is in', 'Paris'), 'Where is Paris? Paris is in');
    assert.throws(() => renderPrompt('no placeholder', 'Paris'), ExtractionError);
  });
});

/**
 * Extraction from real exports against their PyTorch references (computed independently, before export):
 * Hugging Face GPT-2 / Llama / GPT-NeoX (test/fixtures/onnx-models; dynamo and legacy exporters) and plain-torch
 * GPT-2-with-past / Qwen2-style exports (local fixtures). All prompts in one right-padded batch, then batch size 1.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { loadTransformerModel, type TransformerModel } from '../../../src/core/model/onnx/transformerModel';
import { toPaddedBatch } from '../../../src/core/model/residualRun';
import { loadModel } from '../../../src/core/model/loadModel';
import { ModelLoadError } from '../../../src/core/model/errors';
import {
  LOCAL_MODELS, ONNX_MODELS, localModelDir, maxDeviation, readReference, onnxModelDir,
} from '../../helpers/modelFixtures';

const TOLERANCE = 1e-4;

const fixtures: { name: string; dir: string; layout: 'sequential' | 'parallel'; inputs: string[] }[] = [
  { name: 'gpt2-tiny', dir: onnxModelDir('gpt2-tiny'), layout: 'sequential', inputs: ['input_ids', 'attention_mask', 'last_index'] },
  { name: 'llama-tiny', dir: onnxModelDir('llama-tiny'), layout: 'sequential', inputs: ['input_ids', 'attention_mask', 'last_index'] },
  { name: 'neox-tiny', dir: onnxModelDir('neox-tiny'), layout: 'parallel', inputs: ['input_ids', 'attention_mask', 'last_index'] },
  {
    name: 'gpt2-past', dir: localModelDir('gpt2-past'), layout: 'sequential',
    inputs: ['input_ids', 'attention_mask', 'position_ids', ...[0, 1, 2].flatMap((i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]), 'last_index'],
  },
  { name: 'qwen2-style', dir: localModelDir('qwen2-style'), layout: 'sequential', inputs: ['input_ids', 'attention_mask', 'position_ids', 'last_index'] },
];
assert.equal(fixtures.length, ONNX_MODELS.length + LOCAL_MODELS.length);

for (const fixture of fixtures) {
  describe(`${fixture.name}: residual stream vs PyTorch reference`, () => {
    const reference = readReference(fixture.dir);
    let model: TransformerModel;
    before(async () => { model = await loadTransformerModel(fixture.dir, { device: 'cpu', intraOpNumThreads: 1 }); });
    after(async () => { await model?.dispose(); });

    test('finds L+1 taps with the expected layout and shape', () => {
      assert.equal(model.numLayers, reference.num_layers + 1);
      assert.equal(model.residualTaps.taps.length, reference.num_layers + 1);
      assert.equal(model.residualTaps.layout, fixture.layout);
      assert.equal(model.hiddenSize, reference.hidden_size);
      // Sequential models read 2L+1 distinct tensors, parallel ones L+1.
      const distinct = new Set(model.residualTaps.normalizationInputs.map((input) => input.tensor)).size;
      assert.equal(distinct, fixture.layout === 'sequential' ? 2 * reference.num_layers + 1 : reference.num_layers + 1);
      assert.deepEqual([...model.inputNames], fixture.inputs);
    });

    test('tokenizes every prompt to the reference ids', () => {
      const tokenized = model.tokenize(reference.prompts.map((prompt) => prompt.prompt));
      assert.deepEqual(tokenized.map((tokens) => tokens.ids), reference.prompts.map((prompt) => prompt.ids));
      assert.ok(tokenized.every((tokens) => tokens.usable));
    });

    test(`all ${reference.prompts.length} prompts in one right-padded batch match within ${TOLERANCE}`, async () => {
      const lengths = new Set(reference.prompts.map((prompt) => prompt.ids.length));
      assert.ok(lengths.size > 1, 'the batch must actually be padded');
      const output = await model.runBatch(reference.prompts.map((prompt) => ({ ids: prompt.ids, usable: true })));
      const deviation = maxDeviation(output, reference);
      assert.ok(deviation < TOLERANCE, `max deviation ${deviation}`);
    });

    test(`batch size 1 matches within ${TOLERANCE}`, async () => {
      let worst = 0;
      for (const prompt of reference.prompts) {
        const output = await model.runBatch([{ ids: prompt.ids, usable: true }]);
        worst = Math.max(worst, maxDeviation(output, reference, [prompt]));
      }
      assert.ok(worst < TOLERANCE, `max deviation ${worst}`);
    });

    test('the LM head and everything after the last tap are pruned', () => {
      const { rewrite } = model;
      assert.equal(rewrite.outputName, 'resid_last');
      assert.ok(rewrite.initializersAfter < rewrite.initializersBefore,
        `initializers ${rewrite.initializersBefore} → ${rewrite.initializersAfter}`);
    });
  });
}

describe('loading', () => {
  test('loadModel dispatches paths to the transformer loader and reports the device', async () => {
    const model = await loadModel(onnxModelDir('gpt2-tiny'), { device: 'cpu' });
    try {
      assert.equal(model.architecture, 'gpt2');
      assert.equal(model.device.used, 'cpu');
      assert.match(model.fingerprint, /^[0-9a-f]{64}$/);
    } finally {
      await model.dispose();
    }
  });

  test('unknown schemes are rejected with the known ones listed', async () => {
    await assert.rejects(loadModel('nope:thing'), (error: unknown) =>
      error instanceof ModelLoadError && /Unknown model scheme "nope:"/.test(error.message) && /builtin:/.test(error.message));
  });

  test('a tap override with the discovered names gives the same numbers; wrong names are explained', async () => {
    const dir = onnxModelDir('llama-tiny');
    const reference = readReference(dir);
    const discovered = await loadTransformerModel(dir, { device: 'cpu' });
    const taps = [...discovered.residualTaps.taps];
    await discovered.dispose();
    const overridden = await loadTransformerModel(dir, { device: 'cpu', taps });
    try {
      assert.equal(overridden.residualTaps.layout, 'override');
      const output = await overridden.runBatch(reference.prompts.map((prompt) => ({ ids: prompt.ids, usable: true })));
      assert.ok(maxDeviation(output, reference) < TOLERANCE);
    } finally {
      await overridden.dispose();
    }
    await assert.rejects(loadTransformerModel(dir, { device: 'cpu', taps: [...taps.slice(0, -1), 'no_such_tensor'] }),
      (error: unknown) => error instanceof ModelLoadError && /no_such_tensor/.test(error.message) && /candidates/.test(error.message));
    await assert.rejects(loadTransformerModel(dir, { device: 'cpu', taps: taps.slice(0, 3) }),
      (error: unknown) => error instanceof ModelLoadError && /3 names/.test(error.message) && /5 are needed/.test(error.message));
  });

  test('a wrong layer count in config fails discovery with the explanation and the override hint', async () => {
    await assert.rejects(loadTransformerModel(onnxModelDir('gpt2-tiny'), { device: 'cpu', numHiddenLayers: 6 }), (error: unknown) => {
      assert.ok(error instanceof ModelLoadError);
      assert.match(error.message, /Cannot find the residual stream in .*gpt2-tiny/);
      assert.match(error.message, /chain .* has 9 tensor\(s\)/);
      assert.match(error.message, /AMAMAMAM/);
      assert.match(error.message, /12 steps alternating AM \(2L\+1 tensors\)/);
      assert.match(error.message, /6 steps all A \(L\+1 tensors\)/);
      assert.match(error.message, /--taps/);
      return true;
    });
  });

  test('toPaddedBatch pads on the right with the pad id and records lengths', () => {
    const batch = toPaddedBatch([{ ids: [5, 6, 7], usable: true }, { ids: [8], usable: true }], 0);
    assert.equal(batch.seqLength, 3);
    assert.deepEqual([...batch.ids], [5, 6, 7, 8, 0, 0]);
    assert.deepEqual([...batch.lengths], [3, 1]);
    assert.throws(() => toPaddedBatch([{ ids: [], usable: false }], 0), /unusable/);
  });
});

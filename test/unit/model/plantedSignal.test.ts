/**
 * Planted signal: a JS-built model whose residual stream carries the true coordinates linearly at chosen layers
 * and only noise elsewhere. Extraction must read back exactly the planted values, and a ridge probe must reach
 * R² > 0.99 exactly at those layers.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildPlantedModel, type PlantedModel } from '../../helpers/plantedModel';
import { loadTransformerModel, type TransformerModel } from '../../../src/core/model/onnx/transformerModel';
import { extractActivations } from '../../../src/core/activations/extract';
import { readActivationLayer, readActivationManifest } from '../../../src/core/activations/manifest';
import { fitLayerProbe } from '../../../src/core/probes/probe';
import { greatCircleKm } from '../../../src/core/probes/metrics';
import { splitTrainTest } from '../../../src/core/probes/split';

const ENTITIES = 300;
const SIGNAL_LAYERS = [2, 3];
const NUM_HIDDEN_LAYERS = 5;

describe('planted-signal model', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'planted-'));
  // Seeded pseudo-random places; names with spaces and accents stay single tokens.
  let seed = 99;
  const random = (): number => { seed = (seed * 48271) % 2147483647; return seed / 2147483647; };
  const entities = Array.from({ length: ENTITIES }, (_, index) => (index % 7 === 0 ? `São Place ${index}` : `place ${index}`));
  const targets = entities.map(() => [random() * 180 - 90, random() * 360 - 180]);
  let planted: PlantedModel;
  let model: TransformerModel;
  const outDir = path.join(root, 'activations');

  before(async () => {
    planted = buildPlantedModel(path.join(root, 'model'), entities, targets, SIGNAL_LAYERS,
      { numHiddenLayers: NUM_HIDDEN_LAYERS, hiddenSize: 16, signalScale: 10 });
    model = await loadTransformerModel(planted.dir, { device: 'cpu' });
    await extractActivations(model, entities.map((text, index) => ({ text, row: index + 2 })),
      { outDir, model: planted.dir, prompt: '{entity}', dataset: 'planted.csv', batchSize: 64 });
  });
  after(async () => {
    await model?.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('discovery finds the L+1 boundaries structurally (2L+1 LayerNormalization inputs)', () => {
    assert.equal(model.residualTaps.layout, 'sequential');
    assert.deepEqual(model.residualTaps.taps, Array.from({ length: NUM_HIDDEN_LAYERS + 1 }, (_, layer) => `h${layer}`));
    assert.equal(model.residualTaps.normalizationInputs.length, 2 * NUM_HIDDEN_LAYERS + 1);
  });

  test('extraction reads back exactly the planted values at the signal layers, exactly 0 elsewhere', () => {
    const manifest = readActivationManifest(outDir);
    assert.equal(manifest.numEntities, ENTITIES);
    assert.equal(manifest.layers.length, NUM_HIDDEN_LAYERS + 1);
    for (let layer = 0; layer <= NUM_HIDDEN_LAYERS; layer++) {
      const data = readActivationLayer(outDir, manifest, layer);
      for (let entity = 0; entity < ENTITIES; entity++) {
        for (let target = 0; target < 2; target++) {
          const expected = SIGNAL_LAYERS.includes(layer) ? planted.plantedValue(entity, target) : 0;
          assert.equal(data[entity * 16 + target], expected, `layer ${layer} entity ${entity} dim ${target}`);
        }
        const residual = planted.expectedResidual(entity, layer);
        for (let d = 2; d < 16; d++) assert.equal(data[entity * 16 + d], residual[d], `layer ${layer} entity ${entity} dim ${d}`);
      }
    }
  });

  test('a ridge probe finds R² > 0.99 exactly at the signal layers', async () => {
    const manifest = readActivationManifest(outDir);
    const split = splitTrainTest(ENTITIES);
    const targetArray = Float64Array.from(targets.flat());
    const r2ByLayer: number[] = [];
    for (let layer = 0; layer <= NUM_HIDDEN_LAYERS; layer++) {
      const result = await fitLayerProbe({
        x: readActivationLayer(outDir, manifest, layer), nSamples: ENTITIES, nFeatures: 16,
        targets: targetArray, nTargets: 2, trainIdx: split.train, testIdx: split.test, distance: greatCircleKm,
      });
      r2ByLayer.push(result.test.r2);
    }
    const above = r2ByLayer.flatMap((r2, layer) => (r2 > 0.99 ? [layer] : []));
    assert.deepEqual(above, SIGNAL_LAYERS, `test R² by layer: ${r2ByLayer.map((r2) => r2.toFixed(3)).join(', ')}`);
  });
});

describe('planted-signal model in float16', () => {
  test('fp16 taps are cast to float32 and carry the fp16 planted values', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'planted-fp16-'));
    const entities = Array.from({ length: 40 }, (_, index) => `city ${index}`);
    const targets = entities.map((_, index) => [((index * 37) % 180) - 90, ((index * 71) % 360) - 180]);
    const planted = buildPlantedModel(path.join(root, 'model'), entities, targets, [1], { numHiddenLayers: 2, hiddenSize: 8, dtype: 'float16' });
    const model = await loadTransformerModel(planted.dir, { device: 'cpu' });
    try {
      const output = await model.runBatch(model.tokenize(entities));
      assert.ok(output instanceof Float32Array);
      assert.equal(output.length, entities.length * 3 * 8);
      for (let entity = 0; entity < entities.length; entity++) {
        for (let layer = 0; layer < 3; layer++) {
          const row = output.subarray((entity * 3 + layer) * 8, (entity * 3 + layer + 1) * 8);
          for (let target = 0; target < 2; target++) assert.equal(row[target], layer === 1 ? planted.plantedValue(entity, target) : 0);
          const expected = planted.expectedResidual(entity, layer);
          // onnxruntime may keep fp16 sums in float32 between adds: allow 2 fp16 ulps (2^-9 relative).
          for (let d = 2; d < 8; d++) assert.ok(Math.abs(row[d] - expected[d]) <= 2 ** -9 * Math.max(1, Math.abs(expected[d])), `entity ${entity} layer ${layer} dim ${d}`);
        }
      }
    } finally {
      await model.dispose();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

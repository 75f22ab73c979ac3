/**
 * The robustness experiments on the planted-signal model (test/helpers/plantedModel.ts): a JS-built ONNX
 * transformer whose residual stream carries latitude/longitude linearly in dims 0–1 at layers 2 and 3 and only
 * noise elsewhere. What each experiment must find there is known in advance:
 *   - controls: linear R² > 0.99 at the planted layers, shuffled labels < 0.05 everywhere, random weights lose the
 *     signal, and the top-2 principal components (the planted dims have the largest variance) already give > 0.99;
 *   - neurons: dim 0 ranks first for latitude and dim 1 for longitude with ρ = 1 at the planted layers;
 *   - holdout: an exactly linear signal generalises to held-out blocks (proximity error ≈ 0);
 *   - mlp: matches the linear probe on a linear signal.
 * And every output file carries parameters that reproduce it exactly.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildPlantedModel } from '../../helpers/plantedModel';
import { loadTransformerModel, type TransformerModel } from '../../../src/core/model/onnx/transformerModel';
import { runExperiment, type ExperimentOptionsMap } from '../../../src/core/experiments/runExperiment';
import { runProbe } from '../../../src/core/experiments/run';
import {
  EXPERIMENT_FORMAT, experimentFileName, readExperimentResult, type ControlsResult, type ExperimentName, type ExperimentResult,
  type HoldoutResult, type MlpResult, type NeuronsResult,
} from '../../../src/core/experiments/experimentResults';
import type { ExperimentInputs } from '../../../src/core/experiments/experimentSession';
import { mulberry32 } from '../../../src/core/probes/split';

const ENTITIES = 300;
const SIGNAL_LAYERS = [2, 3];
const NUM_HIDDEN_LAYERS = 4;

/** Drop what legitimately differs between two runs (time stamps, reuse provenance). */
function numbersOnly(result: ExperimentResult): Omit<ExperimentResult, 'createdAt' | 'provenance'> {
  const { createdAt: _createdAt, provenance: _provenance, ...rest } = result;
  return JSON.parse(JSON.stringify(rest)) as Omit<ExperimentResult, 'createdAt' | 'provenance'>;
}

describe('experiments on the planted-signal model', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'planted-experiments-'));
  const random = mulberry32(2024);
  const names = Array.from({ length: ENTITIES }, (_, index) => `place ${index}`);
  const targets = names.map(() => [random() * 160 - 80, random() * 340 - 170]);
  const datasetFile = path.join(root, 'planted_places.csv');
  const cacheDir = path.join(root, 'cache');
  let model: TransformerModel;
  const results = new Map<ExperimentName, ExperimentResult>();
  let inputs: ExperimentInputs;

  const run = async <N extends ExperimentName>(name: N, options: ExperimentOptionsMap[N], outDir = path.join(root, 'out')): Promise<ExperimentResult> => {
    const { result, file } = await runExperiment(name, { ...inputs, outDir }, options);
    assert.equal(file, path.join(outDir, experimentFileName(name)));
    return result;
  };

  before(async () => {
    const planted = buildPlantedModel(path.join(root, 'model'), names, targets, SIGNAL_LAYERS,
      { numHiddenLayers: NUM_HIDDEN_LAYERS, hiddenSize: 16, signalScale: 10 });
    model = await loadTransformerModel(planted.dir, { device: 'cpu' });
    // Six "countries" of 50 entities each: the holdout blocks.
    fs.writeFileSync(datasetFile, ['name,latitude,longitude,country',
      ...names.map((name, index) => `${name},${targets[index][0].toFixed(5)},${targets[index][1].toFixed(5)},C${index % 6}`)].join('\n') + '\n');
    inputs = { dataset: datasetFile, model: planted.dir, outDir: path.join(root, 'out'), cacheDir, loadedModel: model };
  });
  after(async () => {
    await model?.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('controls: linear > 0.99 at the planted layers, shuffled < 0.05 everywhere, random weights lose it, PCA-2 finds it', async () => {
    const result = await run('controls', {}) as ControlsResult;
    results.set('controls', result);
    assert.equal(result.format, EXPERIMENT_FORMAT);
    assert.equal(result.entities, ENTITIES);
    assert.deepEqual(result.parameters.controls, ['shuffled', 'random-weights', 'pca']);
    const linear = result.layers.map((layer) => layer.linear.testR2);
    assert.deepEqual(linear.flatMap((r2, layer) => (r2 > 0.99 ? [layer] : [])), SIGNAL_LAYERS, `linear R² ${linear.map((r2) => r2.toFixed(3))}`);
    for (const layer of result.layers) {
      assert.ok(layer.shuffled !== undefined && layer.shuffled.testR2 < 0.05, `layer ${layer.index}: shuffled R² ${layer.shuffled?.testR2}`);
    }
    assert.ok(result.randomWeights, 'random-weights control present');
    assert.ok(result.randomWeights.tensors > 5, `redrew ${result.randomWeights.tensors} tensors`);
    assert.notEqual(result.randomWeights.fingerprint, model.fingerprint);
    for (const layer of SIGNAL_LAYERS) {
      const randomR2 = result.randomWeights.layers.find((entry) => entry.index === layer)?.testR2 ?? Number.NaN;
      assert.ok(randomR2 < 0.3, `layer ${layer}: random-weights R² ${randomR2}`);
      const pca = result.layers[layer].pca ?? [];
      assert.deepEqual(pca.map((score) => score.k), [2, 5, 10, 16], 'k clipped to the hidden size');
      assert.ok(pca[0].testR2 > 0.99, `layer ${layer}: PCA-2 R² ${pca[0].testR2}`);
      assert.ok(Math.abs(pca[pca.length - 1].explainedVariance - 1) < 1e-9, 'all 16 components explain everything');
      assert.ok(Math.abs(pca[pca.length - 1].testR2 - result.layers[layer].linear.testR2) < 1e-6, 'PCA on every component = the linear probe');
    }
    // Away from the planted layers the top components are noise.
    assert.ok((result.layers[0].pca ?? [])[0].testR2 < 0.2);
  });

  test('neurons: dim 0 ↔ latitude and dim 1 ↔ longitude with ρ = 1 at the planted layers', async () => {
    const result = await run('neurons', { viewEntities: 50 }) as NeuronsResult;
    results.set('neurons', result);
    assert.deepEqual(result.neuronTargets, ['latitude', 'longitude', '|latitude|', '|longitude|']);
    for (const layer of SIGNAL_LAYERS) {
      const top = result.layers[layer].top;
      assert.equal(top.latitude[0].dim, 0);
      assert.ok(top.latitude[0].rho > 0.9999, `ρ ${top.latitude[0].rho}`);
      assert.equal(top.longitude[0].dim, 1);
      assert.ok(top.longitude[0].rho > 0.9999);
    }
    // Dims 0 and 1 are exactly zero outside the planted layers: constant → no correlation, not listed.
    assert.ok(result.layers[0].top.latitude.every((neuron) => neuron.dim >= 2));
    assert.ok(SIGNAL_LAYERS.includes(result.best.latitude.layer) && result.best.latitude.dim === 0);
    assert.equal(result.views.entities.length, 50);
    for (const view of result.views.neurons) assert.equal(view.values.length, 50);
    const latitudeView = result.views.neurons.find((view) => view.target === 'latitude' && view.dim === 0);
    assert.ok(latitudeView, 'the latitude neuron is among the views');
    // Its activations are the scaled latitudes of the view entities (float32, 4 significant digits).
    result.views.entities.forEach((entity, index) => {
      assert.ok(Math.abs(latitudeView.values[index] - (10 * entity.true[0]) / 90) < 2e-3 * Math.max(1, Math.abs(latitudeView.values[index])));
    });
    assert.equal(result.mlpNeurons.exposed, false);
  });

  test('holdout: held-out blocks of an exactly linear signal are predicted as well as random rows', async () => {
    const result = await run('holdout', { blockColumn: 'country', minBlockRows: 10 }) as HoldoutResult;
    results.set('holdout', result);
    assert.equal(result.distance, 'greatCircleKm');
    assert.ok(SIGNAL_LAYERS.includes(result.layer), `layer ${result.layer}`);
    assert.equal(result.layerChosenBy, 'linear-probe');
    assert.equal(result.blocks.length, 6);
    assert.deepEqual(result.blocks.map((block) => block.rows), [50, 50, 50, 50, 50, 50]);
    for (const block of result.blocks) {
      assert.ok(block.holdout.proximityError < 0.02, `${block.block}: ${block.holdout.proximityError}`);
      assert.ok(block.random.proximityError < 0.02);
      assert.ok(block.holdout.meanDistance < 50, `${block.block}: ${block.holdout.meanDistance} km`);
    }
    // At a noise layer the held-out blocks are at chance.
    const noise = await run('holdout', { blockColumn: 'country', minBlockRows: 10, layer: 0 }, path.join(root, 'noise')) as HoldoutResult;
    assert.equal(noise.layerChosenBy, 'option');
    assert.ok(noise.summary.holdoutProximityError > 0.3, `noise layer: ${noise.summary.holdoutProximityError}`);
  });

  test('mlp: matches the linear probe on a linear signal', async () => {
    const result = await run('mlp', { layers: [0, 2], maxEpochs: 60 }) as MlpResult;
    results.set('mlp', result);
    assert.deepEqual(result.layers.map((layer) => layer.index), [0, 2]);
    const planted = result.layers[1];
    assert.ok(planted.linear.testR2 > 0.99);
    assert.ok(planted.mlp.testR2 > 0.95, `MLP R² ${planted.mlp.testR2}`);
    assert.ok(result.layers[0].mlp.testR2 < 0.2, `noise layer MLP R² ${result.layers[0].mlp.testR2}`);
    assert.equal(planted.mlp.validationLoss.length, result.parameters.weightDecays.length);
    assert.ok(result.parameters.weightDecays.includes(planted.mlp.weightDecay));
  });

  test('every file holds its parameters, and re-running with them reproduces identical numbers', async () => {
    assert.ok(results.size >= 4, 'the experiments above ran');
    for (const [name, first] of results) {
      const file = path.join(root, 'out', experimentFileName(name));
      const stored = readExperimentResult(file);
      assert.equal(stored.experiment, name);
      assert.equal(typeof stored.parameters.seed, 'number');
      assert.ok(Array.isArray(stored.parameters.alphas) && stored.parameters.alphas.length === 12);
      assert.ok(stored.split.method === 'random' && stored.split.seed === 0, 'split recorded');
      const again = await run(name, stored.parameters as ExperimentOptionsMap[typeof name], path.join(root, `again-${name}`));
      assert.deepEqual(numbersOnly(again), numbersOnly(first), `${name} reproduces`);
    }
  });

  test('a different seed changes the split and the numbers', async () => {
    const other = await run('controls', { seed: 7, controls: ['shuffled'] }, path.join(root, 'seed7')) as ControlsResult;
    const first = results.get('controls') as ControlsResult;
    assert.equal(other.split.seed, 7);
    assert.notDeepEqual(other.layers.map((layer) => layer.linear.testR2), first.layers.map((layer) => layer.linear.testR2));
  });

  test('after a run, experiments reuse its activation folder or the cache: nothing goes through the model', async () => {
    const runDir = path.join(root, 'run');
    await runProbe({ dataset: datasetFile, model: inputs.model, outDir: runDir, cacheDir, loadedModel: model });
    const sameFolder = await run('neurons', { viewEntities: 10 }, runDir);
    assert.deepEqual(sameFolder.provenance.activations.map((entry) => entry.source), ['folder']);
    const elsewhere = await run('neurons', { viewEntities: 10 }, path.join(root, 'elsewhere'));
    assert.deepEqual(elsewhere.provenance.activations.map((entry) => [entry.source, entry.cacheHits, entry.computed]), [['extracted', ENTITIES, 0]]);
    assert.ok(!fs.existsSync(path.join(root, 'elsewhere', 'experiment_activations')), 'temporary activation folders removed');
  });
});

/**
 * Prompt variants and cross-prompt generalisation, on a small in-memory ResidualModel whose activations are
 * known: layer 1 carries [latitude, longitude] linearly plus noise, layer 0 only noise, and every word of the
 * template other than the entity adds a large constant vector. So every template has R² > 0.99 at layer 1, and a
 * probe trained under one template transfers to another only because activations are mean-centred per template
 * (checked against the un-centred transfer computed here from the kept activation files).
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TemplateAwareModel, TEMPLATE_AWARE_HIDDEN as HIDDEN } from '../../helpers/experimentFixtures';
import { runExperiment } from '../../../src/core/experiments/runExperiment';
import type { PromptVariantsResult } from '../../../src/core/experiments/experimentResults';
import { RANDOM_PREFIX_WORDS, defaultTemplates, randomPrefix, timeQuestion } from '../../../src/core/experiments/promptVariants';
import { renderTemplate } from '../../../src/core/experiments/experimentSession';
import { readActivationLayer, readActivationManifest } from '../../../src/core/activations/manifest';
import { fitLayerProbe } from '../../../src/core/probes/probe';
import { greatCircleKm, r2PerTarget } from '../../../src/core/probes/metrics';
import { mulberry32 } from '../../../src/core/probes/split';
import type { Dataset } from '../../../src/core/datasets/types';

describe('prompt variants', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'prompt-variants-'));
  const random = mulberry32(5);
  const names = Array.from({ length: 200 }, (_, index) => `place${index}`);
  const targets = new Map(names.map((name) => [name, [random() * 160 - 80, random() * 340 - 170]]));
  const datasetFile = path.join(root, 'places.csv');
  const templates = ['{entity}', 'Where is {entity} located', 'alpha beta gamma {entity}', '{ENTITY}'];
  let result: PromptVariantsResult;

  before(async () => {
    fs.writeFileSync(datasetFile, ['name,latitude,longitude', ...names.map((name) => `${name},${(targets.get(name) as number[]).join(',')}`)].join('\n') + '\n');
    const outcome = await runExperiment('prompt-variants', {
      dataset: datasetFile, model: 'test:template-aware', outDir: path.join(root, 'out'), cacheDir: false, keepActivations: true,
      loadedModel: new TemplateAwareModel(targets),
    }, { templates });
    result = outcome.result as PromptVariantsResult;
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  test('per template and layer: the planted layer is found under every template', () => {
    assert.deepEqual(result.templates.map((template) => template.template), templates);
    assert.equal(result.entities, 200);
    for (const template of result.templates) {
      assert.equal(template.bestLayer, 1);
      assert.ok(template.layers[1].testR2 > 0.99, `${template.template}: ${template.layers[1].testR2}`);
      assert.ok(template.layers[0].testR2 < 0.2);
    }
  });

  test('the cross-prompt matrix is complete, its diagonal equals each template\u2019s own test R²', () => {
    assert.equal(result.cross.length, templates.length ** 2);
    for (const cell of result.cross) {
      assert.equal(cell.layer, result.templates[cell.train].bestLayer);
      if (cell.train === cell.test) assert.ok(Math.abs(cell.testR2 - result.templates[cell.train].layers[cell.layer].testR2) < 1e-9);
    }
  });

  test('mean-centring per template makes the probe transfer; without it the offsets break it', async () => {
    for (const cell of result.cross) assert.ok(cell.testR2 > 0.98, `train ${cell.train} → test ${cell.test}: ${cell.testR2}`);
    // Un-centred transfer, computed here: train on template 1 ("Where is …"), apply to template 0's raw activations.
    const folders = fs.readdirSync(path.join(root, 'out', 'experiment_activations')).map((name) => path.join(root, 'out', 'experiment_activations', name));
    const byPrompt = new Map(folders.map((dir) => [readActivationManifest(dir).prompt, dir]));
    const load = (template: string): Float32Array => {
      const dir = byPrompt.get(template) as string;
      return readActivationLayer(dir, readActivationManifest(dir), 1);
    };
    const truth = Float64Array.from(names.flatMap((name) => targets.get(name) as number[]));
    const split = { train: Int32Array.from({ length: 160 }, (_, i) => i), test: Int32Array.from({ length: 40 }, (_, i) => 160 + i) };
    const fit = await fitLayerProbe({ x: load(templates[1]), nSamples: 200, nFeatures: HIDDEN, targets: truth, nTargets: 2, trainIdx: split.train, testIdx: split.test, distance: greatCircleKm });
    const raw = load(templates[0]);
    const predicted = new Float64Array(40 * 2);
    for (let k = 0; k < 40; k++) {
      for (let c = 0; c < 2; c++) {
        let sum = fit.intercept[c];
        for (let f = 0; f < HIDDEN; f++) sum += raw[(160 + k) * HIDDEN + f] * fit.coef[f * 2 + c];
        predicted[k * 2 + c] = sum;
      }
    }
    const uncentred = r2PerTarget(truth.subarray(320), predicted, 40, 2).mean;
    assert.ok(uncentred < 0.5, `un-centred transfer R² ${uncentred}`);
  });

  test('parameters record the templates and the seed; crossLayers all adds a matrix per layer', async () => {
    assert.deepEqual(result.parameters.templates, templates);
    assert.equal(result.parameters.crossLayers, 'best');
    assert.equal(result.crossPerLayer, undefined);
    const all = (await runExperiment('prompt-variants', {
      dataset: datasetFile, model: 'test:template-aware', outDir: path.join(root, 'all'), cacheDir: false, loadedModel: new TemplateAwareModel(targets),
    }, { templates: templates.slice(0, 2), crossLayers: 'all' })).result as PromptVariantsResult;
    assert.deepEqual(all.crossPerLayer?.map((entry) => [entry.layer, entry.cells.length]), [[0, 4], [1, 4]]);
  });
});

describe('default templates', () => {
  const dataset = (kind: 'space' | 'time', source: string, metadata: Record<string, string> = {}): Pick<Dataset, 'kind' | 'source' | 'entities'> =>
    ({ kind, source, entities: [{ line: 2, name: 'x', target: [0], metadata }] });

  test('the paper\u2019s four: plain, a question, ten seeded random words first, upper-cased', () => {
    const [plain, question, prefixed, upper] = defaultTemplates(dataset('space', 'builtin:world_places'), 0);
    assert.equal(plain, '{entity}');
    assert.equal(question, 'What are the lat/lon coordinates of {entity}?');
    const words = prefixed.replace(' {entity}', '').split(' ');
    assert.equal(words.length, 10);
    assert.ok(words.every((word) => RANDOM_PREFIX_WORDS.includes(word)));
    assert.equal(upper, '{ENTITY}');
    assert.equal(randomPrefix(0), randomPrefix(0));
    assert.notEqual(randomPrefix(0), randomPrefix(1));
    assert.equal(renderTemplate(upper, 'São Paulo'), 'SÃO PAULO');
  });

  test('time questions follow the dataset', () => {
    assert.equal(timeQuestion(dataset('time', 'builtin:historical_figures', { death_year: '' })), 'When was {entity} born?');
    assert.equal(timeQuestion(dataset('time', '/data/paper/historical_figures.csv')), 'When did {entity} die?');
    assert.equal(timeQuestion(dataset('time', 'builtin:art_entertainment')), 'When was {entity} released?');
    assert.equal(timeQuestion(dataset('time', '/data/paper/headline.csv')), 'When was {entity} published?');
    assert.equal(timeQuestion(dataset('time', 'builtin:dated_events')), 'When did {entity} happen?');
  });

  test('a template without {entity} is refused', () => {
    assert.throws(() => renderTemplate('no placeholder', 'x'), /neither \{entity\} nor \{ENTITY\}/);
  });
});

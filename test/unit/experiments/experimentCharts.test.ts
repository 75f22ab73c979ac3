/**
 * The Experiments tab's data path: experiment files in a run folder are read back (malformed ones reported, not
 * thrown), and every chart spec compiles and renders headless in Vega with the numbers of the file. The files
 * come from real runs of each experiment on an in-memory model with a known planted signal.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TemplateAwareModel } from '../../helpers/experimentFixtures';
import { runExperiment, type ExperimentOptionsMap } from '../../../src/core/experiments/runExperiment';
import type {
  ControlsResult, ExperimentName, ExperimentResult, HoldoutResult, NeuronsResult, PromptVariantsResult,
} from '../../../src/core/experiments/experimentResults';
import { readRunExperiments } from '../../../src/extension/runs/experimentFiles';
import { crossPromptSpec, experimentSections, holdoutSpec, neuronViewSpec, pcaSpec, seriesByLayerSpec } from '../../../webview/src/experimentCharts';
import { FALLBACK_THEME } from '../../../webview/src/charts';
import { mulberry32 } from '../../../src/core/probes/split';

interface SceneItem { datum?: Record<string, unknown>; items?: SceneItem[]; marktype?: string }

/** Compile a Vega-Lite spec, run it headless (renderer none) and collect the drawn items by mark type. */
async function render(spec: object): Promise<Map<string, SceneItem[]>> {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const compiled = vl.compile(spec as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  await view.runAsync();
  const byType = new Map<string, SceneItem[]>();
  const walk = (node: SceneItem, marktype?: string): void => {
    const type = node.marktype ?? marktype;
    if (node.items) for (const child of node.items) walk(child, type);
    else if (type && node.datum) byType.set(type, [...(byType.get(type) ?? []), node]);
  };
  walk((view.scenegraph() as unknown as { root: SceneItem }).root);
  view.finalize();
  return byType;
}

describe('Experiments tab', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'experiment-charts-'));
  const runDir = path.join(root, 'run');
  const random = mulberry32(31);
  const names = Array.from({ length: 150 }, (_, index) => `place${index}`);
  const targets = new Map(names.map((name) => [name, [random() * 160 - 80, random() * 340 - 170]]));
  const results = new Map<ExperimentName, ExperimentResult>();

  before(async () => {
    const dataset = path.join(root, 'places.csv');
    fs.writeFileSync(dataset, ['name,latitude,longitude,region', ...names.map((name, index) => `${name},${(targets.get(name) as number[]).join(',')},R${index % 3}`)].join('\n') + '\n');
    const run = async <N extends ExperimentName>(name: N, options: ExperimentOptionsMap[N]): Promise<void> => {
      const { result } = await runExperiment(name, { dataset, model: 'test:template-aware', outDir: runDir, cacheDir: false, loadedModel: new TemplateAwareModel(targets) }, options);
      results.set(name, result);
    };
    await run('prompt-variants', { templates: ['{entity}', 'near {entity}', '{ENTITY}'] });
    await run('holdout', { blockColumn: 'region', minBlockRows: 10 });
    await run('mlp', { maxEpochs: 3, weightDecays: [0.1] });
    await run('neurons', { viewEntities: 40 });
    await run('controls', { controls: ['shuffled', 'pca'], pcaK: [2, 4] });
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  test('the run folder\u2019s experiment files are read back in order; a malformed one is reported, not thrown', async () => {
    const { experiments, problems } = await readRunExperiments(runDir);
    assert.deepEqual(experiments.map((experiment) => experiment.experiment), ['prompt-variants', 'holdout', 'mlp', 'neurons', 'controls']);
    assert.deepEqual(problems, []);
    // NaN was written as null (JSON has no NaN) and the file is still accepted.
    const broken = path.join(root, 'broken');
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, 'experiment_mlp.json'), '{"format":"spacetime-probe-experiment/1","experiment":"mlp"');
    fs.writeFileSync(path.join(broken, 'experiment_neurons.json'), JSON.stringify({ ...results.get('neurons'), format: 'other/1' }));
    const read = await readRunExperiments(broken);
    assert.deepEqual(read.experiments, []);
    assert.equal(read.problems.length, 2);
    assert.match(read.problems[1], /experiment_neurons\.json: field "format": expected "spacetime-probe-experiment\/1"/);
  });

  test('one section per experiment, in order, each with charts and a summary', () => {
    const sections = experimentSections([...results.values()].reverse(), FALLBACK_THEME, 600);
    assert.deepEqual(sections.map((section) => section.experiment), ['prompt-variants', 'holdout', 'mlp', 'neurons', 'controls']);
    for (const section of sections) {
      assert.ok(section.charts.length >= 1, section.experiment);
      assert.ok(section.summary.length > 40);
    }
    const controls = sections.find((section) => section.experiment === 'controls');
    assert.match(controls?.summary ?? '', /Shuffled labels: at most/);
  });

  test('every chart of every section compiles and renders', async () => {
    for (const section of experimentSections([...results.values()], FALLBACK_THEME, 600)) {
      for (const chart of section.charts) {
        const scene = await render(chart.spec);
        assert.ok([...scene.values()].some((items) => items.length > 0), `${chart.id} draws something`);
      }
    }
  });

  test('cross-prompt heatmap: one cell per (train, test) pair with its R²', async () => {
    const result = results.get('prompt-variants') as PromptVariantsResult;
    const scene = await render(crossPromptSpec(result, FALLBACK_THEME, 600));
    const cells = (scene.get('rect') ?? []).filter((item) => item.datum?.train !== undefined); // not the legend's gradient
    assert.equal(cells.length, 9);
    for (const cell of result.cross) {
      const drawn = cells.find((item) => item.datum?.train === `T${cell.train + 1}: ${result.templates[cell.train].template}` && item.datum?.test === `T${cell.test + 1}: ${result.templates[cell.test].template}`);
      assert.equal(drawn?.datum?.r2, cell.testR2);
    }
  });

  test('holdout bars: two per block (held out, random) with the file\u2019s proximity errors', async () => {
    const result = results.get('holdout') as HoldoutResult;
    const bars = ((await render(holdoutSpec(result, FALLBACK_THEME, 600))).get('rect') ?? []).filter((bar) => bar.datum?.block !== undefined);
    assert.equal(bars.length, 2 * result.blocks.length);
    for (const block of result.blocks) {
      assert.equal(bars.find((bar) => bar.datum?.block === block.block && bar.datum?.split === 'Block held out')?.datum?.proximityError, block.holdout.proximityError);
      assert.equal(bars.find((bar) => bar.datum?.block === block.block && bar.datum?.split === 'Random rows held out')?.datum?.proximityError, block.random.proximityError);
    }
  });

  test('neuron view: a point per view entity at its true position, coloured by activation', async () => {
    const result = results.get('neurons') as NeuronsResult;
    const points = ((await render(neuronViewSpec(result, 0, FALLBACK_THEME, 600))).get('symbol') ?? []).filter((point) => point.datum?.row !== undefined);
    assert.equal(points.length, 40);
    const first = result.views.entities[0];
    const drawn = points.find((point) => point.datum?.row === first.row);
    assert.equal(drawn?.datum?.latitude, first.true[0]);
    assert.equal(drawn?.datum?.activation, result.views.neurons[0].values[0]);
  });

  test('neuron map: on a projection of the sphere (no ±200° axis), over the base map when given; PCA axis ends at the largest k', async () => {
    const result = results.get('neurons') as NeuronsResult;
    const world = { type: 'FeatureCollection', features: [{ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[0, 0], [10, 0], [10, 10], [0, 0]]] } }] };
    const spec = neuronViewSpec(result, 0, FALLBACK_THEME, 600, { data: world, format: { type: 'json', property: 'features' } }) as { projection?: { type: string }; layer: { mark: { type: string } }[] };
    assert.equal(spec.projection?.type, 'equalEarth');
    assert.deepEqual(spec.layer.map((layer) => layer.mark.type), ['geoshape', 'circle']);
    const scene = await render(spec);
    assert.equal((scene.get('shape') ?? []).length, 1, 'the base map is drawn');
    const controls = results.get('controls') as ControlsResult;
    const pca = pcaSpec(controls, 1, FALLBACK_THEME, 600) as { layer: { encoding?: { x?: { scale?: { domain?: number[]; nice?: boolean } } } }[] };
    assert.deepEqual(pca.layer[0].encoding?.x?.scale?.domain, [2, 4]);
  });

  test('PCA chart: test R² per k plus the all-dimensions rule; single-layer series become bars', async () => {
    const result = results.get('controls') as ControlsResult;
    const scene = await render(pcaSpec(result, 1, FALLBACK_THEME, 600));
    assert.deepEqual((scene.get('symbol') ?? []).filter((point) => point.datum?.k !== undefined).map((point) => point.datum?.k), [2, 4]);
    assert.deepEqual((scene.get('rule') ?? []).filter((rule) => rule.datum?.r2 !== undefined).map((rule) => rule.datum?.r2), [result.layers[1].linear.testR2]);
    const bars = ((await render(seriesByLayerSpec([{ layer: 0, series: 'a', value: 0.3 }, { layer: 0, series: 'b', value: Number.NaN }], ['a', 'b'], 't', 'R²', FALLBACK_THEME, 400))).get('rect') ?? [])
      .filter((bar) => bar.datum?.series !== undefined && bar.datum?.value !== undefined);
    assert.deepEqual(bars.map((bar) => bar.datum?.series), ['a'], 'non-finite values are dropped');
  });
});

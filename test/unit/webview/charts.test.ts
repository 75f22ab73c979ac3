import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { LayerResult, Prediction } from '../../../src/core/experiments/results';
import {
  FALLBACK_THEME, MAP_POINT_LIMIT, SHUFFLED_METRIC, compareChartSpec, contrastRatio, decadeSummary, layerChartSpec, layerMetricRows, mapSpec,
  chartConfig, groupScores, groupSpec, groupLayerRows, groupLayerSpec, groupPalette, groupScoresAtLayer, SPLIT_GROUP_LIMIT, predictionRows, runLabel, timeSpec, titledSpec, withContrast, wrapLongitude,
} from '../../../webview/src/charts';
import { fixed, formatValues, sortAndFilterRows } from '../../../webview/src/table';
import { EXTENT_FRAMES } from '../../../webview/src/geo';

interface SceneItem { fill?: string; stroke?: string; x?: number; y?: number; datum?: Record<string, unknown>; items?: SceneItem[]; marktype?: string }

/** Compiles a Vega-Lite spec and runs it headless in Vega (renderer none), returning the scene items by mark type. */
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

function layer(index: number, testR2: number, extra: Partial<LayerResult> = {}): LayerResult {
  return { index, alpha: 1, trainR2: testR2 + 0.05, testR2, testR2PerTarget: { year: testR2 }, pearson: { year: 0.9 }, spearman: { year: 0.8 }, proximityError: 10 - index, ...extra };
}

test('layerMetricRows has three metrics per layer and drops non-finite values', () => {
  const rows = layerMetricRows([layer(0, 0.1), layer(1, Number.NaN)]);
  assert.deepEqual(rows.filter((r) => r.layer === 0).map((r) => r.metric), ['Train R²', 'Test R²', 'Test Spearman ρ']);
  assert.deepEqual(rows.filter((r) => r.layer === 1).map((r) => r.metric), ['Test Spearman ρ']);
});

test('layer chart compiles, draws every layer and marks the best one', async () => {
  const layers = [layer(0, 0.1), layer(1, 0.5), layer(2, 0.7), layer(3, 0.6)];
  const scene = await render(layerChartSpec(layers, 2, FALLBACK_THEME, 500));
  const rules = scene.get('rule') ?? [];
  assert.ok(rules.some((r) => r.datum?.layer === 2), 'a rule at the best layer');
  const labels = (scene.get('text') ?? []).map((t) => t.datum?.label);
  assert.ok(labels.includes('best layer 2'));
  const points = (scene.get('symbol') ?? []).filter((s) => s.datum?.metric === 'Test R²');
  assert.deepEqual(points.map((p) => p.datum?.layer).sort(), [0, 1, 2, 3]);
});

test('a single-layer model gets labelled bars instead of a curve', async () => {
  const scene = await render(layerChartSpec([layer(0, 0.35, { proximityError: 0.26 })], 0, FALLBACK_THEME, 500));
  const bars = (scene.get('rect') ?? []).map((r) => r.datum?.metric).sort();
  assert.deepEqual(bars, ['Proximity error', 'Test R²', 'Test Spearman ρ', 'Train R²']);
  assert.ok((scene.get('text') ?? []).some((t) => t.datum?.value === 0.26));
});

test('compare chart uses relative depth when models have different depths', () => {
  const summary = { id: 'a', model: 'm', dataset: 'd', kind: 'time' as const, bestLayer: 1, bestTestR2: 0.5, createdAt: '2026-01-01T00:00:00Z' };
  const spec = compareChartSpec([{ summary, layers: [layer(0, 0.1), layer(1, 0.2)] }, { summary: { ...summary, id: 'b' }, layers: [layer(0, 0.1), layer(1, 0.2), layer(2, 0.3)] }], FALLBACK_THEME, 400) as { data: { values: { x: number }[] } };
  assert.deepEqual(spec.data.values.map((v) => v.x), [0, 1, 0, 0.5, 1]);
});

function prediction(row: number, truth: number[], predicted: number[], split: 'train' | 'test' = 'test'): Prediction {
  return { row, name: `e${row}`, split, true: truth, predicted };
}

test('map fits the frame of each extent: true positions inside the drawing area', async () => {
  for (const [extent, points] of [
    ['nyc', [[40.7128, -74.006], [40.6782, -73.9442], [40.8448, -73.8648], [40.5795, -74.1502]]],
    ['usa', [[40.7128, -74.006], [34.05, -118.24], [47.61, -122.33], [25.76, -80.19]]],
    ['world', [[48.85, 2.35], [-33.87, 151.21], [35.68, 139.69], [-22.9, -43.2]]],
  ] as const) {
    const rows = predictionRows('space', points.map((p, i) => prediction(i + 2, [...p], [p[0] + 0.01, p[1] + 0.01])));
    const width = 600;
    const spec = mapSpec(rows, extent, undefined, FALLBACK_THEME, width) as { height: number };
    const scene = await render(spec);
    const truePoints = (scene.get('symbol') ?? []).filter((s) => s.datum?.position === 'true');
    assert.equal(truePoints.length, points.length, extent);
    for (const p of truePoints) {
      assert.ok(p.x !== undefined && p.x >= 0 && p.x <= width && p.y !== undefined && p.y >= 0 && p.y <= spec.height,
        `${extent}: ${JSON.stringify(p.datum)} drawn at ${p.x},${p.y} outside ${width}x${spec.height}`);
    }
    // And zoomed to the extent, not the globe: points spread over the city/country span a good part of the width.
    const xs = truePoints.map((p) => p.x ?? 0);
    assert.ok(Math.max(...xs) - Math.min(...xs) > 0.3 * width, `${extent}: points span only ${Math.max(...xs) - Math.min(...xs)} px`);
    assert.ok(EXTENT_FRAMES[extent][2] > EXTENT_FRAMES[extent][0]);
  }
});

test('map draws an error line per entity and caps the number of entities', () => {
  const rows = predictionRows('space', Array.from({ length: MAP_POINT_LIMIT + 500 }, (_, i) => prediction(i + 2, [10, 10], [11, 11])));
  const spec = mapSpec(rows, 'world', undefined, FALLBACK_THEME, 600, { errorLines: true }) as unknown as { layer: { data: { values: unknown[] } }[] };
  assert.equal(spec.layer[0].data.values.length, MAP_POINT_LIMIT);
  assert.equal(spec.layer[1].data.values.length, 2 * MAP_POINT_LIMIT);
  // By default, error lines only up to 300 entities.
  const byDefault = mapSpec(rows, 'world', undefined, FALLBACK_THEME, 600) as unknown as { layer: { mark: { type: string } }[] };
  assert.deepEqual(byDefault.layer.map((layer) => layer.mark.type), ['circle']);
  const few = mapSpec(rows.slice(0, 300), 'world', undefined, FALLBACK_THEME, 600) as unknown as { layer: { mark: { type: string } }[] };
  assert.deepEqual(few.layer.map((layer) => layer.mark.type), ['rule', 'circle']);
});

test('paper-style map: predicted points coloured by true longitude', async () => {
  const rows = predictionRows('space', [prediction(2, [10, -120], [12, -100]), prediction(3, [40, 100], [35, 90])]);
  const scene = await render(mapSpec(rows, 'world', undefined, FALLBACK_THEME, 600, { colour: 'longitude' }));
  const points = (scene.get('symbol') ?? []).filter((point) => point.datum?.row !== undefined);
  assert.deepEqual(points.map((point) => point.datum?.position), ['predicted', 'predicted']);
  assert.deepEqual(points.map((point) => point.datum?.trueLongitude), [-120, 100]);
  const fills = points.map((point) => (point as { fill?: string }).fill);
  assert.notEqual(fills[0], fills[1], 'different true longitudes, different colours');
});

test('time views: decade summary is mean ± sd of predictions per true decade', async () => {
  const rows = predictionRows('time', [prediction(2, [1961], [1960]), prediction(3, [1969], [1970]), prediction(4, [1975], [1990])]);
  assert.deepEqual(decadeSummary(rows), [
    { decade: 1960, mean: 1965, low: 1960, high: 1970, count: 2 },
    { decade: 1970, mean: 1990, low: 1990, high: 1990, count: 1 },
  ]);
  const scene = await render(timeSpec(rows, FALLBACK_THEME, 800));
  const scatter = (scene.get('symbol') ?? []).filter((s) => s.datum?.trueYear !== undefined);
  assert.equal(scatter.length, 3);
});

test('table sorting: largest error first by default, stable by line, filter by name', () => {
  const rows = predictionRows('time', [prediction(5, [1900], [1950]), prediction(2, [1900], [1901]), prediction(3, [1900], [1950]), prediction(4, [1900], [1910])]);
  assert.deepEqual(sortAndFilterRows(rows, 'error', true, '').map((r) => r.row), [3, 5, 4, 2]);
  assert.deepEqual(sortAndFilterRows(rows, 'row', false, '').map((r) => r.row), [2, 3, 4, 5]);
  assert.deepEqual(sortAndFilterRows(rows, 'error', true, 'E4').map((r) => r.row), [4]);
});

function spaceLayer(index: number, lat: number, lon: number): LayerResult {
  return {
    index, alpha: 1, trainR2: 0.9, testR2: (lat + lon) / 2, testR2PerTarget: { latitude: lat, longitude: lon },
    pearson: { latitude: 0.5, longitude: 0.5 }, spearman: { latitude: 0.5, longitude: 0.6 }, proximityError: 0.4 - index / 20,
    testR2Interval: [(lat + lon) / 2 - 0.05, (lat + lon) / 2 + 0.05], proximityErrorInterval: [0.35 - index / 20, 0.45 - index / 20],
  };
}

test('layer chart: per-target test R² curves, bootstrap bands, the chance line and the shuffled-labels overlay', async () => {
  const layers = [spaceLayer(0, 0.1, 0.3), spaceLayer(1, 0.4, 0.6), spaceLayer(2, 0.5, 0.7)];
  const shuffled = [{ layer: 0, testR2: -0.01 }, { layer: 1, testR2: 0.0 }, { layer: 2, testR2: -0.02 }];
  const scene = await render(layerChartSpec(layers, 2, FALLBACK_THEME, 300, { shuffled }));
  const metrics = new Set((scene.get('symbol') ?? []).map((point) => point.datum?.metric));
  for (const metric of ['Train R²', 'Test R²', 'Test R² (latitude)', 'Test R² (longitude)', 'Test Spearman ρ', SHUFFLED_METRIC]) assert.ok(metrics.has(metric), metric);
  const areas = (scene.get('area') ?? []).map((area) => area.datum);
  assert.ok(areas.some((datum) => datum?.low === layers[1].testR2Interval![0]), 'test R² band');
  assert.ok(areas.some((datum) => datum?.low === layers[1].proximityErrorInterval![0]), 'proximity band');
  assert.ok((scene.get('rule') ?? []).some((rule) => rule.datum?.chance === 0.5), 'chance line at 0.5');
  assert.ok((scene.get('text') ?? []).some((text) => text.datum?.label === 'chance 0.5'));
  // Every point lies inside the plot: the x domain ends at the last layer (nothing past the right edge).
  const xs = (scene.get('symbol') ?? []).map((point) => point.x ?? 0);
  assert.ok(Math.max(...xs) <= 300 + 1e-9 && Math.min(...xs) >= 0, `x from ${Math.min(...xs)} to ${Math.max(...xs)}`);
  // The best-layer label of the last layer sits left of its rule.
  const best = (scene.get('text') ?? []).find((text) => text.datum?.label === 'best layer 2');
  assert.ok(best && (best.x ?? 0) <= 300);
  // Time datasets (one target): no per-target curves.
  const time = await render(layerChartSpec([layer(0, 0.1), layer(1, 0.2)], 1, FALLBACK_THEME, 300));
  assert.ok(!(time.get('symbol') ?? []).some((point) => String(point.datum?.metric).startsWith('Test R² (')));
});

test('single-layer chart: R² bars and proximity error on separate axes, interval rules, chance 0.5', async () => {
  const scene = await render(layerChartSpec([spaceLayer(0, 0.28, 0.42)], 0, FALLBACK_THEME, 300));
  const bars = (scene.get('rect') ?? []).map((rect) => rect.datum?.metric);
  assert.deepEqual(bars.filter((metric) => metric !== 'Proximity error').sort(), ['Test R²', 'Test R² (latitude)', 'Test R² (longitude)', 'Test Spearman ρ', 'Train R²']);
  assert.ok(bars.includes('Proximity error'));
  const rules = scene.get('rule') ?? [];
  assert.ok(rules.some((rule) => rule.datum?.low === 0.3), 'test R² interval drawn');
  assert.ok(rules.some((rule) => rule.datum?.chance === 0.5));
});

test('compare chart: quarter ticks in relative depth, short legend names, one-layer runs visible', async () => {
  const summary = { id: 'a', model: '/home/me/models/pythia-70m/', dataset: '/data/world_place.csv', kind: 'space' as const, bestLayer: 1, bestTestR2: 0.5, createdAt: '2026-01-01T10:20:00Z' };
  assert.equal(runLabel(summary), 'pythia-70m · world_place.csv · 01-01 10:20');
  const runs = [
    { summary, layers: [0, 1, 2, 3, 4].map((index) => layer(index, index / 10)) },
    { summary: { ...summary, id: 'b', model: 'builtin:glove-100d' }, layers: [layer(0, 0.35)] },
  ];
  const spec = compareChartSpec(runs, FALLBACK_THEME, 300) as { encoding: { x: { axis: { values: number[] } } } };
  assert.deepEqual(spec.encoding.x.axis.values, [0, 0.25, 0.5, 0.75, 1]);
  const scene = await render(spec);
  const points = scene.get('symbol') ?? [];
  assert.ok(points.some((point) => point.datum?.run === 'builtin:glove-100d · world_place.csv · 01-01 10:20'), 'the one-layer run has a point');
  assert.ok(!points.some((point) => String(point.datum?.run).includes('/home/')), 'no absolute paths in the legend');
});

test('theme colours are lifted to 3:1 contrast against the background when they lack it', () => {
  const dark = '#1e1e1e';
  assert.equal(withContrast('#3794ff', dark, '#cccccc'), '#3794ff', 'enough already');
  const faint = '#5a3a10';
  const lifted = withContrast(faint, dark, '#cccccc');
  assert.notEqual(lifted, faint);
  assert.ok((contrastRatio(lifted, dark) ?? 0) >= 3, lifted);
  assert.ok((contrastRatio('#ffffff', '#000000') ?? 0) > 20);
  assert.equal(withContrast('var(--x)', dark, '#cccccc'), 'var(--x)', 'unparseable colours are left alone');
  // A translucent theme colour (Dark Modern's charts.orange is the find-match highlight) is taken opaque.
  assert.equal(withContrast('#ea5c0055', dark, '#cccccc'), '#ea5c00');
  assert.equal(withContrast('rgba(234, 92, 0, 0.33)', dark, '#cccccc'), '#ea5c00');
  assert.equal(withContrast('#ea5c00ff', dark, '#cccccc'), '#ea5c00ff', 'an opaque alpha changes nothing');
});

test('exported charts carry a title with the run: dataset, model, prompt, token, split, date', async () => {
  const summary = { id: 'a', model: 'builtin:glove-100d', dataset: 'world_places', kind: 'space' as const, bestLayer: 0, bestTestR2: 0.35, createdAt: '2026-12-01T16:20:00Z' };
  const results = {
    format: 'spacetime-probe-results/1' as const, kind: 'space' as const, targets: ['latitude', 'longitude'], split: { method: 'is_test' as const, train: 30, test: 10 },
    alphas: [1], layers: [spaceLayer(0, 0.3, 0.4)], bestLayer: 0, predictions: [], prompt: 'Where is {entity}?', token: 'entity-last' as const, createdAt: '2026-12-01T16:20:00Z',
  };
  const spec = titledSpec(layerChartSpec(results.layers, 0, FALLBACK_THEME, 300), { summary, results }, 'Layers');
  await render(spec); // compiles and runs with the title
  const all = JSON.stringify(spec);
  assert.match(all, /world_places · builtin:glove-100d — Layers/);
  assert.match(all, /prompt \\"Where is \{entity\}\?\\" · token entity-last · 30 train \/ 10 test · 2026-12-01 16:20/);
  assert.match(all, /Probe fit \(single layer 0\)/, 'the chart\'s own title kept as a subtitle');
});

test('numbers never read "-0.000"', () => {
  assert.equal(fixed(-0.00001, 3), '0.000');
  assert.equal(fixed(-0.0004, 3), '0.000');
  assert.equal(fixed(-0.0006, 3), '-0.001');
  assert.equal(formatValues('space', [-0.0001, 12.34567]), '0.000, 12.346');
});

test('predicted longitudes are wrapped into [-180, 180] on the map', () => {
  assert.deepEqual([200, -190, 180, -180, 540, 12.5].map(wrapLongitude), [-160, 170, 180, -180, 180 - 360, 12.5]);
  const spec = mapSpec(predictionRows('space', [prediction(2, [10, 170], [12, 195])]), 'world', undefined, FALLBACK_THEME, 400) as { layer: { data: { values: Record<string, unknown>[] } }[] };
  const points = spec.layer.flatMap((layer) => layer.data.values).filter((value) => value.position === 'predicted');
  assert.deepEqual(points.map((point) => point.longitude), [-165]);
});

test('breakdown by a metadata column: test R² within each group of 5+ test rows, largest first; the filter searches metadata', async () => {
  const make = (row: number, type: string, truth: number, predicted: number, split: 'train' | 'test' = 'test'): Prediction => ({ ...prediction(row, [truth], [predicted], split), metadata: { type, country: type === 'city' ? 'FR' : 'US' } });
  const predictions = [
    ...[1, 2, 3, 4, 5, 6].map((k) => make(k, 'city', 1900 + 10 * k, 1900 + 10 * k + (k % 2 ? 5 : -5))),
    ...[1, 2, 3, 4, 5].map((k) => make(20 + k, 'river', 1800 + 20 * k, 1850)),
    ...[1, 2].map((k) => make(40 + k, 'lake', 1700, 1750)),
    make(50, 'city', 1000, 2000, 'train'),
  ];
  const rows = predictionRows('time', predictions);
  const scores = groupScores(rows, 'type');
  assert.deepEqual(scores.map((score) => [score.group, score.count]), [['city', 6], ['river', 5]], 'lake (2 rows) and the train row are left out');
  // Plain R² of the city group.
  const truth = [1, 2, 3, 4, 5, 6].map((k) => 1900 + 10 * k);
  const predicted = [1, 2, 3, 4, 5, 6].map((k) => 1900 + 10 * k + (k % 2 ? 5 : -5));
  const average = truth.reduce((a, b) => a + b, 0) / truth.length;
  const plain = 1 - truth.reduce((sum, t, i) => sum + (t - predicted[i]) ** 2, 0) / truth.reduce((sum, t) => sum + (t - average) ** 2, 0);
  assert.ok(Math.abs(scores[0].r2 - plain) < 1e-12);
  assert.ok(Math.abs(scores[1].r2 - -0) < 1 && scores[1].r2 < 0.01, 'a constant prediction scores ≤ 0 within its group');
  const scene = await render(groupSpec(scores, 'type', 3, FALLBACK_THEME, 400));
  assert.deepEqual((scene.get('rect') ?? []).map((bar) => bar.datum?.group), ['city', 'river']);
  assert.deepEqual(sortAndFilterRows(rows, 'row', false, 'us').map((r) => r.row), [21, 22, 23, 24, 25, 41, 42], 'filter matches metadata values');
});

test('tooltips without a format of their own show 4 significant digits, not raw floats', async () => {
  const vl = await import('vega-lite');
  const spec = { config: chartConfig(FALLBACK_THEME), data: { values: [{ x: 1, y: 0.174023180855 }] }, mark: { type: 'point', tooltip: true }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } };
  const compiled = JSON.stringify(vl.compile(spec as Parameters<typeof vl.compile>[0]).spec);
  assert.match(compiled, /format\(datum\[\\"y\\"\], \\"\.4~g\\"\)/);
});

test('map coloured by a metadata column: predicted points by their value, the rarest beyond ten as "other"', async () => {
  const predictions: Prediction[] = Array.from({ length: 24 }, (_, i) => ({
    ...prediction(i + 2, [10 + i, 20 + i], [11 + i, 21 + i]),
    metadata: { type: i < 12 ? 'city' : i < 13 ? '' : `kind${i}` },
  }));
  const scene = await render(mapSpec(predictionRows('space', predictions), 'world', undefined, FALLBACK_THEME, 600, { colourBy: 'type' }));
  const points = (scene.get('symbol') ?? []).filter((point) => point.datum?.row !== undefined);
  assert.equal(points.length, 24, 'predicted points only');
  const groups = new Map(points.map((point) => [point.datum?.row, point.datum?.group]));
  assert.equal(groups.get(2), 'city');
  assert.equal(groups.get(14), '(none)');
  // kind13 … kind23 are 11 values of one row each: 9 of them fit beside "city" in the top ten, the last two are "other".
  assert.equal([...groups.values()].filter((group) => group === 'other').length, 2);
});

test('split by a column across layers: one line per group from results.json groups, legend with n, overall muted, best layer marked', async () => {
  const groups = (index: number): LayerResult['groups'] => ({
    type: {
      city: { n: 40, r2: 0.1 * index, r2PerTarget: { year: 0.1 * index }, proximityError: 0.4 },
      river: { n: 12, r2: -3 + index, r2PerTarget: { year: -3 + index }, proximityError: 0.45 },
      lake: { n: 6, r2: Number.NaN, r2PerTarget: { year: Number.NaN }, proximityError: Number.NaN },
    },
  });
  const layers = [0, 1, 2, 3].map((index) => layer(index, 0.2 * index, { groups: groups(index) }));
  const order = ['city', 'river', 'lake'];
  const rows = groupLayerRows(layers, 'type', order);
  assert.deepEqual(rows.filter((row) => row.layer === 2).map((row) => [row.group, row.label, row.r2]), [['city', 'city (n=40)', 0.2], ['river', 'river (n=12)', -1]],
    'lake has no finite R² and is dropped');
  assert.equal(groupLayerRows(layers, 'type', order, 1).length, 4, 'the limit keeps the largest groups');
  const scene = await render(groupLayerSpec(layers, 'type', order, 3, FALLBACK_THEME, 355));
  const points = (scene.get('symbol') ?? []).filter((item) => item.datum?.layer !== undefined && item.datum?.group !== undefined);
  const byGroup = (group: string): SceneItem[] => points.filter((item) => item.datum?.group === group);
  assert.deepEqual(byGroup('city').map((item) => item.datum?.layer).sort(), [0, 1, 2, 3]);
  assert.deepEqual(byGroup('river').map((item) => item.datum?.shown), [-1, -1, -1, 0], 'R² below −1 is clipped for drawing');
  assert.deepEqual(byGroup('river').map((item) => item.datum?.r2), [-3, -2, -1, 0], 'the tooltip keeps the true R²');
  assert.equal(byGroup('all test entities').length, 4);
  assert.equal(byGroup('city')[0].fill, FALLBACK_THEME.series[0]);
  assert.equal(byGroup('river')[0].fill, FALLBACK_THEME.series[1]);
  assert.equal(byGroup('all test entities')[0].fill, FALLBACK_THEME.mutedForeground);
  const legend = (scene.get('text') ?? []).map((item) => item.datum?.label ?? item.datum?.value).filter((label) => typeof label === 'string');
  assert.ok(legend.includes('city (n=40)') && legend.includes('river (n=12)'), JSON.stringify(legend));
  assert.ok((scene.get('rule') ?? []).some((item) => item.datum?.layer === 3), 'the best layer is marked');
  // A one-layer model gets bars from the same groups.
  assert.deepEqual(groupScoresAtLayer(layers[1], 'type', order).map((score) => [score.group, score.count, score.r2]), [['city', 40, 0.1], ['river', 12, -2], ['lake', 6, Number.NaN]]);
});

test('split chart of a space run: the tooltip carries R² per target within the group', async () => {
  const two = { latitude: 0.5, longitude: 0.3 };
  const layers = [0, 1].map((index) => layer(index, 0.4, {
    testR2PerTarget: two,
    groups: { type: { city: { n: 9, r2: 0.4, r2PerTarget: two, proximityError: 0.2 }, lake: { n: 5, r2: 0.1, r2PerTarget: { latitude: 0.2, longitude: 0 }, proximityError: 0.3 } } },
  }));
  const spec = groupLayerSpec(layers, 'type', ['city', 'lake'], 1, FALLBACK_THEME, 500);
  assert.ok(JSON.stringify(spec).includes('"field":"r2PerTarget.longitude","title":"Test R² (longitude)"'));
  const scene = await render(spec);
  const lake = (scene.get('symbol') ?? []).find((item) => item.datum?.group === 'lake');
  assert.deepEqual(lake?.datum?.r2PerTarget, { latitude: 0.2, longitude: 0 });
});

test('group colours: the theme\'s six, then the same hues towards the text colour, all distinct; the map uses the split\'s order', async () => {
  const palette = groupPalette(FALLBACK_THEME, SPLIT_GROUP_LIMIT);
  assert.equal(new Set(palette).size, SPLIT_GROUP_LIMIT);
  assert.deepEqual(palette.slice(0, 6), [...FALLBACK_THEME.series]);
  // #3794ff halfway to #cccccc.
  assert.equal(palette[6], '#82b0e6');
  const predictions: Prediction[] = Array.from({ length: 30 }, (_, i) => ({
    ...prediction(i + 2, [10 + i, 20 + i], [11 + i, 21 + i]),
    // More mountains are shown than rivers, but the split's order (by test entities) puts river first.
    metadata: { type: i < 10 ? 'city' : i < 22 ? 'mountain' : i < 29 ? 'river' : 'lake' },
  }));
  const order = ['city', 'river', 'mountain'];
  const scene = await render(mapSpec(predictionRows('space', predictions), 'world', undefined, FALLBACK_THEME, 600, { colourBy: 'type', groupOrder: order }));
  const fillOf = new Map((scene.get('symbol') ?? []).filter((item) => item.datum?.row !== undefined).map((item) => [item.datum?.group, item.fill]));
  assert.equal(fillOf.get('city'), palette[0]);
  assert.equal(fillOf.get('river'), palette[1]);
  assert.equal(fillOf.get('mountain'), palette[2]);
  assert.equal(fillOf.get('other'), FALLBACK_THEME.mutedForeground, 'lake is not among the split\'s groups');
  const spec = JSON.stringify(mapSpec(predictionRows('space', predictions), 'world', undefined, FALLBACK_THEME, 600, { colourBy: 'type', groupOrder: order }));
  assert.ok(spec.includes('"domain":["city","river","mountain","other"]'), 'the legend lists the values drawn, not an absent "(none)"');
});

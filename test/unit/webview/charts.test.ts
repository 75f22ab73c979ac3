import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { LayerResult, Prediction } from '../../../src/core/experiments/results';
import {
  FALLBACK_THEME, MAP_POINT_LIMIT, compareChartSpec, decadeSummary, layerChartSpec, layerMetricRows, mapSpec, predictionRows, timeSpec,
} from '../../../webview/src/charts';
import { sortAndFilterRows } from '../../../webview/src/table';
import { EXTENT_FRAMES } from '../../../webview/src/geo';

interface SceneItem { x?: number; y?: number; datum?: Record<string, unknown>; items?: SceneItem[]; marktype?: string }

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
  const spec = mapSpec(rows, 'world', undefined, FALLBACK_THEME, 600) as unknown as { layer: { data: { values: unknown[] } }[] };
  assert.equal(spec.layer[0].data.values.length, MAP_POINT_LIMIT);
  assert.equal(spec.layer[1].data.values.length, 2 * MAP_POINT_LIMIT);
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

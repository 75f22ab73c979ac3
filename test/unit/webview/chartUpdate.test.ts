import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Prediction } from '../../../src/core/experiments/results';
import { FALLBACK_THEME, layerChartSpec, mapSpec, predictionRows } from '../../../webview/src/charts';
import { canUpdateInPlace, hoistInlineData, updateInPlace } from '../../../webview/src/chartUpdate';

function places(shift: number, count = 50): Prediction[] {
  return Array.from({ length: count }, (_, i) => ({
    row: i + 2, name: `Place ${i}`, split: i % 2 ? 'test' : 'train',
    true: [(i % 30) * 2 - 30, (i * 7) % 300 - 150], predicted: [(i % 30) * 2 - 30 + shift, (i * 7) % 300 - 150 - shift * 2],
  }) satisfies Prediction);
}

async function view(spec: object): Promise<import('vega').View> {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const result = new vega.View(vega.parse(vl.compile(spec as Parameters<typeof vl.compile>[0]).spec), { renderer: 'none' });
  await result.runAsync();
  return result;
}

test('a chart updated in place with the next spec\'s data draws what a fresh embed of that spec draws', async () => {
  const draw = (shift: number) => hoistInlineData(mapSpec(predictionRows('space', places(shift)), 'world', undefined, FALLBACK_THEME, 500, { errorLines: true }));
  const before = draw(0);
  const after = draw(4.5);
  assert.ok(canUpdateInPlace(before, after), 'same chart but for the points');
  assert.ok(Object.keys(after.datasets).length >= 2, 'the error lines and the points are both named datasets');
  // Clip-path ids come from a counter shared by all views.
  const svg = async (drawn: import('vega').View): Promise<string> => (await drawn.toSVG()).replace(/clip\d+/g, 'clip');
  const fresh = await view(after.spec);
  const updated = await view(before.spec);
  const beforeSvg = await svg(updated);
  const vega = await import('vega');
  let modified = 0;
  await updateInPlace(updated, after, () => {
    const changes = vega.changeset();
    const modify = changes.modify.bind(changes);
    changes.modify = (tuple, field, value) => { modified++; return modify(tuple, field, value); };
    return changes;
  });
  assert.ok(modified > 0, 'the moved points were modified field by field, not replaced');
  const expected = await svg(fresh);
  assert.notEqual(beforeSvg, expected, 'the data changed what is drawn');
  assert.equal(await svg(updated), expected);
  fresh.finalize();
  updated.finalize();
});

test('only specs that differ in their inline arrays alone are updated in place', () => {
  const rows = predictionRows('space', places(1));
  const base = hoistInlineData(mapSpec(rows, 'world', undefined, FALLBACK_THEME, 500));
  assert.ok(canUpdateInPlace(base, hoistInlineData(mapSpec(predictionRows('space', places(2)), 'world', undefined, FALLBACK_THEME, 500))));
  assert.equal(canUpdateInPlace(undefined, base), false);
  assert.equal(canUpdateInPlace(base, hoistInlineData(mapSpec(rows, 'world', undefined, FALLBACK_THEME, 640))), false, 'another width');
  assert.equal(canUpdateInPlace(base, hoistInlineData(mapSpec(rows, 'usa', undefined, FALLBACK_THEME, 500))), false, 'another extent');
  assert.equal(canUpdateInPlace(base, hoistInlineData(mapSpec(rows, 'world', undefined, FALLBACK_THEME, 500, { colour: 'longitude' }))), false, 'another colouring');
  assert.equal(canUpdateInPlace(base, hoistInlineData(mapSpec(rows, 'world', undefined, FALLBACK_THEME, 500, { errorLines: false }))), false, 'a layer less (50 entities have error lines by default)');
  const layers = hoistInlineData(layerChartSpec([{ index: 0, alpha: 1, trainR2: 0.5, testR2: 0.4, testR2PerTarget: { year: 0.4 }, pearson: { year: 0.7 }, spearman: { year: 0.7 }, proximityError: 0.2 }], 0, FALLBACK_THEME, 500));
  assert.equal(canUpdateInPlace(base, layers), false, 'another chart');
});

test('hoisting leaves data with a format (the base map) inline and the caller\'s spec untouched', () => {
  const baseMap = { data: { type: 'Topology', objects: {}, arcs: [] }, format: { type: 'topojson' as const, feature: 'countries' } };
  const spec = mapSpec(predictionRows('space', places(0, 3)), 'world', baseMap, FALLBACK_THEME, 500);
  const copy = JSON.stringify(spec);
  const prepared = hoistInlineData(spec);
  assert.equal(JSON.stringify(spec), copy);
  const layer = (prepared.spec as unknown as { layer: { data: Record<string, unknown> }[] }).layer;
  assert.deepEqual(layer[0].data, { values: baseMap.data, format: baseMap.format });
  assert.deepEqual(layer[1].data, { name: 'spacetime_inline_0' });
  assert.deepEqual(layer[2].data, { name: 'spacetime_inline_1' });
  assert.equal((prepared.datasets.spacetime_inline_0 as unknown[]).length, 3, 'an error line per entity');
  assert.equal((prepared.datasets.spacetime_inline_1 as unknown[]).length, 6, 'true and predicted point of 3 entities');
});

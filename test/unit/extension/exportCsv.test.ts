import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { exportBaseName, layerMetricsCsv, predictionsCsv } from '../../../src/extension/runs/exportCsv';
import { parseCsv } from '../../../src/core/datasets/csv';
import { RESULTS_FORMAT, type GroupResult, type ProbeResults } from '../../../src/core/experiments/results';
import { greatCircleKm } from '../../../webview/src/geo';

const results: ProbeResults = {
  format: RESULTS_FORMAT, kind: 'space', targets: ['latitude', 'longitude'], split: { method: 'is_test', train: 1, test: 1 }, alphas: [1, 10],
  layers: [
    { index: 0, alpha: 10, trainR2: 0.2, testR2: 0.1, testR2PerTarget: { latitude: 0.15, longitude: 0.05 }, pearson: { latitude: 0.4, longitude: 0.3 }, spearman: { latitude: 0.35, longitude: 0.25 }, proximityError: 0.3 },
    { index: 1, alpha: 1, trainR2: 0.9, testR2: Number.NaN, testR2PerTarget: { latitude: 0.8, longitude: 0.7 }, pearson: { latitude: 0.9, longitude: 0.85 }, spearman: { latitude: 0.88, longitude: 0.8 }, proximityError: 0.1 },
  ],
  bestLayer: 1,
  predictions: [
    { row: 2, name: 'Paris, "City of Light"', split: 'train', true: [48.8566, 2.3522], predicted: [47, 3] },
    { row: 3, name: '<img src=x onerror=alert(1)>', split: 'test', true: [51.5072, -0.1276], predicted: [50, 1] },
  ],
};

test('predictions CSV round-trips through a CSV parser, names quoted, errors in km', () => {
  const { records } = parseCsv(predictionsCsv(results));
  const rows = records.map((r) => r.fields.map((f) => f.value));
  assert.deepEqual(rows[0], ['line', 'name', 'split', 'true_latitude', 'true_longitude', 'predicted_latitude', 'predicted_longitude', 'error_km']);
  assert.equal(rows[1][1], 'Paris, "City of Light"');
  assert.equal(rows[2][1], '<img src=x onerror=alert(1)>');
  assert.equal(Number(rows[2][7]), greatCircleKm([51.5072, -0.1276], [50, 1]));
  assert.equal(rows.length, 3);
});

test('layer metrics CSV has one row per layer, empty cells for non-finite values, best layer flagged', () => {
  const { records } = parseCsv(layerMetricsCsv(results));
  const rows = records.map((r) => r.fields.map((f) => f.value));
  assert.equal(rows[0].join(','), 'layer,alpha,train_r2,test_r2,test_r2_latitude,test_r2_longitude,pearson_latitude,pearson_longitude,spearman_latitude,spearman_longitude,proximity_error,best');
  assert.deepEqual(rows[1].slice(0, 4), ['0', '10', '0.2', '0.1']);
  assert.equal(rows[2][3], '');
  assert.deepEqual(rows.slice(1).map((r) => r[11]), ['false', 'true']);
});

test('export file names: dataset stem, model name, date, table — no squashed paths', () => {
  assert.equal(exportBaseName({ dataset: 'world_place_3k.csv', model: '/tmp/models/gpt2-tiny/', createdAt: '2026-12-01T16:20:31.123Z' }, 'layers'),
    'world_place_3k_gpt2-tiny_2026-12-01_1620_layers');
  assert.equal(exportBaseName({ dataset: 'world_places', model: 'builtin:glove-100d', createdAt: '2026-12-01T16:20:31Z' }),
    'world_places_glove-100d_2026-12-01_1620');
  assert.equal(exportBaseName({ dataset: 'C:\\data\\héllo wörld.jsonl', model: 'hf:EleutherAI/pythia-70m@main', createdAt: '2026-01-02T03:04:00Z' }, 'predictions'),
    'héllo-wörld_pythia-70m-main_2026-01-02_0304_predictions');
});

test('predictions CSV keeps the metadata columns of the dataset', () => {
  const withMetadata: ProbeResults = {
    ...results,
    predictions: results.predictions.map((p, i) => ({ ...p, metadata: (i === 0 ? { type: 'city', country: 'FR, "x"' } : { type: 'river' }) as Record<string, string> })),
  };
  const rows = parseCsv(predictionsCsv(withMetadata)).records.map((record) => record.fields.map((field) => field.value));
  assert.deepEqual(rows[0].slice(0, 5), ['line', 'name', 'split', 'type', 'country']);
  assert.deepEqual(rows[1].slice(3, 5), ['city', 'FR, "x"']);
  assert.deepEqual(rows[2].slice(3, 5), ['river', '']);
});

test('layer metrics CSV ends with the metadata breakdown: test R² and proximity error per group, per layer', () => {
  const score = (r2: number) => ({ n: 7, r2, r2PerTarget: { latitude: r2, longitude: r2 }, proximityError: 0.25 });
  const withGroups: ProbeResults = {
    ...results,
    groupBreakdown: { minTestEntities: 5, maxValues: 20, columns: { type: { values: ['city', 'big, "river"'], smallGroups: 0, smallGroupEntities: 0, missing: 0 } } },
    layers: results.layers.map((layer, i) => ({ ...layer, groups: { type: (i === 0 ? { city: score(0.5), 'big, "river"': score(-0.2) } : { city: score(0.6) }) as Record<string, GroupResult> } })),
  };
  const rows = parseCsv(layerMetricsCsv(withGroups)).records.map((record) => record.fields.map((field) => field.value));
  assert.deepEqual(rows[0].slice(12), ['test_r2[type=city]', 'proximity_error[type=city]', 'test_r2[type=big, "river"]', 'proximity_error[type=big, "river"]']);
  assert.deepEqual(rows[1].slice(12), ['0.5', '0.25', '-0.2', '0.25']);
  assert.deepEqual(rows[2].slice(12), ['0.6', '0.25', '', ''], 'a group a layer lacks is an empty cell');
  assert.equal(layerMetricsCsv(results).split('\n')[0].split(',').length, 12, 'no breakdown, no extra columns');
});

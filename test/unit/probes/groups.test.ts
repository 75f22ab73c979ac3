/**
 * The metadata breakdown (R² and proximity error per entity type, per layer) against a plain computation: each
 * layer's predictions are taken from probeActivations' own per-layer sink, the test rows grouped by hand, and
 * R² (1 − SS_res/SS_tot against the group's mean) and the proximity error (the paper's count over the group's
 * other members, ties half) written out here as loops — no code shared with src/core/probes/metrics.ts.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chooseGroupColumns } from '../../../src/core/probes/groups';
import { mulberry32 } from '../../../src/core/probes/split';
import { probeActivations } from '../../../src/core/experiments/probeActivations';
import { writeActivationManifest, layerFileName, ACTIVATIONS_FORMAT } from '../../../src/core/activations/manifest';
import { writeNpy } from '../../../src/core/activations/npy';
import type { Dataset } from '../../../src/core/datasets/types';

/** R² of one target column over `rows`, by the textbook formula. */
function plainR2(truth: number[][], predicted: number[][], column: number): number {
  const values = truth.map((row) => row[column]);
  const average = values.reduce((sum, value) => sum + value, 0) / values.length;
  let residual = 0;
  let total = 0;
  values.forEach((value, i) => {
    residual += (value - predicted[i][column]) ** 2;
    total += (value - average) ** 2;
  });
  return 1 - residual / total;
}

/** Haversine great-circle distance in km (mean Earth radius), [lat, lon] degrees. */
function haversine(a: number[], b: number[]): number {
  const rad = Math.PI / 180;
  const dLat = (b[0] - a[0]) * rad;
  const dLon = (b[1] - a[1]) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[0] * rad) * Math.cos(b[0] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The paper's proximity error within a group: for each member, the share of other members predicted closer to its truth. */
function plainProximity(truth: number[][], predicted: number[][], distance: (a: number[], b: number[]) => number): number {
  const n = truth.length;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const own = distance(truth[i], predicted[i]);
    let count = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const other = distance(truth[i], predicted[j]);
      count += other < own ? 1 : other === own ? 0.5 : 0;
    }
    sum += count / (n - 1);
  }
  return sum / n;
}

function activationFolder(x: Float32Array[], rows: number[], hidden: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'groups-probe-'));
  x.forEach((values, layer) => writeNpy(path.join(dir, layerFileName(layer)), values, [rows.length, hidden]));
  writeActivationManifest(dir, {
    format: ACTIVATIONS_FORMAT, model: 'test', prompt: '{entity}', dataset: 'test.csv', numEntities: rows.length, hiddenSize: hidden,
    rows, layers: x.map((_, layer) => ({ index: layer, file: layerFileName(layer) })),
  });
  return dir;
}

test('per-layer R² and proximity error per type equal a plain computation from each layer\'s test predictions (space)', async () => {
  const random = mulberry32(5);
  const n = 160;
  const hidden = 6;
  const types = Array.from({ length: n }, (_, k) => (k % 40 === 3 ? 'lake' : k % 17 === 0 ? '' : k % 3 === 0 ? 'river' : k % 5 === 0 ? 'mountain' : 'city'));
  const places = Array.from({ length: n }, () => [120 * random() - 60, 300 * random() - 150]);
  // Layer 0 is noise; layer 1 reads latitude and longitude (plus noise), better for cities than for rivers.
  const layers = [0, 1].map((layer) => Float32Array.from({ length: n * hidden }, (_, index) => {
    const row = Math.floor(index / hidden);
    const feature = index % hidden;
    const noise = (types[row] === 'river' ? 3 : 1) * (random() - 0.5);
    return layer === 1 && feature < 2 ? places[row][feature] / 60 + noise : random();
  }));
  const rows = places.map((_, k) => k + 2);
  const dir = activationFolder(layers, rows, hidden);
  try {
    const dataset: Dataset = {
      source: 'test.csv', kind: 'space', targets: ['latitude', 'longitude'], problems: [],
      entities: places.map((place, k) => ({
        line: k + 2, name: `e${k}`, target: place, isTest: k % 3 !== 1,
        metadata: { type: types[k], code: `c${k}`, source: 'geonames', borough: k % 2 ? 'A' : 'B' },
      })),
    };
    const perLayer = new Map<number, Float64Array>();
    const results = await probeActivations(dir, dataset, { bootstrap: false }, (layer, predictions) => perLayer.set(layer, Float64Array.from(predictions)));
    const testRows = places.map((_, k) => k).filter((k) => k % 3 !== 1);
    const breakdown = results.groupBreakdown;
    assert.ok(breakdown, 'groupBreakdown');
    // `code` has a value per row (too many to break down), `source` is provenance (never a breakdown).
    assert.deepEqual(Object.keys(breakdown.columns).sort(), ['borough', 'type']);
    assert.match(breakdown.leftOut?.code ?? '', /distinct values among the test entities \(more than 20\)/);
    assert.equal(breakdown.leftOut?.source, undefined);
    const count = (value: string): number => testRows.filter((k) => types[k] === value).length;
    assert.ok(count('lake') > 0 && count('lake') < 5, `the lake group is small (${count('lake')})`);
    assert.deepEqual(breakdown.columns.type, {
      values: ['city', 'river', 'mountain'].sort((a, b) => count(b) - count(a) || a.localeCompare(b)),
      smallGroups: 1, smallGroupEntities: count('lake'), missing: count(''),
    });

    for (const layer of results.layers) {
      const predictions = perLayer.get(layer.index)!;
      const groups = layer.groups?.type;
      assert.ok(groups, `layer ${layer.index} has groups`);
      assert.deepEqual(Object.keys(groups).sort(), ['city', 'mountain', 'river']);
      for (const [value, scores] of Object.entries(groups)) {
        const members = testRows.filter((k) => types[k] === value);
        const truth = members.map((k) => places[k]);
        const predicted = members.map((k) => [predictions[2 * k], predictions[2 * k + 1]]);
        const lat = plainR2(truth, predicted, 0);
        const lon = plainR2(truth, predicted, 1);
        assert.equal(scores.n, members.length);
        assert.ok(Math.abs(scores.r2PerTarget.latitude - lat) < 1e-10, `layer ${layer.index} ${value} latitude R² ${scores.r2PerTarget.latitude} vs ${lat}`);
        assert.ok(Math.abs(scores.r2PerTarget.longitude - lon) < 1e-10);
        assert.ok(Math.abs(scores.r2 - (lat + lon) / 2) < 1e-10);
        const proximity = plainProximity(truth, predicted, haversine);
        assert.ok(Math.abs(scores.proximityError - proximity) < 1e-12, `layer ${layer.index} ${value} proximity ${scores.proximityError} vs ${proximity}`);
      }
    }
    // The planted signal shows in the breakdown: at the reading layer, cities are placed better than noisy rivers.
    const reading = results.layers[1].groups!.type;
    assert.ok(reading.city.r2 > reading.river.r2 && reading.city.r2 > 0.5, JSON.stringify(reading));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('time datasets: per-group R² and |Δyear| proximity by hand; no column qualifies → no groups', async () => {
  const random = mulberry32(9);
  const n = 90;
  const hidden = 4;
  const years = Array.from({ length: n }, () => 1500 + 500 * random());
  const kinds = Array.from({ length: n }, (_, k) => (k % 8 === 0 ? 'birth' : 'death'));
  const x = Float32Array.from({ length: n * hidden }, (_, index) => (index % hidden === 0 ? (years[Math.floor(index / hidden)] - 1750) / 100 + random() : random()));
  const dir = activationFolder([x], years.map((_, k) => k + 2), hidden);
  try {
    const entities = years.map((year, k) => ({ line: k + 2, name: `e${k}`, target: [year], isTest: k % 4 === 0, metadata: { type: kinds[k] } }));
    const dataset: Dataset = { source: 'test.csv', kind: 'time', targets: ['year'], problems: [], entities };
    let predictions = new Float64Array(0);
    const results = await probeActivations(dir, dataset, { bootstrap: false }, (_, values) => { predictions = Float64Array.from(values); });
    for (const value of ['birth', 'death']) {
      const members = entities.map((_, k) => k).filter((k) => k % 4 === 0 && kinds[k] === value);
      const truth = members.map((k) => [years[k]]);
      const predicted = members.map((k) => [predictions[k]]);
      const scores = results.layers[0].groups!.type[value];
      assert.ok(Math.abs(scores.r2 - plainR2(truth, predicted, 0)) < 1e-10);
      assert.ok(Math.abs(scores.proximityError - plainProximity(truth, predicted, (a, b) => Math.abs(a[0] - b[0]))) < 1e-12);
    }

    // One type only: a breakdown would repeat the overall score, so none is written (and the reason is).
    const single = await probeActivations(dir, { ...dataset, entities: entities.map((entity) => ({ ...entity, metadata: { type: 'birth' } })) }, { bootstrap: false });
    assert.equal(single.layers[0].groups, undefined);
    assert.deepEqual(single.groupBreakdown?.columns, {});
    assert.match(single.groupBreakdown?.leftOut?.type ?? '', /fewer than two values with 5\+ test entities/);
    // No metadata at all: neither field.
    const none = await probeActivations(dir, { ...dataset, entities: entities.map((entity) => ({ ...entity, metadata: {} })) }, { bootstrap: false });
    assert.equal(none.groupBreakdown, undefined);
    assert.equal(none.layers[0].groups, undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('chooseGroupColumns: thresholds are parameters, values ordered by size then name', () => {
  const metadata: Record<string, string>[] = [{ t: 'b' }, { t: 'a' }, { t: 'b' }, { t: 'a' }, { t: 'c' }, {}];
  const choice = chooseGroupColumns(metadata, [0, 1, 2, 3, 4, 5], { minTestEntities: 2 });
  assert.deepEqual(choice.columns.map((column) => ({ ...column, groups: column.groups.map((g) => [g.value, [...g.rows]]) })),
    [{ column: 't', groups: [['a', [1, 3]], ['b', [0, 2]]], smallGroups: 1, smallGroupEntities: 1, missing: 1 }]);
  assert.deepEqual(chooseGroupColumns(metadata, [0, 1, 2, 3, 4], { maxValues: 2 }).leftOut, { t: '3 distinct values among the test entities (more than 2)' });
});

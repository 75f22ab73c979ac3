import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Prediction } from '../../../src/core/experiments/results';
import { applyPredictionsDelta, diffPredictions, isPackedPredictions, isPredictionsDelta, packPredictions, unpackPredictions } from '../../../webview/src/packedPredictions';
import { parseHostToWebview } from '../../../webview/src/protocol';

/** Places with metadata in dataset column order, some columns empty (left out) on some entities, like results.json. */
function places(): Prediction[] {
  const columns = ['type', 'country', 'population', 'block'];
  const out: Prediction[] = [];
  for (let i = 0; i < 60; i++) {
    const metadata: Record<string, string> = {};
    for (const [c, column] of columns.entries()) {
      // The first entity has no population: that column is first seen later and must still come after country.
      if ((column === 'population' && i % 3 === 0) || (column === 'block' && i % 7 === 0)) continue;
      metadata[column] = column === 'population' ? String(1000 + i * 17) : `${column}-${(i + c) % 4}`;
    }
    out.push({
      row: i + 2, name: i === 5 ? 'Zürich "centre", 北京' : `Place ${i}`, split: i % 4 === 3 ? 'test' : 'train',
      true: [i * 1.5 - 40, 180 - i * 3.25], predicted: [i === 9 ? Number.NaN : i * 1.4999999999999 - 39.9, -0.1 * i + 1e-300],
      ...(i === 11 ? {} : { metadata }),
    });
  }
  return out;
}

test('predictions come back from columns field for field, in order, with metadata keys in the dataset\'s order', () => {
  const predictions = places();
  const unpacked = unpackPredictions(packPredictions(predictions));
  assert.deepEqual(unpacked, predictions);
  // deepEqual ignores key order; the table's columns follow it.
  assert.equal(JSON.stringify(unpacked), JSON.stringify(predictions));
  assert.ok(Number.isNaN(unpacked[9].predicted[0]), 'NaN stays NaN');
});

test('predictions read from results.json (NaN written as null) come back with null, after a structured clone', () => {
  const fromJson = JSON.parse(JSON.stringify(places())) as Prediction[];
  assert.equal(fromJson[9].predicted[0], null);
  const packed = structuredClone(packPredictions(fromJson)); // what the webview receives: typed arrays, cloned
  assert.ok(isPackedPredictions(packed));
  assert.equal(JSON.stringify(unpackPredictions(packed)), JSON.stringify(fromJson));
});

test('years (one target), no metadata, and no predictions at all', () => {
  const years: Prediction[] = [
    { row: 2, name: 'The Matrix', split: 'test', true: [1999], predicted: [1997.25] },
    { row: 3, name: 'Casablanca', split: 'train', true: [1942], predicted: [1950.5] },
  ];
  assert.equal(JSON.stringify(unpackPredictions(packPredictions(years))), JSON.stringify(years));
  const empty = packPredictions([]);
  assert.ok(isPackedPredictions(empty));
  assert.deepEqual(unpackPredictions(empty), []);
});

test('what columns cannot carry unchanged is refused', () => {
  const ragged: Prediction[] = [
    { row: 2, name: 'a', split: 'test', true: [1, 2], predicted: [1, 2] },
    { row: 3, name: 'b', split: 'test', true: [1], predicted: [1] },
  ];
  assert.throws(() => packPredictions(ragged), /prediction 1 \(line 3\) has 1 true and 1 predicted values, expected 2/);
  assert.throws(() => packPredictions([{ row: 2.5, name: 'a', split: 'test', true: [1], predicted: [1] }]), /row 2\.5 is not a 32-bit integer/);
});

test('isPackedPredictions refuses blocks whose parts disagree or point outside their values', () => {
  const good = packPredictions(places());
  assert.ok(isPackedPredictions(good));
  const column = good.metadata[0];
  const bad: unknown[] = [
    null, [], { ...good, count: good.count + 1 }, { ...good, rows: Array.from(good.rows) }, { ...good, test: new Int32Array(good.count) },
    { ...good, truth: new Float64Array(good.count) }, { ...good, predicted: new Float32Array(good.count * 2) }, { ...good, names: good.names.slice(1) },
    { ...good, names: [...good.names.slice(1), 7] }, { ...good, nulls: 'no' }, { ...good, width: -1 }, { ...good, metadata: {} },
    { ...good, metadata: [{ ...column, index: new Int32Array(good.count).fill(column.values.length) }] },
    { ...good, metadata: [{ ...column, index: new Int32Array(good.count).fill(-2) }] },
    { ...good, metadata: [{ ...column, values: [1, 2, 3, 4] }] },
  ];
  for (const value of bad) assert.equal(isPackedPredictions(value), false);
  // And the host's show message with such a block is dropped as a whole.
  const run = { summary: {}, results: { layers: [], predictions: [] }, layersWithPredictions: [0] };
  assert.ok(parseHostToWebview({ type: 'show', run: { ...run, packedPredictions: good } }));
  assert.equal(parseHostToWebview({ type: 'show', run: { ...run, packedPredictions: { ...good, count: 3 } } }), undefined);
});

/** The places of `places()` after a person's edit of one row: a new name, position and metadata value. */
function editedPlaces(): Prediction[] {
  return places().map((p, i) => {
    const refit = { ...p, predicted: [p.predicted[0] + 0.25, p.predicted[1] - 0.5] };
    return i === 17 ? { ...refit, name: 'Lyon', true: [45.76, 4.84], metadata: { ...p.metadata, type: 'a new type' } } : refit;
  });
}

test('a re-run travels as changes to the predictions held: every predicted value, only the edited row\'s other fields', () => {
  const base = packPredictions(places());
  const next = packPredictions(editedPlaces());
  const delta = diffPredictions('run-1', base, next);
  assert.ok(delta, 'one row changed: a delta');
  assert.ok(isPredictionsDelta(structuredClone(delta)));
  assert.deepEqual([...delta.names.at], [17]);
  assert.deepEqual([...delta.truth.at], [17]);
  assert.equal(delta.rows.at.length + delta.test.at.length, 0);
  assert.deepEqual(delta.metadata.map((m) => [m.column, [...m.index.at], m.added]), [['type', [17], ['a new type']], ['country', [], []], ['population', [], []], ['block', [], []]]);
  const applied = applyPredictionsDelta(base, structuredClone(delta));
  assert.equal(JSON.stringify(unpackPredictions(applied)), JSON.stringify(editedPlaces()), 'the edited run, field for field');
  assert.equal(JSON.stringify(unpackPredictions(base)), JSON.stringify(places()), 'the base is left as it was');
});

test('no delta where it cannot say the change or would not be smaller', () => {
  const base = packPredictions(places());
  assert.equal(diffPredictions('r', base, packPredictions(places().slice(1))), undefined, 'another number of entities');
  const shifted = places().map((p) => ({ ...p, row: p.row + 1 })); // a line inserted at the top
  assert.equal(diffPredictions('r', base, packPredictions(shifted)), undefined, 'every row moved');
  const newColumn = places().map((p) => ({ ...p, metadata: { ...p.metadata, region: 'x' } }));
  assert.equal(diffPredictions('r', base, packPredictions(newColumn)), undefined, 'another column');
});

test('a delta that does not fit the predictions held is refused, not applied', () => {
  const base = packPredictions(places());
  const delta = diffPredictions('run-1', base, packPredictions(editedPlaces()));
  assert.ok(delta);
  assert.throws(() => applyPredictionsDelta(packPredictions(places().slice(2)), delta), /does not fit the predictions held: 60 × 2 values against 58 × 2/);
  const outside = { ...delta, names: { at: Int32Array.from([60]), values: ['x'] } };
  assert.throws(() => applyPredictionsDelta(base, outside), /entity 60 of 60/);
  const badValue = { ...delta, metadata: delta.metadata.map((m, c) => (c === 0 ? { ...m, index: { at: Int32Array.from([0]), values: Int32Array.from([99]) } } : m)) };
  assert.throws(() => applyPredictionsDelta(base, badValue), /value 99 of column type/);
  for (const bad of [{ ...delta, base: 3 }, { ...delta, predicted: new Float64Array(3) }, { ...delta, names: { at: Int32Array.from([1]), values: [] } },
    { ...delta, truth: { at: Int32Array.from([1]), values: new Float64Array(1) } }, { ...delta, metadata: [{ column: 'type', added: [1], index: delta.metadata[0].index }] }]) {
    assert.equal(isPredictionsDelta(bad), false);
  }
  const run = { summary: {}, results: { layers: [], predictions: [] }, layersWithPredictions: [0] };
  assert.ok(parseHostToWebview({ type: 'show', run: { ...run, predictionsDelta: delta } }));
  assert.equal(parseHostToWebview({ type: 'show', run: { ...run, predictionsDelta: delta, packedPredictions: base } }), undefined, 'one or the other');
});

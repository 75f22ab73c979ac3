/**
 * Holdout pieces: the proximity error against the unseen pool uses great-circle distance (a constructed case
 * where a naive latitude/longitude Euclidean distance gives the opposite answer), its fast path equals the
 * plain definition, and block columns (given, derived from the year, missing) resolve as documented.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { proximityErrorAgainst, blockLabels, defaultBlockColumn } from '../../../src/core/experiments/holdout';
import { sampleRows } from '../../../src/core/experiments/experimentSession';
import { absoluteYears, greatCircleKm, type DistanceMeasure } from '../../../src/core/probes/metrics';
import { mulberry32 } from '../../../src/core/probes/split';
import type { Dataset, Entity } from '../../../src/core/datasets/types';

/** The naive distance the paper's metric must NOT be: Euclidean in (latitude, longitude) degrees. */
const naiveDegrees: DistanceMeasure = {
  name: 'absoluteYears', // any name but greatCircleKm, so the general path runs
  dimensions: 2,
  distance: (a, i, b, j) => Math.hypot(a[i] - b[j], a[i + 1] - b[j + 1]),
};

/** The definition, with full great-circle distances (no shortcuts). */
function referenceProximity(truth: Float64Array, predicted: Float64Array, heldOut: Int32Array, pool: Int32Array): number {
  let sum = 0;
  for (const i of heldOut) {
    const own = greatCircleKm.distance(truth, 2 * i, predicted, 2 * i);
    let closer = 0;
    for (const j of pool) if (j !== i && greatCircleKm.distance(truth, 2 * i, predicted, 2 * j) < own) closer++;
    sum += closer / (pool.length - 1);
  }
  return sum / heldOut.length;
}

describe('holdout proximity error', () => {
  test('is measured on the sphere: across the antimeridian and near a pole, where lat/lon degrees mislead', () => {
    // Entity 0 at (0°, 179°E) predicted at (0°, 179°W): 2° of arc away. Entity 1's prediction (0°, 170°E) is 9°
    // away from entity 0's truth, so nothing is closer than entity 0's own prediction on the sphere; in degree
    // space the own prediction is 358° away and entity 1's only 9°.
    // Entity 2 near the North Pole (89°N, 0°) predicted at (89°N, 180°): 2° of arc across the pole; entity 3's
    // prediction (80°N, 0°) is 9° away on the sphere but closer in degree space (9 vs 180).
    const truth = Float64Array.from([0, 179, 10, 170, 89, 0, 70, 20]);
    const predicted = Float64Array.from([0, -179, 0, 170, 89, 180, 80, 0]);
    const all = Int32Array.from([0, 1, 2, 3]);
    const entity0 = Int32Array.from([0]);
    const entity2 = Int32Array.from([2]);
    assert.equal(proximityErrorAgainst(truth, predicted, entity0, all, greatCircleKm), 0);
    assert.equal(proximityErrorAgainst(truth, predicted, entity2, all, greatCircleKm), 0);
    assert.ok(proximityErrorAgainst(truth, predicted, entity0, all, naiveDegrees) > 0, 'the naive distance disagrees');
    assert.ok(proximityErrorAgainst(truth, predicted, entity2, all, naiveDegrees) > 0, 'the naive distance disagrees');
    assert.equal(proximityErrorAgainst(truth, predicted, entity0, all, greatCircleKm), referenceProximity(truth, predicted, entity0, all));
  });

  test('the great-circle fast path equals the definition on random points', () => {
    const random = mulberry32(11);
    const n = 400;
    const truth = Float64Array.from({ length: 2 * n }, (_, k) => (k % 2 === 0 ? random() * 180 - 90 : random() * 360 - 180));
    const predicted = Float64Array.from(truth, (value, k) => value + (random() - 0.5) * (k % 2 === 0 ? 40 : 80));
    const pool = sampleRows(n, 300, 3);
    const heldOut = pool.slice(0, 120);
    const fast = proximityErrorAgainst(truth, predicted, heldOut, pool, greatCircleKm);
    assert.ok(Math.abs(fast - referenceProximity(truth, predicted, heldOut, pool)) < 1e-12, `${fast}`);
    assert.ok(fast > 0 && fast < 0.5);
  });

  test('years use |Δyear|', () => {
    const truth = Float64Array.from([1900, 1950, 2000]);
    const predicted = Float64Array.from([2100, 1950, 2000]);
    // Entity 0's own prediction is 200 years off; the predictions 1950 and 2000 are both closer to 1900.
    assert.equal(proximityErrorAgainst(truth, predicted, Int32Array.from([0]), Int32Array.from([0, 1, 2]), absoluteYears), 1);
    assert.equal(proximityErrorAgainst(truth, predicted, Int32Array.from([1, 2]), Int32Array.from([0, 1, 2]), absoluteYears), 0);
  });
});

describe('holdout blocks', () => {
  const entity = (line: number, year: number, metadata: Record<string, string>): Entity => ({ line, name: `e${line}`, target: [year], metadata });
  const time: Pick<Dataset, 'kind' | 'entities' | 'source'> = {
    kind: 'time', source: 'events.csv',
    entities: [entity(2, 1789, { type: 'war' }), entity(3, 1801, { type: 'war' }), entity(4, -44, { type: 'death' }), entity(5, 1999, { type: '' })],
  };

  test('century, decade and year are derived from the target year (floor, also for BCE)', () => {
    assert.deepEqual(blockLabels(time, time.entities, 'century'), ['1700', '1800', '-100', '1900']);
    assert.deepEqual(blockLabels(time, time.entities, 'decade'), ['1780', '1800', '-50', '1990']);
    assert.deepEqual(blockLabels(time, time.entities, 'year'), ['1789', '1801', '-44', '1999']);
  });

  test('a column is used as is; empty values are no block; a missing column names the choices', () => {
    assert.deepEqual(blockLabels(time, time.entities, 'type'), ['war', 'war', 'death', '']);
    assert.throws(() => blockLabels(time, time.entities, 'country'), /events\.csv has no column "country" \(columns: type; derived: century, decade, year\)/);
    const space: Pick<Dataset, 'kind' | 'entities' | 'source'> = { kind: 'space', source: 'p.csv', entities: [{ line: 2, name: 'x', target: [0, 0], metadata: { state_id: 'NY' } }] };
    assert.throws(() => blockLabels(space, space.entities, 'decade'), /derived from the year; p\.csv is a space dataset/);
    assert.equal(defaultBlockColumn(space), 'state_id');
    assert.equal(defaultBlockColumn(time), 'decade');
  });
});

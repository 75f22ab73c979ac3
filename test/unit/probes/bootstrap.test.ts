/**
 * Bootstrap intervals over test entities against a plain resampling: the same seeded draws, the resampled arrays
 * built explicitly, R² from metrics.r2PerTarget, the proximity error as the mean of per-entity errors, and the
 * percentile from sorting — compared exactly. Plus the results.json fields and the small-test warning.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bootstrapIndices, bootstrapTestIntervals, quantileSorted } from '../../../src/core/probes/bootstrap';
import { absoluteYears, greatCircleKm, proximityErrorPerEntity, r2PerTarget } from '../../../src/core/probes/metrics';
import { mulberry32 } from '../../../src/core/probes/split';
import { probeActivations } from '../../../src/core/experiments/probeActivations';
import { writeActivationManifest, layerFileName, ACTIVATIONS_FORMAT } from '../../../src/core/activations/manifest';
import { writeNpy } from '../../../src/core/activations/npy';
import type { Dataset } from '../../../src/core/datasets/types';

/** numpy.percentile(values, 100·q) with linear interpolation, written out. */
function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = q * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

test('quantiles interpolate like numpy.percentile', () => {
  assert.equal(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantileSorted([1, 2, 3, 4], 0.025), 1.075);
  assert.equal(quantileSorted([7], 0.9), 7);
});

test('intervals equal a plain resampling with the same seeded draws (space: two targets, great-circle proximity)', () => {
  const random = mulberry32(4);
  const n = 57;
  const truth = Float64Array.from({ length: 2 * n }, (_, i) => (i % 2 ? 300 : 120) * random() - (i % 2 ? 150 : 60));
  const predicted = Float64Array.from(truth, (value) => value + 25 * (random() - 0.5));
  const perEntity = proximityErrorPerEntity(truth, predicted, greatCircleKm);
  const resamples = 300;
  const seed = 12;
  const got = bootstrapTestIntervals(truth, predicted, 2, perEntity, { resamples, seed, level: 0.9 });

  // The plain way: draw n indices per resample from mulberry32(seed), copy the rows, score.
  const draw = mulberry32(seed);
  const means: number[] = [];
  const lat: number[] = [];
  const lon: number[] = [];
  const proximity: number[] = [];
  for (let b = 0; b < resamples; b++) {
    const rows = Array.from({ length: n }, () => Math.floor(draw() * n));
    const t = rows.flatMap((row) => [truth[2 * row], truth[2 * row + 1]]);
    const p = rows.flatMap((row) => [predicted[2 * row], predicted[2 * row + 1]]);
    const scores = r2PerTarget(t, p, n, 2);
    means.push(scores.mean);
    lat.push(scores.perTarget[0]);
    lon.push(scores.perTarget[1]);
    proximity.push(rows.reduce((sum, row) => sum + perEntity[row], 0) / n);
  }
  const close = (a: readonly number[], b: number[], what: string): void => {
    assert.ok(Math.abs(a[0] - b[0]) < 1e-12 && Math.abs(a[1] - b[1]) < 1e-12, `${what}: ${a} vs ${b}`);
  };
  close(got.r2, [percentile(means, 0.05), percentile(means, 0.95)], 'mean R²');
  close(got.r2PerTarget[0], [percentile(lat, 0.05), percentile(lat, 0.95)], 'latitude R²');
  close(got.r2PerTarget[1], [percentile(lon, 0.05), percentile(lon, 0.95)], 'longitude R²');
  close(got.proximityError!, [percentile(proximity, 0.05), percentile(proximity, 0.95)], 'proximity');
  // The point estimates lie inside; a fixed seed gives the same intervals again; another seed other ones.
  const point = r2PerTarget(truth, predicted, n, 2).mean;
  assert.ok(got.r2[0] <= point && point <= got.r2[1]);
  assert.deepEqual(bootstrapTestIntervals(truth, predicted, 2, perEntity, { resamples, seed, level: 0.9 }), got);
  assert.notDeepEqual(bootstrapTestIntervals(truth, predicted, 2, perEntity, { resamples, seed: 13, level: 0.9 }).r2, got.r2);
  assert.equal(bootstrapIndices(n, 2, seed)[0], Math.floor(mulberry32(seed)() * n));
  // Every draw is the generator's, in order (the indices are made without calling it).
  const generator = mulberry32(seed);
  assert.deepEqual(bootstrapIndices(n, 40, seed), Int32Array.from({ length: n * 40 }, () => Math.floor(generator() * n)));
});

test('per-draw totals remembered across layers are not reused for other truths of the same size', () => {
  // bootstrapTestIntervals keeps the last truths' per-draw sums of squares; a call with other truths (same n, seed
  // and resamples, as a second dataset in the same process would make) must score against its own.
  const random = mulberry32(21);
  const n = 40;
  const resamples = 200;
  const seed = 3;
  const make = (scale: number) => {
    const truth = Float64Array.from({ length: n }, () => scale * random());
    return { truth, predicted: Float64Array.from(truth, (value) => value + scale * 0.3 * (random() - 0.5)) };
  };
  const plainMeanInterval = ({ truth, predicted }: { truth: Float64Array; predicted: Float64Array }): number[] => {
    const draw = mulberry32(seed);
    const scores: number[] = [];
    for (let b = 0; b < resamples; b++) {
      const rows = Array.from({ length: n }, () => Math.floor(draw() * n));
      scores.push(r2PerTarget(rows.map((row) => truth[row]), rows.map((row) => predicted[row]), n, 1).mean);
    }
    return [percentile(scores, 0.025), percentile(scores, 0.975)];
  };
  const first = make(10);
  const second = make(1000);
  for (const data of [first, second, first]) {
    const got = bootstrapTestIntervals(data.truth, data.predicted, 1, undefined, { resamples, seed }).r2;
    const want = plainMeanInterval(data);
    assert.ok(Math.abs(got[0] - want[0]) < 1e-12 && Math.abs(got[1] - want[1]) < 1e-12, `${got} vs ${want}`);
  }
});

test('a smaller test split gives a wider interval', () => {
  const random = mulberry32(9);
  const make = (n: number) => {
    const truth = Float64Array.from({ length: n }, () => 1500 + 500 * random());
    const predicted = Float64Array.from(truth, (value) => value + 150 * (random() - 0.5));
    return bootstrapTestIntervals(truth, predicted, 1, proximityErrorPerEntity(truth, predicted, absoluteYears), { resamples: 400 });
  };
  const small = make(12);
  const large = make(1200);
  assert.ok(small.r2[1] - small.r2[0] > 3 * (large.r2[1] - large.r2[0]));
  assert.ok(small.proximityError![1] - small.proximityError![0] > 3 * (large.proximityError![1] - large.proximityError![0]));
});

test('probeActivations writes per-layer intervals, the bootstrap settings, and warns on a small test split', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-probe-'));
  try {
    const random = mulberry32(21);
    const n = 60;
    const hidden = 4;
    const years = Array.from({ length: n }, () => 1800 + 200 * random());
    const x = Float32Array.from({ length: n * hidden }, (_, k) => (k % hidden === 0 ? (years[Math.floor(k / hidden)] - 1900) / 100 : random()));
    writeNpy(path.join(dir, layerFileName(0)), x, [n, hidden]);
    writeActivationManifest(dir, {
      format: ACTIVATIONS_FORMAT, model: 'test', prompt: '{entity}', dataset: 'test.csv', numEntities: n, hiddenSize: hidden,
      rows: years.map((_, k) => k + 2), layers: [{ index: 0, file: layerFileName(0) }],
    });
    const dataset: Dataset = {
      source: 'test.csv', kind: 'time', targets: ['year'], problems: [],
      entities: years.map((year, k) => ({ line: k + 2, name: `e${k}`, target: [year], isTest: k % 6 === 0, metadata: (k === 0 ? { type: 'city', source: 'geonames', country: '' } : {}) as Record<string, string> })),
    };
    const results = await probeActivations(dir, dataset, { bootstrap: { resamples: 200 } });
    assert.deepEqual(results.bootstrap, { resamples: 200, seed: 0, level: 0.95 });
    const [layer] = results.layers;
    assert.ok(layer.testR2Interval && layer.testR2Interval[0] <= layer.testR2 && layer.testR2 <= layer.testR2Interval[1]);
    assert.ok(layer.proximityErrorInterval && layer.proximityErrorInterval[0] <= layer.proximityError && layer.proximityError <= layer.proximityErrorInterval[1]);
    assert.deepEqual(Object.keys(layer.testR2PerTargetInterval ?? {}), ['year']);
    assert.equal(results.split.test, 10);
    assert.match(results.warnings?.[0] ?? '', /only 10 entities/);
    // Predictions keep the non-empty metadata (not where the row came from) for breakdowns and the CSV.
    assert.deepEqual(results.predictions[0].metadata, { type: 'city' });
    assert.equal(results.predictions[1].metadata, undefined);
    const none = await probeActivations(dir, dataset, { bootstrap: false });
    assert.equal(none.layers[0].testR2Interval, undefined);
    assert.equal(none.bootstrap, undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

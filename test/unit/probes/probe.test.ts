import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { DEFAULT_ALPHAS, fitLayerProbe, toLayerResult } from '../../../src/core/probes/probe';
import { absoluteYears, greatCircleKm, spearman, spearmanWithRanks, averageRanks } from '../../../src/core/probes/metrics';
import { mulberry32, splitTrainTest } from '../../../src/core/probes/split';
import { RidgeInputError } from '../../../src/core/probes/ridge';

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(random(), 1e-300))) * Math.cos(2 * Math.PI * random());
}

function places(n: number, d: number): { x: Float32Array; targets: Float64Array } {
  const random = mulberry32(3);
  const targets = new Float64Array(n * 2);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    targets[2 * i] = 120 * random() - 60;
    targets[2 * i + 1] = 300 * random() - 150;
    for (let f = 0; f < d; f++) x[i * d + f] = (f % 2 === 0 ? targets[2 * i] / 30 : targets[2 * i + 1] / 80) * (1 + f / d) + gaussian(random);
  }
  return { x, targets };
}

test('the paper\'s alpha grid: 12 values log-spaced from 10^0.8 to 10^4.1', () => {
  assert.equal(DEFAULT_ALPHAS.length, 12);
  assert.ok(Math.abs(DEFAULT_ALPHAS[0] - 10 ** 0.8) < 1e-12);
  assert.equal(DEFAULT_ALPHAS[11], 10 ** 4.1);
  for (let i = 1; i < 12; i++) assert.ok(Math.abs(Math.log10(DEFAULT_ALPHAS[i] / DEFAULT_ALPHAS[i - 1]) - 0.3) < 1e-12);
});

test('fitLayerProbe: coefficients in target units reproduce the predictions; metrics are sane', async () => {
  const n = 300;
  const d = 12;
  const { x, targets } = places(n, d);
  const split = splitTrainTest(n, undefined, 1);
  const probe = await fitLayerProbe({ x, nSamples: n, nFeatures: d, targets, nTargets: 2, trainIdx: split.train, testIdx: split.test, distance: greatCircleKm, trainProximity: true });
  for (let i = 0; i < n; i += 37) {
    for (let c = 0; c < 2; c++) {
      let value = probe.intercept[c];
      for (let f = 0; f < d; f++) value += x[i * d + f] * probe.coef[f * 2 + c];
      assert.ok(Math.abs(value - probe.predictions[i * 2 + c]) < 1e-9);
    }
  }
  assert.ok(probe.test.r2 > 0.8 && probe.test.r2 < 1, `test R² ${probe.test.r2}`);
  assert.ok(probe.train.r2 >= probe.test.r2 - 0.05);
  assert.ok(probe.test.proximityError !== undefined && probe.test.proximityError < 0.2);
  assert.ok(probe.train.proximityError !== undefined);
  assert.equal(probe.test.pearson.length, 2);
  assert.equal(probe.mode, 'primal');
  const entry = toLayerResult(4, probe, ['latitude', 'longitude']);
  assert.equal(entry.index, 4);
  assert.equal(entry.testR2PerTarget.longitude, probe.test.r2PerTarget[1]);
  assert.equal(entry.proximityError, probe.test.proximityError);
  assert.throws(() => toLayerResult(0, probe, ['year']), /1 names for 2 targets/);
});

test('fitLayerProbe: target units do not change the chosen alpha or R² (targets are standardised)', async () => {
  const n = 200;
  const d = 10;
  const { x, targets } = places(n, d);
  const years = Float64Array.from({ length: n }, (_, i) => 1800 + targets[2 * i] * 2);
  const split = splitTrainTest(n, undefined, 2);
  const base = { x, nSamples: n, nFeatures: d, nTargets: 1, trainIdx: split.train, testIdx: split.test, distance: absoluteYears };
  const inYears = await fitLayerProbe({ ...base, targets: years });
  const inDays = await fitLayerProbe({ ...base, targets: years.map((year) => year * 365.25 - 12345) });
  assert.equal(inDays.alphaIndex, inYears.alphaIndex);
  assert.ok(Math.abs(inDays.test.r2 - inYears.test.r2) < 1e-10);
  assert.ok(Math.abs(inDays.coef[0] / inYears.coef[0] - 365.25) < 1e-8);
});

test('fitLayerProbe rejects a constant target, bad indices and a distance of the wrong width', async () => {
  const { x, targets } = places(20, 3);
  const split = splitTrainTest(20, undefined, 0);
  const base = { x, nSamples: 20, nFeatures: 3, trainIdx: split.train, testIdx: split.test };
  await assert.rejects(fitLayerProbe({ ...base, targets: new Float64Array(20).fill(1950), nTargets: 1, distance: absoluteYears }), (error: unknown) => error instanceof RidgeInputError && /constant on the training split/.test(error.message));
  await assert.rejects(fitLayerProbe({ ...base, targets, nTargets: 2, distance: absoluteYears }), /absoluteYears needs 1 target column/);
  await assert.rejects(fitLayerProbe({ ...base, targets, nTargets: 2, distance: greatCircleKm, testIdx: Int32Array.from([25]) }), /test index 25 outside/);
});

test('fitLayerProbe: Spearman equals the plain definition on every call, whether the truth repeats or changes', async () => {
  // The true targets' ranks are remembered between layers; a changed truth (same split sizes, same buffers
  // mutated in place) must not reuse them.
  const n = 240;
  const d = 6;
  const { x, targets } = places(n, d);
  const split = splitTrainTest(n, undefined, 2);
  const expected = async (probeTargets: Float64Array) => {
    const probe = await fitLayerProbe({ x, nSamples: n, nFeatures: d, targets: probeTargets, nTargets: 2, trainIdx: split.train, testIdx: split.test, distance: greatCircleKm });
    for (const [name, indices] of [['train', split.train], ['test', split.test]] as const) {
      const truth = Float64Array.from([...indices].flatMap((row) => [probeTargets[row * 2], probeTargets[row * 2 + 1]]));
      const predicted = Float64Array.from([...indices].flatMap((row) => [probe.predictions[row * 2], probe.predictions[row * 2 + 1]]));
      for (let c = 0; c < 2; c++) assert.equal(probe[name].spearman[c], spearman(truth, predicted, indices.length, 2, c), `${name} column ${c}`);
    }
  };
  await expected(targets);
  await expected(targets); // cached ranks
  for (let i = 0; i < n; i++) targets[2 * i] = -targets[2 * i]; // same buffer, new values
  await expected(targets);
  assert.equal(spearmanWithRanks(averageRanks([3, 1, 2]), [30, 10, 25]), 1);
  assert.throws(() => spearmanWithRanks(new Float64Array(2), [1, 2, 3], 3), /2 ranks for 3 rows/);
});

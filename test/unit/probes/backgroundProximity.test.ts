/**
 * The proximity-error worker (src/core/probes/backgroundProximity.ts) and the two-layers-in-flight probe loop that
 * uses it: the numbers must be exactly those of proximityError / a layer-by-layer fitLayerProbe, on the worker,
 * after the worker fails, and without it.
 */
import { test, describe, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BackgroundProximity, BACKGROUND_PROXIMITY_MIN_ENTITIES } from '../../../src/core/probes/backgroundProximity';
import { absoluteYears, greatCircleKm, meanProximityError, proximityError, proximityErrorPerEntity } from '../../../src/core/probes/metrics';
import { bootstrapTestIntervals } from '../../../src/core/probes/bootstrap';
import { mulberry32, splitTrainTest } from '../../../src/core/probes/split';
import { fitLayerProbe } from '../../../src/core/probes/probe';
import { probeActivations } from '../../../src/core/experiments/probeActivations';
import { writePlantedPlaces } from '../../helpers/plantedPlaces';

const workerFile = path.join(__dirname, '..', '..', '..', 'src', 'core', 'probes', 'proximityWorker.js');

function places(n: number, seed: number): { truth: Float64Array; predicted: Float64Array } {
  const random = mulberry32(seed);
  const truth = new Float64Array(2 * n);
  const predicted = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    truth[2 * i] = 140 * random() - 70;
    truth[2 * i + 1] = 360 * random() - 180;
    predicted[2 * i] = Math.max(-90, Math.min(90, truth[2 * i] + 30 * (random() - 0.5)));
    predicted[2 * i + 1] = truth[2 * i + 1] + 60 * (random() - 0.5);
  }
  return { truth, predicted };
}

describe('BackgroundProximity', () => {
  const pools: BackgroundProximity[] = [];
  const pool = (file = workerFile) => {
    const created = new BackgroundProximity(file);
    pools.push(created);
    return created;
  };
  after(async () => { for (const created of pools) await created.dispose(); });

  test('the worker file exists where the compiled module looks for it', () => {
    assert.ok(fs.existsSync(workerFile), workerFile);
    assert.equal(new BackgroundProximity().available, true);
  });

  test('scores on the worker equal proximityError exactly (great circle and years), several in flight', async () => {
    const background = pool();
    const n = BACKGROUND_PROXIMITY_MIN_ENTITIES + 500;
    const cases = [1, 2, 3].map((seed) => places(n, seed));
    const years = { truth: Float64Array.from({ length: n }, (_, i) => 1500 + (i * 37) % 500), predicted: Float64Array.from({ length: n }, (_, i) => 1500 + (i * 53) % 500) };
    const scored = await Promise.all([
      ...cases.map(({ truth, predicted }) => background.perEntity(truth, predicted, greatCircleKm).then(meanProximityError)),
      background.perEntity(years.truth, years.predicted, absoluteYears).then(meanProximityError),
    ]);
    assert.deepEqual(scored, [
      ...cases.map(({ truth, predicted }) => proximityError(truth, predicted, greatCircleKm)),
      proximityError(years.truth, years.predicted, absoluteYears),
    ]);
    assert.equal(background.scoredOnWorker, 4);
    // Every entity's error comes back too, the same doubles as on this thread.
    assert.deepEqual(await background.perEntity(cases[0].truth, cases[0].predicted, greatCircleKm), proximityErrorPerEntity(cases[0].truth, cases[0].predicted, greatCircleKm));
    assert.equal(background.scoredOnWorker, 5);
  });

  test('small splits and custom measures are scored on this thread', async () => {
    const background = pool();
    const small = places(50, 4);
    assert.equal(meanProximityError(await background.perEntity(small.truth, small.predicted, greatCircleKm)), proximityError(small.truth, small.predicted, greatCircleKm));
    assert.equal(background.scoredOnWorker, 0);
  });

  test('a missing or crashing worker gives the same numbers from this thread', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-proximity-'));
    try {
      const { truth, predicted } = places(BACKGROUND_PROXIMITY_MIN_ENTITIES + 10, 5);
      const expected = proximityError(truth, predicted, greatCircleKm);
      const missing = pool(path.join(dir, 'absent.js'));
      assert.equal(missing.available, false);
      assert.equal(meanProximityError(await missing.perEntity(truth, predicted, greatCircleKm)), expected);
      const crashing = path.join(dir, 'crash.js');
      fs.writeFileSync(crashing, "require('node:worker_threads').parentPort.on('message', () => process.exit(3));\n");
      const broken = pool(crashing);
      assert.equal(meanProximityError(await broken.perEntity(truth, predicted, greatCircleKm)), expected);
      assert.equal(broken.available, false, 'a failed worker is not used again');
      assert.equal(meanProximityError(await broken.perEntity(truth, predicted, greatCircleKm)), expected);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an idle worker does not keep the process alive', () => {
    const script = `
      const { BackgroundProximity } = require(${JSON.stringify(path.join(__dirname, '..', '..', '..', 'src', 'core', 'probes', 'backgroundProximity.js'))});
      const { greatCircleKm, meanProximityError } = require(${JSON.stringify(path.join(__dirname, '..', '..', '..', 'src', 'core', 'probes', 'metrics.js'))});
      const n = 2000, truth = new Float64Array(2 * n).map((_, i) => (i % 2 ? 170 : 80) * Math.sin(i)), predicted = truth.map((v) => v * 0.9);
      new BackgroundProximity().perEntity(truth, predicted, greatCircleKm).then((errors) => console.log(meanProximityError(errors)));`;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(Number.isFinite(Number(result.stdout.trim())), result.stdout);
  });
});

test('probeActivations (layers two at a time, proximity on the worker) equals fitLayerProbe layer by layer', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-pipelined-'));
  try {
    const n = 2600;
    const d = 8;
    const layersCount = 4;
    const { targets, layers, dataset } = writePlantedPlaces(dir, { n, d, layers: layersCount, seed: 11 });
    const results = await probeActivations(dir, dataset);
    const split = splitTrainTest(n, undefined, results.split.seed);
    for (const [layer, x] of layers.entries()) {
      const alone = await fitLayerProbe({ x, nSamples: n, nFeatures: d, targets, nTargets: 2, trainIdx: split.train, testIdx: split.test, distance: greatCircleKm });
      const entry = results.layers[layer];
      assert.equal(entry.index, layer);
      assert.equal(entry.alpha, alone.alpha);
      assert.equal(entry.testR2, alone.test.r2);
      assert.equal(entry.trainR2, alone.train.r2);
      assert.equal(entry.proximityError, alone.test.proximityError);
      assert.deepEqual(Object.values(entry.spearman), alone.test.spearman);
      // The bootstrap resampled the worker's per-entity errors: the same interval as from this thread's own.
      const truth = Float64Array.from(Array.from(split.test).flatMap((row) => [targets[2 * row], targets[2 * row + 1]]));
      const predicted = Float64Array.from(Array.from(split.test).flatMap((row) => [alone.predictions[2 * row], alone.predictions[2 * row + 1]]));
      assert.deepEqual(entry.proximityErrorInterval, bootstrapTestIntervals(truth, predicted, 2, proximityErrorPerEntity(truth, predicted, greatCircleKm)).proximityError);
      assert.deepEqual(alone.testProximityPerEntity, proximityErrorPerEntity(truth, predicted, greatCircleKm));
    }
    assert.equal(results.bestLayer, layersCount - 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

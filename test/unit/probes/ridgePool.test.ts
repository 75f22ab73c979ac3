/**
 * The ridge-fit worker pool (src/core/probes/ridgePool.ts): a fit on a worker thread, with its own onnxruntime
 * sessions on fewer threads, must give exactly the doubles of fitRidgeCV on this thread — for float32, float64 and
 * float16 rows, in the tridiagonal and band forms — and the pool must keep its promises: errors as on this thread,
 * a crashed worker's fit redone here, an abort that stops the worker at once, and probeActivations' results
 * unchanged by it.
 */
import { test, describe, after, type TestContext } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ABORT_GRACE_MS, RidgeFitPool } from '../../../src/core/probes/ridgePool';
import { fitRidgeCV, RidgeInputError, type RidgeCVResult, type RidgeInput } from '../../../src/core/probes/ridge';
import { onnxProducts } from '../../../src/core/probes/products';
import { OrtGemm } from '../../../src/core/runtime/linalg';
import { DEFAULT_ALPHAS } from '../../../src/core/probes/probe';
import { HalfMatrix } from '../../../src/core/probes/halfMatrix';
import { mulberry32 } from '../../../src/core/probes/split';
import { float32ToFloat16Bits } from '../../../src/core/util/float16';
import { probeActivations } from '../../../src/core/experiments/probeActivations';
import { writePlantedPlaces } from '../../helpers/plantedPlaces';

const workerFile = path.join(__dirname, '..', '..', '..', 'src', 'core', 'probes', 'ridgeWorker.js');

/** n × d rows with a planted linear signal in two targets; `kind` picks the rows' element type. */
function problem(n: number, d: number, seed: number, kind: 'float32' | 'float64' | 'float16' = 'float32'): () => RidgeInput {
  const random = mulberry32(seed);
  const values = Float64Array.from({ length: n * d }, () => random() - 0.5);
  const y = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      y[2 * i] += values[i * d + j] * Math.sin(j + 1);
      y[2 * i + 1] += values[i * d + j] * Math.cos(3 * j);
    }
    y[2 * i] += 0.3 * (random() - 0.5);
    y[2 * i + 1] += 0.3 * (random() - 0.5);
  }
  // Fresh arrays on every call: the pool transfers x to the worker.
  return () => ({
    x: kind === 'float64' ? Float64Array.from(values) : kind === 'float32' ? Float32Array.from(values)
      : new HalfMatrix('float16', Uint16Array.from(values, (value) => float32ToFloat16Bits(value))),
    y: Float64Array.from(y), nSamples: n, nFeatures: d, nTargets: 2,
  });
}

/** A worker file with `source` in a temporary folder removed after the test `t`. */
function standInWorker(t: TestContext, source: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-ridge-pool-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'worker.js');
  fs.writeFileSync(file, `${source}\n`);
  return file;
}

function assertSameFit(actual: RidgeCVResult, expected: RidgeCVResult): void {
  assert.equal(actual.alpha, expected.alpha);
  assert.equal(actual.alphaIndex, expected.alphaIndex);
  assert.equal(actual.mode, expected.mode);
  assert.equal(actual.looPrecision, expected.looPrecision);
  assert.deepEqual(Array.from(actual.looMse), Array.from(expected.looMse));
  assert.deepEqual(Array.from(actual.coef), Array.from(expected.coef));
  assert.deepEqual(Array.from(actual.intercept), Array.from(expected.intercept));
}

describe('RidgeFitPool', () => {
  const pools: RidgeFitPool[] = [];
  const pool = (options: ConstructorParameters<typeof RidgeFitPool>[0] = {}) => {
    const created = new RidgeFitPool({ size: 2, cores: 2, minWork: 0, workerFile, ...options });
    pools.push(created);
    return created;
  };
  after(async () => { for (const created of pools) await created.dispose(); });

  test('the worker file exists where the compiled module looks for it', () => {
    assert.ok(fs.existsSync(workerFile), workerFile);
    assert.equal(new RidgeFitPool({ size: 2, minWork: 0 }).worthIt(10, 10), true);
  });

  // Five fits on two workers: each worker runs its queue one fit after another, handing its working buffers
  // (RidgeCVOptions.scratch) from one fit to the next — fits of other sizes and element types, so stale values or
  // a buffer not zeroed would show in the doubles.
  test('fits on the workers equal fitRidgeCV here exactly: float32, float64 and float16 rows, tridiagonal and band, queued on two workers', async () => {
    const fits = pool();
    const cases = [
      { make: problem(600, 48, 1, 'float32'), options: { alphas: DEFAULT_ALPHAS } },
      { make: problem(500, 40, 2, 'float64'), options: { alphas: DEFAULT_ALPHAS } },
      { make: problem(400, 36, 3, 'float16'), options: { alphas: DEFAULT_ALPHAS } },
      { make: problem(700, 64, 4, 'float32'), options: { alphas: DEFAULT_ALPHAS, reduction: 'band' as const, bandwidth: 8, projectionPrecision: 'float32' as const } },
      { make: problem(30, 80, 5, 'float32'), options: { alphas: DEFAULT_ALPHAS } }, // dual form
    ];
    const pooled = await Promise.all(cases.map(({ make, options }) => fits.fit(make, options)));
    for (const [index, { make, options }] of cases.entries()) assertSameFit(pooled[index], await fitRidgeCV(make(), options));
    assert.equal(fits.fittedOnWorker, cases.length);
  });

  test('training rows of a layer in shared memory are gathered by the worker: the same doubles, no copy here unless the worker dies', async (t) => {
    const n = 700;
    const d = 40;
    const random = mulberry32(21);
    const layer = new Float32Array(new SharedArrayBuffer(n * d * 4));
    for (let k = 0; k < layer.length; k++) layer[k] = random() - 0.5;
    const rows = Int32Array.from({ length: n }, (_, i) => i).filter((i) => i % 5 !== 2);
    const y = Float64Array.from({ length: rows.length * 2 }, (_, k) => layer[rows[k >> 1] * d + (k & 1)] * 3 + Math.sin(k));
    const gather = (): RidgeInput => {
      const x = new Float32Array(rows.length * d);
      rows.forEach((row, r) => x.set(layer.subarray(row * d, (row + 1) * d), r * d));
      return { x, y: Float64Array.from(y), nSamples: rows.length, nFeatures: d, nTargets: 2 };
    };
    const expected = await fitRidgeCV(gather(), { alphas: DEFAULT_ALPHAS });
    let gathered = 0;
    const counted = (): RidgeInput => { gathered += 1; return gather(); };
    const shared = { x: layer, rows, y, nFeatures: d, nTargets: 2 };
    const fits = pool();
    // Twice on each worker: the second fit on a worker gathers into the buffers the first left.
    const results = await Promise.all([0, 1, 2, 3].map(() => fits.fit(counted, { alphas: DEFAULT_ALPHAS }, undefined, shared)));
    for (const result of results) assertSameFit(result, expected);
    assert.equal(gathered, 0);
    assert.equal(fits.fittedOnWorker, 4);
    const unshared = { ...shared, x: Float32Array.from(layer) };
    assertSameFit(await fits.fit(counted, { alphas: DEFAULT_ALPHAS }, undefined, unshared), expected);
    assert.equal(gathered, 1, 'a layer not in shared memory is gathered here and transferred');
    const broken = pool({ workerFile: standInWorker(t, "require('node:worker_threads').parentPort.on('message', () => process.exit(3));") });
    assertSameFit(await broken.fit(counted, { alphas: DEFAULT_ALPHAS }, undefined, shared), expected);
    assert.equal(gathered, 2, 'the fit is redone here from rows gathered here');
  });

  test('small fits, a single worker, a products backend or a phase callback stay on this thread', async () => {
    const make = problem(200, 12, 6);
    const expected = await fitRidgeCV(make(), { alphas: DEFAULT_ALPHAS });
    const large = pool({ minWork: 1e12 });
    assertSameFit(await large.fit(make, { alphas: DEFAULT_ALPHAS }), expected);
    const single = pool({ size: 1 });
    assertSameFit(await single.fit(make, { alphas: DEFAULT_ALPHAS }), expected);
    const fits = pool();
    assertSameFit(await fits.fit(make, { alphas: DEFAULT_ALPHAS, products: 'onnxruntime' }), expected);
    const phases: string[] = [];
    assertSameFit(await fits.fit(make, { alphas: DEFAULT_ALPHAS, onPhase: (phase) => phases.push(phase) }), expected);
    assert.ok(phases.length > 0);
    assert.equal(large.fittedOnWorker + single.fittedOnWorker + fits.fittedOnWorker, 0);
  });

  test('bad input is refused with the same RidgeInputError as here', async () => {
    const make = problem(120, 10, 7);
    const poisoned = () => {
      const input = make();
      (input.x as Float32Array)[37] = Number.NaN;
      return input;
    };
    const here = await fitRidgeCV(poisoned(), { alphas: DEFAULT_ALPHAS }).then(() => undefined, (error: Error) => error);
    assert.ok(here instanceof RidgeInputError);
    await assert.rejects(pool().fit(poisoned, { alphas: DEFAULT_ALPHAS }), (error: Error) => error instanceof RidgeInputError && error.message === here.message);
  });

  test('a worker that dies has its fit redone here (rows gathered again), and the pool is not used again', async (t) => {
    const broken = pool({ workerFile: standInWorker(t, "require('node:worker_threads').parentPort.on('message', () => process.exit(3));") });
    const make = problem(300, 20, 8);
    let calls = 0;
    const counted = () => { calls += 1; return make(); };
    const expected = await fitRidgeCV(make(), { alphas: DEFAULT_ALPHAS });
    assertSameFit(await broken.fit(counted, { alphas: DEFAULT_ALPHAS }), expected);
    assert.equal(calls, 2, 'the rows were transferred to the dead worker, so they are made again');
    assert.equal(broken.worthIt(300, 20), false);
    assertSameFit(await broken.fit(counted, { alphas: DEFAULT_ALPHAS }), expected);
    assert.equal(broken.fittedOnWorker, 0);
  });

  test('an abort stops a fit on a worker at its next product, with the signal\'s reason; the worker serves the next fit', async () => {
    const fits = pool();
    const make = problem(1200, 96, 10);
    const expected = await fitRidgeCV(make(), { alphas: DEFAULT_ALPHAS });
    const controller = new AbortController();
    const aborted = fits.fit(make, { alphas: DEFAULT_ALPHAS }, controller.signal);
    setTimeout(() => controller.abort(new Error('cancelled')), 5);
    await assert.rejects(aborted, /cancelled/);
    await assert.rejects(fits.fit(make, { alphas: DEFAULT_ALPHAS }, controller.signal), /cancelled/, 'an aborted signal starts nothing');
    assertSameFit(await fits.fit(make, { alphas: DEFAULT_ALPHAS }), expected);
    assert.equal(fits.fittedOnWorker, 1);
  });

  test('a fit queued behind another on the same worker is aborted before it starts; the fits around it are exact', async () => {
    const fits = pool();
    const makes = [problem(1500, 96, 15), problem(1400, 90, 16), problem(1300, 80, 17)];
    const controller = new AbortController();
    // The least busy worker takes each fit: the first two one each, the third waits behind the first.
    const first = fits.fit(makes[0], { alphas: DEFAULT_ALPHAS });
    const second = fits.fit(makes[1], { alphas: DEFAULT_ALPHAS });
    const queued = fits.fit(makes[2], { alphas: DEFAULT_ALPHAS }, controller.signal);
    controller.abort(new Error('not wanted any more'));
    await assert.rejects(queued, /not wanted any more/);
    assertSameFit(await first, await fitRidgeCV(makes[0](), { alphas: DEFAULT_ALPHAS }));
    assertSameFit(await second, await fitRidgeCV(makes[1](), { alphas: DEFAULT_ALPHAS }));
    assertSameFit(await fits.fit(makes[2], { alphas: DEFAULT_ALPHAS }), await fitRidgeCV(makes[2](), { alphas: DEFAULT_ALPHAS }));
  });

  test('prestart() starts the workers only for fits that would go to them', async (t) => {
    // A stand-in worker that says it was started, and answers nothing.
    const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-prestart-')), 'started');
    t.after(() => fs.rmSync(path.dirname(marker), { recursive: true, force: true }));
    const source = `require('node:fs').appendFileSync(${JSON.stringify(marker)}, 'x');`;
    const unworthy = pool({ minWork: 1e12, workerFile: standInWorker(t, source) });
    unworthy.prestart(1000, 100);
    const worthy = pool({ workerFile: standInWorker(t, source) });
    worthy.prestart(1000, 100);
    worthy.prestart(1000, 100);
    const deadline = Date.now() + 10_000;
    while (!(fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').length >= 2) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(fs.readFileSync(marker, 'utf8'), 'xx', 'two workers, started once, by the worthy pool only');
  });

  test('a fit is told it is alone (the idle cores are its) only when it is the last one in flight of a run', async (t) => {
    // A stand-in worker that waits nSamples ms, then answers with the flag as it reads it then.
    const source = `const { parentPort } = require('node:worker_threads');
      parentPort.on('message', (m) => { if (m.alone) setTimeout(() => parentPort.postMessage({ id: m.id, error: 'alone=' + Atomics.load(m.alone, 0) + ' threads=' + m.aloneThreads }), m.nSamples); });`;
    const fits = pool({ workerFile: standInWorker(t, source) });
    const seen = (promise: Promise<unknown>): Promise<string> => promise.then(() => 'resolved', (error: Error) => error.message);
    // The first fit of a run is not alone (the others are still being sent), though nothing else is in flight.
    assert.equal(await seen(fits.fit(problem(60, 4, 1), { alphas: DEFAULT_ALPHAS })), 'alone=0 threads=2');
    // Two at once: the short one sees the long one in flight; the long one, answering after it, is then alone.
    const [short, long] = await Promise.all([seen(fits.fit(problem(50, 4, 2), { alphas: DEFAULT_ALPHAS })), seen(fits.fit(problem(600, 4, 3), { alphas: DEFAULT_ALPHAS }))]);
    assert.equal(short, 'alone=0 threads=2');
    assert.equal(long, 'alone=1 threads=2');
  });

  test('a fit on one thread and the same fit on two give the same doubles (the alone fit\'s wider products)', async () => {
    const input = problem(3000, 300, 21)();
    const one = await fitRidgeCV(input, { alphas: DEFAULT_ALPHAS, products: onnxProducts(new OrtGemm(1)) });
    const two = await fitRidgeCV(input, { alphas: DEFAULT_ALPHAS, products: onnxProducts(new OrtGemm(2)) });
    assertSameFit(two, one);
  });

  test('prestart(…, count) starts the first `count` workers, and a later prestart the rest', async (t) => {
    const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-prestart-some-')), 'started');
    t.after(() => fs.rmSync(path.dirname(marker), { recursive: true, force: true }));
    const fits = pool({ workerFile: standInWorker(t, `require('node:fs').appendFileSync(${JSON.stringify(marker)}, 'x');`) });
    const startedCount = async (expected: number): Promise<number> => {
      const deadline = Date.now() + 10_000;
      while (!(fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').length >= expected) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, 200));
      return fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').length : 0;
    };
    fits.prestart(1000, 100, 1);
    fits.prestart(1000, 100, 1);
    assert.equal(await startedCount(1), 1, 'one worker');
    fits.prestart(1000, 100);
    assert.equal(await startedCount(2), 2, 'then the other one, once');
    fits.prestart(1000, 100);
    assert.equal(await startedCount(3), 2);
  });

  test('a worker that does not stop when asked is terminated after the grace period', async (t) => {
    // A worker that never answers stands in for a hung one.
    const hanging = pool({ workerFile: standInWorker(t, "require('node:worker_threads').parentPort.on('message', () => { setInterval(() => {}, 1000); });") });
    const controller = new AbortController();
    const fit = hanging.fit(problem(100, 8, 9), { alphas: DEFAULT_ALPHAS }, controller.signal);
    const started = Date.now();
    controller.abort(new Error('stop requested'));
    await assert.rejects(fit, /stop requested/);
    const waited = Date.now() - started;
    assert.ok(waited >= ABORT_GRACE_MS - 50, `rejected after ${waited} ms`);
  });

  test('dispose() with fits in flight: they finish on this thread with the same doubles', async () => {
    const fits = pool();
    const makes = [problem(1500, 96, 13), problem(1400, 90, 14)];
    const inFlight = makes.map((make) => fits.fit(make, { alphas: DEFAULT_ALPHAS }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await fits.dispose();
    const results = await Promise.all(inFlight);
    for (const [index, make] of makes.entries()) assertSameFit(results[index], await fitRidgeCV(make(), { alphas: DEFAULT_ALPHAS }));
  });
});

test('a process that aborts fits mid-product on the workers and then exits ends normally (no onnxruntime abort)', () => {
  const compiled = path.join(__dirname, '..', '..', '..', 'src', 'core', 'probes');
  const script = `
    const { RidgeFitPool } = require(${JSON.stringify(path.join(compiled, 'ridgePool.js'))});
    const { DEFAULT_ALPHAS } = require(${JSON.stringify(path.join(compiled, 'probe.js'))});
    const n = 8000, d = 1024; // a fit of ~1 s or more, so that both are mid-fit at 300 ms
    const make = () => ({ x: Float32Array.from({ length: n * d }, (_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.011)), y: Float64Array.from({ length: 2 * n }, (_, i) => Math.sin(i)),
      nSamples: n, nFeatures: d, nTargets: 2 });
    const pool = new RidgeFitPool({ size: 2, cores: 2, minWork: 0, workerFile: ${JSON.stringify(workerFile)} });
    const controller = new AbortController();
    const fits = [pool.fit(make, { alphas: DEFAULT_ALPHAS }, controller.signal), pool.fit(make, { alphas: DEFAULT_ALPHAS }, controller.signal)];
    setTimeout(() => controller.abort(new Error('stop')), 300);
    Promise.allSettled(fits).then((settled) => { console.log(settled.map((s) => s.status + ':' + (s.reason ? s.reason.message : '')).join(' ')); process.exit(7); });`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.signal, null, `killed by ${result.signal}: ${result.stderr}`);
  assert.equal(result.status, 7, result.stderr);
  assert.equal(result.stdout.trim(), 'rejected:stop rejected:stop');
});

test('a process whose pool was prestarted (workers warming up) but never used exits by itself', () => {
  const compiled = path.join(__dirname, '..', '..', '..', 'src', 'core', 'probes');
  const script = `
    const { RidgeFitPool } = require(${JSON.stringify(path.join(compiled, 'ridgePool.js'))});
    new RidgeFitPool({ size: 2, cores: 2, minWork: 0, workerFile: ${JSON.stringify(workerFile)} }).prestart(1000, 100);
    process.on('exit', (code) => console.log('exit ' + code));`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.signal, null, `killed by ${result.signal} (still running after 30 s?): ${result.stderr}`);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), 'exit 0');
});

test('probeActivations gives the same results.json with its fits on the pool as without it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-pooled-'));
  const fits = new RidgeFitPool({ size: 2, cores: 2, minWork: 0, workerFile });
  try {
    const { dataset } = writePlantedPlaces(dir, { n: 900, d: 24, layers: 3, seed: 12 });
    const pooled = await probeActivations(dir, dataset, { ridgePool: fits });
    assert.equal(fits.fittedOnWorker, 3);
    const inline = await probeActivations(dir, dataset, { ridgePool: new RidgeFitPool({ size: 1 }) });
    assert.deepEqual({ ...pooled, createdAt: undefined }, { ...inline, createdAt: undefined });
  } finally {
    await fits.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

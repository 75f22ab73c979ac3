import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkerProbeEngine } from '../../../src/extension/runs/workerEngine';
import { runProbe } from '../../../src/core/experiments/run';

const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
const workerFile = path.join(repoRoot, 'out', 'probeWorker.js');

const CITIES: [string, number, number][] = [
  ['Paris', 48.86, 2.35], ['London', 51.51, -0.13], ['Berlin', 52.52, 13.4], ['Madrid', 40.42, -3.7], ['Rome', 41.9, 12.5],
  ['Vienna', 48.21, 16.37], ['Warsaw', 52.23, 21.01], ['Moscow', 55.76, 37.62], ['Cairo', 30.04, 31.24], ['Nairobi', -1.29, 36.82],
  ['Tokyo', 35.68, 139.65], ['Beijing', 39.9, 116.41], ['Seoul', 37.57, 126.98], ['Delhi', 28.7, 77.1], ['Bangkok', 13.76, 100.5],
  ['Sydney', -33.87, 151.21], ['Toronto', 43.65, -79.38], ['Chicago', 41.88, -87.63], ['Lima', -12.05, -77.04], ['Dublin', 53.35, -6.26],
];

test('the worker engine gives the same results as runProbe in-process, and cancels', async (t) => {
  if (!existsSync(workerFile)) return t.skip('out/probeWorker.js not built (node scripts/build.mjs)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'worker-engine-'));
  const engine = new WorkerProbeEngine(workerFile);
  try {
    const dataset = path.join(dir, 'cities.csv');
    writeFileSync(dataset, `name,latitude,longitude,is_test\n${CITIES.map(([n, a, b], i) => `${n},${a},${b},${i % 4 === 3}`).join('\n')}\n`);
    const base = { dataset, model: 'builtin:glove-100d', cacheDir: false as const };
    const stages = new Set<string>();
    const inWorker = await engine.run({ ...base, outDir: path.join(dir, 'worker') }, { onProgress: (p) => stages.add(p.stage) });
    const inProcess = (await runProbe({ ...base, outDir: path.join(dir, 'process') })).results;
    assert.deepEqual(inWorker.predictions, inProcess.predictions);
    assert.deepEqual(inWorker.layers, inProcess.layers);
    assert.ok(stages.has('extract') && stages.has('fit'), [...stages].join(','));

    const controller = new AbortController();
    const cancelled = engine.run({ ...base, outDir: path.join(dir, 'cancelled') }, {
      signal: controller.signal,
      onProgress: (p) => { if (p.stage === 'tokenize') controller.abort(); },
    });
    await assert.rejects(cancelled, (error: Error) => error.name === 'AbortError');
    assert.equal(existsSync(path.join(dir, 'cancelled', 'results.json')), false);
  } finally {
    engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

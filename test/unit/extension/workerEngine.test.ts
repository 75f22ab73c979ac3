import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultProbeWorkerKind, startProcess, WorkerProbeEngine } from '../../../src/extension/runs/workerEngine';
import { currentHugePageHost, hugePageEnv } from '../../../src/core/runtime/hugePages';
import { runProbe } from '../../../src/core/experiments/run';
import { readProbeResults } from '../../../src/core/experiments/probeActivations';

const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
const workerFile = path.join(repoRoot, 'out', 'probeWorker.js');

const CITIES: [string, number, number][] = [
  ['Paris', 48.86, 2.35], ['London', 51.51, -0.13], ['Berlin', 52.52, 13.4], ['Madrid', 40.42, -3.7], ['Rome', 41.9, 12.5],
  ['Vienna', 48.21, 16.37], ['Warsaw', 52.23, 21.01], ['Moscow', 55.76, 37.62], ['Cairo', 30.04, 31.24], ['Nairobi', -1.29, 36.82],
  ['Tokyo', 35.68, 139.65], ['Beijing', 39.9, 116.41], ['Seoul', 37.57, 126.98], ['Delhi', 28.7, 77.1], ['Bangkok', 13.76, 100.5],
  ['Sydney', -33.87, 151.21], ['Toronto', 43.65, -79.38], ['Chicago', 41.88, -87.63], ['Lima', -12.05, -77.04], ['Dublin', 53.35, -6.26],
];

for (const kind of ['thread', 'process'] as const) test(`the worker engine (${kind}) gives the same results as runProbe in-process, and cancels`, async (t) => {
  if (!existsSync(workerFile)) return t.skip('out/probeWorker.js not built (node scripts/build.mjs)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'worker-engine-'));
  const engine = new WorkerProbeEngine(workerFile, true, kind);
  try {
    const dataset = path.join(dir, 'cities.csv');
    writeFileSync(dataset, `name,latitude,longitude,is_test\n${CITIES.map(([n, a, b], i) => `${n},${a},${b},${i % 4 === 3}`).join('\n')}\n`);
    const base = { dataset, model: 'builtin:glove-100d', cacheDir: false as const };
    const stages = new Set<string>();
    const inWorker = await engine.run({ ...base, outDir: path.join(dir, 'worker') }, { onProgress: (p) => stages.add(p.stage) });
    // The worker's results are its results.json, parsed: compare with the one runProbe writes in-process.
    const inProcess = readProbeResults((await runProbe({ ...base, outDir: path.join(dir, 'process') })).resultsFile);
    assert.deepEqual(inWorker.predictions, inProcess.predictions);
    assert.deepEqual(inWorker.layers, inProcess.layers);
    assert.deepEqual(inWorker, readProbeResults(path.join(dir, 'worker', 'results.json')), 'exactly what the worker\'s run wrote');
    assert.ok(stages.has('extract') && stages.has('fit'), [...stages].join(','));

    // Cancelling at 'tokenize' must stop the run before results.json. With 20 rows the rest of a run takes a few
    // milliseconds, less than the cancel's round trip, so cancel a run long enough to be caught (3,000 rows).
    const longDataset = path.join(dir, 'long.csv');
    writeFileSync(longDataset, `name,latitude,longitude\n${Array.from({ length: 3000 }, (_, i) => {
      const [name, latitude, longitude] = CITIES[i % CITIES.length];
      return `${name} ${i},${latitude},${longitude}`;
    }).join('\n')}\n`);
    const controller = new AbortController();
    const cancelled = engine.run({ ...base, dataset: longDataset, outDir: path.join(dir, 'cancelled') }, {
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

test('the extension starts its probe worker as a process on Linux, a thread elsewhere', () => {
  assert.equal(defaultProbeWorkerKind('linux'), 'process');
  for (const platform of ['darwin', 'win32'] as const) assert.equal(defaultProbeWorkerKind(platform), 'thread');
  assert.equal(new WorkerProbeEngine(workerFile).kind, process.platform === 'linux' ? 'process' : 'thread');
});

test('the forked probe worker gets huge pages in its environment only when asked for', async () => {
  // A stand-in worker file that reports the environment it was started with; startProcess is the engine's fork.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'worker-env-'));
  const reporter = path.join(dir, 'reportEnv.js');
  writeFileSync(reporter, "process.send({ tunables: process.env.GLIBC_TUNABLES ?? null, electronAsNode: process.env.ELECTRON_RUN_AS_NODE ?? null }, () => process.exit(0));\n");
  const saved = process.env.SPACETIME_PROBE_HUGE_PAGES;
  const childEnv = (setting: string | undefined): Promise<{ tunables: string | null; electronAsNode: string | null }> => {
    if (setting === undefined) delete process.env.SPACETIME_PROBE_HUGE_PAGES;
    else process.env.SPACETIME_PROBE_HUGE_PAGES = setting;
    const child = startProcess(reporter);
    return new Promise((resolve, reject) => {
      child.onMessage((message) => resolve(message as unknown as { tunables: string | null; electronAsNode: string | null }));
      child.onError(reject);
      child.onExit((code) => reject(new Error(`reporter exited (${code}) before reporting`)));
    });
  };
  try {
    const parentTunables = process.env.GLIBC_TUNABLES ?? null;
    for (const setting of [undefined, '0']) {
      const reported = await childEnv(setting);
      assert.equal(reported.tunables, parentTunables, `SPACETIME_PROBE_HUGE_PAGES=${setting}: the parent's GLIBC_TUNABLES, unchanged`);
      assert.equal(reported.electronAsNode, '1');
    }
    const asked = await childEnv('1');
    if (hugePageEnv({ SPACETIME_PROBE_HUGE_PAGES: '1' }, currentHugePageHost()) === undefined) {
      assert.equal(asked.tunables, parentTunables, 'a host without huge pages: nothing to ask for');
    } else {
      assert.match(asked.tunables ?? '', /glibc\.malloc\.hugetlb=1/);
    }
  } finally {
    if (saved === undefined) delete process.env.SPACETIME_PROBE_HUGE_PAGES;
    else process.env.SPACETIME_PROBE_HUGE_PAGES = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});

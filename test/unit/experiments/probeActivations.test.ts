/**
 * probeActivations' layer pipeline (src/core/experiments/probeActivations.ts): the next layer starts as soon as a
 * fit comes back, in any order — and never after a layer has failed; non-finite activations are named precisely.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isOurResultsFile, prestartProbeWorkers, probeActivations, splitFor, writeProbeResults } from '../../../src/core/experiments/probeActivations';
import type { RidgeFitPool } from '../../../src/core/probes/ridgePool';
import { layerFileName } from '../../../src/core/activations/manifest';
import { writeNpy } from '../../../src/core/activations/npy';
import { writePlantedPlaces } from '../../helpers/plantedPlaces';

test('after a layer fails, no further layer is started (those already in flight finish, nothing more)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-pipeline-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const n = 400;
  const d = 16;
  const { layers, dataset } = writePlantedPlaces(dir, { n, d, layers: 8, seed: 5 });
  // Layer 1 holds a NaN: its probe fails (the fit refuses it, or its predictions show it).
  const broken = Float32Array.from(layers[1]);
  broken[3 * d + 7] = Number.NaN;
  writeNpy(path.join(dir, layerFileName(1)), broken, [n, d]);
  const started: string[] = [];
  let startedAtFailure = -1;
  await assert.rejects(probeActivations(dir, dataset, { onProgress: (progress) => { if (progress.message?.startsWith('fitting')) started.push(progress.message); } })
    .finally(() => { startedAtFailure = started.length; }), /layer_001\.npy: row 3 .* has NaN at feature 7/);
  // Give a layer that would (wrongly) start after the failure the time to do so.
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(started.length, startedAtFailure, started.join('; '));
  // Two layers are in flight at a time: at most layers 0–3 ever started, never all eight.
  assert.ok(started.length <= 4, started.join('; '));
});

test('every layer is reported once, in layer order, whatever order the fits end in', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-pipeline-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { dataset } = writePlantedPlaces(dir, { n: 400, d: 16, layers: 7, seed: 6 });
  const started: string[] = [];
  const results = await probeActivations(dir, dataset, { onProgress: (progress) => { if (progress.message?.startsWith('fitting')) started.push(progress.message); } });
  assert.deepEqual(results.layers.map((layer) => layer.index), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...started].sort(), Array.from({ length: 7 }, (_, k) => `fitting layer ${k} (${k + 1}/7)`).sort());
  // Layer 6 probes best (the planted signal grows with depth).
  assert.equal(results.bestLayer, 6);
});

test('a non-finite activation is named with its file, row and feature, in a training row and in a test row alike', async (t) => {
  const n = 300;
  const d = 12;
  for (const [where, value] of [['train', Number.POSITIVE_INFINITY], ['test', Number.NaN], ['test', Number.NEGATIVE_INFINITY]] as const) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-finite-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const { layers, dataset } = writePlantedPlaces(dir, { n, d, layers: 2, seed: 7 });
    const split = splitFor(dataset.entities, undefined);
    const row = (where === 'train' ? split.train : split.test)[5];
    const x = Float32Array.from(layers[1]);
    x[row * d + 4] = value;
    writeNpy(path.join(dir, layerFileName(1)), x, [n, d]);
    await assert.rejects(probeActivations(dir, dataset), (error: Error) => {
      assert.match(error.message, new RegExp(`layer_001\\.npy: row ${row} \\(dataset line ${row + 2}, "place ${row}"\\) has ${String(value).replace('+', '')} at feature 4`));
      return true;
    }, `${where} row ${row}: ${value}`);
  }
});

test('prestartProbeWorkers asks the pool for the folder\'s estimated training rows and width, and ignores a folder it cannot read', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-prestart-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const asked: [number, number][] = [];
  const pool = { prestart: (rows: number, features: number) => { asked.push([rows, features]); } } as unknown as RidgeFitPool;
  prestartProbeWorkers(path.join(dir, 'missing'), pool);
  assert.deepEqual(asked, []);
  writePlantedPlaces(dir, { n: 500, d: 12, layers: 2, seed: 8 });
  prestartProbeWorkers(dir, pool);
  assert.deepEqual(asked, [[400, 12]], '80% of the 500 entities (the default split), 12 features');
  const single = fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-prestart-one-'));
  t.after(() => fs.rmSync(single, { recursive: true, force: true }));
  writePlantedPlaces(single, { n: 500, d: 12, layers: 1, seed: 8 });
  prestartProbeWorkers(single, pool);
  assert.equal(asked.length, 1, 'one layer is fitted on this thread: no workers');
});

test('isOurResultsFile: a results.json as written is ours from its first bytes; any other file only when it parses with our format', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-results-file-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { dataset } = writePlantedPlaces(dir, { n: 200, d: 8, layers: 2, seed: 8 });
  const written = writeProbeResults(path.join(dir, 'out'), await probeActivations(dir, dataset));
  assert.equal(isOurResultsFile(written), true);
  const file = (name: string, text: string): string => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const results = JSON.parse(fs.readFileSync(written, 'utf8')) as { format: string };
  // Re-indented, or with its keys in another order: parsed whole, and still ours.
  assert.equal(isOurResultsFile(file('compact.json', JSON.stringify(results))), true);
  assert.equal(isOurResultsFile(file('reordered.json', JSON.stringify({ kind: 'space', format: results.format }))), true);
  // Not ours: another format, no format, not JSON, not an object, empty, a folder.
  assert.equal(isOurResultsFile(file('other.json', JSON.stringify({ ...results, format: 'something-else/1' }))), false);
  assert.equal(isOurResultsFile(file('none.json', '{"layers": []}')), false);
  assert.equal(isOurResultsFile(file('text.json', 'format: spacetime-probe-results/1')), false);
  assert.equal(isOurResultsFile(file('null.json', 'null')), false);
  assert.equal(isOurResultsFile(file('empty.json', '')), false);
  assert.equal(isOurResultsFile(dir), false);
});

test('releaseWorkers stops the pool once, after the last layer is fitted, and changes no result', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-release-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { dataset } = writePlantedPlaces(dir, { n: 300, d: 8, layers: 3, seed: 9 });
  const fitted: string[] = [];
  const disposedAfter: number[] = [];
  const pool = { size: 2, worthIt: () => false, prestart: () => {}, dispose: async () => { disposedAfter.push(fitted.length); } } as unknown as RidgeFitPool;
  const onProgress = (progress: { message?: string }) => { if (progress.message?.startsWith('fitting')) fitted.push(progress.message); };
  const released = await probeActivations(dir, dataset, { ridgePool: pool, releaseWorkers: true, onProgress });
  assert.deepEqual(disposedAfter, [3]);
  const kept = await probeActivations(dir, dataset, { ridgePool: pool });
  assert.deepEqual(disposedAfter, [3], 'without the option the pool is left running');
  assert.deepEqual(released.layers, kept.layers);
});

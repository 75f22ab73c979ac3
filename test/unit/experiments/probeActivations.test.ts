/**
 * probeActivations' layer pipeline (src/core/experiments/probeActivations.ts): the next layer starts as soon as a
 * fit comes back, in any order — and never after a layer has failed.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { probeActivations } from '../../../src/core/experiments/probeActivations';
import { layerFileName } from '../../../src/core/activations/manifest';
import { writeNpy } from '../../../src/core/activations/npy';
import { writePlantedPlaces } from '../../helpers/plantedPlaces';

test('after a layer fails, no later layer is started (the other layer in flight finishes, nothing more)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-pipeline-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const n = 400;
  const d = 16;
  const { layers, dataset } = writePlantedPlaces(dir, { n, d, layers: 6, seed: 5 });
  // Layer 1 holds a NaN: its start fails at the finiteness check while layer 0 is being fitted.
  const broken = Float32Array.from(layers[1]);
  broken[3 * d + 7] = Number.NaN;
  writeNpy(path.join(dir, layerFileName(1)), broken, [n, d]);
  const started: string[] = [];
  await assert.rejects(probeActivations(dir, dataset, { onProgress: (progress) => { if (progress.message?.startsWith('fitting')) started.push(progress.message); } }),
    /layer 1|non-finite|NaN/);
  // Give a layer that would (wrongly) start after layer 0's fit the time to do so.
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(started.map((message) => message.split(' (')[0]), ['fitting layer 0', 'fitting layer 1']);
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

/**
 * Time and memory of ONE layer's probe fit at 70B width from a 16-bit activation folder (bench/scale/makeFolder.ts),
 * phase by phase, and the projection to a whole 81-layer run (BENCHMARKS.md "Probing at 70B scale").
 *
 *   npx tsc -p . && node out/bench/scale/fitLayer.js --folder /tmp/scale1 [--layer 0] [--layers-total 81]
 *
 * FOLDER holds activations/ and dataset.csv as makeFolder writes them. Prints one JSON object: n, d, mode, seconds
 * per ridge phase, total seconds, peak RSS (process.resourceUsage().maxRSS), and the projected 81-layer time.
 */
import * as path from 'node:path';
import * as os from 'node:os';
import { readActivationLayerValues, readActivationManifest } from '../../src/core/activations/manifest';
import { loadDataset } from '../../src/core/datasets/load';
import { alignEntities, splitFor, targetMatrix } from '../../src/core/experiments/probeActivations';
import { fitLayerProbe } from '../../src/core/probes/probe';
import { greatCircleKm } from '../../src/core/probes/metrics';

function option(name: string, fallback?: string): string {
  const at = process.argv.indexOf(`--${name}`);
  if (at >= 0 && process.argv[at + 1] !== undefined) return process.argv[at + 1];
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
}

async function main(): Promise<void> {
  const folder = path.resolve(option('folder'));
  const layer = Number(option('layer', '0'));
  const layersTotal = Number(option('layers-total', '81'));
  const activations = path.join(folder, 'activations');
  const load = os.loadavg();
  const started = performance.now();
  const manifest = readActivationManifest(activations);
  const dataset = loadDataset(path.join(folder, 'dataset.csv'));
  const entities = alignEntities(dataset, manifest, activations);
  const split = splitFor(entities);
  const targets = targetMatrix(entities, 2);
  const readStarted = performance.now();
  const x = readActivationLayerValues(activations, manifest, layer);
  const readSeconds = (performance.now() - readStarted) / 1000;
  const phases: Record<string, number> = {};
  const fit = await fitLayerProbe({
    targetNames: dataset.targets, x, nSamples: entities.length, nFeatures: manifest.hiddenSize, targets, nTargets: 2,
    trainIdx: split.train, testIdx: split.test, distance: greatCircleKm,
    ridge: { onPhase: (phase, seconds) => { phases[phase] = (phases[phase] ?? 0) + seconds; } },
  });
  const seconds = (performance.now() - started) / 1000;
  const perLayer = seconds - readSeconds;
  console.log(JSON.stringify({
    date: new Date().toISOString(), cpus: os.cpus().length, cpu: os.cpus()[0]?.model, loadBefore: load, loadAfter: os.loadavg(), node: process.version,
    n: entities.length, nTrain: split.train.length, d: manifest.hiddenSize, dtype: manifest.dtype ?? 'float32', mode: fit.mode,
    alpha: fit.alpha, testR2: fit.test.r2, readSeconds, phases, fitSeconds: perLayer, totalSeconds: seconds,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    projected: { layers: layersTotal, seconds: Math.round(layersTotal * (perLayer + readSeconds)), hours: +((layersTotal * (perLayer + readSeconds)) / 3600).toFixed(2) },
  }, null, 1));
}

main().catch((error: unknown) => { console.error(error); process.exitCode = 1; });

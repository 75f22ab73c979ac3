/**
 * Time the CPU stages of a re-run that do not touch the model, one by one, best of N: dataset parse, probe fit of
 * every layer of an activation folder (`probeActivations`), and the proximity error / Spearman / results.json
 * pieces inside it. Also prints a digest of the results (layers' metrics), so two builds can be compared for
 * identical output.
 *
 *   node out/cli.js extract --dataset /work/shared/datasets/paper/world_place.csv \
 *     --model /work/shared/fixtures/models/gpt2-tiny --out /tmp/acts
 *   npx tsc -p . && node out/bench/cache/probeStages.js [--dataset FILE] [--activations DIR] [--repeats N]
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { parseDatasetBytes } from '../../src/core/datasets/parse';
import { probeActivations } from '../../src/core/experiments/probeActivations';
import { greatCircleKm, proximityErrorPerEntity, spearman } from '../../src/core/probes/metrics';
import { mulberry32 } from '../../src/core/probes/split';
import { requireInput, sharedPath } from '../sharedInputs';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
}

function best(repeats: number, work: () => unknown): { best: number; all: number[] } {
  const all: number[] = [];
  for (let repeat = 0; repeat < repeats; repeat += 1) {
    const started = performance.now();
    work();
    all.push((performance.now() - started) / 1000);
  }
  return { best: Math.min(...all), all };
}

async function main(): Promise<void> {
  const file = requireInput(option('--dataset', sharedPath('datasets', 'paper', 'world_place.csv')), '--dataset');
  const activations = option('--activations', '/tmp/acts');
  const repeats = Number(option('--repeats', '3'));
  const bytes = fs.readFileSync(file);
  const parse = best(repeats, () => parseDatasetBytes(bytes, file));
  const parsed = parseDatasetBytes(bytes, file);
  if (!parsed.ok || parsed.dataset === undefined) throw new Error(`${file} does not parse`);
  const dataset = parsed.dataset;

  const fits: number[] = [];
  let results = await probeActivations(activations, dataset);
  for (let repeat = 0; repeat < repeats; repeat += 1) {
    const started = performance.now();
    results = await probeActivations(activations, dataset);
    fits.push((performance.now() - started) / 1000);
  }
  const write = best(repeats, () => JSON.stringify(results, null, 1));

  // Proximity error and Spearman on the test split's size with predictions scattered like a mediocre probe's.
  const n = results.split.test;
  const random = mulberry32(7);
  const truth = new Float64Array(2 * n);
  const predicted = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    truth[2 * i] = 120 * random() - 50;
    truth[2 * i + 1] = 360 * random() - 180;
    predicted[2 * i] = truth[2 * i] + 40 * (random() - 0.5);
    predicted[2 * i + 1] = truth[2 * i + 1] + 80 * (random() - 0.5);
  }
  const proximity = best(repeats, () => proximityErrorPerEntity(truth, predicted, greatCircleKm));
  const ranks = best(repeats, () => [spearman(truth, predicted, n, 2, 0), spearman(truth, predicted, n, 2, 1)]);

  const digest = createHash('sha256').update(JSON.stringify({ layers: results.layers, best: results.bestLayer, predictions: results.predictions })).digest('hex');
  const fmt = (values: number[]) => `${Math.min(...values).toFixed(3)} (${values.map((value) => value.toFixed(3)).join(', ')})`;
  console.log(`dataset parse (${dataset.entities.length} rows): ${fmt(parse.all)} s`);
  console.log(`probeActivations (${results.layers.length} layers, test n = ${n}): ${fmt(fits)} s`);
  console.log(`JSON.stringify(results, null, 1): ${fmt(write.all)} s`);
  console.log(`great-circle proximity error, n = ${n}: ${fmt(proximity.all)} s`);
  console.log(`Spearman of 2 columns, n = ${n}: ${fmt(ranks.all)} s`);
  console.log(`results digest ${digest}`);
  console.log(`load average ${os.loadavg().map((value) => value.toFixed(2)).join(' / ')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * Peak memory and time of loading a large dataset (issue 15 item 16: a 1M-row CSV took 1 GB resident).
 *
 *   npx tsc -p . && node out/bench/datasets/loadLarge.js [--rows 1000000] [--file /tmp/spacetime-1m.csv] [--format csv|jsonl]
 *     [--loader OTHER/out/src/core/datasets/load.js]   (another build's loader, for a side-by-side comparison)
 *
 * Writes the file once (deterministic: the same rows for the same --rows), then loads it in a fresh child process
 * (so the parent's generation does not count) and prints one JSON object: rows, file size, baseline RSS before
 * the load, peak RSS (process.resourceUsage().maxRSS) and its excess over the baseline, the live heap after a GC
 * with the dataset still held, and the load time.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1] : fallback;
}

const COUNTRIES = ['FR', 'DE', 'US', 'JP', 'BR', 'IN', 'NG', 'AU', 'CA', 'MX', 'EG', 'CN'];

/** The i-th row: a unique name, coordinates from a small LCG, a country (few distinct values), a split flag. */
function* rows(count: number, format: string): Generator<string> {
  let state = 12345;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  yield format === 'csv' ? 'name,latitude,longitude,country,is_test\n' : '';
  for (let index = 0; index < count; index += 1) {
    const latitude = (next() * 180 - 90).toFixed(4);
    const longitude = (next() * 360 - 180).toFixed(4);
    const country = COUNTRIES[index % COUNTRIES.length];
    const isTest = next() < 0.2;
    yield format === 'csv' ? `Place ${index},${latitude},${longitude},${country},${isTest}\n`
      : `${JSON.stringify({ name: `Place ${index}`, latitude: Number(latitude), longitude: Number(longitude), country, is_test: isTest })}\n`;
  }
}

function writeFile(file: string, count: number, format: string): void {
  const descriptor = fs.openSync(file, 'w');
  let pending = '';
  for (const row of rows(count, format)) {
    pending += row;
    if (pending.length > 1 << 20) {
      fs.writeSync(descriptor, pending);
      pending = '';
    }
  }
  fs.writeSync(descriptor, pending);
  fs.closeSync(descriptor);
}

/** Runs in the child: load, measure, print JSON. */
const CHILD = `
const { loadDataset } = require(process.argv[1]);
const file = process.argv[2];
global.gc?.();
const baseline = process.memoryUsage().rss;
const started = performance.now();
const dataset = loadDataset(file);
const seconds = (performance.now() - started) / 1000;
global.gc?.();
const heapAfterGc = process.memoryUsage().heapUsed;
const peak = process.resourceUsage().maxRSS * 1024;
const rows = dataset.entities.length;
const probe = dataset.entities[rows - 1];
process.stdout.write(JSON.stringify({ rows, last: [probe.line, probe.name, ...probe.target, probe.isTest, probe.metadata.country],
  baselineRssMB: +(baseline / 1e6).toFixed(1), peakRssMB: +(peak / 1e6).toFixed(1), extraPeakMB: +((peak - baseline) / 1e6).toFixed(1),
  heapAfterGcMB: +(heapAfterGc / 1e6).toFixed(1), seconds: +seconds.toFixed(2) }));
`;

function main(): void {
  const count = Number(option('rows', '1000000'));
  const format = option('format', 'csv');
  const file = path.resolve(option('file', path.join(os.tmpdir(), `spacetime-bench-${count}.${format}`)));
  if (!fs.existsSync(file)) writeFile(file, count, format);
  const loader = path.resolve(option('loader', path.join(__dirname, '..', '..', 'src', 'core', 'datasets', 'load.js')));
  const child = spawnSync(process.execPath, ['--expose-gc', '-e', CHILD, loader, file], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(`the load failed:\n${child.stderr}`);
  const result = JSON.parse(child.stdout) as Record<string, unknown>;
  process.stdout.write(`${JSON.stringify({ loader, file, format, fileMB: +(fs.statSync(file).size / 1e6).toFixed(1), ...result,
    node: process.version, cpus: os.cpus().length, load: os.loadavg().map((value) => +value.toFixed(2)), date: new Date().toISOString() })}\n`);
}

main();

#!/usr/bin/env node
// Whole-process probe fitting: `spacetime-probe probe` (Node start, huge-page relaunch, bundle load, .npy reads,
// ridge fits, scoring, bootstrap intervals, results.json) vs scikit-learn RidgeCV in a fresh Python process
// (interpreter start, imports, .npy reads, fits, R²) on the same .npy files, run alternately, back to back.
//
//   npx tsc -p . && node scripts/build.mjs && node bench/probes/bench-whole-process.mjs --rows 10000 --dim 768 --layers 4 \
//       [--repeats 3] [--dtype float32|float16] [--python PATH] [--bootstrap N] [--huge-pages] [--fit-workers 0|2] [--dir DIR]
//
// The folder (bench/scale/makeFolder.ts: planted linear latitude/longitude signal, 20% is_test) is written once
// under DIR (default /tmp/spacetime-probe-whole-<rows>x<dim>-<dtype>), with targets.npy and is_test.npy beside
// the layers for bench/probes/sklearn_compare.py. Prints a Markdown table: best and median wall time of each side,
// their ratio, CPU seconds and peak RSS (/usr/bin/time; CPU time is the less load-sensitive comparison on a shared machine), the load average before each run, and whether the alphas and test R²
// agree (same alpha on every layer, max |Δ test R²| per target).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const { writeNpy } = require(path.join(root, 'out/src/core/activations/npy.js'));

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : process.argv[index + 1];
}
const rows = Number(option('rows', 10000));
const dim = Number(option('dim', 768));
const layers = Number(option('layers', 4));
const repeats = Number(option('repeats', 3));
const dtype = option('dtype', 'float32');
const python = option('python', process.env.SPACETIME_BENCH_PYTHON ?? '/usr/bin/python3');
const bootstrap = option('bootstrap', undefined);
// Huge pages are off by default (src/core/runtime/hugePages.ts); --huge-pages runs ours with SPACETIME_PROBE_HUGE_PAGES=1.
const hugePages = process.argv.includes('--huge-pages');
// --fit-workers 0 fits every layer on the main thread (SPACETIME_PROBE_FIT_WORKERS, src/core/probes/ridgePool.ts).
const fitWorkers = option('fit-workers', undefined);
const dir = path.resolve(option('dir', path.join(os.tmpdir(), `spacetime-probe-whole-${rows}x${dim}-${dtype}`)));
const activations = path.join(dir, 'activations');
const datasetFile = path.join(dir, 'dataset.csv');

if (!fs.existsSync(path.join(activations, 'manifest.json'))) {
  execFileSync(process.execPath, [path.join(root, 'out/bench/scale/makeFolder.js'), '--out', dir, '--rows', String(rows), '--layers', String(layers),
    '--dim', String(dim), '--dtype', dtype], { stdio: 'inherit' });
  // The same targets and split for scikit-learn, from the dataset the probe reads.
  const lines = fs.readFileSync(datasetFile, 'utf8').trim().split('\n').slice(1).map((line) => line.split(','));
  writeNpy(path.join(activations, 'targets.npy'), Float64Array.from(lines.flatMap((f) => [Number(f[1]), Number(f[2])])), [lines.length, 2]);
  writeNpy(path.join(activations, 'is_test.npy'), Uint8Array.from(lines.map((f) => (f[3] === 'true' ? 1 : 0))), [lines.length]);
}

/** Run a command as a whole process under /usr/bin/time; wall seconds from spawn to exit, CPU seconds (user + system), peak RSS in MiB. */
function timed(command, args, env) {
  const load = os.loadavg()[0];
  const started = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', '%M %U %S', command, ...args], { encoding: 'utf8', env, maxBuffer: 1 << 28 });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stderr.slice(-3000)}`);
  const [rssKiB, user, system] = result.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { seconds, rssMiB: rssKiB / 1024, cpuSeconds: user + system, load, stdout: result.stdout };
}

const outDir = path.join(dir, 'results');
const oursArgs = [path.join(root, 'out/cli.js'), 'probe', '--activations', activations, '--dataset', datasetFile, '--out', outDir, '--json',
  ...(bootstrap === undefined ? [] : ['--bootstrap', bootstrap])];
const oursEnv = { ...process.env, SPACETIME_PROBE_HUGE_PAGES: hugePages ? '1' : '0', ...(fitWorkers === undefined ? {} : { SPACETIME_PROBE_FIT_WORKERS: fitWorkers }) };
const theirsArgs = [path.join(root, 'bench/probes/sklearn_compare.py'), activations, '--no-loo', '--layers', String(layers)];
const ours = [];
const theirs = [];
for (let repeat = 0; repeat < repeats; repeat++) {
  ours.push(timed(process.execPath, oursArgs, oursEnv));
  theirs.push(timed(python, theirsArgs, process.env));
  const [a, b] = [ours.at(-1), theirs.at(-1)];
  console.error(`repeat ${repeat + 1}/${repeats}: ours ${a.seconds.toFixed(2)} s (load ${a.load.toFixed(1)}), scikit-learn ${b.seconds.toFixed(2)} s (load ${b.load.toFixed(1)}), ratio ${(b.seconds / a.seconds).toFixed(2)}`);
}
const results = JSON.parse(ours.at(-1).stdout);
const reference = JSON.parse(theirs.at(-1).stdout);
const alphaSame = results.layers.every((layer, index) => results.alphas.indexOf(layer.alpha) === reference.layers[index].alpha_index);
const maxR2 = Math.max(...results.layers.map((layer, index) => Math.max(...results.targets.map((name, c) => Math.abs(layer.testR2PerTarget[name] - reference.layers[index].test_r2_per_target[c])))));
const best = (runs) => Math.min(...runs.map((run) => run.seconds));
const median = (runs) => [...runs.map((run) => run.seconds)].sort((x, y) => x - y)[Math.floor(runs.length / 2)];
const pairRatios = ours.map((run, index) => theirs[index].seconds / run.seconds);
console.log(`\n### Whole process, ${rows} rows × ${dim} (${dtype}), ${layers} layers, ${results.alphas.length} alphas (${new Date().toISOString().slice(0, 16)}Z, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'})\n`);
console.log(`Command: \`node bench/probes/bench-whole-process.mjs --rows ${rows} --dim ${dim} --layers ${layers} --repeats ${repeats} --dtype ${dtype}${python === '/usr/bin/python3' ? '' : ` --python ${python}`}${bootstrap === undefined ? '' : ` --bootstrap ${bootstrap}`}${hugePages ? ' --huge-pages' : ''}${fitWorkers === undefined ? '' : ` --fit-workers ${fitWorkers}`}\`; scikit-learn: ${reference.sklearn} / NumPy ${reference.numpy}\n`);
console.log('| | ours (`spacetime-probe probe`) | scikit-learn RidgeCV (python) |');
console.log('|---|---|---|');
console.log(`| wall, best / median of ${repeats} | ${best(ours).toFixed(2)} / ${median(ours).toFixed(2)} s | ${best(theirs).toFixed(2)} / ${median(theirs).toFixed(2)} s |`);
console.log(`| CPU (user + system), median | ${median(ours.map((run) => ({ seconds: run.cpuSeconds }))).toFixed(2)} s | ${median(theirs.map((run) => ({ seconds: run.cpuSeconds }))).toFixed(2)} s |`);
console.log(`| peak RSS | ${Math.max(...ours.map((run) => run.rssMiB)).toFixed(0)} MiB | ${Math.max(...theirs.map((run) => run.rssMiB)).toFixed(0)} MiB |`);
console.log(`| load average before each run | ${ours.map((run) => run.load.toFixed(1)).join(', ')} | ${theirs.map((run) => run.load.toFixed(1)).join(', ')} |`);
console.log(`| **ratio (scikit-learn / ours)** | best ${(best(theirs) / best(ours)).toFixed(2)}×, median ${(median(theirs) / median(ours)).toFixed(2)}×; per back-to-back pair ${pairRatios.map((r) => r.toFixed(2)).join(', ')} | |`);
console.log(`\nSame alpha on every layer: ${alphaSame ? 'yes' : 'NO'}; max |Δ test R²| per target: ${maxR2.toExponential(2)}. Huge pages: ${hugePages ? "on (the CLI relaunches itself)" : "off"}. Fit workers: ${fitWorkers ?? "default"}.`);

#!/usr/bin/env node
// Probe fitting time, Spacetime Probe vs scikit-learn RidgeCV, on the same .npy files, one layer at a time.
//
//   npx tsc -p . && node bench/probes/bench-probes.mjs --n 20000 --d 768 --layers 13 --repeats 3 [--dir DIR] [--no-sklearn]
//       [--products onnxruntime|javascript] [--projection auto|float64|float32] [--reduction auto|tridiagonal|band] [--python PATH]
//
// Writes synthetic "real-ish" activations (float32, low-rank signal + outlier dimensions, like a residual stream)
// to DIR/layer_XXX.npy with targets.npy ([lat, lon]) and is_test.npy (seeded 20%), unless they already exist.
// Then, per repeat: our fitRidgeCV on each layer's training rows (layer read from disk, fitted, dropped), and
// bench/probes/sklearn_compare.py (RidgeCV with the same alphas, same standardisation) on the same files.
// Timed span on both sides: the ridge fit on the training rows (scikit-learn's RidgeCV.fit; our fitRidgeCV),
// excluding file reads; test R² is then computed from that fit on both sides and compared. Prints a Markdown summary; best-of-repeats per side. Peak RSS of each process is reported.
// Our side runs without malloc huge pages, as the CLI's `probe` command does by default; --huge-pages relaunches it
// with them, as the CLI does with SPACETIME_PROBE_HUGE_PAGES=1 (src/cli/hugePages.ts). scikit-learn runs in the
// environment this script was started with (NumPy asks for huge pages for its large arrays itself).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const { writeNpy, readNpy } = require(path.join(root, 'out/src/core/activations/npy.js'));
const { mulberry32 } = require(path.join(root, 'out/src/core/probes/split.js'));
const { fitRidgeCV, predict } = require(path.join(root, 'out/src/core/probes/ridge.js'));
const { DEFAULT_ALPHAS } = require(path.join(root, 'out/src/core/probes/probe.js'));
const { r2PerTarget } = require(path.join(root, 'out/src/core/probes/metrics.js'));
const { hugePageRelaunchEnv, currentHugePageHost, relaunch } = require(path.join(root, 'out/src/cli/hugePages.js'));

const launchEnv = { ...process.env };
if (process.env.SPACETIME_PROBE_BENCH_ENV !== undefined) Object.assign(launchEnv, JSON.parse(process.env.SPACETIME_PROBE_BENCH_ENV));
const hugePagesEnv = process.argv.includes('--huge-pages') ? hugePageRelaunchEnv('probe', { ...process.env, SPACETIME_PROBE_HUGE_PAGES: '1' }, currentHugePageHost()) : undefined;
if (hugePagesEnv !== undefined) {
  // Remember the original environment for the scikit-learn child, then run this script again with huge pages.
  const original = { GLIBC_TUNABLES: process.env.GLIBC_TUNABLES ?? '' };
  process.exit(await relaunch({ ...hugePagesEnv, SPACETIME_PROBE_BENCH_ENV: JSON.stringify(original) }));
}
const hugePages = (process.env.GLIBC_TUNABLES ?? '').includes('glibc.malloc.hugetlb=1');

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : process.argv[index + 1];
}
const n = Number(option('n', 20000));
const d = Number(option('d', 768));
const nLayers = Number(option('layers', 13));
const repeats = Number(option('repeats', 3));
const dir = path.resolve(option('dir', path.join(os.tmpdir(), `spacetime-probe-bench-${n}x${d}`)));
const products = option('products', 'onnxruntime');
const projectionPrecision = option('projection', 'auto');
// The interpreter with scikit-learn (Debian's python3-sklearn by default; a venv's python where that is missing).
const python = option('python', process.env.SPACETIME_BENCH_PYTHON ?? '/usr/bin/python3');
const reduction = option('reduction', 'auto');
const runSklearn = !process.argv.includes('--no-sklearn');

function gaussianStream(random) {
  let spare = NaN;
  return () => {
    if (!Number.isNaN(spare)) { const value = spare; spare = NaN; return value; }
    const u = Math.max(random(), 1e-300);
    const radius = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * random();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

function generate() {
  fs.mkdirSync(dir, { recursive: true });
  const random = mulberry32(20240101);
  const gaussian = gaussianStream(random);
  const rank = 16;
  const latent = Float64Array.from({ length: n * rank }, gaussian);
  const targets = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    targets[2 * i] = 80 * Math.tanh(0.6 * latent[i * rank] + 0.3 * gaussian());
    targets[2 * i + 1] = 170 * Math.tanh(0.6 * latent[i * rank + 1] + 0.3 * gaussian());
  }
  writeNpy(path.join(dir, 'targets.npy'), targets, [n, 2]);
  writeNpy(path.join(dir, 'is_test.npy'), Uint8Array.from({ length: n }, () => (random() < 0.2 ? 1 : 0)), [n]);
  for (let layer = 0; layer < nLayers; layer++) {
    const file = path.join(dir, `layer_${String(layer).padStart(3, '0')}.npy`);
    if (fs.existsSync(file)) continue;
    const strength = 0.05 + 0.1 * layer;
    const mixing = Float64Array.from({ length: rank * d }, () => gaussian() * strength);
    const offsets = Float64Array.from({ length: d }, (_, f) => (f < 4 ? 20 + 5 * f : gaussian()));
    const scales = Float64Array.from({ length: d }, (_, f) => (f < 4 ? 30 : 1));
    const x = new Float32Array(n * d);
    const row = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      row.fill(0);
      for (let r = 0; r < rank; r++) {
        const z = latent[i * rank + r];
        for (let f = 0; f < d; f++) row[f] += z * mixing[r * d + f];
      }
      for (let f = 0; f < d; f++) x[i * d + f] = offsets[f] + scales[f] * (row[f] + gaussian());
    }
    writeNpy(file, x, [n, d]);
  }
}

if (!fs.existsSync(path.join(dir, `layer_${String(nLayers - 1).padStart(3, '0')}.npy`))) {
  const started = performance.now();
  generate();
  console.error(`generated ${nLayers} layers of ${n} × ${d} in ${((performance.now() - started) / 1000).toFixed(1)} s under ${dir}`);
}

async function runOurs() {
  const targets = readNpy(path.join(dir, 'targets.npy')).data;
  const isTest = readNpy(path.join(dir, 'is_test.npy')).data;
  const trainIdx = Int32Array.from([...isTest.keys()].filter((i) => !isTest[i]));
  const testIdx = Int32Array.from([...isTest.keys()].filter((i) => isTest[i]));
  const layers = [];
  for (let layer = 0; layer < nLayers; layer++) {
    const x = readNpy(path.join(dir, `layer_${String(layer).padStart(3, '0')}.npy`)).data;
    // Time the ridge fit itself, like sklearn's RidgeCV.fit; then the full layer probe for the results.
    const xTrain = new Float32Array(trainIdx.length * d);
    trainIdx.forEach((row, r) => xTrain.set(x.subarray(row * d, (row + 1) * d), r * d));
    const mean = [0, 1].map((c) => trainIdx.reduce((sum, row) => sum + targets[row * 2 + c], 0) / trainIdx.length);
    const std = [0, 1].map((c) => Math.sqrt(trainIdx.reduce((sum, row) => sum + (targets[row * 2 + c] - mean[c]) ** 2, 0) / trainIdx.length));
    const y = new Float64Array(trainIdx.length * 2);
    trainIdx.forEach((row, r) => { for (let c = 0; c < 2; c++) y[r * 2 + c] = (targets[row * 2 + c] - mean[c]) / std[c]; });
    const phases = {};
    const started = performance.now();
    const fit = await fitRidgeCV({ x: xTrain, y, nSamples: trainIdx.length, nFeatures: d, nTargets: 2 }, { alphas: DEFAULT_ALPHAS, products, projectionPrecision, reduction, onPhase: (name, seconds) => { phases[name] = (phases[name] ?? 0) + seconds; } });
    const seconds = (performance.now() - started) / 1000;
    // Test R² from the same fit (coefficients on standardised targets, mapped back), as the probe wrapper does.
    const xTest = new Float32Array(testIdx.length * d);
    testIdx.forEach((row, r) => xTest.set(x.subarray(row * d, (row + 1) * d), r * d));
    const standardised = predict(fit, xTest, testIdx.length);
    const truth = new Float64Array(testIdx.length * 2);
    const predicted = new Float64Array(testIdx.length * 2);
    testIdx.forEach((row, r) => { for (let c = 0; c < 2; c++) { truth[r * 2 + c] = targets[row * 2 + c]; predicted[r * 2 + c] = standardised[r * 2 + c] * std[c] + mean[c]; } });
    const { perTarget, mean: testR2 } = r2PerTarget(truth, predicted, testIdx.length, 2);
    const probe = { test: { r2: testR2, r2PerTarget: perTarget } };
    layers.push({ seconds, alpha: fit.alpha, alphaIndex: fit.alphaIndex, testR2: probe.test.r2, testR2PerTarget: probe.test.r2PerTarget });
    console.error(`  ours layer ${layer}: ${seconds.toFixed(2)} s (${Object.entries(phases).map(([name, value]) => `${name} ${value.toFixed(1)}`).join(', ')}), alpha ${fit.alpha.toPrecision(6)} (LOO ${fit.looPrecision}), test R² ${probe.test.r2.toFixed(6)}`);
  }
  return layers;
}

function runTheirs() {
  const started = performance.now();
  const env = { ...launchEnv };
  delete env.SPACETIME_PROBE_BENCH_ENV;
  delete env.SPACETIME_PROBE_RELAUNCHED;
  if (env.GLIBC_TUNABLES === '') delete env.GLIBC_TUNABLES;
  const output = execFileSync(python, [path.join(root, 'bench/probes/sklearn_compare.py'), dir, '--no-loo', '--layers', String(nLayers)], { maxBuffer: 1 << 26, encoding: 'utf8', env });
  const result = JSON.parse(output);
  result.wallSeconds = (performance.now() - started) / 1000;
  for (const [layer, entry] of result.layers.entries()) console.error(`  sklearn layer ${layer}: ${entry.fit_seconds.toFixed(2)} s, alpha ${entry.alpha.toPrecision(6)}, test R² ${entry.test_r2.toFixed(6)}`);
  return result;
}

const oursRuns = [];
const theirRuns = [];
for (let repeat = 0; repeat < repeats; repeat++) {
  console.error(`repeat ${repeat + 1}/${repeats}`);
  oursRuns.push(await runOurs());
  if (runSklearn) theirRuns.push(runTheirs());
}
const total = (layers, key) => layers.reduce((sum, layer) => sum + layer[key], 0);
const oursBest = Math.min(...oursRuns.map((layers) => total(layers, 'seconds')));
const oursRss = process.resourceUsage().maxRSS / 1024;
console.log(`\n### n = ${n}, d = ${d}, ${nLayers} layers, ${DEFAULT_ALPHAS.length} alphas (${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'})\n`);
console.log(`Command: \`node bench/probes/bench-probes.mjs --n ${n} --d ${d} --layers ${nLayers} --repeats ${repeats} --products ${products} --projection ${projectionPrecision} --reduction ${reduction}${hugePages ? ' --huge-pages' : ''}${python === '/usr/bin/python3' ? '' : ` --python ${python}`}\` (ours with malloc huge pages: ${hugePages ? 'yes' : 'no'})\n`);
console.log('| | ours (fitRidgeCV) | scikit-learn RidgeCV |');
console.log('|---|---|---|');
if (runSklearn) {
  const theirsBest = Math.min(...theirRuns.map((run) => total(run.layers, 'fit_seconds')));
  console.log(`| fit time, all layers, best of ${repeats} | ${oursBest.toFixed(1)} s | ${theirsBest.toFixed(1)} s |`);
  console.log(`| per layer | ${(oursBest / nLayers).toFixed(2)} s | ${(theirsBest / nLayers).toFixed(2)} s |`);
  console.log(`| peak RSS (process) | ${oursRss.toFixed(0)} MiB | ${Math.max(...theirRuns.map((run) => run.max_rss_mib)).toFixed(0)} MiB |`);
  console.log(`| **speed-up** | **${(theirsBest / oursBest).toFixed(2)}×** | |`);
  const ours = oursRuns[0];
  const theirs = theirRuns[0].layers;
  const alphaSame = ours.every((layer, index) => layer.alphaIndex === theirs[index].alpha_index);
  const maxR2 = Math.max(...ours.map((layer, index) => Math.max(...layer.testR2PerTarget.map((value, c) => Math.abs(value - theirs[index].test_r2_per_target[c])))));
  console.log(`\nSame alpha on every layer: ${alphaSame ? 'yes' : 'NO'}; max |Δ test R²| per target: ${maxR2.toExponential(2)}.`);
  console.log(`Per-run totals (s): ours ${oursRuns.map((layers) => total(layers, 'seconds').toFixed(1)).join(', ')}; scikit-learn ${theirRuns.map((run) => total(run.layers, 'fit_seconds').toFixed(1)).join(', ')}.`);
} else {
  console.log(`| fit time, all layers, best of ${repeats} | ${oursBest.toFixed(1)} s | (not run) |`);
  console.log(`| peak RSS (process) | ${oursRss.toFixed(0)} MiB | |`);
}

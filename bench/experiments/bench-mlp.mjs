// MLP probe speed (src/core/probes/mlp.ts): seconds per epoch and for a full default fit (4 weight decays, early
// stopping) on GloVe world_places activations (16,215 train × 100) and per epoch on synthetic 16,000 × 768.
// Usage: npx tsc -p . && node scripts/build.mjs && node bench/experiments/bench-mlp.mjs [--repeats 3]
// Needs OUT/activations from `node out/cli.js run --dataset builtin:world_places --out /tmp/bench-world`.
import { createRequire } from 'node:module';
import * as os from 'node:os';
const require = createRequire(import.meta.url);
const { fitMlpRegressor } = require('../../out/src/core/probes/mlp.js');
const { readActivationManifest, readActivationLayer } = require('../../out/src/core/activations/manifest.js');
const { loadDataset } = require('../../out/src/core/datasets/load.js');
const { splitFor, alignEntities } = require('../../out/src/core/experiments/probeActivations.js');
const { mulberry32 } = require('../../out/src/core/probes/split.js');

const repeats = Number(process.argv[process.argv.indexOf('--repeats') + 1]) || 3;
const dir = process.env.BENCH_WORLD_ACTIVATIONS ?? '/tmp/bench-world/activations';

async function timed(label, run) {
  const times = [];
  let info = '';
  for (let r = 0; r < repeats; r++) {
    const started = performance.now();
    info = await run();
    times.push((performance.now() - started) / 1000);
  }
  console.log(`${label}: best of ${repeats} ${Math.min(...times).toFixed(2)} s (all: ${times.map((t) => t.toFixed(2)).join(', ')}) ${info}`);
}

const manifest = readActivationManifest(dir);
const entities = alignEntities(loadDataset('builtin:world_places'), manifest, dir);
const split = splitFor(entities, 0);
const x = readActivationLayer(dir, manifest, 0);
const y = Float64Array.from(entities.flatMap((entity) => entity.target));
const input = { x, nSamples: entities.length, nFeatures: manifest.hiddenSize, y, nTargets: 2, trainIdx: split.train };
console.log(`${os.cpus().length} × ${os.cpus()[0].model}, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
await timed('GloVe world_places 16,215 × 100, full default fit', async () => {
  let epochs = 0;
  const fit = await fitMlpRegressor(input, { onEpoch: () => epochs++ });
  return `(${epochs} epochs over ${fit.validationLoss.length} weight decays, chosen ${fit.weightDecay})`;
});
await timed('GloVe world_places, 5 epochs, one weight decay', async () => { await fitMlpRegressor(input, { weightDecays: [1], maxEpochs: 5, patience: 100 }); return '(per epoch: divide by 5)'; });
const random = mulberry32(1);
const d = 768;
const xs = Float32Array.from({ length: 16_000 * d }, () => random() * 2 - 1);
const ys = Float64Array.from({ length: 16_000 * 2 }, () => random());
const synthetic = { x: xs, nSamples: 16_000, nFeatures: d, y: ys, nTargets: 2, trainIdx: Int32Array.from({ length: 12_800 }, (_, i) => i) };
await timed('synthetic 12,800 train × 768, 3 epochs, one weight decay', async () => { await fitMlpRegressor(synthetic, { weightDecays: [1], maxEpochs: 3, patience: 100 }); return '(per epoch: divide by 3)'; });

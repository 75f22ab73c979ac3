// Wall time of each `spacetime-probe experiment` on builtin:world_places with the built-in GloVe model, after a
// `run` filled the activation cache (so no model time), best of N. Holdout is limited to the 20 largest blocks.
// Usage: node scripts/build.mjs && node bench/experiments/bench-experiments.mjs [--repeats 3]
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'out', 'cli.js');
const repeats = Number(process.argv[process.argv.indexOf('--repeats') + 1]) || 3;
const out = path.join(os.tmpdir(), 'bench-experiments-world');
const base = ['--dataset', 'builtin:world_places', '--out', out];
const run = (args) => {
  const started = performance.now();
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
  return (performance.now() - started) / 1000;
};
console.log(`${os.cpus().length} × ${os.cpus()[0].model}, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
run(['run', ...base]);
for (const [name, extra] of [['prompt-variants', []], ['holdout', ['--max-blocks', '20']], ['mlp', []], ['neurons', []], ['controls', []]]) {
  const times = Array.from({ length: repeats }, () => run(['experiment', name, ...base, ...extra]));
  console.log(`experiment ${name} ${extra.join(' ')}: best of ${repeats} ${Math.min(...times).toFixed(1)} s (all: ${times.map((t) => t.toFixed(1)).join(', ')})`);
}

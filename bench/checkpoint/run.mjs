#!/usr/bin/env node
// Checkpoint benchmark, both sides back to back: our graph over the safetensors bytes (checkpointBench.ts) vs PyTorch
// CPU with output_hidden_states (torch_side.py), whole processes, same checkpoint, prompts, ids and batches.
//
//   npx tsc -p . && node bench/checkpoint/run.mjs [--dir out/.bench/checkpoint] [--python /work/v/bin/python]
//        [--batch 16] [--threads 2] [--limit 256] [--rounds 2] [--models gpt2-small,llama-150m] [--huge-pages on|off|both]
//
// --huge-pages on runs BOTH sides with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (what our CLI relaunches itself with
// on Linux; PyTorch's allocations come from malloc too, so it gets the same chance); off runs both without; both
// (default) measures the two configurations.
// Makes the checkpoints with make_checkpoints.py when the folder lacks them. Each round runs ours then torch for
// every model; the best round of each side is reported with the ratio, and everything is written to
// bench/checkpoint/results.json. Peak RSS is compared with 1.3 × the float32 weights + one batch.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const args = process.argv.slice(2);
const option = (name, fallback) => { const at = args.indexOf(name); return at === -1 ? fallback : args[at + 1]; };
const dir = path.resolve(option('--dir', path.join(root, 'out', '.bench', 'checkpoint')));
const python = option('--python', '/work/v/bin/python');
const batch = option('--batch', '16');
const threads = option('--threads', '2');
const limit = Number(option('--limit', '256'));
const rounds = Number(option('--rounds', '2'));
const models = option('--models', 'gpt2-small,llama-150m').split(',');

if (!models.every((name) => fs.existsSync(path.join(dir, name, 'config.json'))) || !fs.existsSync(path.join(dir, 'prompts.json'))) {
  execFileSync(python, [path.join(here, 'make_checkpoints.py'), dir], { stdio: 'inherit' });
}
const prompts = path.join(dir, `prompts-${limit}.json`);
fs.writeFileSync(prompts, JSON.stringify(JSON.parse(fs.readFileSync(path.join(dir, 'prompts.json'), 'utf8')).slice(0, limit)));

const hugePages = option('--huge-pages', 'both');
const configurations = hugePages === 'both' ? ['off', 'on'] : [hugePages];
let env;
function side(command, commandArgs) {
  const started = performance.now();
  const result = spawnSync(command, commandArgs, { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  const wall = (performance.now() - started) / 1000;
  const line = result.stdout.trim().split('\n').filter((text) => text.startsWith('{')).pop();
  if (result.status !== 0 || !line) throw new Error(`${command} ${commandArgs.join(' ')} failed (${result.status}):\n${result.stderr}`);
  return { ...JSON.parse(line), wall_s: wall };
}

const results = [];
for (const configuration of configurations) {
const base = { ...process.env };
delete base.GLIBC_TUNABLES;
env = { ...base, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads, SPACETIME_PROBE_HUGE_PAGES: '0', ...(configuration === 'on' ? { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' } : {}) };
for (const name of models) {
  const folder = path.join(dir, name);
  const runs = { ours: [], torch: [] };
  for (let round = 0; round < rounds; round++) {
    runs.ours.push(side(process.execPath, [path.join(root, 'out', 'bench', 'checkpoint', 'checkpointBench.js'), folder, '--prompts', prompts, '--batch', batch, '--threads', threads]));
    runs.torch.push(side(python, [path.join(here, 'torch_side.py'), folder, prompts, '--batch', batch, '--threads', threads, '--head', 'none']));
  }
  const best = (list, key) => list.reduce((a, b) => (b[key] > a[key] ? b : a));
  const ours = best(runs.ours, 'tokens_per_s');
  const torch = best(runs.torch, 'tokens_per_s');
  const float32Mb = ours.float32_weight_mb;
  results.push({
    huge_pages: configuration, model: name, architecture: ours.architecture, dtype: ours.dtype, layers: ours.layers, hidden: ours.hidden,
    prompts: ours.prompts, batch: Number(batch), threads: Number(threads), tokens: ours.tokens, padded_tokens: ours.padded_tokens,
    ours: { tokens_per_s: ours.tokens_per_s, load_s: Math.min(...runs.ours.map((run) => run.load_s)), process_s: Math.min(...runs.ours.map((run) => run.wall_s)), peak_rss_mb: Math.max(...runs.ours.map((run) => run.peak_rss_mb)) },
    torch: { tokens_per_s: torch.tokens_per_s, load_s: Math.min(...runs.torch.map((run) => run.load_s)), process_s: Math.min(...runs.torch.map((run) => run.wall_s)), peak_rss_mb: Math.max(...runs.torch.map((run) => run.peak_rss_mb)) },
    ratio_tokens_per_s: ours.tokens_per_s / torch.tokens_per_s,
    ratio_process_s: Math.min(...runs.torch.map((run) => run.wall_s)) / Math.min(...runs.ours.map((run) => run.wall_s)),
    float32_weight_mb: float32Mb,
    rss_over_float32_weights: Math.max(...runs.ours.map((run) => run.peak_rss_mb)) / float32Mb,
    all_rounds: runs,
  });
}
}
const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, memory_gb: Math.round(os.totalmem() / 1e9), load: os.loadavg(), date: new Date().toISOString(), node: process.version };
fs.writeFileSync(path.join(here, 'results.json'), `${JSON.stringify({ machine, results }, null, 2)}\n`);
for (const r of results) {
  console.log(`[huge pages ${r.huge_pages}] ${r.model} (${r.architecture}, ${r.dtype}, ${r.layers} layers × ${r.hidden}; ${r.prompts} prompts, batch ${r.batch}, ${r.threads} threads):` +
    ` ours ${r.ours.tokens_per_s.toFixed(0)} tok/s, torch ${r.torch.tokens_per_s.toFixed(0)} tok/s → ${r.ratio_tokens_per_s.toFixed(2)}×;` +
    ` whole process ${r.ours.process_s.toFixed(1)} s vs ${r.torch.process_s.toFixed(1)} s (${r.ratio_process_s.toFixed(2)}×);` +
    ` load ${r.ours.load_s.toFixed(2)} s vs ${r.torch.load_s.toFixed(2)} s; peak RSS ${r.ours.peak_rss_mb.toFixed(0)} MB = ${r.rss_over_float32_weights.toFixed(2)}× the float32 weights (torch ${r.torch.peak_rss_mb.toFixed(0)} MB)`);
}
console.log(`machine: ${machine.cpus} × ${machine.model}, load ${machine.load.map((x) => x.toFixed(1)).join(' ')}`);

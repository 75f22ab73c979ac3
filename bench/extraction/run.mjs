// Extraction benchmark driver: our ONNX extraction vs PyTorch CPU on the same GPT-2-small-shaped model and batch.
//
//   npx tsc -p . && node bench/extraction/run.mjs [--dir out/.bench/extraction/gpt2-small] [--rounds 3]
//                                                 [--threads 2] [--write]
//
// 1. Exports the model once (bench/extraction/torch_gpt2.py export: random weights, opset 17, ~650 MB).
// 2. Alternates `torch_gpt2.py time` and `out/bench/extraction/extractionBench.js` for --rounds rounds, so both
//    see the same machine load; each reports its best of 3 × 5 batches; we keep the best round of each.
// 3. Prints the figures (--render: from the last results.json, without measuring); with --write, replaces the "Extraction" section of BENCHMARKS.md (between the
//    extraction markers) and keeps the raw JSON in bench/extraction/results.json.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
};
const dir = path.resolve(root, arg('--dir', 'out/.bench/extraction/gpt2-small'));
const rounds = Number(arg('--rounds', '3'));
const threads = Number(arg('--threads', '2'));
const python = '/usr/bin/python3';
// Both runtimes get the same thread budget; OpenBLAS/OpenMP would otherwise size their pools from the core count.
const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

if (!fs.existsSync(path.join(dir, 'onnx', 'model.onnx'))) {
  console.error(`exporting the model to ${dir} …`);
  run(python, ['bench/extraction/torch_gpt2.py', 'export', dir]);
}
const bench = path.join(root, 'out', 'bench', 'extraction', 'extractionBench.js');
if (!fs.existsSync(bench)) throw new Error('run `npx tsc -p .` first');

const resultsFile = path.join(root, 'bench', 'extraction', 'results.json');
// --render: rewrite the BENCHMARKS.md section from the last results.json without measuring again.
const summary = process.argv.includes('--render') ? JSON.parse(fs.readFileSync(resultsFile, 'utf8')) : measure();
const { ours } = summary;
const torchNoHead = summary.torch.noHead;
const torchWithHead = summary.torch.withHead;
console.log(JSON.stringify({ ours: ours.tokensPerSecond, torchNoHead: torchNoHead.tokens_per_second, torchWithHead: torchWithHead.tokens_per_second, ratio: summary.ratio }, null, 1));

function measure() {
  const ortVersion = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')).version;
  const loadBefore = os.loadavg();
  const torchRounds = [];
  const ortRounds = [];
  for (let round = 0; round < rounds; round++) {
    torchRounds.push(run(python, ['bench/extraction/torch_gpt2.py', 'time', dir, '--threads', String(threads)]));
    ortRounds.push(run(process.execPath, [bench, dir, '--threads', String(threads)]));
    console.error(`round ${round + 1}: torch ${torchRounds.at(-1).hidden_states_no_head.tokens_per_second.toFixed(1)} / ` +
      `${torchRounds.at(-1).hidden_states_with_lm_head.tokens_per_second.toFixed(1)} tok/s, ours ${ortRounds.at(-1).tokensPerSecond.toFixed(1)} tok/s`);
  }
  const loadAfter = os.loadavg();
  const bestOf = (list, value) => list.reduce((best, item) => (value(item) > value(best) ? item : best));
  const noHead = bestOf(torchRounds, (r) => r.hidden_states_no_head.tokens_per_second);
  const withHead = bestOf(torchRounds, (r) => r.hidden_states_with_lm_head.tokens_per_second);
  const best = bestOf(ortRounds, (r) => r.tokensPerSecond);
  return {
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), loadBefore, loadAfter },
    model: 'GPT-2-small shape (12 layers, d=768, 12 heads, vocab 50257), random weights, TorchScript export opset 17',
    modelFileMb: fs.statSync(path.join(dir, 'onnx', 'model.onnx')).size / 1e6,
    rounds,
    threads,
    ours: { ...best, onnxruntime: ortVersion },
    torch: { noHead: noHead.hidden_states_no_head, withHead: withHead.hidden_states_with_lm_head, peakRssMb: noHead.peak_rss_mb, version: noHead.torch },
    ratio: {
      vsTorchNoHead: best.tokensPerSecond / noHead.hidden_states_no_head.tokens_per_second,
      vsTorchWithHead: best.tokensPerSecond / withHead.hidden_states_with_lm_head.tokens_per_second,
    },
    all: { torch: torchRounds, ours: ortRounds },
  };
}

if (process.argv.includes('--write')) {
  if (!process.argv.includes('--render')) fs.writeFileSync(resultsFile, JSON.stringify(summary, null, 1) + '\n');
  const { loadBefore, loadAfter } = summary.machine;
  const f = (value, digits = 0) => value.toFixed(digits);
  const section = [
    '<!-- extraction:start -->',
    '## Extraction: every-layer residual stream, ours (onnxruntime-node) vs PyTorch CPU',
    '',
    `Measured ${summary.date.slice(0, 10)} on ${summary.machine.cpu}, ${summary.machine.cores} cores, ${summary.machine.memoryGiB} GiB; ` +
      `load average ${loadBefore.map((v) => f(v, 1)).join('/')} before, ${loadAfter.map((v) => f(v, 1)).join('/')} after ` +
      '(the machine was shared with other work; the figures may be re-run on a quiet machine).',
    '',
    `Command: \`npx tsc -p . && node bench/extraction/run.mjs --rounds ${summary.rounds} --threads ${summary.threads} --write\`.`,
    `Model: ${summary.model}; the same weights run in both (max |ours − torch| on the batch = ${ours.maxDeviationFromTorch.toExponential(1)}).`,
    `Batch: ${ours.batch[0]} × ${ours.batch[1]} token ids, every row full length; ${summary.threads} threads each ` +
      '(torch.set_num_threads + OMP/OpenBLAS; onnxruntime intraOpNumThreads); best of 3 × 5 batches per round, best of the rounds.',
    '',
    '| Runtime | What runs | tokens/s | peak RSS |',
    '|---|---|---|---|',
    `| ours: onnxruntime-node ${ours.onnxruntime ?? ''}, Node ${ours.node} | taps gathered in-graph, LM head pruned | **${f(ours.tokensPerSecond)}** | ${f(ours.peakRssMb)} MB |`,
    `| PyTorch ${summary.torch.version} (Debian python3-torch, OpenBLAS) | all hidden states, no final norm/LM head | ${f(torchNoHead.tokens_per_second)} | ${f(summary.torch.peakRssMb)} MB |`,
    `| PyTorch ${summary.torch.version} | all hidden states + logits (\`output_hidden_states\` style) | ${f(torchWithHead.tokens_per_second)} | — |`,
    '',
    `Ratio: **${f(summary.ratio.vsTorchNoHead, 2)}×** PyTorch without the LM head, ${f(summary.ratio.vsTorchWithHead, 2)}× with it (target ≥ 1.2×).`,
    `Every round (tokens/s; rounds alternate, so each pair saw similar load): ours ${summary.all.ours.map((r) => f(r.tokensPerSecond)).join(' / ')}; ` +
      `PyTorch without head ${summary.all.torch.map((r) => f(r.hidden_states_no_head.tokens_per_second)).join(' / ')}; ` +
      `with head ${summary.all.torch.map((r) => f(r.hidden_states_with_lm_head.tokens_per_second)).join(' / ')}.`,
    '',
    `End to end (\`extractActivations\`: tokenize, length-sorted batches of ${ours.batch[0]}, per-layer .npy writes): ` +
      `${ours.endToEnd.entities} prompts of 1–8 tokens, ${ours.endToEnd.tokens} tokens (${ours.endToEnd.paddedTokens} with padding) ` +
      `in ${f(ours.endToEnd.totalSeconds, 2)} s = ${f(ours.endToEnd.tokensPerSecond)} tokens/s. ` +
      `Model load (read, discover taps, rewrite, create session, fingerprint): ${f(ours.loadSeconds, 1)} s for the ${f(summary.modelFileMb)} MB file.`,
    '',
    'Raw figures of every round: bench/extraction/results.json.',
    '<!-- extraction:end -->',
  ].join('\n');
  const file = path.join(root, 'BENCHMARKS.md');
  const header = '# Benchmarks\n\nEach section names the machine, date and command that produced it. Speed is measured here, never asserted in tests.\n';
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : header;
  const pattern = /<!-- extraction:start -->[\s\S]*<!-- extraction:end -->/;
  const next = pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}\n`;
  fs.writeFileSync(file, next);
  console.error('updated BENCHMARKS.md');
}

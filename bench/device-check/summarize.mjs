// Summarize a device-check run (bench/device-check/run.sh): WORK/status/*, WORK/torch.json, WORK/acts-*/manifest.json
// → OUT/device-check.json (everything) and OUT/device-check.md (the tables for BENCHMARKS.md).
//
//   node bench/device-check/summarize.mjs WORK OUT
//
// Exit 0 when the fp32 parity check passed on the intended device (webgpu on the GPU machine, cpu in --dry mode).
import * as fs from 'node:fs';
import * as path from 'node:path';

const [work, out] = process.argv.slice(2);
const status = path.join(work, 'status');
const readJson = (file) => {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
};
const readText = (file) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};
const lastJsonLine = (file) => {
  const lines = readText(file).trim().split('\n').filter((line) => line.startsWith('{'));
  return lines.length > 0 ? JSON.parse(lines[lines.length - 1]) : undefined;
};

const run = readJson(path.join(status, 'run.json')) ?? {};
const steps = readText(path.join(status, 'steps.jsonl')).trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
const devices = readJson(path.join(status, 'devices.json'));
const gpu = readText(path.join(status, 'gpu.txt')).trim();
const torch = readJson(path.join(work, 'torch.json'));
const ort = readJson(path.join(status, 'ort.json'));
const probeProducts = readJson(path.join(status, 'probe-products.json'));
const probe70b = readJson(path.join(status, 'probe-70b-layer.json'));
const families = readJson(path.join(status, 'families.json'));
const torchLlama = readJson(path.join(work, 'llama', 'torch.json'));
const ortLlama = readJson(path.join(status, 'ort-llama.json'));
const compares = Object.fromEntries(['fp32', 'fp16', 'safetensors', 'llama'].map((name) => [name, lastJsonLine(path.join(status, `compare-${name}.json`))]).filter(([, value]) => value));

/** What the CLI said: device line, summary line, batches line, or its error. */
function extractRun(name) {
  const log = readText(path.join(status, `extract-${name}.log`));
  if (!log) return undefined;
  const step = steps.find((entry) => entry.step === `extract-${name}`);
  const manifest = readJson(path.join(work, `acts-${name}`, 'manifest.json'));
  const summary = /(\d+) entities × (\d+) layers × (\d+) → .* \((\d+) from cache, (\d+) tokens\/s, (\d+) skipped\)/.exec(log);
  const batches = /^batches: (\d+) \((.*)\)$/m.exec(log);
  const device = /^device: (.*)$/m.exec(log);
  const error = /^spacetime-probe extract: (.*(?:\n {2}.*)*)/m.exec(log);
  return {
    name, rc: step?.rc, wallSeconds: step?.seconds, deviceUsed: manifest?.device, deviceLine: device?.[1],
    entities: summary ? Number(summary[1]) : undefined, modelTokensPerSecond: summary ? Number(summary[5]) : undefined,
    batches: batches ? Number(batches[1]) : undefined, batching: batches?.[2], error: error?.[1],
  };
}
const extracts = ['fp32', 'fp16', 'cuda', 'auto', 'safetensors', 'llama'].map(extractRun).filter(Boolean);

const intendedDevice = run.device ?? 'webgpu';
const fp32 = compares.fp32;
const fp32Extract = extracts.find((entry) => entry.name === 'fp32');
const verdict = {
  parityFp32: fp32?.pass === true,
  ranOnIntendedDevice: fp32Extract?.deviceUsed === intendedDevice,
};
verdict.pass = verdict.parityFp32 && verdict.ranOnIntendedDevice;

// Throughput table: batch sizes across PyTorch and ORT.
const torchTimings = torch?.timings ?? [];
const ortVariants = ort?.variants ?? [];
const batchSizes = [...new Set([...torchTimings.map((t) => t.batch), ...ortVariants.flatMap((v) => (v.timings ?? []).map((t) => t.batch))])]
  .filter((b) => b !== undefined).sort((a, b) => a - b);
const rows = [];
for (const dtype of ['fp32', 'fp16']) {
  for (const [key, label] of [['with_lm_head', 'output_hidden_states, LM head'], ['no_lm_head', 'transformer only, no LM head']]) {
    const cells = batchSizes.map((batch) => torchTimings.find((t) => t.dtype === dtype && t.batch === batch)?.[key]?.tokens_per_second);
    if (cells.some((value) => value !== undefined)) rows.push({ runtime: `PyTorch ${torch?.device ?? ''} (${label})`, dtype, cells });
  }
}
for (const variant of ortVariants) {
  const cells = batchSizes.map((batch) => (variant.timings ?? []).find((t) => t.batch === batch)?.tokensPerSecond);
  rows.push({ runtime: `ours: onnxruntime-node ${variant.deviceInfo?.used ?? run.device} (tap graph)`, dtype: variant.variant, cells, error: variant.error });
}
const best = (runtimeStart, dtype) => Math.max(0, ...rows.filter((row) => row.runtime.startsWith(runtimeStart) && row.dtype === dtype).flatMap((row) => row.cells.filter(Number.isFinite)));
const ratios = {};
for (const batch of batchSizes) {
  const index = batchSizes.indexOf(batch);
  const ours = Math.max(0, ...rows.filter((row) => row.runtime.startsWith('ours')).map((row) => row.cells[index] ?? 0));
  const torchFp16 = rows.find((row) => row.runtime.includes('LM head') && !row.runtime.includes('no LM') && row.dtype === 'fp16')?.cells[index];
  const torchFp32 = rows.find((row) => row.runtime.includes('LM head') && !row.runtime.includes('no LM') && row.dtype === 'fp32')?.cells[index];
  ratios[batch] = { oursBest: ours, vsTorchFp16: torchFp16 ? ours / torchFp16 : undefined, vsTorchFp32: torchFp32 ? ours / torchFp32 : undefined };
}

const summary = {
  run, verdict, gpu: gpu || torch?.gpu, steps, devices, torch, compares, extracts, ort, probeProducts, probe70b, families, torchLlama, ortLlama,
  throughput: { batchSizes, rows, ratios },
  bestOursFp32: best('ours', 'fp32'), bestOursFp16: best('ours', 'fp16'),
};
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'device-check.json'), `${JSON.stringify(summary, null, 1)}\n`);

// ------------------------------------------------------------------------------------------------- markdown
const fmt = (value, digits = 0) => (Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—');
const sci = (value) => (Number.isFinite(value) ? value.toExponential(1) : '—');
const md = [];
const card = gpu || torch?.gpu || (run.dry ? 'no GPU (dry run on the CPU)' : 'unknown GPU');
md.push(`### Device check: ${card}, ${run.started ?? ''}`);
md.push('');
md.push(`Mode ${run.dry ? '**dry run** (CPU provider, torch CPU, small model: proves the pipeline, not the GPU)' : 'GPU'}; ` +
  `command \`bash bench/device-check/run.sh${run.dry ? ' --dry' : ''}\`; ${run.cpus ?? '?'} CPU cores; ` +
  `torch ${torch?.torch ?? '?'} (${torch?.impl_version ?? '?'}), onnxruntime-node ${readJson(path.join(work, 'app', 'node_modules', 'onnxruntime-node', 'package.json'))?.version ?? '?'}.`);
if (torch) {
  const shape = torch.shape;
  const exports = Object.entries(torch.exports ?? {}).map(([variant, e]) => `${variant}: ${e.exporter ? `${e.exporter} exporter, ${fmt(e.bytes / 1e6)} MB` : e.skipped ?? `failed (${(e.errors ?? []).join('; ')})`}`);
  md.push(`Model: GPT-2 shape, ${shape.layers} layers, d=${shape.hidden}, ${shape.heads} heads, vocab ${shape.vocab}, random weights (seed 0); exports ${exports.join('; ')}.`);
  md.push(`Dataset: ${torch.dataset.prompts} prompts of ${torch.dataset.min_len}–${torch.dataset.max_len} tokens (${torch.dataset.tokens} tokens), right-padded in batches.`);
}
md.push('');
md.push(`**Verdict: ${verdict.pass ? 'PASS' : 'FAIL'}** (fp32 parity ${verdict.parityFp32 ? 'within' : 'NOT within'} 1e-3; ` +
  `extraction ${verdict.ranOnIntendedDevice ? 'ran' : 'did NOT run'} on ${intendedDevice}).`);
md.push('');
if (devices?.providers) {
  md.push('| provider | usable | detail |', '|---|---|---|');
  for (const probe of devices.providers) md.push(`| ${probe.device} | ${probe.usable ? 'yes' : 'no'} | ${probe.detail.replace(/\|/g, '\\|')} |`);
  md.push(`\n\`--device auto\` picks **${devices.auto}**.`, '');
}
md.push('Parity, CLI `extract` vs PyTorch (every layer, every prompt):', '', '| run | device | max \\|Δ\\| | max \\|ref\\| | tolerance | pass |', '|---|---|---|---|---|---|');
for (const [name, compare] of Object.entries(compares)) {
  const maxRef = Math.max(...compare.layers.map((layer) => layer.max_abs_ref));
  md.push(`| ${name} | ${compare.device} | ${sci(compare.max_abs_diff)} | ${fmt(maxRef, 2)} | ${sci(compare.tolerance)} | ${compare.pass ? 'yes' : 'no'} |`);
}
if (compares.fp32) md.push('', `Per layer (fp32): ${compares.fp32.layers.map((layer) => `${layer.layer}: ${sci(layer.max_abs_diff)}`).join(', ')}.`);
md.push('');
md.push(`Throughput, tokens/s, batch × ${ort?.seq ?? torch?.timings?.[0]?.seq ?? '?'} tokens, every layer's last-token vector copied to the host (best of ${ort?.repeats ?? '?'} × ${ort?.runs ?? '?'} runs):`, '');
md.push(`| runtime | dtype | ${batchSizes.map((b) => `B=${b}`).join(' | ')} |`, `|---|---|${batchSizes.map(() => '---').join('|')}|`);
for (const row of rows) md.push(`| ${row.runtime} | ${row.dtype} | ${row.cells.map((value) => fmt(value)).join(' | ')} |${row.error ? ` error: ${row.error}` : ''}`);
md.push('', `Ours (best variant) ÷ PyTorch with LM head: ${batchSizes.map((b) => `B=${b}: ${fmt(ratios[b].vsTorchFp16, 2)}× fp16, ${fmt(ratios[b].vsTorchFp32, 2)}× fp32`).join('; ')} (target ≥ 1.0× fp16).`);
md.push('');
md.push('CLI end to end (`spacetime-probe extract`, model load included in wall time):', '', '| run | rc | device used | entities | model tokens/s | wall s | batches |', '|---|---|---|---|---|---|---|');
for (const entry of extracts) {
  md.push(`| ${entry.name} | ${entry.rc ?? '?'} | ${entry.deviceUsed ?? '—'} | ${entry.entities ?? '—'} | ${fmt(entry.modelTokensPerSecond)} | ${fmt(entry.wallSeconds, 1)} | ${entry.batches ?? '—'}${entry.batching ? ` (${entry.batching})` : ''} |`);
}
for (const entry of extracts.filter((e) => e.error)) md.push('', `\`${entry.name}\` said: ${entry.error.split('\n').join(' / ')}`);
for (const [label, profile] of [['', ort?.profile], ['the Llama-shaped checkpoint, ', ortLlama?.profile]]) {
if (profile && !profile.error) {
  md.push('', `onnxruntime profile (${label}${profile.variant ?? 'fp32'}, batch ${profile.batch}, ${profile.runs} runs): ` +
    Object.entries(profile.byProvider).map(([provider, s]) => `${provider} ${s.nodes} node runs, ${fmt(s.microseconds / 1000, 1)} ms`).join('; ') +
    `; copies: ${profile.copies.length ? profile.copies.map((c) => `${c.op} ×${c.count} ${fmt(c.microseconds / 1000, 1)} ms`).join(', ') : 'none'}; ` +
    `model_run ${profile.modelRunMicroseconds.map((us) => fmt(us / 1000, 1)).join(', ')} ms.`);
  md.push('', `Top ops: ${profile.topOps.slice(0, 8).map((op) => `${op.op}@${op.provider.replace('ExecutionProvider', '')} ${fmt(op.microseconds / 1000, 1)} ms`).join(', ')}.`);
} else if (profile?.error) {
  md.push('', `onnxruntime profile (${label || 'fp32'}): ${profile.error}`);
}
}
const cudaLibraries = readText(path.join(status, 'cuda-libraries.txt')).trim();
if (cudaLibraries) md.push('', 'CUDA provider and runtime libraries found on the machine:', '', '```', cudaLibraries, '```');
if (torch?.half_error || torchLlama?.half_error) {
  md.push('', `PyTorch's own half-precision error against its float32 reference (max |Δ| / max |ref|): ${[['GPT-2', torch], ['Llama-shaped', torchLlama]]
    .filter(([, t]) => t?.half_error).map(([name, t]) => `${name} ${Object.entries(t.half_error).map(([dtype, e]) => `${dtype} ${sci(e.max_abs_diff)} / ${fmt(e.max_abs_ref, 2)}`).join(', ')}`).join('; ')}.`);
}
if (ort?.tokenization) {
  const t = ort.tokenization;
  const oursBest = Math.max(summary.bestOursFp32, summary.bestOursFp16);
  md.push('', `Tokenization (@huggingface/tokenizers, one thread): ${t.prompts} prompts, ${fmt(t.tokensPerSecond)} tokens/s` +
    (oursBest > 0 ? `; at the best measured model speed (${fmt(oursBest)} tokens/s) tokenizing up front adds ${fmt((100 * oursBest) / t.tokensPerSecond, 0)}% to the model time.` : '.'));
}
if (families?.results) {
  const variants = ['float32 plain', 'float32 fused', 'default'];
  md.push('', `Every family's checkpoint fixture (test/fixtures/checkpoints, float32 PyTorch references) on ${families.device}; float32 within ${sci(families.tolerance)}: ` +
    `${families.allFloat32WithinTolerance ? 'all' : 'NOT all'}. Cells: max |Δ| (compute dtype, fused attention blocks).`, '',
  `| fixture | architecture | stored | ${variants.join(' | ')} |`, `|---|---|---|${variants.map(() => '---').join('|')}|`);
  for (const [name, row] of Object.entries(families.results)) {
    const cells = variants.map((variant) => {
      const r = row[variant];
      return r?.error !== undefined ? `error: ${String(r.error).slice(0, 100).replace(/\|/g, '\\|')}` : `${sci(r?.maxAbsDiff)} (${r?.computeDtype}, ${r?.fusedAttentionBlocks})`;
    });
    md.push(`| ${name} | ${row.architecture} | ${row.checkpointDtype} | ${cells.join(' | ')} |`);
  }
}
if (torchLlama) {
  const s = torchLlama.shape;
  md.push('', `Llama-shaped checkpoint: ${s.layers} layers, d=${s.hidden}, ${s.heads} heads / ${s.kv_heads} key-value heads, MLP ${s.intermediate}, vocab ${s.vocab}, saved ${s.saved}; ` +
    `${torchLlama.dataset.prompts} prompts. PyTorch ${torchLlama.device}: ${(torchLlama.timings ?? []).filter((t) => t.with_lm_head).map((t) => `${t.dtype} B=${t.batch} ${fmt(t.with_lm_head.tokens_per_second)} tokens/s (no head ${fmt(t.no_lm_head.tokens_per_second)})`).join('; ')}.`);
  for (const variant of ortLlama?.variants ?? []) {
    md.push(`Ours, ${variant.variant} on ${variant.deviceInfo?.used ?? '?'} (load ${fmt(variant.loadSeconds, 1)} s): ` +
      (variant.error ? `error: ${variant.error}` : (variant.timings ?? []).map((t) => `B=${t.batch} ${t.error ? `error ${t.error}` : `${fmt(t.tokensPerSecond)} tokens/s`}`).join('; ')) + '.');
  }
}
const probeTable = (p, title) => {
  md.push('', `${title} (n ${p.n} × d ${p.d}; same alpha as ${p.reference ?? 'cpu float64'} in every run: ${p.sameAlpha ? 'yes' : 'NO'}; peak RSS ${fmt(p.peakRssMB)} MB):`, '',
    '| run | fit s | alpha index | LOO precision | max rel. Δ LOO | max abs Δ coef |', '|---|---|---|---|---|---|');
  for (const [name, fit] of Object.entries(p.fits)) {
    md.push(`| ${name} | ${fmt(fit.seconds, 2)} | ${fit.alphaIndex} | ${fit.looPrecision} | ${fit.maxRelativeLoo.toExponential(1)} | ${fit.maxAbsCoefDifference.toExponential(1)} |`);
  }
  if (Object.keys(p.gemm ?? {}).length > 0) {
    md.push('', `float32 Gemm ${p.gemmSize}³: ${Object.entries(p.gemm).map(([name, g]) => `${name} ${fmt(g.gflops, 0)} GFLOP/s (max error ${g.maxAbsErrorOverMaxAbs.toExponential(1)} of max |value|)`).join(', ')}.`);
  }
};
for (const [p, title] of [[probeProducts, 'Probe products'], [probe70b, 'One 70B-sized layer']]) {
  if (p?.usable) probeTable(p, title);
  else if (p) md.push('', `${title}: ${p.device} not usable: ${p.detail}`);
}
md.push('', `Steps: ${steps.map((s) => `${s.step} ${s.rc === 0 ? 'ok' : `rc ${s.rc}`} ${fmt(Number(s.seconds), 1)} s`).join(', ')}.`);
fs.writeFileSync(path.join(out, 'device-check.md'), `${md.join('\n')}\n`);
process.stdout.write(`${md.join('\n')}\n`);
process.exit(verdict.pass ? 0 : 1);

/**
 * `spacetime-probe script`: the generated Python's text (always runs), its syntax (when a python3 is on PATH), and
 * — when /work/v/bin/python (or $SPACETIME_PROBE_TEST_PYTHON) has torch + transformers — the hf-engine script run
 * on tiny checkpoints against our own extraction. The engines nnsight and transformer-lens could not be installed
 * here (not in the offline package index), so their scripts are checked as text and syntax only.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  buildExtractionBundle, promptsJsonl, scriptPromptsFor, writeExtractionBundle, SCRIPT_ENGINES, type ExtractionScriptOptions,
} from '../../../src/core/scripts/extractionScript';
import { renderEntityPrompt, extractActivations } from '../../../src/core/activations/extract';
import { readActivationLayer, readActivationManifest } from '../../../src/core/activations/manifest';
import { loadDataset } from '../../../src/core/datasets/load';
import { loadModel } from '../../../src/core/model/loadModel';
import { probeActivations } from '../../../src/core/experiments/probeActivations';
import { scriptCommand } from '../../../src/cli/commands/script';
import { UsageError } from '../../../src/cli/command';

const repo = path.resolve(__dirname, '../../../..');
const datasetFile = path.join(repo, 'test/fixtures/scripts/places.csv');
const base: ExtractionScriptOptions = {
  engine: 'hf', model: 'meta-llama/Llama-2-70b-hf', dataset: 'places.csv', prompt: 'Where is {entity}?', token: 'entity-last', dtype: 'float16',
  generatedAt: '2026-12-01T00:00:00.000Z',
};
const prompts = scriptPromptsFor([{ line: 2, name: 'Paris' }, { line: 5, name: 'São "Paulo" \\ x' }], base.prompt, renderEntityPrompt);

test('prompts.jsonl carries each row, its prompt and the prompt cut after the entity', () => {
  const lines = promptsJsonl(prompts, 'entity-last').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(lines[0], { row: 2, text: 'Where is Paris?', prefix: 'Where is Paris' });
  assert.deepEqual(lines[1], { row: 5, text: 'Where is São "Paulo" \\ x?', prefix: 'Where is São "Paulo" \\ x' });
  assert.equal(JSON.parse(promptsJsonl(prompts, 'prompt-last').split('\n')[0]).prefix, undefined);
});

test('the hf script embeds the model, template, token and dtype, hooks the final norm input, and checks prompts.jsonl', () => {
  const bundle = buildExtractionBundle(prompts, base);
  const { script } = bundle;
  assert.match(script, /^#!\/usr\/bin\/env python3/);
  assert.ok(script.includes('MODEL = "meta-llama/Llama-2-70b-hf"'));
  assert.ok(script.includes('PROMPT = "Where is {entity}?"'));
  assert.ok(script.includes('TOKEN = "entity-last"'));
  assert.ok(script.includes('DTYPE = "float16"'));
  assert.ok(script.includes('REMOTE = False'));
  assert.equal(bundle.promptsSha256, crypto.createHash('sha256').update(bundle.prompts).digest('hex'));
  assert.ok(script.includes(`PROMPTS_SHA256 = "${bundle.promptsSha256}"`));
  assert.ok(script.includes('register_forward_pre_hook'), 'taps are pre-hooks: block inputs and the final norm input');
  assert.ok(script.includes('{"device_map": "auto"}'), 'accelerate spreads the model over the GPUs');
  assert.ok(script.includes('b"spacetime-probe-prompts/1\\0"'), 'promptsSha256 as manifest.ts computes it');
  assert.ok(script.includes('"spacetime-probe-activations/1"'));
  assert.ok(script.includes('open_memmap') && script.includes('PROGRESS_FILE'), 'streams into memory-mapped layer files, resumable');
  assert.ok(script.includes('from tqdm import tqdm'));
  assert.ok(!/__[A-Z_]+__/.test(script.replace(/__(name|main|file|doc|version)__/g, '')), 'no placeholder left');
  assert.match(bundle.requirements, /^torch>=2\.1$/m);
  assert.match(bundle.requirements, /^accelerate>=/m);
});

test('nnsight and transformer-lens scripts use their engine; --remote only with nnsight', () => {
  const nnsight = buildExtractionBundle(prompts, { ...base, engine: 'nnsight', remote: true }).script;
  assert.ok(nnsight.includes('REMOTE = True'));
  assert.ok(nnsight.includes('from nnsight import LanguageModel'));
  assert.ok(nnsight.includes('remote=self.remote'));
  assert.match(buildExtractionBundle(prompts, { ...base, engine: 'nnsight' }).requirements, /^nnsight>=0\.4$/m);
  const lens = buildExtractionBundle(prompts, { ...base, engine: 'transformer-lens' });
  assert.ok(lens.script.includes('from_pretrained_no_processing'), 'no folded LayerNorm: the checkpoint\'s own residual stream');
  assert.ok(lens.script.includes('hook_resid_pre') && lens.script.includes('hook_resid_post'));
  assert.match(lens.requirements, /^transformer_lens>=2\.0$/m);
  assert.throws(() => buildExtractionBundle(prompts, { ...base, remote: true }), /nnsight/);
  assert.throws(() => buildExtractionBundle([], base), /no prompts/);
});

test('the generated scripts are valid Python (py_compile), when a python3 is on PATH', (t) => {
  const python = ['python3', 'python'].find((name) => childProcess.spawnSync(name, ['--version']).status === 0);
  if (python === undefined) { t.skip('no python3 or python on PATH: the syntax check needs one'); return; }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'script-syntax-'));
  for (const engine of SCRIPT_ENGINES) {
    const file = path.join(dir, `${engine}.py`);
    fs.writeFileSync(file, buildExtractionBundle(prompts, { ...base, engine, remote: engine === 'nnsight' }).script);
    const result: childProcess.SpawnSyncReturns<string> = childProcess.spawnSync(python, ['-m', 'py_compile', file], { encoding: 'utf8' });
    assert.equal(result.status, 0, `${engine}: ${result.stderr}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the CLI writes the three files and refuses bad engines', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'script-cli-'));
  const chunks: string[] = [];
  const sink = { write: (chunk: string) => { chunks.push(String(chunk)); return true; } } as unknown as NodeJS.WritableStream;
  const io = { stdout: sink, stderr: sink, interactive: false };
  const code = await scriptCommand.run(['--engine', 'hf', '--model', 'gpt2', '--dataset', datasetFile, '--out', out], io);
  assert.equal(code, 0, chunks.join(''));
  assert.deepEqual(fs.readdirSync(out).sort(), ['extract_activations.py', 'prompts.jsonl', 'requirements.txt']);
  assert.equal(fs.readFileSync(path.join(out, 'prompts.jsonl'), 'utf8').trim().split('\n').length, 21);
  await assert.rejects(scriptCommand.run(['--engine', 'vllm', '--model', 'gpt2', '--dataset', datasetFile, '--out', out], io), UsageError);
  await assert.rejects(scriptCommand.run(['--engine', 'hf', '--remote', '--model', 'gpt2', '--dataset', datasetFile, '--out', out], io), /nnsight/);
  fs.rmSync(out, { recursive: true, force: true });
});

/** Why the Python comparison cannot run here, or undefined when it can. */
function pythonUnavailable(): { python: string } | { reason: string } {
  const python = process.env.SPACETIME_PROBE_TEST_PYTHON ?? '/work/v/bin/python';
  if (!fs.existsSync(python)) return { reason: `${python} does not exist (set SPACETIME_PROBE_TEST_PYTHON to a Python with torch + transformers)` };
  const probe = childProcess.spawnSync(python, ['-c', 'import torch, transformers, tokenizers, numpy, tqdm'], { encoding: 'utf8' });
  if (probe.status !== 0) return { reason: `${python} cannot import torch, transformers, tokenizers, numpy and tqdm: ${probe.stderr.trim().split('\n').pop()}` };
  return { python };
}

for (const fixture of ['gpt2', 'llama2', 'qwen2']) {
  test(`the hf script on the ${fixture} checkpoint equals our extract within 1e-4, and probe accepts its folder`, async (t) => {
    const available = pythonUnavailable();
    if ('reason' in available) { t.skip(`skipped: ${available.reason}`); return; }
    const model = path.join(repo, 'test/fixtures/checkpoints', fixture);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `script-${fixture}-`));
    const dataset = loadDataset(datasetFile);
    const template = '{entity}n is in';
    const bundle = buildExtractionBundle(scriptPromptsFor(dataset.entities, template, renderEntityPrompt), {
      ...base, model, dataset: datasetFile, prompt: template, dtype: 'float32',
    });
    writeExtractionBundle(path.join(dir, 'script'), bundle);
    const run = childProcess.spawnSync(available.python, [path.join(dir, 'script', 'extract_activations.py'), '--out', path.join(dir, 'theirs'), '--device', 'cpu', '--batch-size', '5'],
      { encoding: 'utf8', env: { ...process.env, HF_HUB_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' } });
    assert.equal(run.status, 0, run.stderr);
    const loaded = await loadModel(model, { device: 'cpu' });
    try {
      await extractActivations(loaded, dataset.entities.map((entity) => ({ ...renderEntityPrompt(template, entity.name), row: entity.line })),
        { outDir: path.join(dir, 'ours'), model, prompt: template, dataset: datasetFile });
    } finally {
      await loaded.dispose();
    }
    const ours = readActivationManifest(path.join(dir, 'ours'));
    const theirs = readActivationManifest(path.join(dir, 'theirs'));
    assert.deepEqual(theirs.rows, ours.rows);
    assert.equal(theirs.promptsSha256, ours.promptsSha256);
    assert.deepEqual(theirs.skipped, ours.skipped);
    assert.equal(theirs.layers.length, ours.layers.length);
    assert.equal(theirs.producer?.engine, 'hf');
    for (const entry of ours.layers) {
      const a = readActivationLayer(path.join(dir, 'ours'), ours, entry.index);
      const b = readActivationLayer(path.join(dir, 'theirs'), theirs, entry.index);
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      assert.ok(worst <= 1e-4, `${fixture} layer ${entry.index}: max |difference| ${worst}`);
    }
    const results = await probeActivations(path.join(dir, 'theirs'), dataset, { bootstrap: false });
    assert.equal(results.layers.length, ours.layers.length);
    fs.rmSync(dir, { recursive: true, force: true });
  });
}

test('the hf script stores bfloat16 as raw bits (<u2) and resumes: a rerun of a finished chunk list writes nothing new', async (t) => {
  const available = pythonUnavailable();
  if ('reason' in available) { t.skip(`skipped: ${available.reason}`); return; }
  const model = path.join(repo, 'test/fixtures/checkpoints/gpt2');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'script-bf16-'));
  const dataset = loadDataset(datasetFile);
  writeExtractionBundle(path.join(dir, 'script'), buildExtractionBundle(scriptPromptsFor(dataset.entities, '{entity}', renderEntityPrompt), {
    ...base, model, dataset: datasetFile, prompt: '{entity}', dtype: 'bfloat16',
  }));
  const script = path.join(dir, 'script', 'extract_activations.py');
  const out = path.join(dir, 'theirs');
  // A tiny memory budget: one row per chunk, so the progress file records 21 chunks.
  const first = childProcess.spawnSync(available.python, [script, '--out', out, '--device', 'cpu', '--memory-budget-mb', '0'], { encoding: 'utf8' });
  assert.equal(first.status, 0, first.stderr);
  const manifest = readActivationManifest(out);
  assert.equal(manifest.dtype, 'bfloat16');
  const header = fs.readFileSync(path.join(out, 'layer_000.npy')).subarray(0, 128).toString('latin1');
  assert.match(header, /'descr': '<u2'/);
  const results = await probeActivations(out, dataset, { bootstrap: false });
  assert.equal(results.layers.length, manifest.layers.length);
  // Simulate a crash after the first 5 chunks: remove the manifest, keep a progress file that lists chunks 0-4.
  const layerBytes = fs.readFileSync(path.join(out, 'layer_003.npy'));
  fs.rmSync(path.join(out, 'manifest.json'));
  const key = { promptsSha256: manifest.promptsSha256, numEntities: manifest.numEntities, numLayers: manifest.layers.length, hiddenSize: manifest.hiddenSize, dtype: 'bfloat16', chunkRows: 1, model };
  fs.writeFileSync(path.join(out, '.spacetime-probe-progress.json'), JSON.stringify({ key, done: [0, 1, 2, 3, 4] }));
  const again = childProcess.spawnSync(available.python, [script, '--out', out, '--device', 'cpu', '--memory-budget-mb', '0'], { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /resuming: 5 of 21 chunks already written/);
  assert.deepEqual(fs.readFileSync(path.join(out, 'layer_003.npy')), layerBytes);
  assert.equal(readActivationManifest(out).promptsSha256, manifest.promptsSha256);
  fs.rmSync(dir, { recursive: true, force: true });
});

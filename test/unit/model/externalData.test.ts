/**
 * Exports with external data as the Hub ships them and as our downloader stores them: a Hugging Face cache snapshot
 * whose graph and data are symlinks into blobs/ under content-hash names, the data-file names the Hub uses
 * (`model.onnx_data`, `model.onnx.data`, several files), downloads end to end against the loopback Hub — and
 * onnxruntime's complete error when a model cannot be loaded.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { parseOnnxModel } from '../../../src/core/model/onnx/onnxGraph';
import { externalizeInitializers } from '../../../src/core/model/onnx/graphRewrite';
import { loadTransformerModel } from '../../../src/core/model/onnx/transformerModel';
import { loadModel } from '../../../src/core/model/loadModel';
import { ModelLoadError } from '../../../src/core/model/errors';
import { startHubServer } from '../../helpers/hubServer';
import { buildLayoutGraph } from '../../helpers/layoutGraphs';
import { copyModelSidecars, maxDeviation, readReference, onnxModelDir } from '../../helpers/modelFixtures';

const TOLERANCE = 1e-4;
const GPT2 = onnxModelDir('gpt2-tiny');

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** gpt2-tiny with its weights moved to external data named `location` (split over two files when `split`). */
function externalGpt2(location: string, split = false): { graph: Uint8Array; data: Map<string, Buffer> } {
  const model = parseOnnxModel(fs.readFileSync(path.join(GPT2, 'onnx', 'model.onnx')));
  const whole = externalizeInitializers(model, location);
  if (!split) return { graph: whole.modelBytes, data: new Map([[location, Buffer.concat(whole.dataChunks)]]) };
  // Two data files (`X_data`, `X_data_1`), as onnx writes for very large models: the second half of the tensors
  // (by offset) moves to the second file.
  const decoded = onnx.ModelProto.decode(whole.modelBytes);
  const data = Buffer.concat(whole.dataChunks);
  const offsets = decoded.graph!.initializer!.map((tensor) => Number((tensor.externalData ?? []).find((entry) => entry.key === 'offset')?.value ?? -1))
    .filter((offset) => offset >= 0).sort((a, b) => a - b);
  const middle = offsets[Math.floor(offsets.length / 2)];
  const second = `${location}_1`;
  for (const tensor of decoded.graph!.initializer!) {
    const entries = tensor.externalData ?? [];
    const offset = Number(entries.find((entry) => entry.key === 'offset')?.value ?? -1);
    if (offset >= middle) {
      for (const entry of entries) {
        if (entry.key === 'location') entry.value = second;
        if (entry.key === 'offset') entry.value = String(offset - middle);
      }
    }
  }
  return { graph: onnx.ModelProto.encode(decoded).finish(), data: new Map([[location, data.subarray(0, middle)], [second, data.subarray(middle)]]) };
}

/** A cache snapshot like huggingface_hub's: snapshots/<commit>/<path> are relative symlinks to blobs/<sha256>. */
function writeSnapshot(root: string, files: ReadonlyMap<string, Uint8Array>): string {
  const snapshot = path.join(root, 'snapshots', 'c'.repeat(40));
  fs.mkdirSync(path.join(root, 'blobs'), { recursive: true });
  for (const [relative, bytes] of files) {
    const blob = crypto.createHash('sha256').update(bytes).digest('hex');
    fs.writeFileSync(path.join(root, 'blobs', blob), bytes);
    const link = path.join(snapshot, relative);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.relative(path.dirname(link), path.join(root, 'blobs', blob)), link);
  }
  return snapshot;
}

function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      out.push(path.relative(root, full));
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(root);
  return out.sort();
}

async function expectReference(spec: string, options: Parameters<typeof loadModel>[1] = {}): Promise<void> {
  const reference = readReference(GPT2);
  const model = await loadModel(spec, { device: 'cpu', ...options });
  try {
    const output = await model.runBatch(reference.prompts.map((prompt) => ({ ids: prompt.ids, usable: true })));
    const deviation = maxDeviation(output, reference);
    assert.ok(deviation < TOLERANCE, `${spec}: max deviation ${deviation}`);
  } finally {
    await model.dispose();
  }
}

test('defect 2: external data in a Hugging Face cache snapshot (symlinks into blobs/) loads, and nothing is written there', async () => {
  for (const [location, split] of [['model.onnx_data', false], ['model.onnx.data', false], ['model.onnx_data', true]] as const) {
    const root = tempDir('hf-snapshot-');
    try {
      const { graph, data } = externalGpt2(location, split);
      const files = new Map<string, Uint8Array>([['onnx/model.onnx', graph]]);
      for (const [name, bytes] of data) files.set(`onnx/${name}`, bytes);
      for (const name of ['config.json', 'tokenizer.json']) files.set(name, fs.readFileSync(path.join(GPT2, name)));
      const snapshot = writeSnapshot(root, files);
      assert.ok(fs.lstatSync(path.join(snapshot, 'onnx', location)).isSymbolicLink());
      const before = listing(root);
      await expectReference(snapshot);
      assert.deepEqual(listing(root), before, 'no file was written into the cache');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }
});

test('defect 2: external-data exports download from the loopback Hub and run (model.onnx_data and model.onnx.data)', async () => {
  const repos: { repoId: string; dir: string }[] = [];
  for (const [name, location] of [['gpt2-external', 'model.onnx_data'], ['gpt2-dot-data', 'model.onnx.data']]) {
    const dir = tempDir(`hub-repo-${name}-`);
    copyModelSidecars(GPT2, dir);
    const { graph, data } = externalGpt2(location);
    fs.mkdirSync(path.join(dir, 'onnx'));
    fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), graph);
    for (const [file, bytes] of data) fs.writeFileSync(path.join(dir, 'onnx', file), bytes);
    repos.push({ repoId: `test-org/${name}`, dir });
  }
  const hub = await startHubServer({ repos });
  const cacheDir = tempDir('hub-cache-');
  try {
    for (const repo of repos) {
      await expectReference(`hf:${repo.repoId}`, { hub: { endpoint: hub.endpoint, cacheDir, env: {}, retryDelayMs: 5 } });
    }
    const stored = listing(cacheDir);
    assert.ok(stored.some((file) => file.endsWith(path.join('onnx', 'model.onnx_data'))), 'data file stored in the snapshot');
    assert.ok(stored.some((file) => file.endsWith(path.join('onnx', 'model.onnx.data'))), 'data file stored in the snapshot');
  } finally {
    await hub.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
    for (const repo of repos) fs.rmSync(repo.dir, { recursive: true, force: true });
  }
});

test('a missing external data file is named', async () => {
  const dir = tempDir('missing-data-');
  try {
    copyModelSidecars(GPT2, dir);
    fs.mkdirSync(path.join(dir, 'onnx'));
    fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), externalGpt2('model.onnx_data').graph);
    await assert.rejects(loadTransformerModel(dir, { device: 'cpu' }), (error: unknown) =>
      error instanceof ModelLoadError && /external data file model\.onnx_data/.test(error.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("defect 3: onnxruntime's whole error is shown, not only its first line", async () => {
  // A graph onnxruntime refuses (an op it does not know) on the residual path, so the rewrite keeps it.
  const graph = onnx.ModelProto.decode(buildLayoutGraph({
    layers: 1, hidden: 8, vocab: 12, layout: 'sequential', norm: 'layernorm', shuffle: false, noOpRate: 0, flattenMlp: false,
    postNorms: false, seed: 1,
  }).bytes);
  const gather = graph.graph!.node!.find((node) => node.output![0] === 'h0')!;
  gather.output = ['h0_raw'];
  graph.graph!.node!.push({ opType: 'NoSuchOperator', domain: 'org.example', input: ['h0_raw'], output: ['h0'], name: 'unknown_op' });
  graph.opsetImport!.push({ domain: 'org.example', version: 1 });
  const dir = tempDir('ort-error-');
  try {
    fs.copyFileSync(path.join(GPT2, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ num_hidden_layers: 1, hidden_size: 8 }));
    fs.writeFileSync(path.join(dir, 'model.onnx'), onnx.ModelProto.encode(graph).finish());
    await assert.rejects(loadTransformerModel(dir, { device: 'cpu' }), (error: unknown) => {
      assert.ok(error instanceof ModelLoadError);
      assert.match(error.summary, /onnxruntime cannot load the rewritten .*model\.onnx/);
      // The reason is on a later line of onnxruntime's message: it must be in the details (CLI, log, notification).
      assert.match(error.message, /No execution provider could run the model/);
      assert.match(error.message, /NoSuchOperator/);
      return true;
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

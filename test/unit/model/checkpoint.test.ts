/**
 * Safetensors checkpoints through our own graph (src/core/model/checkpoint) against PyTorch.
 *
 * References: test/fixtures/checkpoints/<name>/reference.json, written by transformers in float32 from the saved
 * weights (regenerate: `python test/fixtures/checkpoints/generate.py`, versions in its header). Every fixture is
 * checked in one right-padded batch of all its prompts (mixed lengths) and at batch size 1, every layer within 1e-4.
 * Broken checkpoints are made here from the gpt2 fixture by rewriting its safetensors header.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadCheckpointModel, type CheckpointModel } from '../../../src/core/model/checkpoint/checkpointModel';
import { loadModel } from '../../../src/core/model/loadModel';
import { ModelLoadError } from '../../../src/core/model/errors';
import { readCheckpointTensors } from '../../../src/core/model/checkpoint/safetensors';
import type { TokenizedPrompt } from '../../../src/core/model/types';
import { onnxModelDir, repoRoot } from '../../helpers/modelFixtures';
import { startHubServer } from '../../helpers/hubServer';

const FIXTURES = path.join(repoRoot, 'test', 'fixtures', 'checkpoints');
const TOLERANCE = 1e-4;

interface Reference {
  readonly architecture: string;
  readonly num_layers: number;
  readonly hidden_size: number;
  readonly checkpoint_dtype: string;
  readonly prompts: readonly { readonly prompt: string; readonly ids: readonly number[]; readonly layers: readonly (readonly number[])[] }[];
}

function fixtureNames(): string[] {
  if (!fs.existsSync(FIXTURES)) throw new Error(`checkpoint fixtures missing: ${FIXTURES}`);
  return fs.readdirSync(FIXTURES).filter((name) => fs.existsSync(path.join(FIXTURES, name, 'reference.json'))).sort();
}

function readReference(dir: string): Reference {
  return JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference;
}

/** Largest |ours − reference| over every layer and dimension of the given prompts. */
function maxDifference(model: CheckpointModel, output: Float32Array, expected: Reference['prompts']): number {
  let worst = 0;
  expected.forEach((prompt, row) => {
    assert.equal(prompt.layers.length, model.numLayers);
    prompt.layers.forEach((layer, l) => layer.forEach((value, d) => {
      const ours = output[(row * model.numLayers + l) * model.hiddenSize + d];
      worst = Math.max(worst, Number.isFinite(ours) ? Math.abs(ours - value) : Infinity);
    }));
  });
  return worst;
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'checkpoint-test-'));
}

function copyFixture(name: string): string {
  const dir = tempDir();
  for (const file of fs.readdirSync(path.join(FIXTURES, name))) {
    const from = path.join(FIXTURES, name, file);
    if (fs.statSync(from).isFile()) fs.copyFileSync(from, path.join(dir, file));
  }
  return dir;
}

test('the fixture set covers every family the builder supports', () => {
  const architectures = new Set(fixtureNames().map((name) => readReference(path.join(FIXTURES, name)).architecture));
  for (const family of ['gpt2', 'gpt_neox', 'llama', 'mistral', 'qwen2', 'qwen3', 'gemma', 'gemma2', 'phi3', 'olmo2', 'stablelm']) {
    assert.ok(architectures.has(family), `no fixture for ${family}`);
  }
});

for (const name of fixtureNames()) {
  test(`checkpoint ${name}: every layer matches PyTorch in a padded batch and one by one`, async () => {
    const dir = path.join(FIXTURES, name);
    const reference = readReference(dir);
    const model = await loadCheckpointModel(dir, { intraOpNumThreads: 1 });
    try {
      assert.equal(model.architecture, reference.architecture);
      assert.equal(model.numLayers, reference.num_layers + 1);
      assert.equal(model.hiddenSize, reference.hidden_size);
      assert.equal(model.format, 'safetensors');
      // Our tokenizer gives the ids transformers gave.
      const tokenized = model.tokenize(reference.prompts.map((prompt) => prompt.prompt));
      tokenized.forEach((prompt, row) => assert.deepEqual(prompt.ids, reference.prompts[row].ids, reference.prompts[row].prompt));
      const prompts: TokenizedPrompt[] = reference.prompts.map((prompt) => ({ ids: prompt.ids, usable: true }));
      const lengths = new Set(prompts.map((prompt) => prompt.ids.length));
      assert.ok(lengths.size > 1, 'the batch must mix lengths so padding is exercised');
      const batched = maxDifference(model, await model.runBatch(prompts), reference.prompts);
      assert.ok(batched <= TOLERANCE, `batched: max |diff| ${batched}`);
      let single = 0;
      for (let row = 0; row < prompts.length; row++) {
        single = Math.max(single, maxDifference(model, await model.runBatch([prompts[row]]), [reference.prompts[row]]));
      }
      assert.ok(single <= TOLERANCE, `batch size 1: max |diff| ${single}`);
    } finally {
      await model.dispose();
    }
  });
}

test('a checkpoint in a Hugging Face cache snapshot (symlinks into blobs/) loads and gives the same activations', async () => {
  const source = path.join(FIXTURES, 'qwen2');
  const root = tempDir();
  try {
    const blobs = path.join(root, 'models--org--qwen2', 'blobs');
    const snapshot = path.join(root, 'models--org--qwen2', 'snapshots', 'c'.repeat(40));
    fs.mkdirSync(blobs, { recursive: true });
    fs.mkdirSync(snapshot, { recursive: true });
    for (const [index, file] of fs.readdirSync(source).entries()) {
      const blob = path.join(blobs, `${String(index).padStart(2, '0')}${'e'.repeat(62)}`);
      fs.copyFileSync(path.join(source, file), blob);
      fs.symlinkSync(path.relative(snapshot, blob), path.join(snapshot, file));
    }
    const reference = readReference(source);
    const model = await loadModel(snapshot, { intraOpNumThreads: 1 }) as CheckpointModel;
    try {
      assert.equal(model.format, 'safetensors');
      const output = await model.runBatch(reference.prompts.map((prompt) => ({ ids: prompt.ids, usable: true })));
      assert.ok(maxDifference(model, output, reference.prompts) <= TOLERANCE);
    } finally {
      await model.dispose();
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('maxBlocks builds only the blocks asked for, with the same values', async () => {
  const dir = path.join(FIXTURES, 'llama2');
  const reference = readReference(dir);
  const model = await loadCheckpointModel(dir, { intraOpNumThreads: 1, maxBlocks: 1 });
  try {
    assert.equal(model.numLayers, 2);
    const output = await model.runBatch([{ ids: reference.prompts[0].ids, usable: true }]);
    const truncated = [{ ...reference.prompts[0], layers: reference.prompts[0].layers.slice(0, 2) }];
    assert.ok(maxDifference(model, output, truncated) <= TOLERANCE);
  } finally {
    await model.dispose();
  }
});

test('the fingerprint changes when any weight byte changes, and not otherwise', async () => {
  const dir = copyFixture('gpt2');
  try {
    const first = await loadCheckpointModel(dir, { intraOpNumThreads: 1 });
    await first.dispose();
    const again = await loadCheckpointModel(dir, { intraOpNumThreads: 1 });
    await again.dispose();
    assert.equal(again.fingerprint, first.fingerprint);
    const file = path.join(dir, 'model.safetensors');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 3] ^= 1; // one bit of the last tensor
    fs.writeFileSync(file, bytes);
    const changed = await loadCheckpointModel(dir, { intraOpNumThreads: 1 });
    await changed.dispose();
    assert.notEqual(changed.fingerprint, first.fingerprint);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Broken checkpoints: clear errors naming the file and tensor.

interface Header { [name: string]: { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string> }

function readHeader(file: string): { header: Header; data: Buffer } {
  const bytes = fs.readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Header, data: bytes.subarray(8 + length) };
}

function writeHeader(file: string, header: Header, data: Buffer): void {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([length, json, data]));
}

async function expectLoadError(dir: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadCheckpointModel(dir, { intraOpNumThreads: 1 }), (error: unknown) => {
    assert.ok(error instanceof ModelLoadError, `expected ModelLoadError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

const BROKEN: readonly { name: string; edit: (dir: string) => void; error: RegExp }[] = [
  {
    name: 'a missing tensor',
    edit: (dir) => {
      const file = path.join(dir, 'model.safetensors');
      const { header, data } = readHeader(file);
      const key = Object.keys(header).find((name) => name.endsWith('h.1.mlp.c_proj.weight'))!;
      delete header[key];
      writeHeader(file, header, data);
    },
    error: /model\.safetensors has no tensor (transformer\.)?h\.1\.mlp\.c_proj\.weight/,
  },
  {
    name: 'a shape that disagrees with config.json',
    edit: (dir) => {
      const file = path.join(dir, 'config.json');
      const config = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      config.n_inner = 7;
      fs.writeFileSync(file, JSON.stringify(config));
    },
    error: /model\.safetensors: tensor (transformer\.)?h\.0\.mlp\.c_fc\.weight has shape \[\d+, \d+\] but config\.json implies \[\d+, 7\]/,
  },
  {
    name: 'a header whose offsets run past the end of the file',
    edit: (dir) => {
      const file = path.join(dir, 'model.safetensors');
      const { header, data } = readHeader(file);
      writeHeader(file, header, data.subarray(0, data.length - 64));
    },
    error: /model\.safetensors: tensor \S+: data_offsets end at \d+ but the file has only \d+ data bytes/,
  },
  {
    name: 'a header whose byte range disagrees with dtype and shape',
    edit: (dir) => {
      const file = path.join(dir, 'model.safetensors');
      const { header, data } = readHeader(file);
      const entry = Object.values(header).find((value) => 'shape' in value) as { shape: number[] };
      entry.shape = [...entry.shape.slice(0, -1), entry.shape[entry.shape.length - 1] + 1];
      writeHeader(file, header, data);
    },
    error: /model\.safetensors: tensor \S+: F32 \[[\d, ]+\] needs \d+ bytes but data_offsets span \d+/,
  },
  {
    name: 'overlapping tensors',
    edit: (dir) => {
      const file = path.join(dir, 'model.safetensors');
      const { header, data } = readHeader(file);
      const entries = (Object.values(header).filter((value) => 'shape' in value) as { data_offsets: [number, number] }[])
        .sort((x, y) => (y.data_offsets[1] - y.data_offsets[0]) - (x.data_offsets[1] - x.data_offsets[0]));
      const [a, b] = entries; // b (no larger than a) moved to start inside a's bytes
      b.data_offsets = [a.data_offsets[0], a.data_offsets[0] + (b.data_offsets[1] - b.data_offsets[0])];
      writeHeader(file, header, data);
    },
    error: /model\.safetensors: tensors \S+ and \S+ overlap/,
  },
  {
    name: 'an unknown dtype',
    edit: (dir) => {
      const file = path.join(dir, 'model.safetensors');
      const { header, data } = readHeader(file);
      (Object.values(header).find((value) => 'shape' in value) as { dtype: string }).dtype = 'F99';
      writeHeader(file, header, data);
    },
    error: /model\.safetensors: tensor \S+: unknown dtype "F99"/,
  },
  {
    name: 'a truncated header',
    edit: (dir) => {
      const file = path.join(dir, 'model.safetensors');
      fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 100));
    },
    error: /model\.safetensors: claims a \d+-byte header but the file is 100 bytes/,
  },
  {
    name: 'an unsupported model_type',
    edit: (dir) => {
      const file = path.join(dir, 'config.json');
      fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')) as object, model_type: 'mamba' }));
    },
    error: /model_type "mamba" .* is not supported for safetensors checkpoints\.\n\s+Supported: gpt2, gpt_neox, llama, mistral, qwen2, qwen3/,
  },
];

for (const broken of BROKEN) {
  test(`a checkpoint with ${broken.name} is refused with the file and tensor named`, async () => {
    const dir = copyFixture('gpt2');
    try {
      broken.edit(dir);
      await expectLoadError(dir, broken.error);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('an index naming a shard that is not there is refused', () => {
  const dir = copyFixture('qwen2');
  try {
    const shard = fs.readdirSync(dir).find((file) => /^model-\d+-of-\d+\.safetensors$/.test(file))!;
    fs.rmSync(path.join(dir, shard));
    assert.throws(() => readCheckpointTensors(dir), new RegExp(`model\\.safetensors\\.index\\.json: names shard ${shard.replace(/\./g, '\\.')}, which is not in`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('float32 weights larger than the memory limit are refused before loading, with the size', async () => {
  const dir = path.join(FIXTURES, 'llama2');
  await assert.rejects(loadCheckpointModel(dir, { memoryLimitBytes: 1000 }),
    /as float32 needs 0\.\d MB|as float32 needs [\d.]+ GB of memory for its weights; the limit is 0\.0 GB available\.\n\s+The checkpoint is bfloat16/);
});

test('the CLI refuses a broken checkpoint with exit code 2 and writes nothing', () => {
  const dir = copyFixture('gpt2');
  const out = path.join(tempDir(), 'out');
  try {
    const file = path.join(dir, 'model.safetensors');
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, fs.statSync(file).size - 16));
    const dataset = path.join(path.dirname(out), 'places.csv');
    fs.writeFileSync(dataset, 'name,latitude,longitude\nParis,48.85,2.35\nLima,-12.05,-77.04\n');
    const result = spawnSync(process.execPath, [path.join(repoRoot, 'out', 'cli.js'), 'extract', '--dataset', dataset, '--model', dir, '--out', out, '--no-cache'],
      { encoding: 'utf8', env: { ...process.env, SPACETIME_PROBE_HUGE_PAGES: '0' } });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /model\.safetensors: tensor \S+: data_offsets end at/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(fs.existsSync(out), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
});

test('hf: a sharded checkpoint downloads from a loopback Hub into the cache and loads from the snapshot', async () => {
  const dir = path.join(FIXTURES, 'qwen2');
  const hub = await startHubServer({ repos: [{ repoId: 'test-org/qwen2-tiny', dir }] });
  const cacheDir = tempDir();
  try {
    const options = { intraOpNumThreads: 1, hub: { endpoint: hub.endpoint, cacheDir, env: {}, retryDelayMs: 5 } };
    const model = await loadModel('hf:test-org/qwen2-tiny', options) as CheckpointModel;
    const reference = readReference(dir);
    try {
      assert.equal(model.format, 'safetensors');
      assert.equal(model.id, 'hf:test-org/qwen2-tiny');
      const output = await model.runBatch(reference.prompts.map((prompt) => ({ ids: prompt.ids, usable: true })));
      assert.ok(maxDifference(model, output, reference.prompts) <= TOLERANCE);
    } finally {
      await model.dispose();
    }
    // The snapshot is symlinks into blobs/ (as huggingface_hub lays it out), and a second load needs no network.
    const snapshot = fs.realpathSync(path.dirname(path.join(model.folder, 'config.json')));
    assert.ok(fs.lstatSync(path.join(model.folder, 'config.json')).isSymbolicLink(), `${snapshot} should hold links`);
    const requests = hub.requests.length;
    const again = await loadModel('hf:test-org/qwen2-tiny', options);
    await again.dispose();
    assert.equal(hub.requests.length, requests, 'the cached checkpoint is used without asking the Hub');
    await assert.rejects(loadModel('hf:test-org/qwen2-tiny', { ...options, format: 'onnx' }), /has no fp32 export/);
  } finally {
    await hub.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('entity-last: the tap of a suffixed prompt reads the entity token (equal to the prompt cut after the entity)', async () => {
  for (const name of ['llama2', 'gpt-neox']) {
    const model = await loadCheckpointModel(path.join(FIXTURES, name), { intraOpNumThreads: 1 });
    try {
      const text = 'Where is São Paulo?';
      const start = text.indexOf('São Paulo');
      const [suffixed, cut] = model.tokenize([{ text, entity: { start, end: start + 'São Paulo'.length } }, text.slice(0, start + 'São Paulo'.length)]);
      assert.ok(suffixed.readIndex !== undefined && suffixed.readIndex < suffixed.ids.length - 1, `${name}: the read token is before the "?"`);
      const [a, b] = [await model.runBatch([suffixed]), await model.runBatch([cut])];
      let worst = 0;
      for (let index = 0; index < a.length; index++) worst = Math.max(worst, Math.abs(a[index] - b[index]));
      assert.ok(worst < 1e-5, `${name}: max |diff| ${worst}`);
    } finally {
      await model.dispose();
    }
  }
});

/**
 * The float16 graph (what WebGPU/CUDA run) is exercised here on onnxruntime's CPU provider, whose float16 kernels
 * are slow but exact to float16 rounding: every layer within 1e-2 relative to the largest value of its layer
 * (observed 5e-4 to 2.6e-3).
 */
for (const name of ['gpt2', 'gpt-neox', 'llama2', 'qwen3', 'gemma2', 'phi3', 'olmo2', 'stablelm']) {
  test(`checkpoint ${name} as a float16 graph stays within 1e-2 of PyTorch float32`, async () => {
    const dir = path.join(FIXTURES, name);
    const reference = readReference(dir);
    const model = await loadCheckpointModel(dir, { intraOpNumThreads: 1, device: 'cpu', computeDtype: 'float16' });
    try {
      assert.equal(model.computeDtype, 'float16');
      const output = await model.runBatch(reference.prompts.map((prompt) => ({ ids: prompt.ids, usable: true })));
      let worst = 0;
      reference.prompts.forEach((prompt, row) => prompt.layers.forEach((layer, l) => {
        const scale = Math.max(...layer.map(Math.abs));
        layer.forEach((value, d) => {
          const ours = output[(row * model.numLayers + l) * model.hiddenSize + d];
          worst = Math.max(worst, Number.isFinite(ours) ? Math.abs(ours - value) / scale : Infinity);
        });
      }));
      assert.ok(worst <= 1e-2, `max relative |diff| ${worst}`);
      assert.ok(worst > 0, 'a float16 graph cannot be bit-identical to float32: is it really float16?');
    } finally {
      await model.dispose();
    }
  });
}

test('precision: float16 on request computes in float16 (near PyTorch float32); an ONNX export refuses it', async () => {
  const dir = path.join(FIXTURES, 'llama2');
  const reference = readReference(dir);
  const half = await loadModel(dir, { intraOpNumThreads: 1, device: 'cpu', precision: 'float16' }) as CheckpointModel;
  try {
    assert.equal(half.computeDtype, 'float16');
    const worst = maxDifference(half, await half.runBatch(reference.prompts.map((prompt) => ({ ids: prompt.ids, usable: true }))), reference.prompts);
    assert.ok(worst > 0 && worst <= 2e-2, `float16: max |diff| ${worst}`);
  } finally {
    await half.dispose();
  }
  const exact = await loadModel(dir, { intraOpNumThreads: 1, device: 'cpu', precision: 'float32' }) as CheckpointModel;
  assert.equal(exact.computeDtype, 'float32');
  await exact.dispose();
  await assert.rejects(loadModel(onnxModelDir('gpt2-tiny'), { intraOpNumThreads: 1, device: 'cpu', precision: 'float16' }),
    (error: Error) => error instanceof ModelLoadError && /--precision float16 applies to safetensors checkpoints/.test(error.message) && /--variant/.test(error.message));
});

test('a GPU graph keeps the plain attention where scores are softcapped or scaled otherwise (Gemma-2), and fuses the rest', async () => {
  for (const [name, fusedBlocks] of [['gemma2', 0], ['llama3', 3], ['mistral', 3]] as const) {
    const dir = path.join(FIXTURES, name);
    const reference = readReference(dir);
    const cpuKernel = await loadCheckpointModel(dir, { intraOpNumThreads: 1, device: 'cpu', fusedAttention: true });
    const gpuGraph = await loadCheckpointModel(dir, { intraOpNumThreads: 1, device: 'cpu', fusedAttention: true, fusedAttentionFor: 'webgpu' });
    try {
      assert.equal(cpuKernel.fusedAttentionBlocks, reference.num_layers, `${name} on the CPU kernel`);
      assert.equal(gpuGraph.fusedAttentionBlocks, fusedBlocks, `${name} for webgpu`);
      // The activation cache tells the two graphs apart exactly when they differ.
      assert.equal(cpuKernel.fingerprint === gpuGraph.fingerprint, fusedBlocks === reference.num_layers, `${name} fingerprints`);
      const output = await gpuGraph.runBatch(reference.prompts.map((prompt) => ({ ids: prompt.ids, usable: true })));
      assert.ok(maxDifference(gpuGraph, output, reference.prompts) <= TOLERANCE, name);
    } finally {
      await cpuKernel.dispose();
      await gpuGraph.dispose();
    }
  }
});

/**
 * Attention through onnxruntime's fused GroupQueryAttention (the GPU default), run here on the CPU provider in
 * float32 (within 1e-4 of PyTorch, like the plain graph) and float16 (within 1e-2 relative). Fixtures whose head
 * size is not a multiple of 16 (the kernel's requirement) keep the plain attention: checked too.
 */
for (const name of fixtureNames()) {
  test(`checkpoint ${name} with fused GroupQueryAttention matches PyTorch in float32 and float16`, async () => {
    const dir = path.join(FIXTURES, name);
    const reference = readReference(dir);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, number>;
    const heads = config.num_attention_heads ?? config.n_head;
    const headDim = config.head_dim ?? (config.hidden_size ?? config.n_embd) / heads;
    for (const computeDtype of ['float32', 'float16'] as const) {
      const model = await loadCheckpointModel(dir, { intraOpNumThreads: 1, device: 'cpu', computeDtype, fusedAttention: true });
      try {
        assert.equal(model.fusedAttentionBlocks, headDim % 16 === 0 ? reference.num_layers : 0, `head size ${headDim}`);
        const output = await model.runBatch(reference.prompts.map((prompt) => ({ ids: prompt.ids, usable: true })));
        if (computeDtype === 'float32') {
          assert.ok(maxDifference(model, output, reference.prompts) <= TOLERANCE, `${computeDtype}: max |diff| ${maxDifference(model, output, reference.prompts)}`);
        } else {
          let worst = 0;
          reference.prompts.forEach((prompt, row) => prompt.layers.forEach((layer, l) => {
            const scale = Math.max(...layer.map(Math.abs));
            layer.forEach((value, d) => { worst = Math.max(worst, Math.abs(output[(row * model.numLayers + l) * model.hiddenSize + d] - value) / scale); });
          }));
          assert.ok(worst <= 1e-2, `float16: max relative |diff| ${worst}`);
        }
      } finally {
        await model.dispose();
      }
    }
  });
}

/**
 * The random-weights control's model rewrite (src/core/experiments/randomWeights.ts) on the tiny GPT-2 fixture:
 * every float tensor with spread is redrawn with its own mean and standard deviation, constants and integer
 * tensors survive byte for byte, the copy loads and runs, the same seed gives the same bytes, and a model with
 * external data gives the same weights as the inline one. Plus the GloVe-style random token vectors.
 */
import { after, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { onnxModelDir } from '../../helpers/modelFixtures';
import { parseOnnxModel } from '../../../src/core/model/onnx/onnxGraph';
import { externalizeInitializers } from '../../../src/core/model/onnx/graphRewrite';
import { loadTransformerModel } from '../../../src/core/model/onnx/transformerModel';
import { RandomTokenVectorsModel, randomWeightsModel, seededNormals, writeRandomizedOnnx } from '../../../src/core/experiments/randomWeights';
import { promptText, type ResidualModel, type TokenizedPrompt } from '../../../src/core/model/types';

const gpt2 = onnxModelDir('gpt2-tiny');
const source = path.join(gpt2, 'onnx', 'model.onnx');

/** Float32 values of every FLOAT initializer, by name (inline or external data). */
function floatInitializers(file: string): Map<string, Float32Array> {
  const model = onnx.ModelProto.decode(fs.readFileSync(file));
  const out = new Map<string, Float32Array>();
  for (const tensor of model.graph?.initializer ?? []) {
    if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT) continue;
    let bytes: Uint8Array;
    if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      const entries = Object.fromEntries((tensor.externalData ?? []).map((entry) => [entry.key, entry.value]));
      const data = fs.readFileSync(path.join(path.dirname(file), entries.location as string));
      bytes = data.subarray(Number(entries.offset ?? 0), Number(entries.offset ?? 0) + Number(entries.length));
    } else if (tensor.rawData && tensor.rawData.length > 0) {
      bytes = tensor.rawData;
    } else {
      out.set(tensor.name ?? '', Float32Array.from(tensor.floatData ?? []));
      continue;
    }
    out.set(tensor.name ?? '', new Float32Array(Uint8Array.from(bytes).buffer));
  }
  return out;
}

function stats(values: Float32Array): { mean: number; std: number } {
  let mean = 0;
  for (const value of values) mean += value / values.length;
  let variance = 0;
  for (const value of values) variance += (value - mean) ** 2 / values.length;
  return { mean, std: Math.sqrt(variance) };
}

describe('random-weights model', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'random-weights-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  test('float tensors are redrawn with their own mean and std; constants and integers are kept', () => {
    const target = path.join(root, 'inline', 'model.onnx');
    const written = writeRandomizedOnnx(source, target, 1);
    assert.equal(written.external, false);
    const before = floatInitializers(source);
    const afterwards = floatInitializers(target);
    assert.deepEqual([...afterwards.keys()], [...before.keys()]);
    let redrawn = 0;
    for (const [name, original] of before) {
      const replaced = afterwards.get(name) as Float32Array;
      assert.equal(replaced.length, original.length, name);
      const { mean, std } = stats(original);
      if (original.length < 2 || std === 0) {
        assert.deepEqual(replaced, original, `${name} is constant and must be kept`);
        continue;
      }
      redrawn++;
      assert.notDeepEqual(replaced, original, `${name} must change`);
      const drawn = stats(replaced);
      // Sampling error of the mean is std/√n; allow 5 standard errors, and 10% (+5/√n) on the spread.
      assert.ok(Math.abs(drawn.mean - mean) < 5 * std / Math.sqrt(original.length) + 1e-7, `${name}: mean ${drawn.mean} vs ${mean}`);
      assert.ok(Math.abs(drawn.std - std) < std * (0.1 + 5 / Math.sqrt(original.length)), `${name}: std ${drawn.std} vs ${std}`);
    }
    assert.equal(redrawn, written.randomized);
    assert.ok(redrawn > 10);
    // Non-float initializers are byte-identical.
    const integer = (file: string) => onnx.ModelProto.decode(fs.readFileSync(file)).graph?.initializer?.filter((tensor) => tensor.dataType !== onnx.TensorProto.DataType.FLOAT)
      .map((tensor) => onnx.TensorProto.encode(tensor).finish()) ?? [];
    assert.deepEqual(integer(target), integer(source));
  });

  test('the same seed gives the same bytes, another seed other weights', () => {
    const a = path.join(root, 'seed-a', 'model.onnx');
    const b = path.join(root, 'seed-b', 'model.onnx');
    const c = path.join(root, 'seed-c', 'model.onnx');
    writeRandomizedOnnx(source, a, 3);
    writeRandomizedOnnx(source, b, 3);
    writeRandomizedOnnx(source, c, 4);
    assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)));
    assert.ok(!fs.readFileSync(a).equals(fs.readFileSync(c)));
  });

  test('external data: read from the original data file, written to a new one, same weights as inline', () => {
    const folder = path.join(root, 'external-source', 'onnx');
    fs.mkdirSync(folder, { recursive: true });
    const externalized = externalizeInitializers(parseOnnxModel(fs.readFileSync(source)), 'model.onnx_data');
    fs.writeFileSync(path.join(folder, 'model.onnx'), externalized.modelBytes);
    fs.writeFileSync(path.join(folder, 'model.onnx_data'), Buffer.concat(externalized.dataChunks.map((chunk) => Buffer.from(chunk))));
    const target = path.join(root, 'external-target', 'model.onnx');
    const written = writeRandomizedOnnx(path.join(folder, 'model.onnx'), target, 1);
    assert.equal(written.external, true);
    assert.ok(fs.statSync(`${target}_data`).size > 100_000);
    // The graph stays as small as the externalised source graph: no tensor data moved back into it.
    assert.ok(fs.statSync(target).size <= fs.statSync(path.join(folder, 'model.onnx')).size + 1024, 'the graph holds no large tensor');
    const inline = floatInitializers(path.join(root, 'inline', 'model.onnx'));
    const external = floatInitializers(target);
    for (const [name, values] of inline) assert.deepEqual(external.get(name), values, name);
  });

  test('the twin loads through the normal path, runs, has its own fingerprint and is removed by dispose()', async () => {
    const model = await loadTransformerModel(gpt2, { device: 'cpu' });
    const workDir = path.join(root, 'twin');
    const twin = await randomWeightsModel(model, 1, workDir);
    try {
      assert.notEqual(twin.model.fingerprint, model.fingerprint);
      assert.equal(twin.model.numLayers, model.numLayers);
      assert.equal(twin.model.hiddenSize, model.hiddenSize);
      const prompts = model.tokenize(['Paris', 'New York City']);
      assert.deepEqual(twin.model.tokenize(['Paris', 'New York City']), prompts);
      const [real, random] = [await model.runBatch(prompts), await twin.model.runBatch(prompts)];
      assert.equal(random.length, real.length);
      assert.ok(random.every(Number.isFinite));
      assert.notDeepEqual(random, real);
      const again = await randomWeightsModel(model, 1, path.join(root, 'twin-again'));
      assert.equal(again.model.fingerprint, twin.model.fingerprint, 'deterministic: the activation cache can reuse it');
      await again.dispose();
    } finally {
      await twin.dispose();
      await model.dispose();
    }
    assert.ok(!fs.existsSync(workDir));
  });
});

describe('random token vectors (the GloVe twin)', () => {
  const base: ResidualModel = {
    id: 'test:words', architecture: 'glove', numLayers: 1, hiddenSize: 4, fingerprint: 'words/1',
    device: { requested: 'cpu', used: 'cpu', fallbacks: [] },
    tokenize: (texts) => texts.map(promptText).map((text): TokenizedPrompt => ({ ids: text.split(' ').map((word) => word.length), usable: true })),
    runBatch: async () => { throw new Error('not used'); },
    dispose: async () => undefined,
  };
  const mean = Float64Array.from([0, 1, -1, 0.5]);
  const std = Float64Array.from([1, 0.1, 2, 0]);

  test('a prompt is the mean of its tokens\u2019 seeded vectors, drawn per dimension from N(mean, std²)', async () => {
    const twin = new RandomTokenVectorsModel(base, 9, mean, std);
    const [a, b] = [twin.tokenVector(3), twin.tokenVector(5)];
    assert.deepEqual(twin.tokenVector(3), a);
    assert.equal(a[3], 0.5, 'zero spread keeps the mean');
    const out = await twin.runBatch(twin.tokenize(['abc defgh']));
    for (let f = 0; f < 4; f++) assert.ok(Math.abs(out[f] - Math.fround((a[f] + b[f]) / 2)) < 1e-6);
    assert.notEqual(new RandomTokenVectorsModel(base, 10, mean, std).fingerprint, twin.fingerprint);
    // Many tokens: the sample mean of dim 2 approaches −1.
    let sum = 0;
    for (let id = 0; id < 4000; id++) sum += twin.tokenVector(id)[2];
    assert.ok(Math.abs(sum / 4000 + 1) < 0.15);
  });

  test('seeded normals have mean 0 and variance 1', () => {
    const normal = seededNormals(1);
    const values = Array.from({ length: 20000 }, normal);
    const m = values.reduce((s, v) => s + v, 0) / values.length;
    const v = values.reduce((s, x) => s + (x - m) ** 2, 0) / values.length;
    assert.ok(Math.abs(m) < 0.03 && Math.abs(v - 1) < 0.05, `mean ${m}, variance ${v}`);
  });
});

/**
 * Discovery never returns wrong taps: graphs built in JS (test/helpers/layoutGraphs.ts) with the layouts real
 * exports have — unsorted nodes, no-op Casts and Identity chains on any edge, OPT's flattened MLP residual,
 * OLMo-2's post-norms, and every norm form (LayerNormalization, decomposed LayerNorm/RMSNorm, onnxruntime's
 * ReduceMean → Sub → SimplifiedLayerNormalization, SkipLayerNormalization) — must give exactly the residual
 * stream at the block boundaries (compared with the unperturbed graph's own boundary tensors, run by onnxruntime),
 * or be refused with a ModelLoadError naming the model.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { onnx } from 'onnx-proto';
import { parseOnnxModel } from '../../../src/core/model/onnx/onnxGraph';
import { discoverResidualTaps } from '../../../src/core/model/onnx/residualTaps';
import { rewriteForResidualTaps } from '../../../src/core/model/onnx/graphRewrite';
import { ModelLoadError } from '../../../src/core/model/errors';
import { createSession, ort } from '../../../src/core/runtime/ort';
import { buildLayoutGraph, seededRandom, type LayoutOptions } from '../../helpers/layoutGraphs';

const IDS = [[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]];
const BASE: LayoutOptions = {
  layers: 3, hidden: 8, vocab: 12, layout: 'sequential', norm: 'layernorm', shuffle: false, noOpRate: 0, flattenMlp: false,
  postNorms: false, seed: 1,
};

function idsTensor(): InstanceType<typeof ort.Tensor> {
  return new ort.Tensor('int64', BigInt64Array.from(IDS.flat().map(BigInt)), [IDS.length, IDS[0].length]);
}

/** The boundary tensors of the unperturbed graph at the last token, [B, L+1, D], computed by onnxruntime. */
async function referenceTaps(options: LayoutOptions): Promise<Float32Array> {
  const plain = buildLayoutGraph({ ...options, shuffle: false, noOpRate: 0, norm: options.norm === 'skip' ? 'layernorm' : options.norm });
  const model = onnx.ModelProto.decode(plain.bytes);
  model.graph!.output = plain.taps.map((name) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }));
  const { session } = await createSession(onnx.ModelProto.encode(model).finish(), { device: 'cpu', intraOpNumThreads: 1 });
  try {
    const outputs = await session.run({ input_ids: idsTensor() });
    const D = options.hidden;
    const T = IDS[0].length;
    const result = new Float32Array(IDS.length * plain.taps.length * D);
    plain.taps.forEach((name, layer) => {
      const data = outputs[name].data as Float32Array;
      for (let b = 0; b < IDS.length; b++) {
        for (let d = 0; d < D; d++) result[(b * plain.taps.length + layer) * D + d] = data[(b * T + T - 1) * D + d];
      }
    });
    return result;
  } finally {
    await session.release();
  }
}

type Outcome = { kind: 'taps'; values: Float32Array; layout: string } | { kind: 'refused'; error: ModelLoadError };

async function discoverAndRun(bytes: Uint8Array, layers: number | undefined, label: string): Promise<Outcome> {
  const model = parseOnnxModel(bytes);
  let taps;
  try {
    taps = discoverResidualTaps(model, { numHiddenLayers: layers, modelLabel: label });
  } catch (error) {
    if (error instanceof ModelLoadError) return { kind: 'refused', error };
    throw error;
  }
  const rewrite = rewriteForResidualTaps(model, { taps: taps.taps, synthesized: taps.synthesized });
  const { session } = await createSession(rewrite.bytes, { device: 'cpu', intraOpNumThreads: 1 });
  try {
    const lastIndex = new ort.Tensor('int64', BigInt64Array.from(IDS.map((row) => BigInt(row.length - 1))), [IDS.length, 1]);
    const outputs = await session.run({ input_ids: idsTensor(), last_index: lastIndex });
    return { kind: 'taps', values: outputs[rewrite.outputName].data as Float32Array, layout: taps.layout };
  } finally {
    await session.release();
  }
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'output width');
  let worst = 0;
  for (let index = 0; index < a.length; index++) worst = Math.max(worst, Math.abs(a[index] - b[index]));
  return worst;
}

async function expectExact(options: LayoutOptions, layers: number | undefined = options.layers): Promise<void> {
  const graph = buildLayoutGraph(options);
  const outcome = await discoverAndRun(graph.bytes, layers, graph.description);
  if (outcome.kind === 'refused') assert.fail(`${graph.description} was refused: ${outcome.error.message}`);
  assert.equal(outcome.layout, options.layout, graph.description);
  const difference = maxDifference(outcome.values, await referenceTaps(options));
  assert.ok(difference < 1e-5, `${graph.description}: max |diff| ${difference}`);
}

describe('tap discovery on export layouts', () => {
  test('defect 1: a bias-less LayerNorm fused as ReduceMean → Sub → SimplifiedLayerNormalization taps the sum, not x − mean', async () => {
    await expectExact({ ...BASE, norm: 'centred-simplified' });
    await expectExact({ ...BASE, norm: 'centred-simplified', layout: 'parallel' });
    const graph = buildLayoutGraph({ ...BASE, norm: 'centred-simplified' });
    const taps = discoverResidualTaps(parseOnnxModel(graph.bytes), { numHiddenLayers: 3, modelLabel: 'centred' });
    assert.deepEqual(taps.taps, graph.taps);
  });

  test('defect 1: a final norm that reads something other than the residual sum is refused, naming the model', () => {
    // The final norm reads (x − 1): not on the Add chain, not a centring. Discovery must not return it.
    const graph = buildLayoutGraph(BASE);
    const model = onnx.ModelProto.decode(graph.bytes);
    const nodes = model.graph!.node!;
    const finalNorm = nodes.find((node) => node.opType === 'LayerNormalization' && node.input![0] === 'l2.out')!;
    model.graph!.initializer!.push({ name: 'one', dims: [], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(new Float32Array([1]).buffer) });
    nodes.push({ opType: 'Sub', input: ['l2.out', 'one'], output: ['shifted'], name: 'shift' });
    finalNorm.input![0] = 'shifted';
    const bytes = onnx.ModelProto.encode(model).finish();
    assert.throws(() => discoverResidualTaps(parseOnnxModel(bytes), { numHiddenLayers: 3, modelLabel: 'shifted-final.onnx' }), (error: unknown) =>
      error instanceof ModelLoadError && /shifted-final\.onnx/.test(error.message) && /chain/.test(error.message) && /--taps/.test(error.message));
  });

  test('defect 4: an unsorted graph (nodes shuffled) is sorted before rewriting and gives the same taps', async () => {
    for (const seed of [1, 2, 3]) await expectExact({ ...BASE, shuffle: true, seed });
  });

  test('defect 5: taps behind no-op Casts and Identity chains, on every edge', async () => {
    await expectExact({ ...BASE, noOpRate: 1 });
    await expectExact({ ...BASE, noOpRate: 0.5, norm: 'rmsnorm', seed: 4 });
  });

  test('defect 6: post-norm blocks (OLMo-2: only the final norm reads the stream) are found by the Add chain', async () => {
    await expectExact({ ...BASE, postNorms: true, norm: 'rmsnorm' });
    await expectExact({ ...BASE, postNorms: true, norm: 'rmsnorm' }, undefined);
  });

  test('an MLP residual added in [B·T, D] and reshaped back (OPT) is tapped as [B, T, D]', async () => {
    await expectExact({ ...BASE, flattenMlp: true });
  });

  test('fused SkipLayerNormalization (final sum dropped and rebuilt)', async () => {
    await expectExact({ ...BASE, norm: 'skip' });
    await expectExact({ ...BASE, norm: 'skip', layout: 'parallel' });
  });

  test('property: random layouts give exactly the right taps or are refused, never wrong ones', async (t) => {
    const random = seededRandom(20261201);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    let exact = 0;
    let refused = 0;
    const refusals: string[] = [];
    for (let trial = 0; trial < 64; trial++) {
      const options: LayoutOptions = {
        layers: 1 + Math.floor(random() * 4), hidden: 8, vocab: 12,
        layout: pick(['sequential', 'parallel'] as const),
        norm: pick(['layernorm', 'decomposed-layernorm', 'rmsnorm', 'centred-simplified', 'skip'] as const),
        shuffle: random() < 0.5, noOpRate: pick([0, 0.2, 0.6]), flattenMlp: random() < 0.25, postNorms: random() < 0.25,
        seed: trial + 100,
      };
      if (options.layout === 'parallel') Object.assign(options, { flattenMlp: false });
      if (options.postNorms && options.norm === 'skip') Object.assign(options, { norm: 'rmsnorm' });
      const graph = buildLayoutGraph(options);
      const knownL = random() < 0.75 ? options.layers : undefined;
      const outcome = await discoverAndRun(graph.bytes, knownL, graph.description);
      if (outcome.kind === 'refused') {
        assert.match(outcome.error.message, /Cannot find the residual stream in .*seed=/);
        refused++;
        refusals.push(`${graph.description}: ${outcome.error.summary}`);
        continue;
      }
      const difference = maxDifference(outcome.values, await referenceTaps(options));
      assert.ok(difference < 1e-5, `${graph.description} (L ${knownL ?? 'unknown'}): wrong taps, max |diff| ${difference}`);
      exact++;
    }
    t.diagnostic(`${exact} exact, ${refused} refused${refusals.length ? `: ${refusals.join("; ")}` : ""}`);
    // Refusing is allowed, but these layouts are all recognisable: the property must not pass by refusing everything.
    assert.ok(exact >= 60, `exact ${exact}, refused ${refused}:\n${refusals.join('\n')}`);
  });
});

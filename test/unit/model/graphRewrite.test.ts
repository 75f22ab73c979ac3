/**
 * Graph analysis and raw-protobuf rewriting: byte-for-byte copying, pruning, external data, onnxruntime-fused
 * graphs, discovery without a layer count, and the failures that must explain themselves.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { Writer } from 'protobufjs/minimal';
import { parseOnnxModel, scanFields, ModelField } from '../../../src/core/model/onnx/onnxGraph';
import { discoverResidualTaps, findNormalizationInputs } from '../../../src/core/model/onnx/residualTaps';
import { externalizeInitializers, isNaNAsComparison, rewriteForResidualTaps } from '../../../src/core/model/onnx/graphRewrite';
import { loadTransformerModel } from '../../../src/core/model/onnx/transformerModel';
import { ModelLoadError } from '../../../src/core/model/errors';
import { createSession, ort } from '../../../src/core/runtime/ort';
import { copyModelSidecars, maxDeviation, readReference, onnxModelDir, type ONNX_MODELS } from '../../helpers/modelFixtures';

const TOLERANCE = 1e-4;

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function fixtureModel(name: (typeof ONNX_MODELS)[number]): Uint8Array {
  return fs.readFileSync(path.join(onnxModelDir(name), 'onnx', 'model.onnx'));
}

function fieldBytes(bytes: Uint8Array, field: { start: number; end: number }): Buffer {
  return Buffer.from(bytes.subarray(field.start, field.end));
}

describe('rewriteForResidualTaps', () => {
  test('copies kept initializers byte-for-byte, keeps unknown fields, replaces outputs with resid_last', () => {
    const original = fixtureModel('neox-tiny');
    // Append fields this project's schema does not know (model field 99, graph field 99): they must survive.
    const unknownModelField = Writer.create().uint32((99 << 3) | 0).uint32(42).finish();
    const withUnknown = Buffer.concat([original, unknownModelField]);
    const model = parseOnnxModel(withUnknown);
    const taps = discoverResidualTaps(model, { numHiddenLayers: 3, modelLabel: 'neox-tiny' });
    const rewrite = rewriteForResidualTaps(model, { taps: taps.taps, hiddenSize: 32 });
    const rewritten = parseOnnxModel(rewrite.bytes);

    assert.deepEqual(rewritten.outputs.map((output) => output.name), ['resid_last']);
    assert.deepEqual(rewritten.outputs[0].dims, ['batch_size', 4 * 32]);
    assert.deepEqual(rewritten.inputs.map((input) => input.name), ['input_ids', 'attention_mask', 'last_index']);
    assert.ok(rewritten.modelFields.some((field) => field.field === 99), 'unknown model field kept');
    const originalInitializers = new Map(model.initializers.map((initializer) => [initializer.name, fieldBytes(model.bytes, initializer.field)]));
    const keptOriginal = rewritten.initializers.filter((initializer) => !initializer.name.startsWith('spacetime_probe/'));
    assert.ok(keptOriginal.length > 0 && keptOriginal.length < model.initializers.length);
    for (const initializer of rewritten.initializers) {
      if (initializer.name.startsWith('spacetime_probe/')) continue;
      assert.ok(fieldBytes(rewritten.bytes, initializer.field).equals(originalInitializers.get(initializer.name)!), initializer.name);
    }
    // The LM head (untied in NeoX) is gone, and no kept node reads a pruned tensor.
    const produced = new Set([...rewritten.nodes.flatMap((node) => node.outputs), ...rewritten.inputs.map((input) => input.name),
      ...rewritten.initializers.map((initializer) => initializer.name)]);
    for (const node of rewritten.nodes) for (const input of node.inputs) if (input) assert.ok(produced.has(input), `${node.name} reads ${input}`);
    assert.ok(!rewritten.nodes.some((node) => node.outputs.includes('logits')));
    assert.equal(rewritten.nodes.filter((node) => node.opType === 'GatherND' && node.name.startsWith('spacetime_probe/')).length, 4);
    // The model's own non-graph fields (ir_version, opset, producer) are identical.
    const kept = (bytes: Uint8Array, fields: readonly { field: number; start: number; end: number }[]) =>
      fields.filter((field) => field.field !== ModelField.graph).map((field) => fieldBytes(bytes, field).toString('hex'));
    assert.deepEqual(kept(rewritten.bytes, rewritten.modelFields), kept(model.bytes, model.modelFields));
    assert.ok(scanFields(rewrite.bytes).length === model.modelFields.length);
  });

  test('refuses opset < 12 (no GatherND batch_dims)', () => {
    const model = parseOnnxModel(tinyGraph({ opset: 11 }));
    assert.throws(() => rewriteForResidualTaps(model, { taps: ['x0'] }), (error: unknown) =>
      error instanceof ModelLoadError && /opset 11/.test(error.message));
  });
});

describe('external data', () => {
  test('a model with weights in model.onnx_data loads by path and gives the same numbers', async () => {
    for (const name of ['gpt2-tiny', 'llama-tiny'] as const) {
      const source = onnxModelDir(name);
      const dir = tempDir(`external-${name}-`);
      copyModelSidecars(source, dir);
      const externalized = externalizeInitializers(parseOnnxModel(fixtureModel(name)), 'model.onnx_data');
      assert.ok(externalized.externalized > 5);
      fs.mkdirSync(path.join(dir, 'onnx'));
      fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), externalized.modelBytes);
      fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx_data'), Buffer.concat(externalized.dataChunks));
      const graph = parseOnnxModel(fs.readFileSync(path.join(dir, 'onnx', 'model.onnx')));
      assert.ok(graph.initializers.filter((initializer) => initializer.externalLocation === 'model.onnx_data').length === externalized.externalized);
      // The graph file lost (nearly) all the bytes that went to model.onnx_data.
      const dataBytes = externalized.dataChunks.reduce((sum, chunk) => sum + chunk.length, 0);
      assert.ok(dataBytes > fixtureModel(name).length / 2, `${dataBytes} bytes of weights`);
      assert.ok(fs.statSync(path.join(dir, 'onnx', 'model.onnx')).size < fixtureModel(name).length - 0.95 * dataBytes, 'the graph file is small without its weights');

      const reference = readReference(source);
      const model = await loadTransformerModel(dir, { device: 'cpu' });
      try {
        const output = await model.runBatch(reference.prompts.map((prompt) => ({ ids: prompt.ids, usable: true })));
        assert.ok(maxDeviation(output, reference) < TOLERANCE, name);
      } finally {
        await model.dispose();
      }
      // The rewritten graph written next to the data is removed once the session exists.
      assert.deepEqual(fs.readdirSync(path.join(dir, 'onnx')).sort(), ['model.onnx', 'model.onnx_data']);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('onnxruntime-optimised graphs', () => {
  // onnxruntime's own optimiser fuses norms: LayerNorm + residual Add → SkipLayerNormalization (whose sum
  // output is dropped where only the final norm reads it), decomposed RMSNorm → SimplifiedLayerNormalization.
  for (const [name, fusedKind] of [['gpt2-tiny', 'SkipLayerNormalization'], ['neox-tiny', 'SkipLayerNormalization'], ['llama-tiny', 'SimplifiedLayerNormalization']] as const) {
    test(`${name} after onnxruntime's optimiser matches the reference`, async () => {
      const source = onnxModelDir(name);
      const dir = tempDir(`optimised-${name}-`);
      copyModelSidecars(source, dir);
      const optimised = path.join(dir, 'model.onnx');
      const { session } = await createSession(path.join(source, 'onnx', 'model.onnx'), {
        device: 'cpu', graphOptimizationLevel: 'extended', optimizedModelFilePath: optimised,
      });
      await session.release();
      const graph = parseOnnxModel(fs.readFileSync(optimised));
      assert.ok(graph.nodes.some((node) => node.opType === fusedKind), `expected a ${fusedKind} node`);

      const reference = readReference(source);
      const model = await loadTransformerModel(dir, { device: 'cpu' });
      try {
        assert.ok(model.residualTaps.normalizationInputs.some((input) => input.kind === fusedKind));
        if (fusedKind === 'SkipLayerNormalization') assert.equal(model.residualTaps.synthesized.length, 1);
        const output = await model.runBatch(reference.prompts.map((prompt) => ({ ids: prompt.ids, usable: true })));
        assert.ok(maxDeviation(output, reference) < TOLERANCE);
      } finally {
        await model.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('discoverResidualTaps', () => {
  test('without a layer count, infers the layout from where attention sits', () => {
    for (const [name, L, layout] of [['gpt2-tiny', 4, 'sequential'], ['llama-tiny', 4, 'sequential'], ['neox-tiny', 3, 'parallel']] as const) {
      const model = parseOnnxModel(fixtureModel(name));
      const known = discoverResidualTaps(model, { numHiddenLayers: L, modelLabel: name });
      const inferred = discoverResidualTaps(model, { modelLabel: name });
      assert.equal(inferred.layout, layout);
      assert.equal(inferred.numHiddenLayers, L);
      assert.deepEqual(inferred.taps, known.taps);
    }
  });

  test('records decomposed RMSNorm through Cast chains (Llama legacy export)', () => {
    const inputs = findNormalizationInputs(parseOnnxModel(fixtureModel('llama-tiny')));
    assert.equal(inputs.length, 9);
    assert.ok(inputs.every((input) => input.kind === 'decomposed RMSNorm'));
    assert.equal(inputs[0].tensor, '/model/model/embed_tokens/Gather_output_0');
  });

  test('drops norms off the residual path (q/k norms) when the raw count does not fit', () => {
    const model = parseOnnxModel(tinyGraph({ qkNorm: true }));
    assert.equal(new Set(findNormalizationInputs(model).map((input) => input.tensor)).size, 5);
    const taps = discoverResidualTaps(model, { numHiddenLayers: 1, modelLabel: 'qk-norm' });
    assert.deepEqual(taps.taps, ['x0', 'x2']);
  });

  test('a graph without normalisations is explained', () => {
    const model = parseOnnxModel(tinyGraph({ norms: false }));
    assert.throws(() => discoverResidualTaps(model, { numHiddenLayers: 1, modelLabel: 'plain.onnx' }), (error: unknown) =>
      error instanceof ModelLoadError && /plain\.onnx/.test(error.message) && /No normalisation found/.test(error.message) && /--taps/.test(error.message));
  });

  test('a merged decoder (blocks inside If branches) is recognised and explained', () => {
    const model = parseOnnxModel(tinyGraph({ merged: true }));
    assert.throws(() => discoverResidualTaps(model, { numHiddenLayers: 1, modelLabel: 'decoder_model_merged.onnx' }), (error: unknown) =>
      error instanceof ModelLoadError && /merged decoder/.test(error.message) && /If/.test(error.message));
  });
});

interface TinyGraphOptions {
  readonly opset?: number;
  readonly norms?: boolean;
  readonly qkNorm?: boolean;
  readonly merged?: boolean;
}

/** A one-block pre-norm graph for discovery tests (never run): x0 → attn → x1 → mlp → x2 → final norm. */
function tinyGraph(options: TinyGraphOptions): Uint8Array {
  const norms = options.norms ?? true;
  const nodes: onnx.INodeProto[] = [];
  const op = (opType: string, input: string[], output: string[], attribute: onnx.IAttributeProto[] = []): onnx.INodeProto =>
    ({ opType, input, output, name: output[0], attribute });
  const norm = (input: string, output: string): onnx.INodeProto => (norms ? op('LayerNormalization', [input, 'scale'], [output]) : op('Identity', [input], [output]));
  const block: onnx.INodeProto[] = [
    norm('x0', 'n1'),
    op('MatMul', ['n1', 'w'], ['q']),
    ...(options.qkNorm ? [norm('q', 'qn'), op('MatMul', ['n1', 'w'], ['k']), norm('k', 'kn'), op('MatMul', ['qn', 'kn'], ['scores'])] : [op('MatMul', ['q', 'q'], ['scores'])]),
    op('Softmax', ['scores'], ['probs']),
    op('Add', ['x0', 'probs'], ['x1']),
    norm('x1', 'n2'),
    op('MatMul', ['n2', 'w'], ['mlp']),
    op('Add', ['x1', 'mlp'], ['x2']),
    norm('x2', 'nf'),
    op('MatMul', ['nf', 'w'], ['logits']),
  ];
  nodes.push(op('Gather', ['embed', 'input_ids'], ['x0']));
  if (options.merged) {
    const branch = (name: string): onnx.IGraphProto => ({ name, node: block, output: [{ name: 'logits' }] });
    nodes.push(op('If', ['use_cache_branch'], ['logits'], [
      { name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('then') },
      { name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('else') },
    ]));
  } else {
    nodes.push(...block);
  }
  const tensor = (name: string, dims: number[]): onnx.ITensorProto =>
    ({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(4 * dims.reduce((a, b) => a * b, 1)) });
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: options.opset ?? 17 }],
    graph: {
      name: 'tiny',
      node: nodes,
      initializer: [tensor('embed', [4, 2]), tensor('scale', [2]), tensor('w', [2, 2])],
      input: [{ name: 'input_ids' }, ...(options.merged ? [{ name: 'use_cache_branch' }] : [])],
      output: [{ name: 'logits' }],
    },
  }).finish();
}

describe('IsNaN as Not(Equal(x, x))', () => {
  /** x (input of elemType) → IsNaN → y, with an optional Cast to bfloat16 elsewhere in the graph. */
  function isNaNGraph(elemType: number | undefined, castToBfloat16 = false): Uint8Array {
    const T = onnx.TensorProto.DataType;
    return onnx.ModelProto.encode({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'isnan',
        node: [
          { opType: 'Identity', input: ['x'], output: ['h'] },
          { opType: 'IsNaN', input: ['h'], output: ['y'] },
          ...(castToBfloat16 ? [{ opType: 'Cast', input: ['x'], output: ['b'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: T.BFLOAT16 }] }] : []),
        ],
        input: [{ name: 'x', type: { tensorType: { elemType: T.FLOAT, shape: { dim: [{ dimValue: 3 }] } } } }],
        valueInfo: elemType === undefined ? [] : [{ name: 'h', type: { tensorType: { elemType } } }],
        output: [{ name: 'y' }],
      },
    }).finish();
  }

  test('float32 and float16 inputs are rewritten, bfloat16 is not, an unknown type only where no bfloat16 is in the graph', () => {
    const T = onnx.TensorProto.DataType;
    const decide = (bytes: Uint8Array): boolean => {
      const model = parseOnnxModel(bytes);
      return isNaNAsComparison(model)(model.nodes.find((node) => node.opType === 'IsNaN')!);
    };
    assert.equal(decide(isNaNGraph(T.FLOAT)), true);
    assert.equal(decide(isNaNGraph(T.FLOAT16)), true);
    assert.equal(decide(isNaNGraph(T.BFLOAT16)), false);
    assert.equal(decide(isNaNGraph(undefined)), true);
    assert.equal(decide(isNaNGraph(undefined, true)), false);
    assert.equal(decide(isNaNGraph(T.FLOAT, true)), true, 'a known float32 input is rewritten whatever else the graph holds');
  });

  test('Not(Equal(x, x)) gives IsNaN\'s truth values in onnxruntime, for float32 and float16', async () => {
    const T = onnx.TensorProto.DataType;
    for (const [elemType, values] of [[T.FLOAT, Float32Array.from([1, Number.NaN, Infinity, -Infinity, 0, -0])], [T.FLOAT16, undefined]] as const) {
      const graph = (ops: onnx.INodeProto[]): Uint8Array => onnx.ModelProto.encode({
        irVersion: 8, opsetImport: [{ domain: '', version: 17 }],
        graph: {
          name: 'g', node: ops, input: [{ name: 'x', type: { tensorType: { elemType, shape: { dim: [{ dimValue: 6 }] } } } }],
          output: [{ name: 'y', type: { tensorType: { elemType: T.BOOL, shape: { dim: [{ dimValue: 6 }] } } } }],
        },
      }).finish();
      const isNaN = await createSession(graph([{ opType: 'IsNaN', input: ['x'], output: ['y'] }]), { device: 'cpu' });
      const comparison = await createSession(graph([{ opType: 'Equal', input: ['x', 'x'], output: ['e'] }, { opType: 'Not', input: ['e'], output: ['y'] }]), { device: 'cpu' });
      try {
        // float16 as raw bits: 1, NaN, +inf, -inf, 0, -0.
        const input = elemType === T.FLOAT ? new ort.Tensor('float32', values!, [6]) : new ort.Tensor('float16', Uint16Array.from([0x3c00, 0x7e00, 0x7c00, 0xfc00, 0, 0x8000]), [6]);
        const expected = Array.from((await isNaN.session.run({ x: input })).y.data as Uint8Array);
        assert.deepEqual(expected, [0, 1, 0, 0, 0, 0]);
        assert.deepEqual(Array.from((await comparison.session.run({ x: input })).y.data as Uint8Array), expected);
      } finally {
        await isNaN.session.release();
        await comparison.session.release();
      }
    }
  });

  for (const name of ['gpt2-tiny', 'neox-tiny', 'llama-tiny'] as const) {
    test(`${name}: every tapped IsNaN becomes Not(Equal) and the taps still match PyTorch`, async () => {
      const model = await loadTransformerModel(onnxModelDir(name), { device: 'cpu' });
      try {
        const original = parseOnnxModel(fixtureModel(name)).nodes.filter((node) => node.opType === 'IsNaN').length;
        assert.ok(original > 0, 'the fixture has IsNaN nodes (dynamo export)');
        assert.equal(model.rewrite.isNaNRewritten, original);
        const reference = readReference(onnxModelDir(name));
        const output = await model.runBatch(reference.prompts.map((prompt) => ({ ids: prompt.ids, usable: true })));
        assert.ok(maxDeviation(output, reference) < TOLERANCE);
      } finally {
        await model.dispose();
      }
    });
  }
});

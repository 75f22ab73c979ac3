/**
 * A tiny pre-norm "transformer" built in JS whose residual stream carries known targets at chosen layers.
 *
 * Structure (sequential pre-norm, so discovery must find it structurally: 2L+1 LayerNormalization inputs):
 *   h₀ = Gather(E₀, ids)                                   E₀ = noise table (+ planted table if 0 ∈ signalLayers)
 *   block i:  a  = MatMul(Softmax(LN(h) · mask), Z)        Z = 0: an attention-shaped path that adds exactly 0
 *             h' = h + a + Gather(Aᵢ, ids)                  Aᵢ = noise
 *             m  = MatMul(LN(h'), Z)
 *             hᵢ = h' + m + Gather(Bᵢ + (sᵢ − sᵢ₋₁)·P, ids) sᵢ = 1 at signal layers: P is added, later removed
 *   logits = MatMul(LN(h_L), W)
 *
 * Noise tables are zero in the first `targets` dims, P is zero elsewhere, so at a signal layer those dims hold
 * exactly the scaled targets (0 + P is exact in float32) and elsewhere exactly 0. The tokenizer is a WordLevel
 * tokenizer.json with one token per entity (no pre-tokenizer, so "New York" is one token).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { encodeFloat16, float16BitsToFloat32, float32ToFloat16Bits } from '../../src/core/util/float16';

export interface PlantedModelOptions {
  readonly numHiddenLayers?: number;
  readonly hiddenSize?: number;
  readonly seed?: number;
  /** Noise standard deviation in the non-signal dims. */
  readonly noiseScale?: number;
  /** Multiplies the scaled targets (default 1): larger values make ridge shrinkage negligible. */
  readonly signalScale?: number;
  /** Weights and residual stream in float16 (the extractor must cast its outputs to float32). */
  readonly dtype?: 'float32' | 'float16';
}

export interface PlantedModel {
  readonly dir: string;
  readonly numHiddenLayers: number;
  readonly hiddenSize: number;
  /** Token id of each entity. */
  readonly tokenIds: readonly number[];
  /** The planted value of target t for entity k (float32): what dims 0…targets-1 hold at a signal layer. */
  plantedValue(entity: number, target: number): number;
  /** The residual of entity k at layer l (all dims), computed in JS in the graph's order of adds and precision. */
  expectedResidual(entity: number, layer: number): Float32Array;
}

/** Scale targets to O(1): latitude/90, longitude/180, year/1000 (any fixed scale works for a linear probe). */
function scaleTarget(value: number, target: number, targetCount: number, signalScale: number): number {
  return (signalScale * value) / (targetCount === 2 ? (target === 0 ? 90 : 180) : 1000);
}

function seededNormal(seed: number): () => number {
  let state = seed >>> 0 || 1;
  const uniform = (): number => {
    // xorshift32
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return (state + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

function floatTensor(name: string, dims: readonly number[], values: Float32Array, dtype: 'float32' | 'float16'): onnx.ITensorProto {
  const data = dtype === 'float16' ? encodeFloat16(values) : values;
  return {
    name, dims: [...dims], dataType: dtype === 'float16' ? onnx.TensorProto.DataType.FLOAT16 : onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
  };
}

function roundToFloat16(value: number): number {
  return float16BitsToFloat32(float32ToFloat16Bits(value));
}

function int64Tensor(name: string, values: readonly number[]): onnx.ITensorProto {
  const data = BigInt64Array.from(values.map(BigInt));
  return { name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(data.buffer) };
}

function valueInfo(name: string, elemType: number, dims: readonly (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) } } },
  };
}

function node(opType: string, inputs: string[], outputs: string[], attributes: onnx.IAttributeProto[] = []): onnx.INodeProto {
  return { opType, input: inputs, output: outputs, name: `${opType}_${outputs[0]}`, attribute: attributes };
}

/**
 * Write config.json, tokenizer.json and onnx/model.onnx for a planted model into `dir`.
 * @param targets one row per entity: [lat, lon] (space) or [year] (time)
 * @param signalLayers layers (0 = embeddings … L = last block output) whose residual carries the targets
 */
export function buildPlantedModel(dir: string, entities: readonly string[], targets: readonly (readonly number[])[],
  signalLayers: readonly number[], options: PlantedModelOptions = {}): PlantedModel {
  const L = options.numHiddenLayers ?? 4;
  const D = options.hiddenSize ?? 16;
  const targetCount = targets[0]?.length ?? 0;
  if (targets.length !== entities.length || targetCount < 1 || targetCount >= D) throw new Error('buildPlantedModel: bad targets');
  if (new Set(entities).size !== entities.length) throw new Error('buildPlantedModel: entities must be distinct');
  const vocabSize = entities.length + 1; // id 0 = [UNK]
  const tokenIds = entities.map((_, index) => index + 1);
  const normal = seededNormal(options.seed ?? 12345);
  const noiseScale = options.noiseScale ?? 1;
  const dtype = options.dtype ?? 'float32';
  // What the stored tables and every add round to.
  const round = dtype === 'float16' ? roundToFloat16 : Math.fround;
  const signal = (layer: number): number => (signalLayers.includes(layer) ? 1 : 0);

  const planted = new Float32Array(vocabSize * D);
  targets.forEach((row, entity) => row.forEach((value, target) => {
    planted[tokenIds[entity] * D + target] = round(scaleTarget(value, target, targetCount, options.signalScale ?? 1));
  }));
  const noiseTable = (): Float32Array => {
    const table = new Float32Array(vocabSize * D);
    for (let id = 0; id < vocabSize; id++) for (let d = targetCount; d < D; d++) table[id * D + d] = round(normal() * noiseScale);
    return table;
  };
  const withSignal = (table: Float32Array, factor: number): Float32Array => {
    const out = Float32Array.from(table);
    // Noise and signal never share a dim, so the sum is exact in either precision.
    if (factor !== 0) for (let index = 0; index < out.length; index++) out[index] = round(out[index] + factor * planted[index]);
    return out;
  };
  const embedding = withSignal(noiseTable(), signal(0));
  const midTables: Float32Array[] = [];
  const outTables: Float32Array[] = [];
  for (let layer = 1; layer <= L; layer++) {
    midTables.push(noiseTable());
    outTables.push(withSignal(noiseTable(), signal(layer) - signal(layer - 1)));
  }

  const FLOAT = dtype === 'float16' ? onnx.TensorProto.DataType.FLOAT16 : onnx.TensorProto.DataType.FLOAT;
  const initializers: onnx.ITensorProto[] = [
    floatTensor('embed', [vocabSize, D], embedding, dtype),
    floatTensor('ln_scale', [D], new Float32Array(D).fill(1), dtype),
    floatTensor('ln_bias', [D], new Float32Array(D), dtype),
    floatTensor('zero_proj', [D, D], new Float32Array(D * D), dtype),
    floatTensor('lm_head', [D, vocabSize], Float32Array.from({ length: D * vocabSize }, () => normal() * 0.1), dtype),
    int64Tensor('axes_last', [2]),
  ];
  const nodes: onnx.INodeProto[] = [
    node('Gather', ['embed', 'input_ids'], ['h0']),
    node('Cast', ['attention_mask'], ['mask_f'], [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }]),
    node('Unsqueeze', ['mask_f', 'axes_last'], ['mask_3d']),
  ];
  const layerNorm = (input: string, output: string): onnx.INodeProto =>
    node('LayerNormalization', [input, 'ln_scale', 'ln_bias'], [output], [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }]);
  for (let layer = 1; layer <= L; layer++) {
    const h = `h${layer - 1}`;
    initializers.push(floatTensor(`mid_${layer}`, [vocabSize, D], midTables[layer - 1], dtype));
    initializers.push(floatTensor(`out_${layer}`, [vocabSize, D], outTables[layer - 1], dtype));
    nodes.push(
      layerNorm(h, `ln1_${layer}`),
      node('Mul', [`ln1_${layer}`, 'mask_3d'], [`masked_${layer}`]),
      node('Softmax', [`masked_${layer}`], [`attn_probs_${layer}`], [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }]),
      node('MatMul', [`attn_probs_${layer}`, 'zero_proj'], [`attn_${layer}`]),
      node('Add', [h, `attn_${layer}`], [`res_attn_${layer}`]),
      node('Gather', [`mid_${layer}`, 'input_ids'], [`mid_lookup_${layer}`]),
      node('Add', [`res_attn_${layer}`, `mid_lookup_${layer}`], [`mid${layer}`]),
      layerNorm(`mid${layer}`, `ln2_${layer}`),
      node('MatMul', [`ln2_${layer}`, 'zero_proj'], [`mlp_${layer}`]),
      node('Add', [`mid${layer}`, `mlp_${layer}`], [`res_mlp_${layer}`]),
      node('Gather', [`out_${layer}`, 'input_ids'], [`out_lookup_${layer}`]),
      node('Add', [`res_mlp_${layer}`, `out_lookup_${layer}`], [`h${layer}`]),
    );
  }
  nodes.push(layerNorm(`h${L}`, 'ln_f'), node('MatMul', ['ln_f', 'lm_head'], ['logits']));

  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'spacetime-probe planted-signal test model',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'planted',
      node: nodes,
      initializer: initializers,
      input: [valueInfo('input_ids', onnx.TensorProto.DataType.INT64, ['batch_size', 'sequence_length']),
        valueInfo('attention_mask', onnx.TensorProto.DataType.INT64, ['batch_size', 'sequence_length'])],
      output: [valueInfo('logits', FLOAT, ['batch_size', 'sequence_length', vocabSize])],
    },
  };
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), onnx.ModelProto.encode(model).finish());
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'planted', num_hidden_layers: L, hidden_size: D, vocab_size: vocabSize }));
  const vocab: Record<string, number> = { '[UNK]': 0 };
  entities.forEach((entity, index) => { vocab[entity] = tokenIds[index]; });
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({
    version: '1.0', truncation: null, padding: null,
    added_tokens: [{ id: 0, content: '[UNK]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
  }));

  return {
    dir,
    numHiddenLayers: L,
    hiddenSize: D,
    tokenIds,
    plantedValue: (entity, target) => planted[tokenIds[entity] * D + target],
    expectedResidual(entity, layer) {
      const id = tokenIds[entity];
      const h = embedding.slice(id * D, (id + 1) * D);
      for (let block = 1; block <= layer; block++) {
        for (let d = 0; d < D; d++) {
          // Same order as the graph: ((h + 0) + mid) then ((h' + 0) + out), each rounded to the model's precision.
          const mid = round(h[d] + midTables[block - 1][id * D + d]);
          h[d] = round(mid + outTables[block - 1][id * D + d]);
        }
      }
      return h;
    },
  };
}

/**
 * Small runnable transformer graphs built in JS, and perturbations of their layout that must not change which
 * tensors are the residual stream: node order, no-op Casts and Identity chains on any edge, reshape round trips,
 * and the norm forms exporters and onnxruntime's optimiser produce (LayerNormalization, decomposed LayerNorm,
 * decomposed RMSNorm, onnxruntime's ReduceMean → Sub → SimplifiedLayerNormalization for a bias-less LayerNorm,
 * SkipLayerNormalization fused with the residual Add). The ground-truth taps are known by construction.
 */
import { onnx } from 'onnx-proto';

export interface LayoutOptions {
  readonly layers: number;
  readonly hidden: number;
  readonly vocab: number;
  readonly layout: 'sequential' | 'parallel';
  /** Norm form for every norm. */
  readonly norm: 'layernorm' | 'decomposed-layernorm' | 'rmsnorm' | 'centred-simplified' | 'skip';
  /** Shuffle the node order (seeded). */
  readonly shuffle: boolean;
  /** Probability that an edge gets a no-op Cast(to=FLOAT) or an Identity chain inserted. */
  readonly noOpRate: number;
  /** OPT-style: the MLP residual is added in [B·T, D] and reshaped back. */
  readonly flattenMlp: boolean;
  /** OLMo-2-style: no pre-norms, a post-norm on each sub-block output. */
  readonly postNorms: boolean;
  readonly seed: number;
}

export interface LayoutGraph {
  readonly bytes: Uint8Array;
  /** L+1 tensor names whose last-token rows are the boundaries (in the unperturbed graph). */
  readonly taps: readonly string[];
  readonly description: string;
}

type Node = onnx.INodeProto;

export function seededRandom(seed: number): () => number {
  let state = (seed * 2654435761) >>> 0 || 1;
  return () => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state / 4294967296;
  };
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/** Build a graph (its taps are the tensors named in `taps`; perturbations keep those names). */
export function buildLayoutGraph(options: LayoutOptions): LayoutGraph {
  const random = seededRandom(options.seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const D = options.hidden;
  const initializers: onnx.ITensorProto[] = [];
  const weight = (name: string, dims: number[], scale = 0.3, offset = 0): string => {
    const count = dims.reduce((a, b) => a * b, 1);
    const values = new Float32Array(count).map(() => offset + scale * normal());
    initializers.push({ name, dims, dataType: FLOAT, rawData: new Uint8Array(values.buffer) });
    return name;
  };
  const ints = (name: string, values: number[]): string => {
    initializers.push({ name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer) });
    return name;
  };
  const scalar = (name: string, value: number): string => {
    initializers.push({ name, dims: [], dataType: FLOAT, rawData: new Uint8Array(new Float32Array([value]).buffer) });
    return name;
  };
  ints('axes_last', [-1]);
  ints('flat_shape', [-1, D]);
  scalar('eps', 1e-5);
  scalar('two', 2);
  const nodes: Node[] = [];
  let counter = 0;
  const op = (opType: string, inputs: string[], attributes: onnx.IAttributeProto[] = [], outputs?: string[], domain?: string): string[] => {
    const outs = outputs ?? [`t${counter++}`];
    nodes.push({ opType, input: inputs, output: outs, name: `n${counter++}_${opType}`, attribute: attributes, ...(domain ? { domain } : {}) });
    return outs;
  };
  const intAttr = (name: string, i: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });
  const intsAttr = (name: string, values: number[]): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values });

  let normCount = 0;
  /** Normalise x (the residual stream or a sub-block output); `skipWith` fuses `x + skipWith` into the norm. */
  const norm = (x: string): string => {
    const id = normCount++;
    const scale = weight(`norm${id}.w`, [D], 0.2, 1);
    const bias = weight(`norm${id}.b`, [D], 0.2);
    switch (options.norm) {
      case 'layernorm':
      case 'skip':
        return op('LayerNormalization', [x, scale, bias], [intAttr('axis', -1)])[0];
      case 'decomposed-layernorm': {
        const [mean] = op('ReduceMean', [x], [intsAttr('axes', [-1])]);
        const [centred] = op('Sub', [x, mean]);
        const [square] = op('Pow', [centred, 'two']);
        const [variance] = op('ReduceMean', [square], [intsAttr('axes', [-1])]);
        const [std] = op('Sqrt', op('Add', [variance, 'eps']));
        return op('Add', [op('Mul', [op('Div', [centred, std])[0], scale])[0], bias])[0];
      }
      case 'rmsnorm': {
        const [square] = op('Pow', [x, 'two']);
        const [meanSquare] = op('ReduceMean', [square], [intsAttr('axes', [-1])]);
        const [inverse] = op('Reciprocal', op('Sqrt', op('Add', [meanSquare, 'eps'])));
        return op('Mul', [op('Mul', [x, inverse])[0], scale])[0];
      }
      case 'centred-simplified': {
        // onnxruntime's fusion of a bias-less LayerNorm: ReduceMean → Sub(x, mean) → SimplifiedLayerNormalization.
        const [mean] = op('ReduceMean', [x], [intsAttr('axes', [-1])]);
        const [centred] = op('Sub', [x, mean]);
        return op('SimplifiedLayerNormalization', [centred, scale], [intAttr('axis', -1), { name: 'epsilon', type: onnx.AttributeProto.AttributeType.FLOAT, f: 1e-5 }])[0];
      }
    }
  };
  const linear = (x: string, name: string): string => op('MatMul', [x, weight(name, [D, D], 0.3)])[0];
  const attention = (x: string, layer: number): string => {
    const q = linear(x, `l${layer}.q`);
    const k = linear(x, `l${layer}.k`);
    const v = linear(x, `l${layer}.v`);
    const [kT] = op('Transpose', [k], [intsAttr('perm', [0, 2, 1])]);
    const [probs] = op('Softmax', op('MatMul', [q, kT]), [intAttr('axis', -1)]);
    return linear(op('MatMul', [probs, v])[0], `l${layer}.o`);
  };
  const mlp = (x: string, layer: number): string => {
    if (options.flattenMlp) {
      const [flat] = op('Reshape', [x, 'flat_shape']);
      return linear(op('Relu', [linear(flat, `l${layer}.up`)])[0], `l${layer}.down`);
    }
    return linear(op('Relu', [linear(x, `l${layer}.up`)])[0], `l${layer}.down`);
  };
  const pre = (x: string): string => (options.postNorms ? x : norm(x));
  const post = (x: string): string => (options.postNorms ? norm(x) : x);

  const taps: string[] = [];
  const [h0] = op('Gather', [weight('embed', [options.vocab, D], 1), 'input_ids'], [], ['h0']);
  taps.push(h0);
  let h = h0;
  for (let layer = 0; layer < options.layers; layer++) {
    if (options.layout === 'sequential') {
      const [mid] = op('Add', [h, post(attention(pre(h), layer))], [], [`l${layer}.mid`]);
      if (options.flattenMlp) {
        const [flatResidual] = op('Reshape', [mid, 'flat_shape']);
        const [flatSum] = op('Add', [flatResidual, post(mlp(pre(mid), layer))]);
        const [shape] = op('Shape', [mid]);
        h = op('Reshape', [flatSum, shape], [], [`l${layer}.out`])[0];
      } else {
        h = op('Add', [mid, post(mlp(pre(mid), layer))], [], [`l${layer}.out`])[0];
      }
    } else {
      const normed = pre(h);
      const [partial] = op('Add', [h, post(attention(normed, layer))]);
      h = op('Add', [partial, post(mlp(normed, layer))], [], [`l${layer}.out`])[0];
    }
    taps.push(h);
  }
  op('MatMul', [norm(h), weight('unembed', [D, options.vocab], 0.3)], [], ['logits']);

  let graphNodes = nodes;
  if (options.norm === 'skip') graphNodes = fuseSkipNorms(graphNodes, initializers);
  graphNodes = insertNoOps(graphNodes, options.noOpRate, random, new Set(['input_ids', 'logits']));
  if (options.shuffle) graphNodes = shuffled(graphNodes, random);

  const bytes = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }],
    graph: {
      name: 'layout',
      node: graphNodes,
      initializer: initializers,
      input: [{ name: 'input_ids', type: { tensorType: { elemType: INT64, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'tokens' }] } } } }],
      output: [{ name: 'logits', type: { tensorType: { elemType: FLOAT } } }],
    },
  }).finish();
  const description = `${options.layout} L=${options.layers} norm=${options.norm} shuffle=${options.shuffle} noOps=${options.noOpRate} ` +
    `flattenMlp=${options.flattenMlp} postNorms=${options.postNorms} seed=${options.seed}`;
  return { bytes, taps, description };
}

/** Replace Add(x, y) → LayerNormalization(sum) by onnxruntime's SkipLayerNormalization (sum output kept only when read). */
function fuseSkipNorms(nodes: Node[], initializers: onnx.ITensorProto[]): Node[] {
  const readers = new Map<string, Node[]>();
  for (const node of nodes) for (const input of node.input ?? []) readers.set(input, [...(readers.get(input) ?? []), node]);
  const removed = new Set<Node>();
  const result: Node[] = [];
  for (const node of nodes) {
    if (removed.has(node)) continue;
    if (node.opType === 'Add') {
      const sum = node.output![0];
      const norm = (readers.get(sum) ?? []).find((reader) => reader.opType === 'LayerNormalization');
      const others = (readers.get(sum) ?? []).filter((reader) => reader !== norm);
      const isParameter = (name: string): boolean => initializers.some((initializer) => initializer.name === name);
      if (norm && !node.input!.some(isParameter)) {
        removed.add(norm);
        result.push({
          opType: 'SkipLayerNormalization', domain: 'com.microsoft', name: `${node.name}_skip`,
          input: [node.input![0], node.input![1], norm.input![1], norm.input![2]],
          output: others.length > 0 ? [norm.output![0], '', '', sum] : [norm.output![0]],
          attribute: [{ name: 'epsilon', type: onnx.AttributeProto.AttributeType.FLOAT, f: 1e-5 }],
        });
        continue;
      }
    }
    result.push(node);
  }
  return result;
}

/** Insert a no-op Cast(to=FLOAT) or a chain of 1–3 Identity nodes on random float edges (the consumer reads the copy). */
function insertNoOps(nodes: Node[], rate: number, random: () => number, keep: ReadonlySet<string>): Node[] {
  if (rate <= 0) return nodes;
  const floatProducers = new Set<string>();
  for (const node of nodes) {
    if (['Shape', 'Softmax'].includes(node.opType ?? '')) continue;
    for (const output of node.output ?? []) if (output) floatProducers.add(output);
  }
  const result: Node[] = [];
  let counter = 0;
  for (const node of nodes) {
    const inputs = [...(node.input ?? [])];
    inputs.forEach((input, position) => {
      if (!floatProducers.has(input) || keep.has(input) || node.opType === 'Reshape' && position === 1 || random() >= rate) return;
      let current = input;
      if (random() < 0.5) {
        const output = `${input}/cast_${counter++}`;
        result.push({ opType: 'Cast', input: [current], output: [output], name: output, attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }] });
        current = output;
      } else {
        const length = 1 + Math.floor(random() * 3);
        for (let k = 0; k < length; k++) {
          const output = `${input}/identity_${counter++}`;
          result.push({ opType: 'Identity', input: [current], output: [output], name: output });
          current = output;
        }
      }
      inputs[position] = current;
    });
    result.push({ ...node, input: inputs });
  }
  return result;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}

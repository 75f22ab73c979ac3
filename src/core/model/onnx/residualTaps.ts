/**
 * @file Find the residual stream of a decoder-only transformer by graph structure, not by node names.
 *
 * The signature is the residual Add chain itself. Every block adds its sub-blocks' outputs to the stream:
 * x' = x + f(x). Starting from the tensor the final norm reads, each residual sum is split into its terms (nested
 * single-use Adds flattened, onnxruntime's fused Skip*Normalization read as input + skip + bias); the term that is
 * an ancestor of every other term is the stream before that sum, and the walk continues until a sum has no such
 * term (the embeddings: token + position embeddings are independent). That gives every residual-stream tensor in
 * order, S₀ … Sₙ, whatever the norms look like: pre-norm, post-norm (OLMo-2), sandwich norms (Gemma-2/3), q/k
 * norms (Qwen3, OLMo-2), fused or decomposed.
 *
 * Each step Sₖ₋₁ → Sₖ is then classified: it holds attention when its branch has a fused attention op or a MatMul
 * of two tensors that both derive from Sₖ₋₁ (q·kᵀ, probs·v); an MLP step has neither (its MatMuls have weights).
 * - sequential blocks (GPT-2, Llama, Qwen, Gemma, OLMo-2): steps alternate attention, MLP → n = 2L, the boundaries
 *   are S₀, S₂, …, S₂ₗ;
 * - parallel blocks (GPT-NeoX/Pythia, GPT-J, Phi, Falcon, Cohere): one sum per block, each with attention → n = L.
 * L from config.json must agree; without it the pattern decides. Anything else fails loudly, naming the model, what
 * was found, and the override. Value-preserving ops (Identity, Dropout, Cast to the type a tensor already has or a
 * widening float Cast, Reshape/Squeeze/Unsqueeze with identical declared shapes) are seen through, and nothing
 * depends on node order (graphs are not always sorted).
 */
import {
  consumerIndex, elementTypes, intAttribute, OnnxDataType, producerIndex, SHAPE_ONLY_OPS, topologicalOrder,
  type OnnxModel, type OnnxNode,
} from './onnxGraph';
import { ModelLoadError } from '../errors';

export type NormalizationKind =
  | 'LayerNormalization'
  | 'SimplifiedLayerNormalization'
  | 'RMSNormalization'
  | 'SkipLayerNormalization'
  | 'SkipSimplifiedLayerNormalization'
  | 'decomposed RMSNorm'
  | 'decomposed LayerNorm';

/** One normalisation and the residual tensor it reads (value-preserving ops and centring already seen through). */
export interface NormalizationInput {
  /** The tensor normalised (for a fused Skip*Normalization without its sum output: a name to synthesize). */
  readonly tensor: string;
  readonly kind: NormalizationKind;
  readonly nodeIndex: number;
  readonly nodeName: string;
  /** Set when `tensor` does not exist in the graph and must be built as the sum of these tensors. */
  readonly sumOf?: readonly string[];
}

/** A residual tensor the rewrite must build: Add of the addends (a fused input + skip + bias). */
export interface SynthesizedTap {
  readonly name: string;
  readonly addends: readonly string[];
}

export type ResidualLayout = 'sequential' | 'parallel' | 'override';

export interface ResidualTaps {
  /** numHiddenLayers + 1 tensor names: the embedding output, then the output of each block (last one pre-final-norm). */
  readonly taps: readonly string[];
  readonly layout: ResidualLayout;
  readonly numHiddenLayers: number;
  /** Every normalisation input found, in topological order (for explanations and docs). */
  readonly normalizationInputs: readonly NormalizationInput[];
  /** Taps that the rewrite must compute (see NormalizationInput.sumOf); usually empty. */
  readonly synthesized: readonly SynthesizedTap[];
  /** Every residual-stream tensor on the Add chain, S₀ … Sₙ (boundaries and mid-block sums); empty for overrides. */
  readonly chain: readonly string[];
  /** Per chain step Sₖ₋₁ → Sₖ: 'attention' or 'mlp'. */
  readonly steps: readonly ('attention' | 'mlp')[];
}

export interface TapDiscoveryOptions {
  /** L from config.json (num_hidden_layers, n_layer, …); inferred from the graph when undefined. */
  readonly numHiddenLayers?: number;
  /** Used in error messages: the model path or id. */
  readonly modelLabel: string;
}

const DIRECT_NORMS: ReadonlySet<string> = new Set(['LayerNormalization', 'SimplifiedLayerNormalization', 'RMSNormalization']);
const SKIP_NORMS: ReadonlySet<string> = new Set(['SkipLayerNormalization', 'SkipSimplifiedLayerNormalization']);
/** Fused attention ops (onnxruntime contrib ops and ONNX opset 23's Attention). */
const ATTENTION_OPS: ReadonlySet<string> = new Set([
  'Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'PackedAttention', 'PackedMultiHeadAttention',
  'DecoderMaskedMultiHeadAttention', 'DecoderMaskedSelfAttention', 'SparseAttention', 'PagedAttention', 'QAttention',
]);
const MATMUL_OPS: ReadonlySet<string> = new Set(['MatMul', 'Einsum', 'MatMulInteger', 'FusedMatMul']);
const SUM_OPS: ReadonlySet<string> = new Set(['Add', 'Sum']);
const RESHAPES: ReadonlySet<string> = new Set(['Reshape', 'Squeeze', 'Unsqueeze', 'Flatten']);
const FLOAT_RANK: Readonly<Record<number, number>> = {
  [OnnxDataType.FLOAT16]: 1, [OnnxDataType.BFLOAT16]: 1, [OnnxDataType.FLOAT]: 2, [OnnxDataType.DOUBLE]: 3,
};

const OVERRIDE_HINT = 'Override: pass the residual tensor names yourself, in order (embedding output first, then the ' +
  'output of each block), e.g. `--taps name0,name1,…` on the CLI or `taps` in the model options.';

/** Order-independent facts about a graph, shared by the analyses below. */
class GraphFacts {
  readonly producers: Map<string, number>;
  readonly consumers: Map<string, number[]>;
  readonly order: number[];
  /** Topological position of each node index. */
  readonly position: number[];
  readonly types: Map<string, number>;
  /** Tensors whose values come from initializers/Constants only (weights). */
  readonly constant = new Set<string>();
  private readonly ancestorCache = new Map<string, Set<string>>();

  constructor(readonly model: OnnxModel) {
    this.producers = producerIndex(model);
    this.consumers = consumerIndex(model);
    this.order = topologicalOrder(model);
    this.position = new Array<number>(model.nodes.length);
    this.order.forEach((index, position) => { this.position[index] = position; });
    this.types = elementTypes(model, this.order);
    const graphInputs = new Set(model.inputs.map((input) => input.name));
    for (const initializer of model.initializers) if (!graphInputs.has(initializer.name)) this.constant.add(initializer.name);
    for (const index of this.order) {
      const node = model.nodes[index];
      const inputs = [...node.inputs, ...node.outerScopeInputs].filter((name) => name);
      if (inputs.every((input) => this.constant.has(input))) for (const output of node.outputs) if (output) this.constant.add(output);
    }
  }

  producer(tensor: string): OnnxNode | undefined {
    const index = this.producers.get(tensor);
    return index === undefined ? undefined : this.model.nodes[index];
  }

  /** Inputs whose values the node's outputs depend on (a Shape reads no values). */
  valueInputs(node: OnnxNode): string[] {
    if (SHAPE_ONLY_OPS.has(node.opType)) return [];
    return [...node.inputs, ...node.outerScopeInputs].filter((name) => name);
  }

  /** Whether `node` passes its first input through unchanged in value (up to a widening float conversion). */
  isValuePreserving(node: OnnxNode): boolean {
    const input = node.inputs[0];
    if (!input) return false;
    if (node.opType === 'Identity' || node.opType === 'Dropout') return true;
    if (node.opType === 'Cast') {
      const from = this.types.get(input);
      const to = intAttribute(node, 'to', 0);
      if (from === to) return true;
      return from !== undefined && FLOAT_RANK[from] !== undefined && FLOAT_RANK[to] !== undefined && FLOAT_RANK[to] > FLOAT_RANK[from]
        && !(from === OnnxDataType.BFLOAT16 && to === OnnxDataType.FLOAT16);
    }
    // Reshapes move no values; the rewrite brings every tap back to [batch, tokens, hidden] (OPT adds in [B·T, D]).
    if (RESHAPES.has(node.opType)) return true;
    // A quantize-dequantize pair (QDQ-quantized graphs) is the same value up to quantisation error.
    if (node.opType === 'DequantizeLinear') return this.producer(input)?.opType === 'QuantizeLinear';
    return false;
  }

  /** Follow value-preserving ops back to the tensor they copy. */
  canonical(tensor: string): string {
    let current = tensor;
    for (let guard = 0; guard < 64; guard++) {
      const producer = this.producer(current);
      if (!producer || !this.isValuePreserving(producer) || producer.outputs[0] !== current) break;
      current = producer.opType === 'DequantizeLinear' ? this.producer(producer.inputs[0])!.inputs[0] : producer.inputs[0];
    }
    return current;
  }

  /** `tensor` and every copy of it made by value-preserving ops downstream. */
  copies(tensor: string): string[] {
    const found = [tensor];
    for (let index = 0; index < found.length; index++) {
      for (const consumer of this.consumers.get(found[index]) ?? []) {
        const node = this.model.nodes[consumer];
        if (node.inputs[0] === found[index] && this.isValuePreserving(node) && node.outputs[0] && !found.includes(node.outputs[0])) {
          found.push(node.outputs[0]);
        }
      }
    }
    return found;
  }

  /**
   * Where a term's values come from, for ancestry tests: canonical, then through DequantizeLinear (dynamic int8
   * quantisation gathers the embedding from the quantised table and lets the first block read the quantised rows).
   */
  source(tensor: string): string {
    let current = this.canonical(tensor);
    for (let guard = 0; guard < 8; guard++) {
      const producer = this.producer(current);
      if (producer?.opType !== 'DequantizeLinear' || !producer.inputs[0]) break;
      current = this.canonical(producer.inputs[0]);
    }
    return current;
  }

  /** Every tensor whose value `tensor` depends on (itself included), through value edges. */
  ancestors(tensor: string): Set<string> {
    const cached = this.ancestorCache.get(tensor);
    if (cached) return cached;
    const seen = new Set<string>([tensor]);
    const stack = [tensor];
    while (stack.length > 0) {
      const producer = this.producer(stack.pop()!);
      if (!producer) continue;
      // A fused Skip*Normalization's normalised output is a function of its sum output (output 3).
      const sum = SKIP_NORMS.has(producer.opType) ? producer.outputs[3] : undefined;
      for (const input of [...this.valueInputs(producer), ...(sum ? [sum] : [])]) {
        if (!seen.has(input)) { seen.add(input); stack.push(input); }
      }
    }
    if (this.ancestorCache.size > 64) this.ancestorCache.clear();
    this.ancestorCache.set(tensor, seen);
    return seen;
  }

  /**
   * Whether `tensor`'s value depends on `source` (or is it). Same as ancestors(tensor).has(source), but the search
   * stops at producers placed before `source`'s in topological order, which cannot depend on it.
   */
  dependsOn(tensor: string, source: string): boolean {
    if (tensor === source) return true;
    const floor = this.positionOf(source);
    const seen = new Set<string>([tensor]);
    const stack = [tensor];
    while (stack.length > 0) {
      const producer = this.producer(stack.pop()!);
      if (!producer || this.position[producer.index] < floor) continue;
      const sum = SKIP_NORMS.has(producer.opType) ? producer.outputs[3] : undefined;
      for (const input of [...this.valueInputs(producer), ...(sum ? [sum] : [])]) {
        if (input === source) return true;
        if (!seen.has(input)) { seen.add(input); stack.push(input); }
      }
    }
    return false;
  }

  /** Topological position of the node producing `tensor` (-1 for inputs and initializers). */
  positionOf(tensor: string): number {
    const index = this.producers.get(tensor);
    return index === undefined ? -1 : this.position[index];
  }
}

/** The tensor a normalisation normalises, seeing through copies and the centring x − mean(x) of a split LayerNorm. */
function normalisedTensor(facts: GraphFacts, input: string): string {
  const tensor = facts.canonical(input);
  const producer = facts.producer(tensor);
  if (producer?.opType === 'Sub' && producer.inputs[0] && producer.inputs[1]) {
    // onnxruntime fuses a bias-less LayerNorm into ReduceMean → Sub(x, mean) → SimplifiedLayerNormalization.
    const mean = facts.producer(facts.canonical(producer.inputs[1]));
    if (mean?.opType === 'ReduceMean' && facts.canonical(mean.inputs[0] ?? '') === facts.canonical(producer.inputs[0])) {
      return facts.canonical(producer.inputs[0]);
    }
  }
  return tensor;
}

function skipAddends(node: OnnxNode): string[] {
  const biasIndex = node.opType === 'SkipLayerNormalization' ? 4 : 3;
  return [node.inputs[0], node.inputs[1], node.inputs[biasIndex] ?? ''].filter((name) => name);
}

function findNormalizations(facts: GraphFacts): NormalizationInput[] {
  const { model } = facts;
  const found: NormalizationInput[] = [];
  for (const index of facts.order) {
    const node = model.nodes[index];
    const record = (tensor: string, kind: NormalizationKind): void => {
      found.push({ tensor, kind, nodeIndex: node.index, nodeName: node.name });
    };
    if (DIRECT_NORMS.has(node.opType) && node.inputs[0]) {
      record(normalisedTensor(facts, node.inputs[0]), node.opType as NormalizationKind);
    } else if (SKIP_NORMS.has(node.opType)) {
      // Output 3 is input + skip (+ bias): the residual stream after the add this op fused. onnxruntime's
      // optimiser drops it where nothing else reads it (the final norm); then we rebuild the sum ourselves.
      if (node.outputs[3]) {
        record(node.outputs[3], node.opType as NormalizationKind);
      } else {
        found.push({ tensor: `spacetime_probe/skip_sum_${node.index}`, kind: node.opType as NormalizationKind,
          nodeIndex: node.index, nodeName: node.name, sumOf: skipAddends(node) });
      }
    } else if (node.opType === 'ReduceMean' && node.inputs[0]) {
      const reduced = facts.canonical(node.inputs[0]);
      const squarer = facts.producer(reduced);
      const isSquare = squarer !== undefined && (
        squarer.opType === 'Pow' || (squarer.opType === 'Mul' && facts.canonical(squarer.inputs[0]) === facts.canonical(squarer.inputs[1])));
      if (isSquare && squarer.inputs[0]) {
        // mean(x²) is RMSNorm unless x is itself a centred value (x - mean): that is LayerNorm's variance.
        const source = facts.canonical(squarer.inputs[0]);
        if (facts.producer(source)?.opType !== 'Sub') record(source, 'decomposed RMSNorm');
        continue;
      }
      // LayerNorm's mean: the same x is then centred by Sub(x, mean).
      const means = new Set(facts.copies(node.outputs[0]));
      const centred = model.nodes.some((candidate) => candidate.opType === 'Sub' && means.has(candidate.inputs[1]) &&
        facts.canonical(candidate.inputs[0]) === reduced);
      if (centred) record(reduced, 'decomposed LayerNorm');
    }
  }
  return found;
}

/** Record the input of every normalisation, in topological order. */
export function findNormalizationInputs(model: OnnxModel): NormalizationInput[] {
  return findNormalizations(new GraphFacts(model));
}

function dedupe(inputs: readonly NormalizationInput[]): NormalizationInput[] {
  const seen = new Set<string>();
  const unique: NormalizationInput[] = [];
  for (const input of inputs) {
    if (input.tensor && seen.has(input.tensor)) continue;
    if (input.tensor) seen.add(input.tensor);
    unique.push(input);
  }
  return unique;
}

function describe(inputs: readonly NormalizationInput[], limit = 8): string {
  const shown = inputs.slice(0, limit).map((input) => `${input.sumOf ? `(${input.sumOf.join(' + ')})` : input.tensor} [${input.kind}]`);
  return shown.join(', ') + (inputs.length > limit ? `, … (${inputs.length - limit} more)` : '');
}

/** A residual-stream tensor: a real tensor, or a fused sum we must rebuild. */
interface StreamTensor {
  readonly name: string;
  readonly sumOf?: readonly string[];
  /** For a rebuilt sum: the fused node whose inputs it adds. */
  readonly node?: number;
}

/** The final norm's input: the normalised tensor that every other normalisation's input feeds. */
function finalStream(facts: GraphFacts, norms: readonly NormalizationInput[], label: string, fail: (why: string[]) => never): StreamTensor {
  const unique = dedupe(norms);
  const position = (input: NormalizationInput): number =>
    input.sumOf ? Math.max(...input.sumOf.map((name) => facts.positionOf(name))) + 0.5 : facts.positionOf(input.tensor);
  let last = unique[0];
  for (const input of unique) if (position(input) > position(last)) last = input;
  const reach = new Set<string>();
  for (const name of last.sumOf ?? [last.tensor]) for (const tensor of facts.ancestors(name)) reach.add(tensor);
  const outside = unique.filter((input) => input !== last && !(input.sumOf ?? [input.tensor]).every((name) => reach.has(name)));
  if (outside.length > 0) {
    fail([`The last normalisation (${last.nodeName || last.kind}, reading ${last.sumOf ? `(${last.sumOf.join(' + ')})` : last.tensor}) ` +
      `does not depend on every other one: ${describe(outside, 4)} ${outside.length === 1 ? 'is' : 'are'} not upstream of it, so ` +
      `it cannot be told which normalisation is the final norm of ${label}.`]);
  }
  const stream: StreamTensor = last.sumOf ? { name: last.tensor, sumOf: last.sumOf, node: last.nodeIndex } : { name: last.tensor };
  // The last stream tensor feeds the final norm only: a residual sum reading it means the final norm was not found.
  const sums = stream.sumOf ? [] : facts.copies(stream.name).flatMap((copy) => facts.consumers.get(copy) ?? [])
    .map((index) => facts.model.nodes[index])
    .filter((node) => SUM_OPS.has(node.opType) || (SKIP_NORMS.has(node.opType) && (node.inputs[0] !== undefined)));
  const residualReaders = sums.filter((node) => !(SKIP_NORMS.has(node.opType) && node.index === last.nodeIndex));
  if (residualReaders.length > 0) {
    fail([`The last normalisation found (${last.nodeName || last.kind}) reads ${stream.name}, but ${residualReaders[0].opType} ` +
      `"${residualReaders[0].name}" adds to that tensor: it is not the final norm, whose form was not recognised in ${label}.`]);
  }
  return stream;
}

/** The terms of a residual sum: nested single-use Adds are flattened, a fused Skip*Normalization is input + skip + bias. */
function sumTerms(facts: GraphFacts, stream: StreamTensor): string[] | undefined {
  let terms: string[];
  let owner: number | undefined;
  if (stream.sumOf) {
    terms = [...stream.sumOf];
    owner = stream.node;
  } else {
    const producer = facts.producer(stream.name);
    if (!producer) return undefined;
    if (SUM_OPS.has(producer.opType)) terms = producer.inputs.filter((name) => name);
    else if (SKIP_NORMS.has(producer.opType) && producer.outputs[3] === stream.name) terms = skipAddends(producer);
    else return undefined;
    owner = producer.index;
  }
  const graphOutputs = new Set(facts.model.outputs.map((output) => output.name));
  const flat: string[] = [];
  const expand = (term: string, reader: number | undefined): void => {
    // A partial sum (x + attn, then + mlp) read by this sum only, possibly through copies, is flattened into it.
    const inner = facts.canonical(term);
    const producer = facts.producer(inner);
    const copies = facts.copies(inner);
    const readers = copies.flatMap((copy) => facts.consumers.get(copy) ?? [])
      .filter((index) => !(facts.isValuePreserving(facts.model.nodes[index]) && copies.includes(facts.model.nodes[index].outputs[0])));
    const singleUse = reader !== undefined && readers.length === 1 && readers[0] === reader;
    if (producer && SUM_OPS.has(producer.opType) && singleUse && !copies.some((copy) => graphOutputs.has(copy))) {
      for (const input of producer.inputs) if (input) expand(input, producer.index);
    } else {
      flat.push(term);
    }
  };
  for (const term of terms) expand(term, owner);
  return flat.filter((term) => !facts.constant.has(term));
}

/**
 * The stream before a residual sum: the term that another term derives from while no term is upstream of it
 * (x in x + f(x) + g, where g may be independent of x), or undefined when there is none (the embeddings: token and
 * position embeddings are independent of each other).
 */
function previousStream(facts: GraphFacts, stream: StreamTensor): StreamTensor | undefined {
  const terms = sumTerms(facts, stream);
  if (!terms || terms.length < 2) return undefined;
  const candidates = new Set<string>();
  for (const term of terms) {
    const source = facts.source(term);
    const others = terms.filter((other) => other !== term);
    const feedsAnother = others.some((other) => facts.dependsOn(other, source));
    const downstreamOfAnother = others.some((other) => facts.canonical(other) !== facts.canonical(term) && facts.dependsOn(term, facts.source(other)));
    if (feedsAnother && !downstreamOfAnother) candidates.add(facts.canonical(term));
  }
  if (candidates.size !== 1) return undefined;
  return { name: [...candidates][0] };
}

type StepKind = 'attention' | 'mlp';

/**
 * What the branch Sₖ₋₁ → Sₖ holds: `strong` when it has a fused attention op or a MatMul of two tensors both derived
 * from Sₖ₋₁ (q·kᵀ, probs·v), `softmax` when it has a Softmax of a tensor derived from Sₖ₋₁ (also MoE routers).
 */
function classifyStep(facts: GraphFacts, before: StreamTensor, after: StreamTensor): { strong: boolean; softmax: boolean } {
  const { model } = facts;
  // Nodes downstream of Sₖ₋₁ (value edges only).
  const downstream = new Set<string>(before.sumOf ?? [before.name]);
  // Dynamic int8 quantisation may let the block read the quantised embedding rows instead of their dequantised copy.
  if (!before.sumOf) for (const copy of facts.copies(facts.source(before.name))) downstream.add(copy);
  const producer = before.sumOf ? undefined : facts.producer(before.name);
  if (producer && SKIP_NORMS.has(producer.opType) && producer.outputs[3] === before.name) {
    // The block reads the normalised output of the Skip*Normalization that produced the sum.
    for (const output of producer.outputs) if (output) downstream.add(output);
  }
  // The branch lies between Sₖ₋₁ and Sₖ in topological order: nothing placed after Sₖ's producer can feed it.
  const ceiling = Math.max(...(after.sumOf ?? [after.name]).map((name) => facts.positionOf(name)), after.node !== undefined ? facts.position[after.node] : -1);
  const reachedNodes = new Set<number>();
  const stack = [...downstream];
  while (stack.length > 0) {
    const tensor = stack.pop()!;
    for (const index of facts.consumers.get(tensor) ?? []) {
      const node = model.nodes[index];
      if (SHAPE_ONLY_OPS.has(node.opType) || reachedNodes.has(index) || facts.position[index] > ceiling) continue;
      reachedNodes.add(index);
      for (const output of node.outputs) if (output && !downstream.has(output)) { downstream.add(output); stack.push(output); }
    }
  }
  // Tensors Sₖ depends on, searched back only as far as Sₖ₋₁'s producer.
  const floor = Math.min(...(before.sumOf ?? [before.name]).map((name) => facts.positionOf(name)));
  const upstream = new Set<string>(after.sumOf ?? [after.name]);
  const pending = [...upstream];
  while (pending.length > 0) {
    const producer = facts.producer(pending.pop()!);
    if (!producer || facts.position[producer.index] < floor) continue;
    const sum = SKIP_NORMS.has(producer.opType) ? producer.outputs[3] : undefined;
    for (const input of [...facts.valueInputs(producer), ...(sum ? [sum] : [])]) {
      if (!upstream.has(input)) { upstream.add(input); pending.push(input); }
    }
  }
  let strong = false;
  let softmax = false;
  for (const index of reachedNodes) {
    const node = model.nodes[index];
    if (!node.outputs.some((output) => upstream.has(output))) continue;
    if (ATTENTION_OPS.has(node.opType)) strong = true;
    else if (MATMUL_OPS.has(node.opType)) {
      const operands = node.opType === 'Einsum' ? node.inputs : node.inputs.slice(0, 2);
      if (operands.length >= 2 && operands.every((operand) => operand && downstream.has(operand))) strong = true;
    } else if (node.opType === 'Softmax') softmax = true;
  }
  return { strong, softmax };
}

function fitLayout(steps: readonly StepKind[], L: number | undefined): Exclude<ResidualLayout, 'override'> | undefined {
  const sequential = steps.length > 0 && steps.length % 2 === 0 && steps.every((step, k) => step === (k % 2 === 0 ? 'attention' : 'mlp'));
  const parallel = steps.length > 0 && steps.every((step) => step === 'attention');
  if (sequential && (L === undefined || steps.length === 2 * L)) return 'sequential';
  if (parallel && (L === undefined || steps.length === L)) return 'parallel';
  return undefined;
}

/** Find the L+1 block-boundary tensors of the residual stream, or throw a ModelLoadError that says why not. */
export function discoverResidualTaps(model: OnnxModel, options: TapDiscoveryOptions): ResidualTaps {
  const facts = new GraphFacts(model);
  const all = findNormalizations(facts);
  const L = options.numHiddenLayers;
  const label = options.modelLabel;

  const hidden = model.nodes.filter((node) => node.subgraphNodeCount > 0);
  const fail = (why: readonly string[]): never => {
    const details = [...why];
    if (all.length > 0) details.push(`Normalisation inputs found (${all.length}, ${dedupe(all).length} distinct): ${describe(dedupe(all))}.`);
    if (hidden.length > 0) details.push(mergedDecoderExplanation(hidden));
    details.push(OVERRIDE_HINT);
    throw new ModelLoadError(`Cannot find the residual stream in ${label}.`, details);
  };
  if (all.length === 0) {
    fail(['No normalisation found: no LayerNormalization/SimplifiedLayerNormalization/RMSNormalization/' +
      'Skip*Normalization op, and no decomposed RMSNorm (ReduceMean(Pow(x))) or LayerNorm (ReduceMean(x) with Sub(x, mean)).']);
  }

  // Walk the residual Add chain back from the final norm's input.
  const chain: StreamTensor[] = [finalStream(facts, all, label, fail)];
  for (let guard = 0; guard < 100_000; guard++) {
    const previous = previousStream(facts, chain[0]);
    if (!previous || chain.some((entry) => entry.name === previous.name)) break;
    chain.unshift(previous);
  }
  const kinds = chain.slice(1).map((after, k) => classifyStep(facts, chain[k], after));
  // Attention by its matrix products first; a Softmax on the stream's path only when that does not fit.
  let steps: StepKind[] = kinds.map((kind) => (kind.strong ? 'attention' : 'mlp'));
  let layout = fitLayout(steps, L);
  if (!layout) {
    const weak: StepKind[] = kinds.map((kind) => (kind.strong || kind.softmax ? 'attention' : 'mlp'));
    layout = fitLayout(weak, L);
    if (layout) steps = weak;
  }
  const names = chain.map((entry) => entry.sumOf ? `(${entry.sumOf.join(' + ')})` : entry.name);
  const pattern = steps.map((step) => (step === 'attention' ? 'A' : 'M')).join('') || '(none)';
  if (!layout) {
    const shown = names.length > 9 ? [...names.slice(0, 4), '…', ...names.slice(-4)] : names;
    const why = [`The residual Add chain ending at the final norm's input has ${chain.length} tensor(s) ` +
      `(${shown.join(' → ')}); its ${steps.length} step(s) hold attention (A) or not (M): ${pattern}.`];
    if (L !== undefined) {
      why.push(`config.json says ${L} layers, so sequential blocks should give ${2 * L} steps alternating AM (2L+1 tensors) ` +
        `and parallel-residual blocks ${L} steps all A (L+1 tensors).`);
    } else {
      why.push('The number of layers is unknown (no config.json with num_hidden_layers/n_layer next to the model), and the ' +
        'pattern matches neither sequential (AMAM…) nor parallel (AA…) blocks.');
    }
    why.push('Models whose blocks add to the stream in other ways (post-norm models that normalise the sum itself, ' +
      'encoder-decoders) are not recognised automatically.');
    fail(why);
  }
  const boundaries = layout === 'sequential' ? chain.filter((_, index) => index % 2 === 0) : chain;
  return {
    taps: boundaries.map((entry) => entry.name),
    layout: layout!,
    numHiddenLayers: boundaries.length - 1,
    normalizationInputs: all,
    synthesized: boundaries.filter((entry) => entry.sumOf).map((entry) => ({ name: entry.name, addends: entry.sumOf! })),
    chain: chain.map((entry) => entry.name),
    steps,
  };
}

function mergedDecoderExplanation(hidden: readonly OnnxNode[]): string {
  const names = hidden.slice(0, 3).map((node) => `${node.opType} "${node.name}"`).join(', ');
  return `The graph has control-flow nodes with subgraphs (${names}). A merged decoder (decoder_model_merged.onnx, an If ` +
    'on use_cache_branch) is inlined by loadTransformerModel before discovery; other subgraphs cannot be tapped. ' +
    'Use a single-graph export (model.onnx or decoder_model.onnx) if this is not such a merged decoder.';
}

/** Check user-supplied tap names: each must be a tensor the graph produces (or an input), and the count must fit L. */
export function validateTapOverride(model: OnnxModel, taps: readonly string[], options: TapDiscoveryOptions): ResidualTaps {
  const known = new Set<string>([
    ...model.nodes.flatMap((node) => node.outputs),
    ...model.inputs.map((input) => input.name),
    ...model.initializers.map((initializer) => initializer.name),
  ]);
  const missing = taps.filter((tap) => !known.has(tap));
  const all = findNormalizationInputs(model);
  if (taps.length < 1 || missing.length > 0) {
    throw new ModelLoadError(`Tap override for ${options.modelLabel} names tensors that are not in the graph: ` +
      `${missing.map((name) => JSON.stringify(name)).join(', ') || '(none given)'}.`, [
      `Normalisation inputs found in this graph (likely candidates): ${describe(dedupe(all), 12)}.`]);
  }
  const L = options.numHiddenLayers;
  if (L !== undefined && taps.length !== L + 1) {
    throw new ModelLoadError(`Tap override for ${options.modelLabel} has ${taps.length} names; config.json says ` +
      `${L} layers, so ${L + 1} are needed (embedding output + one per block).`);
  }
  return { taps: [...taps], layout: 'override', numHiddenLayers: taps.length - 1, normalizationInputs: all, synthesized: [], chain: [], steps: [] };
}

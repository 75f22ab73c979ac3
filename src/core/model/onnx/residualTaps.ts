/**
 * @file Find the residual stream of a decoder-only transformer by graph structure, not by node names.
 *
 * Every pre-norm transformer normalises the residual stream before each sub-block and once more before the LM
 * head, so the tensors read by normalisations are exactly the residual stream at known points:
 *
 * - sequential blocks (GPT-2, Llama, Qwen2, Mistral): x → norm → attention → x' = x + attn → norm → MLP → x'' = x' + mlp.
 *   Recording every normalisation input and deduplicating gives 2L+1 tensors: embeddings, mid-block, block output,
 *   …, last block output (= input of the final norm). The even positions are the L+1 block boundaries.
 * - parallel blocks (GPT-NeoX/Pythia, GPT-J, Phi): x' = x + attn(norm₁(x)) + mlp(norm₂(x)). Both norms read x, so
 *   deduplication gives L+1 tensors, all boundaries.
 *
 * L comes from config.json. When it is unknown, the layout is inferred from where the attention ops (Softmax or a
 * fused attention op) sit between consecutive recorded tensors: every gap holds one in a parallel model, every
 * other gap in a sequential one. Anything else fails loudly, naming what was found and how to override.
 */
import { consumerIndex, producerIndex, type OnnxModel, type OnnxNode } from './onnxGraph';
import { ModelLoadError } from '../errors';

export type NormalizationKind =
  | 'LayerNormalization'
  | 'SimplifiedLayerNormalization'
  | 'RMSNormalization'
  | 'SkipLayerNormalization'
  | 'SkipSimplifiedLayerNormalization'
  | 'decomposed RMSNorm'
  | 'decomposed LayerNorm';

/** One normalisation and the residual tensor it reads (Cast chains already followed back). */
export interface NormalizationInput {
  /** The residual tensor (for a fused Skip*Normalization without its sum output: a name to synthesize). */
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
  /** Every normalisation input found, in node order (for explanations and docs). */
  readonly normalizationInputs: readonly NormalizationInput[];
  /** Taps that the rewrite must compute (see NormalizationInput.sumOf); usually empty. */
  readonly synthesized: readonly SynthesizedTap[];
}

export interface TapDiscoveryOptions {
  /** L from config.json (num_hidden_layers, n_layer, …); inferred from the graph when undefined. */
  readonly numHiddenLayers?: number;
  /** Used in error messages: the model path or id. */
  readonly modelLabel: string;
}

const DIRECT_NORMS: ReadonlySet<string> = new Set(['LayerNormalization', 'SimplifiedLayerNormalization', 'RMSNormalization']);
const SKIP_NORMS: ReadonlySet<string> = new Set(['SkipLayerNormalization', 'SkipSimplifiedLayerNormalization']);
const ATTENTION_OPS: ReadonlySet<string> = new Set([
  'Softmax', 'Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'PackedAttention', 'PackedMultiHeadAttention',
  'DecoderMaskedMultiHeadAttention', 'DecoderMaskedSelfAttention', 'SparseAttention', 'PagedAttention',
]);
/** Ops that pass the residual through unchanged in value (dtype casts, identities). */
const PASS_THROUGH: ReadonlySet<string> = new Set(['Cast', 'Identity']);

const OVERRIDE_HINT = 'Override: pass the residual tensor names yourself, in order (embedding output first, then the ' +
  'output of each block), e.g. `--taps name0,name1,…` on the CLI or `taps` in the model options.';

/** Record the input of every normalisation, in node order. */
export function findNormalizationInputs(model: OnnxModel): NormalizationInput[] {
  const producers = producerIndex(model);
  const consumers = consumerIndex(model);
  const nodes = model.nodes;
  const producerOf = (tensor: string): OnnxNode | undefined => {
    const index = producers.get(tensor);
    return index === undefined ? undefined : nodes[index];
  };
  const throughCasts = (tensor: string): string => {
    let current = tensor;
    for (let guard = 0; guard < 16; guard++) {
      const producer = producerOf(current);
      if (!producer || !PASS_THROUGH.has(producer.opType) || !producer.inputs[0]) break;
      current = producer.inputs[0];
    }
    return current;
  };
  const found: NormalizationInput[] = [];
  for (const node of nodes) {
    const record = (tensor: string, kind: NormalizationKind): void => {
      found.push({ tensor, kind, nodeIndex: node.index, nodeName: node.name });
    };
    if (DIRECT_NORMS.has(node.opType) && node.inputs[0]) {
      record(throughCasts(node.inputs[0]), node.opType as NormalizationKind);
    } else if (SKIP_NORMS.has(node.opType)) {
      // Output 3 is input + skip (+ bias): the residual stream after the add this op fused. onnxruntime's
      // optimiser drops it where nothing else reads it (the final norm); then we rebuild the sum ourselves.
      if (node.outputs[3]) {
        record(node.outputs[3], node.opType as NormalizationKind);
      } else {
        const biasIndex = node.opType === 'SkipLayerNormalization' ? 4 : 3;
        const addends = [node.inputs[0], node.inputs[1], node.inputs[biasIndex] ?? ''].filter((name) => name);
        found.push({ tensor: `spacetime_probe/skip_sum_${node.index}`, kind: node.opType as NormalizationKind,
          nodeIndex: node.index, nodeName: node.name, sumOf: addends });
      }
    } else if (node.opType === 'ReduceMean' && node.inputs[0]) {
      const reduced = node.inputs[0];
      const squarer = producerOf(reduced);
      const isSquare = squarer !== undefined && (
        squarer.opType === 'Pow' || (squarer.opType === 'Mul' && squarer.inputs[0] === squarer.inputs[1]));
      if (isSquare && squarer.inputs[0]) {
        // mean(x²) is RMSNorm unless x is itself a centred value (x - mean): that is LayerNorm's variance.
        const source = throughCasts(squarer.inputs[0]);
        if (producerOf(source)?.opType !== 'Sub') record(source, 'decomposed RMSNorm');
        continue;
      }
      // LayerNorm's mean: the same x is then centred by Sub(x, mean).
      const mean = node.outputs[0];
      const centred = (consumers.get(reduced) ?? []).some((index) => {
        const consumer = nodes[index];
        return consumer.opType === 'Sub' && consumer.inputs[0] === reduced && consumer.inputs[1] === mean;
      });
      if (centred) record(throughCasts(reduced), 'decomposed LayerNorm');
    }
  }
  return found;
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

/**
 * Drop normalisation inputs that are not on the residual path: the residual stream is always read by an Add (the
 * next residual connection) or is the output of a fused Skip*Normalization, except the last one (read by the final
 * norm only). This removes q/k norms (Qwen3, OLMo-2) and post-sublayer norms (Gemma-2/3), which normalise
 * sub-block outputs, not the stream.
 */
function residualPathOnly(model: OnnxModel, inputs: readonly NormalizationInput[]): NormalizationInput[] {
  const consumers = consumerIndex(model);
  return inputs.filter((input, position) => {
    if (position === inputs.length - 1 || SKIP_NORMS.has(input.kind)) return true;
    return (consumers.get(input.tensor) ?? []).some((index) => {
      const op = model.nodes[index].opType;
      return op === 'Add' || op === 'Sum' || SKIP_NORMS.has(op);
    });
  });
}

/** Number of attention ops between the producers of consecutive tensors (node order is topological). */
function attentionBetween(model: OnnxModel, inputs: readonly NormalizationInput[]): number[] {
  const producers = producerIndex(model);
  // A synthesized sum stands where its fused normalisation is.
  const positions = inputs.map((input) => producers.get(input.tensor) ?? (input.sumOf ? input.nodeIndex : -1));
  const counts: number[] = [];
  for (let k = 0; k + 1 < positions.length; k++) {
    let count = 0;
    for (let index = positions[k] + 1; index < positions[k + 1] && index < model.nodes.length; index++) {
      if (index >= 0 && ATTENTION_OPS.has(model.nodes[index].opType)) count++;
    }
    counts.push(count);
  }
  return counts;
}

function describe(inputs: readonly NormalizationInput[], limit = 8): string {
  const shown = inputs.slice(0, limit).map((input) => `${input.sumOf ? `(${input.sumOf.join(' + ')})` : input.tensor} [${input.kind}]`);
  return shown.join(', ') + (inputs.length > limit ? `, … (${inputs.length - limit} more)` : '');
}

/** Find the L+1 block-boundary tensors of the residual stream, or throw a ModelLoadError that says why not. */
export function discoverResidualTaps(model: OnnxModel, options: TapDiscoveryOptions): ResidualTaps {
  const all = findNormalizationInputs(model);
  const L = options.numHiddenLayers;
  const label = options.modelLabel;

  const hidden = model.nodes.filter((node) => node.subgraphNodeCount > 0);
  if (all.length === 0) {
    const details = ['No normalisation found: no LayerNormalization/SimplifiedLayerNormalization/RMSNormalization/' +
      'Skip*Normalization op, and no decomposed RMSNorm (ReduceMean(Pow(x))) or LayerNorm (ReduceMean(x) with Sub(x, mean)).'];
    if (hidden.length > 0) details.push(mergedDecoderExplanation(hidden));
    details.push(OVERRIDE_HINT);
    throw new ModelLoadError(`Cannot find the residual stream in ${label}.`, details);
  }
  const candidates = [dedupe(all)];
  const filtered = residualPathOnly(model, candidates[0]);
  if (filtered.length !== candidates[0].length) candidates.push(filtered);

  for (const unique of candidates) {
    const tensors = unique.map((input) => input.tensor);
    if (L !== undefined) {
      if (tensors.length === 2 * L + 1) {
        return withSynthesized({ taps: tensors.filter((_, index) => index % 2 === 0), layout: 'sequential', numHiddenLayers: L }, all);
      }
      if (tensors.length === L + 1) {
        return withSynthesized({ taps: tensors, layout: 'parallel', numHiddenLayers: L }, all);
      }
      continue;
    }
    const inferred = inferLayout(model, unique);
    if (inferred) return withSynthesized(inferred, all);
  }

  const unique = candidates[0];
  const details: string[] = [
    `Found ${all.length} normalisation input(s), ${unique.length} distinct` +
      (candidates.length > 1 ? ` (${candidates[1].length} on the residual path)` : '') + `: ${describe(unique)}.`,
  ];
  if (L !== undefined) {
    details.push(`config.json says ${L} layers, so a sequential pre-norm model should give ${2 * L + 1} (2L+1) ` +
      `and a parallel-residual one ${L + 1} (L+1).`);
  } else {
    details.push('The number of layers is unknown (no config.json with num_hidden_layers/n_layer next to the model) ' +
      `and the attention ops between the tensors (${attentionBetween(model, unique).join(',')}) ` +
      'match neither the sequential (1,0,1,0,…) nor the parallel (1,1,…) pattern.');
  }
  if (hidden.length > 0) details.push(mergedDecoderExplanation(hidden));
  details.push('Post-norm models (normalisation after the residual add) and models that normalise inside blocks ' +
    'in other ways are not recognised automatically.');
  details.push(OVERRIDE_HINT);
  throw new ModelLoadError(`Cannot find the residual stream in ${label}.`, details);
}

type Layout = Pick<ResidualTaps, 'taps' | 'layout' | 'numHiddenLayers'>;

function withSynthesized(layout: Layout, all: readonly NormalizationInput[]): ResidualTaps {
  const synthesized = all.filter((input) => input.sumOf && layout.taps.includes(input.tensor))
    .map((input) => ({ name: input.tensor, addends: input.sumOf ?? [] }));
  return { ...layout, normalizationInputs: all, synthesized };
}

function inferLayout(model: OnnxModel, inputs: readonly NormalizationInput[]): Layout | undefined {
  const tensors = inputs.map((input) => input.tensor);
  if (tensors.length < 2) return undefined;
  const gaps = attentionBetween(model, inputs);
  if (gaps.every((count) => count > 0)) {
    return { taps: tensors, layout: 'parallel', numHiddenLayers: tensors.length - 1 };
  }
  const alternating = tensors.length % 2 === 1 && gaps.every((count, index) => (index % 2 === 0 ? count > 0 : count === 0));
  if (alternating) {
    return { taps: tensors.filter((_, index) => index % 2 === 0), layout: 'sequential', numHiddenLayers: (tensors.length - 1) / 2 };
  }
  return undefined;
}

function mergedDecoderExplanation(hidden: readonly OnnxNode[]): string {
  const names = hidden.slice(0, 3).map((node) => `${node.opType} "${node.name}"`).join(', ');
  return `The graph has control-flow nodes with subgraphs (${names}): this looks like a merged decoder ` +
    '(decoder_model_merged.onnx, an If choosing between with-past and no-past branches), whose blocks live inside ' +
    'the subgraphs where they cannot be tapped. Use the single-graph export instead (model.onnx or decoder_model.onnx, ' +
    'e.g. `optimum-cli export onnx --no-post-process`).';
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
  return { taps: [...taps], layout: 'override', numHiddenLayers: taps.length - 1, normalizationInputs: all, synthesized: [] };
}

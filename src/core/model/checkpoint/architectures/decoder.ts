/**
 * @file Pieces shared by the Llama-style families (Llama, Mistral, Qwen2/3, Gemma/Gemma-2, Phi-3, OLMo-2, StableLM):
 * their config keys, q/k/v projections, the gated MLP and sliding-window layer types. Each family's own file wires
 * these into its block, so its differences stay visible in a few lines.
 */
import { activation, activationFromName, embed, linear, splitFeatures, type Activation, type Graph, type Weights } from '../blocks';
import type { ArchitectureDims } from '../architecture';
import type { RopeSpec } from '../rope';
import type { ConfigReader } from '../config';

export interface DecoderConfig {
  readonly hidden: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly blocks: number;
  readonly vocab: number;
  readonly inner: number;
  readonly eps: number;
  readonly act: Activation;
  readonly maxPositions?: number;
}

export interface DecoderDefaults {
  readonly eps: number;
  readonly act?: string;
  /** Config keys of the activation (Gemma-2: hidden_activation). */
  readonly actKeys?: readonly string[];
  readonly epsKeys?: readonly string[];
  /** Gemma: head_dim defaults to 256, not hidden/heads. */
  readonly headDim?: number;
}

export function readDecoderConfig(config: ConfigReader, defaults: DecoderDefaults): DecoderConfig {
  const hidden = config.positiveInt('hidden_size');
  const heads = config.positiveInt('num_attention_heads');
  const headDim = config.optionalInt('head_dim') ?? defaults.headDim ?? hidden / heads;
  if (!Number.isInteger(headDim)) config.refuse('num_attention_heads', `hidden_size ${hidden} is not a multiple of it and there is no head_dim`);
  const kvHeads = config.positiveInt('num_key_value_heads', heads);
  if (heads % kvHeads !== 0) config.refuse('num_key_value_heads', `num_attention_heads ${heads} is not a multiple of it`);
  return {
    hidden, heads, kvHeads, headDim,
    blocks: config.positiveInt('num_hidden_layers'),
    vocab: config.positiveInt('vocab_size'),
    inner: config.positiveInt('intermediate_size'),
    eps: config.number(defaults.epsKeys ?? ['rms_norm_eps'], defaults.eps),
    act: activationFromName(config.string(defaults.actKeys ?? ['hidden_act'], defaults.act ?? 'silu'), config.file),
    maxPositions: config.optionalInt('max_position_embeddings'),
  };
}

/** q [N, H·hd], k and v [N, KV·hd] from separate q_proj/k_proj/v_proj, or Phi-3's fused qkv_proj. */
export function projectQkv(
  graph: Graph, w: Weights, x: string, prefix: string, c: DecoderConfig,
  options: { readonly bias: boolean; readonly fused?: string },
): { q: string; k: string; v: string } {
  const bias = options.bias ? 'required' : 'none';
  const qSize = c.heads * c.headDim;
  const kvSize = c.kvHeads * c.headDim;
  if (options.fused) {
    const qkv = linear(graph, w, x, `${prefix}.${options.fused}`, c.hidden, qSize + 2 * kvSize, { bias });
    const [q, k, v] = splitFeatures(graph, qkv, [qSize, kvSize, kvSize]);
    return { q, k, v };
  }
  return {
    q: linear(graph, w, x, `${prefix}.q_proj`, c.hidden, qSize, { bias }),
    k: linear(graph, w, x, `${prefix}.k_proj`, c.hidden, kvSize, { bias }),
    v: linear(graph, w, x, `${prefix}.v_proj`, c.hidden, kvSize, { bias }),
  };
}

/** down(act(gate(x)) · up(x)); Phi-3 stores gate and up as one gate_up_proj (gate first). */
export function gatedMlp(
  graph: Graph, w: Weights, x: string, prefix: string, c: DecoderConfig,
  options: { readonly bias?: boolean; readonly fusedGateUp?: string } = {},
): string {
  const g = graph.g;
  const bias = options.bias ? 'required' : 'none';
  let gate: string;
  let up: string;
  if (options.fusedGateUp) {
    [gate, up] = splitFeatures(graph, linear(graph, w, x, `${prefix}.${options.fusedGateUp}`, c.hidden, 2 * c.inner, { bias }), [c.inner, c.inner]);
  } else {
    gate = linear(graph, w, x, `${prefix}.gate_proj`, c.hidden, c.inner, { bias });
    up = linear(graph, w, x, `${prefix}.up_proj`, c.hidden, c.inner, { bias });
  }
  return linear(graph, w, g.op('Mul', [activation(g, gate, c.act), up]), `${prefix}.down_proj`, c.inner, c.hidden, { bias });
}

/**
 * The attention window of each layer (undefined: full causal), as transformers decides it:
 * `layer_types` when given ("sliding_attention" layers use `sliding_window`); otherwise the family's rule.
 */
export function layerWindows(
  config: ConfigReader, blocks: number, rule: (layer: number, window: number) => boolean, defaultWindow?: number,
): (number | undefined)[] {
  // An absent key takes the family's default; an explicit null turns windows off.
  const window = config.has('sliding_window') ? config.positiveInt('sliding_window')
    : config.raw('sliding_window') === null ? undefined : defaultWindow;
  const types = config.raw('layer_types');
  if (Array.isArray(types)) {
    if (types.length < blocks) config.refuse('layer_types', `it lists ${types.length} layers, fewer than num_hidden_layers`);
    return types.slice(0, blocks).map((type) => {
      if (type === 'full_attention') return undefined;
      if (type === 'sliding_attention') return window ?? config.refuse('layer_types', 'sliding_attention layers need sliding_window');
      return config.refuse('layer_types', `layer type ${JSON.stringify(type)} is not implemented`);
    });
  }
  return Array.from({ length: blocks }, (_, layer) => (window !== undefined && rule(layer, window) ? window : undefined));
}

/** Qwen2/Qwen3: sliding windows only with use_sliding_window, from layer max_window_layers on. */
export function qwenWindows(config: ConfigReader, blocks: number): (number | undefined)[] {
  if (!config.bool('use_sliding_window', false)) return Array.from({ length: blocks }, () => undefined);
  const from = config.int('max_window_layers', 28);
  return layerWindows(config, blocks, (layer) => layer >= from, 4096);
}

/** dims() of a Llama-style family: the longest prompt is the RoPE setting's limit, else max_position_embeddings. */
export function decoderDims(c: DecoderConfig, rope: RopeSpec): ArchitectureDims {
  return { numBlocks: c.blocks, hiddenSize: c.hidden, vocabSize: c.vocab, maxPositions: rope.maxSequence ?? c.maxPositions };
}

/**
 * The Llama-style stack: `model.embed_tokens` (optionally scaled), then `block(h, layer, prefix)` for each layer;
 * returns the boundaries (embedding output, then each block's output).
 */
export function stackBlocks(
  graph: Graph, w: Weights, c: DecoderConfig, blocks: number,
  block: (h: string, layer: number, prefix: string) => string,
  options: { readonly embedScale?: number } = {},
): string[] {
  w.usePrefix(['model.', ''], 'embed_tokens.weight');
  let h = embed(graph, w, 'embed_tokens.weight', c.vocab, c.hidden);
  if (options.embedScale !== undefined) h = graph.g.op('Mul', [h, graph.g.value(options.embedScale)]);
  const boundaries = [h];
  for (let layer = 0; layer < blocks; layer++) {
    h = block(h, layer, `layers.${layer}`);
    boundaries.push(h);
  }
  return boundaries;
}

/**
 * @file The building blocks every architecture file wires together: weights, embeddings, linear layers, norms,
 * activations, rotary embeddings and causal self-attention, written as ONNX nodes.
 *
 * Layout: the residual stream is a 2-D tensor [N = batch·tokens, hidden] from the embedding to the last tap, so
 * norms, linear layers (Gemm, weight [out, in] used as stored: transB) and MLPs need no reshapes; attention alone
 * views it as [B, T, kvHeads, groups, headDim]. Grouped-query attention is a broadcast MatMul over the groups
 * axis, so key/value heads are never copied. Right padding needs no key mask: with a causal mask, real tokens
 * never attend to the padding after them, and only real tokens are read.
 *
 * Numerics follow transformers' eager code in float32: scores = (q·kᵀ)·scale (+ softcap), masked with −∞,
 * softmax along keys; RMSNorm = x / sqrt(mean(x²) + eps) · w; rotary cos/sin from float32 inverse frequencies.
 */
import { ModelLoadError } from '../errors';
import { ElemType, GraphBuilder, type AttributeValue } from './graphBuilder';
import type { RopeSpec } from './rope';
import type { CheckpointTensors, TensorRef } from './safetensors';

const ONNX_DTYPE: Readonly<Record<string, number>> = { F32: ElemType.FLOAT, F16: ElemType.FLOAT16, BF16: ElemType.BFLOAT16 };

/** The checkpoint's tensors as graph initializers: shape-checked, cast to float32, each added once. */
export class Weights {
  private readonly added = new Map<string, string>();
  private readonly used = new Set<string>();
  /** Bytes each initializer holds once loaded: its stored size, or its size after the Cast onnxruntime folds. */
  private readonly held = new Map<string, number>();
  private prefix = '';

  constructor(
    private readonly g: GraphBuilder,
    private readonly checkpoint: CheckpointTensors,
    /** Where onnxruntime finds a tensor's file, relative to its external-data folder. */
    private readonly locate: (tensor: TensorRef) => string,
  ) {}

  /**
   * Choose the key prefix from the candidates (`model.`, `transformer.`, `` …): the first under which `probe`
   * exists. Checkpoints saved from the bare model and from the *ForCausalLM wrapper differ only in this prefix.
   */
  usePrefix(candidates: readonly string[], probe: string): void {
    const found = candidates.find((prefix) => this.checkpoint.tensors.has(prefix + probe));
    if (found === undefined) {
      const sample = [...this.checkpoint.tensors.keys()].slice(0, 6).join(', ');
      throw new ModelLoadError(`${this.where()} has no tensor ${candidates.map((prefix) => prefix + probe).join(' or ')}.`,
        [`Its tensors start: ${sample}${this.checkpoint.tensors.size > 6 ? ', …' : ''}. Is config.json's model_type right for these weights?`]);
    }
    this.prefix = found;
  }

  has(name: string): boolean {
    return this.checkpoint.tensors.has(this.prefix + name);
  }

  /** The tensor reference, shape-checked against what config.json implies. */
  ref(name: string, shape: readonly number[]): TensorRef {
    const full = this.prefix + name;
    const tensor = this.checkpoint.tensors.get(full);
    if (!tensor) {
      throw new ModelLoadError(`${this.where()} has no tensor ${full}.`, ['The checkpoint is incomplete, or config.json does not describe it.']);
    }
    if (!(tensor.dtype in ONNX_DTYPE)) {
      throw new ModelLoadError(`${tensor.file}: tensor ${full} is ${tensor.dtype}; weights must be F32, F16 or BF16.`,
        ['Quantised checkpoints (GPTQ, AWQ, bitsandbytes) are not supported: use the original weights.']);
    }
    const matches = tensor.shape.length === shape.length && tensor.shape.every((dim, index) => dim === shape[index]);
    if (!matches) {
      throw new ModelLoadError(`${tensor.file}: tensor ${full} has shape [${tensor.shape.join(', ')}] but config.json implies [${shape.join(', ')}].`,
        ['The checkpoint and config.json disagree (wrong config, or a truncated/edited checkpoint).']);
    }
    this.used.add(full);
    return tensor;
  }

  /** The tensor in its stored dtype (e.g. an embedding table that is gathered before the cast). */
  stored(name: string, shape: readonly number[]): { readonly name: string; readonly dtype: string } {
    const tensor = this.ref(name, shape);
    const known = this.added.get(tensor.name);
    if (known) return { name: known, dtype: tensor.dtype };
    const initializer = this.g.external(`w:${tensor.name}`, {
      dims: tensor.shape, elemType: ONNX_DTYPE[tensor.dtype], location: this.locate(tensor), offset: tensor.offset, length: tensor.length,
    });
    this.added.set(tensor.name, initializer);
    this.held.set(tensor.name, tensor.length);
    return { name: initializer, dtype: tensor.dtype };
  }

  /** Record that a tensor is also held widened to `bytesPerElement` (a folded Cast). */
  private widened(name: string, bytesPerElement: number): void {
    const tensor = this.checkpoint.tensors.get(this.prefix + name)!;
    const elements = tensor.shape.reduce((product, dim) => product * dim, 1);
    if (ONNX_DTYPE[tensor.dtype] !== undefined && tensor.length !== elements * bytesPerElement) {
      this.held.set(tensor.name, elements * bytesPerElement);
    }
  }

  /** The tensor in the graph's compute type (a Cast that onnxruntime folds at load when the stored dtype differs). */
  float(name: string, shape: readonly number[]): string {
    const stored = this.stored(name, shape);
    if (ONNX_DTYPE[stored.dtype] !== this.g.computeType) this.widened(name, this.g.computeType === ElemType.FLOAT ? 4 : 2);
    return this.g.toCompute(stored.name, ONNX_DTYPE[stored.dtype]);
  }

  /** The tensor as float32 whatever the compute type (norm weights: norms are computed in float32). */
  float32(name: string, shape: readonly number[]): string {
    const stored = this.stored(name, shape);
    if (stored.dtype === 'F32') return stored.name;
    this.widened(name, 4);
    return this.g.op('Cast', [stored.name], { to: ElemType.FLOAT });
  }

  /** The tensors the graph reads. */
  get usedTensors(): ReadonlySet<string> {
    return this.used;
  }

  /**
   * Bytes the session holds for the weights once loaded: each tensor in the dtype it is computed in (a folded Cast
   * replaces the stored copy), embedding tables in their stored dtype (gathered before the cast).
   */
  get heldBytes(): number {
    let total = 0;
    for (const bytes of this.held.values()) total += bytes;
    return total;
  }

  private where(): string {
    return this.checkpoint.indexFile ?? this.checkpoint.files[0]?.file ?? this.checkpoint.folder;
  }
}

/** Shape and position tensors shared by all blocks of one graph. */
export class Graph {
  readonly g: GraphBuilder;
  /** [2] int64: B, T. */
  readonly batchAndTokens: string;
  /** [1] int64 each. */
  readonly batch: string;
  readonly tokens: string;
  /** Flat token ids [N]. */
  readonly flatIds: string;
  private readonly lastIndex: string;
  private tokenRange?: string;
  private readonly masks = new Map<string, string>();
  private readonly rotary = new Map<RopeSpec, { cos: string; sin: string }>();

  /**
   * computeType: ElemType.FLOAT (CPU) or ElemType.FLOAT16 (GPU providers). fusedAttention: attention as
   * com.microsoft GroupQueryAttention (the providers' fused kernel, rotary inside) where the head size allows.
   * fusedSoftcapAndScale: the kernel is trusted with softcapping and a non-default scale (the CPU's, checked against
   * PyTorch); otherwise layers that need them keep the plain attention.
   */
  constructor(computeType: number = ElemType.FLOAT, readonly fusedAttention = false, readonly fusedSoftcapAndScale = true) {
    this.g = new GraphBuilder(computeType);
    const g = this.g;
    const ids = g.input('input_ids', ElemType.INT64, ['batch', 'tokens']);
    this.lastIndex = g.input('last_index', ElemType.INT64, ['batch', 1]);
    this.batchAndTokens = g.op('Shape', [ids]);
    this.batch = g.op('Slice', [this.batchAndTokens, g.int64([0]), g.int64([1])]);
    this.tokens = g.op('Slice', [this.batchAndTokens, g.int64([1]), g.int64([2])]);
    this.flatIds = g.op('Reshape', [ids, g.int64([-1])]);
  }

  /** 0…T-1 as an int64 [T] tensor. */
  positions(): string {
    if (!this.tokenRange) {
      const g = this.g;
      const count = g.op('Squeeze', [this.tokens, g.int64([0])]);
      this.tokenRange = g.op('Range', [g.int64(0), count, g.int64(1)]);
    }
    return this.tokenRange;
  }

  /** The additive causal mask [T, T] (0 or −∞), optionally with a sliding window (key older than `window` masked). */
  causalMask(window?: number): string {
    const key = String(window ?? 'none');
    const known = this.masks.get(key);
    if (known) return known;
    const g = this.g;
    const positions = this.positions();
    const rows = g.op('Unsqueeze', [positions, g.int64([1])]);
    const cols = g.op('Unsqueeze', [positions, g.int64([0])]);
    let blocked = g.op('Greater', [cols, rows]);
    if (window !== undefined) {
      const far = g.op('GreaterOrEqual', [g.op('Sub', [rows, cols]), g.int64(window)]);
      blocked = g.op('Or', [blocked, far]);
    }
    const mask = g.op('Where', [blocked, g.value(-Infinity), g.value(0)]);
    this.masks.set(key, mask);
    return mask;
  }

  /** cos and sin [T, rotaryDim/2] for one RoPE setting (scaled by its attention factor), computed in float32. */
  rope(spec: RopeSpec): { cos: string; sin: string } {
    const known = this.rotary.get(spec);
    if (known) return known;
    const g = this.g;
    const positions = g.op('Unsqueeze', [g.op('Cast', [this.positions()], { to: ElemType.FLOAT }), g.int64([1])]);
    const freqs = g.op('Mul', [positions, g.float(spec.invFreq, [1, spec.invFreq.length])]);
    let cos = g.op('Cos', [freqs]);
    let sin = g.op('Sin', [freqs]);
    if (spec.attentionScaling !== 1) {
      cos = g.op('Mul', [cos, g.float(spec.attentionScaling)]);
      sin = g.op('Mul', [sin, g.float(spec.attentionScaling)]);
    }
    const result = { cos: g.toCompute(cos, ElemType.FLOAT), sin: g.toCompute(sin, ElemType.FLOAT) };
    this.rotary.set(spec, result);
    return result;
  }

  /** Each row's tap token: rows b·T + last_index[b] of a [N, D] tensor, as float32 [B, D]. */
  gatherLast(hidden: string): string {
    const g = this.g;
    if (!this.flatLast) {
      const count = g.op('Squeeze', [this.batch, g.int64([0])]);
      const starts = g.op('Mul', [g.op('Range', [g.int64(0), count, g.int64(1)]), this.tokens]);
      this.flatLast = g.op('Add', [starts, g.op('Reshape', [this.lastIndex, g.int64([-1])])]);
    }
    const rows = g.op('Gather', [hidden, this.flatLast], { axis: 0 });
    return g.computeType === ElemType.FLOAT ? rows : g.op('Cast', [rows], { to: ElemType.FLOAT });
  }
  private flatLast?: string;
}

export type Activation = 'gelu' | 'gelu_tanh' | 'silu' | 'relu' | 'gelu_fast' | 'quick_gelu';

/** transformers' ACT2FN names → the function they compute. */
export function activationFromName(name: string, where: string): Activation {
  switch (name) {
    case 'gelu': return 'gelu';
    case 'gelu_new': case 'gelu_pytorch_tanh': case 'gelu_tanh': return 'gelu_tanh';
    case 'gelu_fast': return 'gelu_fast';
    case 'silu': case 'swish': return 'silu';
    case 'relu': return 'relu';
    case 'quick_gelu': return 'quick_gelu';
    default:
      throw new ModelLoadError(`${where}: activation "${name}" is not supported (gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, silu, relu, quick_gelu are).`);
  }
}

export function activation(g: GraphBuilder, x: string, kind: Activation): string {
  switch (kind) {
    case 'relu': return g.op('Relu', [x]);
    case 'silu': return g.op('Mul', [x, g.op('Sigmoid', [x])]);
    case 'quick_gelu': return g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, g.value(1.702)])])]);
    case 'gelu': {
      // 0.5·x·(1 + erf(x/√2)): the pattern onnxruntime fuses into Gelu.
      const erf = g.op('Erf', [g.op('Div', [x, g.value(Math.SQRT2)])]);
      return g.op('Mul', [g.op('Mul', [x, g.value(0.5)]), g.op('Add', [erf, g.value(1)])]);
    }
    case 'gelu_tanh':
    case 'gelu_fast': {
      // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as NewGELU / gelu(approximate="tanh").
      const cube = g.op('Mul', [g.op('Mul', [x, x]), x]);
      const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [cube, g.value(0.044715)])]), g.value(Math.sqrt(2 / Math.PI))]);
      return g.op('Mul', [g.op('Mul', [x, g.value(0.5)]), g.op('Add', [g.op('Tanh', [inner]), g.value(1)])]);
    }
  }
}

export interface LinearOptions {
  /** Weight stored [in, out] (GPT-2's Conv1D) instead of nn.Linear's [out, in]. */
  readonly inputMajor?: boolean;
  /** 'required': the bias must exist; 'none': no bias; 'if-present': use it when the checkpoint has it. */
  readonly bias?: 'required' | 'none' | 'if-present';
}

/** y = x·Wᵀ + b on a [N, in] tensor. */
export function linear(graph: Graph, w: Weights, x: string, name: string, inFeatures: number, outFeatures: number, options: LinearOptions = {}): string {
  const g = graph.g;
  const weight = w.float(`${name}.weight`, options.inputMajor ? [inFeatures, outFeatures] : [outFeatures, inFeatures]);
  const biasMode = options.bias ?? 'none';
  const useBias = biasMode === 'required' || (biasMode === 'if-present' && w.has(`${name}.bias`));
  const inputs = [x, weight];
  if (useBias) inputs.push(w.float(`${name}.bias`, [outFeatures]));
  return g.op('Gemm', inputs, { transB: options.inputMajor ? 0 : 1 });
}

export interface NormOptions {
  readonly eps: number;
  /** LayerNorm: subtract the mean (and add a bias when `bias`); RMSNorm otherwise. */
  readonly kind: 'layer' | 'rms';
  readonly bias?: boolean;
  /** Gemma's RMSNorm multiplies by (1 + weight). */
  readonly weightOffset?: number;
  /** Shape of the weight when not [size] (e.g. StableLM's per-head norms [heads, headDim] on [.., heads, headDim]). */
  readonly weightShape?: readonly number[];
  /** Tensor name of the weight, if not `${name}.weight`. */
  readonly weightName?: string;
}

/**
 * Normalise over the last axis of x (any rank) with the named weight (and bias). Always computed in float32, as
 * transformers does (RMSNorm upcasts; a float16 sum of squares overflows at |x| ≈ 256), then cast back.
 */
export function norm(graph: Graph, w: Weights, x: string, name: string, size: number, options: NormOptions): string {
  const g = graph.g;
  const shape = options.weightShape ?? [size];
  let weight = w.float32(options.weightName ?? `${name}.weight`, shape);
  if (options.weightOffset) weight = g.op('Add', [weight, g.float(options.weightOffset)]);
  const x32 = g.computeType === ElemType.FLOAT ? x : g.op('Cast', [x], { to: ElemType.FLOAT });
  let y: string;
  if (options.kind === 'layer') {
    if (shape.length === 1) {
      const inputs = [x32, weight];
      if (options.bias) inputs.push(w.float32(`${name}.bias`, [size]));
      y = g.op('LayerNormalization', inputs, { axis: -1, epsilon: { float: options.eps } });
    } else {
      const normed = g.op('LayerNormalization', [x32, g.float(new Float32Array(size).fill(1))], { axis: -1, epsilon: { float: options.eps } });
      y = g.op('Mul', [normed, weight]);
    }
  } else {
    const meanSquare = g.op('ReduceMean', [g.op('Pow', [x32, g.float(2)])], { axes: [-1], keepdims: 1 });
    const normed = g.op('Div', [x32, g.op('Sqrt', [g.op('Add', [meanSquare, g.float(options.eps)])])]);
    y = g.op('Mul', [normed, weight]);
  }
  return g.toCompute(y, ElemType.FLOAT);
}

export interface AttentionOptions {
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly rope?: RopeSpec;
  /** Multiplies q·kᵀ (default 1/√headDim). */
  readonly scale?: number;
  /** Gemma-2: scores = tanh(scores / cap) · cap. */
  readonly softcap?: number;
  /** Sliding-window attention: a query sees the last `window` keys (itself included). */
  readonly window?: number;
  /** Applied to q and k viewed as [B, T, kvHeads, groups|1, headDim], before RoPE (Qwen3's, StableLM's per-head norms). */
  readonly qHeadNorm?: (x: string) => string;
  readonly kHeadNorm?: (x: string) => string;
}

/** Scores are q·kᵀ/√hd, nothing more: no softcap, the default scale (within float32's rounding). */
function plainScores(options: AttentionOptions): boolean {
  const standard = 1 / Math.sqrt(options.headDim);
  return options.softcap === undefined && (options.scale === undefined || Math.abs(options.scale - standard) <= 1e-7 * standard);
}

/**
 * Causal self-attention over projected q [N, H·hd], k and v [N, KV·hd]; returns the heads' output [N, H·hd]
 * (before the output projection).
 */
export function attention(graph: Graph, q: string, k: string, v: string, options: AttentionOptions): string {
  const g = graph.g;
  const { numHeads: H, numKvHeads: KV, headDim: hd } = options;
  if (H % KV !== 0) throw new ModelLoadError(`num_attention_heads ${H} is not a multiple of num_key_value_heads ${KV}.`);
  const groups = H / KV;
  // onnxruntime's GroupQueryAttention kernels need head sizes that are multiples of 16 (real models: 64, 80, 128…).
  if (graph.fusedAttention && hd % 16 === 0 && (graph.fusedSoftcapAndScale || plainScores(options))) return fusedAttention(graph, q, k, v, options);
  const view = (x: string, heads: number): string =>
    g.op('Reshape', [x, g.op('Concat', [graph.batchAndTokens, g.int64([KV, heads, hd])], { axis: 0 })]);
  // [B, T, KV, G, hd] → [B, KV, G, T, hd]
  const toHeads = (x: string): string => g.op('Transpose', [x], { perm: [0, 2, 3, 1, 4] });
  let q5 = view(q, groups);
  let k5 = view(k, 1);
  if (options.qHeadNorm) q5 = options.qHeadNorm(q5);
  if (options.kHeadNorm) k5 = options.kHeadNorm(k5);
  q5 = toHeads(q5);
  k5 = toHeads(k5);
  const v5 = toHeads(view(v, 1));
  if (options.rope) {
    q5 = applyRope(graph, q5, options.rope, hd);
    k5 = applyRope(graph, k5, options.rope, hd);
  }
  let scores = g.op('MatMul', [q5, g.op('Transpose', [k5], { perm: [0, 1, 2, 4, 3] })]);
  scores = g.op('Mul', [scores, g.value(options.scale ?? 1 / Math.sqrt(hd))]);
  if (options.softcap !== undefined) {
    scores = g.op('Mul', [g.op('Tanh', [g.op('Div', [scores, g.value(options.softcap)])]), g.value(options.softcap)]);
  }
  scores = g.op('Add', [scores, graph.causalMask(options.window)]);
  // Softmax in float32 (transformers' eager attention: softmax(..., dtype=float32).to(query.dtype)).
  const probs = g.computeType === ElemType.FLOAT ? g.op('Softmax', [scores], { axis: -1 })
    : g.toCompute(g.op('Softmax', [g.op('Cast', [scores], { to: ElemType.FLOAT })], { axis: -1 }), ElemType.FLOAT);
  const context = g.op('MatMul', [probs, v5]);
  // [B, KV, G, T, hd] → [B, T, KV, G, hd] → [N, H·hd]: head h = kv·G + g, as transformers' repeat_kv orders them.
  return g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 3, 1, 2, 4] }), g.int64([-1, H * hd])]);
}

/**
 * The same attention through com.microsoft GroupQueryAttention (what onnxruntime-genai's model builder emits; fused
 * kernels on CUDA and WebGPU, float32 and float16 on CPU): q/k/v as [B, T, heads·hd], no past, every row's
 * sequence length taken as T (right padding: real tokens never attend to the padding after them), full rotary
 * inside the kernel (cos/sin [T, hd/2]); partial rotary and per-head norms are applied before it.
 */
function fusedAttention(graph: Graph, q: string, k: string, v: string, options: AttentionOptions): string {
  const g = graph.g;
  const { numHeads: H, numKvHeads: KV, headDim: hd } = options;
  const groups = H / KV;
  const toBTK = (x: string, heads: number): string =>
    g.op('Reshape', [x, g.op('Concat', [graph.batchAndTokens, g.int64([KV, heads, hd])], { axis: 0 })]);
  const flat3 = (x: string): string => g.op('Reshape', [x, g.op('Concat', [graph.batchAndTokens, g.int64([-1])], { axis: 0 })]);
  const rope = options.rope;
  const inKernelRope = rope !== undefined && rope.rotaryDim === hd;
  let q5 = toBTK(q, groups);
  let k5 = toBTK(k, 1);
  if (options.qHeadNorm) q5 = options.qHeadNorm(q5);
  if (options.kHeadNorm) k5 = options.kHeadNorm(k5);
  if (rope && !inKernelRope) {
    q5 = applyRope(graph, q5, rope, hd, [-1, 1, 1, rope.rotaryDim / 2]);
    k5 = applyRope(graph, k5, rope, hd, [-1, 1, 1, rope.rotaryDim / 2]);
  }
  // seqlens_k: each row's last position (T − 1), total_sequence_length: T, both int32.
  const total = g.op('Cast', [graph.tokens], { to: ElemType.INT32 });
  const seqlensK = g.op('Expand', [g.op('Cast', [g.op('Sub', [graph.tokens, g.int64([1])])], { to: ElemType.INT32 }), graph.batch]);
  const inputs = [flat3(q5), flat3(k5), flat3(v), '', '', seqlensK, total];
  if (inKernelRope) {
    const { cos, sin } = graph.rope(rope);
    inputs.push(cos, sin);
  }
  const attributes: Record<string, AttributeValue> = {
    num_heads: H, kv_num_heads: KV, do_rotary: inKernelRope ? 1 : 0, rotary_interleaved: 0,
    scale: { float: options.scale ?? 1 / Math.sqrt(hd) },
  };
  if (options.softcap !== undefined) attributes.softcap = { float: options.softcap };
  if (options.window !== undefined) attributes.local_window_size = options.window;
  const [output] = g.opMulti('GroupQueryAttention', inputs, 3, attributes, 'com.microsoft');
  return g.op('Reshape', [output, g.int64([-1, H * hd])]);
}

/**
 * Rotate the first rotaryDim dims of each head, halves style (rotate_half): x1·cos − x2·sin, x2·cos + x1·sin.
 * `cosShape` reshapes cos/sin [T, rotaryDim/2] to broadcast against x's layout (default: T second to last).
 */
function applyRope(graph: Graph, x: string, spec: RopeSpec, headDim: number, cosShape?: readonly number[]): string {
  const g = graph.g;
  const half = spec.rotaryDim / 2;
  const table = graph.rope(spec);
  const cos = cosShape ? g.op('Reshape', [table.cos, g.int64([...cosShape])]) : table.cos;
  const sin = cosShape ? g.op('Reshape', [table.sin, g.int64([...cosShape])]) : table.sin;
  const rest = headDim - spec.rotaryDim;
  const parts = g.opMulti('Split', [x, g.int64(rest > 0 ? [half, half, rest] : [half, half])], rest > 0 ? 3 : 2, { axis: -1 });
  const [x1, x2] = parts;
  const out1 = g.op('Sub', [g.op('Mul', [x1, cos]), g.op('Mul', [x2, sin])]);
  const out2 = g.op('Add', [g.op('Mul', [x2, cos]), g.op('Mul', [x1, sin])]);
  return g.op('Concat', rest > 0 ? [out1, out2, parts[2]] : [out1, out2], { axis: -1 });
}

/** Split a fused projection [N, a+b+…] along features. */
export function splitFeatures(graph: Graph, x: string, sizes: readonly number[]): string[] {
  return graph.g.opMulti('Split', [x, graph.g.int64([...sizes])], sizes.length, { axis: -1 });
}

/** The embedding rows of the batch's tokens [N, D] as float32 (the table is gathered in its stored dtype). */
export function embed(graph: Graph, w: Weights, name: string, vocab: number, hidden: number): string {
  const g = graph.g;
  const table = w.stored(name, [vocab, hidden]);
  const rows = g.op('Gather', [table.name, graph.flatIds], { axis: 0 });
  return g.toCompute(rows, ONNX_DTYPE[table.dtype]);
}

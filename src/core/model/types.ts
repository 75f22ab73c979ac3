/**
 * The contract between the model layer and everything downstream (activation extraction, cache, CLI, extension).
 * A ResidualModel turns entity prompts into the residual stream at every layer, read at one token per prompt
 * (the entity's last token by default, see TokenChoice).
 */

export type DeviceName = 'cpu' | 'webgpu' | 'cuda';
export type DeviceRequest = DeviceName | 'auto';

/** What a checkpoint's graph computes in (loadModel's precision): auto = float32 on the CPU, float16 on a GPU. */
export const MODEL_PRECISIONS = ['auto', 'float32', 'float16'] as const;
export type ModelPrecision = (typeof MODEL_PRECISIONS)[number];

/** Which execution provider actually runs, and why the others did not (shown in status bar, logs, results.json). */
export interface DeviceInfo {
  readonly requested: DeviceRequest;
  readonly used: DeviceName;
  /** One human-readable line per provider that was tried and rejected, e.g. "cuda: provider libraries not installed". */
  readonly fallbacks: readonly string[];
}

export interface ModelInfo {
  /** What the user asked for: 'builtin:glove-100d', a folder, a .onnx file, or 'hf:<repo>@<rev>'. */
  readonly id: string;
  /** Architecture family as detected (e.g. 'gpt2', 'llama', 'gpt_neox', 'qwen2', 'glove'). */
  readonly architecture: string;
  /** Number of probe layers = number of block boundaries = numHiddenLayers + 1 for transformers; 1 for GloVe. */
  readonly numLayers: number;
  readonly hiddenSize: number;
  /**
   * Content hash of the model graph/weights and tokenizer: the activation cache key component.
   * Two models with the same fingerprint must produce identical activations.
   */
  readonly fingerprint: string;
  /** How the weights were read: an ONNX export, our graph over a safetensors checkpoint, or GloVe vectors. */
  readonly format?: 'onnx' | 'safetensors' | 'glove';
  /** The stored weights' dtype(s) (e.g. 'bfloat16') and what the graph computes in (e.g. 'float32'). */
  readonly weightsDtype?: string;
  readonly computeDtype?: string;
  /** Longest prompt in tokens the model takes (config.json max_position_embeddings / n_positions), when known. */
  readonly maxPositions?: number;
  /** Rows of the token embedding (config.json vocab_size), when known: larger token ids cannot be run. */
  readonly vocabSize?: number;
  /** Attention heads (config.json num_attention_heads), when known: for the per-batch memory estimate. */
  readonly numAttentionHeads?: number;
  /** Problems found at load that do not stop it (e.g. a tokenizer smaller than the embedding), one line each. */
  readonly loadWarnings?: readonly string[];
}

/**
 * Which token's residual stream is read: the entity's last token (the paper's choice, default) or the prompt's
 * last token. With a suffix template ("Where is {entity}?") they differ: `prompt-last` reads the "?".
 */
export type TokenChoice = 'entity-last' | 'prompt-last';
export const TOKEN_CHOICES: readonly TokenChoice[] = ['entity-last', 'prompt-last'];
export const DEFAULT_TOKEN_CHOICE: TokenChoice = 'entity-last';

/** Character offsets [start, end) (UTF-16 code units) of the entity inside a prompt's text. */
export interface EntitySpan {
  readonly start: number;
  readonly end: number;
}

/**
 * One prompt to tokenize. With `entity`, the tokenizer sets `readIndex` to the entity's last token; without it
 * (or given a plain string), to the prompt's last token.
 */
export interface PromptInput {
  readonly text: string;
  readonly entity?: EntitySpan;
}

/** One tokenized prompt. */
export interface TokenizedPrompt {
  readonly ids: readonly number[];
  /** False when the tokenizer produced no usable token (e.g. GloVe: no word in vocabulary). */
  readonly usable: boolean;
  /** Optional explanation when not usable. */
  readonly reason?: string;
  /**
   * Index into `ids` of the token whose residual stream is read (the runtime's `last_index` feed). Absent means
   * the last id (`ids.length - 1`); see `readIndexOf`.
   */
  readonly readIndex?: number;
}

/** The text of a prompt given to `ResidualModel.tokenize`. */
export function promptText(prompt: string | PromptInput): string {
  return typeof prompt === 'string' ? prompt : prompt.text;
}

/** The token read for a prompt: `readIndex`, else the last token. */
export function readIndexOf(prompt: TokenizedPrompt): number {
  return prompt.readIndex ?? prompt.ids.length - 1;
}

export interface ResidualModel extends ModelInfo {
  readonly device: DeviceInfo;
  /**
   * Tokenize exactly the given prompts (template already applied) with the model's own tokenizer. A PromptInput
   * with an entity span gets `readIndex` = the entity's last token; a plain string reads the prompt's last token.
   * (Declared as a property so that an implementation taking only strings fails to type-check.)
   */
  readonly tokenize: (prompts: readonly (string | PromptInput)[]) => TokenizedPrompt[];
  /**
   * Run one batch (right-padded with an attention mask inside) and return the residual stream at each prompt's
   * `readIndex` (the last token when absent), row-major [batch, numLayers, hiddenSize] float32. Prompts must be usable.
   */
  runBatch(prompts: readonly TokenizedPrompt[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

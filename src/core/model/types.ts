/**
 * The contract between the model layer and everything downstream (activation extraction, cache, CLI, extension).
 * A ResidualModel turns entity prompts into the last-token residual stream at every layer.
 */

export type DeviceName = 'cpu' | 'webgpu' | 'cuda';
export type DeviceRequest = DeviceName | 'auto';

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
}

/** One tokenized prompt. */
export interface TokenizedPrompt {
  readonly ids: readonly number[];
  /** False when the tokenizer produced no usable token (e.g. GloVe: no word in vocabulary). */
  readonly usable: boolean;
  /** Optional explanation when not usable. */
  readonly reason?: string;
}

export interface ResidualModel extends ModelInfo {
  readonly device: DeviceInfo;
  /** Tokenize exactly the given strings (template already applied) with the model's own tokenizer. */
  tokenize(texts: readonly string[]): TokenizedPrompt[];
  /**
   * Run one batch (right-padded with an attention mask inside) and return the last-token residual stream,
   * row-major [batch, numLayers, hiddenSize] float32. Prompts must be usable.
   */
  runBatch(prompts: readonly TokenizedPrompt[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

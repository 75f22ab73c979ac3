/**
 * @file Suggested models for the UI and `spacetime-probe models suggested`: small causal LMs with single-graph ONNX
 * exports on the Hugging Face Hub (no merged `If` decoder needed), runnable on a laptop CPU.
 *
 * File names and sizes are as listed on the Hub pages at the time of writing (recorded in docs/models-hub.md); the
 * downloader checks the real listing, and says which variants exist, when a repo has changed. Pythia 1B and 1.4B
 * had no ONNX export on the Hub: export them with 🤗 Optimum (`optimum-cli export onnx --model EleutherAI/pythia-1b
 * --task text-generation out/`) and open the folder.
 */

export interface SuggestedModel {
  /** Hub repo id (use as `hf:<repoId>` or with `models download`). */
  readonly repoId: string;
  readonly label: string;
  readonly architecture: string;
  /** Transformer blocks; probe layers = blocks + 1 (embeddings + each block's output). */
  readonly blocks: number;
  readonly hiddenSize: number;
  /** Approximate download size per variant (graph + external data), bytes. */
  readonly variants: Readonly<Partial<Record<'fp32' | 'fp16' | 'q8', number>>>;
  /** Needs a token after accepting the licence on the Hub. */
  readonly gated: boolean;
  readonly licence: string;
  readonly notes: string;
}

const MB = 1e6;
const GB = 1e9;

export const SUGGESTED_MODELS: readonly SuggestedModel[] = [
  {
    repoId: 'Xenova/gpt2', label: 'GPT-2 small (124M)', architecture: 'gpt2', blocks: 12, hiddenSize: 768,
    variants: { fp32: 654 * MB, q8: 165 * MB }, gated: false, licence: 'MIT',
    notes: 'onnx/decoder_model.onnx (single graph, no past); the merged decoder is not used',
  },
  {
    repoId: 'Xenova/pythia-70m-deduped', label: 'Pythia 70M (deduped)', architecture: 'gpt_neox', blocks: 6, hiddenSize: 512,
    variants: { fp32: 286 * MB, q8: 75.5 * MB }, gated: false, licence: 'Apache-2.0',
    notes: 'parallel-residual blocks; the paper\'s Pythia suite',
  },
  {
    repoId: 'Xenova/pythia-160m-deduped', label: 'Pythia 160M (deduped)', architecture: 'gpt_neox', blocks: 12, hiddenSize: 768,
    variants: { fp32: 654 * MB, q8: 168 * MB }, gated: false, licence: 'Apache-2.0', notes: '',
  },
  {
    repoId: 'Xenova/pythia-410m-deduped', label: 'Pythia 410M (deduped)', architecture: 'gpt_neox', blocks: 24, hiddenSize: 1024,
    variants: { fp32: 1.63 * GB, q8: 413 * MB }, gated: false, licence: 'Apache-2.0', notes: 'about 4× slower than GPT-2 small on CPU',
  },
  {
    repoId: 'HuggingFaceTB/SmolLM2-135M-Instruct', label: 'SmolLM2 135M Instruct', architecture: 'llama', blocks: 30, hiddenSize: 576,
    variants: { fp32: 654 * MB, fp16: 327 * MB }, gated: false, licence: 'Apache-2.0', notes: 'onnx/model.onnx in the official repo',
  },
  {
    repoId: 'onnx-community/Qwen2.5-0.5B-Instruct', label: 'Qwen2.5 0.5B Instruct', architecture: 'qwen2', blocks: 24, hiddenSize: 896,
    variants: { fp32: 1.99 * GB, fp16: 997 * MB, q8: 512 * MB }, gated: false, licence: 'Apache-2.0', notes: '',
  },
  {
    repoId: 'onnx-community/Llama-3.2-1B', label: 'Llama 3.2 1B', architecture: 'llama', blocks: 16, hiddenSize: 2048,
    variants: { fp32: 4.94 * GB, fp16: 2.47 * GB, q8: 1.24 * GB }, gated: false, licence: 'Llama 3.2 Community Licence',
    notes: 'fp32/fp16 keep weights in model*.onnx_data (downloaded alongside). ' +
      'If the Hub answers 401/403, accept the licence on the model page and provide a token',
  },
];

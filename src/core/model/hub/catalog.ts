/**
 * @file Suggested models for the UI and `spacetime-probe models suggested`: the paper's models (Llama-2 7B/13B/70B),
 * the Pythia suite and small modern causal LMs, read from their safetensors checkpoints (src/core/model/checkpoint),
 * plus small single-graph ONNX exports that run on a laptop CPU.
 *
 * Parameter counts and stored dtypes are those of the Hub repos at the time of writing; sizes and memory follow
 * from them (download ≈ parameters × stored bytes; CPU memory = float32 weights, parameters × 4; GPU memory =
 * float16 weights, parameters × 2; activations for a batch come on top). The downloader checks the real listing.
 */

export interface SuggestedModel {
  /** Hub repo id (use as `hf:<repoId>` or with `models download`). */
  readonly repoId: string;
  readonly label: string;
  readonly architecture: string;
  /** Transformer blocks; probe layers = blocks + 1 (embeddings + each block's output). */
  readonly blocks: number;
  readonly hiddenSize: number;
  /** Approximate download size per variant (graph + external data, or the safetensors checkpoint), bytes. */
  readonly variants: Readonly<Partial<Record<'safetensors' | 'fp32' | 'fp16' | 'q8', number>>>;
  /** Parameters, for the memory figures (checkpoints). */
  readonly parameters?: number;
  /** dtype of the safetensors weights on the Hub. */
  readonly storedDtype?: 'float32' | 'float16' | 'bfloat16';
  /** Needs a token after accepting the licence on the Hub. */
  readonly gated: boolean;
  readonly licence: string;
  readonly notes: string;
}

const MB = 1e6;
const GB = 1e9;
const M = 1e6;
const B = 1e9;

const BYTES: Readonly<Record<string, number>> = { float32: 4, float16: 2, bfloat16: 2 };

function checkpoint(
  repoId: string, label: string, architecture: string, blocks: number, hiddenSize: number, parameters: number,
  storedDtype: 'float32' | 'float16' | 'bfloat16', licence: string, gated: boolean, notes = '',
): SuggestedModel {
  return {
    repoId, label, architecture, blocks, hiddenSize, parameters, storedDtype, gated, licence, notes,
    variants: { safetensors: parameters * BYTES[storedDtype] },
  };
}

/** Memory the weights need: float32 on CPU, float16 on a GPU (bytes). */
export function weightMemory(model: SuggestedModel): { cpu: number; gpu: number } | undefined {
  return model.parameters === undefined ? undefined : { cpu: model.parameters * 4, gpu: model.parameters * 2 };
}

const LLAMA2 = 'Llama 2 Community Licence (accept it on the model page; a token is needed)';
const GATED_NOTE = 'the paper\'s model';

export const SUGGESTED_MODELS: readonly SuggestedModel[] = [
  checkpoint('meta-llama/Llama-2-7b-hf', 'Llama-2 7B', 'llama', 32, 4096, 6.74 * B, 'float16', LLAMA2, true, GATED_NOTE),
  checkpoint('meta-llama/Llama-2-13b-hf', 'Llama-2 13B', 'llama', 40, 5120, 13.0 * B, 'float16', LLAMA2, true, GATED_NOTE),
  checkpoint('meta-llama/Llama-2-70b-hf', 'Llama-2 70B', 'llama', 80, 8192, 69.0 * B, 'float16', LLAMA2, true,
    `${GATED_NOTE}; more than one GPU's memory even in float16: extract on a cluster (docs/models.md)`),
  checkpoint('EleutherAI/pythia-70m', 'Pythia 70M', 'gpt_neox', 6, 512, 70.4 * M, 'float16', 'Apache-2.0', false, 'the paper\'s Pythia suite'),
  checkpoint('EleutherAI/pythia-160m', 'Pythia 160M', 'gpt_neox', 12, 768, 162 * M, 'float16', 'Apache-2.0', false),
  checkpoint('EleutherAI/pythia-410m', 'Pythia 410M', 'gpt_neox', 24, 1024, 405 * M, 'float16', 'Apache-2.0', false),
  checkpoint('EleutherAI/pythia-1b', 'Pythia 1B', 'gpt_neox', 16, 2048, 1.01 * B, 'float16', 'Apache-2.0', false),
  checkpoint('EleutherAI/pythia-1.4b', 'Pythia 1.4B', 'gpt_neox', 24, 2048, 1.41 * B, 'float16', 'Apache-2.0', false),
  checkpoint('EleutherAI/pythia-2.8b', 'Pythia 2.8B', 'gpt_neox', 32, 2560, 2.78 * B, 'float16', 'Apache-2.0', false),
  checkpoint('EleutherAI/pythia-6.9b', 'Pythia 6.9B', 'gpt_neox', 32, 4096, 6.86 * B, 'float16', 'Apache-2.0', false),
  checkpoint('EleutherAI/pythia-12b', 'Pythia 12B', 'gpt_neox', 36, 5120, 11.8 * B, 'float16', 'Apache-2.0', false),
  checkpoint('meta-llama/Llama-3.2-1B', 'Llama-3.2 1B', 'llama', 16, 2048, 1.24 * B, 'bfloat16',
    'Llama 3.2 Community Licence (accept it on the model page; a token is needed)', true),
  checkpoint('Qwen/Qwen2.5-0.5B', 'Qwen2.5 0.5B', 'qwen2', 24, 896, 494 * M, 'bfloat16', 'Apache-2.0', false),
  checkpoint('HuggingFaceTB/SmolLM2-135M', 'SmolLM2 135M', 'llama', 30, 576, 135 * M, 'bfloat16', 'Apache-2.0', false, 'tied embeddings'),
  checkpoint('HuggingFaceTB/SmolLM2-360M', 'SmolLM2 360M', 'llama', 32, 960, 362 * M, 'bfloat16', 'Apache-2.0', false, 'tied embeddings'),
  checkpoint('google/gemma-2-2b', 'Gemma-2 2B', 'gemma2', 26, 2304, 2.61 * B, 'float32',
    'Gemma Terms of Use (accept them on the model page; a token is needed)', true),
  checkpoint('allenai/OLMo-2-0425-1B', 'OLMo-2 1B', 'olmo2', 16, 2048, 1.48 * B, 'float32', 'Apache-2.0', false),
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

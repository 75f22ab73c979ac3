/**
 * Locating the model fixtures and comparing activations with their PyTorch references.
 *
 * Shared fixtures (../shared/fixtures/models, or $SPACETIME_SHARED_DIR/fixtures/models): tiny random-weight
 * Hugging Face GPT-2, Llama and GPT-NeoX exported to ONNX. Local fixtures (test/fixtures/torch-export): exported
 * by test/fixtures/torch-export/generate.py with Debian's python3-torch.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Repository root, from out/test/helpers (compiled) or test/helpers (source). */
export const repoRoot = path.resolve(__dirname, __dirname.includes(`${path.sep}out${path.sep}`) ? '../../..' : '../..');

export function sharedDir(): string {
  return process.env.SPACETIME_SHARED_DIR ?? path.resolve(repoRoot, '..', 'shared');
}

export const SHARED_MODELS = ['gpt2-tiny', 'llama-tiny', 'neox-tiny'] as const;
export const LOCAL_MODELS = ['gpt2-past', 'qwen2-style'] as const;

export function sharedModelDir(name: string): string {
  return path.join(sharedDir(), 'fixtures', 'models', name);
}

export function localModelDir(name: string): string {
  return path.join(repoRoot, 'test', 'fixtures', 'torch-export', name);
}

export interface ReferencePrompt {
  readonly prompt: string;
  readonly ids: readonly number[];
  /** [layer][hidden]: layer 0 = embeddings, layer i = output of block i (pre final norm). */
  readonly layers: readonly (readonly number[])[];
  readonly final_norm: readonly number[];
}

export interface Reference {
  readonly model: string;
  readonly num_layers: number;
  readonly hidden_size: number;
  readonly exporter: string;
  readonly prompts: readonly ReferencePrompt[];
}

export function readReference(modelDir: string): Reference {
  return JSON.parse(fs.readFileSync(path.join(modelDir, 'reference.json'), 'utf8')) as Reference;
}

/**
 * Largest |actual − reference| over prompts × layers × hidden, where `actual` holds rows of
 * [numLayers, hidden] for the prompts at `rows` (default: all prompts in order).
 */
export function maxDeviation(actual: Float32Array, reference: Reference, prompts: readonly ReferencePrompt[] = reference.prompts): number {
  const layers = reference.num_layers + 1;
  const hidden = reference.hidden_size;
  let worst = 0;
  prompts.forEach((prompt, row) => {
    prompt.layers.forEach((values, layer) => {
      values.forEach((value, d) => {
        worst = Math.max(worst, Math.abs(value - actual[(row * layers + layer) * hidden + d]));
      });
    });
  });
  return worst;
}

/** Copy a model folder's small files (config, tokenizer) into `target`, for variants built in tests. */
export function copyModelSidecars(sourceDir: string, targetDir: string): void {
  fs.mkdirSync(targetDir, { recursive: true });
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
    const source = path.join(sourceDir, file);
    if (fs.existsSync(source)) fs.copyFileSync(source, path.join(targetDir, file));
  }
}

/**
 * Locating the model fixtures and comparing activations with their PyTorch references.
 *
 * All model fixtures are in the repository, so a clone anywhere passes its tests:
 * - test/fixtures/onnx-models/<name>: tiny random-weight Hugging Face GPT-2, Llama and GPT-NeoX (vocabulary 1024)
 *   exported to ONNX in the Hub folder layout, with PyTorch references (test/fixtures/onnx-models/generate.py);
 * - test/fixtures/torch-export/<name>: plain-torch exports with past inputs / a Qwen2-style graph
 *   (test/fixtures/torch-export/generate.py).
 * ../shared (or $SPACETIME_SHARED_DIR) is only for benchmarks; no test reads it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { unpackFixtures } from '../../scripts/fixtures/fixturePack';

/** Repository root, from out/test/helpers (compiled) or test/helpers (source). */
export const repoRoot = path.resolve(__dirname, __dirname.includes(`${path.sep}out${path.sep}`) ? '../../..' : '../..');

export const ONNX_MODELS = ['gpt2-tiny', 'llama-tiny', 'neox-tiny'] as const;
export const LOCAL_MODELS = ['gpt2-past', 'qwen2-style'] as const;

/** A Hugging Face model exported to ONNX: test/fixtures/onnx-models/<name>. */
export function onnxModelDir(name: (typeof ONNX_MODELS)[number]): string {
  return path.join(repoRoot, 'test', 'fixtures', 'onnx-models', name);
}

/** A plain-torch export: test/fixtures/torch-export/<name>. */
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

/**
 * The ONNX export corpus (test/fixtures/onnx-exports.pack.br, made by scripts/fixtures/fixturePack.ts from what
 * test/fixtures/onnx-exports/generate.py writes), unpacked once into out/test-fixtures/onnx-exports-<hash> (the
 * hash of the pack, so a new pack is never served stale) and shared by every test process.
 */
export function onnxExportsDir(): string {
  const pack = path.join(repoRoot, 'test', 'fixtures', 'onnx-exports.pack.br');
  const hash = createHash('sha256').update(fs.readFileSync(pack)).digest('hex').slice(0, 16);
  const dir = path.join(repoRoot, 'out', 'test-fixtures', `onnx-exports-${hash}`);
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  // Unpack next to the target and rename, so two test processes never see a half-written folder.
  const staging = `${dir}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  unpackFixtures(pack, staging);
  fs.writeFileSync(path.join(staging, '.complete'), '');
  try {
    fs.renameSync(staging, dir);
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(path.join(dir, '.complete'))) throw error;
  }
  return dir;
}

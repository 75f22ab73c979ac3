/**
 * @file Resolve a model spec (a Hugging Face Hub-layout folder, or a bare .onnx file) to its files and config.
 *
 * Hub layout (as exported by optimum / used by transformers.js):
 *   config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx (+ variants model_fp16.onnx,
 *   model_quantized.onnx, …, and model.onnx_data for external weights).
 * A bare .onnx file needs tokenizer.json next to it or one folder up (the onnx/ subfolder case).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelLoadError } from './errors';

/**
 * Which export to load from a folder: 'fp32' → model.onnx, 'fp16' → model_fp16.onnx, 'q8' → model_quantized.onnx,
 * any other name → model_<name>.onnx (transformers.js naming: int8, uint8, q4, q4f16, bnb4). 'auto' prefers fp32,
 * then fp16, then q8.
 */
export type ModelVariant = 'auto' | 'fp32' | 'fp16' | 'q8' | (string & {});

/** The config.json fields the model layer needs, normalised across architectures. */
export interface TransformerConfig {
  readonly modelType?: string;
  readonly numHiddenLayers?: number;
  readonly hiddenSize?: number;
  readonly numAttentionHeads?: number;
  readonly numKeyValueHeads?: number;
  readonly headDim?: number;
  readonly padTokenId?: number;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
}

export interface ModelFiles {
  /** The .onnx file to load. */
  readonly modelPath: string;
  /** Which variant that file is ('fp32', 'fp16', 'q8', … or 'file' for an explicitly named .onnx). */
  readonly variant: string;
  readonly tokenizerPath: string;
  readonly tokenizerConfigPath?: string;
  readonly configPath?: string;
  readonly config: TransformerConfig;
}

const VARIANT_FILE: Readonly<Record<string, string>> = { fp32: 'model', fp16: 'model_fp16', q8: 'model_quantized' };
const AUTO_ORDER = ['fp32', 'fp16', 'q8'];
/** Folder-relative places a model file is looked for, in order; `{name}` is model / model_fp16 / …. */
const MODEL_PLACES = ['onnx/{name}.onnx', '{name}.onnx', 'onnx/decoder_{name}.onnx', 'decoder_{name}.onnx'];

/** How a model's weights are read: our graph over a safetensors checkpoint, or an ONNX export. */
export type ModelFormat = 'auto' | 'safetensors' | 'onnx';
export const MODEL_FORMATS: readonly ModelFormat[] = ['auto', 'safetensors', 'onnx'];

/** True when a folder holds a save_pretrained checkpoint: config.json + model.safetensors or its shard index. */
export function hasCheckpoint(folder: string): boolean {
  return isFile(path.join(folder, 'config.json'))
    && (isFile(path.join(folder, 'model.safetensors')) || isFile(path.join(folder, 'model.safetensors.index.json')));
}

/**
 * Which format to load a local spec as. `auto`: an .onnx file, or an ONNX variant named explicitly, means ONNX;
 * otherwise a folder with a checkpoint is read from its safetensors (the original weights, exact by construction:
 * no exporter between them and us), and a folder without one from its ONNX export.
 */
export function chooseFolderFormat(spec: string, format: ModelFormat, variant?: string): 'safetensors' | 'onnx' {
  if (format !== 'auto') {
    if (format === 'safetensors' && !hasCheckpoint(path.resolve(spec))) {
      throw new ModelLoadError(`No safetensors checkpoint in ${spec}.`, ['Looked for config.json with model.safetensors or model.safetensors.index.json.']);
    }
    return format;
  }
  if (variant !== undefined && variant !== 'auto') return 'onnx';
  let isFolder = false;
  try {
    isFolder = fs.statSync(path.resolve(spec)).isDirectory();
  } catch {
    return 'onnx'; // resolveModelFiles reports the missing path
  }
  return isFolder && hasCheckpoint(path.resolve(spec)) ? 'safetensors' : 'onnx';
}

/** What a folder offers: a safetensors checkpoint and/or ONNX graphs (for the Models view); undefined if neither. */
export function describeModelFolder(folder: string): { folder: string; formats: string[] } | undefined {
  const formats: string[] = [];
  if (hasCheckpoint(folder)) formats.push('safetensors');
  for (const place of [path.join(folder, 'onnx'), folder]) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(place).filter((name) => name.endsWith('.onnx'));
    } catch {
      // no such folder
    }
    for (const name of names.sort()) formats.push(path.relative(folder, path.join(place, name)).split(path.sep).join('/'));
  }
  return formats.length > 0 ? { folder, formats } : undefined;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function firstExisting(candidates: readonly string[]): string | undefined {
  return candidates.find(isFile);
}

/** Read a JSON file, turning syntax errors into a ModelLoadError that names the file. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ModelLoadError(`Cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ModelLoadError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function firstInteger(record: Record<string, unknown>, keys: readonly string[]): number | undefined {
  for (const key of keys) {
    const value = record[key];
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (Array.isArray(value) && typeof value[0] === 'number' && Number.isInteger(value[0])) return value[0];
  }
  return undefined;
}

/** Normalise config.json across naming conventions (GPT-2 n_layer/n_embd, Llama num_hidden_layers/hidden_size, …). */
export function parseTransformerConfig(raw: unknown): TransformerConfig {
  const top = asRecord(raw);
  // Multimodal configs (e.g. Qwen2-VL, Gemma-3) keep the language model's numbers under text_config.
  const text = asRecord(top.text_config);
  const pick = (keys: readonly string[]): number | undefined => firstInteger(top, keys) ?? firstInteger(text, keys);
  const numAttentionHeads = pick(['num_attention_heads', 'n_head', 'num_heads', 'n_heads']);
  const hiddenSize = pick(['hidden_size', 'n_embd', 'd_model', 'dim']);
  const multiQuery = top.multi_query === true ? 1 : undefined;
  return {
    modelType: typeof top.model_type === 'string' ? top.model_type : undefined,
    numHiddenLayers: pick(['num_hidden_layers', 'n_layer', 'num_layers', 'n_layers']),
    hiddenSize,
    numAttentionHeads,
    numKeyValueHeads: pick(['num_key_value_heads', 'n_head_kv', 'num_kv_heads']) ?? multiQuery ?? numAttentionHeads,
    headDim: pick(['head_dim']) ?? (hiddenSize !== undefined && numAttentionHeads ? hiddenSize / numAttentionHeads : undefined),
    padTokenId: pick(['pad_token_id']),
    bosTokenId: pick(['bos_token_id']),
    eosTokenId: pick(['eos_token_id']),
  };
}

function variantFileName(variant: string): string {
  return VARIANT_FILE[variant] ?? `model_${variant}`;
}

/** Find the model file, tokenizer and config for a folder or .onnx path. */
export function resolveModelFiles(spec: string, variant: ModelVariant = 'auto'): ModelFiles {
  const resolved = path.resolve(spec);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(resolved);
  } catch {
    throw new ModelLoadError(`Model not found: ${spec}`, ['Give a model folder (config.json, tokenizer.json, onnx/model.onnx) or an .onnx file.']);
  }
  let modelPath: string;
  let chosen: string;
  let searchFolders: string[];
  if (stat.isDirectory()) {
    const variants = variant === 'auto' ? AUTO_ORDER : [variant];
    const tried: string[] = [];
    let found: { file: string; variant: string } | undefined;
    for (const candidate of variants) {
      const places = MODEL_PLACES.map((place) => path.join(resolved, place.replace('{name}', variantFileName(candidate))));
      tried.push(...places);
      const file = firstExisting(places);
      if (file) { found = { file, variant: candidate }; break; }
    }
    if (!found) {
      const merged = firstExisting([path.join(resolved, 'onnx', 'decoder_model_merged.onnx'), path.join(resolved, 'decoder_model_merged.onnx')]);
      const details = [`Looked for: ${tried.map((file) => path.relative(resolved, file)).join(', ')}.`];
      if (merged) {
        details.push(`Only a merged decoder (${path.relative(resolved, merged)}) is present: its blocks sit inside If ` +
          'subgraphs and cannot be tapped. Export a single-graph model (model.onnx / decoder_model.onnx).');
      }
      throw new ModelLoadError(`No ${variant === 'auto' ? '' : `${variant} `}ONNX model in ${spec}.`, details);
    }
    modelPath = found.file;
    chosen = found.variant;
    searchFolders = [resolved];
  } else {
    if (!resolved.endsWith('.onnx')) {
      throw new ModelLoadError(`${spec} is neither a folder nor an .onnx file.`);
    }
    modelPath = resolved;
    chosen = 'file';
    const folder = path.dirname(resolved);
    searchFolders = [folder, path.dirname(folder)];
  }
  const inFolders = (name: string): string | undefined => firstExisting(searchFolders.map((folder) => path.join(folder, name)));
  const tokenizerPath = inFolders('tokenizer.json');
  if (!tokenizerPath) {
    throw new ModelLoadError(`No tokenizer.json for ${spec}.`, [
      `Looked in ${searchFolders.join(' and ')}. The model's own tokenizer.json (Hugging Face tokenizers format) is required.`]);
  }
  const configPath = inFolders('config.json');
  const config = configPath ? parseTransformerConfig(readJsonFile(configPath)) : {};
  return { modelPath, variant: chosen, tokenizerPath, tokenizerConfigPath: inFolders('tokenizer_config.json'), configPath, config };
}

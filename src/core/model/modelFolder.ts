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
  /** max_position_embeddings / n_positions / n_ctx / seq_length. */
  readonly maxPositions?: number;
  readonly vocabSize?: number;
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
/**
 * Folder-relative places a model file is looked for, in order; `{name}` is model / model_fp16 / …, `{suffix}` the
 * part after "model" (_fp16, _quantized, …). Merged decoders (an If on use_cache_branch) come last: their no-past
 * branch is inlined at load time.
 */
const MODEL_PLACES = [
  'onnx/{name}.onnx', '{name}.onnx', 'onnx/decoder_{name}.onnx', 'decoder_{name}.onnx',
  'onnx/decoder_model_merged{suffix}.onnx', 'decoder_model_merged{suffix}.onnx',
];

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
    ...definedOnly({ maxPositions: pick(['max_position_embeddings', 'n_positions', 'n_ctx', 'seq_length']), vocabSize: pick(['vocab_size', 'n_vocab']) }),
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
  let genaiConfigPath: string | undefined;
  if (stat.isDirectory()) {
    const genai = genaiFolders(resolved);
    const named = genai.find((folder) => variant !== 'auto' && (folder === variant || path.posix.basename(folder) === variant));
    const variants = named ? [] : variant === 'auto' ? AUTO_ORDER : [variant];
    const tried: string[] = [];
    let found: { file: string; variant: string } | undefined;
    for (const candidate of variants) {
      const name = variantFileName(candidate);
      const places = MODEL_PLACES.map((place) => path.join(resolved, place.replace('{name}', name).replace('{suffix}', name.slice('model'.length))));
      tried.push(...places);
      const file = firstExisting(places);
      if (file) { found = { file, variant: candidate }; break; }
    }
    // onnxruntime-genai model-builder folders: genai_config.json next to the graph, at the root or per provider.
    const genaiFolder = named ?? (!found && variant === 'auto' ? preferredGenaiFolder(genai) : undefined);
    if (genaiFolder !== undefined) {
      genaiConfigPath = path.join(resolved, genaiFolder, 'genai_config.json');
      const file = path.join(resolved, genaiFolder, genaiModelFile(readJsonFile(genaiConfigPath)));
      if (!isFile(file)) throw new ModelLoadError(`${genaiConfigPath} names ${path.basename(file)}, which is not there.`);
      found = { file, variant: genaiFolder === '.' ? 'genai' : genaiFolder };
    }
    if (!found) {
      const details = [`Looked for: ${tried.map((file) => path.relative(resolved, file)).join(', ')}.`];
      if (genai.length > 0) details.push(`onnxruntime-genai variants here: ${genai.join(', ')}.`);
      throw new ModelLoadError(`No ${variant === 'auto' ? '' : `${variant} `}ONNX model in ${spec}.`, details);
    }
    modelPath = found.file;
    chosen = found.variant;
    searchFolders = [resolved];
    if (genaiFolder !== undefined) {
      // Sidecars next to the graph first (genai subfolders carry their own tokenizer), then up to the folder given.
      searchFolders = [];
      for (let folder = path.dirname(modelPath); ; folder = path.dirname(folder)) {
        searchFolders.push(folder);
        if (folder === resolved || path.dirname(folder) === folder || !folder.startsWith(resolved)) break;
      }
    }
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
  const fromConfig = configPath ? parseTransformerConfig(readJsonFile(configPath)) : {};
  genaiConfigPath ??= inFolders('genai_config.json');
  // genai_config.json fills in what config.json does not say (builder folders usually have no config.json).
  const config = genaiConfigPath ? { ...parseGenaiConfig(readJsonFile(genaiConfigPath)), ...definedOnly(fromConfig) } : fromConfig;
  return {
    modelPath, variant: chosen, tokenizerPath, tokenizerConfigPath: inFolders('tokenizer_config.json'), configPath: configPath ?? genaiConfigPath, config,
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

/**
 * Folders (relative, '.' for the root) holding an onnxruntime-genai model: genai_config.json, at the root or one or
 * two levels down (the Hub's per-provider layout: cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4/, cuda/cuda-fp16/).
 */
export function genaiFolders(root: string): string[] {
  const found: string[] = [];
  const visit = (relative: string, depth: number): void => {
    const folder = path.join(root, relative);
    if (isFile(path.join(folder, 'genai_config.json'))) found.push(relative === '' ? '.' : relative);
    if (depth >= 2) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory() && !entry.name.startsWith('.')) visit(relative ? `${relative}/${entry.name}` : entry.name, depth + 1);
    }
  };
  visit('', 0);
  return found;
}

/** For 'auto': the root's own model, else a CPU build (fp32 before quantised ones), else the first. */
export function preferredGenaiFolder(folders: readonly string[]): string | undefined {
  const rank = (folder: string): number => (folder === '.' ? 0 : /cpu/i.test(folder) ? (/fp32/i.test(folder) ? 1 : 2) : 3);
  return [...folders].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))[0];
}

function genaiModelFile(raw: unknown): string {
  const decoder = asRecord(asRecord(asRecord(raw).model).decoder);
  return typeof decoder.filename === 'string' && decoder.filename ? decoder.filename : 'model.onnx';
}

/** The model numbers from an onnxruntime-genai genai_config.json (model.decoder.*, model.*_token_id). */
export function parseGenaiConfig(raw: unknown): TransformerConfig {
  const model = asRecord(asRecord(raw).model);
  const decoder = asRecord(model.decoder);
  const numAttentionHeads = firstInteger(decoder, ['num_attention_heads']);
  const hiddenSize = firstInteger(decoder, ['hidden_size']);
  return definedOnly({
    modelType: typeof model.type === 'string' ? model.type : undefined,
    numHiddenLayers: firstInteger(decoder, ['num_hidden_layers']),
    hiddenSize,
    numAttentionHeads,
    numKeyValueHeads: firstInteger(decoder, ['num_key_value_heads']) ?? numAttentionHeads,
    headDim: firstInteger(decoder, ['head_size']) ?? (hiddenSize !== undefined && numAttentionHeads ? hiddenSize / numAttentionHeads : undefined),
    padTokenId: firstInteger(model, ['pad_token_id']),
    bosTokenId: firstInteger(model, ['bos_token_id']),
    eosTokenId: firstInteger(model, ['eos_token_id']),
  }) as TransformerConfig;
}

/** One loadable export in a model folder: what `--variant` names it, its graph file and its external data files. */
export interface ModelVariantFile {
  /** 'fp32', 'fp16', 'q8' (model_quantized), or the transformers.js suffix: q4, q4f16, bnb4, int8, uint8, … */
  readonly variant: string;
  /** Folder-relative path of the graph. */
  readonly file: string;
  /** Folder-relative external data files next to it (X.onnx_data, X.onnx_data_1, …, X.onnx.data). */
  readonly externalData: readonly string[];
}

const VARIANT_OF_SUFFIX: Readonly<Record<string, string>> = { '': 'fp32', _fp16: 'fp16', _quantized: 'q8' };
const VARIANT_FILE_PATTERN = /^(?:model|decoder_model_merged|decoder_model)((?:_[\w-]+)?)\.onnx$/;

/**
 * The variants a folder holds, in the order `auto` would try them for the standard three, then by name: every graph
 * named by the Hub conventions (onnx/model{,_fp16,_q4,_q4f16,_bnb4,_int8,_uint8,_quantized}.onnx, also at the root
 * and as decoder_model*.onnx / decoder_model_merged*.onnx), each once (the place the loader would pick).
 * `files` lists the folder's files (relative paths) when they are known without reading the disk (a Hub listing).
 */
export function listModelVariants(folder: string, files?: readonly string[]): ModelVariantFile[] {
  const present = files ? new Set(files) : undefined;
  const exists = (relative: string): boolean => (present ? present.has(relative) : isFile(path.join(folder, relative)));
  const names = files ?? ['onnx', '.'].flatMap((sub) => {
    try {
      return fs.readdirSync(path.join(folder, sub)).map((name) => (sub === '.' ? name : `${sub}/${name}`));
    } catch {
      return [];
    }
  });
  const variants = new Set<string>();
  for (const name of names) {
    const match = VARIANT_FILE_PATTERN.exec(path.posix.basename(name));
    const parent = path.posix.dirname(name);
    if (match && (parent === '.' || parent === 'onnx')) variants.add(VARIANT_OF_SUFFIX[match[1]] ?? match[1].slice(1));
  }
  const order = (variant: string): string => `${AUTO_ORDER.includes(variant) ? AUTO_ORDER.indexOf(variant) : 9}${variant}`;
  const result: ModelVariantFile[] = [];
  for (const variant of [...variants].sort((a, b) => order(a).localeCompare(order(b)))) {
    const name = variantFileName(variant);
    const file = MODEL_PLACES.map((place) => place.replace('{name}', name).replace('{suffix}', name.slice('model'.length)))
      .find((candidate) => exists(candidate));
    if (!file) continue;
    const base = path.posix.basename(file);
    const dir = path.posix.dirname(file);
    const externalData = names.filter((other) => path.posix.dirname(other) === dir &&
      (path.posix.basename(other).startsWith(`${base}_data`) || path.posix.basename(other).startsWith(`${base}.data`))).sort();
    result.push({ variant, file, externalData });
  }
  if (!files) {
    // onnxruntime-genai builder folders: the variant is the folder (cpu_and_mobile/cpu-int4-…); data model.onnx.data.
    for (const folderName of genaiFolders(folder)) {
      const sub = folderName === '.' ? '' : `${folderName}/`;
      let graph = 'model.onnx';
      try {
        graph = genaiModelFile(JSON.parse(fs.readFileSync(path.join(folder, sub, 'genai_config.json'), 'utf8')));
      } catch {
        // Unreadable genai_config.json: assume the builder's default name.
      }
      let siblings: string[] = [];
      try {
        siblings = fs.readdirSync(path.join(folder, sub));
      } catch {
        // Listed a moment ago; gone now.
      }
      result.push({
        variant: folderName === '.' ? 'genai' : folderName, file: `${sub}${graph}`,
        externalData: siblings.filter((name) => name.startsWith(`${graph}_data`) || name.startsWith(`${graph}.data`)).sort().map((name) => `${sub}${name}`),
      });
    }
  }
  return result;
}

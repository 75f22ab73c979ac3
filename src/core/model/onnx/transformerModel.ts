/**
 * @file ResidualModel for ONNX causal language models: load, find the residual taps, rewrite, run right-padded batches.
 *
 * Load steps: resolve the files (modelFolder.ts) → parse the graph (onnxGraph.ts) → find the L+1 block-boundary
 * tensors (residualTaps.ts, or the user's override) → rewrite: gather the last token of each tap inside the graph
 * and prune the LM head (graphRewrite.ts) → create the onnxruntime session → one 1-token validation run that
 * checks the output width against L+1 and hidden_size.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type DeviceInfo, type DeviceRequest, type PromptInput, type ResidualModel, type TokenizedPrompt } from '../types';
import { ModelLoadError } from '../errors';
import { runResidualBatch, toPaddedBatch } from '../residualRun';
import { fileContentHashSync } from '../../util/fileIdentity';
import { checkVocabulary } from '../vocabulary';
import { resolveModelFiles, type ModelVariant, type TransformerConfig } from '../modelFolder';
import { dataTypeName, externalDataFiles, OnnxDataType, parseOnnxModel, type OnnxModel, type OnnxValueInfo } from './onnxGraph';
import { discoverResidualTaps, validateTapOverride, type ResidualTaps } from './residualTaps';
import { inlineMergedDecoder, rewriteForResidualTaps, type TapRewrite } from './graphRewrite';
import { ModelTokenizer, type BosPolicy } from '../tokenizer';
import type { SessionOptions } from '../../runtime/ort';
import { DeviceUnavailableError } from '../../runtime/devices';
import { ResidualSession, type FeedSpec, type IntegerDType, type PastDType } from '../../runtime/residualSession';

export interface TransformerModelOptions {
  readonly device?: DeviceRequest;
  /** Defaults to the number of CPU cores. */
  readonly intraOpNumThreads?: number;
  /** Tensor names to use as the L+1 residual taps instead of discovering them. */
  readonly taps?: readonly string[];
  /** Which export to load from a folder (default 'auto': model.onnx, then model_fp16.onnx, then model_quantized.onnx). */
  readonly variant?: ModelVariant;
  /** Overrides config.json's layer count (bare .onnx files without config.json). */
  readonly numHiddenLayers?: number;
  /** ModelInfo.id to report (e.g. 'hf:<repo>@<rev>' when the Hub downloader resolved the folder). */
  readonly id?: string;
  /** onnxruntime's per-node profile, written to the working folder by `endProfiling()` (bench/device-check). */
  readonly enableProfiling?: boolean;
  /** WebGPU validation mode (see SessionOptions.webgpuValidation). */
  readonly webgpuValidation?: SessionOptions['webgpuValidation'];
}

/** A loaded transformer, with what discovery and rewriting found (for logs, docs and tests). */
export interface TransformerModel extends ResidualModel {
  readonly modelPath: string;
  readonly variant: string;
  readonly residualTaps: ResidualTaps;
  readonly rewrite: Omit<TapRewrite, 'bytes'>;
  readonly bosPolicy: BosPolicy;
  readonly inputNames: readonly string[];
  /** Write onnxruntime's profile file (only with `enableProfiling`). */
  endProfiling(): void;
}

function integerDType(info: OnnxValueInfo, label: string): IntegerDType {
  if (info.elemType === OnnxDataType.INT64 || info.elemType === undefined) return 'int64';
  if (info.elemType === OnnxDataType.INT32) return 'int32';
  throw new ModelLoadError(`Input ${info.name} of ${label} is ${dataTypeName(info.elemType)}; expected int64 or int32.`);
}

/** A zero-length KV-cache tensor's shape: batch where the graph says batch, 0 for the past length, config for heads/head_dim. */
function emptyPastDims(info: OnnxValueInfo, config: TransformerConfig, label: string): (number | 'batch')[] {
  const declared = info.dims ?? ['batch_size', 'num_heads', 'past_sequence_length', 'head_dim'];
  const dims = declared.map((dim, index): number | 'batch' | undefined => {
    if (typeof dim === 'number') return dim;
    const symbol = (dim ?? '').toLowerCase();
    if (index === 0 || symbol.includes('batch')) return 'batch';
    if (/seq|len|past|total|cache/.test(symbol)) return 0;
    if (index === declared.length - 1) return config.headDim;
    if (index === 1) return config.numKeyValueHeads;
    return undefined;
  });
  if (!dims.includes(0) && dims.length === 4) dims[2] = 0;
  if (dims.some((dim) => dim === undefined) || !dims.includes(0)) {
    throw new ModelLoadError(`Cannot size the empty KV-cache input ${info.name} of ${label} (declared shape ` +
      `[${declared.join(', ')}]).`, ['config.json needs num_key_value_heads/num_attention_heads and head_dim/hidden_size, ' +
      'or use an export without past_key_values inputs.']);
  }
  return dims as (number | 'batch')[];
}

function pastDType(info: OnnxValueInfo, label: string): PastDType {
  switch (info.elemType) {
    case OnnxDataType.FLOAT: return 'float32';
    case OnnxDataType.FLOAT16: return 'float16';
    case OnnxDataType.DOUBLE: return 'float64';
    default:
      throw new ModelLoadError(`KV-cache input ${info.name} of ${label} is ${dataTypeName(info.elemType)}, which ` +
        'onnxruntime-node cannot feed from JavaScript.', ['Use an fp32 or fp16 export.']);
  }
}

/** Decide what to feed into each input of the rewritten graph, by the usual Hugging Face export names. */
export function planFeeds(model: OnnxModel, rewrite: TapRewrite, config: TransformerConfig, label: string): FeedSpec[] {
  const byName = new Map(model.inputs.map((input) => [input.name, input]));
  const unknown: string[] = [];
  const feeds: FeedSpec[] = [];
  for (const name of rewrite.inputs) {
    if (name === rewrite.lastIndexInput) { feeds.push({ name, role: 'last_index' }); continue; }
    const info = byName.get(name) ?? { name, field: { field: 0, wireType: 0, start: 0, payloadStart: 0, end: 0 } };
    const lower = name.toLowerCase();
    if (lower === 'input_ids' || lower.endsWith('input_ids')) feeds.push({ name, role: 'input_ids', dtype: integerDType(info, label) });
    else if (lower.includes('attention_mask')) {
      const dtype = info.elemType === OnnxDataType.FLOAT ? 'float32' : info.elemType === OnnxDataType.BOOL ? 'bool' : integerDType(info, label);
      feeds.push({ name, role: 'attention_mask', dtype });
    } else if (lower.includes('position_ids')) feeds.push({ name, role: 'position_ids', dtype: integerDType(info, label) });
    else if (lower.includes('cache_position')) feeds.push({ name, role: 'cache_position', dtype: integerDType(info, label) });
    else if (lower.includes('token_type_ids')) feeds.push({ name, role: 'token_type_ids', dtype: integerDType(info, label) });
    else if (lower.includes('use_cache_branch')) feeds.push({ name, role: 'use_cache_branch' });
    else if (lower.startsWith('past') || /\.(key|value)$/.test(lower)) {
      feeds.push({ name, role: 'empty_past', dtype: pastDType(info, label), dims: emptyPastDims(info, config, label) });
    } else unknown.push(name);
  }
  if (unknown.length > 0) {
    throw new ModelLoadError(`${label} has input(s) we do not know how to feed: ${unknown.join(', ')}.`, [
      'Known inputs: input_ids, attention_mask, position_ids, token_type_ids, cache_position, past_key_values.*, use_cache_branch.']);
  }
  return feeds;
}

/** Every line of an error's message (onnxruntime puts the reason after the first line), for ModelLoadError details. */
function errorLines(error: unknown): string[] {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n').map((line) => line.trim()).filter((line) => line);
}

/**
 * Where the external-data files of a model really are. Each `location` is resolved against the model file's folder
 * and then to its real path: in a Hugging Face cache snapshot both the graph and its data are symlinks into blobs/,
 * under content-hash names. All data files must end up in one folder; the locations are rewritten to the real
 * file names there.
 */
function externalDataLocations(model: OnnxModel, modelPath: string, label: string): { folder: string; locations: Map<string, string> } | undefined {
  const locations = externalDataFiles(model);
  if (locations.length === 0) return undefined;
  const folder = path.dirname(modelPath);
  const real = locations.map((location) => {
    const file = path.resolve(folder, location);
    try {
      return fs.realpathSync(file);
    } catch {
      throw new ModelLoadError(`The external data file ${location} of ${label} is missing (looked for ${file}).`,
        ['Download or copy it next to the graph: the weights of this export live in that file.']);
    }
  });
  const folders = [...new Set(real.map((file) => path.dirname(file)))];
  if (folders.length > 1) {
    throw new ModelLoadError(`The external data files of ${label} resolve to different folders (${folders.join(', ')}).`,
      ['onnxruntime reads external data from one folder: put the files (or the files their links point to) together.']);
  }
  return { folder: folders[0], locations: new Map(locations.map((location, index) => [location, path.basename(real[index])])) };
}

/** Hash of everything that determines the activations: graph bytes, weights, tokenizer files, taps. */
function fingerprint(modelBytes: Uint8Array, modelPath: string, model: OnnxModel, files: readonly (string | undefined)[], taps: readonly string[]): string {
  const hash = crypto.createHash('sha256');
  hash.update('spacetime-probe-model/2\0');
  hash.update(modelBytes);
  // External weights: every byte counts (a perturbed weight must change the identity); fileContentHashSync reads
  // a file once and remembers its SHA-256 while the file is unchanged (src/core/util/fileIdentity.ts).
  for (const location of externalDataFiles(model)) {
    const file = path.join(path.dirname(modelPath), location);
    hash.update(`${location}\0${fs.statSync(file).size}\0${fileContentHashSync(file)}\0`);
  }
  for (const file of files) hash.update(file ? fs.readFileSync(file) : '\0');
  hash.update(JSON.stringify(taps));
  return hash.digest('hex');
}

/** Load an ONNX causal LM from a Hub-layout folder or an .onnx file. Problems with the model throw ModelLoadError. */
export async function loadTransformerModel(spec: string, options: TransformerModelOptions = {}): Promise<TransformerModel> {
  const files = resolveModelFiles(spec, options.variant ?? 'auto');
  const label = files.modelPath;
  const config: TransformerConfig = { ...files.config, ...(options.numHiddenLayers !== undefined ? { numHiddenLayers: options.numHiddenLayers } : {}) };
  const tokenizer = ModelTokenizer.fromFiles(files.tokenizerPath, files.tokenizerConfigPath);
  const loadWarnings = checkVocabulary(files.tokenizerPath, config.vocabSize, label);

  let modelBytes: Uint8Array | undefined = fs.readFileSync(files.modelPath);
  let model: OnnxModel | undefined;
  try {
    model = parseOnnxModel(modelBytes);
  } catch (error) {
    throw new ModelLoadError(`Cannot read ${label}: ${(error as Error).message}`);
  }
  // A merged decoder: take its no-past branch (the one that runs with use_cache_branch = false) into the main graph.
  const inlined = inlineMergedDecoder(model, label);
  if (inlined) {
    modelBytes = inlined.bytes;
    model = parseOnnxModel(modelBytes);
  }
  const discoveryOptions = { numHiddenLayers: config.numHiddenLayers, modelLabel: label };
  const residualTaps = options.taps && options.taps.length > 0
    ? validateTapOverride(model, options.taps, discoveryOptions)
    : discoverResidualTaps(model, discoveryOptions);
  const external = externalDataLocations(model, files.modelPath, label);
  const rewrite = rewriteForResidualTaps(model, {
    taps: residualTaps.taps, synthesized: residualTaps.synthesized, hiddenSize: config.hiddenSize, externalDataLocations: external?.locations,
  });
  const feeds = planFeeds(model, rewrite, config, label);
  const modelFingerprint = fingerprint(modelBytes, files.modelPath, model, [files.tokenizerPath, files.tokenizerConfigPath], residualTaps.taps);
  // Drop the original bytes before onnxruntime copies the rewritten ones (peak memory).
  modelBytes = undefined;
  model = undefined;

  const sessionOptions = {
    device: options.device, intraOpNumThreads: options.intraOpNumThreads, feeds, outputName: rewrite.outputName,
    enableProfiling: options.enableProfiling, webgpuValidation: options.webgpuValidation,
    // External data: the rewritten graph is loaded from bytes and onnxruntime is told where the data files really
    // are, so nothing is written next to them (read-only folders, Hugging Face cache snapshots of symlinks).
    externalDataFolder: external?.folder,
  };
  let session: ResidualSession;
  try {
    session = await ResidualSession.create(rewrite.bytes, sessionOptions);
  } catch (error) {
    if (error instanceof ModelLoadError || error instanceof DeviceUnavailableError) throw error;
    throw new ModelLoadError(`onnxruntime cannot load the rewritten ${label}.`, errorLines(error));
  }

  const numLayers = residualTaps.taps.length;
  const padId = config.padTokenId ?? config.eosTokenId ?? tokenizer.bosId ?? 0;
  const probeId = tokenizer.bosId ?? config.bosTokenId ?? 0;
  let hiddenSize: number;
  try {
    const probe = await session.run(toPaddedBatch([{ ids: [probeId], usable: true }], padId));
    const width = probe.dims[1] ?? 0;
    if (probe.dims.length !== 2 || probe.dims[0] !== 1 || width % numLayers !== 0) {
      throw new ModelLoadError(`The taps of ${label} do not have the expected [batch, tokens, hidden] shape ` +
        `(gathered output dims [${probe.dims.join(', ')}] for ${numLayers} taps).`, ['Check the tap tensor names.']);
    }
    hiddenSize = width / numLayers;
  } catch (error) {
    await session.release();
    if (error instanceof ModelLoadError) throw error;
    throw new ModelLoadError(`Test run of ${label} failed.`, errorLines(error));
  }
  if (config.hiddenSize !== undefined && config.hiddenSize !== hiddenSize) {
    await session.release();
    throw new ModelLoadError(`The taps of ${label} are ${hiddenSize} wide but config.json says hidden_size ${config.hiddenSize}.`,
      ['Some tap is not the residual stream; check the override or report the model.']);
  }

  const device: DeviceInfo = session.device;
  const { bytes: _bytes, ...rewriteStats } = rewrite;
  return {
    id: options.id ?? spec,
    architecture: config.modelType ?? 'unknown',
    format: 'onnx',
    weightsDtype: files.variant,
    numLayers,
    hiddenSize,
    fingerprint: modelFingerprint,
    ...(config.maxPositions !== undefined ? { maxPositions: config.maxPositions } : {}),
    ...(config.vocabSize !== undefined ? { vocabSize: config.vocabSize } : {}),
    ...(config.numAttentionHeads !== undefined ? { numAttentionHeads: config.numAttentionHeads } : {}),
    loadWarnings,
    device,
    modelPath: files.modelPath,
    variant: files.variant,
    residualTaps,
    rewrite: rewriteStats,
    bosPolicy: tokenizer.bosPolicy,
    inputNames: session.inputNames,
    tokenize(prompts: readonly (string | PromptInput)[]): TokenizedPrompt[] {
      return tokenizer.encodeAll(prompts);
    },
    async runBatch(prompts: readonly TokenizedPrompt[]): Promise<Float32Array> {
      return runResidualBatch(session, prompts, padId, label, numLayers, hiddenSize);
    },
    endProfiling(): void {
      session.endProfiling();
    },
    async dispose(): Promise<void> {
      await session.release();
    },
  };
}

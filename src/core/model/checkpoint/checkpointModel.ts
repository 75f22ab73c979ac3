/**
 * @file ResidualModel for Hugging Face checkpoints (config.json + safetensors + tokenizer.json): our own ONNX graph
 * of the forward pass, its weights external-data initializers inside the checkpoint's files (zero copy), run by
 * onnxruntime like the tap-rewritten exports (same inputs input_ids/last_index, same output resid_last).
 *
 * Load steps: read the tensor directory (safetensors.ts: every header claim checked) → config.json → the family's
 * builder (registry.ts) writes blocks 1…L, shape-checking each weight → memory check for float32 compute → the
 * session, from bytes, with external data resolved against the checkpoint files' real folder (a Hugging Face cache
 * snapshot is symlinks into blobs/) → one 1-token run that checks the output width.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DeviceName, DeviceRequest, PromptInput, ResidualModel, TokenizedPrompt } from '../types';
import { ModelLoadError } from '../errors';
import { ModelTokenizer } from '../tokenizer';
import { checkVocabulary } from '../vocabulary';
import { runResidualBatch, toPaddedBatch } from '../residualRun';
import { autoDeviceChoice, DeviceUnavailableError, probeAllProviders } from '../../runtime/devices';
import { ResidualSession } from '../../runtime/residualSession';
import { Graph, Weights } from './blocks';
import { ConfigReader } from './config';
import { ElemType } from './graphBuilder';
import { architectureFor } from './registry';
import { readCheckpointTensors, type CheckpointTensors, type TensorRef } from './safetensors';
import { fileContentHash } from '../../util/fileIdentity';

/** Bumped whenever the graph a checkpoint gives can change (part of the activation-cache fingerprint). */
export const GRAPH_BUILDER_VERSION = 2;

export interface CheckpointModelOptions {
  readonly device?: DeviceRequest;
  readonly intraOpNumThreads?: number;
  /** ModelInfo.id to report (e.g. 'hf:<repo>@<rev>'). */
  readonly id?: string;
  /** Build only blocks 1…maxBlocks (probe layers 0…maxBlocks); default: all. */
  readonly maxBlocks?: number;
  /** Bytes of memory the float32 weights may take; default: what the machine has available. */
  readonly memoryLimitBytes?: number;
  /**
   * What the graph computes in. Default: float32 on CPU (exact; onnxruntime's CPU float16 kernels are slow), float16
   * on WebGPU/CUDA (norms and softmax in float32, as transformers does).
   */
  readonly computeDtype?: 'float32' | 'float16';
  /**
   * Attention as onnxruntime's fused GroupQueryAttention kernel (head sizes that are multiples of 16). Default: on
   * WebGPU/CUDA yes, on CPU no (the plain graph is the reference path there).
   */
  readonly fusedAttention?: boolean;
  /**
   * Whose GroupQueryAttention kernel the fused attention is built for (default: the device that runs it). Only the CPU
   * kernel is trusted with softcapping and a non-default scale: on WebGPU (H200, onnxruntime-node 1.30) Gemma-2's
   * fused attention was 6.6 off in float32 while every other family matched PyTorch (BENCHMARKS.md, device check),
   * so such layers keep the plain attention there. Tests set it to check a GPU's graph on the CPU.
   */
  readonly fusedAttentionFor?: DeviceName;
  readonly enableProfiling?: boolean;
}

export interface CheckpointModel extends ResidualModel {
  readonly format: 'safetensors';
  /** The checkpoint's stored weight dtype(s), e.g. 'bfloat16'. */
  readonly checkpointDtype: string;
  /** What the graph computes in. */
  readonly computeDtype: 'float32' | 'float16';
  /** Attention through onnxruntime's fused GroupQueryAttention kernel: asked for, and how many blocks got it. */
  readonly fusedAttention: boolean;
  readonly fusedAttentionBlocks: number;
  readonly folder: string;
  /** Bytes of weights the session holds in its compute dtype (embedding tables in their stored dtype). */
  readonly weightBytes: number;
  readonly graphNodeCount: number;
  endProfiling(): void;
}

const DTYPE_NAMES: Readonly<Record<string, string>> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

/** True when a folder looks like a save_pretrained checkpoint (config.json + safetensors). */
export function isCheckpointFolder(folder: string): boolean {
  return fs.existsSync(path.join(folder, 'config.json'))
    && (fs.existsSync(path.join(folder, 'model.safetensors')) || fs.existsSync(path.join(folder, 'model.safetensors.index.json')));
}

/**
 * Where onnxruntime finds each tensor's file: the folder of the files' real paths and each file relative to it.
 * In a Hugging Face cache all blobs share one folder; otherwise the closest common ancestor.
 */
export function externalDataLayout(tensors: CheckpointTensors): { folder: string; locate: (tensor: TensorRef) => string } {
  const folders = [...new Set(tensors.files.map((file) => path.dirname(file.realFile)))];
  let folder = folders[0];
  for (const other of folders.slice(1)) {
    while (path.relative(folder, other).startsWith('..')) folder = path.dirname(folder);
  }
  return { folder, locate: (tensor) => path.relative(folder, tensor.realFile).split(path.sep).join('/') };
}

/** Memory the machine can give us now (Linux: MemAvailable, which counts reclaimable page cache). */
export function availableMemoryBytes(): number {
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux
  }
  return os.freemem();
}

export function formatGigabytes(bytes: number): string {
  return `${(bytes / 1e9).toFixed(bytes >= 10e9 ? 0 : 1)} GB`;
}

export async function loadCheckpointModel(folderSpec: string, options: CheckpointModelOptions = {}): Promise<CheckpointModel> {
  const folder = path.resolve(folderSpec);
  const configPath = path.join(folder, 'config.json');
  const tokenizerPath = path.join(folder, 'tokenizer.json');
  if (!fs.existsSync(tokenizerPath)) {
    throw new ModelLoadError(`No tokenizer.json in ${folder}.`, ['The checkpoint\'s own tokenizer.json (Hugging Face tokenizers format) is required.']);
  }
  const tokenizerConfigPath = fs.existsSync(path.join(folder, 'tokenizer_config.json')) ? path.join(folder, 'tokenizer_config.json') : undefined;
  let configJson: unknown;
  try {
    configJson = JSON.parse(fs.readFileSync(configPath, 'utf8'));
  } catch (error) {
    throw new ModelLoadError(`Cannot read ${configPath}: ${(error as Error).message}`);
  }
  const config = new ConfigReader(configJson, configPath);
  const architecture = architectureFor(config.modelType, configPath);
  const dims = architecture.dims(config);
  const blocks = Math.min(dims.numBlocks, options.maxBlocks ?? dims.numBlocks);
  const tensors = readCheckpointTensors(folder);
  const tokenizer = ModelTokenizer.fromFiles(tokenizerPath, tokenizerConfigPath);
  // A tokenizer that can produce ids beyond the embedding is refused here; a smaller one is a warning.
  const loadWarnings = checkVocabulary(tokenizerPath, dims.vocabSize, options.id ?? folder);

  const layout = externalDataLayout(tensors);
  // The graph's dtype depends on the provider that will run it, so `auto` picks the device first (probes are cached).
  const requested = options.device ?? 'auto';
  const target: DeviceName = requested === 'auto' ? autoDeviceChoice(await probeAllProviders()) : requested;
  const computeDtype = options.computeDtype ?? (target === 'cpu' ? 'float32' : 'float16');
  const fusedAttention = options.fusedAttention ?? target !== 'cpu';
  const graph = new Graph(computeDtype === 'float16' ? ElemType.FLOAT16 : ElemType.FLOAT, fusedAttention, (options.fusedAttentionFor ?? target) === 'cpu');
  const weights = new Weights(graph.g, tensors, layout.locate);
  const boundaries = architecture.build({ config, graph, weights, blocks });
  if (boundaries.length !== blocks + 1) throw new Error(`${config.modelType} builder returned ${boundaries.length} boundaries for ${blocks} blocks`);
  const g = graph.g;
  g.op('Concat', boundaries.map((boundary) => graph.gatherLast(boundary)), { axis: 1 }, 'resid_last');
  g.output('resid_last', ElemType.FLOAT, ['batch', (blocks + 1) * dims.hiddenSize]);
  const bytes = g.toBytes(`${config.modelType}-residual-taps`, `Spacetime Probe graph builder v${GRAPH_BUILDER_VERSION} (${computeDtype}) over ${folder}`);

  const weightBytes = weights.heldBytes;
  const dtypes = new Set([...weights.usedTensors].map((name) => tensors.tensors.get(name)!.dtype));
  const checkpointDtype = [...dtypes].map((dtype) => DTYPE_NAMES[dtype] ?? dtype).join('+');
  const limit = options.memoryLimitBytes ?? availableMemoryBytes();
  const label = options.id ?? folder;
  if (weightBytes > limit) {
    throw new ModelLoadError(`${label} as ${computeDtype} needs ${formatGigabytes(weightBytes)} of memory for its weights; ` +
      `${options.memoryLimitBytes !== undefined ? 'the limit is' : 'this machine has'} ${formatGigabytes(limit)} available.`, [
      `The checkpoint is ${checkpointDtype}; ${computeDtype === 'float32' ? 'onnxruntime\'s CPU provider computes in float32' : 'the weights are converted on the host before they move to the GPU'}.`,
      'Use a smaller model, a machine with more memory, or extract on a GPU server.']);
  }

  const fingerprint = await modelFingerprint(tensors, `${blocks}\0${computeDtype}\0${fusedAttention ? `gqa${g.countOf('GroupQueryAttention')}` : 'plain'}`, [configPath, tokenizerPath, tokenizerConfigPath]);
  let session: ResidualSession;
  try {
    session = await ResidualSession.create(bytes, {
      device: target, intraOpNumThreads: options.intraOpNumThreads, externalDataFolder: layout.folder,
      enableProfiling: options.enableProfiling,
      feeds: [{ name: 'input_ids', role: 'input_ids', dtype: 'int64' }, { name: 'last_index', role: 'last_index' }],
      outputName: 'resid_last',
    });
  } catch (error) {
    if (error instanceof ModelLoadError || error instanceof DeviceUnavailableError) throw error;
    throw new ModelLoadError(`onnxruntime cannot load the graph built for ${label}.`, [(error as Error).message]);
  }

  const numLayers = blocks + 1;
  const hiddenSize = dims.hiddenSize;
  // Padding is never read (right padding, causal attention); any valid id will do.
  const padId = 0;
  const probe = await session.run(toPaddedBatch([{ ids: [tokenizer.bosId ?? 0], usable: true }], padId)).catch(async (error: Error) => {
    await session.release();
    throw new ModelLoadError(`Test run of the graph built for ${label} failed.`, [error.message]);
  });
  if (probe.dims[1] !== numLayers * hiddenSize) {
    await session.release();
    throw new Error(`graph for ${label} returned width ${probe.dims[1]}, expected ${numLayers}×${hiddenSize}`);
  }
  const maxPositions = dims.maxPositions;
  return {
    id: options.id ?? folderSpec,
    architecture: config.modelType ?? 'unknown',
    format: 'safetensors',
    checkpointDtype,
    weightsDtype: checkpointDtype,
    computeDtype,
    fusedAttention,
    fusedAttentionBlocks: g.countOf('GroupQueryAttention'),
    folder,
    weightBytes,
    maxPositions,
    vocabSize: dims.vocabSize,
    numAttentionHeads: config.optionalInt(['num_attention_heads', 'n_head']),
    loadWarnings,
    graphNodeCount: g.nodeCount,
    numLayers,
    hiddenSize,
    fingerprint,
    // The device was chosen before building (the graph's dtype depends on it): report the user's request.
    device: { ...session.device, requested },
    tokenize(prompts: readonly (string | PromptInput)[]): TokenizedPrompt[] {
      // Prompts longer than maxPositions or with ids beyond vocabSize are skipped by the extraction (extract.ts).
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

/**
 * Everything that determines the activations: the builder's version, how many blocks were built and in which dtype, config.json, the
 * tokenizer files and every checkpoint file's content: the SHA-256 of all its bytes, computed once and remembered
 * (util/fileIdentity.ts; the Hub downloader records the hash it verified), so any changed byte changes the key.
 */
async function modelFingerprint(tensors: CheckpointTensors, blocks: string, files: readonly (string | undefined)[]): Promise<string> {
  const hash = crypto.createHash('sha256');
  hash.update(`spacetime-probe-checkpoint/${GRAPH_BUILDER_VERSION}\0${blocks}\0`);
  for (const file of tensors.files) hash.update(`${path.basename(file.file)}\0${await fileContentHash(file.realFile)}\0`);
  for (const file of files) hash.update(file ? fs.readFileSync(file) : '\0');
  return hash.digest('hex');
}

/**
 * @file The one entry point that turns a model spec into a ResidualModel.
 *
 * Specs:
 *   - `builtin:<name>`: builtin:glove-100d (glove.ts);
 *   - `hf:<repo>[@<rev>]` (Hugging Face Hub) and other schemes: loaders registered with `registerModelScheme`
 *     (hub*.ts registers `hf`);
 *   - anything else is a local path: a checkpoint folder (config.json + safetensors: checkpoint/), a Hub-layout
 *     folder with an ONNX export or an .onnx file (onnx/transformerModel.ts). A folder with both is read as
 *     `format` says; `auto` takes the checkpoint (see modelFolder.ts chooseFolderFormat).
 */
import type { DeviceRequest, ModelPrecision, ResidualModel } from './types';
import { ModelLoadError } from './errors';
import { loadTransformerModel, type TransformerModelOptions } from './onnx/transformerModel';
import { loadCheckpointModel } from './checkpoint/checkpointModel';
import { chooseFolderFormat, type ModelFormat } from './modelFolder';
import { GLOVE_MODEL_ID, loadGloveModel } from './glove/glove';
import type { HubOptions } from './hub/hub';
import { loadHubModel } from './hub/hubModel';

export interface LoadModelOptions extends TransformerModelOptions {
  readonly device?: DeviceRequest;
  /** Cancels downloads or long loads where the loader supports it. */
  readonly signal?: AbortSignal;
  /** `hf:` specs: downloader settings (token, cache folder, progress, proxy env…). */
  readonly hub?: HubOptions;
  /** safetensors checkpoint or ONNX export, where a folder or Hub repo has both (default 'auto'). */
  readonly format?: ModelFormat;
  /** Checkpoints: the memory the float32 weights may take (default: what the machine has available). */
  readonly memoryLimitBytes?: number;
  /**
   * Checkpoints: what our graph computes in. 'auto' (default): float32 on the CPU, float16 on a GPU (norms and
   * softmax in float32). 'float32' everywhere matches PyTorch's float32 within ~1e-5 on every device (docs/gpu.md);
   * float16 is ~1.8× faster on WebGPU but its error was 9× PyTorch float16's on a Llama-shaped model (about its bf16's).
   * ONNX exports take their precision from the export (--variant).
   */
  readonly precision?: ModelPrecision;
}

export type ModelSchemeLoader = (spec: string, options: LoadModelOptions) => Promise<ResidualModel>;

const schemeLoaders = new Map<string, ModelSchemeLoader>([
  ['builtin', async (spec, options) => {
    if (spec === GLOVE_MODEL_ID) return loadGloveModel({ device: options.device });
    throw new ModelLoadError(`Unknown built-in model ${spec} (available: ${GLOVE_MODEL_ID}).`);
  }],
  ['hf', (spec, options) => loadHubModel(spec, options, (folder, id) => loadLocalModel(folder, { ...options, id }))],
]);

/**
 * Register the loader for `<scheme>:…` specs. A Hub loader typically downloads to a local folder and then calls
 * `loadTransformerModel(folder, { ...options, id: spec })`.
 */
export function registerModelScheme(scheme: string, loader: ModelSchemeLoader): void {
  schemeLoaders.set(scheme, loader);
}

/** The scheme of a spec, or undefined for paths (one-letter "schemes" are Windows drive letters). */
export function modelScheme(spec: string): string | undefined {
  const match = /^([a-z][a-z0-9+.-]+):/i.exec(spec);
  return match ? match[1].toLowerCase() : undefined;
}

export async function loadModel(spec: string, options: LoadModelOptions = {}): Promise<ResidualModel> {
  const scheme = modelScheme(spec);
  if (scheme !== undefined) {
    const loader = schemeLoaders.get(scheme);
    if (!loader) {
      const known = [...schemeLoaders.keys()].map((name) => `${name}:`).join(', ') || 'none registered';
      throw new ModelLoadError(`Unknown model scheme "${scheme}:" in ${spec} (known: ${known}).`);
    }
    return loader(spec, options);
  }
  return loadLocalModel(spec, options);
}

/** A local folder or .onnx file, as a checkpoint or an ONNX export (format, variant and folder contents decide). */
export async function loadLocalModel(spec: string, options: LoadModelOptions): Promise<ResidualModel> {
  const format = chooseFolderFormat(spec, options.format ?? 'auto', options.variant);
  const precision = options.precision ?? 'auto';
  if (format === 'safetensors') {
    return loadCheckpointModel(spec, {
      device: options.device, intraOpNumThreads: options.intraOpNumThreads, id: options.id,
      enableProfiling: options.enableProfiling, memoryLimitBytes: options.memoryLimitBytes,
      ...(precision !== 'auto' ? { computeDtype: precision } : {}),
    });
  }
  if (precision !== 'auto') {
    // An export's precision is baked into its graph: refuse rather than quietly run another precision.
    throw new ModelLoadError(`--precision ${precision} applies to safetensors checkpoints; ${options.id ?? spec} is loaded as an ONNX export.`, [
      'Choose the export by its variant instead (--variant fp32 or fp16), or load the checkpoint with --format safetensors.']);
  }
  return loadTransformerModel(spec, options);
}

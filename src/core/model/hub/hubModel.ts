/**
 * @file The `hf:` model scheme: `hf:<org>/<name>[@<revision>]` → the cached (or freshly downloaded) Hub snapshot,
 * loaded like any local model folder. Registered in loadModel.ts.
 *
 * Which files: `--format safetensors` the original weights, `--format onnx` an ONNX export (`--variant` picks
 * fp32/fp16/q8/…), `auto` (the default) whatever the cache already holds, in that order, else the safetensors
 * weights when the repo has them, else its fp32 export (hub.ts autoVariant says why).
 */
import { findCachedHubSnapshot, resolveHubModel, SAFETENSORS_VARIANT, type HubOptions } from './hub';
import { hubCacheDir } from './hubCache';
import type { DeviceRequest, ResidualModel } from '../types';
import type { ModelFormat } from '../modelFolder';

export interface HubModelLoadOptions {
  readonly device?: DeviceRequest;
  readonly signal?: AbortSignal;
  /** Downloader settings (token, cache folder, endpoint, progress…); the token defaults to $HF_TOKEN. */
  readonly hub?: HubOptions;
  readonly format?: ModelFormat;
  readonly variant?: string;
}

const ONNX_VARIANTS = ['fp32', 'fp16', 'q8'];

/** The snapshot folder for a spec, downloading what the format and variant ask for when the cache lacks it. */
export async function resolveHubFolder(spec: string, options: HubModelLoadOptions): Promise<string> {
  const hub = options.hub ?? {};
  const env = hub.env ?? process.env;
  const cacheDir = hub.cacheDir ?? hubCacheDir(env);
  const format = options.format ?? 'auto';
  const namedVariant = options.variant === undefined || options.variant === 'auto' ? undefined : options.variant;
  let variant: string;
  if (format === 'safetensors') variant = SAFETENSORS_VARIANT;
  else if (namedVariant !== undefined) variant = namedVariant;
  else {
    const candidates = format === 'onnx' ? ONNX_VARIANTS : [SAFETENSORS_VARIANT, ...ONNX_VARIANTS];
    variant = candidates.find((candidate) => findCachedHubSnapshot(spec, candidate, cacheDir) !== undefined) ?? (format === 'onnx' ? 'fp32' : 'auto');
  }
  return resolveHubModel(spec, { ...hub, cacheDir, variant, signal: options.signal ?? hub.signal, token: hub.token ?? (env.HF_TOKEN || undefined) });
}

export async function loadHubModel(
  spec: string, options: HubModelLoadOptions, loadFolder: (folder: string, id: string) => Promise<ResidualModel>,
): Promise<ResidualModel> {
  return loadFolder(await resolveHubFolder(spec, options), spec);
}

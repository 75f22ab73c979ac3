/**
 * @file The `hf:` model scheme: `hf:<org>/<name>[@<revision>]` → the cached (or freshly downloaded) Hub snapshot,
 * loaded like any local model folder. Registered in loadModel.ts.
 */
import { findCachedHubSnapshot, resolveHubModel, type HubOptions } from './hub';
import { hubCacheDir } from './hubCache';
import { loadTransformerModel, type TransformerModelOptions } from '../onnx/transformerModel';
import type { DeviceRequest, ResidualModel } from '../types';

export interface HubModelLoadOptions extends TransformerModelOptions {
  readonly device?: DeviceRequest;
  readonly signal?: AbortSignal;
  /** Downloader settings (token, cache folder, endpoint, progress…); the token defaults to $HF_TOKEN. */
  readonly hub?: HubOptions;
}

const AUTO_VARIANTS = ['fp32', 'fp16', 'q8'];

export async function loadHubModel(spec: string, options: HubModelLoadOptions = {}): Promise<ResidualModel> {
  const hub = options.hub ?? {};
  const env = hub.env ?? process.env;
  const cacheDir = hub.cacheDir ?? hubCacheDir(env);
  // 'auto' (the default): whichever of fp32, fp16, q8 is already in the cache, in that order; else download fp32.
  const requested = options.variant === undefined || options.variant === 'auto' ? undefined : options.variant;
  const variant = requested ?? AUTO_VARIANTS.find((candidate) => findCachedHubSnapshot(spec, candidate, cacheDir) !== undefined) ?? 'fp32';
  const dir = await resolveHubModel(spec, {
    ...hub, cacheDir, variant, signal: options.signal ?? hub.signal, token: hub.token ?? (env.HF_TOKEN || undefined),
  });
  return loadTransformerModel(dir, { ...options, variant, id: spec });
}

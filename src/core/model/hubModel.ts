/**
 * @file The `hf:` model scheme: `hf:<org>/<name>[@<revision>]` → the cached (or freshly downloaded) Hub snapshot,
 * loaded like any local model folder. Registered in loadModel.ts.
 */
import { resolveHubModel, type HubOptions } from './hub';
import { loadTransformerModel, type TransformerModelOptions } from './transformerModel';
import type { DeviceRequest, ResidualModel } from './types';

export interface HubModelLoadOptions extends TransformerModelOptions {
  readonly device?: DeviceRequest;
  readonly signal?: AbortSignal;
  /** Downloader settings (token, cache folder, endpoint, progress…); the token defaults to $HF_TOKEN. */
  readonly hub?: HubOptions;
}

export async function loadHubModel(spec: string, options: HubModelLoadOptions = {}): Promise<ResidualModel> {
  const hub = options.hub ?? {};
  const env = hub.env ?? process.env;
  // The folder loader's 'auto' prefers fp32; the downloader needs one concrete variant.
  const variant = options.variant === undefined || options.variant === 'auto' ? 'fp32' : options.variant;
  const dir = await resolveHubModel(spec, { ...hub, variant, signal: options.signal ?? hub.signal, token: hub.token ?? (env.HF_TOKEN || undefined) });
  return loadTransformerModel(dir, { ...options, variant, id: spec });
}

/**
 * @file The Hub downloader and model catalogue as one plain object for the extension's Models view and
 * *Download Model…* command: `bindModelHub(createHubService(...))` in `activate` (the shapes match
 * src/extension/runs/modelHub.ts structurally; the core does not import the extension layer).
 */
import { SUGGESTED_MODELS, weightMemory } from './catalog';
import { downloadHubModel, type HubOptions } from './hub';
import { hubCacheDir, listCachedHubModels } from './hubCache';

export interface HubServiceProgress {
  /** The file being transferred (repo path). */
  readonly file: string;
  /** Bytes done over all files of the download (cached files count as done). */
  readonly receivedBytes: number;
  /** Bytes of all files of the download. */
  readonly totalBytes?: number;
}

export interface HubServiceDownloadRequest {
  /** `owner/name`. */
  readonly repo: string;
  readonly revision?: string;
  readonly variant?: string;
  /** From SecretStorage; never logged. */
  readonly token?: string;
  readonly signal: AbortSignal;
  readonly onProgress: (progress: HubServiceProgress) => void;
  readonly log: (line: string) => void;
}

export interface HubServiceOptions {
  /** Hub cache folder, read at each call (a setting may change it); default hubCacheDir(). */
  readonly cacheDir?: () => string | undefined;
  /** Endpoint, CA certificates, environment for proxies… (token and progress come per request). */
  readonly hub?: Omit<HubOptions, 'token' | 'signal' | 'onProgress' | 'log' | 'revision' | 'variant' | 'cacheDir'>;
}

/** The model spec a run uses for a downloaded revision. */
export function hubModelSpec(repo: string, revision: string | undefined): string {
  return revision === undefined || revision === 'main' ? `hf:${repo}` : `hf:${repo}@${revision}`;
}

export function createHubService(options: HubServiceOptions = {}) {
  const cacheDir = () => options.cacheDir?.() || hubCacheDir(options.hub?.env ?? process.env);
  return {
    async download(request: HubServiceDownloadRequest): Promise<{ path: string; modelSpec: string }> {
      const result = await downloadHubModel(request.repo, {
        ...options.hub,
        cacheDir: cacheDir(),
        revision: request.revision,
        variant: request.variant,
        token: request.token,
        signal: request.signal,
        log: request.log,
        onProgress: (progress) => {
          if (progress.phase === 'resolving') return;
          request.onProgress({ file: progress.file, receivedBytes: progress.bytes, totalBytes: progress.total });
        },
      });
      return { path: result.dir, modelSpec: hubModelSpec(request.repo, request.revision) };
    },
    suggested(): { repo: string; description: string; sizeBytes?: number }[] {
      return SUGGESTED_MODELS.map((model) => {
        const memory = weightMemory(model);
        const needs = memory ? `; needs ${formatBytes(memory.cpu)} on CPU (float32), ${formatBytes(memory.gpu)} on a GPU (float16)` : '';
        const format = model.variants.safetensors !== undefined ? 'safetensors' : 'ONNX';
        return {
          repo: model.repoId,
          description: `${model.label}: ${model.blocks + 1} layers × ${model.hiddenSize}, ${format}${needs}; ${model.licence}` + (model.notes ? ` (${model.notes})` : ''),
          sizeBytes: model.variants.safetensors ?? model.variants.fp32 ?? model.variants.fp16 ?? model.variants.q8,
        };
      });
    },
    async cached(): Promise<{ modelSpec: string; label: string; path: string; sizeBytes?: number; variants: string[] }[]> {
      return listCachedHubModels(cacheDir()).map((model) => {
        const revision = model.refs.includes('main') ? 'main' : model.refs[0] ?? model.commit;
        const layers = model.numHiddenLayers === undefined ? '' : `, ${model.numHiddenLayers + 1} layers × ${model.hiddenSize ?? '?'}`;
        return {
          modelSpec: hubModelSpec(model.repoId, revision),
          label: `${model.repoId}${revision === 'main' ? '' : `@${revision.slice(0, 12)}`}${layers}`,
          path: model.dir,
          sizeBytes: model.bytes,
          variants: model.variants.map((variant) => variant.variant),
        };
      });
    },
  };
}

function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(bytes >= 10e9 ? 0 : 1)} GB` : `${Math.round(bytes / 1e6)} MB`;
}

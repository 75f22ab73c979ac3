/**
 * Seam for the core's Hugging Face Hub downloader and model catalogue (src/core/model/hub*.ts, catalog.ts).
 * extension.ts binds the real functions; until then Download Model explains that downloads are unavailable.
 */
export interface ModelDownloadProgress {
  readonly file: string;
  readonly receivedBytes: number;
  readonly totalBytes?: number;
}

export interface ModelDownloadRequest {
  /** `owner/name`. */
  readonly repo: string;
  readonly revision?: string;
  readonly variant?: 'fp32' | 'fp16' | 'q8';
  /** From SecretStorage; never logged. */
  readonly token?: string;
  readonly signal: AbortSignal;
  readonly onProgress: (progress: ModelDownloadProgress) => void;
  readonly log: (line: string) => void;
}

export interface DownloadedModel {
  /** Folder of the snapshot on disk. */
  readonly path: string;
  /** What to pass as `model` to a run (e.g. `hf:owner/name@commit` or the folder). */
  readonly modelSpec: string;
}

export type ModelDownloader = (request: ModelDownloadRequest) => Promise<DownloadedModel>;

export interface SuggestedModel {
  readonly repo: string;
  readonly description: string;
  readonly sizeBytes?: number;
}

export interface CachedModel {
  readonly modelSpec: string;
  readonly label: string;
  readonly path: string;
  readonly sizeBytes?: number;
  /** The exports it holds that `--variant` / the variant setting names (fp32, fp16, q8, q4, …). */
  readonly variants?: readonly string[];
}

export interface ModelHub {
  readonly download: ModelDownloader;
  readonly suggested: () => readonly SuggestedModel[];
  readonly cached: () => Promise<readonly CachedModel[]>;
}

let hub: ModelHub | undefined;

export function bindModelHub(next: ModelHub | undefined): void {
  hub = next;
}

export function modelHub(): ModelHub | undefined {
  return hub;
}

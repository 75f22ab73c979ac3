/**
 * The one message protocol between the results panel host (src/extension/panels/resultsPanel.ts) and the webview
 * (webview/src/main.ts). Both sides import this file; it has no runtime dependency on VS Code or the DOM.
 *
 * Flow: the webview posts `ready` once its script runs; only then does the host send `show` (so nothing is lost
 * while the page loads). Requests that expect a reply carry a `requestId` and the reply echoes it.
 * Every message that crosses the boundary is plain JSON and is validated on arrival (`parseWebviewToHost`,
 * `parseHostToWebview`): a webview is a browser page and must be treated as untrusted input.
 */
import type { LayerResult, ProbeResults, Prediction } from '../../src/core/experiments/results';
import type { ExperimentResult } from '../../src/core/experiments/experimentResults';
import { isPackedPredictions, isPredictionsDelta, type PackedPredictions, type PredictionsDelta } from './packedPredictions';

/** Map extents the panel can draw. `auto` picks the smallest extent that contains every true position. */
export type MapExtent = 'world' | 'usa' | 'nyc';
export const MAP_EXTENTS: readonly MapExtent[] = ['world', 'usa', 'nyc'];

export type ExportFormat = 'csv' | 'json' | 'png' | 'svg';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'json', 'png', 'svg'];

/** One row of the run history (sidebar, Compare Runs, panel header). */
export interface RunSummary {
  readonly id: string;
  readonly model: string;
  readonly dataset: string;
  readonly prompt?: string;
  /** Which token was read ('entity-last' or 'prompt-last'); absent for runs from before the choice (prompt-last). */
  readonly token?: 'entity-last' | 'prompt-last';
  readonly kind: 'space' | 'time';
  readonly bestLayer: number;
  readonly bestTestR2: number;
  readonly createdAt: string;
}

/** A run drawn next to the main one in the layer chart (Compare Runs). */
export interface ComparedRun {
  readonly summary: RunSummary;
  readonly layers: readonly LayerResult[];
}

/** Everything the panel needs to draw one run. */
export interface RunView {
  readonly summary: RunSummary;
  readonly results: ProbeResults;
  /** Layers whose predictions can be requested with `requestLayerPredictions` (always includes the best layer). */
  readonly layersWithPredictions: readonly number[];
  /** Whether clicking a row can open the dataset file (false for runs whose dataset file is gone). */
  readonly canRevealRows: boolean;
  /** The run's robustness experiments (experiment_<name>.json in its folder), drawn in the Experiments tab. */
  readonly experiments?: readonly ExperimentResult[];
  /**
   * The best layer's predictions in columns (packedPredictions.ts); when present, `results.predictions` is sent
   * empty and the webview unpacks these in its place (the editor loop's biggest message, a fraction of the size).
   */
  readonly packedPredictions?: PackedPredictions;
  /**
   * Instead of `packedPredictions`, after a re-run: the changes to the predictions of run `base`, which the webview
   * holds from the previous `show` (it re-sends `ready` for a full `show` when it holds another run's).
   */
  readonly predictionsDelta?: PredictionsDelta;
  /** How many entities the run skipped, when `results.skipped` was cut to its first SKIPPED_SENT (the panel lists no more). */
  readonly skippedCount?: number;
}

/** Skipped entities the panel lists; the host sends no more (GloVe on world places skips ~6,600: 0.6 MB of JSON). */
export const SKIPPED_SENT = 500;

export type HostToWebview =
  /** `tab` switches the panel to that view (e.g. the Runs view's "map"); otherwise it keeps the user's tab. */
  | { readonly type: 'show'; readonly run: RunView; readonly compare?: readonly ComparedRun[]; readonly tab?: WebviewUiState['tab'] }
  | { readonly type: 'layerPredictions'; readonly requestId: number; readonly layer: number; readonly predictions: readonly Prediction[] | null; readonly error?: string }
  | { readonly type: 'running'; readonly message: string | null }
  | { readonly type: 'exportChart'; readonly requestId: number; readonly format: 'png' | 'svg' };

export type WebviewToHost =
  | { readonly type: 'ready' }
  | { readonly type: 'revealEntity'; readonly row: number }
  | { readonly type: 'requestLayerPredictions'; readonly requestId: number; readonly layer: number }
  | { readonly type: 'export'; readonly format: ExportFormat }
  /** Reply to `exportChart`: an SVG document or a PNG data URL; `data` null with `error` when rendering failed. */
  | { readonly type: 'chartImage'; readonly requestId: number; readonly format: 'png' | 'svg'; readonly data: string | null; readonly error?: string }
  | { readonly type: 'log'; readonly level: 'info' | 'error'; readonly message: string }
  /**
   * The tab on screen finished drawing `runId` (after a `show`, a layer change, a tab switch). `marks`: when the
   * webview received the `show` and finished each step, in epoch ms (the editor-loop benchmark's clock).
   */
  | { readonly type: 'rendered'; readonly runId: string; readonly tab: WebviewUiState['tab']; readonly marks: readonly RenderMark[] };

/** One timestamp of the webview's drawing (`performance.timeOrigin + performance.now()`, fractional epoch ms). */
export interface RenderMark {
  readonly phase: string;
  readonly at: number;
}

export const RESULTS_TABS: readonly WebviewUiState['tab'][] = ['layers', 'map', 'time', 'table', 'experiments'];
const MAX_RENDER_MARKS = 32;

/** Largest chart image accepted from the webview (a 4k PNG data URL is a few MB). */
export const MAX_CHART_IMAGE_CHARS = 32 * 1024 * 1024;
const MAX_LOG_CHARS = 4000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}

/**
 * Validates a message from the webview. Returns undefined for anything malformed (unknown type, missing or
 * mistyped field, extra-large payload) so the host can log and drop it; never throws.
 */
export function parseWebviewToHost(message: unknown): WebviewToHost | undefined {
  if (!isRecord(message) || typeof message.type !== 'string') return undefined;
  switch (message.type) {
    case 'ready':
      return { type: 'ready' };
    case 'revealEntity':
      return isNonNegativeInteger(message.row, 1e9) && message.row >= 1 ? { type: 'revealEntity', row: message.row } : undefined;
    case 'requestLayerPredictions':
      return isNonNegativeInteger(message.requestId) && isNonNegativeInteger(message.layer, 10_000)
        ? { type: 'requestLayerPredictions', requestId: message.requestId, layer: message.layer }
        : undefined;
    case 'export':
      return typeof message.format === 'string' && (EXPORT_FORMATS as readonly string[]).includes(message.format)
        ? { type: 'export', format: message.format as ExportFormat }
        : undefined;
    case 'chartImage': {
      const { requestId, format, data, error } = message;
      if (!isNonNegativeInteger(requestId) || (format !== 'png' && format !== 'svg')) return undefined;
      if (data !== null && (typeof data !== 'string' || data.length > MAX_CHART_IMAGE_CHARS)) return undefined;
      if (typeof data === 'string' && format === 'png' && !data.startsWith('data:image/png;base64,')) return undefined;
      if (typeof data === 'string' && format === 'svg' && !/^\s*(<\?xml[^>]*>\s*)?<svg[\s>]/.test(data)) return undefined;
      if (error !== undefined && typeof error !== 'string') return undefined;
      return { type: 'chartImage', requestId, format, data, ...(typeof error === 'string' ? { error: error.slice(0, MAX_LOG_CHARS) } : {}) };
    }
    case 'log':
      return (message.level === 'info' || message.level === 'error') && typeof message.message === 'string'
        ? { type: 'log', level: message.level, message: message.message.slice(0, MAX_LOG_CHARS) }
        : undefined;
    case 'rendered': {
      const { runId, tab, marks } = message;
      if (typeof runId !== 'string' || runId.length === 0 || runId.length > 200) return undefined;
      if (typeof tab !== 'string' || !(RESULTS_TABS as readonly string[]).includes(tab)) return undefined;
      if (!Array.isArray(marks) || marks.length > MAX_RENDER_MARKS) return undefined;
      const parsed: RenderMark[] = [];
      for (const mark of marks as unknown[]) {
        if (!isRecord(mark) || typeof mark.phase !== 'string' || mark.phase.length > 80 || typeof mark.at !== 'number' || !Number.isFinite(mark.at)) return undefined;
        parsed.push({ phase: mark.phase, at: mark.at });
      }
      return { type: 'rendered', runId, tab: tab as WebviewUiState['tab'], marks: parsed };
    }
    default:
      return undefined;
  }
}

/**
 * Light validation of host messages in the webview: the host is trusted, but a structural check turns a
 * protocol mismatch (e.g. a stale webview after an update) into a visible error instead of a blank panel.
 */
export function parseHostToWebview(message: unknown): HostToWebview | undefined {
  if (!isRecord(message) || typeof message.type !== 'string') return undefined;
  switch (message.type) {
    case 'show': {
      const run = message.run;
      if (!isRecord(run) || !isRecord(run.summary) || !isRecord(run.results) || !Array.isArray(run.results.layers)) return undefined;
      if (!Array.isArray(run.layersWithPredictions)) return undefined;
      if (run.packedPredictions !== undefined && !isPackedPredictions(run.packedPredictions)) return undefined;
      if (run.predictionsDelta !== undefined && (run.packedPredictions !== undefined || !isPredictionsDelta(run.predictionsDelta))) return undefined;
      return message as unknown as HostToWebview;
    }
    case 'layerPredictions':
      return isNonNegativeInteger(message.requestId) && isNonNegativeInteger(message.layer) &&
        (message.predictions === null || Array.isArray(message.predictions))
        ? (message as unknown as HostToWebview)
        : undefined;
    case 'running':
      return message.message === null || typeof message.message === 'string' ? (message as unknown as HostToWebview) : undefined;
    case 'exportChart':
      return isNonNegativeInteger(message.requestId) && (message.format === 'png' || message.format === 'svg')
        ? (message as unknown as HostToWebview)
        : undefined;
    default:
      return undefined;
  }
}

/** State the webview keeps with `setState` so the panel reopens where the user left it. */
export interface WebviewUiState {
  /** The run on screen, so a restored panel (after a restart) can load it again. */
  readonly runId?: string;
  readonly tab: 'layers' | 'map' | 'time' | 'table' | 'experiments';
  readonly mapExtent?: MapExtent;
  /** Map colouring: by position (true/predicted) or, paper-style, predicted points by true longitude. */
  readonly mapColour?: 'position' | 'longitude' | `column:${string}`;
  /** Metadata column the Layers tab breaks test R² down by ('' = none; undefined = "type" when present). */
  readonly breakdown?: string;
  /** Error lines on the map; undefined: on up to 300 entities. */
  readonly errorLines?: boolean;
  readonly layer?: number;
  readonly split: 'test' | 'train' | 'all';
  readonly sortColumn: 'row' | 'name' | 'split' | 'error';
  readonly sortDescending: boolean;
  readonly filter: string;
}

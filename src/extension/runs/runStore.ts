/**
 * Run history: every probe run the extension starts gets a folder `<root>/<id>/` holding what the core wrote
 * (results.json, optional layer_predictions/layer_###.json) and our `run.json` record. Plain Node (no vscode import),
 * so it is unit-tested directly. The record is written last, atomically: a folder without run.json is an
 * unfinished or cancelled run and is ignored (and cleaned up by `prune`).
 */
import { promises as fsp, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../../core/util/atomicWrite';
import { RESULTS_FORMAT, type Prediction, type ProbeResults } from '../../core/experiments/results';
import type { RunSummary } from '../../../webview/src/protocol';

export const RUN_RECORD_FILE = 'run.json';
export const RESULTS_FILE = 'results.json';

/** Where the core writes every layer's predictions when asked (`layerPredictions: true`), relative to the run folder. */
export const LAYER_PREDICTIONS_DIR = 'layer_predictions';

export function layerPredictionsFile(layer: number): string {
  return path.join(LAYER_PREDICTIONS_DIR, `layer_${String(layer).padStart(3, '0')}.json`);
}

/** What we remember about a run besides results.json. */
export interface RunRecord extends RunSummary {
  /** What the user chose: a path or `builtin:<name>`. */
  readonly datasetReference: string;
  /** The dataset file on disk (for reveal, hover, CodeLens), absolute. */
  readonly datasetPath: string;
  /** The model spec passed to the core (`builtin:glove-100d`, folder, hub id). */
  readonly modelSpec: string;
  readonly device?: string;
  /** Runs of "Open Activation Folder…": the folder probed (written elsewhere, e.g. by an exported script). */
  readonly activationsFolder?: string;
  /** Who wrote that folder, with what and where (manifest.json producer, dtype, device). */
  readonly provenance?: string;
}

export class RunStoreError extends Error {
  override readonly name = 'RunStoreError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseRunRecord(value: unknown): RunRecord | undefined {
  if (!isRecord(value)) return undefined;
  const strings = ['id', 'model', 'dataset', 'createdAt', 'datasetReference', 'datasetPath', 'modelSpec'] as const;
  if (!strings.every((key) => typeof value[key] === 'string')) return undefined;
  if (value.kind !== 'space' && value.kind !== 'time') return undefined;
  if (typeof value.bestLayer !== 'number' || typeof value.bestTestR2 !== 'number') return undefined;
  return value as unknown as RunRecord;
}

/** Checks the parts of results.json the views rely on; the message names the file and the field. */
export function validateResults(value: unknown, file: string): ProbeResults {
  const fail = (field: string, expected: string): never => {
    throw new RunStoreError(`${file}: field "${field}" should be ${expected}`);
  };
  if (!isRecord(value)) return fail('(root)', 'an object');
  if (value.format !== RESULTS_FORMAT) fail('format', `"${RESULTS_FORMAT}"`);
  if (value.kind !== 'space' && value.kind !== 'time') fail('kind', '"space" or "time"');
  if (!Array.isArray(value.layers) || value.layers.length === 0) fail('layers', 'a non-empty array');
  if (typeof value.bestLayer !== 'number') fail('bestLayer', 'a number');
  if (!Array.isArray(value.predictions)) fail('predictions', 'an array');
  if (!isRecord(value.split)) fail('split', 'an object');
  return value as unknown as ProbeResults;
}

/**
 * One layer's predictions from layer_predictions/layer_###.json, whose `predicted` is row-major
 * [entity, target] in the order of results.predictions (which carries row, name, split and truth).
 */
export function layerPredictionsFromFile(value: unknown, results: ProbeResults, file: string): Prediction[] {
  const predicted = isRecord(value) ? value.predicted : undefined;
  const width = results.targets.length;
  if (!Array.isArray(predicted) || !predicted.every((v) => typeof v === 'number' || v === null)) {
    throw new RunStoreError(`${file}: field "predicted" should be an array of numbers`);
  }
  if (predicted.length !== results.predictions.length * width) {
    throw new RunStoreError(`${file}: field "predicted" has ${predicted.length} values, expected ${results.predictions.length} entities \u00d7 ${width} targets`);
  }
  return results.predictions.map((p, i) => ({
    ...p,
    predicted: (predicted.slice(i * width, (i + 1) * width) as (number | null)[]).map((v) => (v === null ? Number.NaN : v)),
  }));
}

function summaryOf(record: RunRecord): RunSummary {
  const { id, model, dataset, prompt, kind, bestLayer, bestTestR2, createdAt } = record;
  return { id, model, dataset, ...(prompt !== undefined ? { prompt } : {}), kind, bestLayer, bestTestR2, createdAt };
}

export class RunStore {
  private records: RunRecord[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly resultsCache = new Map<string, ProbeResults>();

  constructor(readonly root: string) {
    this.reload();
  }

  /** Called after the history changes (a run added or removed). */
  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private fire(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Re-reads the records on disk (newest first); unreadable records are skipped. */
  reload(): void {
    const records: RunRecord[] = [];
    if (existsSync(this.root)) {
      for (const entry of readdirSync(this.root, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const file = path.join(this.root, entry.name, RUN_RECORD_FILE);
        if (!existsSync(file)) continue;
        try {
          const record = parseRunRecord(JSON.parse(readFileSync(file, 'utf8')));
          if (record && record.id === entry.name) records.push(record);
        } catch {
          // A damaged record hides that run only; the others stay usable.
        }
      }
    }
    this.records = records.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  }

  list(): readonly RunRecord[] {
    return this.records;
  }

  get(id: string): RunRecord | undefined {
    return this.records.find((r) => r.id === id);
  }

  summary(id: string): RunSummary | undefined {
    const record = this.get(id);
    return record ? summaryOf(record) : undefined;
  }

  /** The newest run on this dataset file (paths compared after resolving). */
  latestForDataset(datasetPath: string): RunRecord | undefined {
    const wanted = path.resolve(datasetPath);
    return this.records.find((r) => path.resolve(r.datasetPath) === wanted);
  }

  /** A fresh, empty folder for a run about to start (the core writes into it). */
  async createRunFolder(now = new Date()): Promise<{ id: string; dir: string }> {
    const id = `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
    const dir = path.join(this.root, id);
    await fsp.mkdir(dir, { recursive: true });
    return { id, dir };
  }

  /**
   * Registers a finished run: writes run.json atomically after checking results.json is there and valid.
   * `fromFile`: the results as parsed from that results.json by whoever has its text already (the probe worker
   * sends it), so it is checked but not read and parsed again.
   */
  async commit(record: RunRecord, fromFile?: ProbeResults): Promise<void> {
    const dir = path.join(this.root, record.id);
    let results: ProbeResults;
    if (fromFile) {
      const file = path.join(dir, RESULTS_FILE);
      await fsp.access(file).catch(() => { throw new RunStoreError(`${file}: results.json is missing (the run did not finish)`); });
      results = validateResults(fromFile, file);
    } else {
      results = await this.readResultsFile(record.id);
    }
    this.resultsCache.set(record.id, results);
    const target = path.join(dir, RUN_RECORD_FILE);
    await writeFileAtomic(target, `${JSON.stringify(record, null, 2)}\n`);
    this.records = [record, ...this.records.filter((r) => r.id !== record.id)]
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
    this.fire();
  }

  /** Removes a run folder that never got committed (cancelled or failed), so no half-written run remains. */
  async discard(id: string): Promise<void> {
    if (this.get(id)) return;
    await fsp.rm(path.join(this.root, id), { recursive: true, force: true });
  }

  async remove(id: string): Promise<void> {
    this.resultsCache.delete(id);
    await fsp.rm(path.join(this.root, id), { recursive: true, force: true });
    this.records = this.records.filter((r) => r.id !== id);
    this.fire();
  }

  /** Deletes uncommitted folders and all but the newest `keep` runs. */
  async prune(keep: number): Promise<number> {
    let removed = 0;
    if (existsSync(this.root)) {
      for (const entry of await fsp.readdir(this.root, { withFileTypes: true })) {
        if (entry.isDirectory() && !this.get(entry.name)) {
          await fsp.rm(path.join(this.root, entry.name), { recursive: true, force: true });
          removed++;
        }
      }
    }
    for (const record of this.records.slice(Math.max(0, keep))) {
      await this.remove(record.id);
      removed++;
    }
    return removed;
  }

  private async readResultsFile(id: string): Promise<ProbeResults> {
    const file = path.join(this.root, id, RESULTS_FILE);
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch {
      throw new RunStoreError(`${file}: results.json is missing (the run did not finish)`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new RunStoreError(`${file}: not valid JSON (${(error as Error).message})`);
    }
    return validateResults(parsed, file);
  }

  async results(id: string): Promise<ProbeResults> {
    const cached = this.resultsCache.get(id);
    if (cached) return cached;
    const results = await this.readResultsFile(id);
    this.resultsCache.set(id, results);
    return results;
  }

  /** Layers with saved predictions: the best layer always, others when the core wrote layer_predictions/. */
  async layersWithPredictions(id: string, results: ProbeResults): Promise<number[]> {
    const layers = new Set<number>([results.bestLayer]);
    try {
      for (const name of await fsp.readdir(path.join(this.root, id, LAYER_PREDICTIONS_DIR))) {
        const match = /^layer_(\d{3,})\.json$/.exec(name);
        if (match) layers.add(Number(match[1]));
      }
    } catch {
      // No per-layer predictions saved: only the best layer (from results.json) is available.
    }
    return [...layers].sort((a, b) => a - b);
  }

  async layerPredictions(id: string, layer: number): Promise<Prediction[]> {
    const results = await this.results(id);
    if (layer === results.bestLayer) return [...results.predictions];
    const file = path.join(this.root, id, layerPredictionsFile(layer));
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch {
      throw new RunStoreError(`Predictions for layer ${layer} were not saved for this run (${file} is missing).`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new RunStoreError(`${file}: not valid JSON (${(error as Error).message})`);
    }
    return layerPredictionsFromFile(parsed, results, file);
  }
}

export { summaryOf as runSummary };

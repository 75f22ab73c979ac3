/**
 * Finds the latest run's prediction for a line of a dataset file (hover, residual diagnostics, CodeLens).
 * Keeps one row index per run so hovering does not rescan thousands of predictions.
 */
import type { Prediction, ProbeResults } from '../../core/experiments/results';
import type { RunRecord, RunStore } from '../runs/runStore';

export interface LinePrediction {
  readonly record: RunRecord;
  readonly results: ProbeResults;
  readonly prediction: Prediction;
}

/** Whether a line of the file still holds this entity (the file may have changed since the run). */
export function lineMentions(lineText: string, name: string): boolean {
  const variants = [name, name.replace(/"/g, '""')];
  if (variants.some((v) => lineText.includes(v))) return true;
  // Composite names such as the art set's "{creator}'s {title}": every part must appear on the line.
  const parts = name.split("'s ").filter((p) => p.length > 0);
  return parts.length > 1 && parts.every((p) => lineText.includes(p) || lineText.includes(p.replace(/"/g, '""')));
}

export class PredictionLookup {
  private readonly byRun = new Map<string, Map<number, Prediction>>();

  constructor(private readonly store: RunStore) {
    store.onDidChange(() => {
      for (const id of [...this.byRun.keys()]) if (!store.get(id)) this.byRun.delete(id);
    });
  }

  async forLine(datasetPath: string, line: number, lineText: string): Promise<LinePrediction | undefined> {
    const record = this.store.latestForDataset(datasetPath);
    if (!record) return undefined;
    const results = await this.store.results(record.id);
    let index = this.byRun.get(record.id);
    if (!index) {
      index = new Map(results.predictions.map((p) => [p.row, p]));
      this.byRun.set(record.id, index);
    }
    const prediction = index.get(line);
    if (!prediction || !lineMentions(lineText, prediction.name)) return undefined;
    return { record, results, prediction };
  }
}

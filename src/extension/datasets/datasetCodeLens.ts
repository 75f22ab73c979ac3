/** CodeLens at the top of a dataset file: "Run probe" and the last run's summary (click: open results). */
import * as vscode from 'vscode';
import { Disposable } from '../util/disposable';
import type { RunStore } from '../runs/runStore';
import { looksLikeDataset } from './datasetFiles';

function age(iso: string, now = Date.now()): string {
  const minutes = Math.round((now - Date.parse(iso)) / 60_000);
  if (!Number.isFinite(minutes)) return '';
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} days ago`;
}

export class DatasetCodeLensProvider extends Disposable implements vscode.CodeLensProvider {
  private readonly onDidChangeEmitter = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.onDidChangeEmitter.event;

  /** `runningDataset()`: the absolute path of the dataset being probed, or undefined when nothing runs. */
  constructor(private readonly store: RunStore, runningDataset: () => string | undefined, onDidChangeRunStatus: vscode.Event<string | null>) {
    super();
    this.runningDataset = runningDataset;
    this._register(store.onDidChange(() => this.onDidChangeEmitter.fire()));
    let wasRunning = false;
    this._register(onDidChangeRunStatus((status) => {
      // Only the start and end of a run change the lenses; progress lines do not.
      if ((status !== null) !== wasRunning) {
        wasRunning = status !== null;
        this.onDidChangeEmitter.fire();
      }
    }));
  }

  private readonly runningDataset: () => string | undefined;

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (document.uri.scheme !== 'file' || document.lineCount === 0) return [];
    const head = document.getText(new vscode.Range(0, 0, Math.min(document.lineCount - 1, 1), 0)) || document.lineAt(0).text;
    if (!looksLikeDataset(`${head}\n`, document.fileName)) return [];
    const range = new vscode.Range(0, 0, 0, 0);
    const lenses: vscode.CodeLens[] = [];
    // "Running" only on the file being probed; other dataset files keep their Run lens.
    if (this.runningDataset() === document.uri.fsPath) {
      lenses.push(new vscode.CodeLens(range, { title: '$(sync~spin) Probe running\u2026 (cancel)', command: 'spacetimeProbe.cancelRun' }));
    } else {
      lenses.push(new vscode.CodeLens(range, { title: '$(play) Run probe', command: 'spacetimeProbe.runProbeOnCurrentDataset', arguments: [document.uri] }));
    }
    const last = this.store.latestForDataset(document.uri.fsPath);
    if (last) {
      const r2 = Number.isFinite(last.bestTestR2) ? last.bestTestR2.toFixed(3) : '\u2013';
      lenses.push(new vscode.CodeLens(range, {
        title: `Last run: best layer ${last.bestLayer}, test R\u00b2 ${r2} \u00b7 ${last.model} \u00b7 ${age(last.createdAt)}`,
        command: 'spacetimeProbe.showResults',
        arguments: [last.id],
        tooltip: 'Open the results of this run',
      }));
    }
    return lenses;
  }
}

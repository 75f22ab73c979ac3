/**
 * Problems panel integration: dataset validation problems at their exact line and column, updated as you type
 * (debounced), and optionally the entities with the largest probe residuals as information diagnostics.
 */
import * as vscode from 'vscode';
import type { DatasetProblem } from '../../core/datasets/types';
import { Disposable } from '../util/disposable';
import { readSettings, updateSetting } from '../config';
import type { RunStore } from '../runs/runStore';
import { datasetFileName, hasDatasetExtension, mightBeDataset } from './datasetFiles';
import type { DatasetValidator } from './datasetValidator';
import { errorUnit, predictionError } from '../../../webview/src/geo';
import { lineMentions } from './predictionLookup';

const TYPING_DELAY_MS = 250;

/** Converts a core problem (1-based line/column, 0 = unknown) to an editor range clamped to the document. */
export function problemRange(problem: DatasetProblem, document: Pick<vscode.TextDocument, 'lineCount' | 'lineAt'>): vscode.Range {
  const line = Math.min(Math.max(0, problem.line - 1), Math.max(0, document.lineCount - 1));
  const text = document.lineAt(line).text;
  if (problem.line === 0 || problem.column === 0) return new vscode.Range(line, 0, line, text.length);
  const start = Math.min(problem.column - 1, text.length);
  const end = Math.min(text.length, start + Math.max(1, problem.length));
  return new vscode.Range(line, start, line, Math.max(end, start));
}

/** A problem's range in text that is not open in an editor (problemRange needs only lineCount and lineAt). */
function textLines(text: string): Pick<vscode.TextDocument, 'lineCount' | 'lineAt'> {
  const lines = text.split(/\r?\n/);
  return { lineCount: lines.length, lineAt: ((line: number) => ({ text: lines[line] ?? '' })) as unknown as vscode.TextDocument['lineAt'] };
}

export class DatasetDiagnostics extends Disposable {
  /** Files validated from disk because a run refused them while closed: kept in the Problems panel after they are closed again. */
  private readonly refusedFiles = new Set<string>();
  readonly validation: vscode.DiagnosticCollection;
  readonly residuals: vscode.DiagnosticCollection;
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly onDidValidateEmitter = this._register(new vscode.EventEmitter<vscode.Uri>());
  /** Fires after a document's validation diagnostics were updated. */
  readonly onDidValidate = this.onDidValidateEmitter.event;

  constructor(private readonly store: RunStore, private readonly validator: DatasetValidator) {
    super();
    this.validation = this._register(vscode.languages.createDiagnosticCollection('spacetime-probe'));
    this.residuals = this._register(vscode.languages.createDiagnosticCollection('spacetime-probe-residuals'));
    this._register(vscode.workspace.onDidOpenTextDocument((d) => void this.validate(d)));
    this._register(vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document)));
    this._register(vscode.workspace.onDidCloseTextDocument((d) => {
      this.residuals.delete(d.uri);
      if (this.refusedFiles.has(d.uri.toString())) void this.validateFile(d.uri);
      else this.validation.delete(d.uri);
    }));
    this._register(store.onDidChange(() => this.refreshResiduals()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('spacetimeProbe.diagnostics')) this.refreshResiduals();
    }));
    this._register({ dispose: () => { for (const timer of this.timers.values()) clearTimeout(timer); } });
    for (const document of vscode.workspace.textDocuments) void this.validate(document);
  }

  private schedule(document: vscode.TextDocument): void {
    if (!hasDatasetExtension(document.fileName)) return;
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      void this.validate(document);
    }, TYPING_DELAY_MS));
  }

  async validate(document: vscode.TextDocument): Promise<void> {
    if (!hasDatasetExtension(document.fileName) || document.isClosed) return;
    const text = document.getText();
    if (!mightBeDataset(text, document.fileName)) {
      this.validation.delete(document.uri);
      return;
    }
    const version = document.version;
    let problems: readonly DatasetProblem[];
    try {
      problems = await this.validator.validate(text, datasetFileName(document));
    } catch {
      return; // worker gone (extension shutting down)
    }
    // A newer edit is already scheduled or validated: drop this stale answer.
    if (document.isClosed || document.version !== version) return;
    this.validation.set(document.uri, this.toDiagnostics(problems, document));
    void this.updateResiduals(document);
    this.onDidValidateEmitter.fire(document.uri);
  }

  /**
   * Puts a dataset file's problems in the Problems panel whether or not it is open in an editor (a run refused it:
   * started from the explorer, a command with a URI, or a save-triggered rerun). The file is validated as it is on
   * disk (what the run read), unless an editor holds unsaved changes to it (then the editor's text, as typing
   * does); its entries stay after it is closed, until the file is fixed. Resolves to the number of problems published.
   */
  async validateFile(uri: vscode.Uri): Promise<number> {
    // workspace.textDocuments also holds documents no editor shows any more: only unsaved text takes precedence.
    const edited = (): vscode.TextDocument | undefined =>
      vscode.workspace.textDocuments.find((document) => document.uri.toString() === uri.toString() && !document.isClosed && document.isDirty);
    this.refusedFiles.add(uri.toString());
    const open = edited();
    if (open) {
      await this.validate(open);
      return this.validation.get(uri)?.length ?? 0;
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(uri));
    } catch {
      this.validation.delete(uri);
      return 0;
    }
    const fileName = uri.scheme === 'file' ? uri.fsPath : uri.toString();
    let problems: readonly DatasetProblem[];
    try {
      problems = await this.validator.validate(text, fileName);
    } catch {
      return 0; // worker gone (extension shutting down)
    }
    // Edited meanwhile: the editor's own validation is the newer one.
    if (edited()) return this.validation.get(uri)?.length ?? 0;
    if (problems.length === 0) this.refusedFiles.delete(uri.toString());
    this.validation.set(uri, this.toDiagnostics(problems, textLines(text)));
    this.onDidValidateEmitter.fire(uri);
    return problems.length;
  }

  private toDiagnostics(problems: readonly DatasetProblem[], lines: Pick<vscode.TextDocument, 'lineCount' | 'lineAt'>): vscode.Diagnostic[] {
    return problems.map((problem) => {
      const diagnostic = new vscode.Diagnostic(problemRange(problem, lines), problem.message,
        problem.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
      diagnostic.source = 'Spacetime Probe';
      diagnostic.code = problem.code;
      return diagnostic;
    });
  }

  private refreshResiduals(): void {
    for (const document of vscode.workspace.textDocuments) void this.updateResiduals(document);
  }

  /** Information diagnostics on the N entities the latest run got most wrong (when the setting is on). */
  private async updateResiduals(document: vscode.TextDocument): Promise<void> {
    const settings = readSettings();
    const record = document.uri.scheme === 'file' ? this.store.latestForDataset(document.uri.fsPath) : undefined;
    if (!settings.showResidualDiagnostics || !record) {
      this.residuals.delete(document.uri);
      return;
    }
    try {
      const results = await this.store.results(record.id);
      const worst = results.predictions
        .map((p) => ({ p, error: predictionError(results.kind, p.true, p.predicted) }))
        .filter((x) => Number.isFinite(x.error))
        .sort((a, b) => b.error - a.error)
        .slice(0, settings.residualDiagnosticsCount);
      const unit = errorUnit(results.kind);
      const diagnostics: vscode.Diagnostic[] = [];
      for (const { p, error } of worst) {
        if (p.row < 1 || p.row > document.lineCount) continue;
        const line = document.lineAt(p.row - 1);
        if (!lineMentions(line.text, p.name)) continue; // the file changed since the run
        const format = (v: readonly number[]): string => v.map((x) => x.toFixed(results.kind === 'space' ? 2 : 0)).join(', ');
        const diagnostic = new vscode.Diagnostic(line.range,
          `Large probe residual: predicted ${format(p.predicted)}, true ${format(p.true)}, error ${error.toFixed(results.kind === 'space' ? 0 : 1)} ${unit} ` +
          `(layer ${results.bestLayer}, ${p.split} split, ${record.model})`, vscode.DiagnosticSeverity.Information);
        diagnostic.source = 'Spacetime Probe';
        diagnostic.code = 'probe-residual';
        diagnostics.push(diagnostic);
      }
      this.residuals.set(document.uri, diagnostics);
    } catch {
      this.residuals.delete(document.uri);
    }
  }
}

/** "Toggle Largest-Residual Diagnostics". */
export async function toggleResidualDiagnostics(): Promise<boolean> {
  const current = readSettings().showResidualDiagnostics;
  const next = !current;
  // Asks where to save it (workspace or user settings) when a folder is open; cancelling changes nothing.
  return await updateSetting('diagnostics.showLargestResiduals', next, { ask: true }) ? next : current;
}

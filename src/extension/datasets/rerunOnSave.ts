/**
 * Edit & re-run: when a dataset file that was probed before is saved, run the probe again with the same model
 * and prompt (`spacetimeProbe.rerunOnSave`: off | onSave | manual). The activation cache means only new or
 * changed rows reach the model. "manual" offers the re-run in a notification instead of starting it.
 */
import * as vscode from 'vscode';
import { Disposable } from '../util/disposable';
import { readSettings } from '../config';
import type { RunStore } from '../runs/runStore';
import type { ProbeRunner } from '../runs/probeRunner';
import { datasetFileName, hasDatasetExtension, looksLikeDataset } from './datasetFiles';
import type { DatasetValidator } from './datasetValidator';
import type { EditorLoopTrace } from '../runs/editorLoopTrace';

export class RerunOnSave extends Disposable {
  constructor(
    private readonly store: RunStore, private readonly runner: ProbeRunner, private readonly validator: DatasetValidator,
    private readonly trace?: EditorLoopTrace,
  ) {
    super();
    this._register(vscode.workspace.onDidSaveTextDocument((document) => void this.saved(document)));
  }

  private async saved(document: vscode.TextDocument): Promise<void> {
    const mode = readSettings().rerunOnSave;
    if (mode === 'off' || document.uri.scheme !== 'file' || !hasDatasetExtension(document.fileName)) return;
    const previous = this.store.latestForDataset(document.uri.fsPath);
    if (!previous || !looksLikeDataset(document.getText(), document.fileName)) return;
    this.trace?.mark('save: event');
    // A file with errors would fail the run: the Problems panel already says what is wrong.
    const problems = await this.validator.validate(document.getText(), datasetFileName(document)).catch(() => undefined);
    if (!problems || problems.some((p) => p.severity === 'error')) return;
    this.trace?.mark('save: validated');
    if (mode === 'manual') {
      const choice = await vscode.window.showInformationMessage(
        `Spacetime Probe: ${vscode.workspace.asRelativePath(document.uri)} changed. Re-run the probe (${previous.model})?`, 'Re-run');
      if (choice !== 'Re-run') return;
    }
    await this.runner.run({
      dataset: document.uri.fsPath,
      model: previous.modelSpec,
      ...(previous.prompt ? { prompt: previous.prompt } : {}),
      reason: 'dataset saved',
    });
  }
}

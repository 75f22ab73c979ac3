/** "Run Probe on Current Dataset": the active CSV/JSONL editor (saved first), default model, last/first prompt. */
import * as vscode from 'vscode';
import type { Command } from './command';
import type { Services } from '../services';
import { hasDatasetExtension } from '../datasets/datasetFiles';
import type { ProbeOutcome } from '../runs/probeRunner';

export class RunProbeOnCurrentDatasetCommand implements Command {
  readonly id = 'spacetimeProbe.runProbeOnCurrentDataset';
  constructor(private readonly services: Services) {}

  async execute(resource?: unknown): Promise<ProbeOutcome | undefined> {
    // From a CodeLens, explorer menu or the Datasets view the file comes as an argument; else the active editor.
    const uri = resource instanceof vscode.Uri ? resource : vscode.window.activeTextEditor?.document.uri;
    if (!uri || uri.scheme !== 'file' || !hasDatasetExtension(uri.fsPath)) {
      void vscode.window.showWarningMessage('Spacetime Probe: open a dataset file (.csv or .jsonl) first, or use "Run Probe\u2026".');
      return undefined;
    }
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (document?.isDirty && !(await document.save())) return undefined;
    // Re-use the model and prompt of the last run on this file, so repeated runs compare like with like.
    const previous = this.services.store.latestForDataset(uri.fsPath);
    return this.services.runner.run({
      dataset: uri.fsPath,
      ...(previous ? { model: previous.modelSpec } : {}),
      ...(previous?.prompt ? { prompt: previous.prompt } : {}),
      reason: 'Run Probe on Current Dataset',
    });
  }
}

/**
 * The extension's long-lived services, built once in `activate` and passed to commands, views and providers
 * (constructor injection instead of a global locator).
 */
import * as vscode from 'vscode';
import path from 'node:path';
import { Disposable } from './util/disposable';
import { escapingLogChannel } from './util/escapingLog';
import { RunStore } from './runs/runStore';
import { ProbeRunner } from './runs/probeRunner';
import { DeviceStatus } from './deviceStatus';
import { ResultsPanel, type ResultsPanelDependencies, type ResultsTab } from './panels/resultsPanel';
import { exportRun } from './commands/exportResults';
import { loadChosenModel, WarmModel } from './runs/warmModel';
import { ExperimentRunner } from './runs/experimentRunner';
import { EditorLoopTrace } from './runs/editorLoopTrace';

export class Services extends Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly store: RunStore;
  readonly deviceStatus: DeviceStatus;
  readonly runner: ProbeRunner;
  /** Robustness experiments on finished runs (Run Experiment…), in a worker thread. */
  readonly experiments: ExperimentRunner;
  readonly panelDependencies: ResultsPanelDependencies;
  /** Timestamps of the edit → save → re-run → panel path (read by the editor-loop benchmark). */
  readonly trace = new EditorLoopTrace();

  constructor(readonly context: vscode.ExtensionContext, options: { readonly warmModelInHost: boolean } = { warmModelInHost: true }) {
    super();
    this.log = escapingLogChannel(this._register(vscode.window.createOutputChannel('Spacetime Probe', { log: true })));
    // Run history lives in global storage: runs are about datasets anywhere on disk, not one workspace.
    this.store = new RunStore(path.join(context.globalStorageUri.fsPath, 'runs'));
    this.deviceStatus = this._register(new DeviceStatus(this.log));
    const models = options.warmModelInHost ? new WarmModel(loadChosenModel) : undefined;
    this.runner = this._register(new ProbeRunner(this.store, this.log, this.deviceStatus, models, this.trace));
    this.experiments = this._register(new ExperimentRunner(this.store, this.log, path.join(context.extensionPath, 'out', 'experimentWorker.js')));
    this.panelDependencies = {
      extensionUri: context.extensionUri,
      store: this.store,
      log: this.log,
      exportRun: async (runId, format) => { await exportRun(this, runId, format); },
      onDidChangeRunStatus: this.runner.onDidChangeStatus,
      trace: this.trace,
    };
  }

  showResults(runId: string, compareIds: readonly string[] = [], tab?: ResultsTab): ResultsPanel {
    return ResultsPanel.show(this.panelDependencies, runId, compareIds, tab);
  }
}

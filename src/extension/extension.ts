/**
 * Entry point: builds the services once and wires commands, views, editor features and panels.
 * Everything is registered into context.subscriptions, so deactivation releases it all.
 */
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WorkerProbeEngine } from './runs/workerEngine';
import { registerEnvironmentPanel } from './panels/environmentPanel';
import { Services } from './services';
import { registerCommands } from './commands/index';
import { registerResultsPanelSerializer, ResultsPanel } from './panels/resultsPanel';
import { DatasetsView } from './views/datasetsView';
import { ModelsView } from './views/modelsView';
import { RunsView } from './views/runsView';
import { DatasetDiagnostics } from './datasets/datasetDiagnostics';
import { DatasetHoverProvider } from './datasets/datasetHover';
import { DatasetCodeLensProvider } from './datasets/datasetCodeLens';
import { RunStatusItem } from './runStatus';
import { PredictionLookup } from './datasets/predictionLookup';
import { RerunOnSave } from './datasets/rerunOnSave';
import { DatasetValidator } from './datasets/datasetValidator';
import { DATASET_SELECTOR } from './datasets/datasetFiles';
import { bindProbeEngine, probeEngine, type ProbeEngine } from './runs/engine';
import { bindModelHub, type ModelHub } from './runs/modelHub';
import { runProbe } from '../core/experiments/run';
import { readProbeResults } from '../core/experiments/probeActivations';
import { createHubService } from '../core/model/hub/hubService';

/** What `activate` returns: used by integration tests and available to other extensions. */
export interface SpacetimeProbeApi {
  readonly services: Services;
  readonly diagnostics: DatasetDiagnostics;
  readonly resultsPanel: () => ResultsPanel | undefined;
  /** The probe engine in use, and a way to replace it (tests wrap the real one to observe or cancel runs). */
  readonly probeEngine: () => ProbeEngine;
  readonly bindProbeEngine: (engine: ProbeEngine | undefined) => void;
  readonly bindModelHub: (hub: ModelHub | undefined) => void;
}

export function activate(context: vscode.ExtensionContext): SpacetimeProbeApi {
  // Probes run in a worker thread (out/probeWorker.js) so fitting never blocks the extension host; without the
  // bundle (e.g. a tsc-only build) they run in-process and the model is kept warm here instead.
  const workerFile = path.join(context.extensionPath, 'out', 'probeWorker.js');
  const worker = fs.existsSync(workerFile) ? new WorkerProbeEngine(workerFile) : undefined;
  bindProbeEngine(worker ? worker.run : async (options, hooks) => readProbeResults((await runProbe(options, hooks)).resultsFile));
  bindModelHub(createHubService());
  const services = new Services(context, { warmModelInHost: worker === undefined });
  services.log.info(worker ? `Probes run in a worker thread (${workerFile}).` : 'Probes run in the extension host (no worker bundle).');
  const datasetsView = new DatasetsView();
  const modelsView = new ModelsView(services.store);
  const validator = new DatasetValidator(path.join(context.extensionPath, 'out', 'datasetWorker.js'));
  const diagnostics = new DatasetDiagnostics(services.store, validator);
  // A refused run puts the file's problems in the Problems panel, open in an editor or not.
  const refusals = services.runner.onDidRefuseDataset((uri) => void diagnostics.validateFile(uri));
  const codeLens = new DatasetCodeLensProvider(services.store, () => services.runner.runningDatasetPath, services.runner.onDidChangeStatus);
  context.subscriptions.push(
    { dispose: () => worker?.dispose() },
    services,
    registerEnvironmentPanel(context),
    registerCommands(services),
    registerResultsPanelSerializer(services.panelDependencies),
    datasetsView,
    modelsView,
    vscode.window.registerTreeDataProvider('spacetimeProbe.datasets', datasetsView),
    vscode.window.registerTreeDataProvider('spacetimeProbe.models', modelsView),
    vscode.window.registerTreeDataProvider('spacetimeProbe.runs', new RunsView(services.store)),
    vscode.commands.registerCommand('spacetimeProbe.refreshViews', () => {
      services.store.reload();
      datasetsView.refresh();
      modelsView.refresh();
    }),
    diagnostics,
    refusals,
    vscode.languages.registerHoverProvider(DATASET_SELECTOR, new DatasetHoverProvider(new PredictionLookup(services.store))),
    codeLens,
    vscode.languages.registerCodeLensProvider(DATASET_SELECTOR, codeLens),
    new RunStatusItem(services.runner.onDidChangeStatus),
    new RerunOnSave(services.store, services.runner, validator, services.trace),
    validator,
    { dispose: () => ResultsPanel.current?.dispose() },
  );
  return {
    services,
    diagnostics,
    resultsPanel: () => ResultsPanel.current,
    probeEngine,
    bindProbeEngine,
    bindModelHub,
  };
}

export function deactivate(): void {
  // Nothing beyond context.subscriptions: every registration above is released with it.
}

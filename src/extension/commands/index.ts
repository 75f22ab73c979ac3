/** Builds every command with its dependencies; extension.ts only registers the returned disposable. */
import * as vscode from 'vscode';
import type { Services } from '../services';
import { registerCommand, type Command } from './command';
import { RunProbeCommand } from './runProbe';
import { RunProbeOnCurrentDatasetCommand } from './runProbeOnCurrentDataset';
import { ShowResultsCommand } from './showResults';
import { CompareRunsCommand } from './compareRuns';
import { SelectDeviceCommand } from './selectDevice';
import { OpenBuiltinDatasetCommand } from './openBuiltinDataset';
import { ClearActivationCacheCommand } from './clearActivationCache';
import { CancelRunCommand } from './cancelRun';
import { ExportResultsCommand } from './exportResults';
import { DownloadModelCommand, SetHubTokenCommand } from './downloadModel';
import { RunExperimentCommand } from './runExperiment';
import { ExportExtractionScriptCommand, OpenActivationFolderCommand } from './activationFolders';
import { toggleResidualDiagnostics } from '../datasets/datasetDiagnostics';
import type { RunRecord } from '../runs/runStore';

class ToggleResidualDiagnosticsCommand implements Command {
  readonly id = 'spacetimeProbe.toggleResidualDiagnostics';
  execute(): Promise<boolean> {
    return toggleResidualDiagnostics();
  }
}

class DeleteRunCommand implements Command {
  readonly id = 'spacetimeProbe.deleteRun';
  constructor(private readonly services: Services) {}
  async execute(run?: unknown): Promise<void> {
    const id = typeof run === 'string' ? run : (run as RunRecord | undefined)?.id;
    const record = id ? this.services.store.get(id) : undefined;
    if (!id || !record) return;
    // From the Runs view (a tree item): ask first. A run id passed by another command or a test is deleted as asked.
    if (typeof run !== 'string') {
      const choice = await vscode.window.showWarningMessage(`Delete the run ${record.dataset} \u00b7 ${record.model} ` +
        `(${new Date(record.createdAt).toLocaleString()}) and its results?`, { modal: true }, 'Delete');
      if (choice !== 'Delete') return;
    }
    await this.services.store.remove(id);
  }
}

export function registerCommands(services: Services, extra: readonly Command[] = []): vscode.Disposable {
  const commands: Command[] = [
    new RunProbeOnCurrentDatasetCommand(services),
    new RunProbeCommand(services),
    new OpenBuiltinDatasetCommand(services),
    new DownloadModelCommand(services),
    new SetHubTokenCommand(services),
    new SelectDeviceCommand(services),
    new CompareRunsCommand(services),
    new RunExperimentCommand(services),
    new ShowResultsCommand(services),
    new ClearActivationCacheCommand(services),
    new ExportResultsCommand(services),
    new CancelRunCommand(services),
    new ToggleResidualDiagnosticsCommand(),
    new DeleteRunCommand(services),
    new ExportExtractionScriptCommand(services),
    new OpenActivationFolderCommand(services),
    ...extra,
  ];
  return vscode.Disposable.from(...commands.map((command) => registerCommand(services, command)));
}

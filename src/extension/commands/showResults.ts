/** "Show Results": a given run (from the Runs view or a notification), else pick one (latest first). */
import * as vscode from 'vscode';
import type { Command } from './command';
import type { Services } from '../services';
import { pickRuns } from '../pickers';
import type { ResultsPanel } from '../panels/resultsPanel';

export class ShowResultsCommand implements Command {
  readonly id = 'spacetimeProbe.showResults';
  constructor(private readonly services: Services) {}

  async execute(runId?: unknown): Promise<ResultsPanel | undefined> {
    const { store } = this.services;
    let id = typeof runId === 'string' && store.get(runId) ? runId : undefined;
    if (!id) {
      if (store.list().length === 0) {
        void vscode.window.showInformationMessage('Spacetime Probe: no runs yet. Run a probe first ("Spacetime Probe: Run Probe\u2026").');
        return undefined;
      }
      id = store.list().length === 1 ? store.list()[0].id : (await pickRuns(store, { canPickMany: false, title: 'Show results of run' }))?.id;
    }
    return id ? this.services.showResults(id) : undefined;
  }
}

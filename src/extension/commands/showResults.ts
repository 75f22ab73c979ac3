/**
 * "Show Results": a given run (from the Runs view, a CodeLens or a notification). Without one it brings the open
 * panel to the front as it is (a comparison stays a comparison), or opens the most recent run.
 * Other runs are one click away in the Runs view; Compare Runs picks several.
 */
import * as vscode from 'vscode';
import type { Command } from './command';
import type { Services } from '../services';
import { ResultsPanel, type ResultsTab } from '../panels/resultsPanel';

const TABS: readonly ResultsTab[] = ['layers', 'map', 'time', 'table', 'experiments'];

export class ShowResultsCommand implements Command {
  readonly id = 'spacetimeProbe.showResults';
  constructor(private readonly services: Services) {}

  execute(runId?: unknown, options?: unknown): ResultsPanel | undefined {
    const { store } = this.services;
    const open = ResultsPanel.current;
    if (runId === undefined && open?.shownRunId && store.get(open.shownRunId)) {
      open.reveal();
      return open;
    }
    const id = typeof runId === 'string' && store.get(runId) ? runId : store.list()[0]?.id;
    if (!id) {
      void vscode.window.showInformationMessage('Spacetime Probe: no runs yet. Run a probe first ("Spacetime Probe: Run Probe\u2026").');
      return undefined;
    }
    const tab = typeof options === 'object' && options !== null ? (options as { tab?: unknown }).tab : undefined;
    return this.services.showResults(id, [], TABS.find((t) => t === tab));
  }
}

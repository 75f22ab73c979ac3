/** "Compare Runs": test R² by layer of several runs in one chart (relative depth when models differ). */
import * as vscode from 'vscode';
import type { Command } from './command';
import type { Services } from '../services';
import { pickRuns } from '../pickers';

export class CompareRunsCommand implements Command {
  readonly id = 'spacetimeProbe.compareRuns';
  constructor(private readonly services: Services) {}

  async execute(runIds?: unknown): Promise<void> {
    const { store } = this.services;
    const given = Array.isArray(runIds) ? runIds.filter((id): id is string => typeof id === 'string' && store.get(id) !== undefined) : [];
    const ids = given.length >= 2 ? given : (await pickRuns(store, { canPickMany: true, title: 'Compare runs' }))?.map((r) => r.id);
    if (!ids) return;
    if (ids.length < 2) {
      void vscode.window.showInformationMessage('Spacetime Probe: pick at least two runs to compare.');
      return;
    }
    this.services.showResults(ids[0], ids.slice(1), 'layers');
  }
}

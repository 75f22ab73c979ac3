/** Sidebar "Runs": run history (newest first) with model, dataset, prompt and best-layer R²; click opens results. */
import * as vscode from 'vscode';
import { Disposable } from '../util/disposable';
import type { RunRecord, RunStore } from '../runs/runStore';

export class RunsView extends Disposable implements vscode.TreeDataProvider<RunRecord> {
  private readonly onDidChangeEmitter = this._register(new vscode.EventEmitter<RunRecord | undefined>());
  readonly onDidChangeTreeData = this.onDidChangeEmitter.event;

  constructor(private readonly store: RunStore) {
    super();
    this._register(store.onDidChange(() => this.onDidChangeEmitter.fire(undefined)));
  }

  getTreeItem(record: RunRecord): vscode.TreeItem {
    const item = new vscode.TreeItem(`${record.dataset} \u00b7 ${record.model}`, vscode.TreeItemCollapsibleState.None);
    const r2 = Number.isFinite(record.bestTestR2) ? record.bestTestR2.toFixed(3) : '\u2013';
    const when = new Date(record.createdAt);
    const time = Number.isNaN(when.getTime()) ? '' : ` \u00b7 ${when.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })}`;
    item.description = `R\u00b2 ${r2} @ layer ${record.bestLayer}${time}`;
    const tooltip = new vscode.MarkdownString();
    tooltip.appendText(`Dataset: ${record.datasetReference}\nModel: ${record.modelSpec}\nPrompt: ${record.prompt ?? '(default)'}\n` +
      `Best layer: ${record.bestLayer} (test R\u00b2 ${r2})\nDevice: ${record.device ?? 'unknown'}\n${new Date(record.createdAt).toLocaleString()}` +
      (record.provenance ? `\nActivations: ${record.provenance}` : ''));
    if (record.activationsFolder) item.description = `${item.description} \u00b7 external activations`;
    item.tooltip = tooltip;
    item.iconPath = new vscode.ThemeIcon(record.kind === 'space' ? 'globe' : 'calendar');
    item.command = { command: 'spacetimeProbe.showResults', title: 'Show Results', arguments: [record.id] };
    item.contextValue = 'run';
    item.id = record.id;
    return item;
  }

  getChildren(element?: RunRecord): RunRecord[] {
    return element ? [] : [...this.store.list()];
  }
}

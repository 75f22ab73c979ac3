/** Sidebar "Datasets": dataset files in the workspace and the built-in sets. */
import * as vscode from 'vscode';
import path from 'node:path';
import { listBuiltinDatasets, type BuiltinDatasetInfo } from '../../core/datasets/builtin';
import { Disposable } from '../util/disposable';
import { DATASET_GLOB, findWorkspaceDatasets } from '../datasets/datasetFiles';

type Node =
  | { readonly type: 'group'; readonly group: 'workspace' | 'builtin' }
  | { readonly type: 'file'; readonly uri: vscode.Uri }
  | { readonly type: 'builtin'; readonly info: BuiltinDatasetInfo }
  | { readonly type: 'message'; readonly text: string };

export class DatasetsView extends Disposable implements vscode.TreeDataProvider<Node> {
  private readonly onDidChangeEmitter = this._register(new vscode.EventEmitter<Node | undefined>());
  readonly onDidChangeTreeData = this.onDidChangeEmitter.event;

  constructor() {
    super();
    const watcher = this._register(vscode.workspace.createFileSystemWatcher(DATASET_GLOB, false, true, false));
    this._register(watcher.onDidCreate(() => this.refresh()));
    this._register(watcher.onDidDelete(() => this.refresh()));
    this._register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.refresh()));
  }

  refresh(): void {
    this.onDidChangeEmitter.fire(undefined);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.type) {
      case 'group': {
        const item = new vscode.TreeItem(node.group === 'workspace' ? 'Workspace' : 'Built-in', vscode.TreeItemCollapsibleState.Expanded);
        item.contextValue = `group.${node.group}`;
        return item;
      }
      case 'file': {
        const item = new vscode.TreeItem(node.uri, vscode.TreeItemCollapsibleState.None);
        item.description = path.dirname(vscode.workspace.asRelativePath(node.uri)).replace(/^\.$/, '');
        item.command = { command: 'vscode.open', title: 'Open', arguments: [node.uri] };
        item.contextValue = 'dataset.file';
        return item;
      }
      case 'builtin': {
        const item = new vscode.TreeItem(node.info.name, vscode.TreeItemCollapsibleState.None);
        item.description = `${node.info.kind} \u00b7 ${node.info.rows.toLocaleString('en')}`;
        item.tooltip = new vscode.MarkdownString();
        item.tooltip.appendText(`${node.info.title}\n\n${node.info.description}\n\nSource: ${node.info.source}\nLicence: ${node.info.licence}`);
        item.iconPath = new vscode.ThemeIcon(node.info.kind === 'space' ? 'globe' : 'calendar');
        item.command = { command: 'spacetimeProbe.openBuiltinDataset', title: 'Open', arguments: [node.info.reference] };
        item.contextValue = 'dataset.builtin';
        return item;
      }
      case 'message':
        return new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
    }
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) return [{ type: 'group', group: 'workspace' }, { type: 'group', group: 'builtin' }];
    if (node.type !== 'group') return [];
    if (node.group === 'workspace') {
      const files = await findWorkspaceDatasets();
      return files.length ? files.map((uri) => ({ type: 'file', uri })) : [{ type: 'message', text: 'No dataset files (.csv/.jsonl with entity and target columns)' }];
    }
    try {
      return listBuiltinDatasets().map((info) => ({ type: 'builtin', info }));
    } catch (error) {
      return [{ type: 'message', text: `Built-in datasets unavailable: ${error instanceof Error ? error.message : String(error)}` }];
    }
  }
}

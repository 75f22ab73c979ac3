/**
 * Sidebar "Models": the built-in model, model folders in the workspace (safetensors checkpoints and ONNX exports),
 * models used in runs, cached Hub downloads and suggested downloads.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from '../util/disposable';
import type { RunStore } from '../runs/runStore';
import { modelHub } from '../runs/modelHub';
import { BUILTIN_MODEL } from '../pickers';
import { readSettings } from '../config';
import { describeModelFolder } from '../../core/model/modelFolder';

type Node =
  | { readonly type: 'group'; readonly group: 'builtin' | 'workspace' | 'local' | 'cached' | 'suggested' }
  | { readonly type: 'model'; readonly spec: string; readonly description?: string; readonly tooltip?: string }
  | { readonly type: 'download'; readonly repo: string; readonly description: string }
  | { readonly type: 'message'; readonly text: string };

export class ModelsView extends Disposable implements vscode.TreeDataProvider<Node> {
  private readonly onDidChangeEmitter = this._register(new vscode.EventEmitter<Node | undefined>());
  readonly onDidChangeTreeData = this.onDidChangeEmitter.event;

  constructor(private readonly store: RunStore) {
    super();
    this._register(store.onDidChange(() => this.refresh()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('spacetimeProbe.defaultModel')) this.refresh(); }));
  }

  refresh(): void {
    this.onDidChangeEmitter.fire(undefined);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.type) {
      case 'group': {
        const labels = { builtin: 'Built-in', workspace: 'In this workspace', local: 'Used in runs', cached: 'Downloaded', suggested: 'Available to download' };
        return new vscode.TreeItem(labels[node.group], node.group === 'suggested' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded);
      }
      case 'model': {
        const item = new vscode.TreeItem(node.spec, vscode.TreeItemCollapsibleState.None);
        const isDefault = readSettings().defaultModel === node.spec;
        item.description = [node.description, isDefault ? 'default' : undefined].filter(Boolean).join(' \u00b7 ');
        item.tooltip = node.tooltip ?? node.spec;
        item.iconPath = new vscode.ThemeIcon(isDefault ? 'star-full' : 'symbol-misc');
        item.contextValue = 'model';
        return item;
      }
      case 'download': {
        const item = new vscode.TreeItem(node.repo, vscode.TreeItemCollapsibleState.None);
        item.description = node.description;
        item.iconPath = new vscode.ThemeIcon('cloud-download');
        item.command = { command: 'spacetimeProbe.downloadModel', title: 'Download', arguments: [node.repo] };
        item.contextValue = 'model.downloadable';
        return item;
      }
      case 'message':
        return new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
    }
  }

  async getChildren(node?: Node): Promise<Node[]> {
    const hub = modelHub();
    if (!node) {
      const groups: Node[] = [{ type: 'group', group: 'builtin' }, { type: 'group', group: 'workspace' }, { type: 'group', group: 'local' }];
      if (hub) groups.push({ type: 'group', group: 'cached' }, { type: 'group', group: 'suggested' });
      return groups;
    }
    if (node.type !== 'group') return [];
    switch (node.group) {
      case 'builtin':
        return [{ type: 'model', spec: BUILTIN_MODEL, description: 'GloVe 100d, offline', tooltip: 'Word embeddings averaged over the entity\u2019s words: one "layer", runs anywhere.' }];
      case 'workspace': {
        // Folders saved by save_pretrained or exported to ONNX: a config.json next to weights.
        const configs = await vscode.workspace.findFiles('**/config.json', '**/{node_modules,.git,out,dist}/**', 200);
        const models = configs.map((uri) => describeModelFolder(path.dirname(uri.fsPath))).filter((model) => model !== undefined);
        return models.length
          ? models.map((model) => ({ type: 'model', spec: model.folder, description: model.formats.join(' + '), tooltip: `${model.folder}\n${model.formats.join(', ')}` }))
          : [{ type: 'message', text: 'No model folders (config.json + safetensors or onnx/)' }];
      }
      case 'local': {
        const used = [...new Set(this.store.list().map((r) => r.modelSpec))].filter((m) => m !== BUILTIN_MODEL);
        return used.length ? used.map((spec) => ({ type: 'model', spec })) : [{ type: 'message', text: 'None yet' }];
      }
      case 'cached': {
        const cached = hub ? await hub.cached().catch(() => []) : [];
        return cached.length
          ? cached.map((m) => ({
            type: 'model', spec: m.modelSpec,
            description: [m.sizeBytes ? `${Math.round(m.sizeBytes / 1024 ** 2)} MB` : undefined, m.variants?.length ? m.variants.join(', ') : undefined]
              .filter(Boolean).join(' \u00b7 ') || undefined,
            tooltip: `${m.path}${m.variants?.length ? `\nVariants (--variant): ${m.variants.join(', ')}` : ''}`,
          }))
          : [{ type: 'message', text: 'No downloaded models' }];
      }
      case 'suggested':
        return (hub?.suggested() ?? []).map((m) => ({ type: 'download', repo: m.repo, description: m.description }));
    }
  }
}

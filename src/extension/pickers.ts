/** Quick picks shared by the commands: dataset, model, prompt template, runs. */
import * as vscode from 'vscode';
import path from 'node:path';
import { listBuiltinDatasets } from '../core/datasets/builtin';
import type { DatasetKind } from '../core/datasets/types';
import * as fs from 'node:fs';
import { datasetKindOfHeader, findWorkspaceDatasets } from './datasets/datasetFiles';
import { readSettings } from './config';
import type { RunRecord, RunStore } from './runs/runStore';
import { modelHub } from './runs/modelHub';

export const BUILTIN_MODEL = 'builtin:glove-100d';

interface ValueItem<T> extends vscode.QuickPickItem {
  readonly value?: T;
}

export interface DatasetChoice {
  readonly reference: string;
  readonly kind?: DatasetKind;
}

export async function pickDataset(): Promise<DatasetChoice | undefined> {
  const items: ValueItem<DatasetChoice | 'browse'>[] = [];
  const workspace = await findWorkspaceDatasets();
  if (workspace.length) items.push({ label: 'Workspace', kind: vscode.QuickPickItemKind.Separator });
  for (const uri of workspace) {
    const kind = fileKind(uri.fsPath);
    items.push({ label: `$(file) ${path.basename(uri.fsPath)}`, description: vscode.workspace.asRelativePath(uri), value: { reference: uri.fsPath, ...(kind ? { kind } : {}) } });
  }
  let builtins: ReturnType<typeof listBuiltinDatasets> = [];
  try {
    builtins = listBuiltinDatasets();
  } catch {
    // data/builtin missing from this build: only workspace files and browsing are offered.
  }
  if (builtins.length) items.push({ label: 'Built-in', kind: vscode.QuickPickItemKind.Separator });
  for (const info of builtins) {
    items.push({
      label: `$(database) ${info.name}`,
      description: `${info.kind} \u00b7 ${info.rows.toLocaleString('en')} rows`,
      detail: info.description,
      value: { reference: info.reference, kind: info.kind },
    });
  }
  items.push({ label: '', kind: vscode.QuickPickItemKind.Separator }, { label: '$(folder-opened) Browse\u2026', value: 'browse' });
  const picked = await vscode.window.showQuickPick(items, { title: 'Spacetime Probe: dataset', placeHolder: 'Pick a dataset to probe', matchOnDescription: true });
  if (!picked?.value) return undefined;
  if (picked.value === 'browse') {
    const uris = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Datasets': ['csv', 'jsonl', 'ndjson'] }, title: 'Dataset file' });
    const kind = uris?.[0] ? fileKind(uris[0].fsPath) : undefined;
    return uris?.[0] ? { reference: uris[0].fsPath, ...(kind ? { kind } : {}) } : undefined;
  }
  return picked.value;
}

/** A dataset file's kind from its first 64 KiB (so the prompt step offers only that kind's templates). */
function fileKind(file: string): DatasetKind | undefined {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(65536);
      const read = fs.readSync(fd, buffer, 0, buffer.length, 0);
      return datasetKindOfHeader(buffer.subarray(0, read).toString('utf8'), file);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

export async function pickModel(store: RunStore): Promise<string | undefined> {
  const defaultModel = readSettings().defaultModel;
  const items: ValueItem<string>[] = [
    { label: `$(symbol-misc) ${BUILTIN_MODEL}`, description: 'built-in GloVe, offline, 1 layer', value: BUILTIN_MODEL },
  ];
  const cached = (await modelHub()?.cached().catch(() => []) ?? []).filter((m) => m.modelSpec !== BUILTIN_MODEL);
  if (cached.length) items.push({ label: 'Downloaded', kind: vscode.QuickPickItemKind.Separator });
  for (const model of cached) items.push({ label: `$(package) ${model.modelSpec}`, description: model.label, value: model.modelSpec });
  const recent = [...new Set(store.list().map((r) => r.modelSpec))].filter((m) => m !== BUILTIN_MODEL && !cached.some((c) => c.modelSpec === m));
  if (defaultModel !== BUILTIN_MODEL && !recent.includes(defaultModel)) recent.unshift(defaultModel);
  if (recent.length) items.push({ label: 'Recent', kind: vscode.QuickPickItemKind.Separator });
  for (const model of recent) items.push({ label: `$(history) ${model}`, value: model });
  items.push(
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(folder-opened) Model folder or .onnx file\u2026', value: 'browse' },
    { label: '$(cloud-download) Hugging Face model id\u2026', description: 'downloaded models are cached', value: 'hub' },
  );
  const picked = await vscode.window.showQuickPick(items, { title: 'Spacetime Probe: model', placeHolder: `Default: ${defaultModel}` });
  if (!picked?.value) return undefined;
  if (picked.value === 'browse') {
    const uris = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: true, canSelectMany: false, title: 'Model folder (Hub layout) or .onnx file' });
    return uris?.[0]?.fsPath;
  }
  if (picked.value === 'hub') {
    const id = await vscode.window.showInputBox({
      title: 'Hugging Face model id', prompt: 'e.g. EleutherAI/pythia-70m (an ONNX export in the repository, or onnx-community/…)',
      validateInput: (value) => (/^[\w.-]+\/[\w.-]+(@[\w./-]+)?$/.test(value.trim()) ? undefined : 'Expected owner/name, optionally @revision'),
    });
    return id ? `hf:${id.trim()}` : undefined;
  }
  return picked.value;
}

export async function pickPrompt(kind: DatasetKind | undefined): Promise<string | undefined | null> {
  const templates = readSettings().promptTemplates;
  const list = kind ? templates[kind] : [...new Set([...templates.space, ...templates.time])];
  const items: ValueItem<string>[] = list.map((template) => ({ label: template, value: template }));
  items.push({ label: '$(edit) Custom template\u2026', value: '\u0000custom' });
  const picked = await vscode.window.showQuickPick(items, { title: 'Spacetime Probe: prompt template', placeHolder: '{entity} is replaced by each entity name' });
  if (!picked?.value) return null;
  if (picked.value !== '\u0000custom') return picked.value;
  const custom = await vscode.window.showInputBox({
    title: 'Prompt template', value: '{entity}',
    validateInput: (value) => (value.includes('{entity}') ? undefined : 'The template must contain {entity}'),
  });
  return custom ?? null;
}

export function describeRun(record: RunRecord): vscode.QuickPickItem {
  return {
    label: `${record.dataset} \u00b7 ${record.model}`,
    description: `best layer ${record.bestLayer}, test R\u00b2 ${Number.isFinite(record.bestTestR2) ? record.bestTestR2.toFixed(3) : '\u2013'}`,
    detail: `${new Date(record.createdAt).toLocaleString()}${record.prompt ? ` \u00b7 prompt ${record.prompt}` : ''}`,
  };
}

export async function pickRuns(store: RunStore, options: { canPickMany: true; title: string }): Promise<RunRecord[] | undefined>;
export async function pickRuns(store: RunStore, options: { canPickMany: false; title: string }): Promise<RunRecord | undefined>;
export async function pickRuns(store: RunStore, options: { canPickMany: boolean; title: string }): Promise<RunRecord[] | RunRecord | undefined> {
  const runs = store.list();
  if (runs.length === 0) {
    void vscode.window.showInformationMessage('Spacetime Probe: no runs yet. Run a probe first.');
    return undefined;
  }
  const items = runs.map((record) => ({ ...describeRun(record), record }));
  if (options.canPickMany) {
    const picked = await vscode.window.showQuickPick(items, { title: options.title, canPickMany: true, placeHolder: 'Pick two or more runs' });
    return picked?.map((p) => p.record);
  }
  const picked = await vscode.window.showQuickPick(items, { title: options.title });
  return picked?.record;
}

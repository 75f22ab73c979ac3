/**
 * "Open Built-in Dataset": opens one of the shipped CSVs as an editable copy in the workspace.
 *
 * The shipped file lives inside the extension and must never be edited (an update would overwrite it, and every
 * workspace shares it), so the command copies it to `<workspace folder>/datasets/<name>.csv` — never overwriting
 * an existing file: `<name>-2.csv`, … — and opens the copy. Without a workspace folder it opens an untitled copy
 * the user can save anywhere. `{ copy: false }` opens the shipped file itself, read-only.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Command } from './command';
import type { Services } from '../services';
import { listBuiltinDatasets, resolveBuiltinDataset } from '../../core/datasets/builtin';

export interface OpenBuiltinOptions {
  /** Default true: open an editable copy; false: the shipped file, read-only. */
  readonly copy?: boolean;
}

export class OpenBuiltinDatasetCommand implements Command {
  readonly id = 'spacetimeProbe.openBuiltinDataset';
  constructor(private readonly services: Services) {}

  async execute(reference?: unknown, options?: unknown): Promise<vscode.TextEditor | undefined> {
    let ref = typeof reference === 'string' ? reference : undefined;
    if (!ref) {
      const picked = await vscode.window.showQuickPick(listBuiltinDatasets().map((info) => ({
        label: info.name, description: `${info.kind} \u00b7 ${info.rows.toLocaleString('en')} rows \u00b7 ${info.licence}`, detail: info.description, reference: info.reference,
      })), { title: 'Open built-in dataset (as an editable copy)' });
      ref = picked?.reference;
    }
    if (!ref) return undefined;
    const info = resolveBuiltinDataset(ref);
    const copy = (options as OpenBuiltinOptions | undefined)?.copy ?? true;
    if (!copy) {
      this.services.log.info(`Opening ${ref} read-only (${info.path}).`);
      await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(info.path));
      await vscode.commands.executeCommand('workbench.action.files.setActiveEditorReadonlyInSession');
      return vscode.window.activeTextEditor;
    }
    const content = await vscode.workspace.fs.readFile(vscode.Uri.file(info.path));
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) {
      const document = await vscode.workspace.openTextDocument({ language: 'csv', content: new TextDecoder().decode(content) });
      this.services.log.info(`Opened ${ref} as an untitled copy (no workspace folder to copy it into).`);
      return vscode.window.showTextDocument(document, { preview: false });
    }
    const target = await freeName(vscode.Uri.joinPath(folder.uri, 'datasets'), info.name);
    await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(target, '..'));
    await vscode.workspace.fs.writeFile(target, content);
    this.services.log.info(`Copied ${ref} to ${target.fsPath}; edit it and run the probe on it.`);
    const document = await vscode.workspace.openTextDocument(target);
    return vscode.window.showTextDocument(document, { preview: false });
  }
}

/** `<dir>/<name>.csv`, or `<name>-2.csv`, `<name>-3.csv`, … whichever does not exist yet. */
async function freeName(dir: vscode.Uri, name: string): Promise<vscode.Uri> {
  for (let index = 1; ; index += 1) {
    const candidate = vscode.Uri.joinPath(dir, `${name}${index === 1 ? '' : `-${index}`}.csv`);
    try {
      await vscode.workspace.fs.stat(candidate);
    } catch {
      return candidate;
    }
    if (index > 999) throw new Error(`No free file name for ${name} in ${path.basename(dir.fsPath)}`);
  }
}

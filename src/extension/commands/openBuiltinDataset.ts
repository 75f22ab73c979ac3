/** "Open Built-in Dataset": opens one of the shipped CSVs in an editor (read-only: it lives in the extension). */
import * as vscode from 'vscode';
import type { Command } from './command';
import type { Services } from '../services';
import { listBuiltinDatasets, resolveBuiltinDataset } from '../../core/datasets/builtin';

export class OpenBuiltinDatasetCommand implements Command {
  readonly id = 'spacetimeProbe.openBuiltinDataset';
  constructor(private readonly services: Services) {}

  async execute(reference?: unknown): Promise<vscode.TextEditor | undefined> {
    let ref = typeof reference === 'string' ? reference : undefined;
    if (!ref) {
      const picked = await vscode.window.showQuickPick(listBuiltinDatasets().map((info) => ({
        label: info.name, description: `${info.kind} \u00b7 ${info.rows.toLocaleString('en')} rows \u00b7 ${info.licence}`, detail: info.description, reference: info.reference,
      })), { title: 'Open built-in dataset' });
      ref = picked?.reference;
    }
    if (!ref) return undefined;
    const info = resolveBuiltinDataset(ref);
    this.services.log.info(`Opening ${ref} (${info.path}).`);
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(info.path));
    return vscode.window.showTextDocument(document, { preview: false });
  }
}

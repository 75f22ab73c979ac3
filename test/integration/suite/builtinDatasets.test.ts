// Built-in datasets in the editor: "Open Built-in Dataset" gives an editable copy in the workspace (never the
// shipped file), and the copy can be edited and probed like any dataset.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { completed, extensionApi, runProbe, workspaceDir } from './probeTestSupport';
import { resolveBuiltinDataset } from '../../../src/core/datasets/builtin';

suite('Built-in datasets', () => {
  test('Open Built-in Dataset copies the CSV into the workspace; a second copy gets a new name', async () => {
    await extensionApi();
    const shipped = resolveBuiltinDataset('builtin:dated_events').path;
    const shippedBytes = fs.readFileSync(shipped);
    const first = await vscode.commands.executeCommand<vscode.TextEditor>('spacetimeProbe.openBuiltinDataset', 'builtin:dated_events');
    assert.ok(first, 'an editor opened');
    const expected = path.join(workspaceDir(), 'datasets', 'dated_events.csv');
    assert.equal(first.document.uri.fsPath, expected);
    assert.deepEqual(fs.readFileSync(expected), shippedBytes);
    const second = await vscode.commands.executeCommand<vscode.TextEditor>('spacetimeProbe.openBuiltinDataset', 'builtin:dated_events');
    assert.equal(second?.document.uri.fsPath, path.join(workspaceDir(), 'datasets', 'dated_events-2.csv'));
    assert.deepEqual(fs.readFileSync(expected), shippedBytes, 'the first copy was not overwritten');
  });

  test('the copy is editable and probes like any dataset; the shipped file is untouched', async () => {
    const shipped = resolveBuiltinDataset('builtin:dated_events').path;
    const shippedBytes = fs.readFileSync(shipped);
    const copy = path.join(workspaceDir(), 'datasets', 'dated_events.csv');
    const document = await vscode.workspace.openTextDocument(copy);
    const editor = await vscode.window.showTextDocument(document);
    // Drop the last data row.
    const last = document.lineAt(document.lineCount - 1).text === '' ? document.lineCount - 2 : document.lineCount - 1;
    const dataRows = last; // lines 1…last are data rows (line 0 is the header)
    assert.ok(await editor.edit((edit) => edit.delete(new vscode.Range(last - 1, document.lineAt(last - 1).text.length, last, document.lineAt(last).text.length))));
    assert.ok(await document.save());
    const outcome = completed(await runProbe(copy, { showResults: false }));
    const skipped = outcome.results.skipped?.length ?? 0;
    assert.equal(outcome.results.predictions.length + skipped, dataRows - 1);
    assert.deepEqual(fs.readFileSync(shipped), shippedBytes);
  });
});

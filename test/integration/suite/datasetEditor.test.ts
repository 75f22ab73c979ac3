// Dataset files in the editor: hover shows the latest prediction, validation problems appear in the Problems
// panel as you type, CodeLens, largest-residual diagnostics, and edit & re-run through the activation cache.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { CAPITALS, capitalsCsv, completed, extensionApi, runProbe, waitFor, writeDataset } from './probeTestSupport';
import { greatCircleKm } from '../../../webview/src/geo';
import type { ProbeEngine } from '../../../src/extension/runs/engine';

/** The hover's markdown as plain text: appendText escapes '.', '-', '(' … and writes spaces as &nbsp;. */
function hoverText(hovers: vscode.Hover[]): string {
  return hovers.flatMap((h) => h.contents).map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : '')).join('\n')
    .replace(/\\([\\`*_{}[\]()#+\-.!|])/g, '$1').replace(/&nbsp;/g, ' ');
}

async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('spacetimeProbe').update(key, value, vscode.ConfigurationTarget.Global);
}

suite('Dataset files', () => {
  let file: string;
  let document: vscode.TextDocument;

  suiteSetup(async () => {
    await extensionApi();
    file = writeDataset('capitals.csv', capitalsCsv());
    const outcome = completed(await runProbe(file, { showResults: false }));
    assert.equal(outcome.results.kind, 'space');
    document = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(document);
  });

  suiteTeardown(async () => {
    await setSetting('rerunOnSave', undefined);
    await setSetting('diagnostics.showLargestResiduals', undefined);
  });

  test('hovering an entity shows its predicted and true position, error, split and layer', async () => {
    const api = await extensionApi();
    const record = api.services.store.latestForDataset(file);
    assert.ok(record);
    const results = await api.services.store.results(record.id);
    const line = 1 + CAPITALS.findIndex(([name]) => name === 'Paris'); // 0-based editor line (header is line 0)
    const prediction = results.predictions.find((p) => p.row === line + 1);
    assert.ok(prediction, 'Paris has a prediction');
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, new vscode.Position(line, 2));
    const text = hoverText(hovers);
    assert.match(text, /Paris/);
    assert.ok(text.includes('48.857°N, 2.352°E'), `the true position from the file in:\n${text}`);
    const lat = prediction.predicted[0];
    assert.ok(text.includes(`${Math.abs(lat).toFixed(3)}°${lat >= 0 ? 'N' : 'S'}`), `predicted latitude ${lat} in:\n${text}`);
    // Error recomputed here from the file's coordinates and the prediction.
    const error = greatCircleKm([48.8566, 2.3522], prediction.predicted);
    assert.ok(text.includes(`${error.toFixed(0)} km`), `error ${error.toFixed(0)} km in:\n${text}`);
    assert.match(text, new RegExp(`\\| Split \\| ${prediction.split} \\|`));
    assert.match(text, /\| Layer \| 0 \(best of 1\) \|/);
    // The header line has no prediction.
    assert.equal(hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, new vscode.Position(0, 1))).includes('Predicted'), false);
  });

  test('a bad row appears in the Problems panel at its line and column while typing', async () => {
    const api = await extensionApi();
    const line = 1 + CAPITALS.findIndex(([name]) => name === 'Rome');
    const text = document.lineAt(line).text;
    const start = text.indexOf(',') + 1; // the latitude field
    const end = text.indexOf(',', start);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(document.uri, new vscode.Range(line, start, line, end), 'north');
    assert.ok(await vscode.workspace.applyEdit(edit));
    const diagnostic = await waitFor(() => vscode.languages.getDiagnostics(document.uri).find((d) => d.source === 'Spacetime Probe' && d.range.start.line === line),
      'a diagnostic on the edited row');
    assert.equal(diagnostic.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(diagnostic.range.start.character, start, 'starts at the field');
    assert.equal(diagnostic.range.end.character, start + 'north'.length, 'spans the field');
    assert.match(diagnostic.message, /latitude/i);
    // Undo: the problem goes away again.
    const undo = new vscode.WorkspaceEdit();
    undo.replace(document.uri, new vscode.Range(line, start, line, start + 'north'.length), text.slice(start, end));
    assert.ok(await vscode.workspace.applyEdit(undo));
    await waitFor(() => (vscode.languages.getDiagnostics(document.uri).some((d) => d.range.start.line === line) ? undefined : true), 'the diagnostic to clear');
    // Back to the saved text (VS Code may consider it clean again); save in case it does not.
    if (document.isDirty) await document.save();
    assert.ok(api.diagnostics.validation.has(document.uri));
  });

  test('CodeLens offers Run probe and the last run summary', async () => {
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri);
    const titles = lenses.map((l) => l.command?.title ?? '');
    assert.ok(titles.some((t) => t.includes('Run probe')), titles.join(' | '));
    assert.ok(titles.some((t) => /^Last run: best layer 0, test R² -?\d\.\d{3} · builtin:glove-100d/.test(t)), titles.join(' | '));
  });

  test('largest-residual diagnostics can be switched on', async () => {
    await setSetting('diagnostics.residualCount', 3);
    await setSetting('diagnostics.showLargestResiduals', true);
    const residuals = await waitFor(() => {
      const found = vscode.languages.getDiagnostics(document.uri).filter((d) => d.code === 'probe-residual');
      return found.length === 3 ? found : undefined;
    }, 'three residual diagnostics');
    for (const d of residuals) assert.equal(d.severity, vscode.DiagnosticSeverity.Information);
    await setSetting('diagnostics.showLargestResiduals', false);
    await waitFor(() => (vscode.languages.getDiagnostics(document.uri).some((d) => d.code === 'probe-residual') ? undefined : true), 'residuals to disappear');
    await setSetting('diagnostics.residualCount', undefined);
  });

  test('editing a row and saving re-runs the probe; only the changed row reaches the model', async () => {
    const api = await extensionApi();
    const previous = api.services.store.latestForDataset(file);
    assert.ok(previous);
    const real: ProbeEngine = api.probeEngine();
    const logs: string[] = [];
    api.bindProbeEngine((options, hooks) => real(options, { ...hooks, log: (line) => { logs.push(line); hooks.log?.(line); } }));
    try {
      await setSetting('rerunOnSave', 'onSave');
      const line = 1 + CAPITALS.findIndex(([name]) => name === 'Madrid');
      const text = document.lineAt(line).text;
      const edit = new vscode.WorkspaceEdit();
      edit.replace(document.uri, new vscode.Range(line, 0, line, 'Madrid'.length), 'Barcelona');
      assert.ok(await vscode.workspace.applyEdit(edit));
      assert.ok(await document.save());
      const next = await waitFor(() => {
        const latest = api.services.store.latestForDataset(file);
        return latest && latest.id !== previous.id ? latest : undefined;
      }, 'a new run after saving', 60_000);
      const results = await api.services.store.results(next.id);
      assert.ok(results.predictions.some((p) => p.name === 'Barcelona' && p.row === line + 1));
      assert.ok(!results.predictions.some((p) => p.name === 'Madrid'));
      const extracted = logs.find((l) => /through the model/.test(l));
      assert.ok(extracted, `no extraction summary in:\n${logs.join('\n')}`);
      assert.match(extracted, /\b1 through the model/, extracted);
      // The open panel (if any) follows the newest run.
      const panel = api.resultsPanel();
      if (panel) await waitFor(() => (panel.shownRunId === next.id ? true : undefined), 'the panel to show the new run');
      void text;
    } finally {
      api.bindProbeEngine(real);
      await setSetting('rerunOnSave', undefined);
    }
  });
});

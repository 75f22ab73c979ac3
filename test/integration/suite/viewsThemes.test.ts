// Issue 14's view checks in the real host, with screenshots looked at by a person: the Layers chart of a
// multi-layer model (per-target curves, bootstrap bands, chance line, shuffled-label control) in a dark and a
// high-contrast theme, a 355 px panel, and a dataset without an entity column in the Problems panel.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { captureWebview, skipWithoutScreenshots } from './captureWebview';
import { capitalsCsv, completed, extensionApi, runProbe, waitFor, waitForPanelShowing, writeDataset } from './probeTestSupport';
import { onnxModelDir } from '../../helpers/modelFixtures';

const GPT2 = onnxModelDir('gpt2-tiny');

async function setTheme(theme: string | undefined): Promise<void> {
  await vscode.workspace.getConfiguration('workbench').update('colorTheme', theme, vscode.ConfigurationTarget.Global);
  // The webview picks the new theme's variables up on its own; give the workbench a moment to apply it.
  await new Promise((resolve) => setTimeout(resolve, 1500));
}

async function panelAlone(runId: string, tab: string): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  await vscode.commands.executeCommand('workbench.action.closeSidebar');
  await vscode.commands.executeCommand('workbench.action.closePanel');
  await vscode.commands.executeCommand('spacetimeProbe.showResults', runId, { tab });
}

suite('Views: themes, narrow panels, problems (issue 14)', () => {
  let runId: string | undefined;
  let datasetFile: string | undefined;

  suiteTeardown(async () => {
    await setTheme(undefined);
    await vscode.commands.executeCommand('vscode.setEditorLayout', { orientation: 0, groups: [{}] });
  });

  test('a multi-layer space run with a controls experiment: intervals, per-target R², shuffled labels', async function () {
    assert.ok(fs.existsSync(GPT2), `fixture model missing: ${GPT2}`);
    const api = await extensionApi();
    datasetFile = writeDataset('capitals-views.csv', capitalsCsv([]));
    const outcome = completed(await runProbe(datasetFile, { model: GPT2, prompt: 'Where is {entity}?' }));
    runId = outcome.record.id;
    const { results } = outcome;
    assert.equal(results.token, 'entity-last', 'the default reads the entity, not "?"');
    assert.ok(results.layers.length > 1);
    for (const layer of results.layers) {
      assert.ok(layer.testR2Interval, `layer ${layer.index} has a test R² interval`);
      assert.deepEqual(Object.keys(layer.testR2PerTarget), ['latitude', 'longitude']);
    }
    assert.ok(results.warnings?.some((warning) => /only 12 entities/.test(warning)), 'the 12-row test split is flagged');
    const experiment = await vscode.commands.executeCommand<{ status: string }>('spacetimeProbe.runExperiment', {
      runId, experiment: 'controls', options: { controls: ['shuffled'] },
    });
    assert.equal(experiment?.status, 'completed', JSON.stringify(experiment));
    await waitForPanelShowing(api, runId);
  });

  for (const [theme, name] of [['Default Dark Modern', 'dark'], ['Default High Contrast', 'high-contrast']] as const) {
    test(`the Layers chart and the map in the ${name} theme`, async function () {
      skipWithoutScreenshots(this);
      assert.ok(runId, 'needs the run of the first test');
      await setTheme(theme);
      await panelAlone(runId, 'layers');
      const layers = await captureWebview({ command: 'Spacetime Probe: Show Results', waitForText: 'Layerwise probe fit', name: `theme-${name}-layers` });
      assert.match(layers.text, /test split has only 12 entities/);
      assert.match(layers.text, /Shuffled labels: test R²/);
      assert.match(layers.text, /Test R² \(latitude\)/);
      assert.match(layers.text, /chance 0\.5/);
      await panelAlone(runId, 'map');
      await captureWebview({ command: 'Spacetime Probe: Show Results', waitForText: 'Map: true (blue) vs predicted (orange)', name: `theme-${name}-map` });
    });
  }

  test('a 355 px panel: the chart follows the width, the table scrolls sideways', async function () {
    skipWithoutScreenshots(this);
    assert.ok(runId && datasetFile);
    await setTheme(undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await vscode.commands.executeCommand('workbench.action.closePanel');
    // Two editor groups, the right one 28% of the 1280 px window: the results panel opens beside the dataset.
    await vscode.commands.executeCommand('vscode.setEditorLayout', { orientation: 0, groups: [{ size: 0.72 }, { size: 0.28 }] });
    await vscode.window.showTextDocument(vscode.Uri.file(datasetFile), { viewColumn: vscode.ViewColumn.One });
    await vscode.commands.executeCommand('spacetimeProbe.showResults', runId, { tab: 'layers' });
    const narrow = await captureWebview({ command: 'Spacetime Probe: Show Results', waitForText: 'Layerwise probe fit', name: 'narrow-layers' });
    assert.match(narrow.text, /best layer/);
    await vscode.commands.executeCommand('spacetimeProbe.showResults', runId, { tab: 'table' });
    await captureWebview({ command: 'Spacetime Probe: Show Results', waitForText: 'Predictions', name: 'narrow-table' });
    await vscode.commands.executeCommand('vscode.setEditorLayout', { orientation: 0, groups: [{}] });
  });

  test('a dataset without an entity column: the reason in the Problems panel and in the failure', async function () {
    const file = writeDataset('no-entity-column.csv', 'foo,latitude,longitude\nParis,48.8566,2.3522\nLondon,51.5072,-0.1276\n');
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One });
    const diagnostics = await waitFor(() => {
      const found = vscode.languages.getDiagnostics(document.uri).filter((d) => d.source === 'Spacetime Probe');
      return found.length > 0 ? found : undefined;
    }, 'a Spacetime Probe diagnostic on the file');
    assert.equal(diagnostics[0].severity, vscode.DiagnosticSeverity.Error);
    assert.equal(diagnostics[0].range.start.line, 0, 'on the header');
    assert.match(diagnostics[0].message, /entity|name/i);
    const outcome = await runProbe(file);
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.status === 'failed' ? outcome.error : '', /1 problem in the dataset[\s\S]*no-entity-column\.csv:1:/, 'the reason travels with the failure');
    if (!process.env.SPACETIME_SCREENSHOT_URL || !runId) return;
    // The Problems panel under the editor, next to a results panel (the capture needs a webview to wait for).
    await vscode.commands.executeCommand('spacetimeProbe.showResults', runId, { tab: 'layers' });
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    const shot = await captureWebview({ command: 'Spacetime Probe: Show Results', waitForText: 'Layerwise probe fit', name: 'problems-missing-entity-column' });
    assert.ok(shot.screenshots.length > 0);
    assert.ok(path.isAbsolute(shot.screenshots[0]));
  });
});

// Run a probe through the command, then look at the results panel as a person does: layer chart, map, time views.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { captureWebview, skipWithoutScreenshots } from './captureWebview';
import { completed, extensionApi, runProbe, waitForPanelShowing } from './probeTestSupport';
import { listBuiltinDatasets } from '../../../src/core/datasets/builtin';
import { parseCsv } from '../../../src/core/datasets/csv';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Screenshots get the whole editor area: no side bar, no other editors, the panel alone. */
async function panelAlone(runId: string, tab: string): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  await vscode.commands.executeCommand('workbench.action.closeSidebar');
  await vscode.commands.executeCommand('workbench.action.closePanel');
  await vscode.commands.executeCommand('spacetimeProbe.showResults', runId, { tab });
}

suite('Results panel', () => {
  let worldRunId: string | undefined;

  test('Run Probe on a built-in dataset with the default model opens its results', async () => {
    const api = await extensionApi();
    const before = api.services.store.list().length;
    const outcome = completed(await runProbe('builtin:world_places'));
    worldRunId = outcome.record.id;
    const { results, record } = outcome;
    assert.equal(record.modelSpec, 'builtin:glove-100d', 'the default model');
    assert.equal(results.kind, 'space');
    assert.deepEqual(results.targets, ['latitude', 'longitude']);
    // Every row of the built-in CSV is either predicted or listed as skipped (read the CSV independently).
    const info = listBuiltinDatasets().find((d) => d.name === 'world_places');
    assert.ok(info);
    const rows = parseCsv(fs.readFileSync(info.path, 'utf8')).records.length - 1;
    assert.equal(results.predictions.length + (results.skipped?.length ?? 0), rows);
    assert.equal(api.services.store.list().length, before + 1);
    // The run folder keeps results and per-layer predictions, not the bulky per-run .npy files.
    const runDir = path.join(api.services.store.root, record.id);
    assert.ok(fs.existsSync(path.join(runDir, 'results.json')));
    assert.ok(fs.existsSync(path.join(runDir, 'layer_predictions', 'layer_000.json')));
    assert.ok(!fs.existsSync(path.join(runDir, 'activations')), 'per-run activations are removed after the run');
    await waitForPanelShowing(api, record.id);
    assert.match(api.services.deviceStatus.text, /cpu/);
  });

  test('the layer chart is visible in the webview', async function () {
    skipWithoutScreenshots(this);
    assert.ok(worldRunId, 'needs the run of the previous test');
    await panelAlone(worldRunId, 'layers');
    const shot = await captureWebview({ command: 'Spacetime Probe: Show Results', waitForText: 'Layerwise probe fit', name: 'results-layers' });
    assert.match(shot.text, /world_places · builtin:glove-100d/);
    assert.match(shot.text, /Best layer 0 of 1: test R² 0\.\d{3}/);
    for (const tab of ['Layers', 'Map', 'Predictions']) assert.ok(shot.text.includes(tab), `tab ${tab}`);
    assert.match(shot.text, /Probe fit \(single layer 0\)/, 'GloVe has one layer: the bar variant');
    assert.match(shot.text, /Proximity error/);
    for (const file of shot.screenshots) assert.deepEqual(fs.readFileSync(file).subarray(0, 8), PNG_SIGNATURE);
  });

  test('the map shows true and predicted positions on the world extent', async function () {
    skipWithoutScreenshots(this);
    assert.ok(worldRunId, 'needs the first run');
    await panelAlone(worldRunId, 'map');
    const shot = await captureWebview({ command: 'Spacetime Probe: Show Results', waitForText: 'Map: true (blue) vs predicted (orange)', name: 'results-map' });
    assert.match(shot.text, /at layer 0, test split, world extent\. \d+ entities, mean error [\d,]+ km/);
    assert.match(shot.text, /Extent/);
    assert.match(shot.text, /true\s*predicted/, 'the legend');
  });

  test('a time dataset shows the predicted-vs-true scatter and the timeline', async function () {
    const api = await extensionApi();
    const outcome = completed(await runProbe('builtin:art_entertainment'));
    assert.equal(outcome.results.kind, 'time');
    await waitForPanelShowing(api, outcome.record.id);
    if (!process.env.SPACETIME_SCREENSHOT_URL) return this.skip();
    await panelAlone(outcome.record.id, 'time');
    const shot = await captureWebview({ command: 'Spacetime Probe: Show Results', waitForText: 'Time: predicted vs true year', name: 'results-time' });
    assert.match(shot.text, /mean absolute error [\d.]+ years/);
    assert.match(shot.text, /Predicted vs true year/);
    assert.match(shot.text, /Timeline: predicted year by true decade/);
  });

  test('revealing a row opens the dataset file at the entity\'s line', async () => {
    const api = await extensionApi();
    assert.ok(worldRunId);
    await vscode.commands.executeCommand('spacetimeProbe.showResults', worldRunId, { tab: 'table' });
    await waitForPanelShowing(api, worldRunId);
    const results = await api.services.store.results(worldRunId);
    const target = results.predictions[Math.floor(results.predictions.length / 2)];
    const panel = api.resultsPanel();
    assert.ok(panel);
    const editor = await panel.revealEntity(target.row);
    assert.ok(editor);
    assert.equal(path.basename(editor.document.uri.fsPath), 'world_places.csv');
    assert.equal(editor.selection.start.line, target.row - 1);
    assert.ok(editor.document.lineAt(target.row - 1).text.includes(target.name.replace(/"/g, '""')), `line ${target.row} holds ${target.name}`);
  });

  test('Compare Runs overlays the test R² of several runs', async function () {
    const api = await extensionApi();
    const runs = api.services.store.list().filter((r) => r.dataset === 'world_places' || r.dataset === 'art_entertainment').slice(0, 2);
    assert.equal(runs.length, 2);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('spacetimeProbe.compareRuns', runs.map((r) => r.id));
    await waitForPanelShowing(api, runs[0].id);
    if (!process.env.SPACETIME_SCREENSHOT_URL) return this.skip();
    await vscode.commands.executeCommand('spacetimeProbe.showResults', undefined);
    const shot = await captureWebview({ command: 'Spacetime Probe: Show Results', waitForText: 'Compared runs: test R² by layer', name: 'results-compare' });
    for (const run of runs) assert.ok(shot.text.includes(`${run.model} · ${run.dataset}`), `${run.dataset} in the legend`);
  });

  test('exports predictions CSV, results JSON and the chart as SVG and PNG', async () => {
    const api = await extensionApi();
    assert.ok(worldRunId);
    await vscode.commands.executeCommand('spacetimeProbe.showResults', worldRunId, { tab: 'layers' });
    await waitForPanelShowing(api, worldRunId);
    const dir = fs.mkdtempSync(path.join(api.services.store.root, '..', 'export-'));
    const results = await api.services.store.results(worldRunId);
    const csvFile = await vscode.commands.executeCommand<string>('spacetimeProbe.exportResults', worldRunId, 'csv', { target: path.join(dir, 'p.csv'), table: 'predictions' });
    const csv = parseCsv(fs.readFileSync(csvFile, 'utf8')).records;
    assert.equal(csv.length - 1, results.predictions.length);
    const jsonFile = await vscode.commands.executeCommand<string>('spacetimeProbe.exportResults', worldRunId, 'json', { target: path.join(dir, 'r.json') });
    assert.deepEqual(JSON.parse(fs.readFileSync(jsonFile, 'utf8')), JSON.parse(JSON.stringify(results)));
    const svgFile = await vscode.commands.executeCommand<string>('spacetimeProbe.exportResults', worldRunId, 'svg', { target: path.join(dir, 'c.svg') });
    const svg = fs.readFileSync(svgFile, 'utf8');
    assert.match(svg, /^<svg/);
    assert.ok(svg.includes('Proximity error'), 'the layer chart, as SVG text');
    const pngFile = await vscode.commands.executeCommand<string>('spacetimeProbe.exportResults', worldRunId, 'png', { target: path.join(dir, 'c.png') });
    assert.deepEqual(fs.readFileSync(pngFile).subarray(0, 8), PNG_SIGNATURE);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['c.png', 'c.svg', 'p.csv', 'r.json'], 'no temp files left');
  });
});

// A dataset row named like an HTML tag must show as text in the results table, never as markup.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { captureWebview, skipWithoutScreenshots } from './captureWebview';
import { INJECTION_NAME, capitalsCsv, completed, extensionApi, runProbe, waitForPanelShowing, writeDataset } from './probeTestSupport';

suite('Webview security', () => {
  test('a script-injection entity name renders as plain text in the predictions table', async function () {
    const api = await extensionApi();
    const file = writeDataset('injection.csv', capitalsCsv([INJECTION_NAME]));
    const outcome = completed(await runProbe(file));
    assert.ok(outcome.results.predictions.some((p) => p.name === INJECTION_NAME), 'the row was probed (GloVe knows some of its words)');
    await waitForPanelShowing(api, outcome.record.id);
    skipWithoutScreenshots(this);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await vscode.commands.executeCommand('spacetimeProbe.showResults', outcome.record.id, { tab: 'table' });
    // innerText contains the literal tag only if it was inserted as text; as markup it would be an (invisible) element.
    const shot = await captureWebview({ command: 'Spacetime Probe: Show Results', waitForText: INJECTION_NAME, name: 'results-injection-row' });
    assert.ok(shot.text.includes(INJECTION_NAME));
    assert.match(shot.text, /Line\s+Entity\s+Split/);
  });
});

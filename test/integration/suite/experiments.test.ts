// Robustness experiments from the extension: "Run Experiment…" on a finished run writes experiment_<name>.json into
// the run folder (activations from the cache the run filled), and the results panel grows an Experiments tab.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { captureWebview, skipWithoutScreenshots } from './captureWebview';
import { completed, extensionApi, runProbe, waitFor, waitForPanelShowing } from './probeTestSupport';
import type { ExperimentRunOutcome } from '../../../src/extension/runs/experimentRunner';

suite('Experiments', () => {
  let runId: string | undefined;

  test('Run Experiment (controls) on a run writes its file into the run folder and shows the Experiments tab', async () => {
    const api = await extensionApi();
    const outcome = completed(await runProbe('builtin:world_places', { showResults: false }));
    runId = outcome.record.id;
    const result = await vscode.commands.executeCommand<ExperimentRunOutcome | undefined>('spacetimeProbe.runExperiment', {
      runId, experiment: 'controls', options: { controls: ['shuffled', 'pca'], pcaK: [2, 10, 50] },
    });
    assert.equal(result?.status, 'completed', JSON.stringify(result));
    const file = path.join(api.services.store.root, runId, 'experiment_controls.json');
    assert.equal(result.status === 'completed' ? result.file : undefined, file);
    const written = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(written.format, 'spacetime-probe-experiment/1');
    assert.deepEqual(written.parameters.pcaK, [2, 10, 50]);
    // The run filled the activation cache: the experiment ran nothing through the model.
    assert.deepEqual(written.provenance.activations.map((entry: { computed: number }) => entry.computed), [0]);
    assert.ok(written.layers[0].shuffled.testR2 < 0.05, `shuffled R² ${written.layers[0].shuffled.testR2}`);
    assert.ok(written.layers[0].linear.testR2 > 0.2);
    assert.ok(!fs.existsSync(path.join(api.services.store.root, runId, 'experiment_activations')), 'temporary activations removed');
    await waitForPanelShowing(api, runId);
  });

  test('the Experiments tab draws the controls', async function () {
    skipWithoutScreenshots(this);
    assert.ok(runId, 'needs the run of the previous test');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('spacetimeProbe.showResults', runId, { tab: 'experiments' });
    const api = await extensionApi();
    await waitFor(() => (api.resultsPanel()?.shownRunId === runId ? true : undefined), 'the panel to show the run');
    const shot = await captureWebview({ command: 'Spacetime Probe: Show Results', waitForText: 'Robustness experiments on this run', name: 'results-experiments' });
    assert.match(shot.text, /Controls/);
    assert.match(shot.text, /Shuffled labels: at most -?0\.0\d\d/);
    assert.match(shot.text, /PCA at layer 0: k=2 /);
  });
});

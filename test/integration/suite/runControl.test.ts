// Long runs: progress, cancellation that leaves no half-written run and a consistent activation cache,
// the device setting and status bar.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { capitalsCsv, completed, extensionApi, runProbe, writeDataset } from './probeTestSupport';
import type { ProbeEngine, ProbeProgress } from '../../../src/extension/runs/engine';

suite('Run control', () => {
  test('cancelling a run leaves no run behind, and the next run gives the same results as before', async () => {
    const api = await extensionApi();
    const file = writeDataset('cancel-capitals.csv', capitalsCsv([]));
    const reference = completed(await runProbe('builtin:usa_places', { showResults: false }));
    const runsBefore = api.services.store.list().map((r) => r.id);
    const foldersBefore = fs.readdirSync(api.services.store.root).sort();
    const real: ProbeEngine = api.probeEngine();
    const stages: ProbeProgress[] = [];
    api.bindProbeEngine((options, hooks) => real(options, {
      ...hooks,
      onProgress: (progress) => {
        hooks.onProgress?.(progress);
        stages.push(progress);
        // Cancel half-way through extraction, as the notification's Cancel button does.
        if (progress.stage === 'extract' && progress.done !== undefined && progress.total !== undefined && progress.done < progress.total &&
          !stages.some((s) => s.message === 'cancel sent')) {
          stages.push({ stage: 'extract', message: 'cancel sent' });
          void vscode.commands.executeCommand('spacetimeProbe.cancelRun');
        }
      },
    }));
    try {
      // A fresh cache namespace (new prompt template), so extraction really runs through the model.
      const outcome = await runProbe('builtin:usa_places', { prompt: 'The city of {entity}', showResults: false });
      assert.equal(outcome.status, 'cancelled', JSON.stringify(outcome));
      assert.ok(stages.some((s) => s.message === 'cancel sent'), 'cancel was sent during extraction');
      assert.ok(stages.some((s) => s.stage === 'extract' && s.tokensPerSecond !== undefined), 'extraction reports tokens/s');
    } finally {
      api.bindProbeEngine(real);
    }
    assert.deepEqual(api.services.store.list().map((r) => r.id), runsBefore, 'no run was added');
    assert.deepEqual(fs.readdirSync(api.services.store.root).sort(), foldersBefore, 'no run folder left behind');
    assert.equal(api.services.runner.isRunning, false);
    // The cache is consistent after the interrupted run: the same run completes and matches a run with
    // fresh extraction (the reference used the default template: compare the same template twice instead).
    const again = completed(await runProbe('builtin:usa_places', { prompt: 'The city of {entity}', showResults: false }));
    const fresh = completed(await runProbe('builtin:usa_places', { prompt: 'The city of {entity}', showResults: false }));
    assert.deepEqual(again.results.predictions, fresh.results.predictions);
    assert.equal(reference.results.predictions.length, again.results.predictions.length);
    void file;
  });

  test('Select Device writes the setting and the status bar shows the device that ran', async () => {
    const api = await extensionApi();
    assert.equal(await vscode.commands.executeCommand('spacetimeProbe.selectDevice', 'cpu'), 'cpu');
    assert.equal(vscode.workspace.getConfiguration('spacetimeProbe').get('device'), 'cpu');
    const file = writeDataset('device-capitals.csv', capitalsCsv([]));
    const outcome = completed(await runProbe(file, { showResults: false }));
    assert.equal(outcome.results.device?.used, 'cpu');
    assert.match(api.services.deviceStatus.text, /\$\(chip\) cpu/);
    await vscode.commands.executeCommand('spacetimeProbe.selectDevice', 'auto');
    assert.equal(vscode.workspace.getConfiguration('spacetimeProbe').get('device'), 'auto');
  });
});

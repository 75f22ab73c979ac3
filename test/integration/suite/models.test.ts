// Download Model… from a loopback Hub (the gpt2-tiny fixture in test/fixtures/onnx-models), see it in the Models view, probe with it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { startHubServer, type HubServer } from '../../helpers/hubServer';
import { onnxModelDir } from '../../helpers/modelFixtures';
import { capitalsCsv, completed, extensionApi, runProbe, writeDataset } from './probeTestSupport';
import type { DownloadedModel } from '../../../src/extension/runs/modelHub';
import { listCachedHubModels } from '../../../src/core/model/hub/hubCache';

suite('Models', () => {
  let hub: HubServer | undefined;
  const previousEndpoint = process.env.HF_ENDPOINT;

  suiteSetup(async () => {
    const fixture = onnxModelDir('gpt2-tiny');
    assert.ok(fs.existsSync(`${fixture}/onnx/model.onnx`), `fixture model missing: ${fixture}`);
    hub = await startHubServer({ repos: [{ repoId: 'test-org/gpt2-tiny', dir: fixture, revisions: { main: 'e'.repeat(40) } }] });
    process.env.HF_ENDPOINT = hub.endpoint;
  });

  suiteTeardown(async () => {
    if (previousEndpoint === undefined) delete process.env.HF_ENDPOINT;
    else process.env.HF_ENDPOINT = previousEndpoint;
    await hub?.close();
  });

  test('Download Model… fetches a Hub model into the shared cache, and a probe runs on all its layers', async () => {
    const api = await extensionApi();
    const downloaded = await vscode.commands.executeCommand<DownloadedModel | undefined>('spacetimeProbe.downloadModel', 'test-org/gpt2-tiny');
    assert.ok(downloaded, 'the download finished');
    assert.equal(downloaded.modelSpec, 'hf:test-org/gpt2-tiny');
    const config = JSON.parse(fs.readFileSync(`${onnxModelDir('gpt2-tiny')}/config.json`, 'utf8')) as { n_layer: number };
    for (const file of ['config.json', 'tokenizer.json']) {
      assert.deepEqual(fs.readFileSync(`${downloaded.path}/${file}`), fs.readFileSync(`${onnxModelDir('gpt2-tiny')}/${file}`), file);
    }
    // The Models view and the model picker list what the Hub cache holds: read it independently here.
    assert.ok(listCachedHubModels().some((m) => m.repoId === 'test-org/gpt2-tiny' && downloaded.path.startsWith(m.dir)),
      `test-org/gpt2-tiny in ${JSON.stringify(listCachedHubModels().map((m) => [m.repoId, m.dir]))}`);
    void api;
    const file = writeDataset('hub-capitals.csv', capitalsCsv([]));
    const outcome = completed(await runProbe(file, { model: downloaded.modelSpec, showResults: false }));
    assert.equal(outcome.results.layers.length, config.n_layer + 1, 'embeddings + every block');
    assert.equal(outcome.record.modelSpec, 'hf:test-org/gpt2-tiny');
    assert.ok(hub && hub.requests.length > 0, 'the loopback Hub served the files');
  });
});

// Safetensors checkpoints in the real extension host: Download Model… of a checkpoint-only repo from a loopback Hub
// (the repo's own test fixture test/fixtures/checkpoints/llama2: bf16, SentencePiece-style tokenizer), then a probe
// with it; and a probe on a checkpoint folder in the workspace.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { startHubServer, type HubServer } from '../../helpers/hubServer';
import { repoRoot } from '../../helpers/modelFixtures';
import { capitalsCsv, completed, runProbe, workspaceDir, writeDataset } from './probeTestSupport';
import type { DownloadedModel } from '../../../src/extension/runs/modelHub';

const FIXTURE = path.join(repoRoot, 'test', 'fixtures', 'checkpoints', 'llama2');

suite('Safetensors checkpoints', () => {
  let hub: HubServer | undefined;
  const previousEndpoint = process.env.HF_ENDPOINT;

  suiteSetup(async () => {
    assert.ok(fs.existsSync(path.join(FIXTURE, 'model.safetensors')), `fixture missing: ${FIXTURE}`);
    hub = await startHubServer({ repos: [{ repoId: 'test-org/llama2-tiny', dir: FIXTURE, revisions: { main: 'f'.repeat(40) } }] });
    process.env.HF_ENDPOINT = hub.endpoint;
  });

  suiteTeardown(async () => {
    if (previousEndpoint === undefined) delete process.env.HF_ENDPOINT;
    else process.env.HF_ENDPOINT = previousEndpoint;
    await hub?.close();
  });

  test('Download Model… takes a checkpoint-only repo\'s safetensors, and a probe reads every layer through our graph', async () => {
    const downloaded = await vscode.commands.executeCommand<DownloadedModel | undefined>('spacetimeProbe.downloadModel', 'test-org/llama2-tiny');
    assert.ok(downloaded, 'the download finished');
    assert.deepEqual(fs.readFileSync(path.join(downloaded.path, 'model.safetensors')), fs.readFileSync(path.join(FIXTURE, 'model.safetensors')));
    const config = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'config.json'), 'utf8')) as { num_hidden_layers: number };
    const dataset = writeDataset('checkpoint-capitals.csv', capitalsCsv([]));
    const outcome = completed(await runProbe(dataset, { model: downloaded.modelSpec, showResults: false }));
    assert.equal(outcome.results.layers.length, config.num_hidden_layers + 1, 'embeddings + every block');
    assert.equal(outcome.results.modelDetails?.format, 'safetensors');
    assert.equal(outcome.results.modelDetails?.weightsDtype, 'bfloat16');
  });

  test('a checkpoint folder in the workspace runs as a model', async () => {
    const folder = path.join(workspaceDir(), 'models', 'llama2-tiny');
    fs.mkdirSync(folder, { recursive: true });
    for (const file of fs.readdirSync(FIXTURE)) fs.copyFileSync(path.join(FIXTURE, file), path.join(folder, file));
    const dataset = writeDataset('checkpoint-folder-capitals.csv', capitalsCsv([]));
    const outcome = completed(await runProbe(dataset, { model: folder, showResults: false }));
    assert.equal(outcome.results.modelDetails?.architecture, 'llama');
    assert.equal(outcome.results.modelDetails?.computeDtype, 'float32');
  });

  test('the precision setting reaches the graph: float16 on request, and the warm model is reloaded for it', async () => {
    const folder = path.join(workspaceDir(), 'models', 'llama2-tiny-precision');
    fs.mkdirSync(folder, { recursive: true });
    for (const file of fs.readdirSync(FIXTURE)) fs.copyFileSync(path.join(FIXTURE, file), path.join(folder, file));
    const dataset = writeDataset('checkpoint-precision-capitals.csv', capitalsCsv([]));
    const settings = vscode.workspace.getConfiguration('spacetimeProbe');
    const exact = completed(await runProbe(dataset, { model: folder, showResults: false }));
    assert.equal(exact.results.modelDetails?.computeDtype, 'float32', 'auto on the CPU');
    await settings.update('precision', 'float16', vscode.ConfigurationTarget.Global);
    try {
      const half = completed(await runProbe(dataset, { model: folder, showResults: false }));
      assert.equal(half.results.modelDetails?.computeDtype, 'float16');
      // Not the float32 run's activations from the cache: the float16 graph has its own fingerprint.
      assert.notDeepEqual(half.results.layers.map((layer) => layer.testR2), exact.results.layers.map((layer) => layer.testR2));
    } finally {
      await settings.update('precision', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});

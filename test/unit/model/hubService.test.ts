import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHubService, hubModelSpec } from '../../../src/core/model/hub/hubService';
import type { ModelHub } from '../../../src/extension/runs/modelHub';
import { startHubServer } from '../../helpers/hubServer';
import { onnxModelDir } from '../../helpers/modelFixtures';

const GPT2 = onnxModelDir('gpt2-tiny');

test('the hub service fits the extension\'s ModelHub seam and downloads, lists and suggests', async () => {
  const hub = await startHubServer({ repos: [{ repoId: 'test-org/gpt2-tiny', dir: GPT2, revisions: { main: 'c'.repeat(40), v2: 'd'.repeat(40) } }] });
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-service-'));
  try {
    // Compile-time check: the core object is assignable to the extension's seam.
    const service: ModelHub = createHubService({ cacheDir: () => cacheDir, hub: { endpoint: hub.endpoint, env: {}, retryDelayMs: 5 } });
    assert.ok(service.suggested().some((model) => model.repo === 'Xenova/gpt2'));
    const progress: number[] = [];
    const downloaded = await service.download({
      repo: 'test-org/gpt2-tiny', revision: 'v2', signal: new AbortController().signal, log: () => undefined,
      onProgress: (update) => progress.push(update.receivedBytes),
    });
    assert.equal(downloaded.modelSpec, 'hf:test-org/gpt2-tiny@v2');
    assert.equal(path.basename(downloaded.path), 'd'.repeat(40));
    assert.ok(progress.length > 0 && progress.every((bytes, index) => index === 0 || bytes >= progress[index - 1]));
    const cached = await service.cached();
    assert.deepEqual(cached.map((model) => [model.modelSpec, model.label]), [['hf:test-org/gpt2-tiny@v2', 'test-org/gpt2-tiny@v2, 5 layers × 32']]);
    assert.equal(hubModelSpec('a/b', 'main'), 'hf:a/b');
  } finally {
    await hub.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

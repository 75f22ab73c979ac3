/**
 * `spacetime-probe models` and `spacetime-probe cache` through the bundled CLI (out/cli.js), against the loopback
 * Hub: download with progress, listing, gated repos with a token file, coverage, cache info/clear.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ActivationCache } from '../../../src/core/activations/cache';
import { convertWinkToGlove } from '../../../src/core/model/glove/gloveBuild';
import { startHubServer } from '../../helpers/hubServer';
import { repoRoot, onnxModelDir } from '../../helpers/modelFixtures';

const cli = path.join(repoRoot, 'out', 'cli.js');
const GPT2 = onnxModelDir('gpt2-tiny');
const NEOX = onnxModelDir('neox-tiny');
const skip = !fs.existsSync(cli) ? 'out/cli.js not built (node scripts/build.mjs)'
  : !fs.existsSync(GPT2) ? `fixture models not found in ${path.dirname(GPT2)}` : false;
const TOKEN = 'hf_cliSECRETtoken_987';

/** Async (the loopback server lives in this process, so the CLI must not block it). */
function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env: { ...process.env, HF_TOKEN: '', ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

test('models download / list / gated / coverage and cache info / clear through the CLI', { skip }, async () => {
  const hub = await startHubServer({
    repos: [{ repoId: 'test-org/gpt2-tiny', dir: GPT2 }, { repoId: 'test-org/neox-tiny', dir: NEOX, gated: true }],
    token: TOKEN,
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-cli-test-'));
  const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: path.join(dir, 'hub'), HTTPS_PROXY: '', HTTP_PROXY: '', https_proxy: '', http_proxy: '' };
  try {
    const download = await runCli(['models', 'download', 'test-org/gpt2-tiny'], env);
    assert.equal(download.code, 0, download.stderr);
    assert.match(download.stdout, /test-org\/gpt2-tiny@main \([0-9a-f]{12}\), fp32: 3 files, 3 downloaded .* 0 already cached/);
    assert.match(download.stdout, /use it as: hf:test-org\/gpt2-tiny/);
    assert.match(download.stderr, /downloading onnx\/model\.onnx/, 'progress on stderr');
    const again = await runCli(['models', 'download', 'hf:test-org/gpt2-tiny', '--json'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((JSON.parse(again.stdout) as { files: { cached: boolean }[] }).files.map((file) => file.cached), [true, true, true]);

    const list = await runCli(['models', '--json'], env);
    assert.equal(list.code, 0, list.stderr);
    const listed = (JSON.parse(list.stdout) as { models: { id: string; source: string; layers?: number; hiddenSize?: number }[] }).models;
    const cached = listed.find((model) => model.id === 'hf:test-org/gpt2-tiny');
    assert.deepEqual(cached && [cached.source, cached.layers, cached.hiddenSize], ['hub-cache', 5, 32]);
    // Which exports the cached repo holds (what --variant can name).
    assert.deepEqual((cached as unknown as { variants: { variant: string; file: string }[] }).variants.map((entry) => [entry.variant, entry.file]),
      [['fp32', 'onnx/model.onnx']]);
    const table = await runCli(['models'], env);
    assert.match(table.stdout, /hf:test-org\/gpt2-tiny .*variants fp32/);
    assert.ok(listed.some((model) => model.id === 'builtin:glove-100d'));

    const gated = await runCli(['models', 'download', 'test-org/neox-tiny'], env);
    assert.equal(gated.code, 2);
    assert.match(gated.stderr, /needs a token \(HTTP 401[\s\S]*Accept the licence on the Hub page/);
    const tokenFile = path.join(dir, 'token');
    fs.writeFileSync(tokenFile, `${TOKEN}\n`);
    const withToken = await runCli(['models', 'download', 'test-org/neox-tiny', '--token-file', tokenFile], env);
    assert.equal(withToken.code, 0, withToken.stderr);
    const viaEnv = await runCli(['models', 'download', 'test-org/neox-tiny'], { ...env, HF_TOKEN: TOKEN });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    for (const output of [gated, withToken, viaEnv, download, again]) assert.ok(!`${output.stdout}${output.stderr}`.includes(TOKEN));

    const missing = await runCli(['models', 'download', 'test-org/gpt2-tiny', '--variant', 'fp16'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no fp16 export/);
    const usage = await runCli(['models', 'download'], env);
    assert.equal(usage.code, 2);

    // Coverage with a tiny GloVe built from a wink-format file.
    const wink = path.join(dir, 'wink.json');
    fs.writeFileSync(wink, JSON.stringify({ size: 3, dimensions: 2, words: ['paris', 'new', 'york'],
      vectors: { paris: [1, 2, 2.2, 0], new: [0, 1, 1, 1], york: [1, 0, 1, 2] } }));
    convertWinkToGlove({ source: wink, outDir: path.join(dir, 'glove'), variant: 'fp32' });
    const dataset = path.join(dir, 'places.csv');
    fs.writeFileSync(dataset, 'name,latitude,longitude\nParis,48.8,2.3\nNew York,40.7,-74\nNew Jersey,40,-74.5\nZzyzx,35.1,-116.1\n');
    const coverage = await runCli(['models', 'coverage', dataset, '--json'], { ...env, SPACETIME_PROBE_GLOVE_DIR: path.join(dir, 'glove') });
    assert.equal(coverage.code, 0, coverage.stderr);
    assert.deepEqual(JSON.parse(coverage.stdout), {
      dataset, total: 4, allKnown: 2, partlyKnown: 1, noneKnown: 1, skipped: [{ line: 5, name: 'Zzyzx' }],
    });

    // cache info / clear on a cache with one namespace.
    const cacheDir = path.join(dir, 'activations');
    const namespace = await new ActivationCache({ dir: cacheDir }).namespace({ fingerprint: 'ab'.repeat(32), template: '{entity}', numLayers: 2, hiddenSize: 3, modelId: 'test:model' });
    await namespace.store(['x'], new Float32Array(6));
    await namespace.close();
    const info = await runCli(['cache', 'info', '--cache-dir', cacheDir], env);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /test:model\s+"\{entity\}"\s+2×3\s+float32\s+1\s/);
    const cleared = await runCli(['cache', 'clear', '--cache-dir', cacheDir], env);
    assert.match(cleared.stdout, /cleared 1 namespace\(s\)/);
    assert.equal((await new ActivationCache({ dir: cacheDir }).info()).bytes, 0);
    assert.equal((await runCli(['cache'], env)).code, 2);
  } finally {
    await hub.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

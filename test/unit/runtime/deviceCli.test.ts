/**
 * The device choice through the bundled CLI (out/cli.js): `devices` lists the providers with reasons, a forced
 * device that cannot run exits 2 with what is missing and writes nothing, `auto` says which device ran.
 */
import { describe, test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot, onnxModelDir } from '../../helpers/modelFixtures';
import { probeProvider, resetProviderProbes } from '../../../src/core/runtime/devices';
import { readActivationLayer, readActivationManifest } from '../../../src/core/activations/manifest';
import { buildPlantedModel } from '../../helpers/plantedModel';

const cli = path.join(repoRoot, 'out', 'cli.js');

function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('CLI device selection', { skip: !fs.existsSync(cli) && 'out/cli.js not built (node scripts/build.mjs)' }, () => {
  let dir: string;
  let dataset: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-device-cli-'));
    dataset = path.join(dir, 'places.csv');
    fs.writeFileSync(dataset, 'name,latitude,longitude\nParis,48.85,2.35\nTokyo,35.68,139.69\nLima,-12.05,-77.04\n');
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    resetProviderProbes();
  });

  test('devices --json lists cpu, webgpu, cuda with a verdict, a reason and what auto picks', async () => {
    const { code, stdout, stderr } = runCli(['devices', '--json']);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as { auto: string; providers: { device: string; usable: boolean; detail: string; remedy: string[] }[] };
    assert.deepEqual(report.providers.map((probe) => probe.device), ['cpu', 'webgpu', 'cuda']);
    assert.equal(report.providers[0].usable, true);
    // The CLI's verdicts are the ones this process reaches too.
    for (const probe of report.providers) assert.equal(probe.usable, (await probeProvider(probe.device as 'cpu')).usable, probe.device);
    const firstUsable = ['cuda', 'webgpu', 'cpu'].find((device) => report.providers.find((probe) => probe.device === device)?.usable);
    assert.equal(report.auto, firstUsable);
  });

  test('devices prints a table and, for each unusable provider, how to get it', () => {
    const { code, stdout } = runCli(['devices']);
    assert.equal(code, 0);
    assert.match(stdout, /^device\s+usable\s+detail/m);
    assert.match(stdout, /^cpu\s+yes\s+/m);
    assert.match(stdout, /--device auto runs on: (cpu|webgpu|cuda)/);
    if (/^cuda\s+no\s+.*not installed/m.test(stdout)) assert.match(stdout, /to use cuda:\n.*ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
  });

  for (const forced of ['cuda', 'webgpu'] as const) {
    test(`extract --device ${forced} where it cannot run exits 2 with what is missing, and writes nothing`, async (t) => {
      const probe = await probeProvider(forced);
      if (probe.usable) {
        t.skip(`${forced} is usable on this machine`);
        return;
      }
      const out = path.join(dir, `acts-${forced}`);
      const { code, stderr } = runCli(['extract', '--dataset', dataset, '--model', onnxModelDir('gpt2-tiny'), '--out', out, '--device', forced, '--no-cache']);
      assert.equal(code, 2, stderr);
      assert.match(stderr, new RegExp(`spacetime-probe extract: --device ${forced} cannot be used here: `));
      assert.ok(stderr.includes(probe.detail), stderr);
      assert.match(stderr, /Use --device auto/);
      if (forced === 'cuda' && /not installed/.test(probe.detail)) assert.match(stderr, /ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
      if (forced === 'webgpu') assert.match(stderr, /libvulkan|Vulkan|adapter/);
      // (Dawn prints its own native warning with an "at operator()" line; no JavaScript stack may follow.)
      assert.doesNotMatch(stderr, /\n\s+at .*\.js:\d+/, 'no stack trace');
      assert.equal(fs.existsSync(out), false);
      assert.deepEqual(fs.readdirSync(dir).filter((name) => name.includes('partial')), []);
    });
  }

  test('extract --device auto reports the device that ran and why the others did not', async () => {
    const out = path.join(dir, 'acts-auto');
    const { code, stderr } = runCli(['extract', '--dataset', dataset, '--model', onnxModelDir('gpt2-tiny'), '--out', out, '--device', 'auto', '--no-cache']);
    assert.equal(code, 0, stderr);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { device: string };
    const cuda = await probeProvider('cuda');
    const webgpu = await probeProvider('webgpu');
    const expected = cuda.usable ? 'cuda' : webgpu.usable ? 'webgpu' : 'cpu';
    assert.equal(manifest.device, expected);
    const deviceLine = stderr.split('\n').find((line) => line.startsWith('device: ')) ?? '';
    assert.ok(deviceLine.startsWith(`device: ${expected}`), deviceLine);
    if (!cuda.usable) assert.ok(deviceLine.includes(`cuda: ${cuda.detail}`), deviceLine);
    if (!cuda.usable && !webgpu.usable) assert.ok(deviceLine.includes(`webgpu: ${webgpu.detail}`), deviceLine);
    assert.match(stderr, /batches: \d+ \((cpu|webgpu|cuda): /);
  });

  test('--batch-size auto and --max-batch-tokens are accepted; bad values exit 2', () => {
    const out = path.join(dir, 'acts-batch');
    const ok = runCli(['extract', '--dataset', dataset, '--model', onnxModelDir('gpt2-tiny'), '--out', out, '--device', 'cpu', '--batch-size', 'auto', '--max-batch-tokens', '2', '--no-cache']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /batches: [23] \(cpu: 32 prompts per batch \(default.*at most 2 padded tokens\)/);
    const bad = runCli(['extract', '--dataset', dataset, '--model', onnxModelDir('gpt2-tiny'), '--out', out, '--batch-size', 'lots']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--batch-size must be an integer/);
  });
});

describe('CLI --variant', { skip: !fs.existsSync(cli) && 'out/cli.js not built (node scripts/build.mjs)' }, () => {
  test('--variant fp16 loads model_fp16.onnx, fp32 loads model.onnx; a missing variant exits 2', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-variant-'));
    try {
      const entities = Array.from({ length: 12 }, (_, index) => `city ${index}`);
      const targets = entities.map((_, index) => [((index * 37) % 180) - 90 + 0.123, ((index * 71) % 360) - 180 + 0.456]);
      const fp32 = buildPlantedModel(path.join(root, 'model'), entities, targets, [1], { numHiddenLayers: 2, hiddenSize: 8 });
      const fp16 = buildPlantedModel(path.join(root, 'half'), entities, targets, [1], { numHiddenLayers: 2, hiddenSize: 8, dtype: 'float16' });
      fs.copyFileSync(path.join(root, 'half', 'onnx', 'model.onnx'), path.join(root, 'model', 'onnx', 'model_fp16.onnx'));
      const dataset = path.join(root, 'places.csv');
      fs.writeFileSync(dataset, `name,latitude,longitude\n${entities.map((name, k) => `${name},${targets[k][0]},${targets[k][1]}`).join('\n')}\n`);
      const layer1 = (variant: string): Float32Array => {
        const out = path.join(root, `acts-${variant}`);
        const { code, stderr } = runCli(['extract', '--dataset', dataset, '--model', path.join(root, 'model'), '--out', out, '--device', 'cpu', '--variant', variant, '--no-cache']);
        assert.equal(code, 0, stderr);
        const manifest = readActivationManifest(out);
        return readActivationLayer(out, manifest, 1);
      };
      const single = layer1('fp32');
      const half = layer1('fp16');
      let differs = false;
      for (let entity = 0; entity < entities.length; entity++) {
        for (let target = 0; target < 2; target++) {
          assert.equal(single[entity * 8 + target], fp32.plantedValue(entity, target));
          assert.equal(half[entity * 8 + target], fp16.plantedValue(entity, target));
          if (fp32.plantedValue(entity, target) !== fp16.plantedValue(entity, target)) differs = true;
        }
      }
      assert.ok(differs, 'the fp16 planted values should differ from the fp32 ones somewhere');
      const missing = runCli(['extract', '--dataset', dataset, '--model', path.join(root, 'model'), '--out', path.join(root, 'acts-q8'), '--variant', 'q8', '--no-cache']);
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(missing.stderr, /model_quantized/);
      assert.equal(fs.existsSync(path.join(root, 'acts-q8')), false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

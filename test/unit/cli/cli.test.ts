/**
 * The bundled CLI (out/cli.js, built by scripts/build.mjs before the unit tests) end to end on the tiny GPT-2
 * fixture: file formats, exit codes, and that bad input leaves nothing behind.
 */
import { test, describe, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot, onnxModelDir } from '../../helpers/modelFixtures';
import { readNpy } from '../../../src/core/activations/npy';
import { mulberry32 } from '../../../src/core/probes/split';
import { parseOnnxModel } from '../../../src/core/model/onnx/onnxGraph';
import { discoverResidualTaps } from '../../../src/core/model/onnx/residualTaps';

const cli = path.join(repoRoot, 'out', 'cli.js');
const gpt2 = onnxModelDir('gpt2-tiny');

function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A small time dataset: random words with random years (nothing for a probe to find, which is fine here). */
function writeDataset(file: string, rows: number): void {
  const random = mulberry32(7);
  const syllables = ['ka', 'lo', 'mi', 'ren', 'tu', 'sa', 'vel', 'dor', 'ni', 'pe'];
  const lines = ['name,year'];
  for (let index = 0; index < rows; index += 1) {
    const word = Array.from({ length: 2 + Math.floor(random() * 3) }, () => syllables[Math.floor(random() * syllables.length)]).join('');
    lines.push(`${word} ${index},${1500 + Math.floor(random() * 500)}`);
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

describe('spacetime-probe CLI', { skip: !fs.existsSync(cli) && 'out/cli.js not built (node scripts/build.mjs)' }, () => {
  let dir: string;
  let dataset: string;
  const cacheEnv = () => ({ SPACETIME_PROBE_CACHE_DIR: path.join(dir, 'cache') });

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-cli-'));
    dataset = path.join(dir, 'people.csv');
    writeDataset(dataset, 40);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('extract writes manifest.json and one [n, d] float32 .npy per layer', () => {
    const out = path.join(dir, 'acts');
    const { code, stderr } = runCli(['extract', '--dataset', dataset, '--model', gpt2, '--out', out, '--batch-size', '8'], cacheEnv());
    assert.equal(code, 0, stderr);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    const config = JSON.parse(fs.readFileSync(path.join(gpt2, 'config.json'), 'utf8'));
    assert.equal(manifest.format, 'spacetime-probe-activations/1');
    assert.equal(manifest.numEntities, 40);
    assert.equal(manifest.hiddenSize, config.n_embd);
    assert.equal(manifest.layers.length, config.n_layer + 1);
    assert.deepEqual(manifest.rows, Array.from({ length: 40 }, (_, index) => index + 2));
    for (const layer of manifest.layers) {
      const array = readNpy(path.join(out, layer.file));
      assert.equal(array.dtype, 'float32');
      assert.deepEqual(array.shape, [40, config.n_embd]);
    }
  });

  test('probe on those activations equals run end to end', () => {
    const probeOut = path.join(dir, 'probe');
    const probe = runCli(['probe', '--activations', path.join(dir, 'acts'), '--dataset', dataset, '--out', probeOut]);
    assert.equal(probe.code, 0, probe.stderr);
    assert.match(probe.stdout, /layer\s+alpha\s+train R²\s+test R²/);
    const runOut = path.join(dir, 'run');
    const run = runCli(['run', '--dataset', dataset, '--model', gpt2, '--out', runOut], cacheEnv());
    assert.equal(run.code, 0, run.stderr);
    const fromProbe = JSON.parse(fs.readFileSync(path.join(probeOut, 'results.json'), 'utf8'));
    const fromRun = JSON.parse(fs.readFileSync(path.join(runOut, 'results.json'), 'utf8'));
    assert.equal(fromRun.format, 'spacetime-probe-results/1');
    assert.equal(fromRun.kind, 'time');
    assert.deepEqual(fromRun.targets, ['year']);
    assert.equal(fromRun.split.method, 'random');
    assert.equal(fromRun.split.train + fromRun.split.test, 40);
    assert.deepEqual(fromRun.layers.map((layer: { testR2: number }) => layer.testR2), fromProbe.layers.map((layer: { testR2: number }) => layer.testR2));
    assert.equal(fromRun.predictions.length, 40);
    assert.equal(fromRun.device.used, 'cpu');
    // The second run found every entity in the activation cache.
    assert.match(run.stderr, /40 from cache, 0 through the model/);
    // --json prints results.json as written, and replaces the table.
    const json = runCli(['probe', '--activations', path.join(dir, 'acts'), '--dataset', dataset, '--out', probeOut, '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.stdout, fs.readFileSync(path.join(probeOut, 'results.json'), 'utf8'));
    assert.deepEqual(JSON.parse(json.stdout).layers.map((layer: { testR2: number }) => layer.testR2), fromProbe.layers.map((layer: { testR2: number }) => layer.testR2));
  });

  test('--split-by prints test R² per group at every layer, as results.json holds it; an unknown column says why', () => {
    const typed = path.join(dir, 'typed.csv');
    const lines = fs.readFileSync(dataset, 'utf8').trim().split('\n');
    // Every second row is a test row; types alternate in pairs so both split halves hold both types.
    fs.writeFileSync(typed, [`${lines[0]},type,is_test`, ...lines.slice(1).map((line, k) => `${line},${k % 4 < 2 ? 'poet' : 'king'},${k % 2 === 0}`)].join('\n') + '\n');
    const out = path.join(dir, 'split');
    const run = runCli(['run', '--dataset', typed, '--model', gpt2, '--out', out, '--bootstrap', '0', '--split-by', 'type'], cacheEnv());
    assert.equal(run.code, 0, run.stderr);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    assert.deepEqual(results.groupBreakdown.columns.type.values, ['king', 'poet']);
    const table = run.stdout.slice(run.stdout.indexOf('test R² by type'));
    assert.match(table, /layer\s+king \(n=10\)\s+poet \(n=10\)/);
    for (const layer of results.layers) {
      const cells = [layer.groups.type.king.r2, layer.groups.type.poet.r2].map((value: number) => value.toFixed(3)).join('\\s+');
      assert.match(table, new RegExp(`\\n\\s*${layer.index}( \\*)?\\s+${cells}\\n`), `layer ${layer.index}`);
    }
    const unknown = runCli(['probe', '--activations', path.join(dir, 'acts'), '--dataset', dataset, '--out', path.join(dir, 'split-none'), '--split-by', 'type']);
    assert.equal(unknown.code, 0, unknown.stderr);
    assert.match(unknown.stdout, /no breakdown by "type": no such metadata column/);
  });

  test('--token: entity-last (default) and prompt-last are recorded in results.json and cached apart; a bad value exits 2', () => {
    const read = (token: string | undefined) => {
      const out = path.join(dir, `token-${token ?? 'default'}`);
      const run = runCli(['run', '--dataset', dataset, '--model', gpt2, '--out', out, '--prompt', 'When was {entity}? Then', ...(token ? ['--token', token] : [])], cacheEnv());
      assert.equal(run.code, 0, run.stderr);
      return { run, results: JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) };
    };
    const byDefault = read(undefined);
    assert.equal(byDefault.results.token, 'entity-last');
    assert.match(byDefault.run.stdout, /token entity-last/);
    const promptLast = read('prompt-last');
    assert.equal(promptLast.results.token, 'prompt-last');
    assert.match(promptLast.run.stderr, /0 from cache, 40 through the model/, 'another cache namespace');
    assert.notDeepEqual(promptLast.results.layers[0].testR2, byDefault.results.layers[0].testR2, 'layer 0 reads another token');
    const again = read('entity-last');
    assert.match(again.run.stderr, /40 from cache, 0 through the model/);
    const bad = runCli(['run', '--dataset', dataset, '--model', gpt2, '--token', 'first']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--token must be one of entity-last, prompt-last/);
  });

  test('a bad dataset exits 2 naming file, line and column, with no stack trace and no output folder', () => {
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, 'name,latitude,longitude\nParis,48.8,2.3\nAtlantis,north,10\nLyon,45.7,4.8\n');
    const out = path.join(dir, 'never');
    const { code, stderr } = runCli(['run', '--dataset', bad, '--model', gpt2, '--out', out]);
    assert.equal(code, 2);
    assert.match(stderr, /bad\.csv:3:10: error: "north" in column "latitude" is not a finite number/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    assert.equal(fs.existsSync(out), false);
  });

  test('a missing model, a bad option and an unknown builtin exit 2 with a message', () => {
    const missing = runCli(['extract', '--dataset', dataset, '--model', path.join(dir, 'nope'), '--out', path.join(dir, 'x')]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.doesNotMatch(missing.stderr, /\n\s+at /);
    const option = runCli(['run', '--dataset', dataset, '--batch-size', 'zero']);
    assert.equal(option.code, 2);
    assert.match(option.stderr, /--batch-size must be an integer/);
    const builtin = runCli(['run', '--dataset', 'builtin:atlantis']);
    assert.equal(builtin.code, 2);
    assert.match(builtin.stderr, /atlantis/);
  });

  test('--taps overrides discovery: the discovered names give the same activations, unknown names exit 2', () => {
    const config = JSON.parse(fs.readFileSync(path.join(gpt2, 'config.json'), 'utf8'));
    const model = parseOnnxModel(fs.readFileSync(path.join(gpt2, 'onnx', 'model.onnx')));
    const discovered = discoverResidualTaps(model, { numHiddenLayers: config.n_layer, modelLabel: 'gpt2-tiny' });
    const out = path.join(dir, 'acts-taps');
    const run = runCli(['extract', '--dataset', dataset, '--model', gpt2, '--out', out, '--no-cache', '--taps', discovered.taps.join(',')]);
    assert.equal(run.code, 0, run.stderr);
    const last = `layer_${String(config.n_layer).padStart(3, '0')}.npy`;
    assert.deepEqual(readNpy(path.join(out, last)).data, readNpy(path.join(dir, 'acts', last)).data);
    const bogus = runCli(['extract', '--dataset', dataset, '--model', gpt2, '--out', path.join(dir, 'never-taps'), '--no-cache', '--taps', 'no_such_tensor,another_one']);
    assert.equal(bogus.code, 2, bogus.stderr);
    assert.match(bogus.stderr, /no_such_tensor/);
    assert.doesNotMatch(bogus.stderr, /\n\s+at /);
    assert.equal(fs.existsSync(path.join(dir, 'never-taps')), false);
  });

  test('probe refuses activations that do not match the dataset', () => {
    const other = path.join(dir, 'other.csv');
    writeDataset(other, 10);
    const { code, stderr } = runCli(['probe', '--activations', path.join(dir, 'acts'), '--dataset', other, '--out', path.join(dir, 'p2')]);
    assert.equal(code, 2);
    assert.match(stderr, /dataset changed since extraction/);
  });
});

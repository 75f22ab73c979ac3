/**
 * `spacetime-probe experiment` end to end through the bundled CLI (out/cli.js) on a planted-signal model: the
 * JSON files are written next to results.json, a run's activations are reused, `--from` repeats a run exactly,
 * and bad input exits with code 2, a message naming the problem, and no file.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../helpers/modelFixtures';
import { buildPlantedModel } from '../../helpers/plantedModel';
import { mulberry32 } from '../../../src/core/probes/split';

const cli = path.join(repoRoot, 'out', 'cli.js');

describe('spacetime-probe experiment', { skip: !fs.existsSync(cli) && 'out/cli.js not built (node scripts/build.mjs)' }, () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'experiment-cli-'));
  const dataset = path.join(root, 'places.csv');
  const modelDir = path.join(root, 'model');
  const out = path.join(root, 'run');
  const env = { ...process.env, SPACETIME_PROBE_CACHE_DIR: path.join(root, 'cache') };
  const runCli = (args: string[]) => {
    const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, timeout: 180_000 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  before(() => {
    const random = mulberry32(77);
    const names = Array.from({ length: 200 }, (_, index) => `town ${index}`);
    const targets = names.map(() => [random() * 140 - 70, random() * 300 - 150]);
    buildPlantedModel(modelDir, names, targets, [1], { numHiddenLayers: 2, hiddenSize: 12, signalScale: 10 });
    fs.writeFileSync(dataset, ['name,latitude,longitude,region',
      ...names.map((name, index) => `${name},${targets[index][0].toFixed(4)},${targets[index][1].toFixed(4)},R${index % 4}`)].join('\n') + '\n');
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  test('after `run`, `experiment controls` writes experiment_controls.json next to results.json, reusing the activations', () => {
    const run = runCli(['run', '--dataset', dataset, '--model', modelDir, '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    const result = runCli(['experiment', 'controls', '--dataset', dataset, '--model', modelDir, '--out', out, '--controls', 'shuffled,pca', '--pca-k', '2,4']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /reusing .*activations/);
    assert.match(result.stdout, /layer\s+linear R²\s+shuffled R²\s+PCA-2 R²\s+PCA-4 R²/);
    const file = path.join(out, 'experiment_controls.json');
    const written = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(written.format, 'spacetime-probe-experiment/1');
    assert.equal(written.experiment, 'controls');
    assert.deepEqual(written.parameters.controls, ['shuffled', 'pca']);
    assert.deepEqual(written.parameters.pcaK, [2, 4]);
    assert.equal(written.parameters.seed, 0);
    assert.equal(written.parameters.alphas.length, 12);
    assert.equal(written.provenance.activations[0].source, 'folder');
    assert.ok(written.layers[1].linear.testR2 > 0.99);
    assert.ok(written.layers[1].shuffled.testR2 < 0.05);
    assert.ok(fs.existsSync(path.join(out, 'results.json')));
    assert.deepEqual(fs.readdirSync(out).filter((name) => name.includes('.tmp')), [], 'no temporary files left');
  });

  test('--from repeats an experiment with the recorded parameters: identical numbers', () => {
    const first = runCli(['experiment', 'holdout', '--dataset', dataset, '--model', modelDir, '--out', out, '--block', 'region', '--min-block-rows', '20', '--seed', '3']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /region\s+rows\s+prox\. holdout\s+prox\. random/);
    const again = path.join(root, 'again');
    const repeat = runCli(['experiment', 'holdout', '--from', path.join(out, 'experiment_holdout.json'), '--out', again, '--json']);
    assert.equal(repeat.code, 0, repeat.stderr);
    const a = JSON.parse(fs.readFileSync(path.join(out, 'experiment_holdout.json'), 'utf8'));
    const b = JSON.parse(repeat.stdout);
    assert.deepEqual(b.parameters, a.parameters);
    assert.equal(b.parameters.seed, 3);
    assert.equal(b.parameters.blockColumn, 'region');
    assert.deepEqual(b.blocks, a.blocks);
    assert.deepEqual(b.summary, a.summary);
    // Its activations came from the cache the run filled: nothing went through the model.
    assert.deepEqual(b.provenance.activations.map((entry: { computed: number }) => entry.computed), [0]);
    assert.ok(fs.existsSync(path.join(again, 'experiment_holdout.json')));
  });

  test('bad input exits with code 2, names the problem, and writes nothing', () => {
    const target = path.join(root, 'bad');
    const missingColumn = runCli(['experiment', 'holdout', '--dataset', dataset, '--model', modelDir, '--out', target, '--block', 'continent']);
    assert.equal(missingColumn.code, 2);
    assert.match(missingColumn.stderr, /has no column "continent" \(columns: region/);
    assert.doesNotMatch(missingColumn.stderr, /\n\s+at .*\.js:\d+/, 'no stack trace');
    const badLayer = runCli(['experiment', 'neurons', '--dataset', dataset, '--model', modelDir, '--out', target, '--layers', '0,9']);
    assert.equal(badLayer.code, 2);
    assert.match(badLayer.stderr, /layer 9 does not exist: the model has layers 0…2/);
    const wrongOption = runCli(['experiment', 'mlp', '--dataset', dataset, '--out', target, '--block', 'region']);
    assert.equal(wrongOption.code, 2);
    assert.match(wrongOption.stderr, /--block applies to the holdout experiment, not mlp/);
    const unknown = runCli(['experiment', 'probes', '--dataset', dataset]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown experiment "probes" \(known: prompt-variants, holdout, mlp, neurons, controls\)/);
    assert.ok(!fs.existsSync(path.join(target, 'experiment_holdout.json')) && !fs.existsSync(path.join(target, 'experiment_neurons.json')));
  });

  test('--help lists the experiments and their options', () => {
    const help = runCli(['experiment', '--help']);
    assert.equal(help.code, 0);
    for (const name of ['prompt-variants', 'holdout', 'mlp', 'neurons', 'controls', '--min-block-rows', '--weight-decays', '--pca-k', '--from']) {
      assert.ok(help.stdout.includes(name), name);
    }
  });
});

/**
 * runProbe's outputs under failure (issue 15, items 4, 15): a failed or cancelled re-run keeps the previous
 * activations, results.json and layer predictions exactly; outputs of someone else are refused; a read-only,
 * full or unusable cache folder turns caching off and leaves the results unchanged.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runProbe } from '../../../src/core/experiments/run';
import { repoRoot } from '../../helpers/modelFixtures';
import { openCacheNamespace } from '../../../src/core/activations/cache';
import { promptText, type PromptInput, type ResidualModel, type TokenizedPrompt } from '../../../src/core/model/types';
import { errnoError, mountSmallFs } from '../../helpers/smallFs';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'run-outputs-'));
}

/** "e<k>" → a vector that encodes k and the year (so probes find something). */
class NameModel implements ResidualModel {
  readonly id = 'names';
  readonly architecture = 'names';
  readonly fingerprint = 'b'.repeat(64);
  readonly device = { requested: 'cpu' as const, used: 'cpu' as const, fallbacks: [] };
  readonly numLayers = 2;
  readonly hiddenSize = 4;
  runs = 0;
  failAt = Infinity;
  tokenize(prompts: readonly (string | PromptInput)[]): TokenizedPrompt[] {
    return prompts.map(promptText).map((text) => ({ ids: [Number(text.slice(1))], usable: true }));
  }
  async runBatch(prompts: readonly TokenizedPrompt[]): Promise<Float32Array> {
    this.runs += 1;
    if (this.runs >= this.failAt) throw new Error('model exploded');
    const out = new Float32Array(prompts.length * 8);
    prompts.forEach((prompt, row) => {
      const k = prompt.ids[0];
      for (let j = 0; j < 8; j++) out[row * 8 + j] = Math.sin(k * (j + 1)) + (j === 0 ? k : 0);
    });
    return out;
  }
  async dispose(): Promise<void> {}
}

function dataset(dir: string, rows: number): string {
  const file = path.join(dir, 'people.csv');
  fs.writeFileSync(file, `name,year\n${Array.from({ length: rows }, (_, k) => `e${k},${1800 + ((3 * k) % 400)}`).join('\n')}\n`);
  return file;
}

function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (at: string): void => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else files[path.relative(dir, full)] = fs.readFileSync(full).toString('base64');
    }
  };
  walk(dir);
  return files;
}

describe('run outputs under failure', () => {
  test('a model failure in a re-run keeps the previous activations and results exactly (item 4)', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'run');
    const data = dataset(dir, 30);
    await runProbe({ dataset: data, model: 'names', outDir: out, cacheDir: false, layerPredictions: true, batchSize: 4, loadedModel: new NameModel() });
    const before = snapshot(out);
    assert.ok(before['results.json'] && before['activations/manifest.json'] && before['layer_predictions/layer_001.json']);
    const failing = new NameModel();
    failing.failAt = 3;
    await assert.rejects(runProbe({ dataset: dataset(dir, 40), model: 'names', outDir: out, cacheDir: false, layerPredictions: true, batchSize: 4, loadedModel: failing }), /model exploded/);
    assert.deepEqual(snapshot(out), before);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['people.csv', 'run']);
  });

  test('a cancel during the fit keeps the previous outputs; a later run replaces them all together (item 4)', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'run');
    await runProbe({ dataset: dataset(dir, 30), model: 'names', outDir: out, cacheDir: false, loadedModel: new NameModel() });
    const before = snapshot(out);
    const controller = new AbortController();
    await assert.rejects(runProbe({ dataset: dataset(dir, 40), model: 'names', outDir: out, cacheDir: false, loadedModel: new NameModel() }, {
      signal: controller.signal, onProgress: (progress) => { if (progress.stage === 'fit') controller.abort(); },
    }), (error: unknown) => (error as Error).name === 'AbortError');
    assert.deepEqual(snapshot(out), before);
    const outcome = await runProbe({ dataset: dataset(dir, 40), model: 'names', outDir: out, cacheDir: false, loadedModel: new NameModel() });
    assert.equal(outcome.results.predictions.length, 40);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'activations', 'manifest.json'), 'utf8')).numEntities, 40);
    assert.deepEqual(fs.readdirSync(out).sort(), ['activations', 'results.json']);
  });

  test('a results.json or activations folder of someone else is refused before any work (items 1, 4)', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'run');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'results.json'), '{"my": "experiment"}');
    const model = new NameModel();
    await assert.rejects(runProbe({ dataset: dataset(dir, 20), model: 'names', outDir: out, cacheDir: false, loadedModel: model }), /results\.json is in the way and is not ours/);
    assert.equal(model.runs, 0);
    const acts = path.join(dir, 'elsewhere');
    fs.mkdirSync(acts);
    fs.writeFileSync(path.join(acts, 'manifest.json'), '{}');
    fs.rmSync(path.join(out, 'results.json'));
    await assert.rejects(runProbe({ dataset: dataset(dir, 20), model: 'names', outDir: out, activationsDir: acts, cacheDir: false, loadedModel: model }), /elsewhere is in the way/);
    assert.deepEqual(fs.readdirSync(acts), ['manifest.json']);
  });

  test('an unusable cache folder (injected EROFS, a file in the way) turns caching off; results unchanged (item 15)', async () => {
    const dir = tempDir();
    const data = dataset(dir, 25);
    const reference = await runProbe({ dataset: data, model: 'names', outDir: path.join(dir, 'ref'), cacheDir: false, loadedModel: new NameModel() });
    const log: string[] = [];
    const namespace = await openCacheNamespace({ dir: path.join(dir, 'cache'), faults: { beforeNamespace: (at) => { throw errnoError('EROFS', 'mkdir', at); } } },
      { fingerprint: 'b'.repeat(64), template: '{entity}', numLayers: 2, hiddenSize: 4 }, (line) => log.push(line));
    assert.equal(namespace, undefined);
    assert.match(log.join('\n'), /read-only file system\); caching is off for this run \(results are unaffected\)/);
    fs.writeFileSync(path.join(dir, 'blocker'), 'a file');
    const lines: string[] = [];
    const outcome = await runProbe({ dataset: data, model: 'names', outDir: path.join(dir, 'run'), cacheDir: path.join(dir, 'blocker', 'cache'), loadedModel: new NameModel() },
      { log: (line) => lines.push(line) });
    assert.match(lines.join('\n'), /caching is off/);
    assert.deepEqual(outcome.results.layers, reference.results.layers);
  });

  test('a real read-only and a real full cache folder (tmpfs) turn caching off; results unchanged (item 15)', async (t) => {
    const small = mountSmallFs(64 * 1024);
    if (!small) {
      t.skip('cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN); the injected-error test covers the logic');
      return;
    }
    try {
      const dir = tempDir();
      const data = dataset(dir, 400);
      const reference = await runProbe({ dataset: data, model: 'names', outDir: path.join(dir, 'ref'), cacheDir: false, loadedModel: new NameModel() });
      // Full: 400 records × 8 floats do not fit in 64 KiB with the namespace metadata and index.
      const full = await runProbe({ dataset: data, model: 'names', outDir: path.join(dir, 'full'), cacheDir: small.dir, loadedModel: new NameModel() }, { log: () => undefined });
      assert.deepEqual(full.results.layers, reference.results.layers);
      fs.rmSync(path.join(small.dir, 'v1'), { recursive: true, force: true });
      small.setReadOnly(true);
      const lines: string[] = [];
      const readOnly = await runProbe({ dataset: data, model: 'names', outDir: path.join(dir, 'ro'), cacheDir: path.join(small.dir, 'cache'), loadedModel: new NameModel() },
        { log: (line) => lines.push(line) });
      assert.match(lines.join('\n'), /read-only file system.*caching is off/);
      assert.deepEqual(readOnly.results.layers, reference.results.layers);
    } finally {
      small.dispose();
    }
  });

  test('probe --out never overwrites a results.json of someone else (item 1)', { skip: !fs.existsSync(path.join(repoRoot, 'out', 'cli.js')) && 'out/cli.js not built' }, async () => {
    const dir = tempDir();
    const data = dataset(dir, 20);
    await runProbe({ dataset: data, model: 'names', outDir: path.join(dir, 'run'), cacheDir: false, loadedModel: new NameModel() });
    const out = path.join(dir, 'theirs');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'results.json'), '{"experiment": "mine"}');
    const result = spawnSync(process.execPath, [path.join(repoRoot, 'out', 'cli.js'), 'probe', '--activations', path.join(dir, 'run', 'activations'), '--dataset', data, '--out', out],
      { encoding: 'utf8' });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /not a Spacetime Probe results file; refusing/);
    assert.equal(fs.readFileSync(path.join(out, 'results.json'), 'utf8'), '{"experiment": "mine"}');
  });
});

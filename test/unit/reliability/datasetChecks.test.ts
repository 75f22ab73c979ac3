/**
 * Silently wrong results (issue 15, items 5, 6, 13): probe refuses a dataset that is not the one the activations
 * came from (unless --force, which is recorded), implausible years are errors naming the range (widenable), and
 * an is_test column that is all true or all false falls back to the random split instead of crashing.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractActivations } from '../../../src/core/activations/extract';
import { ActivationMismatchError, probeActivations } from '../../../src/core/experiments/probeActivations';
import { loadDataset } from '../../../src/core/datasets/load';
import { parseDatasetText, parseYearRange } from '../../../src/core/datasets/parse';
import type { Dataset } from '../../../src/core/datasets/types';
import { promptText, type PromptInput, type ResidualModel, type TokenizedPrompt } from '../../../src/core/model/types';

class HashModel implements ResidualModel {
  readonly id = 'hash';
  readonly architecture = 'hash';
  readonly fingerprint = 'c'.repeat(64);
  readonly device = { requested: 'cpu' as const, used: 'cpu' as const, fallbacks: [] };
  readonly numLayers = 2;
  readonly hiddenSize = 4;
  tokenize(prompts: readonly (string | PromptInput)[]): TokenizedPrompt[] {
    return prompts.map(promptText).map((text) => ({ ids: [...text].map((char) => char.charCodeAt(0)), usable: true }));
  }
  async runBatch(prompts: readonly TokenizedPrompt[]): Promise<Float32Array> {
    const out = new Float32Array(prompts.length * 8);
    prompts.forEach((prompt, row) => { for (let j = 0; j < 8; j++) out[row * 8 + j] = Math.sin(prompt.ids.reduce((a, b) => a * 31 + b, j)); });
    return out;
  }
  async dispose(): Promise<void> {}
}

function write(dir: string, name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

async function extractFor(dataset: Dataset, outDir: string): Promise<void> {
  await extractActivations(new HashModel(), dataset.entities.map((entity) => ({ text: entity.name, row: entity.line })),
    { outDir, model: 'hash', prompt: '{entity}', dataset: dataset.source });
}

describe('probe checks the dataset against the manifest (item 5)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dataset-checks-'));
  const rows = (prefix: string, count: number) => ['name,year', ...Array.from({ length: count }, (_, k) => `${prefix}${k},${1900 + k}`)];
  const acts = path.join(dir, 'acts');

  test('another dataset of the same length is refused; --force probes it and records why', async () => {
    await extractFor(loadDataset(write(dir, 'a.csv', rows('alpha', 20))), acts);
    const other = loadDataset(write(dir, 'b.csv', rows('beta', 20)));
    await assert.rejects(probeActivations(acts, other),
      (error: unknown) => error instanceof ActivationMismatchError && /same rows, different names/.test(error.message) && /--force/.test(error.message));
    const forced = await probeActivations(acts, other, { force: true });
    assert.equal(forced.forced?.length, 1);
    assert.match(forced.forced![0], /different names/);
    const same = await probeActivations(acts, loadDataset(path.join(dir, 'a.csv')));
    assert.equal(same.forced, undefined);
  });

  test('edited targets are fine; rows the activations do not cover are a mismatch', async () => {
    const edited = loadDataset(write(dir, 'a2.csv', rows('alpha', 20).map((line, index) => (index === 3 ? 'alpha2,1066' : line))));
    assert.equal((await probeActivations(acts, edited)).forced, undefined);
    const longer = loadDataset(write(dir, 'a3.csv', rows('alpha', 24)));
    await assert.rejects(probeActivations(acts, longer), /has 4 valid row\(s\) that .* has no activations for/);
  });
});

describe('plausible years (item 6)', () => {
  test('a year of 1e12 is an error naming the range and the flag; --year-range widens it', () => {
    const text = 'name,year\nA,1900\nB,1e12\n';
    const result = parseDatasetText(text, 'big.csv');
    assert.equal(result.ok, false);
    const message = !result.ok ? result.problems.map((problem) => problem.message).join('\n') : '';
    assert.match(message, /year 1e12 in column "year" is outside the plausible range -10000…2200 \(widen it with --year-range/);
    assert.equal(parseDatasetText(text, 'big.csv', { yearRange: [-1e13, 1e13] }).ok, true);
    assert.equal(parseDatasetText('name,date\nA,99999-01-01\nB,1900\n', 'd.csv').ok, false, 'date columns are checked too');
    assert.deepEqual(parseYearRange('-20000:3000'), [-20000, 3000]);
    assert.throws(() => parseYearRange('3000:-1'), /MIN < MAX/);
  });
});

describe('is_test all true / all false (item 13)', () => {
  for (const flag of ['true', 'false']) {
    test(`is_test all ${flag} falls back to the random split`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'is-test-'));
      const dataset = loadDataset(write(dir, 'd.csv', ['name,year,is_test', ...Array.from({ length: 20 }, (_, k) => `n${k},${1900 + k},${flag}`)]));
      const acts = path.join(dir, 'acts');
      await extractFor(dataset, acts);
      const results = await probeActivations(acts, dataset);
      assert.equal(results.split.method, 'random');
      assert.equal(results.split.train + results.split.test, 20);
    });
  }
});

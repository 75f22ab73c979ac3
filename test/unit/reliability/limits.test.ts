/**
 * Model limits (issue 15, items 10, 11, 12): prompts longer than the model's positions, or with token ids
 * beyond its embedding, are skipped and listed with their rows instead of crashing the graph; a tokenizer
 * larger than the embedding is refused at load, a smaller one is a warning; very long arguments are refused
 * before anything starts, and --prompt-file reads a template from a file. Batches whose estimated memory
 * (quadratic in the prompt length) exceeds the budget are split, with activations identical to the unsplit run;
 * a prompt that cannot fit on its own is refused before any model work, naming its row.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractActivations, ExtractionError } from '../../../src/core/activations/extract';
import { readNpy } from '../../../src/core/activations/npy';
import { estimateBatchBytes } from '../../../src/core/runtime/batchSizing';
import { loadTransformerModel } from '../../../src/core/model/onnx/transformerModel';
import { ModelLoadError } from '../../../src/core/model/errors';
import { checkVocabulary } from '../../../src/core/model/vocabulary';
import { promptText, type PromptInput, type ResidualModel, type TokenizedPrompt } from '../../../src/core/model/types';
import { copyModelSidecars, repoRoot, onnxModelDir } from '../../helpers/modelFixtures';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'limits-'));
const cli = path.join(repoRoot, 'out', 'cli.js');
const gpt2 = onnxModelDir('gpt2-tiny');

class CharModel implements ResidualModel {
  readonly id = 'chars';
  readonly architecture = 'chars';
  readonly fingerprint = '7'.repeat(64);
  readonly device = { requested: 'cpu' as const, used: 'cpu' as const, fallbacks: [] };
  readonly numLayers = 1;
  readonly hiddenSize = 2;
  readonly maxPositions = 8;
  readonly vocabSize = 200;
  runs: number[][] = [];
  tokenize(prompts: readonly (string | PromptInput)[]): TokenizedPrompt[] {
    return prompts.map(promptText).map((text) => ({ ids: [...text].map((char) => char.codePointAt(0)!), usable: true }));
  }
  async runBatch(prompts: readonly TokenizedPrompt[]): Promise<Float32Array> {
    this.runs.push(...prompts.map((prompt) => [...prompt.ids]));
    return new Float32Array(prompts.length * 2).fill(1);
  }
  async dispose(): Promise<void> {}
}

describe('model limits', () => {
  test('too long for the positions, or ids beyond the embedding: skipped and listed with the row (items 10, 12)', async () => {
    const model = new CharModel();
    const result = await extractActivations(model, [
      { text: 'short', row: 2 }, { text: 'much too long here', row: 3 }, { text: 'ok€', row: 4 }, { text: 'fine', row: 5 },
    ], { outDir: path.join(tempDir(), 'a'), model: 'chars', prompt: '{entity}', dataset: 'd.csv' });
    assert.deepEqual(result.skipped.map((skip) => skip.row), [3, 4]);
    assert.match(result.skipped[0].reason, /18 tokens; chars takes at most 8 positions/);
    assert.match(result.skipped[1].reason, /token id 8364 is outside the model's embedding of 200 rows/);
    assert.ok(model.runs.every((ids) => ids.length <= 8 && ids.every((id) => id < 200)));
  });

  test('gpt2-tiny reports its positions and vocabulary; a larger tokenizer is refused at load, a smaller one warned', async () => {
    const model = await loadTransformerModel(gpt2, { device: 'cpu' });
    const config = JSON.parse(fs.readFileSync(path.join(gpt2, 'config.json'), 'utf8'));
    try {
      assert.equal(model.maxPositions, config.n_positions ?? config.max_position_embeddings);
      assert.equal(model.vocabSize, config.vocab_size);
    } finally {
      await model.dispose();
    }
    const dir = tempDir();
    copyModelSidecars(gpt2, dir);
    fs.mkdirSync(path.join(dir, 'onnx'));
    fs.copyFileSync(path.join(gpt2, 'onnx', 'model.onnx'), path.join(dir, 'onnx', 'model.onnx'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, vocab_size: 10 }));
    await assert.rejects(loadTransformerModel(dir, { device: 'cpu' }), (error: unknown) => error instanceof ModelLoadError && /only 10 rows/.test(error.message));
    assert.match(checkVocabulary(path.join(gpt2, 'tokenizer.json'), config.vocab_size + 1000, 'm').join('\n'), /never used/);
  });

  test('a 50 kB --prompt is refused before anything starts; --prompt-file reads the template (item 11)', { skip: !fs.existsSync(cli) && 'out/cli.js not built (node scripts/build.mjs)' }, () => {
    const dir = tempDir();
    const data = path.join(dir, 'd.csv');
    fs.writeFileSync(data, `name,year\n${Array.from({ length: 12 }, (_, k) => `w${k},${1900 + k}`).join('\n')}\n`);
    const env = { ...process.env, SPACETIME_PROBE_CACHE_DIR: path.join(dir, 'cache') };
    const long = spawnSync(process.execPath, [cli, 'extract', '--dataset', data, '--model', gpt2, '--out', path.join(dir, 'x'), '--prompt', `${'a'.repeat(50_000)} {entity}`], { encoding: 'utf8', env });
    assert.equal(long.status, 2, long.stderr);
    assert.match(long.stderr, /too long .*--prompt-file/);
    const template = path.join(dir, 'template.txt');
    fs.writeFileSync(template, 'In the year of {entity}\n');
    const fromFile = spawnSync(process.execPath, [cli, 'extract', '--dataset', data, '--model', gpt2, '--out', path.join(dir, 'acts'), '--prompt-file', template], { encoding: 'utf8', env });
    assert.equal(fromFile.status, 0, fromFile.stderr);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'acts', 'manifest.json'), 'utf8')).prompt, 'In the year of {entity}');
  });

  test('batch memory: a batch over the budget is split, results identical; a prompt that cannot fit is refused with its row (item 10)', async () => {
    const model = await loadTransformerModel(gpt2, { device: 'cpu' });
    try {
      assert.equal(model.numAttentionHeads, 4);
      const sizes: number[] = [];
      const recording: ResidualModel = Object.assign(Object.create(model) as ResidualModel, {
        runBatch: (prompts: readonly TokenizedPrompt[]) => { sizes.push(prompts.length); return model.runBatch(prompts); },
      });
      // Lengths 1 to 60 words: padded lengths and the quadratic term differ a lot between prompts.
      const prompts = Array.from({ length: 24 }, (_, k) => ({ text: Array.from({ length: 1 + ((k * 7) % 60) }, (__, j) => `w${j}`).join(' '), row: k + 2 }));
      const longest = Math.max(...model.tokenize(prompts.map((prompt) => prompt.text)).map((tokens) => tokens.ids.length));
      const shape = { seqLength: longest, numLayers: model.numLayers, hiddenSize: model.hiddenSize, numAttentionHeads: 4 };
      const run = async (budget: number) => {
        sizes.length = 0;
        const outDir = path.join(tempDir(), 'acts');
        const result = await extractActivations(recording, prompts, { outDir, model: 'gpt2-tiny', prompt: '{entity}', dataset: 'd.csv', batchMemoryBudgetBytes: budget });
        return { result, sizes: [...sizes], layers: result.manifest.layers.map((layer) => Array.from(readNpy(path.join(outDir, layer.file)).data as Float32Array)) };
      };
      const whole = await run(1024 ** 3);
      assert.deepEqual(whole.sizes, [24], 'one batch without a tight budget');
      // Room for three of the longest prompts per batch.
      const tight = await run(estimateBatchBytes({ batch: 3, ...shape }) + 1);
      assert.ok(tight.sizes.length >= 3 && tight.sizes.length < 24, `batches ${tight.sizes.join(', ')}`);
      assert.equal(tight.sizes[0], 3, 'the longest prompts go first, three at a time');
      assert.match(tight.result.batching.reason, /cut to fit the .* MiB batch memory budget/);
      assert.equal(tight.sizes.reduce((sum, size) => sum + size, 0), 24);
      // Right padding under a causal mask: a prompt's vectors do not depend on its batch (here to the bit).
      assert.deepEqual(tight.layers, whole.layers);

      // The budget below one 60-word prompt: refused before any model work, naming the rows.
      sizes.length = 0;
      const longRows = prompts.filter((prompt) => model.tokenize([prompt.text])[0].ids.length > 50).map((prompt) => prompt.row);
      assert.ok(longRows.length > 0);
      await assert.rejects(extractActivations(recording, prompts, {
        outDir: path.join(tempDir(), 'refused'), model: 'gpt2-tiny', prompt: '{entity}', dataset: 'd.csv',
        batchMemoryBudgetBytes: estimateBatchBytes({ batch: 1, ...shape, seqLength: 50 }),
      }), (error: unknown) => {
        assert.ok(error instanceof ExtractionError, String(error));
        assert.match(error.message, /cannot run within the batch memory budget .*nothing was run/);
        assert.deepEqual(error.details.map((line) => Number(/^line (\d+):/.exec(line)?.[1])), longRows.slice(0, 5));
        assert.match(error.details[0], /^line \d+: \d+ tokens need an estimated .* GiB for one run/);
        return true;
      });
      assert.deepEqual(sizes, [], 'no batch was run');
    } finally {
      await model.dispose();
    }
  });
});

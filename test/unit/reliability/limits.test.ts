/**
 * Model limits (issue 15, items 10, 11, 12): prompts longer than the model's positions, or with token ids
 * beyond its embedding, are skipped and listed with their rows instead of crashing the graph; a tokenizer
 * larger than the embedding is refused at load, a smaller one is a warning; very long arguments are refused
 * before anything starts, and --prompt-file reads a template from a file.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractActivations } from '../../../src/core/activations/extract';
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
});

/**
 * Output folders (issue 15, items 1, 14, 19): only provably-ours folders are replaced, stale partial folders of
 * dead runs are cleaned (only ours), two runs racing into one fresh --out do not clobber each other, and cache
 * records are committed batch by batch.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractActivations, ExtractionError, type ActivationCache } from '../../../src/core/activations/extract';
import { readActivationManifest, ManifestError } from '../../../src/core/activations/manifest';
import { notOurActivationFolder, removeStalePartials } from '../../../src/core/activations/outputFolders';
import { promptText, type PromptInput, type ResidualModel, type TokenizedPrompt } from '../../../src/core/model/types';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'outfolders-test-'));
}

/** Prompt "e<k>" → vector k everywhere. */
class TinyModel implements ResidualModel {
  readonly id = 'tiny';
  readonly architecture = 'tiny';
  readonly fingerprint = 'a'.repeat(64);
  readonly device = { requested: 'cpu' as const, used: 'cpu' as const, fallbacks: [] };
  readonly numLayers = 2;
  readonly hiddenSize = 3;
  batches = 0;
  onBatch?: () => void | Promise<void>;
  tokenize(prompts: readonly (string | PromptInput)[]): TokenizedPrompt[] {
    return prompts.map(promptText).map((text) => ({ ids: [Number(text.slice(1))], usable: true }));
  }
  async runBatch(prompts: readonly TokenizedPrompt[]): Promise<Float32Array> {
    this.batches += 1;
    await this.onBatch?.();
    const out = new Float32Array(prompts.length * 6);
    prompts.forEach((prompt, row) => out.fill(prompt.ids[0], row * 6, (row + 1) * 6));
    return out;
  }
  async dispose(): Promise<void> {}
}

const prompts = (count: number) => Array.from({ length: count }, (_, k) => ({ text: `e${k}`, row: k + 2 }));
const fields = { model: 'tiny', prompt: '{entity}', dataset: 'd.csv' };

/** A pid that is certainly not running (a child that has exited). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('output folders', () => {
  test('a folder with a foreign manifest.json is refused and kept whole (item 1)', async () => {
    const out = path.join(tempDir(), 'project');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'manifest.json'), '{"name": "my web app", "version": 1}');
    fs.writeFileSync(path.join(out, 'index.html'), '<html>');
    await assert.rejects(extractActivations(new TinyModel(), prompts(4), { ...fields, outDir: out }),
      (error: unknown) => error instanceof ExtractionError && /not an activation folder of ours/.test(error.message) && /not a Spacetime Probe activation manifest/.test(error.message));
    assert.deepEqual(fs.readdirSync(out).sort(), ['index.html', 'manifest.json']);
  });

  test('our activation folder with a file of someone else in it is refused (item 1)', async () => {
    const out = path.join(tempDir(), 'acts');
    await extractActivations(new TinyModel(), prompts(4), { ...fields, outDir: out });
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
    assert.match(notOurActivationFolder(out) ?? '', /notes\.txt/);
    await assert.rejects(extractActivations(new TinyModel(), prompts(5), { ...fields, outDir: out }), /not part of the activation folder/);
    assert.equal(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8'), 'mine');
    assert.equal(readActivationManifest(out).numEntities, 4);
    fs.rmSync(path.join(out, 'notes.txt'));
    await extractActivations(new TinyModel(), prompts(5), { ...fields, outDir: out });
    assert.equal(readActivationManifest(out).numEntities, 5);
  });

  test('stale partial folders of dead runs are removed, only ours (item 19)', async () => {
    const parent = tempDir();
    const out = path.join(parent, 'acts');
    const pid = deadPid();
    const stale = path.join(parent, `.acts.partial-${pid}-deadbeef`);
    fs.mkdirSync(stale);
    fs.writeFileSync(path.join(stale, 'layer_000.npy'), Buffer.alloc(1000));
    const foreign = path.join(parent, `.acts.partial-${pid}-cafe`);
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'thesis.tex'), 'mine');
    const live = path.join(parent, `.acts.partial-${process.pid}-abcd`);
    fs.mkdirSync(live);
    const otherName = path.join(parent, `.other.partial-${pid}-beef`);
    fs.mkdirSync(otherName);
    await extractActivations(new TinyModel(), prompts(4), { ...fields, outDir: out });
    assert.equal(fs.existsSync(stale), false, 'the stale partial of a dead run is gone');
    assert.ok(fs.existsSync(path.join(foreign, 'thesis.tex')), 'a folder holding a file of someone else is kept');
    assert.ok(fs.existsSync(live), 'a partial of a live process is kept');
    assert.ok(fs.existsSync(otherName), 'partials of other outputs are not ours to judge here');
    assert.deepEqual(removeStalePartials(out), []);
  });

  test('two runs racing into one fresh --out: the second refuses, the first is intact (item 14)', async () => {
    const parent = tempDir();
    const out = path.join(parent, 'acts');
    const slow = new TinyModel();
    // While the first run computes, a second one creates and fills the same fresh folder.
    slow.onBatch = async () => {
      if (slow.batches === 1) await extractActivations(new TinyModel(), prompts(3), { ...fields, outDir: out });
    };
    await assert.rejects(extractActivations(slow, prompts(6), { ...fields, outDir: out, batchSize: 2 }),
      (error: unknown) => error instanceof ExtractionError && /created by someone else/.test(error.message));
    assert.equal(readActivationManifest(out).numEntities, 3);
    assert.deepEqual(fs.readdirSync(parent), ['acts']);
  });

  test('cache records are stored batch by batch, not at the end of a window (item 19)', async () => {
    const storedAt: number[] = [];
    const model = new TinyModel();
    const cache: ActivationCache = {
      lookup: (texts) => texts.map(() => undefined),
      store: (texts) => { storedAt.push(model.batches); void texts; },
    };
    await extractActivations(model, prompts(8), { ...fields, outDir: path.join(tempDir(), 'a'), batchSize: 2, cache });
    assert.deepEqual(storedAt, [1, 2, 3, 4]);
  });

  test('a manifest that lists a dataset row twice is a ManifestError (item 13)', async () => {
    const out = path.join(tempDir(), 'acts');
    await extractActivations(new TinyModel(), prompts(4), { ...fields, outDir: out });
    const file = path.join(out, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
    manifest.rows[1] = manifest.rows[0];
    fs.writeFileSync(file, JSON.stringify(manifest));
    assert.throws(() => readActivationManifest(out), (error: unknown) => error instanceof ManifestError && /appears more than once/.test(error.message));
  });
});

/**
 * Clear messages instead of stack traces or silence (issue 15, items 14, 16, 20): file-system errors name the
 * path and the fix with exit 2; non-regular and missing files are refused before reading; encodings, line ends,
 * huge numbers, ambiguous columns, non-finite activations and constant targets are reported precisely; a damaged
 * cache chunk gives one warning line, and a torn tail is repaired once.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { main, registerCommand } from '../../../src/cli/main';
import { describeSystemError } from '../../../src/cli/systemErrors';
import { loadDataset, DatasetError } from '../../../src/core/datasets/load';
import { parseDatasetBytes, parseDatasetText } from '../../../src/core/datasets/parse';
import { extractActivations } from '../../../src/core/activations/extract';
import { ManifestError, readActivationLayer, readActivationManifest } from '../../../src/core/activations/manifest';
import { ActivationCache } from '../../../src/core/activations/cache';
import { probeActivations } from '../../../src/core/experiments/probeActivations';
import { promptText, type PromptInput, type ResidualModel, type TokenizedPrompt } from '../../../src/core/model/types';
import { errnoError, mountSmallFs } from '../../helpers/smallFs';
import { repoRoot, onnxModelDir } from '../../helpers/modelFixtures';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'messages-'));
const cli = path.join(repoRoot, 'out', 'cli.js');

class ValueModel implements ResidualModel {
  readonly id = 'values';
  readonly architecture = 'values';
  readonly fingerprint = 'e'.repeat(64);
  readonly device = { requested: 'cpu' as const, used: 'cpu' as const, fallbacks: [] };
  readonly numLayers = 1;
  readonly hiddenSize = 3;
  constructor(private readonly poison?: string) {}
  tokenize(prompts: readonly (string | PromptInput)[]): TokenizedPrompt[] {
    return prompts.map(promptText).map((text) => ({ ids: [...text].map((char) => char.charCodeAt(0)), usable: true }));
  }
  async runBatch(prompts: readonly TokenizedPrompt[]): Promise<Float32Array> {
    const out = new Float32Array(prompts.length * 3);
    prompts.forEach((prompt, row) => {
      const text = String.fromCharCode(...prompt.ids);
      for (let j = 0; j < 3; j++) out[row * 3 + j] = text === this.poison && j === 1 ? Number.NaN : Math.sin(prompt.ids.reduce((a, b) => a + b * (j + 2), 0));
    });
    return out;
  }
  async dispose(): Promise<void> {}
}

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return { stream, text: () => chunks.join('') };
}

describe('file-system errors (item 14)', () => {
  test('EROFS, ENOSPC, EEXIST, ENOTDIR, EISDIR name the path and the fix; the CLI exits 2 without a stack', async () => {
    for (const [code, pattern] of [['EROFS', /read-only file system/], ['ENOSPC', /no space left/], ['EEXIST', /already exists/], ['ENOTDIR', /is a file, not a folder/], ['EISDIR', /is a folder/]] as const) {
      const message = describeSystemError(errnoError(code, 'open', '/data/out/layer_000.npy'));
      assert.match(message ?? '', pattern, code);
      assert.match(message ?? '', /"\/data\/out\/layer_000\.npy"/, code);
    }
    assert.equal(describeSystemError(new Error('plain bug')), undefined);
    registerCommand({ name: 'test-erofs', summary: '', usage: '', run: async () => { throw errnoError('EROFS', 'mkdir', '/mnt/ro/out'); } });
    const err = capture();
    const code = await main(['test-erofs'], { stdout: capture().stream, stderr: err.stream, interactive: false });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(code, 2);
    assert.match(err.text(), /"\/mnt\/ro\/out" is on a read-only file system/);
    assert.doesNotMatch(err.text(), /unexpected error|at .*\.js:\d+/);
  });

  test('the CLI on a really full and a really read-only --out (tmpfs): exit 2, clear message, nothing left', { skip: !fs.existsSync(cli) && 'out/cli.js not built' }, (t) => {
    const small = mountSmallFs(16 * 1024);
    if (!small) { t.skip('cannot mount a tmpfs here'); return; }
    try {
      const dir = tempDir();
      const data = path.join(dir, 'd.csv');
      fs.writeFileSync(data, `name,year\n${Array.from({ length: 60 }, (_, k) => `word${k},${1900 + k}`).join('\n')}\n`);
      const env = { ...process.env, SPACETIME_PROBE_HUGE_PAGES: '0', SPACETIME_PROBE_CACHE_DIR: path.join(dir, 'cache') };
      const args = ['extract', '--dataset', data, '--model', onnxModelDir('gpt2-tiny'), '--out', path.join(small.dir, 'acts')];
      const full = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
      assert.equal(full.status, 2, full.stderr);
      assert.match(full.stderr, /no space left on the device/);
      assert.deepEqual(fs.readdirSync(small.dir), [], 'no partial folder left');
      small.setReadOnly(true);
      const readOnly = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
      assert.equal(readOnly.status, 2, readOnly.stderr);
      assert.match(readOnly.stderr, /read-only file system/);
    } finally {
      small.dispose();
    }
  });
});

describe('non-regular and missing files (items 14, 16)', () => {
  test('/dev/zero as a dataset is refused before reading', { skip: !fs.existsSync('/dev/zero') && 'no /dev/zero' }, () => {
    assert.throws(() => loadDataset('/dev/zero'), (error: unknown) => error instanceof DatasetError && /not a regular file/.test(error.lines().join('\n')));
  });

  test('a layer file that is /dev/zero, missing or truncated is a ManifestError naming it', async () => {
    const out = path.join(tempDir(), 'acts');
    await extractActivations(new ValueModel(), ['a', 'b', 'c'].map((text, k) => ({ text, row: k + 2 })), { outDir: out, model: 'v', prompt: '{entity}', dataset: 'd.csv' });
    const manifest = readActivationManifest(out);
    const layer = path.join(out, 'layer_000.npy');
    const bytes = fs.readFileSync(layer);
    fs.rmSync(layer);
    assert.throws(() => readActivationLayer(out, manifest, 0), (error: unknown) => error instanceof ManifestError && /layer_000\.npy/.test(error.message) && /missing/.test(error.message));
    if (fs.existsSync('/dev/zero')) {
      fs.symlinkSync('/dev/zero', layer);
      assert.throws(() => readActivationLayer(out, manifest, 0), /not a regular file/);
      fs.rmSync(layer);
    }
    fs.writeFileSync(layer, bytes.subarray(0, bytes.length - 4));
    assert.throws(() => readActivationLayer(out, manifest, 0), /layer_000\.npy: .*needs 36 data bytes, file has 32/);
  });
});

describe('dataset messages (item 20)', () => {
  const problemsOf = (result: ReturnType<typeof parseDatasetText>) => (result.ok ? '' : result.problems.map((problem) => problem.message).join('\n'));

  test('UTF-16 without a BOM is reported as such', () => {
    const text = 'name,year\nParis,1900\nRome,1901\n';
    const le = Buffer.from(text, 'utf16le');
    assert.match(problemsOf(parseDatasetBytes(le, 'x.csv')), /UTF-16 LE without a byte-order mark/);
    const be = Buffer.from(le);
    be.swap16();
    assert.match(problemsOf(parseDatasetBytes(be, 'x.csv')), /UTF-16 BE without a byte-order mark/);
  });

  test('lone-CR line ends are accepted (CSV and JSONL)', () => {
    const csv = parseDatasetText('name,year\rParis,1900\rRome,1901\r', 'x.csv');
    assert.ok(csv.ok && csv.dataset.entities.length === 2, problemsOf(csv));
    const jsonl = parseDatasetText('{"name":"Paris","year":1900}\r{"name":"Rome","year":1901}', 'x.jsonl');
    assert.ok(jsonl.ok && jsonl.dataset.entities.length === 2, problemsOf(jsonl));
  });

  test('1e309 in JSONL is reported as an overflowing number, not "null"', () => {
    const message = problemsOf(parseDatasetText('{"name":"A","year":1e309}\n{"name":"B","year":1900}\n', 'x.jsonl'));
    assert.match(message, /Infinity/);
    assert.doesNotMatch(message, /null/);
  });

  test('"name" and "Name" columns are an error, not a silent choice', () => {
    assert.match(problemsOf(parseDatasetText('name,Name,year\na,b,1900\n', 'x.csv')), /columns "name" and "Name" differ only in case/);
  });

  test('non-finite activations name the file, row, line and entity; a constant target names the target', async () => {
    const dir = tempDir();
    const names = Array.from({ length: 12 }, (_, k) => `city${k}`);
    const data = path.join(dir, 'd.csv');
    fs.writeFileSync(data, `name,year\n${names.map((name, k) => `${name},${1900 + k}`).join('\n')}\n`);
    const dataset = loadDataset(data);
    const acts = path.join(dir, 'acts');
    await extractActivations(new ValueModel('city7'), dataset.entities.map((entity) => ({ text: entity.name, row: entity.line })), { outDir: acts, model: 'v', prompt: '{entity}', dataset: data });
    await assert.rejects(probeActivations(acts, dataset), /layer_000\.npy: row 7 \(dataset line 9, "city7"\) has NaN at feature 1/);
    const flat = path.join(dir, 'flat.csv');
    fs.writeFileSync(flat, `name,year\n${names.map((name) => `${name},1900`).join('\n')}\n`);
    const acts2 = path.join(dir, 'acts2');
    await extractActivations(new ValueModel(), dataset.entities.map((entity) => ({ text: entity.name, row: entity.line })), { outDir: acts2, model: 'v', prompt: '{entity}', dataset: flat });
    await assert.rejects(probeActivations(acts2, loadDataset(flat)), /the target "year" is constant on the training split \(1900 in every row\)/);
  });
});

describe('cache warnings (item 20)', () => {
  const key = { fingerprint: '9'.repeat(64), template: '{entity}', numLayers: 1, hiddenSize: 4 };
  const vectors = (count: number) => Array.from({ length: count }, (_, k) => new Float32Array([k, k + 1, k + 2, k + 3]));
  const texts = (count: number) => Array.from({ length: count }, (_, k) => `t${k}`);

  test('a zeroed chunk gives one warning line and one summary, not one per record', async () => {
    const dir = tempDir();
    const writer = await new ActivationCache({ dir }).namespace(key);
    await writer.store(texts(300), vectors(300));
    await writer.close();
    const chunk = fs.readdirSync(writer.dir).find((name) => name.endsWith('.chunk'))!;
    const file = path.join(writer.dir, chunk);
    fs.writeFileSync(file, Buffer.alloc(fs.statSync(file).size));
    const lines: string[] = [];
    const reader = await new ActivationCache({ dir, log: (line) => lines.push(line) }).namespace(key);
    const found = await reader.lookup(texts(300));
    await reader.close();
    assert.equal(found.filter(Boolean).length, 0);
    assert.equal(reader.stats.corrupt, 300);
    assert.ok(lines.length <= 3, lines.join('\n'));
    assert.match(lines.join('\n'), /300 unusable records in all/);
  });

  test('a torn tail left by a dead writer is cut off once; the next run does not warn again', async () => {
    const dir = tempDir();
    const writer = await new ActivationCache({ dir }).namespace(key);
    await writer.store(texts(5), vectors(5));
    await writer.close();
    const names = fs.readdirSync(writer.dir).filter((name) => /\.(chunk|idx)$/.test(name));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    for (const name of names) {
      const [time, , rest] = name.split('-');
      fs.renameSync(path.join(writer.dir, name), path.join(writer.dir, `${time}-${Number(dead).toString(36)}-${rest}`));
    }
    const chunk = path.join(writer.dir, fs.readdirSync(writer.dir).find((name) => name.endsWith('.chunk'))!);
    fs.rmSync(chunk.replace(/\.chunk$/, '.idx'));
    fs.appendFileSync(chunk, Buffer.alloc(11, 7));
    const old = new Date(Date.now() - 3600_000);
    fs.utimesSync(chunk, old, old);
    const first = await new ActivationCache({ dir }).namespace(key);
    assert.match(first.warnings.join('\n'), /removed them/);
    assert.equal((await first.lookup(texts(5))).filter(Boolean).length, 5);
    await first.close();
    const second = await new ActivationCache({ dir }).namespace(key);
    assert.deepEqual(second.warnings, []);
    await second.close();
  });
});

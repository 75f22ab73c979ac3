/** manifest.json validation names the file and field; layer reads check the shape against the manifest. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import {
  ACTIVATIONS_FORMAT, ManifestError, layerFileName, readActivationLayer, readActivationManifest, writeActivationManifest,
  promptsIdentity, type ActivationManifest,
} from '../../../src/core/activations/manifest';
import { writeNpy } from '../../../src/core/activations/npy';

const valid: ActivationManifest = {
  format: ACTIVATIONS_FORMAT, model: 'm', prompt: '{entity}', dataset: 'd.csv', numEntities: 2, hiddenSize: 3,
  rows: [2, 4], layers: [{ index: 0, file: 'layer_000.npy' }],
};

function dirWith(manifest: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'manifest-test-'));
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

test('a written manifest reads back equal', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'manifest-test-'));
  writeActivationManifest(dir, valid);
  assert.deepEqual(readActivationManifest(dir), valid);
  assert.deepEqual(fs.readdirSync(dir), ['manifest.json']);
});

test('each malformed field is reported by name', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ format: 'other/1' }, 'format'],
    [{ model: 3 }, 'model'],
    [{ numEntities: -1 }, 'numEntities'],
    [{ hiddenSize: 0 }, 'hiddenSize'],
    [{ rows: [2] }, 'rows'],
    [{ layers: [{ index: 1, file: 'layer_001.npy' }] }, 'layers'],
    [{ layers: [{ index: 0, file: '../escape.npy' }] }, 'layers'],
  ];
  for (const [patch, field] of cases) {
    const dir = dirWith({ ...valid, ...patch });
    assert.throws(() => readActivationManifest(dir), (error: unknown) =>
      error instanceof ManifestError && error.field === field && error.message.includes(path.join(dir, 'manifest.json')), field);
  }
});

test('readActivationLayer checks the .npy shape against the manifest', () => {
  const dir = dirWith(valid);
  writeNpy(path.join(dir, 'layer_000.npy'), new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
  assert.deepEqual([...readActivationLayer(dir, valid, 0)], [1, 2, 3, 4, 5, 6]);
  writeNpy(path.join(dir, 'layer_000.npy'), new Float32Array(6), [3, 2]);
  assert.throws(() => readActivationLayer(dir, valid, 0), (error: unknown) => error instanceof ManifestError && /\[2, 3\]/.test(error.message));
});

test('layer file names', () => {
  assert.equal(layerFileName(0), 'layer_000.npy');
  assert.equal(layerFileName(80), 'layer_080.npy');
  assert.equal(layerFileName(1234), 'layer_1234.npy');
});

test('promptsIdentity is the SHA-256 of every (line, prompt) in order, however many rows', () => {
  for (const count of [0, 1, 999, 1000, 1001, 2500]) {
    const prompts = Array.from({ length: count }, (_, k) => ({ row: 2 + 3 * k, text: `Where is place ${k}${k % 7 === 0 ? ' (ü, 東京)' : ''}?` }));
    const reference = createHash('sha256').update('spacetime-probe-prompts/1\0');
    for (const prompt of prompts) reference.update(`${prompt.row}\0${prompt.text}\0`);
    assert.equal(promptsIdentity(prompts), reference.digest('hex'), `${count} rows`);
  }
  assert.notEqual(promptsIdentity([{ row: 2, text: 'a' }, { row: 3, text: 'b' }]), promptsIdentity([{ row: 3, text: 'b' }, { row: 2, text: 'a' }]));
});

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DatasetValidator, INLINE_LIMIT_CHARS } from '../../../src/extension/datasets/datasetValidator';
import { parseDatasetText } from '../../../src/core/datasets/parse';

const workerFile = path.resolve(__dirname, '..', '..', '..', '..', 'out', 'datasetWorker.js');

function bigDataset(): string {
  const lines = ['name,latitude,longitude'];
  for (let i = 0; lines.join('\n').length < INLINE_LIMIT_CHARS * 1.2; i++) lines.push(`Place number ${i},${(i % 170) - 85},${(i % 350) - 175}`);
  lines[1234] = 'Broken place,north,10';
  lines[4321] = 'Far place,95,10';
  return `${lines.join('\n')}\n`;
}

test('large files are validated in the worker with the same problems as the parser inline', async (t) => {
  if (!existsSync(workerFile)) return t.skip('out/datasetWorker.js not built (node scripts/build.mjs)');
  const text = bigDataset();
  const validator = new DatasetValidator(workerFile);
  try {
    const inWorker = await validator.validate(text, 'big.csv');
    const inline = parseDatasetText(text, 'big.csv');
    assert.ok(!inline.ok);
    assert.deepEqual(inWorker, inline.problems);
    assert.deepEqual(inWorker.map((p) => p.line).sort((a, b) => a - b), [1235, 4322]);
  } finally {
    validator.dispose();
  }
});

test('small files and a missing worker bundle are validated inline', async () => {
  const validator = new DatasetValidator(path.join(__dirname, 'no-such-worker.js'));
  const problems = await validator.validate('name,latitude,longitude\nParis,north,2\n', 'small.csv');
  assert.equal(problems.length, 1);
  assert.equal(problems[0].line, 2);
  assert.deepEqual(await validator.validate(bigDataset(), 'big.csv'), (parseDatasetText(bigDataset(), 'big.csv') as { problems: unknown }).problems);
  validator.dispose();
});

test('the same text is validated once: a second ask (re-run on save after the Problems panel) shares the answer', async () => {
  const validator = new DatasetValidator(path.join(__dirname, 'no-such-worker.js'));
  try {
    const text = 'name,latitude,longitude\nParis,north,2\n';
    const first = validator.validate(text, 'a.csv');
    assert.equal(validator.validate(text, 'a.csv'), first, 'the same promise, not a second parse');
    assert.equal((await first).length, 1);
    const edited = validator.validate(`${text}Lyon,45.76,4.84\n`, 'a.csv');
    assert.notEqual(edited, first, 'another text is parsed again');
    assert.notEqual(validator.validate(text, 'b.csv'), first, 'another file name (named in the problems) too');
    assert.deepEqual((await validator.validate(text, 'b.csv')).map((p) => p.file), ['b.csv']);
  } finally {
    validator.dispose();
  }
});

test('a failed validation is not remembered', async (t) => {
  if (!existsSync(workerFile)) return t.skip('out/datasetWorker.js not built (node scripts/build.mjs)');
  const validator = new DatasetValidator(workerFile);
  const text = bigDataset();
  const failed = validator.validate(text, 'big.csv');
  validator.dispose(); // the worker goes while the request is in flight: it fails
  await assert.rejects(failed, /disposed/);
  const again = validator.validate(text, 'big.csv');
  assert.notEqual(again, failed, 'asked again, not the remembered failure');
  validator.dispose();
  await again.catch(() => undefined); // (its answer depends on when the old worker finishes exiting)
});

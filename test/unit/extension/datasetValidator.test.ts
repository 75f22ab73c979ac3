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

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { splitTrainTest } from '../../../src/core/probes/split';

test('random split: 20% test, seeded, disjoint, sorted, covering every row', () => {
  const a = splitTrainTest(1000, undefined, 7);
  const b = splitTrainTest(1000, undefined, 7);
  const c = splitTrainTest(1000, undefined, 8);
  assert.equal(a.method, 'random');
  assert.equal(a.seed, 7);
  assert.equal(a.test.length, 200);
  assert.equal(a.train.length, 800);
  assert.deepEqual([...a.test], [...b.test]);
  assert.notDeepEqual([...a.test], [...c.test]);
  const all = new Set([...a.train, ...a.test]);
  assert.equal(all.size, 1000);
  for (const split of [a.train, a.test]) for (let i = 1; i < split.length; i++) assert.ok(split[i] > split[i - 1]);
});

test('random split keeps at least one row on each side', () => {
  const tiny = splitTrainTest(2);
  assert.equal(tiny.test.length, 1);
  assert.equal(tiny.train.length, 1);
});

test('is_test flags decide when given', () => {
  const split = splitTrainTest(5, [0, 1, 0, 0, 1]);
  assert.equal(split.method, 'is_test');
  assert.deepEqual([...split.test], [1, 4]);
  assert.deepEqual([...split.train], [0, 2, 3]);
  assert.throws(() => splitTrainTest(3, [true, true, true]), /no rows left to train on/);
  assert.throws(() => splitTrainTest(3, [false, false, false]), /nothing to evaluate on/);
  assert.throws(() => splitTrainTest(3, [true, false]), /2 flags for 3 rows/);
});

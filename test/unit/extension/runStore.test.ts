import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunStore, RunStoreError, layerPredictionsFile, type RunRecord } from '../../../src/extension/runs/runStore';
import { RESULTS_FORMAT, type ProbeResults } from '../../../src/core/experiments/results';

function results(bestLayer = 1): ProbeResults {
  const layer = (index: number) => ({ index, alpha: 1, trainR2: 0.5, testR2: 0.4 + index / 10, testR2PerTarget: {}, pearson: {}, spearman: {}, proximityError: 1 });
  return {
    format: RESULTS_FORMAT, kind: 'time', targets: ['year'], split: { method: 'random', train: 1, test: 1 }, alphas: [1],
    layers: [layer(0), layer(1), layer(2)], bestLayer,
    predictions: [{ row: 2, name: 'A', split: 'train', true: [1900], predicted: [1910] }, { row: 3, name: 'B', split: 'test', true: [2000], predicted: [1990] }],
  };
}

function record(id: string, createdAt: string, datasetPath = '/data/a.csv'): RunRecord {
  return { id, model: 'm', dataset: 'a.csv', kind: 'time', bestLayer: 1, bestTestR2: 0.5, createdAt, datasetReference: datasetPath, datasetPath, modelSpec: 'm' };
}

function tempRoot(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'runstore-'));
}

test('a run becomes visible only once committed, with its results.json validated', async () => {
  const root = tempRoot();
  try {
    const store = new RunStore(root);
    let changes = 0;
    store.onDidChange(() => changes++);
    const { id, dir } = await store.createRunFolder(new Date('2026-01-02T03:04:05Z'));
    assert.match(id, /^20260102T030405Z-[0-9a-f]{6}$/);
    await assert.rejects(store.commit(record(id, '2026-01-02T03:04:05Z')), RunStoreError, 'no results.json yet');
    assert.equal(store.list().length, 0);
    writeFileSync(path.join(dir, 'results.json'), JSON.stringify(results()));
    await store.commit(record(id, '2026-01-02T03:04:05Z'));
    assert.equal(changes, 1);
    assert.deepEqual(store.list().map((r) => r.id), [id]);
    // A fresh store (a VS Code restart) sees the same history.
    const reopened = new RunStore(root);
    assert.deepEqual(reopened.list().map((r) => r.id), [id]);
    assert.equal((await reopened.results(id)).bestLayer, 1);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('results.json problems name the file and the field', async () => {
  const root = tempRoot();
  try {
    const store = new RunStore(root);
    const { id, dir } = await store.createRunFolder();
    writeFileSync(path.join(dir, 'results.json'), JSON.stringify({ ...results(), format: 'other/9' }));
    await assert.rejects(store.commit(record(id, '2026-01-01T00:00:00Z')), (error: Error) => error.message.includes('results.json') && error.message.includes('"format"'));
    writeFileSync(path.join(dir, 'results.json'), '{"format":');
    await assert.rejects(store.commit(record(id, '2026-01-01T00:00:00Z')), /not valid JSON/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('discard and prune remove unfinished folders; newest runs come first', async () => {
  const root = tempRoot();
  try {
    const store = new RunStore(root);
    const ids: string[] = [];
    for (const [i, createdAt] of ['2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z', '2026-02-01T00:00:00Z'].entries()) {
      const { id, dir } = await store.createRunFolder(new Date(Date.UTC(2026, 0, 1, i)));
      writeFileSync(path.join(dir, 'results.json'), JSON.stringify(results()));
      await store.commit(record(id, createdAt, `/data/${i}.csv`));
      ids.push(id);
    }
    assert.deepEqual(store.list().map((r) => r.createdAt), ['2026-03-01T00:00:00Z', '2026-02-01T00:00:00Z', '2026-01-01T00:00:00Z']);
    assert.equal(store.latestForDataset('/data/2.csv')?.id, ids[2]);
    const unfinished = await store.createRunFolder();
    await store.discard(unfinished.id);
    assert.equal(existsSync(unfinished.dir), false);
    const leftover = await store.createRunFolder();
    assert.equal(await store.prune(2), 2, 'the leftover folder and the oldest run');
    assert.equal(existsSync(leftover.dir), false);
    assert.deepEqual(readdirSync(root).sort(), [ids[1], ids[2]].sort());
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('damaged run.json hides only that run', async () => {
  const root = tempRoot();
  try {
    const store = new RunStore(root);
    const good = await store.createRunFolder();
    writeFileSync(path.join(good.dir, 'results.json'), JSON.stringify(results()));
    await store.commit(record(good.id, '2026-01-01T00:00:00Z'));
    const bad = await store.createRunFolder();
    writeFileSync(path.join(bad.dir, 'run.json'), '{ not json');
    assert.deepEqual(new RunStore(root).list().map((r) => r.id), [good.id]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('per-layer predictions: best layer from results.json, others from layer_predictions/layer_###.json', async () => {
  const root = tempRoot();
  try {
    const store = new RunStore(root);
    const { id, dir } = await store.createRunFolder();
    writeFileSync(path.join(dir, 'results.json'), JSON.stringify(results(1)));
    await store.commit(record(id, '2026-01-01T00:00:00Z'));
    assert.deepEqual(await store.layersWithPredictions(id, results(1)), [1]);
    await assert.rejects(store.layerPredictions(id, 2), /layer 2 were not saved/);
    mkdirSync(path.join(dir, 'layer_predictions'));
    // The core's format: predicted values row-major in the order of results.predictions.
    writeFileSync(path.join(dir, layerPredictionsFile(2)), JSON.stringify({ layer: 2, predicted: [1850, 2020] }));
    writeFileSync(path.join(dir, layerPredictionsFile(0)), JSON.stringify({ layer: 0, predicted: [1850] }));
    assert.equal(layerPredictionsFile(2), path.join('layer_predictions', 'layer_002.json'));
    assert.deepEqual(await store.layersWithPredictions(id, results(1)), [0, 1, 2]);
    assert.deepEqual(await store.layerPredictions(id, 2), [
      { row: 2, name: 'A', split: 'train', true: [1900], predicted: [1850] },
      { row: 3, name: 'B', split: 'test', true: [2000], predicted: [2020] },
    ]);
    assert.equal((await store.layerPredictions(id, 1))[0].predicted[0], 1910);
    await assert.rejects(store.layerPredictions(id, 0), /layer_000\.json: field "predicted" has 1 values, expected 2 entities/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('commit with the results parsed by whoever has the file\'s text: checked, not read again', async () => {
  const root = tempRoot();
  try {
    const store = new RunStore(root);
    const { id, dir } = await store.createRunFolder();
    const parsed = JSON.parse(JSON.stringify(results())) as ReturnType<typeof results>;
    await assert.rejects(store.commit(record(id, '2026-01-01T00:00:00Z'), parsed), /results\.json is missing/, 'the file must still be there');
    writeFileSync(path.join(dir, 'results.json'), JSON.stringify(results()));
    await assert.rejects(store.commit(record(id, '2026-01-01T00:00:00Z'), { ...parsed, format: 'other/9' } as never), /"format"/, 'and the results valid');
    assert.equal(store.list().length, 0);
    await store.commit(record(id, '2026-01-01T00:00:00Z'), parsed);
    assert.equal(await store.results(id), parsed, 'the given object is what the views get');
    assert.deepEqual(await new RunStore(root).results(id), parsed, 'and it is what the file holds');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

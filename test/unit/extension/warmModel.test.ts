import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { ResidualModel } from '../../../src/core/model/types';
import { WarmModel } from '../../../src/extension/runs/warmModel';

function fakeModel(id: string, disposed: string[]): ResidualModel {
  return {
    id, architecture: 'fake', numLayers: 1, hiddenSize: 1, fingerprint: id, device: { requested: 'auto', used: 'cpu', fallbacks: [] },
    tokenize: () => [], runBatch: async () => new Float32Array(), dispose: async () => { disposed.push(id); },
  };
}

test('reuses the loaded model for the same spec and device, reloads for another, disposes the old one', async () => {
  const loads: string[] = [];
  const disposed: string[] = [];
  const warm = new WarmModel(async (spec, device) => { loads.push(`${spec}/${device}`); return fakeModel(`${spec}/${device}`, disposed); });
  const a = await warm.get('builtin:glove-100d', 'cpu');
  assert.equal(await warm.get('builtin:glove-100d', 'cpu'), a);
  assert.deepEqual(loads, ['builtin:glove-100d/cpu']);
  await warm.get('builtin:glove-100d', 'cuda');
  assert.deepEqual(loads, ['builtin:glove-100d/cpu', 'builtin:glove-100d/cuda']);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(disposed, ['builtin:glove-100d/cpu']);
  warm.dispose();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(disposed, ['builtin:glove-100d/cpu', 'builtin:glove-100d/cuda']);
  await assert.rejects(warm.get('builtin:glove-100d', 'cpu'), /disposed/);
});

test('a failed load is not remembered, and an idle model is released', async () => {
  let attempt = 0;
  const disposed: string[] = [];
  const warm = new WarmModel(async () => {
    attempt++;
    if (attempt === 1) throw new Error('cancelled');
    return fakeModel(`m${attempt}`, disposed);
  }, 20);
  await assert.rejects(warm.get('hf:a/b', 'cpu'), /cancelled/);
  assert.equal(warm.loadedKey, undefined);
  assert.equal((await warm.get('hf:a/b', 'cpu')).id, 'm2');
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.deepEqual(disposed, ['m2']);
  assert.equal(warm.loadedKey, undefined);
  warm.dispose();
});

test('another format or precision is another model: a float16 graph never answers a float32 request', async () => {
  const loads: string[] = [];
  const disposed: string[] = [];
  const warm = new WarmModel(async (spec, device, _signal, choice) => {
    const id = `${spec}/${device}/${choice?.format ?? 'auto'}/${choice?.precision ?? 'auto'}`;
    loads.push(id);
    return fakeModel(id, disposed);
  });
  const auto = await warm.get('hf:org/model', 'webgpu');
  assert.equal(await warm.get('hf:org/model', 'webgpu', undefined, { precision: 'auto' }), auto, 'auto and unset are the same choice');
  assert.equal((await warm.get('hf:org/model', 'webgpu', undefined, { precision: 'float32' })).id, 'hf:org/model/webgpu/auto/float32');
  assert.equal((await warm.get('hf:org/model', 'webgpu', undefined, { format: 'safetensors', precision: 'float32' })).id, 'hf:org/model/webgpu/safetensors/float32');
  assert.deepEqual(loads, ['hf:org/model/webgpu/auto/auto', 'hf:org/model/webgpu/auto/float32', 'hf:org/model/webgpu/safetensors/float32']);
  warm.dispose();
});

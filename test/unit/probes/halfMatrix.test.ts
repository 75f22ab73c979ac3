/**
 * 16-bit layers (float16 and bfloat16 bits) probed without widening the whole layer: conversion is exact, and a
 * fit on a HalfMatrix equals the fit on its float32 widening value for value (same arithmetic, chunk by chunk),
 * in the primal (tridiagonal and band) and dual forms; float16/bfloat16 activation folders read and probe.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HalfMatrix, decodeFloat16, encodeBfloat16, encodeFloat16, halfTable } from '../../../src/core/probes/halfMatrix';
import { fitRidgeCV, predict } from '../../../src/core/probes/ridge';
import { mulberry32 } from '../../../src/core/probes/split';
import { encodeNpyBits16, writeNpy } from '../../../src/core/activations/npy';
import {
  ACTIVATIONS_FORMAT, layerFileName, readActivationLayer, readActivationLayerValues, readActivationManifest, writeActivationManifest,
  type ActivationManifest,
} from '../../../src/core/activations/manifest';
import { probeActivations } from '../../../src/core/experiments/probeActivations';
import type { Dataset } from '../../../src/core/datasets/types';

function randomHalf(kind: 'float16' | 'bfloat16', n: number, d: number, seed: number): HalfMatrix {
  const random = mulberry32(seed);
  const encode = kind === 'float16' ? encodeFloat16 : encodeBfloat16;
  const bits = new Uint16Array(n * d);
  for (let i = 0; i < bits.length; i++) bits[i] = encode((random() - 0.5) * 6 + (i % d) * 0.01);
  return new HalfMatrix(kind, bits);
}

test('float16 and bfloat16 bits widen exactly and round-trip', () => {
  for (const value of [0, 1, -2.5, 65504, 6.103515625e-5, 5.960464477539063e-8, 0.333251953125]) {
    assert.equal(decodeFloat16(encodeFloat16(value)), value, `float16 ${value}`);
  }
  assert.equal(encodeFloat16(1e6), 0x7c00);
  assert.equal(halfTable('bfloat16')[encodeBfloat16(3.140625)], 3.140625);
  assert.equal(halfTable('float16')[0x3c00], 1);
  assert.ok(Number.isNaN(halfTable('float16')[0x7e00]));
  assert.equal(new HalfMatrix('float16', Uint16Array.from([0x3c00, 0x7c00])).firstNonFinite(), 1);
  assert.equal(new HalfMatrix('bfloat16', Uint16Array.from([0x3f80, 0x7f80])).firstNonFinite(), 1);
  assert.equal(new HalfMatrix('bfloat16', Uint16Array.from([0x3f80, 0x4000])).firstNonFinite(), -1);
});

for (const kind of ['float16', 'bfloat16'] as const) {
  for (const [label, n, d, options] of [
    ['primal (tridiagonal)', 120, 16, {}],
    ['primal (band)', 150, 40, { reduction: 'band', bandwidth: 8 }],
    ['dual', 30, 50, {}],
  ] as const) {
    test(`${kind}: the ${label} fit on the bits equals the fit on their float32 widening`, async () => {
      const x = randomHalf(kind, n, d, 3);
      const random = mulberry32(9);
      const y = Float64Array.from({ length: n * 2 }, () => random());
      const alphas = [0.1, 1, 10];
      const half = await fitRidgeCV({ x, y, nSamples: n, nFeatures: d, nTargets: 2 }, { alphas, products: 'javascript', chunkRows: 32, ...options });
      const wide = await fitRidgeCV({ x: x.widen(), y, nSamples: n, nFeatures: d, nTargets: 2 }, { alphas, products: 'javascript', chunkRows: 32, ...options });
      assert.equal(half.mode, wide.mode);
      assert.deepEqual(half.looMse, wide.looMse);
      assert.deepEqual(half.coef, wide.coef);
      assert.deepEqual(half.intercept, wide.intercept);
      assert.deepEqual(predict(half, x, n), predict(wide, x.widen(), n));
    });
  }
}

test('a non-finite 16-bit value is reported with its position', async () => {
  const x = randomHalf('float16', 10, 4, 1);
  x.bits[4 * 3 + 2] = 0x7c00;
  await assert.rejects(fitRidgeCV({ x, y: new Float64Array(10), nSamples: 10, nFeatures: 4, nTargets: 1 }, { alphas: [1] }), /x\[3, 2\] is Infinity/);
});

function folderWith(kind: 'float16' | 'bfloat16' | 'float32', layers: readonly HalfMatrix[], n: number, d: number, rows: number[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `half-folder-${kind}-`));
  layers.forEach((layer, index) => {
    const file = path.join(dir, layerFileName(index));
    if (kind === 'float32') writeNpy(file, layer.widen(), [n, d]);
    else fs.writeFileSync(file, encodeNpyBits16(layer.bits, [n, d], kind === 'float16' ? '<f2' : '<u2'));
  });
  const manifest: ActivationManifest = {
    format: ACTIVATIONS_FORMAT, model: 'synthetic', prompt: '{entity}', dataset: 'synthetic.csv', numEntities: n, hiddenSize: d, rows,
    layers: layers.map((_, index) => ({ index, file: layerFileName(index) })),
    ...(kind === 'float32' ? {} : { dtype: kind, producer: { tool: 'test', engine: 'none' } }),
  };
  writeActivationManifest(dir, manifest);
  return dir;
}

test('float16 and bfloat16 folders read as bits, widen on request, and probe to the float32 folder\'s results', async () => {
  const n = 60;
  const d = 8;
  const random = mulberry32(5);
  const rows = Array.from({ length: n }, (_, i) => i + 2);
  const dataset: Dataset = {
    source: 'synthetic.csv', kind: 'time', targets: ['year'], problems: [],
    entities: rows.map((line, i) => ({ line, name: `entity ${i}`, target: [1900 + Math.round(random() * 100)], metadata: {} })),
  } as unknown as Dataset;
  for (const kind of ['float16', 'bfloat16'] as const) {
    const layers = [randomHalf(kind, n, d, 11), randomHalf(kind, n, d, 12)];
    const halfDir = folderWith(kind, layers, n, d, rows);
    const floatDir = folderWith('float32', layers, n, d, rows);
    const manifest = readActivationManifest(halfDir);
    assert.equal(manifest.dtype, kind);
    const values = readActivationLayerValues(halfDir, manifest, 1);
    assert.ok(values instanceof HalfMatrix && values.kind === kind);
    assert.deepEqual(values.bits, layers[1].bits);
    assert.deepEqual(readActivationLayer(halfDir, manifest, 1), layers[1].widen());
    const half = await probeActivations(halfDir, dataset, { bootstrap: false });
    const float = await probeActivations(floatDir, dataset, { bootstrap: false });
    assert.deepEqual(half.layers, float.layers);
    assert.deepEqual(half.predictions, float.predictions);
    // A float32 file under a 16-bit manifest is refused, naming the file and the dtype it holds.
    const wrong = folderWith('float32', layers, n, d, rows);
    const wrongManifest = { ...readActivationManifest(wrong), dtype: kind };
    assert.throws(() => readActivationLayerValues(wrong, wrongManifest, 0), (error: unknown) => error instanceof Error && (error as Error).message.includes(path.join(wrong, 'layer_000.npy')) && /<f4/.test((error as Error).message));
    for (const dir of [halfDir, floatDir, wrong]) fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a bfloat16 manifest over a <f2 file is refused (the bits would be misread)', () => {
  const layers = [randomHalf('float16', 4, 3, 1)];
  const dir = folderWith('float16', layers, 4, 3, [2, 3, 4, 5]);
  const manifest = { ...readActivationManifest(dir), dtype: 'bfloat16' as const };
  assert.throws(() => readActivationLayerValues(dir, manifest, 0), /expected bfloat16 \('<u2'\)/);
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ ...manifest, dtype: 'int8' }));
  assert.throws(() => readActivationManifest(dir), /field "dtype"/);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A safetensors file with one tensor named "activations". */
function safetensorsBytes(dtype: 'F32' | 'F16' | 'BF16', shape: readonly number[], data: Uint8Array): Uint8Array {
  let json = JSON.stringify({ activations: { dtype, shape, data_offsets: [0, data.length] }, __metadata__: { producer: 'test' } });
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  out.set(data, 8 + json.length);
  return out;
}

test('safetensors layer files (one tensor each, F16/BF16/F32) read like the .npy ones and probe to the same results', async () => {
  const n = 40;
  const d = 5;
  const random = mulberry32(8);
  const rows = Array.from({ length: n }, (_, i) => i + 2);
  const dataset: Dataset = {
    source: 'synthetic.csv', kind: 'time', targets: ['year'], problems: [],
    entities: rows.map((line, i) => ({ line, name: `entity ${i}`, target: [1900 + Math.round(random() * 100)], metadata: {} })),
  } as unknown as Dataset;
  for (const [kind, code] of [['float16', 'F16'], ['bfloat16', 'BF16'], ['float32', 'F32']] as const) {
    const layers = [randomHalf(kind === 'bfloat16' ? 'bfloat16' : 'float16', n, d, 21), randomHalf(kind === 'bfloat16' ? 'bfloat16' : 'float16', n, d, 22)];
    const npyDir = folderWith(kind, layers, n, d, rows);
    const stDir = fs.mkdtempSync(path.join(os.tmpdir(), 'safetensors-folder-'));
    layers.forEach((layer, index) => {
      const bytes = kind === 'float32' ? new Uint8Array(layer.widen().buffer) : new Uint8Array(layer.bits.buffer);
      fs.writeFileSync(path.join(stDir, `layer_${index}.safetensors`), safetensorsBytes(code, [n, d], bytes));
    });
    const manifest = readActivationManifest(npyDir);
    writeActivationManifest(stDir, { ...manifest, layers: manifest.layers.map((entry) => ({ index: entry.index, file: `layer_${entry.index}.safetensors` })) });
    const stManifest = readActivationManifest(stDir);
    assert.deepEqual(readActivationLayer(stDir, stManifest, 1), readActivationLayer(npyDir, manifest, 1), kind);
    const a = await probeActivations(stDir, dataset, { bootstrap: false });
    const b = await probeActivations(npyDir, dataset, { bootstrap: false });
    assert.deepEqual(a.layers, b.layers, kind);
    // A manifest dtype that is not the tensor's is refused, naming the file.
    const wrong = { ...stManifest, dtype: kind === 'float32' ? 'float16' as const : 'float32' as const };
    assert.throws(() => readActivationLayerValues(stDir, wrong, 0), /layer_0\.safetensors.*expected/);
    for (const dir of [npyDir, stDir]) fs.rmSync(dir, { recursive: true, force: true });
  }
});

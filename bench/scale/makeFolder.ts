/**
 * A synthetic float16 activation folder at 70B scale (default 81 layers × 8,192 dims), with a planted linear
 * signal for latitude/longitude that grows with depth, plus its dataset CSV — for measuring the probe's memory
 * and time on 16-bit folders (BENCHMARKS.md "Probing at 70B scale"). Not committed: generate it.
 *
 *   npx tsc -p . && node out/bench/scale/makeFolder.js --out /tmp/scale --rows 2000 [--layers 81] [--dim 8192] [--dtype float16|bfloat16|float32]
 *
 * Writes OUT/activations/{manifest.json, layer_###.npy} and OUT/dataset.csv (name,latitude,longitude,is_test).
 * Rows are generated and written in chunks: memory stays at one chunk whatever the size.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeNpyHeader } from '../../src/core/activations/npy';
import { ACTIVATIONS_FORMAT, layerFileName, promptsIdentity, writeActivationManifest } from '../../src/core/activations/manifest';
import { mulberry32 } from '../../src/core/probes/split';

function option(name: string, fallback?: string): string {
  const at = process.argv.indexOf(`--${name}`);
  if (at >= 0 && process.argv[at + 1] !== undefined) return process.argv[at + 1];
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
}

const out = path.resolve(option('out'));
const rows = Number(option('rows', '2000'));
const layers = Number(option('layers', '81'));
const dim = Number(option('dim', '8192'));
const dtype = option('dtype', 'float16') as 'float16' | 'bfloat16' | 'float32';
const bytes = dtype === 'float32' ? 4 : 2;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** float → float16 bits (round to nearest; values here are well inside the normal range). */
function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const e = ((x >>> 23) & 0xff) - 112;
  if (e <= 0) return sign;
  if (e >= 31) return sign | 0x7c00;
  const m = x & 0x7fffff;
  const half = sign | (e << 10) | (m >>> 13);
  return (m & 0x1000) !== 0 ? half + 1 : half;
}
function toBfloat(value: number): number {
  f32[0] = value;
  const x = u32[0];
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}
const encode = dtype === 'float16' ? toHalf : toBfloat;
/** The stored value (float32 folders keep it, 16-bit ones keep its bits). */
const store = dtype === 'float32' ? (value: number) => value : encode;

const started = performance.now();
const activations = path.join(out, 'activations');
fs.mkdirSync(activations, { recursive: true });
const random = mulberry32(1);
const lat = Float64Array.from({ length: rows }, () => (random() - 0.5) * 160);
const lon = Float64Array.from({ length: rows }, () => (random() - 0.5) * 340);
const csv = ['name,latitude,longitude,is_test'];
for (let r = 0; r < rows; r++) csv.push(`place ${r},${lat[r].toFixed(4)},${lon[r].toFixed(4)},${r % 5 === 0}`);
fs.writeFileSync(path.join(out, 'dataset.csv'), `${csv.join('\n')}\n`);

const chunkRows = Math.max(1, Math.floor((32 << 20) / (dim * bytes)));
const chunk = dtype === 'float32' ? new Float32Array(chunkRows * dim) : new Uint16Array(chunkRows * dim);
for (let layer = 0; layer < layers; layer++) {
  // Per-layer directions; the signal's weight rises with depth, the noise stays.
  const weight = 0.02 + (0.5 * layer) / Math.max(1, layers - 1);
  const a = Float64Array.from({ length: dim }, () => (random() - 0.5) * weight / 80);
  const b = Float64Array.from({ length: dim }, () => (random() - 0.5) * weight / 170);
  const offset = Float64Array.from({ length: dim }, () => (random() - 0.5) * 4);
  const fd = fs.openSync(path.join(activations, layerFileName(layer)), 'w');
  fs.writeSync(fd, encodeNpyHeader(dtype === 'float16' ? '<f2' : dtype === 'float32' ? '<f4' : '<u2', [rows, dim]));
  const noise = mulberry32(1000 + layer);
  for (let start = 0; start < rows; start += chunkRows) {
    const end = Math.min(rows, start + chunkRows);
    for (let r = start; r < end; r++) {
      const base = (r - start) * dim;
      const la = lat[r];
      const lo = lon[r];
      for (let j = 0; j < dim; j++) chunk[base + j] = store(offset[j] + a[j] * la + b[j] * lo + (noise() - 0.5));
    }
    fs.writeSync(fd, chunk.subarray(0, (end - start) * dim));
  }
  fs.closeSync(fd);
  process.stderr.write(`\rlayer ${layer + 1}/${layers}`);
}
const prompts = Array.from({ length: rows }, (_, r) => ({ row: r + 2, text: `place ${r}` }));
writeActivationManifest(activations, {
  format: ACTIVATIONS_FORMAT, model: 'synthetic', prompt: '{entity}', token: 'entity-last', dataset: path.join(out, 'dataset.csv'),
  numEntities: rows, hiddenSize: dim, rows: prompts.map((prompt) => prompt.row),
  layers: Array.from({ length: layers }, (_, index) => ({ index, file: layerFileName(index) })),
  ...(dtype === 'float32' ? {} : { dtype }), promptsSha256: promptsIdentity(prompts), producer: { tool: 'bench/scale/makeFolder.ts', engine: 'synthetic' },
});
process.stderr.write(`\n${rows} rows × ${layers} layers × ${dim} ${dtype} → ${activations} (${((rows * dim * bytes * layers) / 1e9).toFixed(2)} GB) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

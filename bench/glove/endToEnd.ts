/**
 * The built-in GloVe model end to end through our own code path — dataset parser, GloVe tokenizer, ONNX model
 * via onnxruntime-node, activation extraction, `fitRidgeCV` probes (runProbe) — against the scikit-learn
 * reference computed independently by bench/glove/sklearn_reference.py from the wink JSON.
 *
 *   npx tsc -p . && node out/bench/glove/endToEnd.js [--datasets DIR] [--skip-reference]
 *
 * Like for like: the reference keeps entities whose tokens are ALL in the vocabulary, so our model runs with
 * unknownTokens 'skip-entity' for the comparison. The product default (mean of the known tokens; entities with no
 * known token skipped) is reported too. Prints one JSON line per dataset and rule, then a Markdown table.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProbe } from '../../src/core/experiments/run';
import { GloveModel, type GloveUnknownTokens } from '../../src/core/model/glove/glove';
import { requireInput, sharedPath } from '../sharedInputs';

const DATASETS = ['world_place', 'us_place', 'nyc_place'];
const TOLERANCE = 0.02;
const root = path.resolve(__dirname, '..', '..', '..');

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
}

interface Reference {
  readonly dataset: string;
  readonly n: number;
  readonly test_r2: number;
  readonly alpha: number;
}

function sklearnReference(datasetsDir: string): Map<string, Reference> {
  const started = Date.now();
  const result = spawnSync('/usr/bin/python3', [path.join(root, 'bench/glove/sklearn_reference.py'), '--datasets', datasetsDir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`sklearn_reference.py failed: ${result.stderr}`);
  console.error(`sklearn reference: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const rows = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Reference);
  return new Map(rows.map((row) => [row.dataset, row]));
}

async function main(): Promise<void> {
  const datasetsDir = requireInput(option('--datasets', sharedPath('datasets', 'paper')), '--datasets');
  const reference = process.argv.includes('--skip-reference') ? new Map<string, Reference>() : sklearnReference(datasetsDir);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'glove-e2e-'));
  const table: string[] = [];
  let failures = 0;
  try {
    for (const rule of ['skip-entity', 'mean-of-known'] as GloveUnknownTokens[]) {
      const model = await GloveModel.load({ unknownTokens: rule });
      try {
        for (const name of DATASETS) {
          const started = performance.now();
          const outcome = await runProbe({
            dataset: path.join(datasetsDir, `${name}.csv`), model: model.id, loadedModel: model, outDir: path.join(work, `${name}-${rule}`), cacheDir: false,
          });
          const seconds = (performance.now() - started) / 1000;
          const layer = outcome.results.layers[0];
          const n = outcome.extraction.manifest.numEntities;
          const ref = reference.get(name);
          const line = {
            dataset: name, rule, n, skipped: outcome.extraction.skipped.length, testR2: layer.testR2, alpha: layer.alpha,
            referenceN: ref?.n, referenceR2: ref?.test_r2, referenceAlpha: ref?.alpha,
            difference: ref && rule === 'skip-entity' ? layer.testR2 - ref.test_r2 : undefined, seconds,
          };
          console.log(JSON.stringify(line));
          if (rule === 'skip-entity' && ref) {
            const ok = Math.abs(layer.testR2 - ref.test_r2) <= TOLERANCE && n === ref.n;
            if (!ok) failures += 1;
            table.push(`| ${name} | ${ref.n.toLocaleString('en-US')} | ${ref.test_r2.toFixed(4)} (α ${ref.alpha.toFixed(1)}) | ` +
              `${n.toLocaleString('en-US')} | ${layer.testR2.toFixed(4)} (α ${layer.alpha.toFixed(1)}) | ${(layer.testR2 - ref.test_r2).toFixed(5)} | ${ok ? 'yes' : 'NO'} |`);
          } else if (rule === 'mean-of-known') {
            table.push(`| ${name} (product rule: mean of known tokens) | | | ${n.toLocaleString('en-US')} (${outcome.extraction.skipped.length.toLocaleString('en-US')} skipped) | ` +
              `${layer.testR2.toFixed(4)} (α ${layer.alpha.toFixed(1)}) | | |`);
          }
        }
      } finally {
        await model.dispose();
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.log('\n| dataset | sklearn n | sklearn test R² | ours n | ours test R² | difference | within ±0.02 |');
  console.log('|---|---:|---:|---:|---:|---:|---|');
  for (const row of table) console.log(row);
  if (failures > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * Edit one row of a 40,000-row dataset and re-run: how long until updated results, and how many entities go
 * through the model (must be exactly one). Target: under 2 s for the built-in GloVe model and the tiny fixtures.
 *
 *   npx tsc -p . && node scripts/build.mjs && node out/bench/cache/editOneRow.js [--dataset FILE] [--models a,b] [--repeats N]
 *
 * For each model: a cold run fills a fresh activation cache, then `repeats` times one different row's entity
 * name is changed and the run repeated, measured two ways:
 * - CLI: `node out/cli.js run …` as a new process (Node start, bundle load, model load, dataset parse, cache
 *   lookups, one extraction, probe refit, results.json) — what a terminal user waits for;
 * - warm: runProbe in this process with the model already loaded (what the extension does on save).
 * Prints JSON lines and a Markdown table (best and all repeats).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ActivationCache, formatBytes } from '../../src/core/activations/cache';
import { runProbe, type RunStage } from '../../src/core/experiments/run';
import { loadModel } from '../../src/core/model/loadModel';

const root = path.resolve(__dirname, '..', '..', '..');
const cli = path.join(root, 'out', 'cli.js');

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
}

function runCli(args: string[]): Promise<{ code: number; stderr: string; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** Change the entity name on one data line of a CSV whose first column is the name (the paper's files). */
function editRow(file: string, line: number, suffix: string): string {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const cells = lines[line - 1].split(',');
  const quoted = cells[0].startsWith('"');
  cells[0] = quoted ? `${cells[0].slice(0, -1)} ${suffix}"` : `${cells[0]} ${suffix}`;
  lines[line - 1] = cells.join(',');
  fs.writeFileSync(file, lines.join('\n'));
  return cells[0];
}

function throughModel(stderr: string): number | undefined {
  const match = /\((\d+) from cache, (\d+) through the model\)/.exec(stderr);
  return match ? Number(match[2]) : undefined;
}

function modelSpec(name: string): string {
  return name === 'glove' ? 'builtin:glove-100d' : path.join(process.env.SPACETIME_SHARED_DIR ?? path.resolve(root, '..', 'shared'), 'fixtures', 'models', name);
}

async function main(): Promise<void> {
  const source = option('--dataset', '/work/shared/datasets/paper/world_place.csv');
  const models = option('--models', 'glove,gpt2-tiny,llama-tiny,neox-tiny').split(',');
  const repeats = Number(option('--repeats', '3'));
  const rows: string[] = [];
  for (const name of models) {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `edit-one-row-${name}-`));
    try {
      const dataset = path.join(work, 'dataset.csv');
      fs.copyFileSync(source, dataset);
      const cacheDir = path.join(work, 'cache');
      const spec = modelSpec(name);
      const common = ['--dataset', dataset, '--model', spec, '--cache-dir', cacheDir, '--device', 'cpu'];
      const cold = await runCli(['run', ...common, '--out', path.join(work, 'cold')]);
      if (cold.code !== 0) throw new Error(`${name}: cold run failed:\n${cold.stderr}`);
      const info = await new ActivationCache({ dir: cacheDir }).info();
      const cliTimes: number[] = [];
      const cliModelCounts: (number | undefined)[] = [];
      for (let repeat = 0; repeat < repeats; repeat += 1) {
        editRow(dataset, 1001 + 997 * repeat, `cli${repeat}`);
        const warm = await runCli(['run', ...common, '--out', path.join(work, `cli-${repeat}`)]);
        if (warm.code !== 0) throw new Error(`${name}: re-run failed:\n${warm.stderr}`);
        cliTimes.push(warm.seconds);
        cliModelCounts.push(throughModel(warm.stderr));
      }
      // Warm in-process runs (the extension keeps the model loaded).
      const model = await loadModel(spec, { device: 'cpu' });
      const warmTimes: number[] = [];
      const warmModelCounts: number[] = [];
      const stages: Record<string, number>[] = [];
      try {
        await runProbe({ dataset, model: spec, loadedModel: model, outDir: path.join(work, 'prime'), cacheDir });
        for (let repeat = 0; repeat < repeats; repeat += 1) {
          editRow(dataset, 5001 + 991 * repeat, `warm${repeat}`);
          const started = performance.now();
          const marks: Record<string, number> = {};
          let last: RunStage | undefined;
          const outcome = await runProbe({ dataset, model: spec, loadedModel: model, outDir: path.join(work, `warm-${repeat}`), cacheDir }, {
            onProgress: (progress) => {
              if (progress.stage !== last) marks[progress.stage] = (performance.now() - started) / 1000;
              last = progress.stage;
            },
          });
          warmTimes.push((performance.now() - started) / 1000);
          warmModelCounts.push(outcome.extraction.manifest.numEntities - outcome.extraction.cacheHits);
          stages.push(marks);
        }
      } finally {
        await model.dispose();
      }
      const record = {
        model: name, dataset: path.basename(source), coldSeconds: cold.seconds, cacheBytes: info.bytes,
        cliSeconds: cliTimes, cliThroughModel: cliModelCounts, warmSeconds: warmTimes, warmThroughModel: warmModelCounts, warmStageStarts: stages,
      };
      console.log(JSON.stringify(record));
      const fmt = (values: number[]) => `${Math.min(...values).toFixed(2)} (${values.map((value) => value.toFixed(2)).join(', ')})`;
      rows.push(`| ${name === 'glove' ? 'builtin:glove-100d' : name} | ${cold.seconds.toFixed(1)} | ${formatBytes(info.bytes)} | ${fmt(cliTimes)} | ` +
        `${cliModelCounts.join(', ')} | ${fmt(warmTimes)} | ${warmModelCounts.join(', ')} |`);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  console.log('\n| model | cold run, s | cache size | edit-one-row re-run, CLI process, s: best (all) | through the model | ' +
    'edit-one-row re-run, warm model in process, s: best (all) | through the model |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * Edit one row of a 40,000-row dataset and re-run: how long until updated results, and how many entities go
 * through the model (must be exactly one). Target: under 2 s for the built-in GloVe model and the tiny fixtures.
 *
 *   npx tsc -p . && node scripts/build.mjs && node out/bench/cache/editOneRow.js [--dataset FILE] [--models a,b] [--repeats N]
 *
 * For each model: a cold run fills a fresh activation cache, then `repeats` times one different row's entity
 * name is changed and the run repeated, measured three ways:
 * - CLI: `node out/cli.js run …` as a new process (Node start, bundle load, model load, dataset parse, cache
 *   lookups, one extraction, probe refit, results.json) — what a terminal user waits for;
 * - warm: runProbe in this process with the model already loaded (the work the extension's worker does on save);
 * - extension worker: the extension's WorkerProbeEngine (out/probeWorker.js, model kept warm, every layer's
 *   predictions written as the extension's default asks), results back in this process.
 * Prints JSON lines (with wall and CPU seconds at the start of each run stage of the warm runs) and a Markdown
 * table (best and all repeats).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ActivationCache, formatBytes } from '../../src/core/activations/cache';
import { runProbe, type RunStage } from '../../src/core/experiments/run';
import { loadModel } from '../../src/core/model/loadModel';
import { WorkerProbeEngine } from '../../src/extension/runs/workerEngine';
import { requireInput, sharedPath } from '../sharedInputs';

const root = path.resolve(__dirname, '..', '..', '..');
const cli = path.join(root, 'out', 'cli.js');

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
}

/**
 * Run the CLI as a new process under /usr/bin/time: wall seconds, and CPU seconds (user + system) — on a shared
 * machine the CPU time is the better estimate of the wall time on a quiet one (the re-run is mostly one thread).
 */
function runCli(args: string[]): Promise<{ code: number; stderr: string; seconds: number; cpuSeconds: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile('/usr/bin/time', ['-f', 'CPU %U %S', process.execPath, cli, ...args], { maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      const cpu = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
      resolve({
        code: error ? Number(error.code ?? 1) : 0, stderr, seconds: (performance.now() - started) / 1000,
        cpuSeconds: cpu ? Number(cpu[1]) + Number(cpu[2]) : Number.NaN,
      });
    });
  });
}

/**
 * Change the entity name (first column, as in the paper's files) on the first line at or after `line` that has no
 * quotes, so a plain split on commas is exact; the suffix is an English word, so the edited name stays usable for
 * GloVe (one entity through the model, whatever the original name). Returns the new name.
 */
function editRow(file: string, line: number, suffix: string): string {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  let index = line - 1;
  while (lines[index].includes('"')) index += 1;
  const cells = lines[index].split(',');
  cells[0] = `${cells[0]} ${suffix}`;
  lines[index] = cells.join(',');
  fs.writeFileSync(file, lines.join('\n'));
  return cells[0];
}

function throughModel(stderr: string): number | undefined {
  const match = /\((\d+) from cache, (\d+) through the model\)/.exec(stderr);
  return match ? Number(match[2]) : undefined;
}

function modelSpec(name: string): string {
  return name === 'glove' ? 'builtin:glove-100d' : requireInput(sharedPath('fixtures', 'models', name), '--models glove (or SPACETIME_SHARED_DIR)');
}

async function main(): Promise<void> {
  const source = requireInput(option('--dataset', sharedPath('datasets', 'paper', 'world_place.csv')), '--dataset');
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
      const cliCpu: number[] = [];
      const cliModelCounts: (number | undefined)[] = [];
      for (let repeat = 0; repeat < repeats; repeat += 1) {
        editRow(dataset, 1001 + 997 * repeat, ['heights', 'north', 'lake', 'bay', 'hill'][repeat % 5]);
        const warm = await runCli(['run', ...common, '--out', path.join(work, `cli-${repeat}`)]);
        if (warm.code !== 0) throw new Error(`${name}: re-run failed:\n${warm.stderr}`);
        cliTimes.push(warm.seconds);
        cliCpu.push(warm.cpuSeconds);
        cliModelCounts.push(throughModel(warm.stderr));
      }
      // Warm in-process runs (the extension keeps the model loaded).
      const model = await loadModel(spec, { device: 'cpu' });
      const warmTimes: number[] = [];
      const warmCpu: number[] = [];
      const warmModelCounts: number[] = [];
      const stages: Record<string, number>[] = [];
      const stageCpu: Record<string, number>[] = [];
      try {
        await runProbe({ dataset, model: spec, loadedModel: model, outDir: path.join(work, 'prime'), cacheDir });
        for (let repeat = 0; repeat < repeats; repeat += 1) {
          editRow(dataset, 5001 + 991 * repeat, ['river', 'park', 'island', 'valley', 'port'][repeat % 5]);
          const started = performance.now();
          const cpuBefore = process.cpuUsage();
          const marks: Record<string, number> = {};
          const cpuMarks: Record<string, number> = {};
          let last: RunStage | undefined;
          const outcome = await runProbe({ dataset, model: spec, loadedModel: model, outDir: path.join(work, `warm-${repeat}`), cacheDir }, {
            onProgress: (progress) => {
              if (progress.stage !== last) {
                marks[progress.stage] = (performance.now() - started) / 1000;
                const used = process.cpuUsage(cpuBefore);
                cpuMarks[progress.stage] = (used.user + used.system) / 1e6;
              }
              last = progress.stage;
            },
          });
          stageCpu.push(cpuMarks);
          warmTimes.push((performance.now() - started) / 1000);
          const cpu = process.cpuUsage(cpuBefore);
          warmCpu.push((cpu.user + cpu.system) / 1e6);
          warmModelCounts.push(outcome.extraction.manifest.numEntities - outcome.extraction.cacheHits);
          stages.push(marks);
        }
      } finally {
        await model.dispose();
      }
      // The extension's own path: its probe worker (workerEngine.ts: a child process on Linux,
      // else a thread) with the model kept warm and the extension's defaults (every layer's predictions written
      // for the map's layer slider), including the trip of the results back to the caller.
      const engine = new WorkerProbeEngine(path.join(root, 'out', 'probeWorker.js'));
      const workerTimes: number[] = [];
      try {
        const workerOptions = { dataset, model: spec, cacheDir, device: 'cpu' as const, layerPredictions: true };
        await engine.run({ ...workerOptions, outDir: path.join(work, 'worker-prime') }, {});
        for (let repeat = 0; repeat < repeats; repeat += 1) {
          editRow(dataset, 9001 + 983 * repeat, ['ridge', 'creek', 'field', 'cove', 'dale'][repeat % 5]);
          const started = performance.now();
          await engine.run({ ...workerOptions, outDir: path.join(work, `worker-${repeat}`) }, {});
          workerTimes.push((performance.now() - started) / 1000);
        }
      } finally {
        engine.dispose();
      }
      const record = {
        model: name, dataset: path.basename(source), coldSeconds: cold.seconds, cacheBytes: info.bytes,
        cliSeconds: cliTimes, cliCpuSeconds: cliCpu, cliThroughModel: cliModelCounts,
        warmSeconds: warmTimes, warmCpuSeconds: warmCpu, warmThroughModel: warmModelCounts, warmStageStarts: stages, warmStageCpuStarts: stageCpu,
        extensionWorker: engine.kind, extensionWorkerSeconds: workerTimes,
        loadAverage: os.loadavg(),
      };
      console.log(JSON.stringify(record));
      const fmt = (values: number[]) => `${Math.min(...values).toFixed(2)} (${values.map((value) => value.toFixed(2)).join(', ')})`;
      rows.push(`| ${name === 'glove' ? 'builtin:glove-100d' : name} | ${cold.seconds.toFixed(1)} | ${formatBytes(info.bytes)} | ${fmt(cliTimes)} | ` +
        `${fmt(cliCpu)} | ${cliModelCounts.join(', ')} | ${fmt(warmTimes)} | ${fmt(warmCpu)} | ${warmModelCounts.join(', ')} | ${fmt(workerTimes)} |`);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  console.log(`\nload average ${os.loadavg().map((value) => value.toFixed(1)).join(' / ')}`);
  console.log('\n| model | cold run, s | cache size | re-run as CLI process: wall s, best (all) | CPU s | through the model | ' +
    're-run, model warm in process: wall s | CPU s | through the model | re-run through the extension\'s probe worker: wall s |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

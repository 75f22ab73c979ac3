/**
 * ONNX Runtime side of the device check (bench/device-check/run.sh), bundled to .device-carry/app/ortBench.js by
 * prepare.sh. Times our extraction engine (loadTransformerModel → runBatch: right-padded batch → tap-rewritten
 * graph → last-token residual stream of every layer, copied to the host) on the same full-length token ids as
 * the PyTorch timings (WORK/timing_ids.json), for each model variant and batch size; optionally records
 * onnxruntime's per-node profile (which provider ran each node, copies between devices) and times tokenization of
 * the dataset (to see what share of an extraction it would be at the measured model speed).
 *
 *   node ortBench.js --model DIR --device webgpu --ids WORK/timing_ids.json [--variants fp32,fp16]
 *        [--batches 64,512,1024] [--runs 5] [--repeats 3] [--validation basic] [--profile-dir DIR]
 *        [--profile-batch 512] [--dataset WORK/dataset.csv]
 *
 * Prints one JSON object. A variant that fails (e.g. no WebGPU adapter) is reported with its error, not thrown.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadTransformerModel, type TransformerModel } from '../../src/core/model/onnx/transformerModel';
import { loadCheckpointModel } from '../../src/core/model/checkpoint/checkpointModel';
import type { DeviceRequest, TokenizedPrompt } from '../../src/core/model/types';
import { probeAllProviders } from '../../src/core/runtime/devices';
import { ModelTokenizer } from '../../src/core/model/tokenizer';

interface BatchTiming {
  readonly batch: number;
  readonly seq: number;
  readonly secondsPerBatch?: number;
  readonly tokensPerSecond?: number;
  readonly error?: string;
}

interface ProfileSummary {
  readonly file: string;
  readonly runs: number;
  readonly byProvider: Record<string, { nodes: number; microseconds: number }>;
  readonly topOps: { op: string; provider: string; count: number; microseconds: number }[];
  readonly copies: { op: string; count: number; microseconds: number }[];
  readonly modelRunMicroseconds: number[];
}

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    device: { type: 'string', default: 'webgpu' },
    ids: { type: 'string' },
    variants: { type: 'string', default: 'fp32' },
    batches: { type: 'string', default: '64,512' },
    runs: { type: 'string', default: '5' },
    repeats: { type: 'string', default: '3' },
    validation: { type: 'string' },
    'profile-dir': { type: 'string' },
    'profile-batch': { type: 'string', default: '512' },
    'profile-variant': { type: 'string', default: 'fp32' },
    dataset: { type: 'string' },
  },
});

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n').slice(0, 3).join(' | ').slice(0, 600);
}

function batchOf(ids: readonly (readonly number[])[], size: number): TokenizedPrompt[] {
  return ids.slice(0, size).map((row) => ({ ids: [...row], usable: true }));
}

async function timeBatch(model: Pick<TransformerModel, 'runBatch'>, prompts: TokenizedPrompt[], runs: number, repeats: number): Promise<number> {
  // Warm-up: the first runs compile WebGPU shaders and size buffer pools.
  for (let k = 0; k < 2; k++) await model.runBatch(prompts);
  let best = Infinity;
  for (let repeat = 0; repeat < repeats; repeat++) {
    const started = performance.now();
    for (let run = 0; run < runs; run++) await model.runBatch(prompts);
    best = Math.min(best, (performance.now() - started) / 1000 / runs);
  }
  return best;
}

/** Aggregate onnxruntime's profile (Chrome trace events) by provider, op and device copies. */
function summarizeProfile(file: string): ProfileSummary {
  interface Event { cat?: string; name?: string; dur?: number; args?: { op_name?: string; provider?: string } }
  const events = JSON.parse(fs.readFileSync(file, 'utf8')) as Event[];
  const byProvider: ProfileSummary['byProvider'] = {};
  const ops = new Map<string, { op: string; provider: string; count: number; microseconds: number }>();
  const copies = new Map<string, { op: string; count: number; microseconds: number }>();
  const modelRuns: number[] = [];
  for (const event of events) {
    if (event.cat === 'Session' && event.name === 'model_run') modelRuns.push(event.dur ?? 0);
    if (event.cat !== 'Node' || !event.name?.endsWith('_kernel_time')) continue;
    const provider = event.args?.provider ?? '?';
    const op = event.args?.op_name ?? '?';
    const dur = event.dur ?? 0;
    const slot = (byProvider[provider] ??= { nodes: 0, microseconds: 0 });
    slot.nodes++;
    slot.microseconds += dur;
    const key = `${op}\u0000${provider}`;
    const entry = ops.get(key) ?? { op, provider, count: 0, microseconds: 0 };
    entry.count++;
    entry.microseconds += dur;
    ops.set(key, entry);
    if (/memcpy/i.test(op)) {
      const copy = copies.get(op) ?? { op, count: 0, microseconds: 0 };
      copy.count++;
      copy.microseconds += dur;
      copies.set(op, copy);
    }
  }
  return {
    file, runs: modelRuns.length, byProvider,
    topOps: [...ops.values()].sort((a, b) => b.microseconds - a.microseconds).slice(0, 15),
    copies: [...copies.values()], modelRunMicroseconds: modelRuns,
  };
}

function datasetNames(file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').slice(1).filter(Boolean).map((line) => line.slice(0, line.lastIndexOf(',')));
}

async function main(): Promise<void> {
  const modelDir = path.resolve(values.model ?? '');
  const device = values.device as DeviceRequest;
  const timingIds = JSON.parse(fs.readFileSync(values.ids ?? '', 'utf8')) as { seq: number; ids: number[][] };
  const batches = (values.batches ?? '').split(',').map(Number).filter((n) => n > 0 && n <= timingIds.ids.length);
  const runs = Number(values.runs);
  const repeats = Number(values.repeats);
  const validation = values.validation as 'disabled' | 'wgpuOnly' | 'basic' | 'full' | undefined;
  const report: Record<string, unknown> = { device, modelDir, seq: timingIds.seq, runs, repeats, validation: validation ?? 'default (basic)' };
  report.providers = await probeAllProviders();

  const variants: Record<string, unknown>[] = [];
  for (const variant of (values.variants ?? 'fp32').split(',')) {
    const entry: Record<string, unknown> = { variant };
    variants.push(entry);
    let model: Pick<TransformerModel, 'runBatch' | 'dispose' | 'device'> | undefined;
    try {
      const loadStarted = performance.now();
      // 'safetensors': the checkpoint next to the exports, through our own graph in the device's default compute dtype
      // (float16 on a GPU); 'safetensors-fp32': the same graph in float32 throughout.
      const loaded = variant === 'safetensors' || variant === 'safetensors-fp32'
        ? await loadCheckpointModel(modelDir, { device, ...(variant === 'safetensors-fp32' ? { computeDtype: 'float32' as const } : {}) })
        : await loadTransformerModel(modelDir, { device, variant, ...(validation ? { webgpuValidation: validation } : {}) });
      model = loaded;
      entry.loadSeconds = (performance.now() - loadStarted) / 1000;
      entry.deviceInfo = loaded.device;
      entry.modelPath = 'modelPath' in loaded ? loaded.modelPath : loaded.folder;
      const timings: BatchTiming[] = [];
      for (const batch of batches) {
        try {
          const seconds = await timeBatch(model, batchOf(timingIds.ids, batch), runs, repeats);
          timings.push({ batch, seq: timingIds.seq, secondsPerBatch: seconds, tokensPerSecond: (batch * timingIds.seq) / seconds });
        } catch (error) {
          timings.push({ batch, seq: timingIds.seq, error: message(error) });
        }
        process.stderr.write(`${variant} ${JSON.stringify(timings.at(-1))}\n`);
      }
      entry.timings = timings;
    } catch (error) {
      entry.error = message(error);
      process.stderr.write(`${variant}: ${entry.error}\n`);
    } finally {
      await model?.dispose();
    }
  }
  report.variants = variants;

  // A separate, profiled session (profiling slows runs down): one variant (--profile-variant: fp32, or safetensors for
  // the checkpoint through our graph), a few runs of one batch size.
  const profileDir = values['profile-dir'];
  const profileVariant = values['profile-variant'] ?? 'fp32';
  if (profileDir) {
    const profileBatch = Math.min(Number(values['profile-batch']), timingIds.ids.length);
    fs.mkdirSync(profileDir, { recursive: true });
    const before = new Set(fs.readdirSync(profileDir));
    const cwd = process.cwd();
    let model: Pick<TransformerModel, 'runBatch' | 'dispose' | 'endProfiling'> | undefined;
    try {
      process.chdir(profileDir); // onnxruntime-node writes onnxruntime_profile_*.json into the working folder
      model = profileVariant === 'safetensors'
        ? await loadCheckpointModel(modelDir, { device, enableProfiling: true })
        : await loadTransformerModel(modelDir, { device, variant: profileVariant, enableProfiling: true });
      const prompts = batchOf(timingIds.ids, profileBatch);
      for (let k = 0; k < 4; k++) await model.runBatch(prompts);
      model.endProfiling();
      const written = fs.readdirSync(profileDir).filter((name) => name.endsWith('.json') && !before.has(name));
      report.profile = written.length > 0 ? { batch: profileBatch, variant: profileVariant, ...summarizeProfile(path.join(profileDir, written[0])) } : { error: 'no profile file written' };
    } catch (error) {
      report.profile = { error: message(error) };
    } finally {
      process.chdir(cwd);
      await model?.dispose();
    }
  }

  // Tokenization speed on the dataset's prompts (same tokenizer files the CLI uses).
  if (values.dataset) {
    const names = datasetNames(values.dataset);
    const loadStarted = performance.now();
    const tokenizer = ModelTokenizer.fromFiles(path.join(modelDir, 'tokenizer.json'));
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    let best = Infinity;
    let tokens = 0;
    for (let repeat = 0; repeat < 3; repeat++) {
      const started = performance.now();
      tokens = tokenizer.encodeAll(names).reduce((sum, prompt) => sum + prompt.ids.length, 0);
      best = Math.min(best, (performance.now() - started) / 1000);
    }
    report.tokenization = { prompts: names.length, tokens, loadSeconds, seconds: best, tokensPerSecond: tokens / best };
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`ortBench: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});

/**
 * `spacetime-probe extract | probe | run`: the paper's pipeline from the command line.
 *   extract  dataset + model → activation folder (manifest.json + layer_###.npy)
 *   probe    activation folder + dataset → results.json
 *   run      both, printing the layerwise table
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliCommand, CliIo } from '../command';
import { InputError, UsageError, intOption, parseCommandArgs } from '../command';
import { fixed, formatTable, ProgressLine } from '../format';
import { assertParentAlive, testBlock } from '../supervise';
import { loadDataset } from '../../core/datasets/load';
import { parseYearRange } from '../../core/datasets/parse';
import { loadModel } from '../../core/model/loadModel';
import { DEFAULT_TOKEN_CHOICE, MODEL_PRECISIONS, TOKEN_CHOICES, type DeviceRequest, type ModelPrecision, type TokenChoice } from '../../core/model/types';
import { extractActivations, renderEntityPrompt, renderPrompt } from '../../core/activations/extract';
import { openCacheNamespace } from '../../core/activations/cache';
import { isOurResultsFile, prestartProbeWorkers, probeActivations, probeResultsText, RESULTS_FILE, writeProbeResults } from '../../core/experiments/probeActivations';
import { DEFAULT_PROMPT, runProbe, type RunProgress } from '../../core/experiments/run';
import type { ProbeResults } from '../../core/experiments/results';
import { DEFAULT_ALPHAS } from '../../core/probes/probe';
import { GLOVE_MODEL_ID } from '../../core/model/glove/glove';
import { MODEL_FORMATS, type ModelFormat } from '../../core/model/modelFolder';

const DEVICES: readonly DeviceRequest[] = ['auto', 'cpu', 'webgpu', 'cuda'];

const COMMON_HELP = `  --dataset FILE       CSV or JSONL dataset, or builtin:<name> (see \`spacetime-probe datasets\`)
  --skip-invalid       skip invalid rows with warnings instead of stopping
  --year-range MIN:MAX plausible years of a time dataset (default -10000:2200; e.g. --year-range=-20000:3000)`;
const MODEL_HELP = `  --model SPEC         ${GLOVE_MODEL_ID} (default), a model folder (safetensors checkpoint or ONNX export),
                       a .onnx file, or hf:<repo>[@rev]
  --prompt TEMPLATE    prompt template with {entity} (default "${DEFAULT_PROMPT}")
  --prompt-file FILE   read the template from a file (for long templates; at most 64 KiB)
  --token T            which token is read: entity-last (default; the entity's last token, as in the
                       paper) or prompt-last (the prompt's last token, e.g. the "?" of "Where is {entity}?")
  --device D           auto|cpu|webgpu|cuda (default auto: cuda, then webgpu, then cpu;
                       \`spacetime-probe devices\` shows which can run here and why not)
  --format F           auto|safetensors|onnx: a checkpoint's safetensors weights (our graph) or its ONNX export,
                       where a folder or Hub repo has both (default auto: safetensors, the original weights)
  --variant V          which export of a model folder: auto (model.onnx first), fp32, fp16
                       (model_fp16.onnx: faster on GPUs, not bit-identical to fp32), q8, …
  --precision P        auto|float32|float16: what a safetensors checkpoint computes in (default auto: float32
                       on the CPU, float16 on a GPU, ~1.8x faster there; float32 matches PyTorch on every device)
  --batch-size N|auto  prompts per model run (default auto: 32 on CPU, memory-sized on a GPU)
  --taps a,b,…         residual tensor names (L+1 of them, embeddings first) when structural discovery fails
  --max-batch-tokens N cap on prompts × padded length per run (default: 4096 on CPU, memory-sized on a GPU)
  --cache-dir DIR      activation cache folder (default ~/.cache/spacetime-probe/activations)
  --no-cache           do not read or write the activation cache`;
const PROBE_HELP = `  --alphas a,b,…       ridge alpha grid (default: 12 values log-spaced 10^0.8…10^4.1, the paper's)
  --seed N             seed of the random 20% test split (used when the dataset has no is_test column; default 0)
  --bootstrap N        resamples of the test entities for each layer's 95% intervals (default 1000; 0: none)
  --split-by COLUMN    also print test R² per value of a metadata column (e.g. type) at every layer, each group
                       scored within itself (results.json always holds the breakdown: layers[].groups)`;

function parseAlphas(value: string | undefined): readonly number[] {
  if (value === undefined) return DEFAULT_ALPHAS;
  const alphas = value.split(',').map((part) => Number(part.trim()));
  if (alphas.length === 0 || alphas.some((alpha) => !Number.isFinite(alpha) || alpha <= 0)) {
    throw new UsageError(`--alphas must be a comma-separated list of positive numbers, got "${value}"`);
  }
  return alphas;
}

/** `--token entity-last|prompt-last`. */
export function parseToken(value: string | undefined): TokenChoice {
  const token = (value ?? DEFAULT_TOKEN_CHOICE) as TokenChoice;
  if (!TOKEN_CHOICES.includes(token)) throw new UsageError(`--token must be one of ${TOKEN_CHOICES.join(', ')}, got "${value}"`);
  return token;
}

function parseDevice(value: string | undefined): DeviceRequest {
  const device = (value ?? 'auto') as DeviceRequest;
  if (!DEVICES.includes(device)) throw new UsageError(`--device must be one of ${DEVICES.join(', ')}, got "${value}"`);
  return device;
}

/** `--batch-size`: a positive integer, or auto (undefined: the engine chooses for the device). */
function parseBatchSize(value: string | undefined): number | undefined {
  if (value === undefined || value === 'auto') return undefined;
  return intOption('batch-size', value, 1);
}

/** Longest prompt template (characters); longer ones belong in a file, and are token-checked per row anyway. */
export const MAX_TEMPLATE_CHARS = 64 * 1024;

/** `--prompt TEMPLATE` or `--prompt-file FILE` (one of them), checked for size; undefined when neither is given. */
export function promptOption(values: { prompt?: string; 'prompt-file'?: string }): string | undefined {
  if (values.prompt !== undefined && values['prompt-file'] !== undefined) throw new UsageError('give --prompt or --prompt-file, not both');
  let template = values.prompt;
  const file = values['prompt-file'];
  if (file !== undefined) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch (error) {
      throw new UsageError(`--prompt-file ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message}`);
    }
    if (!stat.isFile()) throw new UsageError(`--prompt-file ${file} is not a regular file`);
    if (stat.size > MAX_TEMPLATE_CHARS * 4) throw new UsageError(`--prompt-file ${file} is ${stat.size} bytes; a template may have at most ${MAX_TEMPLATE_CHARS} characters`);
    template = fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  }
  if (template !== undefined && template.length > MAX_TEMPLATE_CHARS) {
    throw new UsageError(`the prompt template has ${template.length} characters; at most ${MAX_TEMPLATE_CHARS}`);
  }
  return template;
}

/** A results.json in the way that is not ours (another tool's file) is never overwritten. */
function refuseForeignResults(outDir: string): void {
  const file = path.join(outDir, RESULTS_FILE);
  if (!fs.existsSync(file)) return;
  if (!isOurResultsFile(file)) {
    throw new InputError(`${file} is in the way and is not a Spacetime Probe results file; refusing to replace it.`, ['Nothing was changed. Choose another --out.']);
  }
}

/** `--year-range MIN:MAX` → the dataset parser's yearRange. */
export function yearRangeOption(value: string | undefined): { yearRange?: [number, number] } {
  if (value === undefined) return {};
  try {
    return { yearRange: parseYearRange(value) };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function required(name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** `--format auto|safetensors|onnx`. */
function formatOption(value: string | undefined): { format?: ModelFormat } {
  if (value === undefined) return {};
  if (!MODEL_FORMATS.includes(value as ModelFormat)) throw new UsageError(`--format must be one of ${MODEL_FORMATS.join(', ')}, got "${value}"`);
  return { format: value as ModelFormat };
}

/** `--precision auto|float32|float16`. */
function precisionOption(value: string | undefined): { precision?: ModelPrecision } {
  if (value === undefined) return {};
  if (!MODEL_PRECISIONS.includes(value as ModelPrecision)) throw new UsageError(`--precision must be one of ${MODEL_PRECISIONS.join(', ')}, got "${value}"`);
  return { precision: value as ModelPrecision };
}

/** `--taps a,b,c` → loadModel's tap override. */
function tapsOption(value: string | undefined): { taps?: readonly string[] } {
  if (value === undefined) return {};
  const taps = value.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (taps.length < 2) throw new UsageError('--taps needs at least two comma-separated tensor names (embeddings first, one per block)');
  return { taps };
}

function noPositionals(command: string, positionals: readonly string[]): void {
  if (positionals.length > 0) throw new UsageError(`${command}: unexpected argument "${positionals[0]}"`);
}

const modelOptions = {
  model: { type: 'string' },
  prompt: { type: 'string' },
  'prompt-file': { type: 'string' },
  token: { type: 'string' },
  device: { type: 'string' },
  variant: { type: 'string' },
  precision: { type: 'string' },
  format: { type: 'string' },
  taps: { type: 'string' },
  'batch-size': { type: 'string' },
  'max-batch-tokens': { type: 'string' },
  'cache-dir': { type: 'string' },
  'no-cache': { type: 'boolean', default: false },
} as const;

/** The layerwise table `run` and `probe` print: per-target test R² next to the mean, and bootstrap intervals. */
export function formatLayerTable(results: ProbeResults): string {
  const perTarget = results.targets.length > 1;
  const interval = (value: readonly [number, number] | undefined): string => (value ? ` [${fixed(value[0])}, ${fixed(value[1])}]` : '');
  const level = results.bootstrap ? `${Math.round(results.bootstrap.level * 100)}% CI` : '';
  const rows = results.layers.map((layer) => [
    `${layer.index}${layer.index === results.bestLayer ? ' *' : ''}`,
    layer.alpha.toPrecision(4),
    fixed(layer.trainR2),
    `${fixed(layer.testR2)}${interval(layer.testR2Interval)}`,
    ...(perTarget ? [results.targets.map((target) => fixed(layer.testR2PerTarget[target])).join(' / ')] : []),
    results.targets.map((target) => fixed(layer.spearman[target])).join(' / '),
    `${fixed(layer.proximityError)}${interval(layer.proximityErrorInterval)}`,
  ]);
  const header = ['layer', 'alpha', 'train R²', `test R²${level ? ` [${level}]` : ''}`,
    ...(perTarget ? [`test R² (${results.targets.join(' / ')})`] : []),
    `Spearman (${results.targets.join(' / ')})`, `prox. error${level ? ` [${level}]` : ''}`];
  const table = formatTable(header, rows, header.map(() => 'right' as const));
  const best = results.layers.find((layer) => layer.index === results.bestLayer);
  const summary = best
    ? `best layer ${best.index}: test R² ${fixed(best.testR2)} (${results.targets.map((target) => `${target} ${fixed(best.testR2PerTarget[target])}`).join(', ')}), ` +
      `proximity error ${fixed(best.proximityError)} (chance 0.5); split ${results.split.method} ${results.split.train} train / ${results.split.test} test\n`
    : '';
  const warnings = (results.warnings ?? []).map((warning) => `warning: ${warning}\n`).join('');
  return table + summary + warnings;
}

/**
 * `--split-by COLUMN`: test R² per group of the column at every layer (results.json's layers[].groups), groups
 * as columns, largest first; or why the column has no breakdown.
 */
export function formatGroupTable(results: ProbeResults, column: string): string {
  const info = results.groupBreakdown?.columns[column];
  if (!info) {
    const reason = results.groupBreakdown?.leftOut?.[column];
    const available = Object.keys(results.groupBreakdown?.columns ?? {});
    return `no breakdown by "${column}": ${reason ?? 'no such metadata column in the predictions (provenance columns such as source are never broken down), or this results.json predates breakdowns'}` +
      `${available.length > 0 ? `; columns with one: ${available.join(', ')}` : ''}\n`;
  }
  const first = results.layers.find((layer) => layer.groups?.[column]);
  const header = ['layer', ...info.values.map((value) => `${value} (n=${first?.groups?.[column][value]?.n ?? '?'})`)];
  const rows = results.layers.map((layer) => [
    `${layer.index}${layer.index === results.bestLayer ? ' *' : ''}`,
    ...info.values.map((value) => fixed(layer.groups?.[column]?.[value]?.r2 ?? Number.NaN)),
  ]);
  const left: string[] = [];
  if (info.smallGroups > 0) left.push(`${info.smallGroups} value(s) with fewer than ${results.groupBreakdown!.minTestEntities} test entities (${info.smallGroupEntities} entities)`);
  if (info.missing > 0) left.push(`${info.missing} test entities without a ${column}`);
  return `test R² by ${column} (within each group)\n${formatTable(header, rows, header.map(() => 'right' as const))}` +
    (left.length > 0 ? `left out: ${left.join('; ')}\n` : '');
}

function progressReporter(io: CliIo): { progress: ProgressLine; onProgress: (update: RunProgress) => void } {
  const progress = new ProgressLine(io);
  let fitting = false;
  return {
    progress,
    onProgress: (update) => {
      progress.update(update.stage, update.message, update.done, update.total);
      if (update.stage === 'fit' && !fitting) {
        fitting = true;
        testBlock();
      }
    },
  };
}

function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { signal: controller.signal, dispose: () => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); } };
}

export const extractCommand: CliCommand = {
  name: 'extract',
  summary: 'write the last-token residual stream at every layer to DIR/layer_###.npy + manifest.json',
  usage: `usage: spacetime-probe extract --dataset FILE --out DIR [--model SPEC] [options]

Runs the model over every entity (prompt template applied) and writes one float32 .npy per layer
([numEntities, hiddenSize], rows in dataset order) and manifest.json. Nothing is left half-written.

options:
${COMMON_HELP}
${MODEL_HELP}
  --out DIR            output folder (created; replaced only if it holds a previous activation folder)
`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs('extract', args, {
      dataset: { type: 'string' }, out: { type: 'string' }, 'skip-invalid': { type: 'boolean', default: false }, 'year-range': { type: 'string' }, ...modelOptions,
    });
    noPositionals('extract', positionals);
    const datasetSpec = required('dataset', values.dataset);
    const outDir = required('out', values.out);
    const template = promptOption(values) ?? DEFAULT_PROMPT;
    renderPrompt(template, 'x');
    const token = parseToken(values.token);
    const batchSize = parseBatchSize(values['batch-size']);
    const maxBatchTokens = values['max-batch-tokens'] === undefined ? undefined : intOption('max-batch-tokens', values['max-batch-tokens'], 1);
    const device = parseDevice(values.device);
    const dataset = loadDataset(datasetSpec, { skipInvalid: values['skip-invalid'], ...yearRangeOption(values['year-range']) });
    for (const problem of dataset.problems) io.stderr.write(`${problem.file}:${problem.line}: ${problem.severity}: ${problem.message}\n`);
    const modelSpec = values.model ?? GLOVE_MODEL_ID;
    const { progress, onProgress } = progressReporter(io);
    const { signal, dispose } = interruptSignal();
    onProgress({ stage: 'model', message: `loading ${modelSpec}` });
    const model = await loadModel(modelSpec, {
      device, signal, ...formatOption(values.format), ...precisionOption(values.precision), ...(values.variant ? { variant: values.variant } : {}), ...tapsOption(values.taps),
    });
    try {
      const cache = values['no-cache'] ? undefined : await openCacheNamespace({ dir: values['cache-dir'], log: (line) => { progress.finish(); io.stderr.write(`${line}\n`); } },
        { fingerprint: model.fingerprint, template, token, numLayers: model.numLayers, hiddenSize: model.hiddenSize, modelId: model.id },
        (line) => { progress.finish(); io.stderr.write(`${line}\n`); });
      try {
        const result = await extractActivations(model,
          dataset.entities.map((entity) => ({ ...renderEntityPrompt(template, entity.name), row: entity.line })),
          {
            outDir, model: modelSpec, prompt: template, token, dataset: datasetSpec, batchSize, maxBatchTokens, signal, cache, beforeCommit: assertParentAlive,
            onProgress: (update) => onProgress({ stage: 'extract', done: update.done, total: update.total, message: `extracting ${update.done}/${update.total}` }),
          });
        progress.finish();
        io.stderr.write(`device: ${model.device.used}${model.device.fallbacks.length ? ` (${model.device.fallbacks.join('; ')})` : ''}\n`);
        io.stderr.write(`${result.manifest.numEntities} entities × ${result.manifest.layers.length} layers × ${result.manifest.hiddenSize} → ${path.resolve(outDir)}` +
          ` (${result.cacheHits} from cache, ${Math.round(result.tokensPerSecond)} tokens/s, ${result.skipped.length} skipped)\n`);
        io.stderr.write(`batches: ${result.batches} (${result.batching.reason})\n`);
        for (const skipped of result.skipped.slice(0, 20)) io.stderr.write(`skipped line ${skipped.row}: ${JSON.stringify(skipped.text)}: ${skipped.reason}\n`);
        return 0;
      } finally {
        await cache?.close();
      }
    } finally {
      progress.finish();
      dispose();
      await model.dispose();
    }
  },
};

export const probeCommand: CliCommand = {
  name: 'probe',
  summary: 'fit ridge probes per layer of an activation folder; write DIR/results.json',
  usage: `usage: spacetime-probe probe --activations DIR --dataset FILE --out DIR [options]

Fits one ridge probe per layer (alpha by efficient leave-one-out on the training split, targets
standardised), scores train and test splits, and writes results.json.

options:
  --activations DIR    folder written by \`spacetime-probe extract\`
${COMMON_HELP}
${PROBE_HELP}
  --out DIR            where results.json goes
  --json               print results.json to stdout instead of the table
  --force              probe even when the dataset does not match the activations' manifest
                       (other rows or names); the mismatch is recorded in results.json "forced"
`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs('probe', args, {
      activations: { type: 'string' }, dataset: { type: 'string' }, out: { type: 'string' }, alphas: { type: 'string' },
      seed: { type: 'string' }, bootstrap: { type: 'string' }, 'skip-invalid': { type: 'boolean', default: false }, 'year-range': { type: 'string' }, json: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false }, 'split-by': { type: 'string' },
    });
    noPositionals('probe', positionals);
    const activations = required('activations', values.activations);
    const datasetSpec = required('dataset', values.dataset);
    const outDir = required('out', values.out);
    const alphas = parseAlphas(values.alphas);
    const seed = intOption('seed', values.seed, 0, 0);
    // One fit worker starts while the dataset is read (they would otherwise start with the first fit), the other
    // once it is read: on two cores, two workers starting beside the parse slowed it from ~50 to ~90 ms, and the
    // second worker's first fit comes ~50 ms after the first one's.
    prestartProbeWorkers(activations, undefined, 1);
    const dataset = loadDataset(datasetSpec, { skipInvalid: values['skip-invalid'], ...yearRangeOption(values['year-range']) });
    prestartProbeWorkers(activations);
    refuseForeignResults(outDir);
    const { progress, onProgress } = progressReporter(io);
    const { signal, dispose } = interruptSignal();
    try {
      const results = await probeActivations(activations, dataset, {
        alphas, seed, signal, onProgress, provenance: { dataset: datasetSpec }, force: values.force, releaseWorkers: true,
        ...(values.bootstrap !== undefined ? { bootstrap: { resamples: intOption('bootstrap', values.bootstrap, 1000, 0) } } : {}),
      });
      progress.finish();
      for (const line of results.forced ?? []) io.stderr.write(`warning (--force): ${line}\n`);
      signal.throwIfAborted();
      assertParentAlive();
      // --json prints the file's own text (one JSON.stringify of the whole results, not two).
      const text = probeResultsText(results);
      const file = writeProbeResults(outDir, results, text);
      if (values.json) io.stdout.write(text);
      else io.stdout.write(formatLayerTable(results) + (values['split-by'] ? formatGroupTable(results, values['split-by']) : ''));
      io.stderr.write(`results: ${file}\n`);
      return 0;
    } finally {
      progress.finish();
      dispose();
    }
  },
};

export const runCommand: CliCommand = {
  name: 'run',
  summary: 'extract + probe in one go and print the layerwise table (the main job)',
  usage: `usage: spacetime-probe run --dataset FILE [--model SPEC] [--out DIR] [options]

Extracts activations (through the activation cache), fits a probe per layer and prints the
layerwise table: layer, alpha, train R², test R², Spearman, proximity error (best layer marked *).

options:
${COMMON_HELP}
${MODEL_HELP}
${PROBE_HELP}
  --out DIR            output folder for results.json and activations/ (default ./spacetime-probe-run)
  --activations DIR    where the per-layer .npy files go (default OUT/activations)
  --layer-predictions  also write every layer's predictions (OUT/layer_predictions/)
  --json               print results.json to stdout instead of the table
`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs('run', args, {
      dataset: { type: 'string' }, out: { type: 'string' }, activations: { type: 'string' }, alphas: { type: 'string' },
      seed: { type: 'string' }, bootstrap: { type: 'string' }, 'skip-invalid': { type: 'boolean', default: false }, 'year-range': { type: 'string' }, json: { type: 'boolean', default: false },
      'layer-predictions': { type: 'boolean', default: false }, 'split-by': { type: 'string' }, ...modelOptions,
    });
    noPositionals('run', positionals);
    const { progress, onProgress } = progressReporter(io);
    const { signal, dispose } = interruptSignal();
    try {
      const outcome = await runProbe({
        dataset: required('dataset', values.dataset),
        model: values.model ?? GLOVE_MODEL_ID,
        prompt: promptOption(values),
        token: parseToken(values.token),
        device: parseDevice(values.device),
        batchSize: parseBatchSize(values['batch-size']),
        ...(values['max-batch-tokens'] !== undefined ? { maxBatchTokens: intOption('max-batch-tokens', values['max-batch-tokens'], 1) } : {}),
        ...(values.variant ? { variant: values.variant } : {}),
        ...formatOption(values.format),
        ...precisionOption(values.precision),
        ...tapsOption(values.taps),
        alphas: parseAlphas(values.alphas),
        seed: intOption('seed', values.seed, 0, 0),
        ...(values.bootstrap !== undefined ? { bootstrapResamples: intOption('bootstrap', values.bootstrap, 1000, 0) } : {}),
        outDir: values.out ?? 'spacetime-probe-run',
        activationsDir: values.activations,
        cacheDir: values['no-cache'] ? false : values['cache-dir'],
        skipInvalid: values['skip-invalid'],
        ...yearRangeOption(values['year-range']),
        layerPredictions: values['layer-predictions'],
      }, {
        signal,
        onProgress,
        log: (line) => { progress.finish(); io.stderr.write(`${line}\n`); },
        beforeCommit: assertParentAlive,
      });
      progress.finish();
      if (values.json) io.stdout.write(`${JSON.stringify(outcome.results)}\n`);
      else {
        const { results } = outcome;
        io.stdout.write(`${results.dataset} · ${results.model} · prompt "${results.prompt}" · token ${results.token ?? '?'} · device ${results.device?.used ?? '?'}\n`);
        io.stdout.write(formatLayerTable(results));
        if (values['split-by']) io.stdout.write(formatGroupTable(results, values['split-by']));
      }
      io.stderr.write(`results: ${outcome.resultsFile}\n`);
      return 0;
    } finally {
      progress.finish();
      dispose();
    }
  },
};

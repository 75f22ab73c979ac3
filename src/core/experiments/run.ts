/**
 * @file One probe run, end to end: dataset → prompts → activations (through the cache) → per-layer probes →
 * results.json. The CLI's `run` and the extension's commands both call `runProbe`.
 *
 * Layout of `outDir` after a run:
 *   results.json                 the results (format spacetime-probe-results/1), written last
 *   activations/                 manifest.json + layer_###.npy (unless `activationsDir` points elsewhere)
 *   layer_predictions/           predictions of every layer (optional, for the map's layer slider)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset } from '../datasets/types';
import { loadDataset } from '../datasets/load';
import { DEFAULT_TOKEN_CHOICE, type DeviceRequest, type ModelPrecision, type ResidualModel, type TokenChoice } from '../model/types';
import { loadModel } from '../model/loadModel';
import { extractActivations, ExtractionError, renderEntityPrompt, renderPrompt, type ExtractionResult } from '../activations/extract';
import { openCacheNamespace } from '../activations/cache';
import { notOurActivationFolder, notOurLayerPredictions, partialName, removeStalePartials, replaceFolder, FolderRaceError, trackPartial } from '../activations/outputFolders';
import { isOurResultsFile, LAYER_PREDICTIONS_DIR, probeActivations, RESULTS_FILE, writeProbeResults } from './probeActivations';
import { RESULTS_FORMAT } from './results';
import { randomBytes } from 'node:crypto';
import { writeFileAtomicSync } from '../util/atomicWrite';
import type { ProbeResults } from './results';
import type { ModelFormat } from '../model/modelFolder';

export const DEFAULT_PROMPT = '{entity}';

export interface RunOptions {
  /** Path or builtin:<name>. */
  readonly dataset: string;
  /** builtin:glove-100d, a Hub-layout folder, a .onnx file, or hf:<repo>[@rev]. */
  readonly model: string;
  readonly prompt?: string;
  /** Which token is read: the entity's last token (default) or the prompt's last token. */
  readonly token?: TokenChoice;
  readonly device?: DeviceRequest;
  /** Prompts per model run; undefined = chosen for the device (src/core/runtime/batchSizing.ts). */
  readonly batchSize?: number;
  /** Upper bound on prompts × padded length of one batch; undefined = chosen for the device. */
  readonly maxBatchTokens?: number;
  /** Which export of a model folder to load: 'auto' (fp32 first), 'fp32', 'fp16', 'q8', … */
  readonly variant?: string;
  /** safetensors checkpoint or ONNX export where the model has both (default auto). */
  readonly format?: ModelFormat;
  /** What a checkpoint computes in (loadModel's precision; default auto). */
  readonly precision?: ModelPrecision;
  /** Residual tensor names to use instead of structural discovery (transformer models). */
  readonly taps?: readonly string[];
  readonly alphas?: readonly number[];
  readonly seed?: number;
  /** Bootstrap resamples for each layer's test intervals (default 1,000; 0: none). */
  readonly bootstrapResamples?: number;
  readonly outDir: string;
  /** Where the per-layer .npy files go (default outDir/activations). */
  readonly activationsDir?: string;
  /** Activation cache folder (default: the user cache); `false` disables the cache. */
  readonly cacheDir?: string | false;
  /** Cache size cap in bytes (LRU eviction). */
  readonly cacheMaxBytes?: number;
  readonly skipInvalid?: boolean;
  /** Plausible years of a time dataset (default: the parser's DEFAULT_YEAR_RANGE). */
  readonly yearRange?: readonly [number, number];
  /** Write every layer's predictions (for the map's layer slider). */
  readonly layerPredictions?: boolean;
  /** Reuse an already loaded model (the extension keeps one warm between runs); not disposed by runProbe. */
  readonly loadedModel?: ResidualModel;
}

export type RunStage = 'dataset' | 'model' | 'tokenize' | 'extract' | 'fit' | 'write';

export interface RunProgress {
  readonly stage: RunStage;
  readonly done?: number;
  readonly total?: number;
  readonly message: string;
  readonly tokensPerSecond?: number;
}

export interface RunHooks {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RunProgress) => void;
  readonly log?: (line: string) => void;
  /** Called just before the outputs are moved into place; throw to keep the previous ones (e.g. the parent died). */
  readonly beforeCommit?: () => void;
}

export interface RunOutcome {
  readonly results: ProbeResults;
  readonly resultsFile: string;
  readonly dataset: Dataset;
  readonly extraction: ExtractionResult;
}

/** Run extraction + probes and write results.json; see the file comment for the layout. */
export async function runProbe(options: RunOptions, hooks: RunHooks = {}): Promise<RunOutcome> {
  const { signal, onProgress, log } = hooks;
  const template = options.prompt ?? DEFAULT_PROMPT;
  const token = options.token ?? DEFAULT_TOKEN_CHOICE;
  renderPrompt(template, 'x'); // validates the template before any work

  onProgress?.({ stage: 'dataset', message: `reading ${options.dataset}` });
  const dataset = loadDataset(options.dataset, { skipInvalid: options.skipInvalid, ...(options.yearRange ? { yearRange: options.yearRange } : {}) });
  for (const problem of dataset.problems) log?.(`${problem.file}:${problem.line}: ${problem.severity}: ${problem.message}`);
  signal?.throwIfAborted();

  onProgress?.({ stage: 'model', message: `loading ${options.model}` });
  const model = options.loadedModel ?? await loadModel(options.model, { device: options.device, signal, ...(options.format ? { format: options.format } : {}), ...(options.precision ? { precision: options.precision } : {}), ...(options.variant ? { variant: options.variant } : {}), ...(options.taps ? { taps: options.taps } : {}) });
  try {
    log?.(`model ${model.id}: ${model.architecture}, ${model.numLayers} layers × ${model.hiddenSize} on ${model.device.used}` +
      (model.device.fallbacks.length > 0 ? ` (${model.device.fallbacks.join('; ')})` : ''));
    for (const warning of model.loadWarnings ?? []) log?.(`warning: ${warning}`);
    const outDir = path.resolve(options.outDir);
    const activationsDir = path.resolve(options.activationsDir ?? path.join(outDir, 'activations'));
    const outputs = prepareRunOutputs(outDir, activationsDir, Boolean(options.layerPredictions));

    let cacheNote = 'cache off';
    const namespace = options.cacheDir === false ? undefined : await openCacheNamespace({ dir: options.cacheDir, maxBytes: options.cacheMaxBytes, log }, {
      fingerprint: model.fingerprint, template, token, numLayers: model.numLayers, hiddenSize: model.hiddenSize, modelId: model.id,
    }, log);
    try {
      onProgress?.({ stage: 'tokenize', message: `tokenizing ${dataset.entities.length} entities` });
      const prompts = dataset.entities.map((entity) => ({ ...renderEntityPrompt(template, entity.name), row: entity.line }));
      // Everything is built in staging folders and moved into place only when the whole run has succeeded.
      const extraction = await extractActivations(model, prompts, {
        outDir: outputs.stagedActivations,
        model: options.model,
        prompt: template,
        token,
        dataset: options.dataset,
        batchSize: options.batchSize,
        maxBatchTokens: options.maxBatchTokens,
        signal,
        cache: namespace,
        onProgress: (progress) => onProgress?.({
          stage: 'extract', done: progress.done, total: progress.total, tokensPerSecond: progress.tokensPerSecond,
          message: `extracting ${progress.done}/${progress.total} entities` +
            (progress.tokensPerSecond > 0 ? ` (${Math.round(progress.tokensPerSecond).toLocaleString('en-US')} tokens/s)` : ''),
        }),
      });
      if (namespace) cacheNote = `${extraction.cacheHits} from cache, ${extraction.manifest.numEntities - extraction.cacheHits} through the model`;
      log?.(`extracted ${extraction.manifest.numEntities} entities (${cacheNote}); ${extraction.skipped.length} skipped; batches: ${extraction.batching.reason}`);
      for (const skipped of extraction.skipped.slice(0, 10)) log?.(`skipped line ${skipped.row}: ${JSON.stringify(skipped.text)}: ${skipped.reason}`);
      if (extraction.skipped.length > 10) log?.(`… and ${extraction.skipped.length - 10} more skipped (all listed in results.json "skipped")`);

      const stagedPredictions = outputs.stagedLayerPredictions;
      const results = await probeActivations(outputs.stagedActivations, dataset, {
        alphas: options.alphas,
        seed: options.seed,
        ...(options.bootstrapResamples !== undefined ? { bootstrap: { resamples: options.bootstrapResamples } } : {}),
        signal,
        onProgress: (progress) => onProgress?.(progress),
        provenance: {
          model: options.model,
          dataset: options.dataset,
          prompt: template,
          device: model.device,
          modelDetails: {
            architecture: model.architecture, format: model.format, weightsDtype: model.weightsDtype, computeDtype: model.computeDtype,
            numLayers: model.numLayers, hiddenSize: model.hiddenSize,
          },
          skipped: extraction.skipped.map((skipped) => ({ row: skipped.row, name: skipped.text, reason: skipped.reason })),
        },
      }, stagedPredictions ? (layer, predictions) => writeLayerPredictions(stagedPredictions, layer, predictions) : undefined);

      signal?.throwIfAborted(); // cancelled during the last layer's fit: write nothing
      hooks.beforeCommit?.();
      onProgress?.({ stage: 'write', message: 'writing results.json' });
      const resultsFile = outputs.commit(results);
      return { results, resultsFile, dataset, extraction: { ...extraction, outDir: activationsDir } };
    } catch (error) {
      outputs.discard();
      throw error;
    } finally {
      await namespace?.close?.();
    }
  } finally {
    if (!options.loadedModel) await model.dispose();
  }
}

/** layer_predictions/layer_###.json: {"layer": i, "predicted": [row-major, rows in results.predictions order]}. */
function writeLayerPredictions(dir: string, layer: number, predictions: Float64Array): void {
  const rounded = Array.from(predictions, (value) => Math.round(value * 1e4) / 1e4);
  writeFileAtomicSync(path.join(dir, `layer_${String(layer).padStart(3, '0')}.json`), JSON.stringify({ layer, predicted: rounded }));
}

interface RunOutputs {
  readonly stagedActivations: string;
  readonly stagedLayerPredictions?: string;
  /** Move everything into place (old results.json first out of the way, then folders, then results.json). */
  commit(results: ProbeResults): string;
  /** Remove the staging folders (a failed or cancelled run: the previous outputs stay as they were). */
  discard(): void;
}

/** Refuse early when an output in the way is not ours; clean partials of killed runs; choose staging names. */
function prepareRunOutputs(outDir: string, activationsDir: string, layerPredictions: boolean): RunOutputs {
  const refuse = (what: string, why: string): never => {
    throw new ExtractionError(`${what} is in the way and is not ours: ${why}; refusing to replace it.`, ['Nothing was changed. Choose another --out (or --activations), or remove it yourself.']);
  };
  const resultsFile = path.join(outDir, RESULTS_FILE);
  const predictionsDir = path.join(outDir, LAYER_PREDICTIONS_DIR);
  const activationsExisted = fs.existsSync(activationsDir);
  if (activationsExisted) {
    if (!fs.lstatSync(activationsDir).isDirectory()) refuse(activationsDir, 'it is not a folder');
    const why = notOurActivationFolder(activationsDir);
    if (why !== undefined) refuse(activationsDir, why);
  }
  if (fs.existsSync(resultsFile)) {
    if (!isOurResultsFile(resultsFile)) refuse(resultsFile, `it is not a Spacetime Probe results file (format ${RESULTS_FORMAT})`);
  }
  const predictionsExisted = layerPredictions && fs.existsSync(predictionsDir);
  if (predictionsExisted) {
    const why = notOurLayerPredictions(predictionsDir);
    if (why !== undefined) refuse(predictionsDir, why);
  }
  removeStalePartials(activationsDir);
  removeStalePartials(predictionsDir);
  fs.mkdirSync(path.dirname(activationsDir), { recursive: true });
  const random = randomBytes(4).toString('hex');
  const stagedActivations = partialName(activationsDir, random);
  const stagedLayerPredictions = layerPredictions ? partialName(predictionsDir, random) : undefined;
  if (stagedLayerPredictions) fs.mkdirSync(stagedLayerPredictions, { recursive: true });
  const untrack = [stagedActivations, stagedLayerPredictions].filter((dir): dir is string => dir !== undefined).map(trackPartial);
  const discard = (): void => {
    for (const dir of [stagedActivations, stagedLayerPredictions]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
    for (const done of untrack) done();
  };
  return {
    stagedActivations,
    stagedLayerPredictions,
    discard,
    commit(results) {
      if (!activationsExisted && fs.existsSync(activationsDir)) throw new ExtractionError(new FolderRaceError(activationsDir).message);
      // No results.json while the folders are swapped: a crash in between leaves no results claiming old data.
      fs.rmSync(resultsFile, { force: true });
      try {
        replaceFolder(stagedActivations, activationsDir, activationsExisted);
        if (stagedLayerPredictions) replaceFolder(stagedLayerPredictions, predictionsDir, predictionsExisted);
      } catch (error) {
        if (error instanceof FolderRaceError) throw new ExtractionError(error.message);
        throw error;
      }
      for (const done of untrack) done();
      return writeProbeResults(outDir, results);
    },
  };
}

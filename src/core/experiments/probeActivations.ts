/**
 * @file Probe every layer of an activation folder against a dataset and assemble results.json.
 *
 * Layers are read and fitted one at a time, so memory holds one layer (nEntities × hiddenSize float32) plus the
 * probe's working set, whatever the number of layers. The split is computed once and shared by all layers:
 * the dataset's `is_test` column when every row has one, else a seeded random 20% split over the probed rows.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../util/atomicWrite';
import type { Dataset, Entity } from '../datasets/types';
import { manifestToken, promptsIdentity, readActivationLayerValues, readActivationManifest, type ActivationManifest } from '../activations/manifest';
import { HalfMatrix } from '../probes/halfMatrix';
import { fitLayerProbe, DEFAULT_ALPHAS, type LayerProbeResult } from '../probes/probe';
import { RidgeInputError } from '../probes/ridge';
import { sharedBackgroundProximity } from '../probes/backgroundProximity';
import { sharedRidgePool, type RidgeFitPool } from '../probes/ridgePool';
import { splitTrainTest, DEFAULT_SPLIT_SEED, DEFAULT_TEST_FRACTION, type TrainTestSplit } from '../probes/split';
import { absoluteYears, greatCircleKm, proximityErrorPerEntity, type DistanceMeasure } from '../probes/metrics';
import {
  bootstrapTestIntervals, DEFAULT_BOOTSTRAP_LEVEL, DEFAULT_BOOTSTRAP_RESAMPLES, DEFAULT_BOOTSTRAP_SEED, MIN_RELIABLE_TEST_SIZE,
  type BootstrapOptions,
} from '../probes/bootstrap';
import { chooseGroupColumns, scoreGroups, MAX_GROUP_VALUES, MIN_GROUP_TEST_ENTITIES } from '../probes/groups';
import { RESULTS_FORMAT, type GroupBreakdown, type LayerResult, type Prediction, type ProbeResults } from './results';

export const RESULTS_FILE = 'results.json';
/** Per-layer predictions for every probed row (the map's layer slider), one small JSON file per layer. */
export const LAYER_PREDICTIONS_DIR = 'layer_predictions';

export interface ProbeProgress {
  readonly stage: 'fit';
  /** Layers fitted so far. */
  readonly done: number;
  readonly total: number;
  readonly message: string;
}

export interface ProbeActivationsOptions {
  readonly alphas?: readonly number[];
  /** Seed of the random split (used only when the dataset has no is_test column). */
  readonly seed?: number;
  /** Write layer_predictions/layer_###.json next to results.json (predictions of every layer, not only the best). */
  readonly layerPredictions?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ProbeProgress) => void;
  /** Go on when the dataset does not match the manifest (the mismatch is recorded in results.json "forced"). */
  readonly force?: boolean;
  /**
   * Bootstrap intervals over test entities for each layer's test R² and proximity error (default: 1,000
   * resamples, seed 0, 95%); `false` or 0 resamples: none.
   */
  readonly bootstrap?: BootstrapOptions | false;
  /** Where large fits run side by side (default: the process-wide sharedRidgePool()). */
  readonly ridgePool?: RidgeFitPool;
  /**
   * Stop the fit and proximity workers as soon as every layer is fitted, for a process that probes once and exits:
   * each worker's teardown (~20 ms, one after another when the process exits) then overlaps the scoring and writing
   * that remain. They start again if used again. Default false: an editor's re-runs keep them warm.
   */
  readonly releaseWorkers?: boolean;
  /** Provenance copied into results.json. */
  readonly provenance?: Pick<ProbeResults, 'model' | 'dataset' | 'prompt' | 'device' | 'modelDetails' | 'skipped'>;
}

/** The dataset and the activation folder do not describe the same rows. */
export class ActivationMismatchError extends Error {
  override readonly name = 'ActivationMismatchError';
}

/** Entities of `dataset` in the order of the activation rows (manifest.rows are dataset line numbers). */
export function alignEntities(dataset: Dataset, manifest: ActivationManifest, activationsDir: string): Entity[] {
  const byLine = new Map(dataset.entities.map((entity) => [entity.line, entity]));
  const missing: number[] = [];
  const aligned: Entity[] = [];
  for (const line of manifest.rows) {
    const entity = byLine.get(line);
    if (entity === undefined) missing.push(line);
    else aligned.push(entity);
  }
  if (missing.length > 0) {
    throw new ActivationMismatchError(`${activationsDir} holds activations for dataset lines that are not valid rows of ${dataset.source} ` +
      `(first: ${missing.slice(0, 5).join(', ')}); the dataset changed since extraction — extract again.`);
  }
  return aligned;
}

/**
 * Why `dataset` is not the dataset the activations were extracted from, or undefined when it is: every manifest
 * row must be a valid row of the dataset with the same prompt text (promptsSha256, when the manifest has it), and
 * every valid dataset row must be in the manifest (or among its skipped rows). Targets may differ (they are not
 * part of the activations).
 */
export function datasetMismatch(dataset: Dataset, manifest: ActivationManifest, activationsDir: string): string | undefined {
  const byLine = new Map(dataset.entities.map((entity) => [entity.line, entity]));
  const missing = manifest.rows.filter((line) => !byLine.has(line));
  if (missing.length > 0) {
    return `${activationsDir} holds activations for dataset lines that are not valid rows of ${dataset.source} ` +
      `(${missing.length} of ${manifest.rows.length}; first: ${missing.slice(0, 5).join(', ')}): the dataset changed since extraction, or is another one.`;
  }
  const listed = new Set([...manifest.rows, ...(manifest.skipped ?? []).map((skipped) => skipped.row)]);
  const extra = dataset.entities.filter((entity) => !listed.has(entity.line));
  if (extra.length > 0) {
    return `${dataset.source} has ${extra.length} valid row(s) that ${activationsDir} has no activations for (first: line ${extra[0].line}): ` +
      'the dataset changed since extraction, or is another one.';
  }
  if (manifest.promptsSha256 !== undefined) {
    const pieces = manifest.prompt.split('{entity}');
    const prompts = manifest.rows.map((line) => ({ row: line, text: pieces.join(byLine.get(line)!.name) }));
    if (promptsIdentity(prompts) !== manifest.promptsSha256) {
      return `the entity names of ${dataset.source} are not those ${activationsDir} was extracted from (same rows, different names): ` +
        'the dataset changed since extraction, or is another one of the same length.';
    }
  }
  return undefined;
}

/** The train/test split over aligned entities: is_test when every row has it, else seeded random 20%. */
export function splitFor(entities: readonly Entity[], seed = DEFAULT_SPLIT_SEED): TrainTestSplit {
  const flags = entities.map((entity) => entity.isTest);
  const complete = flags.every((flag) => flag !== undefined);
  // is_test all true or all false cannot split: fall back to the seeded random split (results.json says "random").
  if (complete && flags.includes(true) && flags.includes(false)) return splitTrainTest(entities.length, flags as boolean[]);
  return splitTrainTest(entities.length, undefined, seed);
}

/** Row-major [entities × targets] float64 targets. */
export function targetMatrix(entities: readonly Entity[], nTargets: number): Float64Array {
  const targets = new Float64Array(entities.length * nTargets);
  entities.forEach((entity, row) => {
    const target = entity.target; // a getter that builds the row's array: read it once
    for (let column = 0; column < nTargets; column += 1) targets[row * nTargets + column] = target[column];
  });
  return targets;
}

/** { targetName: value } in target order. */
export function byTarget(names: readonly string[], values: readonly number[]): Record<string, number> {
  return Object.fromEntries(names.map((name, index) => [name, values[index]]));
}

/** Non-finite activations are named by layer file, row, dataset line and entity (the ridge would only say x[i, j]). */
function checkFinite(x: Float32Array | HalfMatrix, manifest: ActivationManifest, layer: number, activationsDir: string, entities: readonly Entity[]): void {
  // A plain float32 layer is scanned in one tight loop (v − v is 0 for every finite v, NaN for ±∞ and NaN).
  let first = 0;
  if (x instanceof HalfMatrix) first = x.firstNonFinite();
  else while (first < x.length && x[first] - x[first] === 0) first++;
  for (let index = first; index >= 0 && index < x.length; index++) {
    const value = x instanceof HalfMatrix ? x.table[x.bits[index]] : x[index];
    if (Number.isFinite(value)) continue;
    const row = Math.floor(index / manifest.hiddenSize);
    throw new ActivationMismatchError(`${path.join(activationsDir, manifest.layers[layer].file)}: row ${row} (dataset line ${manifest.rows[row]}, ` +
      `${JSON.stringify(entities[row]?.name ?? '?')}) has ${value} at feature ${index % manifest.hiddenSize}: the model produced non-finite ` +
      'activations (an fp16 export overflowing? try --variant fp32 or --device cpu), or the file is damaged; extract again.');
  }
}

/** Layers up to this size (as stored: 2 bytes a value for float16/bfloat16, else 4) are fitted two at a time. */
const PIPELINED_LAYER_BYTES = 256 * 1024 * 1024;
/**
 * Up to this size, two at a time when the fits go to the ridge-fit workers (side by side pays only there): two
 * 20,000 × 4,096 float32 layers' fits ran 36.5 s side by side against 44.7 s one at a time, at a peak RSS of 2.3
 * GB against 1.5 GB (whole process, 2026-12-02, BENCHMARKS.md); interleaved on one thread they took 46.5 s. A
 * 40,000 × 8,192 float16 layer (655 MB, ~2.7 GB to fit) still goes alone.
 */
const POOLED_LAYER_BYTES = 512 * 1024 * 1024;

/** Up to this size a layer starts the next one's fit before its own predictions (see probeActivations). */
const EARLY_START_LAYER_BYTES = 64 * 1024 * 1024;

/** A layer's size as stored: 2 bytes a value for float16/bfloat16, else 4. */
function storedLayerBytes(rows: number, manifest: ActivationManifest): number {
  return rows * manifest.hiddenSize * (manifest.dtype === 'float16' || manifest.dtype === 'bfloat16' ? 2 : 4);
}

/**
 * Start the ridge-fit workers for a probe of `activationsDir` now, when its fits will go to them, so that their
 * start (~0.1 s: thread, bundle, onnxruntime) overlaps with reading the dataset rather than delaying
 * the first fit. The training rows are estimated from the default split; an unreadable folder is left for
 * probeActivations to report. `count`: start only that many of the pool's workers (a later call starts the rest).
 */
export function prestartProbeWorkers(activationsDir: string, ridgePool: RidgeFitPool = sharedRidgePool(), count?: number): void {
  let manifest: ActivationManifest;
  try {
    manifest = readActivationManifest(activationsDir);
  } catch {
    return;
  }
  if (manifest.layers.length > 1 && storedLayerBytes(manifest.numEntities, manifest) <= POOLED_LAYER_BYTES) {
    ridgePool.prestart(Math.round(manifest.numEntities * (1 - DEFAULT_TEST_FRACTION)), manifest.hiddenSize, count);
  }
}

/**
 * Fit a probe per layer of `activationsDir` and return results.json's content (predictions at the best layer =
 * the layer with the highest mean test R²). Writes nothing unless `outDir` is given to writeProbeResults.
 */
export async function probeActivations(activationsDir: string, dataset: Dataset, options: ProbeActivationsOptions = {},
  layerPredictionsSink?: (layer: number, predictions: Float64Array) => void): Promise<ProbeResults> {
  const manifest = readActivationManifest(activationsDir);
  const forced: string[] = [];
  const mismatch = datasetMismatch(dataset, manifest, activationsDir);
  if (mismatch !== undefined) {
    if (!options.force) throw new ActivationMismatchError(`${mismatch} Extract again, or pass --force to probe anyway (recorded in results.json).`);
    forced.push(mismatch);
  }
  const entities = alignEntities(dataset, manifest, activationsDir);
  if (entities.length < 5) {
    throw new ActivationMismatchError(`only ${entities.length} usable entities; a probe needs at least 5 (a few per split).`);
  }
  const nTargets = dataset.targets.length;
  const split = splitFor(entities, options.seed);
  const targets = targetMatrix(entities, nTargets);
  const alphas = options.alphas ?? DEFAULT_ALPHAS;
  const distance = dataset.kind === 'space' ? greatCircleKm : absoluteYears;
  const bootstrap = options.bootstrap === false || options.bootstrap?.resamples === 0 ? undefined : {
    resamples: options.bootstrap?.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES,
    seed: options.bootstrap?.seed ?? DEFAULT_BOOTSTRAP_SEED,
    level: options.bootstrap?.level ?? DEFAULT_BOOTSTRAP_LEVEL,
  };
  const warnings: string[] = [];
  if (split.test.length < MIN_RELIABLE_TEST_SIZE) {
    warnings.push(`The test split has only ${split.test.length} entities (fewer than ${MIN_RELIABLE_TEST_SIZE}): test R² and proximity error are unreliable` +
      (bootstrap ? '; see their bootstrap intervals.' : '.'));
  }

  // The metadata breakdown (R² per type, borough …) is chosen once from the test split and scored at every layer.
  const keptMetadata = metadataFilter();
  const metadataByRow = entities.map((entity) => keptMetadata(entity.metadata));
  const groupChoice = chooseGroupColumns(metadataByRow.map((metadata) => metadata ?? {}), split.test);
  const groupBreakdown: GroupBreakdown | undefined = groupChoice.columns.length === 0 && Object.keys(groupChoice.leftOut).length === 0 ? undefined : {
    minTestEntities: MIN_GROUP_TEST_ENTITIES,
    maxValues: MAX_GROUP_VALUES,
    columns: Object.fromEntries(groupChoice.columns.map((column) => [column.column, {
      values: column.groups.map((group) => group.value),
      smallGroups: column.smallGroups, smallGroupEntities: column.smallGroupEntities, missing: column.missing,
    }])),
    ...(Object.keys(groupChoice.leftOut).length > 0 ? { leftOut: groupChoice.leftOut } : {}),
  };

  const layers: LayerResult[] = [];
  let best: { layer: number; testR2: number; predictions: Float64Array<ArrayBufferLike> } = { layer: -1, testR2: -Infinity, predictions: new Float64Array(0) };
  const total = manifest.layers.length;
  // Small layers are fitted two at a time: each on a worker thread of its own when the fit is big enough to pay
  // (ridgePool.ts), and while one layer's proximity error is scored on a worker thread (backgroundProximity.ts),
  // the next is fitted. Large layers go one at a time so that memory stays at one layer's worth.
  const layerBytes = storedLayerBytes(entities.length, manifest);
  const ridgePool = options.ridgePool ?? sharedRidgePool();
  const pooled = total > 1 && layerBytes <= POOLED_LAYER_BYTES && ridgePool.worthIt(split.train.length, manifest.hiddenSize);
  if (pooled) ridgePool.prestart(split.train.length, manifest.hiddenSize);
  // Small layers on the workers: two per worker, so that a worker that finishes a fit starts its next at once,
  // from its own queue (ridgeWorker.ts), rather than waiting for this thread to finish scoring the last layer and
  // to read and send the next (one worker idled 0.1–0.2 s per 10,000 × 768 × 4-layer run that way).
  const inFlight = pooled && layerBytes <= EARLY_START_LAYER_BYTES ? 2 * ridgePool.size : pooled || layerBytes <= PIPELINED_LAYER_BYTES ? 2 : 1;
  const background = sharedBackgroundProximity();
  const started: Promise<LayerProbeResult>[] = [];
  // Each layer that is done starts the next one at once, whatever the order: a worker that is free need not wait for
  // an earlier layer (with two workers, one idled ~0.4 s per layer while the main thread was still scoring the layer
  // before). Small layers start the next one as soon as their ridge fit is back, before their own predictions and
  // scores — one layer more than are in flight is then in memory for a moment (five on two workers), which only
  // small ones may be. Results are still taken in layer order below. After a failure or a cancel nothing new starts.
  const earlyStart = layerBytes <= EARLY_START_LAYER_BYTES;
  let stopped = false;
  const startNext = (): void => {
    const position = started.length;
    if (stopped || position >= total) return;
    const entry = manifest.layers[position];
    let next = false;
    const startOnce = (): void => {
      if (next) return;
      next = true;
      startNext();
    };
    const fit = (async () => {
      options.signal?.throwIfAborted();
      options.onProgress?.({ stage: 'fit', done: layers.length, total, message: `fitting layer ${entry.index} (${position + 1}/${total})` });
      // float16/bfloat16 folders stay 16-bit in memory; the probe widens row chunks as it goes.
      // On the fit workers, float32 layers are shared with them: each worker copies its training rows itself.
      const x = readActivationLayerValues(activationsDir, manifest, entry.index, { shared: pooled });
      // Non-finite activations are found without a pass of their own (checkFinite runs only to name the value): the
      // fit refuses a non-finite training row, and a non-finite value anywhere in a row makes that row's predictions
      // non-finite (NaN or ±∞ times any coefficient, 0 included, is not finite) — n·t numbers to look at, not n·d.
      const refuse = (): void => checkFinite(x, manifest, entry.index, activationsDir, entities);
      let probe: LayerProbeResult;
      try {
        probe = await fitLayerProbe({
          targetNames: dataset.targets,
          x, nSamples: entities.length, nFeatures: manifest.hiddenSize, targets, nTargets,
          trainIdx: split.train, testIdx: split.test, alphas, distance, backgroundProximity: background,
          ...(pooled ? { ridgePool, signal: options.signal } : {}),
          ...(earlyStart ? { onFitted: startOnce } : {}),
        });
      } catch (error) {
        if (error instanceof RidgeInputError) refuse();
        throw error;
      }
      if (!probe.predictions.every(Number.isFinite)) refuse();
      return probe;
    })();
    started.push(fit);
    // Awaited below in order; the handlers only chain the next start and keep an early failure from being "unhandled".
    fit.then(startOnce, () => { stopped = true; });
  };
  for (let count = 0; count < inFlight; count++) startNext();
  for (const [position, entry] of manifest.layers.entries()) {
    let fit: LayerProbeResult;
    try {
      fit = await started[position];
      options.signal?.throwIfAborted(); // a cancel that arrived while this layer was fitted
      // The last layer is back, so every fit and proximity score is: nothing more will use the workers.
      if (options.releaseWorkers && position === total - 1) void Promise.all([ridgePool.dispose(), background.dispose()]);
    } catch (error) {
      stopped = true;
      throw error;
    }
    layers.push({
      index: entry.index,
      alpha: fit.alpha,
      trainR2: fit.train.r2,
      testR2: fit.test.r2,
      testR2PerTarget: byTarget(dataset.targets, fit.test.r2PerTarget),
      trainR2PerTarget: byTarget(dataset.targets, fit.train.r2PerTarget),
      pearson: byTarget(dataset.targets, fit.test.pearson),
      spearman: byTarget(dataset.targets, fit.test.spearman),
      proximityError: fit.test.proximityError ?? Number.NaN,
      ...(bootstrap ? layerIntervals(fit.predictions, targets, nTargets, split.test, distance, dataset.targets, bootstrap, fit.testProximityPerEntity) : {}),
      ...(groupChoice.columns.length > 0 ? { groups: scoreGroups(groupChoice.columns, targets, fit.predictions, dataset.targets, distance) } : {}),
    });
    layerPredictionsSink?.(entry.index, fit.predictions);
    // Strictly greater: on ties the earlier layer stays best.
    if (fit.test.r2 > best.testR2 || best.layer === -1) best = { layer: entry.index, testR2: fit.test.r2, predictions: fit.predictions };
  }
  options.onProgress?.({ stage: 'fit', done: total, total, message: 'probes fitted' });

  const isTestRow = new Uint8Array(entities.length);
  for (const row of split.test) isTestRow[row] = 1;
  // Plain loops over the target and prediction matrices: a view and an iterator per row, and the spread copies,
  // were a tenth of a 28,000-row re-run's fit-to-results time (bench/editorLoop).
  const bestPredictions = best.predictions;
  const predictions: Prediction[] = entities.map((entity, row) => {
    const truth: number[] = [];
    const predicted: number[] = [];
    for (let c = row * nTargets, end = c + nTargets; c < end; c++) {
      truth.push(targets[c]);
      predicted.push(bestPredictions[c]);
    }
    const metadata = metadataByRow[row];
    return {
      row: entity.line, name: entity.name, split: isTestRow[row] === 1 ? 'test' : 'train', true: truth, predicted,
      ...(metadata ? { metadata } : {}),
    };
  });
  return {
    format: RESULTS_FORMAT,
    kind: dataset.kind,
    targets: [...dataset.targets],
    split: { method: split.method, train: split.train.length, test: split.test.length, ...(split.method === 'random' ? { seed: split.seed } : {}) },
    alphas: [...alphas],
    layers,
    bestLayer: best.layer,
    predictions,
    ...(bootstrap ? { bootstrap } : {}),
    ...(groupBreakdown ? { groupBreakdown } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
    token: manifestToken(manifest),
    ...options.provenance,
    ...(forced.length > 0 ? { forced } : {}),
    createdAt: new Date().toISOString(),
  };
}

/** Columns that say where a row comes from, not what it is: left out of the predictions' metadata. */
const PROVENANCE_COLUMNS = new Set(['source', 'source_id']);

/**
 * An entity's non-empty metadata (for breakdowns by type, country, block … in the views and CSV), or undefined when
 * none is left; whether a column is provenance is decided once per column name.
 */
function metadataFilter(): (metadata: Readonly<Record<string, string>>) => Record<string, string> | undefined {
  const provenance = new Map<string, boolean>();
  return (metadata) => {
    let kept: Record<string, string> | undefined;
    for (const key in metadata) {
      const value = metadata[key];
      if (value === '') continue;
      let skip = provenance.get(key);
      if (skip === undefined) provenance.set(key, skip = PROVENANCE_COLUMNS.has(key.toLowerCase()));
      if (!skip) (kept ??= {})[key] = value;
    }
    return kept;
  };
}

/** A layer's bootstrap intervals over the test entities (probes/bootstrap.ts), in LayerResult's fields. */
function layerIntervals(predictions: Float64Array, targets: Float64Array, nTargets: number, test: Int32Array, distance: DistanceMeasure,
  names: readonly string[], options: Required<BootstrapOptions>, proximityPerEntity?: Float64Array): Pick<LayerResult, 'testR2Interval' | 'testR2PerTargetInterval' | 'proximityErrorInterval'> {
  const n = test.length;
  if (n < 2) return {};
  const truth = new Float64Array(n * nTargets);
  const predicted = new Float64Array(n * nTargets);
  test.forEach((row, k) => {
    for (let c = 0; c < nTargets; c++) {
      truth[k * nTargets + c] = targets[row * nTargets + c];
      predicted[k * nTargets + c] = predictions[row * nTargets + c];
    }
  });
  // The fit's own per-entity errors (scored on the proximity worker) when it has them for these entities.
  const perEntity = proximityPerEntity?.length === n ? proximityPerEntity : proximityErrorPerEntity(truth, predicted, distance);
  const intervals = bootstrapTestIntervals(truth, predicted, nTargets, perEntity, options);
  return {
    testR2Interval: intervals.r2,
    testR2PerTargetInterval: Object.fromEntries(names.map((name, c) => [name, intervals.r2PerTarget[c]])),
    ...(intervals.proximityError ? { proximityErrorInterval: intervals.proximityError } : {}),
  };
}

/** results.json's text for `results`, as writeProbeResults writes it. */
export function probeResultsText(results: ProbeResults): string {
  return `${JSON.stringify(results, null, 1)}\n`;
}

/** Write results.json into outDir (atomically); `text` is probeResultsText(results), when the caller made it already. */
export function writeProbeResults(outDir: string, results: ProbeResults, text = probeResultsText(results)): string {
  const file = path.join(outDir, RESULTS_FILE);
  writeFileAtomicSync(file, text);
  return file;
}

/** What a results.json written by writeProbeResults begins with, up to the format's value. */
const RESULTS_HEAD = `{\n "format": ${JSON.stringify(RESULTS_FORMAT)},`;

/**
 * Whether `file` (which exists) is a Spacetime Probe results file, so that a run may replace it. A file that begins
 * as writeProbeResults writes one is taken as ours from its first bytes (parsing all of it took 20–30 ms of every
 * re-run's start at 10,000 entities); any other file is parsed whole and must carry RESULTS_FORMAT.
 */
export function isOurResultsFile(file: string): boolean {
  let head = '';
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const bytes = Buffer.alloc(RESULTS_HEAD.length);
      head = bytes.subarray(0, fs.readSync(fd, bytes, 0, bytes.length, 0)).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
  if (head === RESULTS_HEAD) return true;
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { format?: unknown } | null)?.format === RESULTS_FORMAT;
  } catch {
    return false;
  }
}

/** Read and check a results.json. */
export function readProbeResults(file: string): ProbeResults {
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as ProbeResults;
  if (parsed.format !== RESULTS_FORMAT) throw new Error(`${file}: not a Spacetime Probe results file (format ${JSON.stringify(parsed.format)}, expected ${RESULTS_FORMAT})`);
  return parsed;
}

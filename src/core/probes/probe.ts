/**
 * @file One layer's probe, as the run orchestration calls it: standardise the targets with the training split's
 * mean and standard deviation (ddof 0, like NumPy/StandardScaler), fit `fitRidgeCV` on the training rows, map the
 * coefficients back to the targets' own units, predict every row, and score train and test.
 */
import { fitRidgeCV, predict, RidgeInputError, type RidgeCVOptions, type RidgeMode } from './ridge';
import { averageRanks, meanProximityError, pearson, proximityError, proximityErrorPerEntity, r2PerTarget, spearmanWithRanks, type DistanceMeasure } from './metrics';
import type { LayerResult } from '../experiments/results';
import type { BackgroundProximity } from './backgroundProximity';
import type { RidgeFitPool } from './ridgePool';
import { HalfMatrix, type LayerValues } from './halfMatrix';

/** The paper's grid: 12 values log-spaced from 10^0.8 to 10^4.1 (np.logspace(0.8, 4.1, 12)). */
export const DEFAULT_ALPHAS: readonly number[] = Object.freeze(Array.from({ length: 12 }, (_, i) => (i === 11 ? 10 ** 4.1 : 10 ** (0.8 + i * (3.3 / 11)))));

export interface LayerProbeInput {
  /** Target names (e.g. ["year"]) for messages; column numbers otherwise. */
  readonly targetNames?: readonly string[];
  /** nSamples × nFeatures activations, row-major (float16/bfloat16 as a HalfMatrix of their bits). */
  readonly x: LayerValues;
  readonly nSamples: number;
  readonly nFeatures: number;
  /** nSamples × nTargets targets in their own units ([lat, lon] degrees or [year]). */
  readonly targets: Float64Array;
  readonly nTargets: number;
  readonly trainIdx: Int32Array;
  readonly testIdx: Int32Array;
  readonly alphas?: readonly number[];
  /** Distance for the proximity error: greatCircleKm for [lat, lon], absoluteYears for [year]. */
  readonly distance: DistanceMeasure;
  /** Also compute the O(nTrain²) proximity error on the training split (off by default: slow for big splits). */
  readonly trainProximity?: boolean;
  readonly ridge?: Omit<RidgeCVOptions, 'alphas'>;
  /** Score the test split's proximity error on this worker thread (same function, same number) instead of inline. */
  readonly backgroundProximity?: BackgroundProximity;
  /** Fit the ridge probe on one of these worker threads when it is large enough to pay (same doubles as inline). */
  readonly ridgePool?: RidgeFitPool;
  /** Stops a fit running on a worker at its next matrix product (an inline fit stops between layers, as before). */
  readonly signal?: AbortSignal;
  /** Called once the ridge fit is back, before the predictions and scores (a caller may start the next layer's fit). */
  readonly onFitted?: () => void;
}

export interface SplitMetrics {
  readonly r2PerTarget: readonly number[];
  /** Mean of r2PerTarget. */
  readonly r2: number;
  readonly pearson: readonly number[];
  readonly spearman: readonly number[];
  /** Present for the test split always, for the training split when requested. */
  readonly proximityError?: number;
}

export interface LayerProbeResult {
  readonly alpha: number;
  readonly alphaIndex: number;
  readonly looMse: Float64Array;
  readonly mode: RidgeMode;
  /** nFeatures × nTargets, in target units per activation unit. */
  readonly coef: Float64Array;
  readonly intercept: Float64Array;
  readonly targetMean: Float64Array;
  readonly targetStd: Float64Array;
  /** nSamples × nTargets predictions for every row, in target units. */
  readonly predictions: Float64Array;
  readonly train: SplitMetrics;
  readonly test: SplitMetrics;
  /** Each test entity's proximity error, in testIdx order (test.proximityError is their mean; the bootstrap resamples them). */
  readonly testProximityPerEntity: Float64Array;
}

function gatherRows<T extends LayerValues>(source: T, cols: number, rows: Int32Array): T {
  if (source instanceof HalfMatrix) return source.gatherRows(cols, rows) as T;
  const values = source as Float32Array | Float64Array;
  const out = new (values.constructor as new (length: number) => Float32Array | Float64Array)(rows.length * cols);
  for (let r = 0; r < rows.length; r++) out.set(values.subarray(rows[r] * cols, (rows[r] + 1) * cols), r * cols);
  return out as T;
}

function checkIndices(name: string, indices: Int32Array, n: number): void {
  if (indices.length === 0) throw new RidgeInputError(`fitLayerProbe: ${name} split is empty`);
  for (const index of indices) if (index < 0 || index >= n) throw new RidgeInputError(`fitLayerProbe: ${name} index ${index} outside 0…${n - 1}`);
}

/**
 * The true targets' average ranks per column, remembered for the last truth matrix seen per split: a run probes
 * every layer against the same truth, and ranking it again cost as much as ranking the predictions (~10 ms per
 * column at 30,000 rows). A hit needs equal values, not just the same array, so reused buffers cannot go stale.
 */
const truthRanksCache = new Map<'train' | 'test', { truth: Float64Array; columns: number; ranks: Float64Array[] }>();

function truthRanks(split: 'train' | 'test', truth: Float64Array, rows: number, columns: number): Float64Array[] {
  const cached = truthRanksCache.get(split);
  if (cached !== undefined && cached.columns === columns && cached.truth.length === truth.length && cached.truth.every((value, index) => Object.is(value, truth[index]))) {
    return cached.ranks;
  }
  const ranks = Array.from({ length: columns }, (_, column) => averageRanks(truth, rows, columns, column));
  truthRanksCache.set(split, { truth: Float64Array.from(truth), columns, ranks });
  return ranks;
}

/**
 * R² and Pearson at once, the proximity error as computed by the caller (if any); Spearman on first read. Results
 * files report Spearman for the test split only, and ranking the ~4× larger training split of every layer was a
 * tenth of a re-run's probe time (docs/probes.md), so the training split's ranks are only computed for callers
 * that read them.
 */
function splitMetrics(split: 'train' | 'test', truth: Float64Array, predicted: Float64Array, rows: number, columns: number,
  proximity: number | undefined): SplitMetrics {
  const { perTarget, mean } = r2PerTarget(truth, predicted, rows, columns);
  const columnsList = Array.from({ length: columns }, (_, column) => column);
  let spearmanValues: readonly number[] | undefined;
  const spearman = (): readonly number[] => {
    if (spearmanValues === undefined) {
      const ranks = truthRanks(split, truth, rows, columns);
      spearmanValues = Object.freeze(columnsList.map((column) => spearmanWithRanks(ranks[column], predicted, rows, columns, column)));
    }
    return spearmanValues;
  };
  if (split === 'test') spearman();
  const metrics = {
    r2PerTarget: perTarget,
    r2: mean,
    pearson: columnsList.map((column) => pearson(truth, predicted, rows, columns, column)),
    ...(proximity === undefined ? {} : { proximityError: proximity }),
  };
  Object.defineProperty(metrics, 'spearman', { get: spearman, enumerable: true });
  return Object.freeze(metrics as typeof metrics & { readonly spearman: readonly number[] });
}

/** Fit and score one layer's probe (see the file comment). */
export async function fitLayerProbe(input: LayerProbeInput): Promise<LayerProbeResult> {
  const { x, nSamples: n, nFeatures: d, targets, nTargets: t, trainIdx, testIdx } = input;
  if (targets.length !== n * t) throw new RidgeInputError(`fitLayerProbe: targets has ${targets.length} values, expected ${n} × ${t}`);
  if (input.distance.dimensions !== t) throw new RidgeInputError(`fitLayerProbe: ${input.distance.name} needs ${input.distance.dimensions} target columns, got ${t}`);
  checkIndices('train', trainIdx, n);
  checkIndices('test', testIdx, n);
  const trainTargets = gatherRows(targets, t, trainIdx);
  const targetMean = new Float64Array(t);
  const targetStd = new Float64Array(t);
  for (let c = 0; c < t; c++) {
    let mean = 0;
    for (let r = 0; r < trainIdx.length; r++) mean += trainTargets[r * t + c];
    mean /= trainIdx.length;
    let variance = 0;
    for (let r = 0; r < trainIdx.length; r++) variance += (trainTargets[r * t + c] - mean) ** 2;
    const std = Math.sqrt(variance / trainIdx.length);
    if (!(std > 0)) {
      const name = input.targetNames?.[c];
      throw new RidgeInputError(`${name !== undefined ? `the target "${name}"` : `target column ${c}`} is constant on the training split (${trainTargets[c]} in every row); nothing to probe`);
    }
    targetMean[c] = mean;
    targetStd[c] = std;
  }
  const standardised = new Float64Array(trainTargets.length);
  for (let r = 0; r < trainIdx.length; r++) for (let c = 0; c < t; c++) standardised[r * t + c] = (trainTargets[r * t + c] - targetMean[c]) / targetStd[c];

  const trainingRows = () => ({ x: gatherRows(x, d, trainIdx), y: standardised, nSamples: trainIdx.length, nFeatures: d, nTargets: t });
  const ridgeOptions = { ...input.ridge, alphas: input.alphas ?? DEFAULT_ALPHAS };
  // A layer in shared memory goes to a fit worker as it is, with the training rows' indices (ridgePool.ts).
  const shared = x instanceof Float32Array && x.buffer instanceof SharedArrayBuffer ? { x, rows: trainIdx, y: standardised, nFeatures: d, nTargets: t } : undefined;
  const fit = input.ridgePool !== undefined ? await input.ridgePool.fit(trainingRows, ridgeOptions, input.signal, shared) : await fitRidgeCV(trainingRows(), ridgeOptions);
  input.onFitted?.();
  const coef = new Float64Array(d * t);
  for (let f = 0; f < d; f++) for (let c = 0; c < t; c++) coef[f * t + c] = fit.coef[f * t + c] * targetStd[c];
  const intercept = Float64Array.from(fit.intercept, (value, c) => value * targetStd[c] + targetMean[c]);
  const model = { coef, intercept, nFeatures: d, nTargets: t };
  const predictions = predict(model, x, n);

  const testTruth = gatherRows(targets, t, testIdx);
  const testPredicted = gatherRows(predictions, t, testIdx);
  const trainPredicted = gatherRows(predictions, t, trainIdx);
  // Started first so that a worker scores it while this thread does the rest.
  const testProximity = input.backgroundProximity?.perEntity(testTruth, testPredicted, input.distance) ?? proximityErrorPerEntity(testTruth, testPredicted, input.distance);
  const trainProximity = input.trainProximity ? proximityError(trainTargets, trainPredicted, input.distance) : undefined;
  const train = splitMetrics('train', trainTargets, trainPredicted, trainIdx.length, t, trainProximity);
  const testProximityPerEntity = await testProximity;
  const test = splitMetrics('test', testTruth, testPredicted, testIdx.length, t, meanProximityError(testProximityPerEntity));
  return Object.freeze({
    alpha: fit.alpha,
    alphaIndex: fit.alphaIndex,
    looMse: fit.looMse,
    mode: fit.mode,
    coef,
    intercept,
    targetMean,
    targetStd,
    predictions,
    train,
    test,
    testProximityPerEntity,
  });
}

/** The results.json entry (format spacetime-probe-results/1) for one layer's probe; `targetNames` e.g. ['latitude', 'longitude']. */
export function toLayerResult(index: number, probe: LayerProbeResult, targetNames: readonly string[]): LayerResult {
  const byName = (values: readonly number[]): Record<string, number> => Object.fromEntries(targetNames.map((name, c) => [name, values[c]]));
  if (targetNames.length !== probe.test.r2PerTarget.length) throw new Error(`toLayerResult: ${targetNames.length} names for ${probe.test.r2PerTarget.length} targets`);
  return {
    index,
    alpha: probe.alpha,
    trainR2: probe.train.r2,
    testR2: probe.test.r2,
    testR2PerTarget: byName(probe.test.r2PerTarget),
    pearson: byName(probe.test.pearson),
    spearman: byName(probe.test.spearman),
    proximityError: probe.test.proximityError ?? NaN,
    trainR2PerTarget: byName(probe.train.r2PerTarget),
  };
}

/**
 * @file Bootstrap confidence intervals over test entities, per layer: the test split's entities are resampled with
 * replacement (`resamples` times, seeded), and each resample's test R² (per target and their mean, with r2's
 * scikit-learn semantics) and mean per-entity proximity error are collected; the interval is the percentile
 * interval (linear interpolation between order statistics, NumPy's default) at `level` (default 95%).
 *
 * The proximity error is resampled as the mean of the per-entity errors computed on the whole test split (each
 * entity's rank among all test predictions), not recomputed on the resample: a resample repeats entities, and
 * repeated predictions would be scored as ties against each other.
 *
 * Every resample draws its n indices as floor(random() · n) from one mulberry32(seed) stream, in order, resample
 * after resample — the same entities for every layer, so intervals of different layers are comparable.
 */
import { mulberry32Indices } from './split';

export const DEFAULT_BOOTSTRAP_RESAMPLES = 1000;
export const DEFAULT_BOOTSTRAP_SEED = 0;
export const DEFAULT_BOOTSTRAP_LEVEL = 0.95;
/** Below this many test entities a run carries a warning: test metrics (and their intervals) are unreliable. */
export const MIN_RELIABLE_TEST_SIZE = 30;

export interface BootstrapOptions {
  readonly resamples?: number;
  readonly seed?: number;
  readonly level?: number;
}

export type Interval = readonly [low: number, high: number];

export interface BootstrapIntervals {
  /** Mean over targets of R². */
  readonly r2: Interval;
  readonly r2PerTarget: readonly Interval[];
  readonly proximityError?: Interval;
}

/** The `q` quantile (0…1) of ascending `sorted`, interpolating linearly (numpy.percentile's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const position = q * (n - 1);
  const below = Math.floor(position);
  const above = Math.min(n - 1, below + 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

let lastIndices: { readonly n: number; readonly resamples: number; readonly seed: number; readonly indices: Int32Array } | undefined;

/**
 * bootstrapIndices, remembered for the last (n, resamples, seed): every layer of a run resamples the same test
 * entities with the same seed, so the 2 M random draws (1,000 × 2,000 entities) are made once per run, not per layer.
 * Callers only read the result.
 */
function sharedBootstrapIndices(n: number, resamples: number, seed: number): Int32Array {
  if (lastIndices?.n !== n || lastIndices.resamples !== resamples || lastIndices.seed !== seed) {
    lastIndices = { n, resamples, seed, indices: bootstrapIndices(n, resamples, seed) };
  }
  return lastIndices.indices;
}

let lastTotals: { readonly indices: Int32Array; readonly truth: Float64Array; readonly nTargets: number; readonly totals: Float64Array } | undefined;

/**
 * Each draw's total sum of squares about its own mean (resamples × nTargets), remembered for the last indices and
 * truth values: every layer of a run scores the same test truths on the same draws, so only the residuals depend
 * on the layer. The truth is compared by value (callers pass a fresh copy per layer); the sums are made exactly as
 * scikit-learn's r2_score definition reads: the mean in draw order, then the squared deviations in draw order.
 */
function sharedTotals(truth: ArrayLike<number>, nTargets: number, indices: Int32Array, n: number, resamples: number): Float64Array {
  const cached = lastTotals;
  if (cached?.indices === indices && cached.nTargets === nTargets && cached.truth.length === truth.length
    && cached.truth.every((value, k) => Object.is(value, truth[k]))) return cached.totals;
  const totals = new Float64Array(resamples * nTargets);
  const values = Float64Array.from(truth);
  for (let b = 0; b < resamples; b++) {
    const first = b * n;
    const last = first + n;
    if (nTargets === 2) drawTotalsTwoTargets(values, indices, first, last, n, totals, 2 * b);
    else {
      for (let c = 0; c < nTargets; c++) {
        let average = 0;
        for (let k = first; k < last; k++) average += values[indices[k] * nTargets + c];
        average /= n;
        let total = 0;
        for (let k = first; k < last; k++) {
          const deviation = values[indices[k] * nTargets + c] - average;
          total += deviation * deviation;
        }
        totals[b * nTargets + c] = total;
      }
    }
  }
  lastTotals = { indices, truth: values, nTargets, totals };
  return totals;
}

/**
 * sharedTotals' sums for one draw of latitude/longitude, both targets in each pass over the draw (half the index
 * reads); each target's sums still add in draw order.
 */
function drawTotalsTwoTargets(values: Float64Array, indices: Int32Array, first: number, last: number, n: number, totals: Float64Array, at: number): void {
  let first0 = 0;
  let second0 = 0;
  for (let k = first; k < last; k++) {
    const row = 2 * indices[k];
    first0 += values[row];
    second0 += values[row + 1];
  }
  const firstMean = first0 / n;
  const secondMean = second0 / n;
  let firstTotal = 0;
  let secondTotal = 0;
  for (let k = first; k < last; k++) {
    const row = 2 * indices[k];
    const a = values[row] - firstMean;
    const b = values[row + 1] - secondMean;
    firstTotal += a * a;
    secondTotal += b * b;
  }
  totals[at] = firstTotal;
  totals[at + 1] = secondTotal;
}

/**
 * One draw's sums in draw order: per target the squared errors (into `residuals`), and the proximity errors
 * (returned; 0 without them). Latitude/longitude (two targets) in local variables: the general loop read and wrote
 * `residuals` for every entity of 1,000 draws per layer.
 */
function drawSums(squaredErrors: Float64Array, proximity: Float64Array | undefined, indices: Int32Array, first: number, last: number,
  nTargets: number, residuals: Float64Array): number {
  let proximityTotal = 0;
  if (nTargets === 2) {
    let first0 = 0;
    let second0 = 0;
    for (let k = first; k < last; k++) {
      const row = indices[k];
      first0 += squaredErrors[2 * row];
      second0 += squaredErrors[2 * row + 1];
      if (proximity !== undefined) proximityTotal += proximity[row];
    }
    residuals[0] = first0;
    residuals[1] = second0;
    return proximityTotal;
  }
  residuals.fill(0);
  for (let k = first; k < last; k++) {
    const row = indices[k];
    for (let c = 0; c < nTargets; c++) residuals[c] += squaredErrors[row * nTargets + c];
    if (proximity !== undefined) proximityTotal += proximity[row];
  }
  return proximityTotal;
}

/** The resampled indices: `resamples` rows of n indices in [0, n), row-major (see the file comment). */
export function bootstrapIndices(n: number, resamples: number, seed: number): Int32Array {
  return mulberry32Indices(seed, n, new Int32Array(n * resamples));
}

function interval(values: Float64Array, level: number): Interval {
  const finite = values.filter((value) => Number.isFinite(value)).sort();
  if (finite.length === 0) return [Number.NaN, Number.NaN];
  const tail = (1 - level) / 2;
  return [quantileSorted(finite, tail), quantileSorted(finite, 1 - tail)];
}

/**
 * Percentile intervals of test R² (mean and per target) and of the proximity error, for the test split's
 * truths and predictions (n × k row-major) and, when given, its per-entity proximity errors (n).
 */
export function bootstrapTestIntervals(truth: ArrayLike<number>, predicted: ArrayLike<number>, nTargets: number,
  perEntityProximity: ArrayLike<number> | undefined, options: BootstrapOptions = {}): BootstrapIntervals {
  const resamples = options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
  const level = options.level ?? DEFAULT_BOOTSTRAP_LEVEL;
  const n = truth.length / nTargets;
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`bootstrap resamples must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`bootstrap level must lie in (0, 1), got ${level}`);
  const indices = sharedBootstrapIndices(n, resamples, options.seed ?? DEFAULT_BOOTSTRAP_SEED);
  const totals = sharedTotals(truth, nTargets, indices, n, resamples);
  // Each entity's squared error per target, once, instead of once per draw (the same double error · error).
  const squaredErrors = new Float64Array(n * nTargets);
  for (let k = 0; k < squaredErrors.length; k++) {
    const error = truth[k] - predicted[k];
    squaredErrors[k] = error * error;
  }
  const perTarget = Array.from({ length: nTargets }, () => new Float64Array(resamples));
  const mean = new Float64Array(resamples);
  const proximity = perEntityProximity ? new Float64Array(resamples) : undefined;
  const residuals = new Float64Array(nTargets);
  const proximityPerEntity = perEntityProximity === undefined ? undefined : Float64Array.from(perEntityProximity);
  for (let b = 0; b < resamples; b++) {
    const start = b * n;
    // One pass over the draw for every target and the proximity error; each sum still adds in draw order.
    const proximityTotal = drawSums(squaredErrors, proximityPerEntity, indices, start, start + n, nTargets, residuals);
    let sum = 0;
    for (let c = 0; c < nTargets; c++) {
      const residual = residuals[c];
      const total = totals[b * nTargets + c];
      const r2 = total === 0 ? (residual === 0 ? 1 : 0) : 1 - residual / total;
      perTarget[c][b] = r2;
      sum += r2;
    }
    mean[b] = sum / nTargets;
    if (proximity) proximity[b] = proximityTotal / n;
  }
  return {
    r2: interval(mean, level),
    r2PerTarget: perTarget.map((values) => interval(values, level)),
    ...(proximity ? { proximityError: interval(proximity, level) } : {}),
  };
}

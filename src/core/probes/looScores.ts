/**
 * @file The leave-one-out pass of the primal ridge forms (ridge.ts), in float32 where a float64 check vouches
 * for the choice of alpha, in float64 otherwise.
 *
 * Why float32: the pass is dominated by the n × d × d projection Y = X_c Q and (band form) the block sweeps —
 * products that MLAS runs about twice as fast in float32. Their results feed only the leave-one-out scores; the
 * coefficients are always formed in float64 from the chosen alpha.
 *
 * Why it stays right: after the float32 pass, a sample of PRECISION_CHECK_ROWS rows spread over the data is scored
 * in both precisions. The per-row differences, scaled to n rows and summed without cancellation, estimate the
 * float32 error of each alpha's score. The float32 winner is kept only when its margin over every other alpha
 * exceeds PRECISION_CHECK_SAFETY times the two estimates plus a relative floor; otherwise the whole pass is run again
 * in float64 — so a close call is always decided in float64, exactly as the float64 path (and scikit-learn) decide it.
 */
import type { LayerValues } from './halfMatrix';
import type { ProductDtype } from './products';
import type { ScratchBuffers } from '../util/scratch';

/** Rows of the two-precision check of a float32 pass. */
export const PRECISION_CHECK_ROWS = 512;
/** The winner's margin must exceed this many times the estimated float32 error of the two scores. */
export const PRECISION_CHECK_SAFETY = 10;
/** …and this fraction of the winner's score, whatever the estimate (guards against a sample that missed outliers). */
export const PRECISION_CHECK_RELATIVE_FLOOR = 1e-5;

/** Seconds spent in the two parts of a pass (and of its check), for onPhase. */
export interface LooTiming {
  projection: number;
  sweeps: number;
  check: number;
}

/**
 * Scores `rows` centred rows (rows × d: float64, or float32 for a float32 pass when LooPassInput.centre32 is given) for every alpha in the given precision: writes their squared
 * leave-one-out errors, summed over targets, to out[a·rows + r]. `ycRows` are the rows' centred targets (rows × t).
 */
export type ChunkScorer = (dtype: ProductDtype, chunk: Float64Array | Float32Array, ycRows: Float64Array, rows: number, out: Float64Array, timing: LooTiming) => Promise<void>;

export interface LooPass {
  /** Σ over rows and targets of the squared leave-one-out errors, per alpha. */
  readonly sums: Float64Array;
  /** The precision the returned sums were computed in. */
  readonly precision: ProductDtype;
  /** Whether a float32 pass was made and then redone in float64 because the check could not vouch for it. */
  readonly recomputed: boolean;
}

export interface LooPassInput {
  readonly x: LayerValues;
  readonly xMeans: Float64Array;
  /** Centred targets of all rows (n × t). */
  readonly yc: Float64Array;
  readonly n: number;
  readonly d: number;
  readonly t: number;
  readonly nAlphas: number;
  readonly chunkRows: number;
  /** Writes rows start…end of x, centred, into out (float64, (end − start) × d). */
  readonly centre: (start: number, end: number, out: Float64Array) => Float64Array;
  /**
   * The same rows centred straight into float32 (each value the float64 difference, rounded once: the float64
   * chunk rounded to float32 would be the same numbers). Optional: a float32 pass without it gets float64 chunks.
   */
  readonly centre32?: (start: number, end: number, out: Float32Array) => Float32Array;
  /** Where the chunk buffer comes from (RidgeCVOptions.scratch); a fresh one when not given. */
  readonly scratch?: ScratchBuffers;
}

/** The scratch buffer (RidgeCVOptions.scratch) a pass's chunk rows are centred into. */
export const LOO_ROWS_SCRATCH = 'leave-one-out rows';

/** One pass over all rows in `dtype`: per-alpha sums of the squared leave-one-out errors. */
async function looPass(input: LooPassInput, scorer: ChunkScorer, dtype: ProductDtype, timing: LooTiming): Promise<Float64Array> {
  const { n, d, t, nAlphas, chunkRows } = input;
  const maxRows = Math.min(n, chunkRows);
  const centre32 = dtype === 'float32' ? input.centre32 : undefined;
  // Each chunk's rows are written before they are scored.
  const chunkBuffer = centre32 !== undefined ? (input.scratch?.get('float32', LOO_ROWS_SCRATCH, maxRows * d) ?? new Float32Array(maxRows * d))
    : (input.scratch?.get('float64', LOO_ROWS_SCRATCH, maxRows * d) ?? new Float64Array(maxRows * d));
  const perRow = new Float64Array(nAlphas * maxRows);
  const sums = new Float64Array(nAlphas);
  for (let start = 0; start < n; start += chunkRows) {
    const end = Math.min(n, start + chunkRows);
    const rows = end - start;
    const chunk = centre32 !== undefined ? centre32(start, end, chunkBuffer as Float32Array) : input.centre(start, end, chunkBuffer as Float64Array);
    const out = perRow.subarray(0, nAlphas * rows);
    await scorer(dtype, chunk, input.yc.subarray(start * t, end * t), rows, out, timing);
    for (let a = 0; a < nAlphas; a++) {
      let sum = 0;
      for (let r = a * rows, last = (a + 1) * rows; r < last; r++) sum += out[r];
      sums[a] += sum;
    }
  }
  return sums;
}

/** Index of the first smallest score (scikit-learn keeps the first alpha of a tie). */
export function pickAlpha(scores: ArrayLike<number>): number {
  let best = 0;
  for (let index = 1; index < scores.length; index++) if (scores[index] < scores[best]) best = index;
  return best;
}

/**
 * Whether the float32 sums certainly pick the same alpha as float64 would: every other alpha's score exceeds the
 * winner's by more than SAFETY × (their estimated float32 errors) + FLOOR × the winner's score.
 */
export function float32ChoiceIsSafe(sums: Float64Array, errorEstimates: Float64Array): boolean {
  const best = pickAlpha(sums);
  const floor = PRECISION_CHECK_RELATIVE_FLOOR * Math.abs(sums[best]);
  for (let a = 0; a < sums.length; a++) {
    if (a === best) continue;
    const margin = sums[a] - sums[best];
    if (!(margin > PRECISION_CHECK_SAFETY * (errorEstimates[a] + errorEstimates[best]) + floor)) return false;
  }
  return true;
}

/**
 * The leave-one-out sums in the requested precision; for float32, checked against float64 on a row sample and
 * redone in float64 when the check cannot vouch for the choice of alpha (see the file comment).
 */
export async function checkedLooSums(input: LooPassInput, scorer: ChunkScorer, precision: ProductDtype, timing: LooTiming): Promise<LooPass> {
  if (precision === 'float64') return { sums: await looPass(input, scorer, 'float64', timing), precision: 'float64', recomputed: false };
  const sums = await looPass(input, scorer, 'float32', timing);
  const started = performance.now();
  const { n, d, t, nAlphas } = input;
  const m = Math.min(n, PRECISION_CHECK_ROWS);
  const sample = new Float64Array(m * d);
  const ycSample = new Float64Array(m * t);
  const row = new Float64Array(d);
  for (let r = 0; r < m; r++) {
    const source = Math.floor((r * n) / m);
    sample.set(input.centre(source, source + 1, row), r * d);
    ycSample.set(input.yc.subarray(source * t, (source + 1) * t), r * t);
  }
  const sampleTiming: LooTiming = { projection: 0, sweeps: 0, check: 0 };
  const single = new Float64Array(nAlphas * m);
  const double = new Float64Array(nAlphas * m);
  await scorer('float32', sample, ycSample, m, single, sampleTiming);
  await scorer('float64', sample, ycSample, m, double, sampleTiming);
  const errorEstimates = new Float64Array(nAlphas);
  for (let a = 0; a < nAlphas; a++) {
    let difference = 0;
    for (let r = a * m; r < (a + 1) * m; r++) difference += Math.abs(single[r] - double[r]);
    errorEstimates[a] = (difference * n) / m;
  }
  timing.check += (performance.now() - started) / 1000;
  if (float32ChoiceIsSafe(sums, errorEstimates)) return { sums, precision: 'float32', recomputed: false };
  return { sums: await looPass(input, scorer, 'float64', timing), precision: 'float64', recomputed: true };
}

/**
 * Squared leave-one-out errors of one chunk, summed over targets, into out[a·rows + r]: with leverage h_r(α) of
 * the centred design (the intercept adds 1/n), the residual is (y_r − ŷ_r(α)) / (1 − 1/n − h_r(α)).
 * `fitted` is rows × (nAlphas·t), alpha-major within a row.
 */
export function looErrorsPerRow(out: Float64Array, leverage: readonly ArrayLike<number>[], fitted: ArrayLike<number>, ycRows: Float64Array,
  rows: number, n: number, t: number): void {
  const nAlphas = leverage.length;
  for (let a = 0; a < nAlphas; a++) {
    const h = leverage[a];
    for (let r = 0; r < rows; r++) {
      const denominator = 1 - 1 / n - h[r];
      let sum = 0;
      for (let c = 0; c < t; c++) {
        const error = (ycRows[r * t + c] - fitted[r * nAlphas * t + a * t + c]) / denominator;
        sum += error * error;
      }
      out[a * rows + r] = sum;
    }
  }
}

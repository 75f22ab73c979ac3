/**
 * @file Probe metrics: R² (scikit-learn `r2_score` semantics), Pearson, Spearman (average ranks for ties, like
 * scipy) and the paper's proximity error, with great-circle distance for places and |Δyear| for time.
 *
 * Matrices are row-major typed arrays, n rows × k columns (k = 2 for [latitude, longitude], 1 for [year]).
 */

/** R² of one column: 1 − SS_res/SS_tot; a constant truth gives 1 if predicted exactly, else 0 (scikit-learn's force_finite). */
export function r2(trueValues: ArrayLike<number>, predicted: ArrayLike<number>, rows = trueValues.length, columns = 1, column = 0): number {
  let mean = 0;
  for (let i = 0; i < rows; i++) mean += trueValues[i * columns + column];
  mean /= rows;
  let residual = 0;
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const value = trueValues[i * columns + column];
    const error = value - predicted[i * columns + column];
    residual += error * error;
    total += (value - mean) * (value - mean);
  }
  if (total === 0) return residual === 0 ? 1 : 0;
  return 1 - residual / total;
}

/** R² per column of an n × k matrix, and their uniform average (scikit-learn's multioutput='uniform_average'). */
export function r2PerTarget(trueValues: ArrayLike<number>, predicted: ArrayLike<number>, rows: number, columns: number): { perTarget: number[]; mean: number } {
  const perTarget = Array.from({ length: columns }, (_, column) => r2(trueValues, predicted, rows, columns, column));
  return { perTarget, mean: perTarget.reduce((sum, value) => sum + value, 0) / columns };
}

/** Pearson correlation of column `column` of two n × k matrices; NaN when either side is constant (as scipy). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>, rows = a.length, columns = 1, column = 0): number {
  let meanA = 0;
  let meanB = 0;
  for (let i = 0; i < rows; i++) {
    meanA += a[i * columns + column];
    meanB += b[i * columns + column];
  }
  meanA /= rows;
  meanB /= rows;
  let cross = 0;
  let sumA = 0;
  let sumB = 0;
  for (let i = 0; i < rows; i++) {
    const da = a[i * columns + column] - meanA;
    const db = b[i * columns + column] - meanB;
    cross += da * db;
    sumA += da * da;
    sumB += db * db;
  }
  if (sumA === 0 || sumB === 0) return NaN;
  return Math.max(-1, Math.min(1, cross / Math.sqrt(sumA * sumB)));
}

/** 1-based ranks with ties given their average rank (scipy.stats.rankdata method='average'). */
export function averageRanks(values: ArrayLike<number>, rows = values.length, columns = 1, column = 0): Float64Array {
  const column0 = new Float64Array(rows);
  let finite = true;
  for (let i = 0; i < rows; i++) {
    const value = values[i * columns + column];
    column0[i] = value;
    if (!Number.isFinite(value)) finite = false;
  }
  return finite ? finiteAverageRanks(column0) : comparedAverageRanks(column0);
}

/**
 * Average ranks of finite values: a native numeric sort of a copy, then each value's tie block [first, end) in
 * the sorted copy by two binary searches; its average rank is (first + 1 + end) / 2. No index array, no
 * comparator calls (those dominated Spearman on 30,000 rows).
 */
function finiteAverageRanks(values: Float64Array): Float64Array {
  const rows = values.length;
  const sorted = Float64Array.from(values).sort();
  const ranks = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const value = values[i];
    const low = searchSorted(sorted, value, false);
    // Ties (rare for predictions): the tie block ends at the first value above `value`.
    const end = low + 1 < rows && sorted[low + 1] === value ? searchSorted(sorted, value, true, low + 1) : low + 1;
    ranks[i] = (low + 1 + end) / 2;
  }
  return ranks;
}

/** In ascending `sorted`, the first index in [from, length) whose value is ≥ `value` (> `value` when strict). */
function searchSorted(sorted: Float64Array, value: number, strict: boolean, from = 0): number {
  let low = from;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (strict ? sorted[middle] <= value : sorted[middle] < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Average ranks by sorting indices with a comparator (kept for non-finite values, whose order it defines). */
function comparedAverageRanks(values: Float64Array): Float64Array {
  const rows = values.length;
  const order = Array.from({ length: rows }, (_, i) => i).sort((i, j) => values[i] - values[j]);
  const ranks = new Float64Array(rows);
  for (let start = 0; start < rows;) {
    let end = start + 1;
    while (end < rows && values[order[end]] === values[order[start]]) end++;
    const rank = (start + 1 + end) / 2; // mean of ranks start+1 … end
    for (let index = start; index < end; index++) ranks[order[index]] = rank;
    start = end;
  }
  return ranks;
}

/** Spearman correlation: Pearson of average ranks. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>, rows = a.length, columns = 1, column = 0): number {
  return pearson(averageRanks(a, rows, columns, column), averageRanks(b, rows, columns, column));
}

/** Spearman correlation when a's average ranks (averageRanks of that column) are already known. */
export function spearmanWithRanks(aRanks: Float64Array, b: ArrayLike<number>, rows = aRanks.length, columns = 1, column = 0): number {
  if (aRanks.length !== rows) throw new Error(`spearmanWithRanks: ${aRanks.length} ranks for ${rows} rows`);
  return pearson(aRanks, averageRanks(b, rows, columns, column));
}

/** A distance between two points stored at offsets of row-major arrays (`dimensions` values per point). */
export interface DistanceMeasure {
  readonly name: 'greatCircleKm' | 'absoluteYears';
  readonly dimensions: number;
  distance(a: ArrayLike<number>, aOffset: number, b: ArrayLike<number>, bOffset: number): number;
}

/** Mean Earth radius (IUGG), km. */
export const EARTH_RADIUS_KM = 6371.0088;
const RADIANS = Math.PI / 180;

/**
 * Great-circle (haversine) distance in km between points given as [latitude, longitude] in degrees — in that
 * order. (The paper's code passes (longitude, latitude) pairs to a haversine that expects (latitude, longitude),
 * which measures something that is not a distance on the sphere; see docs/probes.md.)
 */
export const greatCircleKm: DistanceMeasure = Object.freeze({
  name: 'greatCircleKm' as const,
  dimensions: 2,
  distance(a: ArrayLike<number>, aOffset: number, b: ArrayLike<number>, bOffset: number): number {
    const lat1 = a[aOffset] * RADIANS;
    const lat2 = b[bOffset] * RADIANS;
    const sinLat = Math.sin((lat2 - lat1) / 2);
    const sinLon = Math.sin((b[bOffset + 1] - a[aOffset + 1]) * RADIANS / 2);
    const h = sinLat * sinLat + Math.cos(lat1) * Math.cos(lat2) * sinLon * sinLon;
    return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
  },
});

/** |Δ| between two years (one value per point). */
export const absoluteYears: DistanceMeasure = Object.freeze({
  name: 'absoluteYears' as const,
  dimensions: 1,
  distance(a: ArrayLike<number>, aOffset: number, b: ArrayLike<number>, bOffset: number): number {
    return Math.abs(a[aOffset] - b[bOffset]);
  },
});

/** cos φ, sin φ, cos λ, sin λ per [latitude φ, longitude λ] point: the terms of its 3-D unit vector. */
function trigTable(points: ArrayLike<number>, n: number): Float64Array {
  const table = new Float64Array(n * 4);
  for (let i = 0; i < n; i++) {
    const lat = points[2 * i] * RADIANS;
    const lon = points[2 * i + 1] * RADIANS;
    table[4 * i] = Math.cos(lat);
    table[4 * i + 1] = Math.sin(lat);
    table[4 * i + 2] = Math.cos(lon);
    table[4 * i + 3] = Math.sin(lon);
  }
  return table;
}

/**
 * Per-entity proximity error (the paper's, with ties counted half): for entity i, over the OTHER entities j,
 *   (#{j: d(t_i, p_j) < d(t_i, p_i)} + ½·#{j: d(t_i, p_j) = d(t_i, p_i)}) / (n − 1).
 * 0 is perfect; 0.5 is chance — and exactly 0.5 when every prediction is the same (a useless layer), which the
 * paper's strict count would score 0, "perfect". The built-in measures take O(n log n)-ish paths (sorted years;
 * a k-d tree over the distinct predicted points on the sphere), also when most predictions coincide; a custom
 * measure takes the plain O(n²) loop.
 */
export function proximityErrorPerEntity(trueValues: ArrayLike<number>, predicted: ArrayLike<number>, measure: DistanceMeasure): Float64Array {
  const k = measure.dimensions;
  if (trueValues.length !== predicted.length || trueValues.length % k !== 0) {
    throw new Error(`proximityError: expected two n × ${k} arrays of equal size, got ${trueValues.length} and ${predicted.length} values`);
  }
  const n = trueValues.length / k;
  const errors = new Float64Array(n);
  if (n < 2) return errors.fill(NaN);
  // Fast paths for the two built-in measures (matched by identity: a custom measure takes the plain loop).
  if (measure === greatCircleKm) return greatCircleProximity(trueValues, predicted, n, errors);
  if (measure === absoluteYears) return absoluteProximity(trueValues, predicted, n, errors);
  for (let i = 0; i < n; i++) {
    const own = measure.distance(trueValues, i * k, predicted, i * k);
    let closer = 0;
    let ties = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const distance = measure.distance(trueValues, i * k, predicted, j * k);
      if (distance < own) closer++;
      else if (distance === own) ties++;
    }
    errors[i] = (closer + 0.5 * ties) / (n - 1);
  }
  return errors;
}

/**
 * The distinct predicted points: `group[i]` is the distinct point of prediction i, `first[g]` one prediction with
 * that point, `weight[g]` how many share it. Equal means equal latitude and longitude (===); sorting makes it
 * O(n log n), and a degenerate layer (every prediction the same) becomes one point of weight n.
 */
function distinctPoints(predicted: ArrayLike<number>, n: number): { group: Int32Array; first: Int32Array; weight: Float64Array; count: number } {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const key = (i: number, c: number): number => predicted[2 * i + c];
  // NaN sorts last and never equals anything, so each NaN prediction stays a point of its own.
  const compare = (a: number, b: number): number => {
    for (let c = 0; c < 2; c++) {
      const x = key(a, c);
      const y = key(b, c);
      if (x < y) return -1;
      if (x > y) return 1;
      if (x !== y) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : -1;
    }
    return a - b;
  };
  order.sort(compare);
  const group = new Int32Array(n);
  const first = new Int32Array(n);
  const weight = new Float64Array(n);
  let count = 0;
  for (let r = 0; r < n; r++) {
    const i = order[r];
    const previous = r > 0 ? order[r - 1] : -1;
    if (previous < 0 || !(key(i, 0) === key(previous, 0) && key(i, 1) === key(previous, 1))) first[count++] = i;
    group[i] = count - 1;
    weight[count - 1]++;
  }
  return { group, first: first.subarray(0, count), weight: weight.subarray(0, count), count };
}

/** Below this gap between two dot products the comparison is redone with the haversine distance (see below). */
const TIE_MARGIN = 1e-12;

/** Below this many entities the pairwise loop beats building and walking the tree (measured: equal at about 350). */
const PAIRWISE_BELOW = 384;

/**
 * Great-circle proximity error. The central angle between unit vectors u and v is monotone in u·v, and the
 * haversine's h equals (1 − u·v)/2, so "j's prediction is closer to i's truth than i's own" is
 * t_i·p_j > t_i·p_i with t and p the 3-D unit vectors of the true and predicted positions: three multiply-adds
 * per pair. When the two dot products are within TIE_MARGIN (equal or mirrored predictions, rounding), the pair
 * is decided by greatCircleKm.distance itself, so ties count exactly as the definition says (strictly closer
 * only): outside the margin the dot products' rounding (~1e-16) cannot change the order, inside it the
 * definition's own comparison decides.
 *
 * Counting, for every i, the predictions in the half-space t_i·p > t_i·p_i is done either pairwise (small n) or
 * with a k-d tree over the predictions' unit vectors (see PredictionTree): whole boxes whose every point is
 * provably on one side are counted or skipped at once, and the points of the boxes the plane cuts are compared
 * one by one with exactly the pairwise comparison — so both ways give identical counts.
 */
function greatCircleProximity(trueValues: ArrayLike<number>, predicted: ArrayLike<number>, n: number, errors: Float64Array,
  method: 'auto' | 'pairwise' | 'tree' = 'auto'): Float64Array {
  const truth = trigTable(trueValues, n);
  // Count over the distinct predicted points, each weighted by how many predictions share it.
  const points = distinctPoints(predicted, n);
  const m = points.count;
  const distinct = new Float64Array(2 * m);
  for (let g = 0; g < m; g++) {
    distinct[2 * g] = predicted[2 * points.first[g]];
    distinct[2 * g + 1] = predicted[2 * points.first[g] + 1];
  }
  const guess = trigTable(distinct, m);
  const px = new Float64Array(m);
  const py = new Float64Array(m);
  const pz = new Float64Array(m);
  for (let g = 0; g < m; g++) {
    px[g] = guess[4 * g] * guess[4 * g + 2];
    py[g] = guess[4 * g] * guess[4 * g + 3];
    pz[g] = guess[4 * g + 1];
  }
  const weight = points.weight;
  let finite = true;
  for (let g = 0; g < m; g++) if (!Number.isFinite(px[g] + py[g] + pz[g])) finite = false;
  // Boxes cannot bound a non-finite prediction (never counted pairwise): such inputs take the pairwise loop.
  const tree = finite && (method === 'tree' || (method === 'auto' && m >= PAIRWISE_BELOW)) ? new PredictionTree(px, py, pz, weight) : undefined;
  // Indices of the near-ties of the current i (grows as needed; usually holds only i itself).
  let ties = new Int32Array(16);
  const counter = { closer: 0, nearTies: 0 };
  for (let i = 0; i < n; i++) {
    const tx = truth[4 * i] * truth[4 * i + 2];
    const ty = truth[4 * i] * truth[4 * i + 3];
    const tz = truth[4 * i + 1];
    const mine = points.group[i];
    const own = tx * px[mine] + ty * py[mine] + tz * pz[mine];
    let closer = 0;
    let nearTies = 0;
    if (tree === undefined) {
      for (let j = 0; j < m; j++) {
        const gap = tx * px[j] + ty * py[j] + tz * pz[j] - own;
        // Branch-free count: with predictions scattered around the truth this comparison is a coin flip, and a
        // mispredicted branch per pair cost more than the arithmetic.
        closer += weight[j] * +(gap > TIE_MARGIN);
        if (Math.abs(gap) <= TIE_MARGIN) {
          if (nearTies === ties.length) ties = grow(ties);
          ties[nearTies++] = j;
        }
      }
    } else {
      counter.closer = 0;
      counter.nearTies = 0;
      ties = tree.countCloser(tx, ty, tz, own, counter, ties);
      closer = counter.closer;
      nearTies = counter.nearTies;
    }
    // The others that share i's prediction are exact ties.
    let tied = weight[mine] - 1;
    if (nearTies > 1 || (nearTies === 1 && ties[0] !== mine)) {
      // Decide the near-ties (other than i's own point) with the definition's own distance, so that exact ties
      // (points placed symmetrically about the truth) count exactly as it counts them.
      const ownDistance = greatCircleKm.distance(trueValues, 2 * i, predicted, 2 * i);
      for (let k = 0; k < nearTies; k++) {
        const g = ties[k];
        if (g === mine) continue;
        const distance = greatCircleKm.distance(trueValues, 2 * i, distinct, 2 * g);
        if (distance < ownDistance) closer += weight[g];
        else if (distance === ownDistance) tied += weight[g];
      }
    }
    errors[i] = (closer + 0.5 * tied) / (n - 1);
  }
  return errors;
}

function grow(array: Int32Array): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(2 * array.length);
  grown.set(array);
  return grown;
}

/** Points per leaf of the prediction tree (measured: 16 a little faster than 4, 8 or 32 at n = 7,917). */
const LEAF_SIZE = 16;
/**
 * Slack on a box's bounds of t·p before a whole box is counted or skipped: far above the rounding of the
 * three-term dot products and of the bounds themselves (a few 1e-16 for unit vectors), so a box is only decided
 * at once when every one of its points' computed gaps is provably beyond ±TIE_MARGIN.
 */
const BOUND_SLACK = 1e-9;

/**
 * A k-d tree over the predictions' unit vectors (median splits on the widest axis, implicit layout: node k has
 * children 2k+1 and 2k+2 and covers a contiguous range of the reordered points), with each node's axis-aligned
 * bounding box. The smallest and largest t·p over a box bound every point in it, which decides whole boxes
 * against the plane t·p = t·p_i; no angles, so the poles and the antimeridian need no special care.
 */
class PredictionTree {
  private readonly x: Float64Array;
  private readonly y: Float64Array;
  private readonly z: Float64Array;
  /** Original index of each reordered point. */
  private readonly index: Int32Array;
  private readonly start: Int32Array;
  private readonly end: Int32Array;
  /** Per node: min x, max x, min y, max y, min z, max z. */
  private readonly box: Float64Array;
  private readonly stack: Int32Array;
  /** Weight of each reordered point, and prefix sums: the weight of points [a, b) is cumulative[b] − cumulative[a]. */
  private readonly weight: Float64Array;
  private readonly cumulative: Float64Array;

  constructor(px: Float64Array, py: Float64Array, pz: Float64Array, weight: Float64Array) {
    const n = px.length;
    let depth = 0;
    while ((n >>> depth) > LEAF_SIZE) depth++;
    const nodes = (1 << (depth + 1)) - 1;
    this.start = new Int32Array(nodes);
    this.end = new Int32Array(nodes);
    this.box = new Float64Array(6 * nodes);
    this.stack = new Int32Array(depth + 2);
    const order = Int32Array.from({ length: n }, (_, i) => i);
    const axes = [px, py, pz];
    const build = (node: number, from: number, to: number, level: number): void => {
      this.start[node] = from;
      this.end[node] = to;
      const b = 6 * node;
      for (let axis = 0; axis < 3; axis++) {
        const values = axes[axis];
        let low = Infinity;
        let high = -Infinity;
        for (let r = from; r < to; r++) {
          const value = values[order[r]];
          if (value < low) low = value;
          if (value > high) high = value;
        }
        this.box[b + 2 * axis] = low;
        this.box[b + 2 * axis + 1] = high;
      }
      if (level === depth) return;
      let widest = 0;
      for (let axis = 1; axis < 3; axis++) {
        if (this.box[b + 2 * axis + 1] - this.box[b + 2 * axis] > this.box[b + 2 * widest + 1] - this.box[b + 2 * widest]) widest = axis;
      }
      const middle = (from + to) >>> 1;
      selectNth(order, axes[widest], from, to - 1, middle);
      build(2 * node + 1, from, middle, level + 1);
      build(2 * node + 2, middle, to, level + 1);
    };
    build(0, 0, n, 0);
    this.x = Float64Array.from(order, (j) => px[j]);
    this.y = Float64Array.from(order, (j) => py[j]);
    this.z = Float64Array.from(order, (j) => pz[j]);
    this.index = order;
    this.weight = Float64Array.from(order, (j) => weight[j]);
    this.cumulative = new Float64Array(n + 1);
    for (let r = 0; r < n; r++) this.cumulative[r + 1] = this.cumulative[r] + this.weight[r];
  }

  /**
   * For the truth t = (tx, ty, tz) and own = t·p_i: counter.closer += Σ weight over {j: t·p_j − own > TIE_MARGIN}, and the
   * original indices of the j with |t·p_j − own| ≤ TIE_MARGIN are written to ties (returned, grown if needed)
   * with their number in counter.nearTies — the same sets the pairwise loop finds.
   */
  countCloser(tx: number, ty: number, tz: number, own: number, counter: { closer: number; nearTies: number }, tiesIn: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
    const { x, y, z, index, start, end, box, stack, weight, cumulative } = this;
    const leaves = start.length >>> 1; // nodes at or beyond this index are leaves
    const above = own + TIE_MARGIN + BOUND_SLACK;
    const below = own - TIE_MARGIN - BOUND_SLACK;
    let ties = tiesIn;
    let closer = counter.closer;
    let nearTies = counter.nearTies;
    let top = 0;
    stack[top++] = 0;
    while (top > 0) {
      const node = stack[--top];
      const b = 6 * node;
      let low = 0;
      let high = 0;
      let lower = tx * box[b];
      let upper = tx * box[b + 1];
      if (lower <= upper) { low += lower; high += upper; } else { low += upper; high += lower; }
      lower = ty * box[b + 2];
      upper = ty * box[b + 3];
      if (lower <= upper) { low += lower; high += upper; } else { low += upper; high += lower; }
      lower = tz * box[b + 4];
      upper = tz * box[b + 5];
      if (lower <= upper) { low += lower; high += upper; } else { low += upper; high += lower; }
      if (low > above) {
        closer += cumulative[end[node]] - cumulative[start[node]];
      } else if (high >= below) {
        if (node < leaves) {
          stack[top++] = 2 * node + 2;
          stack[top++] = 2 * node + 1;
        } else {
          for (let r = start[node]; r < end[node]; r++) {
            const gap = tx * x[r] + ty * y[r] + tz * z[r] - own;
            closer += weight[r] * +(gap > TIE_MARGIN);
            if (Math.abs(gap) <= TIE_MARGIN) {
              if (nearTies === ties.length) ties = grow(ties);
              ties[nearTies++] = index[r];
            }
          }
        }
      }
    }
    counter.closer = closer;
    counter.nearTies = nearTies;
    return ties;
  }
}

/** Reorder order[from…to] (inclusive) so that order[nth] holds the nth smallest key, smaller keys before it, larger after (Hoare quickselect). */
function selectNth(order: Int32Array, keys: Float64Array, fromIn: number, toIn: number, nth: number): void {
  let from = fromIn;
  let to = toIn;
  while (to > from) {
    const pivot = keys[order[(from + to) >>> 1]];
    let left = from;
    let right = to;
    while (left <= right) {
      while (keys[order[left]] < pivot) left++;
      while (keys[order[right]] > pivot) right--;
      if (left <= right) {
        const swap = order[left];
        order[left] = order[right];
        order[right] = swap;
        left++;
        right--;
      }
    }
    if (nth <= right) to = right;
    else if (nth >= left) from = left;
    else return;
  }
}

/**
 * |Δyear| proximity error in O(n log n): with the predictions sorted, the j whose prediction is strictly closer to
 * t_i than p_i are those with p_j in the open interval (t_i − e_i, t_i + e_i), e_i = |t_i − p_i|, and those as
 * close are the rest of the closed interval; each is found by binary searches. i itself lies on the boundary
 * (it is counted in the closed interval and taken out). Every boundary is stepped until the definition's own
 * comparison of |t_i − p| with e_i holds, so rounding of t_i ± e_i changes nothing; runs of equal predictions
 * are stepped over whole by the binary searches (a degenerate layer stays O(n log n)).
 */
function absoluteProximity(trueValues: ArrayLike<number>, predicted: ArrayLike<number>, n: number, errors: Float64Array): Float64Array {
  const sorted = Float64Array.from(predicted).sort();
  /** First index in [from, to) where inside(sorted[index]) turns false, for a predicate true on a prefix. */
  const boundary = (from: number, to: number, inside: (value: number) => boolean): number => {
    let low = from;
    let high = to;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (inside(sorted[middle])) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  for (let i = 0; i < n; i++) {
    const truth = trueValues[i];
    const own = Math.abs(truth - predicted[i]);
    // |truth − p| is non-increasing then non-decreasing along the sorted predictions; split at truth.
    const split = searchSorted(sorted, truth, false);
    // Left of truth (p < truth): |truth − p| decreases with the index; right (p ≥ truth): increases.
    const leftFarther = (value: number): boolean => Math.abs(truth - value) > own;
    const leftStrict = (value: number): boolean => !(Math.abs(truth - value) < own);
    const rightStrict = (value: number): boolean => Math.abs(truth - value) < own;
    const rightClosed = (value: number): boolean => Math.abs(truth - value) <= own;
    const closedLow = boundary(0, split, leftFarther);
    const strictLow = boundary(closedLow, split, leftStrict);
    const strictHigh = boundary(split, n, rightStrict);
    const closedHigh = boundary(strictHigh, n, rightClosed);
    const closer = split - strictLow + strictHigh - split;
    const tied = (strictLow - closedLow) + (closedHigh - strictHigh) - 1; // less i itself
    errors[i] = (closer + 0.5 * tied) / (n - 1);
  }
  return errors;
}

/**
 * The great-circle proximity error per entity, counted pairwise or with the prediction tree (proximityErrorPerEntity
 * picks by size; both give identical results — this entry point lets tests and benchmarks compare them).
 */
export function greatCircleProximityPerEntity(trueValues: ArrayLike<number>, predicted: ArrayLike<number>, method: 'pairwise' | 'tree'): Float64Array {
  if (trueValues.length !== predicted.length || trueValues.length % 2 !== 0) {
    throw new Error(`proximityError: expected two n × 2 arrays of equal size, got ${trueValues.length} and ${predicted.length} values`);
  }
  const n = trueValues.length / 2;
  const errors = new Float64Array(n);
  if (n < 2) return errors.fill(NaN);
  return greatCircleProximity(trueValues, predicted, n, errors, method);
}

/** Mean proximity error over entities (see proximityErrorPerEntity). */
export function proximityError(trueValues: ArrayLike<number>, predicted: ArrayLike<number>, measure: DistanceMeasure): number {
  return meanProximityError(proximityErrorPerEntity(trueValues, predicted, measure));
}

/** The mean of proximityErrorPerEntity's errors, in entity order (proximityError is exactly this). */
export function meanProximityError(errors: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < errors.length; i++) sum += errors[i];
  return sum / errors.length;
}

import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  absoluteYears, averageRanks, greatCircleKm, greatCircleProximityPerEntity, pearson, proximityError, proximityErrorPerEntity, r2,
  r2PerTarget, spearman, type DistanceMeasure,
} from '../../../src/core/probes/metrics';
import { mulberry32 } from '../../../src/core/probes/split';

// Reference values from SciPy 1.10.1 / scikit-learn 1.2.1 (Debian), regenerated with:
//   /usr/bin/python3 -c "from scipy import stats; a=[1,2,2,3,5,5,5,8]; b=[2,1,4,4,3,9,9,7];
//     print(stats.spearmanr(a,b).correlation, stats.pearsonr(a,b)[0], stats.rankdata(a).tolist())"
//   r2_score([[1,10],[2,20],[3,35],[4,38]], [[1.5,12],[1.8,18],[3.3,30],[4.4,41]], multioutput='raw_values')
//   haversine with R = 6371.0088 km on (lat, lon) in radians, np.arcsin(np.sqrt(h)).
const A = [1, 2, 2, 3, 5, 5, 5, 8];
const B = [2, 1, 4, 4, 3, 9, 9, 7];

test('Pearson and Spearman (average ranks for ties) match SciPy', () => {
  assert.deepEqual([...averageRanks(A)], [1, 2.5, 2.5, 4, 6, 6, 6, 8]);
  assert.ok(Math.abs(spearman(A, B) - 0.6895607149652165) < 1e-15);
  assert.ok(Math.abs(pearson(A, B) - 0.6821523692713983) < 1e-15);
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
});

test('R² per target and averaged match scikit-learn r2_score', () => {
  const truth = [1, 10, 2, 20, 3, 35, 4, 38];
  const predicted = [1.5, 12, 1.8, 18, 3.3, 30, 4.4, 41];
  const { perTarget, mean } = r2PerTarget(truth, predicted, 4, 2);
  assert.ok(Math.abs(perTarget[0] - 0.892) < 1e-14);
  assert.ok(Math.abs(perTarget[1] - 0.918722786647315) < 1e-14);
  assert.ok(Math.abs(mean - 0.9053613933236575) < 1e-14);
  // scikit-learn's force_finite: constant truth scores 1 when matched exactly, else 0.
  assert.equal(r2([2, 2, 2], [2, 2, 2]), 1);
  assert.equal(r2([2, 2, 2], [2, 2, 3]), 0);
});

test('great-circle distance takes [latitude, longitude] and matches an independent haversine', () => {
  const km = (a: number[], b: number[]): number => greatCircleKm.distance(a, 0, b, 0);
  assert.ok(Math.abs(km([48.8566, 2.3522], [51.5074, -0.1278]) - 343.55653488088313) < 1e-9); // Paris–London
  assert.ok(Math.abs(km([40.7128, -74.006], [-33.8688, 151.2093]) - 15988.777591649343) < 1e-8); // New York–Sydney
  assert.ok(Math.abs(km([0, 179.5], [0, -179.5]) - 111.19508023353322) < 1e-9); // across the antimeridian
  // Swapping the order (what the paper's code does) gives a different, wrong number.
  assert.ok(Math.abs(km([2.3522, 48.8566], [-0.1278, 51.5074]) - 343.55653488088313) > 10);
});

test('proximity error: hand-worked example with years', () => {
  // i=0: own |0−1| = 1, others' predictions 30 and 19 are farther → 0.
  // i=1: own |10−30| = 20, predictions 1 and 19 are 9 away → 2/2.
  // i=2: own |20−19| = 1 → 0.
  assert.deepEqual([...proximityErrorPerEntity([0, 10, 20], [1, 30, 19], absoluteYears)], [0, 1, 0]);
  assert.ok(Math.abs(proximityError([0, 10, 20], [1, 30, 19], absoluteYears) - 1 / 3) < 1e-15);
});

test('proximity error: the fast great-circle path equals the plain O(n²) definition', () => {
  const random = mulberry32(42);
  const n = 300;
  const truth = new Float64Array(2 * n);
  const predicted = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    truth[2 * i] = 170 * random() - 85;
    truth[2 * i + 1] = 360 * random() - 180;
    predicted[2 * i] = Math.max(-89, Math.min(89, truth[2 * i] + 40 * (random() - 0.5)));
    predicted[2 * i + 1] = truth[2 * i + 1] + 80 * (random() - 0.5);
  }
  const plain: DistanceMeasure = { name: 'absoluteYears', dimensions: 2, distance: greatCircleKm.distance };
  const expected = proximityErrorPerEntity(truth, predicted, plain);
  const fast = proximityErrorPerEntity(truth, predicted, greatCircleKm);
  assert.deepEqual([...fast], [...expected]);
  const mean = proximityError(truth, predicted, greatCircleKm);
  assert.ok(mean > 0 && mean < 0.5, `mean ${mean}`);
  // Perfect predictions give zero.
  assert.equal(proximityError(truth, truth, greatCircleKm), 0);
});

test('proximity error rejects mismatched shapes', () => {
  assert.throws(() => proximityError([1, 2, 3], [1, 2], absoluteYears), /equal size/);
  assert.throws(() => proximityError([1, 2, 3], [1, 2, 3], greatCircleKm), /n × 2/);
});

test('proximity error: the sorted |Δyear| path equals the plain O(n²) definition, ties included', () => {
  const random = mulberry32(11);
  const n = 500;
  // Integer years and predictions rounded to halves: many exact ties and boundary cases.
  const truth = Float64Array.from({ length: n }, () => 1800 + Math.floor(random() * 200));
  const predicted = Float64Array.from({ length: n }, (_, i) => Math.round(2 * (truth[i] + 60 * (random() - 0.5))) / 2);
  predicted[3] = predicted[4] = predicted[5] = truth[3]; // a perfect prediction shared by others
  const plain: DistanceMeasure = { name: 'absoluteYears', dimensions: 1, distance: absoluteYears.distance };
  assert.deepEqual([...proximityErrorPerEntity(truth, predicted, absoluteYears)], [...proximityErrorPerEntity(truth, predicted, plain)]);
  // Fractional years as well.
  const fractional = Float64Array.from(predicted, (value) => value + 0.1 * random());
  assert.deepEqual([...proximityErrorPerEntity(truth, fractional, absoluteYears)], [...proximityErrorPerEntity(truth, fractional, plain)]);
});

test('proximity error: great-circle ties (shared predictions) count as the definition says', () => {
  // Several entities share one predicted point, and some truths sit exactly on it: only strictly closer counts.
  const truth = [10, 20, 10, 20, -30, 100, 45, -120, 0, 0, 10, 20];
  const predicted = [10, 20, 10, 20, 10, 20, 10, 20, 5, 5, 12, 21];
  const plain: DistanceMeasure = { name: 'absoluteYears', dimensions: 2, distance: greatCircleKm.distance };
  assert.deepEqual([...proximityErrorPerEntity(truth, predicted, greatCircleKm)], [...proximityErrorPerEntity(truth, predicted, plain)]);
});

/** Random [lat, lon] cases of the kinds that could trip the tree: clusters, duplicates, poles, antimeridian, huge errors. */
function sphereCase(random: () => number, n: number, kind: number): { truth: Float64Array; predicted: Float64Array } {
  const truth = new Float64Array(2 * n);
  const predicted = new Float64Array(2 * n);
  const clamp = (lat: number): number => Math.max(-90, Math.min(90, lat));
  const centres = Array.from({ length: 1 + Math.floor(random() * 4) }, () => [180 * random() - 90, 360 * random() - 180]);
  const palette = Array.from({ length: 1 + Math.floor(random() * 6) }, () => [180 * random() - 90, 360 * random() - 180]);
  const spread = [0.001, 0.5, 10, 60][Math.floor(random() * 4)];
  for (let i = 0; i < n; i++) {
    let lat = 180 * random() - 90;
    let lon = 360 * random() - 180;
    let pLat = clamp(lat + spread * (random() - 0.5));
    let pLon = lon + 2 * spread * (random() - 0.5);
    switch (kind) {
      case 0: break; // scattered around the truth
      case 1: { // clustered truths and predictions
        const centre = centres[Math.floor(random() * centres.length)];
        lat = clamp(centre[0] + spread * (random() - 0.5));
        lon = centre[1] + spread * (random() - 0.5);
        pLat = clamp(centre[0] + spread * (random() - 0.5));
        pLon = centre[1] + spread * (random() - 0.5);
        break;
      }
      case 2: { // exact duplicates among predictions, some truths on them
        const pick = palette[Math.floor(random() * palette.length)];
        [pLat, pLon] = pick;
        if (random() < 0.3) [lat, lon] = palette[Math.floor(random() * palette.length)];
        break;
      }
      case 3: // poles: latitudes at or next to ±90 with any longitude
        lat = random() < 0.5 ? 90 * Math.sign(random() - 0.5) : clamp(90 * Math.sign(random() - 0.5) - 0.01 * random());
        pLat = random() < 0.5 ? 90 * Math.sign(random() - 0.5) : clamp(lat + spread * (random() - 0.5));
        pLon = random() < 0.3 ? lon : 360 * random() - 180;
        break;
      case 4: // the antimeridian, with both ±180 and longitudes beyond it
        lon = [180, -180, 179.9999, -179.9999, 180 + random(), -180 - random()][Math.floor(random() * 6)];
        pLon = [180, -180, lon + spread * (random() - 0.5)][Math.floor(random() * 3)];
        break;
      case 5: // huge errors: predictions near the antipode (caps larger than a hemisphere)
        pLat = clamp(-lat + spread * (random() - 0.5) * 0.1);
        pLon = lon + 180 + spread * (random() - 0.5) * 0.1;
        break;
      default: // integer grid: many exactly equal distances
        lat = Math.round(lat / 10) * 10;
        lon = Math.round(lon / 10) * 10;
        pLat = Math.round(pLat / 10) * 10;
        pLon = Math.round(pLon / 10) * 10;
    }
    truth[2 * i] = lat;
    truth[2 * i + 1] = lon;
    predicted[2 * i] = pLat;
    predicted[2 * i + 1] = pLon;
  }
  return { truth, predicted };
}

test('proximity error: the great-circle tree equals the pairwise loop and the plain definition on 3,500 random cases', () => {
  const random = mulberry32(2024);
  const plain: DistanceMeasure = { name: 'absoluteYears', dimensions: 2, distance: greatCircleKm.distance };
  let cases = 0;
  for (let repeat = 0; repeat < 500; repeat++) {
    for (let kind = 0; kind < 7; kind++) {
      const n = 2 + Math.floor(random() * (random() < 0.2 ? 150 : 40));
      const { truth, predicted } = sphereCase(random, n, kind);
      const tree = [...greatCircleProximityPerEntity(truth, predicted, 'tree')];
      const context = `case ${cases} (kind ${kind}, n ${n})`;
      assert.deepEqual(tree, [...greatCircleProximityPerEntity(truth, predicted, 'pairwise')], context);
      assert.deepEqual(tree, [...proximityErrorPerEntity(truth, predicted, plain)], context);
      cases++;
    }
  }
  assert.equal(cases, 3500);
});

test('proximity error: the great-circle tree equals the pairwise loop on large cases (deep trees)', () => {
  const random = mulberry32(77);
  for (let kind = 0; kind < 7; kind++) {
    const n = 1500 + Math.floor(random() * 1500);
    const { truth, predicted } = sphereCase(random, n, kind);
    const tree = greatCircleProximityPerEntity(truth, predicted, 'tree');
    assert.deepEqual([...tree], [...greatCircleProximityPerEntity(truth, predicted, 'pairwise')], `kind ${kind}, n ${n}`);
    // The default path (tree at this size) is the same function.
    assert.deepEqual([...proximityErrorPerEntity(truth, predicted, greatCircleKm)], [...tree]);
  }
  // Non-finite predictions take the pairwise loop (a box cannot bound them).
  const { truth, predicted } = sphereCase(random, 600, 0);
  predicted[10] = Number.NaN;
  assert.deepEqual([...greatCircleProximityPerEntity(truth, predicted, 'tree')], [...greatCircleProximityPerEntity(truth, predicted, 'pairwise')]);
});

test('proximity error: predictions mirrored about the truth are exact ties (not closer), in the tree as in the definition', () => {
  // Entity 0: truth (40, −140), prediction (40, −180). Forty others predict (40, −100): exactly as far from
  // entity 0's truth, though the unit vectors' dot products differ in the last bits. Whole boxes of them must
  // still go through the definition's tie-break, never be counted at once.
  const random = mulberry32(5);
  const n = 400;
  const truth = new Float64Array(2 * n);
  const predicted = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    truth[2 * i] = 140 * random() - 70;
    truth[2 * i + 1] = 360 * random() - 180;
    [predicted[2 * i], predicted[2 * i + 1]] = i < 41 ? [40, -100] : [truth[2 * i] + 10 * random(), truth[2 * i + 1] + 10 * random()];
  }
  [truth[0], truth[1], predicted[0], predicted[1]] = [40, -140, 40, -180];
  const plain: DistanceMeasure = { name: 'absoluteYears', dimensions: 2, distance: greatCircleKm.distance };
  const expected = proximityErrorPerEntity(truth, predicted, plain);
  assert.deepEqual([...greatCircleProximityPerEntity(truth, predicted, 'tree')], [...expected]);
  assert.deepEqual([...greatCircleProximityPerEntity(truth, predicted, 'pairwise')], [...expected]);
});

test('average ranks equal the counting definition (#smaller + (#equal + 1) / 2) with many ties, −0 and strided columns', () => {
  const random = mulberry32(99);
  for (let repeat = 0; repeat < 200; repeat++) {
    const rows = 1 + Math.floor(random() * 120);
    const levels = 1 + Math.floor(random() * 20);
    const values = Float64Array.from({ length: 2 * rows }, () => (random() < 0.1 ? -0 : Math.floor(random() * levels) - levels / 2 + (random() < 0.5 ? 0 : random())));
    for (const column of [0, 1]) {
      const expected = Array.from({ length: rows }, (_, i) => {
        let smaller = 0;
        let equal = 0;
        for (let j = 0; j < rows; j++) {
          if (values[2 * j + column] < values[2 * i + column]) smaller++;
          else if (values[2 * j + column] === values[2 * i + column]) equal++;
        }
        return smaller + (equal + 1) / 2;
      });
      assert.deepEqual([...averageRanks(values, rows, 2, column)], expected);
    }
  }
});

/** The rule written out plainly: per entity, (strictly closer + ½ · as close) / (n − 1), over the other entities. */
function plainProximity(truth: ArrayLike<number>, predicted: ArrayLike<number>, k: number, distance: (a: number[], b: number[]) => number): number[] {
  const n = truth.length / k;
  const row = (values: ArrayLike<number>, i: number): number[] => Array.from({ length: k }, (_, c) => values[i * k + c]);
  return Array.from({ length: n }, (_, i) => {
    const own = distance(row(truth, i), row(predicted, i));
    let score = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const other = distance(row(truth, i), row(predicted, j));
      score += other < own ? 1 : other === own ? 0.5 : 0;
    }
    return score / (n - 1);
  });
}
const km = (a: number[], b: number[]): number => greatCircleKm.distance(a, 0, b, 0);
const years = (a: number[], b: number[]): number => Math.abs(a[0] - b[0]);

describe('proximity error ties count half', () => {
  test('every prediction the same (a useless layer) scores exactly chance, 0.5, not 0', () => {
    const random = mulberry32(3);
    const n = 200;
    const truth = Float64Array.from({ length: 2 * n }, (_, i) => (i % 2 ? 360 : 170) * random() - (i % 2 ? 180 : 85));
    const constant = Float64Array.from({ length: 2 * n }, (_, i) => (i % 2 ? 12.5 : 41.25));
    for (const method of ['tree', 'pairwise'] as const) assert.deepEqual([...greatCircleProximityPerEntity(truth, constant, method)], new Array(n).fill(0.5));
    assert.equal(proximityError(truth, constant, greatCircleKm), 0.5);
    const yearsTruth = Float64Array.from({ length: n }, () => 1500 + 500 * random());
    assert.equal(proximityError(yearsTruth, new Float64Array(n).fill(1900), absoluteYears), 0.5);
    // Even when the constant is some entity's truth.
    assert.equal(proximityError(yearsTruth, new Float64Array(n).fill(yearsTruth[7]), absoluteYears), 0.5);
  });

  test('two clusters and exact duplicates equal the plain rule (great circle: tree and pairwise; years)', () => {
    const random = mulberry32(8);
    for (let repeat = 0; repeat < 40; repeat++) {
      const n = 5 + Math.floor(random() * 120);
      const points = [[10, 20], [-30, 100], [45, -120]].slice(0, 2 + (repeat % 2));
      const truth = new Float64Array(2 * n);
      const predicted = new Float64Array(2 * n);
      for (let i = 0; i < n; i++) {
        const own = points[Math.floor(random() * points.length)];
        // Truths near the cluster points, some exactly on one (distance 0 ties), some midway (equal distances).
        const onPoint = random() < 0.3;
        truth[2 * i] = onPoint ? own[0] : own[0] + 20 * (random() - 0.5);
        truth[2 * i + 1] = onPoint ? own[1] : own[1] + 20 * (random() - 0.5);
        [predicted[2 * i], predicted[2 * i + 1]] = repeat % 4 === 3 && random() < 0.5 ? [truth[2 * i], truth[2 * i + 1]] : points[Math.floor(random() * points.length)];
      }
      const expected = plainProximity(truth, predicted, 2, km);
      assert.deepEqual([...greatCircleProximityPerEntity(truth, predicted, 'tree')], expected, `case ${repeat}`);
      assert.deepEqual([...greatCircleProximityPerEntity(truth, predicted, 'pairwise')], expected, `case ${repeat}`);
      const yearTruth = Float64Array.from({ length: n }, () => 1900 + Math.floor(random() * 10));
      const yearPredicted = Float64Array.from({ length: n }, (_, i) => (repeat % 3 === 0 && i % 3 === 0 ? yearTruth[i] : [1902, 1906, 1904][Math.floor(random() * (2 + (repeat % 2)))]));
      assert.deepEqual([...proximityErrorPerEntity(yearTruth, yearPredicted, absoluteYears)], plainProximity(yearTruth, yearPredicted, 1, years), `years case ${repeat}`);
    }
  });

  test('random cases with ties and the hand-worked example follow the plain rule', () => {
    // i=0: own 1; 30 (30 away) and 19 (19 away) farther → 0. i=1: own 20; 1 and 19 are 9 away → 1. i=2: own 1;
    // 19 is own; 1 is 19 away, 30 is 10 away → 0. With a tie: truth 10, predictions 1 and 19 both 9 away.
    assert.deepEqual([...proximityErrorPerEntity([0, 10, 20], [1, 30, 19], absoluteYears)], [0, 1, 0]);
    assert.deepEqual([...proximityErrorPerEntity([0, 10, 20], [1, 1, 19], absoluteYears)], [0.25, 0.5, 0]);
    const random = mulberry32(99);
    for (let kind = 0; kind < 7; kind++) {
      const { truth, predicted } = sphereCase(random, 150, kind);
      assert.deepEqual([...proximityErrorPerEntity(truth, predicted, greatCircleKm)], plainProximity(truth, predicted, 2, km), `kind ${kind}`);
    }
  });

  test('a 60,000-row degenerate fit (one or two distinct predictions) is counted over distinct points, not pairs', () => {
    const n = 60_000;
    const random = mulberry32(60);
    const truth = Float64Array.from({ length: 2 * n }, (_, i) => (i % 2 ? 360 : 170) * random() - (i % 2 ? 180 : 85));
    const constant = Float64Array.from({ length: 2 * n }, (_, i) => (i % 2 ? -3 : 51));
    // O(n²) here would be 3.6e9 distance evaluations: minutes. Distinct points make it one per entity.
    assert.equal(proximityError(truth, constant, greatCircleKm), 0.5);
    const twoPoints = Float64Array.from({ length: 2 * n }, (_, i) => (Math.floor(i / 2) % 2 ? [51, -3] : [-33, 151])[i % 2]);
    const errors = proximityErrorPerEntity(truth, twoPoints, greatCircleKm);
    // Plain rule on a sample: the other predictions are n/2 − 1 copies of one's own point and n/2 of the other.
    for (const i of [0, 1, 777, 59_999]) {
      const own = km([truth[2 * i], truth[2 * i + 1]], [twoPoints[2 * i], twoPoints[2 * i + 1]]);
      const other = km([truth[2 * i], truth[2 * i + 1]], i % 2 ? [-33, 151] : [51, -3]);
      const expected = ((n / 2 - 1) * 0.5 + (other < own ? n / 2 : other === own ? n / 4 : 0)) / (n - 1);
      assert.equal(errors[i], expected, `entity ${i}`);
    }
    const yearTruth = Float64Array.from({ length: n }, () => 1000 + 1000 * random());
    assert.equal(proximityError(yearTruth, new Float64Array(n).fill(1500), absoluteYears), 0.5);
  });
});

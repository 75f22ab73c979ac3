/**
 * @file Probe scores per value of a metadata column (the paper's "R² per entity type"): the test entities are
 * grouped by a column such as `type` or `borough`, and each group's R² and proximity error are computed WITHIN
 * the group, as if the group were the whole test split (R² against the group's own mean; proximity among the
 * group's members). The groups are chosen once per run (they do not depend on the layer) and scored for every
 * layer from its test predictions, so the Layers view can draw one curve per group.
 */
import type { GroupResult } from '../experiments/results';
import { proximityErrorPerEntity, r2PerTarget, type DistanceMeasure } from './metrics';

/** A column is broken down only when its test entities take at most this many distinct values. */
export const MAX_GROUP_VALUES = 20;
/** Groups with fewer test entities than this are not scored (their R² means little). */
export const MIN_GROUP_TEST_ENTITIES = 5;

/** The test rows of one value of a column. */
export interface TestGroup {
  readonly value: string;
  /** Row indices (into the probed rows, i.e. the prediction matrix) of this value's test entities. */
  readonly rows: Int32Array;
}

export interface GroupColumn {
  readonly column: string;
  /** Scored groups, largest first (ties: alphabetical). */
  readonly groups: readonly TestGroup[];
  /** Values with fewer than MIN_GROUP_TEST_ENTITIES test entities, and how many test entities they hold. */
  readonly smallGroups: number;
  readonly smallGroupEntities: number;
  /** Test entities with no value in this column. */
  readonly missing: number;
}

export interface GroupColumnsChoice {
  readonly columns: readonly GroupColumn[];
  /** Columns not broken down, with the reason. */
  readonly leftOut: Readonly<Record<string, string>>;
}

/**
 * The columns worth a breakdown and their test groups. `metadata[row]` is the probed row's metadata; `test` the
 * test rows. A column qualifies when its test entities take at most `maxValues` distinct non-empty values and at
 * least two of them have `minTestEntities` or more test entities (one group would only repeat the overall score).
 */
export function chooseGroupColumns(metadata: readonly Readonly<Record<string, string>>[], test: ArrayLike<number>,
  options: { maxValues?: number; minTestEntities?: number } = {}): GroupColumnsChoice {
  const maxValues = options.maxValues ?? MAX_GROUP_VALUES;
  const minimum = options.minTestEntities ?? MIN_GROUP_TEST_ENTITIES;
  const byColumn = new Map<string, Map<string, number[]>>();
  const columnsSeen: string[] = [];
  for (const entry of metadata) for (const key of Object.keys(entry)) if (!byColumn.has(key)) { byColumn.set(key, new Map()); columnsSeen.push(key); }
  for (let k = 0; k < test.length; k++) {
    const row = test[k];
    for (const [column, values] of byColumn) {
      const value = metadata[row]?.[column] ?? '';
      if (value === '') continue;
      const list = values.get(value);
      if (list) list.push(row);
      else values.set(value, [row]);
    }
  }
  const columns: GroupColumn[] = [];
  const leftOut: Record<string, string> = {};
  for (const column of columnsSeen) {
    const values = byColumn.get(column)!;
    if (values.size > maxValues) {
      leftOut[column] = `${values.size} distinct values among the test entities (more than ${maxValues})`;
      continue;
    }
    const large = [...values.entries()].filter(([, rows]) => rows.length >= minimum);
    if (large.length < 2) {
      leftOut[column] = `fewer than two values with ${minimum}+ test entities`;
      continue;
    }
    large.sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const small = [...values.values()].filter((rows) => rows.length < minimum);
    const covered = [...values.values()].reduce((sum, rows) => sum + rows.length, 0);
    columns.push({
      column,
      groups: large.map(([value, rows]) => ({ value, rows: Int32Array.from(rows) })),
      smallGroups: small.length,
      smallGroupEntities: small.reduce((sum, rows) => sum + rows.length, 0),
      missing: test.length - covered,
    });
  }
  return { columns, leftOut };
}

/**
 * Every chosen group's scores for one layer. `truth` and `predicted` are row-major [rows × targets] over all
 * probed rows (the rows the groups index).
 */
export function scoreGroups(columns: readonly GroupColumn[], truth: ArrayLike<number>, predicted: ArrayLike<number>, targetNames: readonly string[],
  distance: DistanceMeasure): Record<string, Record<string, GroupResult>> {
  const t = targetNames.length;
  const out: Record<string, Record<string, GroupResult>> = {};
  for (const { column, groups } of columns) {
    const scored: Record<string, GroupResult> = {};
    for (const { value, rows } of groups) {
      const m = rows.length;
      const groupTruth = new Float64Array(m * t);
      const groupPredicted = new Float64Array(m * t);
      for (let k = 0; k < m; k++) {
        for (let c = 0; c < t; c++) {
          groupTruth[k * t + c] = truth[rows[k] * t + c];
          groupPredicted[k * t + c] = predicted[rows[k] * t + c];
        }
      }
      const r2 = r2PerTarget(groupTruth, groupPredicted, m, t);
      let proximity = 0;
      for (const error of proximityErrorPerEntity(groupTruth, groupPredicted, distance)) proximity += error;
      scored[value] = {
        n: m,
        r2: r2.mean,
        r2PerTarget: Object.fromEntries(targetNames.map((name, c) => [name, r2.perTarget[c]])),
        proximityError: proximity / m,
      };
    }
    out[column] = scored;
  }
  return out;
}

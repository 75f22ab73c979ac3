/**
 * Predictions in columns for the trip from the extension host to the results webview (protocol.ts `show`).
 *
 * As objects, 20k predictions with their metadata are ~5 MB of JSON that VS Code serialises, sends (in code-server
 * over a web socket) and parses again on every re-run: ~0.3 s of the editor loop (BENCHMARKS.md, "Editor loop").
 * In columns the numbers travel as typed arrays (VS Code passes ArrayBuffers beside the JSON, not through it), the
 * key names once, and each metadata column as its distinct values plus one index per entity. `unpackPredictions`
 * gives back the objects that went in: same fields, same numbers (float64; NaN, or null where results.json had
 * written a NaN as null), same order.
 * No runtime dependency on VS Code or the DOM; both sides import it.
 */
import type { Prediction } from '../../src/core/experiments/results';

export interface PackedMetadataColumn {
  readonly column: string;
  /** Distinct values of the column, in order of first appearance. */
  readonly values: readonly string[];
  /** Per entity, the position of its value in `values`; -1 where the entity has none. */
  readonly index: Int32Array;
}

export interface PackedPredictions {
  readonly count: number;
  /** Values per entity in `truth` and `predicted` (2 for places, 1 for years). */
  readonly width: number;
  readonly rows: Int32Array;
  readonly names: readonly string[];
  /** 1 for the test split, 0 for train. */
  readonly test: Uint8Array;
  /** Row-major [entity, target]. */
  readonly truth: Float64Array;
  readonly predicted: Float64Array;
  /** NaN stands for null (the predictions came from results.json, where JSON wrote NaN as null). */
  readonly nulls: boolean;
  /** In the dataset's column order. */
  readonly metadata: readonly PackedMetadataColumn[];
}

/** Refuses what columns cannot carry unchanged (ragged targets, rows that are not integers). */
export function packPredictions(predictions: readonly Prediction[]): PackedPredictions {
  const count = predictions.length;
  const width = count > 0 ? predictions[0].true.length : 0;
  const rows = new Int32Array(count);
  const names: string[] = new Array<string>(count);
  const test = new Uint8Array(count);
  const truth = new Float64Array(count * width);
  const predicted = new Float64Array(count * width);
  const columns = new Map<string, { values: string[]; positions: Map<string, number>; index: Int32Array }>();
  // Column order: each entity lists its metadata in the dataset's column order, skipping empty ones; a column first
  // seen on a later entity goes right after the column before it there, which rebuilds the dataset's order.
  const order: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = predictions[i];
    if (p.true.length !== width || p.predicted.length !== width) throw new Error(`prediction ${i} (line ${p.row}) has ${p.true.length} true and ${p.predicted.length} predicted values, expected ${width}`);
    if (!Number.isInteger(p.row) || p.row < -2147483648 || p.row > 2147483647) throw new Error(`prediction ${i}: row ${p.row} is not a 32-bit integer`);
    rows[i] = p.row;
    names[i] = p.name;
    test[i] = p.split === 'test' ? 1 : 0;
    for (let t = 0; t < width; t++) {
      // results.json writes NaN as null: both travel as NaN, and come back as what the JSON had (see nulls below).
      truth[i * width + t] = p.true[t] ?? Number.NaN;
      predicted[i * width + t] = p.predicted[t] ?? Number.NaN;
    }
    if (!p.metadata) continue;
    const keys = Object.keys(p.metadata);
    for (let k = 0; k < keys.length; k++) {
      const column = keys[k];
      let packed = columns.get(column);
      if (!packed) {
        packed = { values: [], positions: new Map(), index: new Int32Array(count).fill(-1) };
        columns.set(column, packed);
        order.splice(k === 0 ? 0 : order.indexOf(keys[k - 1]) + 1, 0, column);
      }
      const value = p.metadata[column];
      let position = packed.positions.get(value);
      if (position === undefined) {
        position = packed.values.length;
        packed.values.push(value);
        packed.positions.set(value, position);
      }
      packed.index[i] = position;
    }
  }
  return {
    count, width, rows, names, test, truth, predicted,
    nulls: hasNull(predictions),
    metadata: order.map((column) => ({ column, values: columns.get(column)!.values, index: columns.get(column)!.index })),
  };
}

/** The prediction objects back: same fields in the same order, same numbers (null where they had null). */
export function unpackPredictions(packed: PackedPredictions): Prediction[] {
  const { count, width, rows, names, test, truth, predicted, metadata, nulls } = packed;
  const out = new Array<Prediction>(count);
  const nan = (value: number): number | null => (nulls && Number.isNaN(value) ? null : value);
  for (let i = 0; i < count; i++) {
    const trueValues: (number | null)[] = new Array<number | null>(width);
    const predictedValues: (number | null)[] = new Array<number | null>(width);
    for (let t = 0; t < width; t++) {
      trueValues[t] = nan(truth[i * width + t]);
      predictedValues[t] = nan(predicted[i * width + t]);
    }
    const prediction: { -readonly [K in keyof Prediction]: Prediction[K] } = {
      row: rows[i], name: names[i], split: test[i] === 1 ? 'test' : 'train', true: trueValues as number[], predicted: predictedValues as number[],
    };
    let entityMetadata: Record<string, string> | undefined;
    for (let c = 0; c < metadata.length; c++) {
      const position = metadata[c].index[i];
      if (position < 0) continue;
      entityMetadata ??= {};
      entityMetadata[metadata[c].column] = metadata[c].values[position];
    }
    if (entityMetadata) prediction.metadata = entityMetadata;
    out[i] = prediction;
  }
  return out;
}

/** Whether some true or predicted value is null (a NaN that went through results.json). */
function hasNull(predictions: readonly Prediction[]): boolean {
  return predictions.some((p) => p.true.some((v) => v === null) || p.predicted.some((v) => v === null));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** By the type tag rather than instanceof: the webview's arrays may come from another frame's realm. */
function isTypedArray<T>(value: unknown, type: { readonly name: string; prototype: T }, length: number): value is T {
  return ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === `[object ${type.name}]` && (value as unknown as { length: number }).length === length;
}

/** Structural check of a packed block from the host (lengths agree, indices in range); false for anything else. */
export function isPackedPredictions(value: unknown): value is PackedPredictions {
  if (!isRecord(value)) return false;
  const { count, width, rows, names, test, truth, predicted, metadata, nulls } = value;
  if (typeof nulls !== 'boolean') return false;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || typeof width !== 'number' || !Number.isInteger(width) || width < 0 || width > 16) return false;
  if (!isTypedArray(rows, Int32Array, count) || !isTypedArray(test, Uint8Array, count)) return false;
  if (!isTypedArray(truth, Float64Array, count * width) || !isTypedArray(predicted, Float64Array, count * width)) return false;
  if (!Array.isArray(names) || names.length !== count || !names.every((name) => typeof name === 'string')) return false;
  if (!Array.isArray(metadata)) return false;
  return metadata.every((column: unknown) => {
    if (!isRecord(column) || typeof column.column !== 'string' || !Array.isArray(column.values) || !isTypedArray(column.index, Int32Array, count)) return false;
    const values = column.values as unknown[];
    if (!values.every((v) => typeof v === 'string')) return false;
    const index = column.index as Int32Array;
    for (let i = 0; i < index.length; i++) if (index[i] < -1 || index[i] >= values.length) return false;
    return true;
  });
}

/** The entries of one column that differ from the base: positions (entity indices) and their new values. */
export interface ColumnPatch<Values> {
  readonly at: Int32Array;
  readonly values: Values;
}

/**
 * A re-run's predictions as changes to the ones the webview already holds (`base`, a run id): after editing one row
 * only `predicted` (every entity is predicted anew) and that row's entries travel, not 20k names and metadata again.
 */
export interface PredictionsDelta {
  readonly base: string;
  readonly count: number;
  readonly width: number;
  readonly nulls: boolean;
  readonly predicted: Float64Array;
  readonly rows: ColumnPatch<Int32Array>;
  readonly names: ColumnPatch<readonly string[]>;
  readonly test: ColumnPatch<Uint8Array>;
  /** `values`: `width` numbers per patched entity. */
  readonly truth: ColumnPatch<Float64Array>;
  /** Same columns as the base, in its order; `added`: values appended to the base's distinct values. */
  readonly metadata: readonly { readonly column: string; readonly added: readonly string[]; readonly index: ColumnPatch<Int32Array> }[];
}

function patchOf<T>(count: number, differs: (i: number) => boolean, value: (i: number) => T): { at: number[]; values: T[] } {
  const at: number[] = [];
  const values: T[] = [];
  for (let i = 0; i < count; i++) if (differs(i)) { at.push(i); values.push(value(i)); }
  return { at, values };
}

/**
 * `next` as changes to `base`, or undefined where a delta would not be smaller or cannot say it (another number of
 * entities or targets, other metadata columns, more than a tenth of the entities changed).
 */
export function diffPredictions(baseRun: string, base: PackedPredictions, next: PackedPredictions): PredictionsDelta | undefined {
  const { count, width } = next;
  if (base.count !== count || base.width !== width || base.metadata.length !== next.metadata.length) return undefined;
  if (!next.metadata.every((column, c) => column.column === base.metadata[c].column)) return undefined;
  const limit = Math.max(16, count / 10);
  const same = (a: number, b: number): boolean => Object.is(a, b);
  const rows = patchOf(count, (i) => base.rows[i] !== next.rows[i], (i) => next.rows[i]);
  const names = patchOf(count, (i) => base.names[i] !== next.names[i], (i) => next.names[i]);
  const test = patchOf(count, (i) => base.test[i] !== next.test[i], (i) => next.test[i]);
  const truthDiffers = (i: number): boolean => { for (let t = 0; t < width; t++) if (!same(base.truth[i * width + t], next.truth[i * width + t])) return true; return false; };
  const truth = patchOf(count, truthDiffers, (i) => Array.from(next.truth.subarray(i * width, (i + 1) * width)));
  if ([rows, names, test, truth].some((patch) => patch.at.length > limit)) return undefined;
  const metadata: PredictionsDelta['metadata'][number][] = [];
  for (let c = 0; c < next.metadata.length; c++) {
    const baseColumn = base.metadata[c];
    const column = next.metadata[c];
    const positions = new Map(baseColumn.values.map((value, position) => [value, position]));
    const added: string[] = [];
    // The next run's position of a value, in the base's numbering (values it lacks appended).
    const renumbered = column.values.map((value) => {
      let position = positions.get(value);
      if (position === undefined) {
        position = baseColumn.values.length + added.length;
        added.push(value);
        positions.set(value, position);
      }
      return position;
    });
    const indexOf = (i: number): number => (column.index[i] < 0 ? -1 : renumbered[column.index[i]]);
    const index = patchOf(count, (i) => baseColumn.index[i] !== indexOf(i), indexOf);
    if (index.at.length > limit) return undefined;
    metadata.push({ column: column.column, added, index: { at: Int32Array.from(index.at), values: Int32Array.from(index.values) } });
  }
  return {
    base: baseRun, count, width, nulls: next.nulls, predicted: next.predicted,
    rows: { at: Int32Array.from(rows.at), values: Int32Array.from(rows.values) },
    names: { at: Int32Array.from(names.at), values: names.values },
    test: { at: Int32Array.from(test.at), values: Uint8Array.from(test.values) },
    truth: { at: Int32Array.from(truth.at), values: Float64Array.from(truth.values.flat()) },
    metadata,
  };
}

/** The predictions `delta` describes, built on `base` (left unchanged). Throws where the delta does not fit it. */
export function applyPredictionsDelta(base: PackedPredictions, delta: PredictionsDelta): PackedPredictions {
  const { count, width } = delta;
  const fail = (what: string): never => { throw new Error(`the predictions delta does not fit the predictions held: ${what}`); };
  if (base.count !== count || base.width !== width) fail(`${count} × ${width} values against ${base.count} × ${base.width}`);
  if (delta.metadata.length !== base.metadata.length || delta.metadata.some((column, c) => column.column !== base.metadata[c].column)) fail('other metadata columns');
  const checkAt = (at: Int32Array): void => { for (const i of at) if (i < 0 || i >= count) fail(`entity ${i} of ${count}`); };
  const rows = Int32Array.from(base.rows);
  const names = [...base.names];
  const test = Uint8Array.from(base.test);
  const truth = Float64Array.from(base.truth);
  checkAt(delta.rows.at); delta.rows.at.forEach((i, k) => { rows[i] = delta.rows.values[k]; });
  checkAt(delta.names.at); delta.names.at.forEach((i, k) => { names[i] = delta.names.values[k]; });
  checkAt(delta.test.at); delta.test.at.forEach((i, k) => { test[i] = delta.test.values[k]; });
  checkAt(delta.truth.at); delta.truth.at.forEach((i, k) => { truth.set(delta.truth.values.subarray(k * width, (k + 1) * width), i * width); });
  const metadata = delta.metadata.map(({ column, added, index }, c) => {
    const values = [...base.metadata[c].values, ...added];
    const positions = Int32Array.from(base.metadata[c].index);
    checkAt(index.at);
    index.at.forEach((i, k) => {
      const position = index.values[k];
      if (position < -1 || position >= values.length) fail(`value ${position} of column ${column}`);
      positions[i] = position;
    });
    return { column, values, index: positions };
  });
  return { count, width, rows, names, test, truth, predicted: delta.predicted, nulls: delta.nulls, metadata };
}

function isPatch(value: unknown, type: { readonly name: string; prototype: unknown }, perEntry = 1): boolean {
  if (!isRecord(value) || !ArrayBuffer.isView(value.at) || Object.prototype.toString.call(value.at) !== '[object Int32Array]') return false;
  const length = (value.at as Int32Array).length;
  if (type === Array) return Array.isArray(value.values) && (value.values as unknown[]).length === length && (value.values as unknown[]).every((v) => typeof v === 'string');
  return isTypedArray(value.values, type, length * perEntry);
}

/** Structural check of a delta from the host (applyPredictionsDelta checks that it fits what the webview holds). */
export function isPredictionsDelta(value: unknown): value is PredictionsDelta {
  if (!isRecord(value)) return false;
  const { base, count, width, nulls, predicted, rows, names, test, truth, metadata } = value;
  if (typeof base !== 'string' || typeof nulls !== 'boolean') return false;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || typeof width !== 'number' || !Number.isInteger(width) || width < 0 || width > 16) return false;
  if (!isTypedArray(predicted, Float64Array, count * width)) return false;
  if (!isPatch(rows, Int32Array) || !isPatch(names, Array) || !isPatch(test, Uint8Array) || !isPatch(truth, Float64Array, width)) return false;
  return Array.isArray(metadata) && metadata.every((column: unknown) => isRecord(column) && typeof column.column === 'string' &&
    Array.isArray(column.added) && (column.added as unknown[]).every((v) => typeof v === 'string') && isPatch(column.index, Int32Array));
}

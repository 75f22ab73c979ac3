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

/**
 * Redrawing a chart by changing its data instead of embedding it anew. After a re-run the map's spec is the same
 * but for its points: a fresh `vegaEmbed` compiles the Vega-Lite spec, parses it, projects the base map and builds
 * every SVG node again (~0.2 s of the editor loop on 4,000 points); `view.data(name, values)` on the view on screen
 * re-runs only the dataflow below the changed data.
 *
 * `hoistInlineData` moves each array of inline `values` into the spec's top-level `datasets` under a name, so the
 * compiled Vega view has a data source of that name; two specs whose `skeleton`s are equal differ only in those
 * arrays, and the second can be drawn by handing its datasets to the first one's view (`updateInPlace`).
 * No DOM access here (unit-tested against a fresh render in Node).
 */
import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };

export interface PreparedSpec {
  /** The spec with named data in place of inline arrays (what is embedded). */
  readonly spec: TopLevelSpec;
  /** Name → values of every hoisted array. */
  readonly datasets: Readonly<Record<string, readonly unknown[]>>;
  /** The spec without its datasets, as JSON: equal skeletons draw the same chart but for the data. */
  readonly skeleton: string;
}

const PREFIX = 'spacetime_inline_';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function hoistInlineData(spec: TopLevelSpec): PreparedSpec {
  const datasets: Record<string, readonly unknown[]> = {};
  let next = 0;
  const visit = (node: Record<string, unknown>): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...node };
    const data = node.data;
    // Only plain `{ values: [...] }`: data with a format (the base maps' TopoJSON) stays inline, part of the skeleton.
    if (isRecord(data) && Array.isArray(data.values) && Object.keys(data).length === 1) {
      const name = `${PREFIX}${next++}`;
      datasets[name] = data.values as unknown[];
      copy.data = { name };
    }
    if (Array.isArray(node.layer)) copy.layer = node.layer.map((layer: unknown) => (isRecord(layer) ? visit(layer) : layer));
    return copy;
  };
  const { datasets: existing, ...rest } = spec as TopLevelSpec & { datasets?: Record<string, unknown> };
  const hoisted = visit(rest as Record<string, unknown>);
  const skeleton = JSON.stringify({ ...hoisted, ...(existing ? { datasets: existing } : {}) });
  return { spec: { ...hoisted, datasets: { ...(existing ?? {}), ...datasets } } as unknown as TopLevelSpec, datasets, skeleton };
}

/** The parts of vega this needs: a view's data and dataflow, and `vega.changeset`. */
export interface DataView {
  data(name: string): unknown;
  data(name: string, values: readonly unknown[]): unknown;
  change(name: string, changes: unknown): unknown;
  runAsync(): Promise<unknown>;
}

export interface Changeset {
  modify(tuple: object, field: string, value: unknown): Changeset;
}

/** Whether `next` can be drawn by changing the data of the view that drew `drawn`. */
export function canUpdateInPlace(drawn: PreparedSpec | undefined, next: PreparedSpec): drawn is PreparedSpec {
  if (!drawn || drawn.skeleton !== next.skeleton) return false;
  const names = Object.keys(next.datasets);
  return names.length === Object.keys(drawn.datasets).length && names.every((name) => name in drawn.datasets);
}

/**
 * The changes that turn the view's tuples into `values`, field by field, when both are objects with the same keys
 * position by position (a re-run: the same entities, moved); undefined otherwise.
 */
function fieldChanges(current: unknown, values: readonly unknown[], changeset: () => Changeset): Changeset | undefined {
  if (!Array.isArray(current) || current.length !== values.length) return undefined;
  const changes = changeset();
  for (let i = 0; i < values.length; i++) {
    const tuple: unknown = current[i];
    const value = values[i];
    if (!isRecord(tuple) || !isRecord(value)) return undefined;
    const keys = Object.keys(value);
    if (keys.length !== Object.keys(tuple).length) return undefined;
    for (const key of keys) {
      if (!(key in tuple)) return undefined;
      if (!Object.is(tuple[key], value[key])) changes.modify(tuple, key, value[key]);
    }
  }
  return changes;
}

/**
 * Gives the view `next`'s data and re-runs it. Where the tuples correspond one to one, only changed fields are
 * modified: the marks keep their SVG nodes and only their attributes change, instead of thousands of nodes removed
 * and created. Otherwise the dataset's values are replaced.
 */
export async function updateInPlace(view: DataView, next: PreparedSpec, changeset: () => Changeset): Promise<void> {
  for (const [name, values] of Object.entries(next.datasets)) {
    const changes = fieldChanges(view.data(name), values, changeset);
    // Vega keeps the arrays it is given and adds its own fields to the objects: hand it copies of the caller's data.
    if (changes) view.change(name, changes);
    else view.data(name, values.map((value) => (isRecord(value) ? { ...value } : value)));
  }
  await view.runAsync();
}

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

/** The part of a Vega view this needs (vega's View). */
export interface DataView {
  data(name: string, values: readonly unknown[]): unknown;
  runAsync(): Promise<unknown>;
}

/** Whether `next` can be drawn by changing the data of the view that drew `drawn`. */
export function canUpdateInPlace(drawn: PreparedSpec | undefined, next: PreparedSpec): drawn is PreparedSpec {
  if (!drawn || drawn.skeleton !== next.skeleton) return false;
  const names = Object.keys(next.datasets);
  return names.length === Object.keys(drawn.datasets).length && names.every((name) => name in drawn.datasets);
}

/** Replaces every hoisted dataset of the view with `next`'s values and re-runs it. */
export async function updateInPlace(view: DataView, next: PreparedSpec): Promise<void> {
  // Vega keeps the arrays it is given and adds its own fields to the objects: hand it copies of neither caller's data.
  for (const [name, values] of Object.entries(next.datasets)) view.data(name, values.map((value) => (isRecord(value) ? { ...value } : value)));
  await view.runAsync();
}

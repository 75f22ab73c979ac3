/** CSV renderings of a run for Export Results (plain functions, unit-tested). */
import { csvEscape } from '../../core/datasets/csv';
import type { ProbeResults } from '../../core/experiments/results';
import { errorUnit, predictionError } from '../../../webview/src/geo';

function number(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '' : String(value);
}

/** One row per entity at the best layer: line, name, split, true and predicted targets, error (km or years). */
export function predictionsCsv(results: ProbeResults): string {
  const targets = results.targets;
  // The dataset's metadata columns (type, country, block …) after the split, as the table shows them.
  const extra = [...new Set(results.predictions.flatMap((p) => Object.keys(p.metadata ?? {})))];
  const header = ['line', 'name', 'split', ...extra.map(csvEscape), ...targets.map((t) => `true_${t}`), ...targets.map((t) => `predicted_${t}`), `error_${errorUnit(results.kind)}`];
  const lines = [header.join(',')];
  for (const p of results.predictions) {
    lines.push([
      String(p.row),
      csvEscape(p.name),
      p.split,
      ...extra.map((name) => csvEscape(p.metadata?.[name] ?? '')),
      ...targets.map((_, i) => number(p.true[i])),
      ...targets.map((_, i) => number(p.predicted[i])),
      number(predictionError(results.kind, p.true, p.predicted)),
    ].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * One row per layer with every metric results.json holds, the metadata breakdown last: `test_r2[type=city]` and
 * `proximity_error[type=city]` per group of groupBreakdown (scored within the group).
 */
export function layerMetricsCsv(results: ProbeResults): string {
  const targets = results.targets;
  const groups = Object.entries(results.groupBreakdown?.columns ?? {}).flatMap(([column, info]) => info.values.map((value) => [column, value] as const));
  const header = ['layer', 'alpha', 'train_r2', 'test_r2', ...targets.map((t) => `test_r2_${t}`), ...targets.map((t) => `pearson_${t}`),
    ...targets.map((t) => `spearman_${t}`), 'proximity_error', 'best',
    ...groups.flatMap(([column, value]) => [csvEscape(`test_r2[${column}=${value}]`), csvEscape(`proximity_error[${column}=${value}]`)])];
  const lines = [header.join(',')];
  for (const layer of results.layers) {
    lines.push([
      String(layer.index), number(layer.alpha), number(layer.trainR2), number(layer.testR2),
      ...targets.map((t) => number(layer.testR2PerTarget[t])),
      ...targets.map((t) => number(layer.pearson[t])),
      ...targets.map((t) => number(layer.spearman[t])),
      number(layer.proximityError),
      layer.index === results.bestLayer ? 'true' : 'false',
      ...groups.flatMap(([column, value]) => [number(layer.groups?.[column]?.[value]?.r2), number(layer.groups?.[column]?.[value]?.proximityError)]),
    ].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * File name (without extension) for an exported run: dataset stem, the model's last path segment, the run's date
 * and what was exported — `world_place_3k_gpt2-tiny_2026-12-01_1620_layers` — instead of whole paths squashed
 * into one name.
 */
export function exportBaseName(record: { readonly dataset: string; readonly model: string; readonly createdAt: string }, what?: string): string {
  const stem = (value: string): string => {
    const last = value.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? value;
    return last.replace(/^builtin:/, '').replace(/\.(csv|jsonl|ndjson|json|onnx)$/i, '');
  };
  const safe = (value: string): string => value.replace(/[^\p{L}\p{N}_.-]+/gu, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'run';
  const date = record.createdAt.slice(0, 16).replace('T', '_').replace(':', '');
  return [safe(stem(record.dataset)), safe(stem(record.model)), safe(date), ...(what ? [safe(what)] : [])].join('_');
}

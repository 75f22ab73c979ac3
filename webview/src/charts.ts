/**
 * Vega-Lite specifications for the results panel, built from results.json data. Pure functions (no DOM, no Vega
 * runtime) so they can be unit-tested in Node; webview/src/main.ts embeds them with vega-embed.
 *
 * Entity names never reach HTML here: Vega draws them as SVG/canvas text, and tooltips go through
 * vega-tooltip's HTML escaping (see main.ts).
 */
import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };
import type { LayerResult, Prediction } from '../../src/core/experiments/results';
import type { ComparedRun, MapExtent, RunView } from './protocol';
import { EXTENT_FRAMES, predictionError, thinOut } from './geo';

/** Colours and fonts read from VS Code's CSS variables at render time, so charts follow the theme. */
export interface ChartTheme {
  readonly foreground: string;
  readonly mutedForeground: string;
  readonly background: string;
  readonly grid: string;
  readonly fontFamily: string;
  readonly fontSize: number;
  /** Series colours: train, test, spearman, proximity, extra runs. */
  readonly series: readonly string[];
  readonly truePoint: string;
  readonly predictedPoint: string;
  readonly errorLine: string;
  readonly land: string;
  /** Fill opacity of land (0 in high contrast: outlines only). */
  readonly landOpacity: number;
  readonly landBorder: string;
  readonly bestLayer: string;
}

export const FALLBACK_THEME: ChartTheme = {
  foreground: '#cccccc',
  mutedForeground: '#9d9d9d',
  background: '#1e1e1e',
  grid: '#3c3c3c',
  fontFamily: 'sans-serif',
  fontSize: 12,
  series: ['#3794ff', '#d18616', '#89d185', '#f14c4c', '#b180d7', '#cca700'],
  truePoint: '#3794ff',
  predictedPoint: '#d18616',
  errorLine: '#9d9d9d',
  land: '#cccccc',
  landOpacity: 0.08,
  landBorder: '#555555',
  bestLayer: '#f14c4c',
};

/** Vega-Lite `config` that makes every chart look native in the current theme. */
export function chartConfig(theme: ChartTheme): NonNullable<TopLevelSpec['config']> {
  return {
    background: 'transparent',
    font: theme.fontFamily,
    // Tooltips and labels without a format of their own: 4 significant digits, trailing zeros dropped
    // (0.174, not 0.174023180855).
    numberFormat: '.4~g',
    view: { stroke: 'transparent' },
    axis: {
      domainColor: theme.grid,
      gridColor: theme.grid,
      tickColor: theme.grid,
      labelColor: theme.mutedForeground,
      titleColor: theme.foreground,
      labelFont: theme.fontFamily,
      titleFont: theme.fontFamily,
      labelFontSize: theme.fontSize - 1,
      titleFontSize: theme.fontSize,
      titleFontWeight: 'normal',
    },
    legend: {
      labelColor: theme.foreground,
      titleColor: theme.foreground,
      labelFont: theme.fontFamily,
      titleFont: theme.fontFamily,
      labelFontSize: theme.fontSize - 1,
      titleFontSize: theme.fontSize,
      orient: 'bottom',
    },
    title: { color: theme.foreground, font: theme.fontFamily, fontSize: theme.fontSize + 1, fontWeight: 'normal', anchor: 'start' },
    header: { labelColor: theme.foreground, titleColor: theme.foreground },
    text: { color: theme.foreground, font: theme.fontFamily },
    range: { category: [...theme.series] },
  };
}

const LAYER_METRICS = ['Train R²', 'Test R²', 'Test Spearman ρ'] as const;
export const SHUFFLED_METRIC = 'Shuffled labels: test R²';
/** Proximity error of identical (or random) predictions: ties count half (docs/probes.md). */
export const PROXIMITY_CHANCE = 0.5;

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
}

function noNegativeZero(text: string): string {
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** A longitude into [−180, 180] for display (a probe's prediction can run past ±180; the error is unchanged). */
export function wrapLongitude(longitude: number): number {
  if (!Number.isFinite(longitude) || (longitude >= -180 && longitude <= 180)) return longitude;
  return ((((longitude + 180) % 360) + 360) % 360) - 180;
}

/** Label of a per-target test R² curve. */
export function perTargetMetric(target: string): string {
  return `Test R² (${target})`;
}

/** Long-format rows for the layer chart: one row per (layer, metric). Non-finite values are dropped. */
export function layerMetricRows(layers: readonly LayerResult[], options: { perTarget?: boolean } = {}): { layer: number; metric: string; value: number }[] {
  const rows: { layer: number; metric: string; value: number }[] = [];
  for (const layer of layers) {
    const values = [layer.trainR2, layer.testR2, mean(Object.values(layer.spearman))];
    values.forEach((value, i) => {
      if (Number.isFinite(value)) rows.push({ layer: layer.index, metric: LAYER_METRICS[i], value });
    });
    if (options.perTarget) {
      for (const [target, value] of Object.entries(layer.testR2PerTarget)) {
        if (Number.isFinite(value)) rows.push({ layer: layer.index, metric: perTargetMetric(target), value });
      }
    }
  }
  return rows;
}

/** Extra series for the layer chart. */
export interface LayerChartOptions {
  /** Test R² of probes trained on shuffled labels (the controls experiment), by layer. */
  readonly shuffled?: readonly { readonly layer: number; readonly testR2: number }[];
}

/** Relative luminance of a #rgb / #rrggbb / rgb(…) colour (WCAG 2), or undefined when it cannot be parsed. */
export function luminance(color: string): number | undefined {
  const rgb = parseColor(color);
  if (!rgb) return undefined;
  const channel = (value: number): number => {
    const c = value / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2]);
}

function parseColor(color: string): [number, number, number] | undefined {
  const value = color.trim().toLowerCase();
  let match = /^#([0-9a-f]{3,4})$/.exec(value);
  if (match) return [0, 1, 2].map((i) => Number.parseInt(match![1][i] + match![1][i], 16)) as [number, number, number];
  match = /^#([0-9a-f]{6})([0-9a-f]{2})?$/.exec(value);
  if (match) return [0, 2, 4].map((i) => Number.parseInt(match![1].slice(i, i + 2), 16)) as [number, number, number];
  match = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)/.exec(value);
  if (match) return [Number(match[1]), Number(match[2]), Number(match[3])];
  return undefined;
}

/** Whether a #rgba / #rrggbbaa / rgba(…, a) colour is less than opaque. */
function hasAlpha(color: string): boolean {
  const value = color.trim().toLowerCase();
  const hex = /^#([0-9a-f]{4}|[0-9a-f]{8})$/.exec(value);
  if (hex) return !/^f+$/.test(hex[1].length === 4 ? hex[1][3] : hex[1].slice(6));
  const rgba = /^rgba?\(\s*[\d.]+[,\s]+[\d.]+[,\s]+[\d.]+\s*[,/]\s*([\d.]+)(%?)\s*\)$/.exec(value);
  return rgba ? Number(rgba[1]) / (rgba[2] ? 100 : 1) < 1 : false;
}

/** WCAG contrast ratio of two colours (1…21), or undefined when one cannot be parsed. */
export function contrastRatio(a: string, b: string): number | undefined {
  const la = luminance(a);
  const lb = luminance(b);
  if (la === undefined || lb === undefined) return undefined;
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/**
 * `color`, or a mix of it towards `toward` (the theme's foreground) just strong enough to reach `minimum` contrast
 * against `background` (3:1, WCAG's figure for graphics). Unparseable colours are returned as they are.
 */
export function withContrast(color: string, background: string, toward: string, minimum = 3): string {
  const start = parseColor(color);
  const target = parseColor(toward);
  // A translucent theme colour (charts.orange defaults to the find-match highlight, e.g. #ea5c0055 in Dark
  // Modern) would be drawn faded although its hue passes: the hue is taken opaque.
  if (start && hasAlpha(color)) color = `#${start.map((value) => Math.round(value).toString(16).padStart(2, '0')).join('')}`;
  if (!start || !target || (contrastRatio(color, background) ?? minimum) >= minimum) return color;
  for (let step = 1; step <= 10; step++) {
    const t = step / 10;
    const mixed = start.map((value, i) => Math.round(value + (target[i] - value) * t));
    const hex = `#${mixed.map((value) => value.toString(16).padStart(2, '0')).join('')}`;
    if ((contrastRatio(hex, background) ?? minimum) >= minimum) return hex;
  }
  return toward;
}

/**
 * Layerwise chart: train/test R², test R² per target (dashed), test Spearman, the test R² bootstrap band and,
 * when a controls experiment ran, the shuffled-label test R² (top); proximity error with its band and the chance
 * line at 0.5 (bottom, its own unit); best layer marked by a vertical rule and a label on both.
 */
export function layerChartSpec(layers: readonly LayerResult[], bestLayer: number, theme: ChartTheme, width: number, options: LayerChartOptions = {}): TopLevelSpec {
  if (layers.length === 1) return singleLayerSpec(layers[0], theme, width, options);
  const best = layers.find((l) => l.index === bestLayer);
  const targets = Object.keys(layers[0]?.testR2PerTarget ?? {});
  const perTarget = targets.length > 1;
  const shuffled = (options.shuffled ?? []).filter((entry) => Number.isFinite(entry.testR2));
  // One colour per series, in a fixed order, so the legend and lines agree whichever series are present.
  const domain = [...LAYER_METRICS, ...(perTarget ? targets.map(perTargetMetric) : []), ...(shuffled.length > 0 ? [SHUFFLED_METRIC] : [])];
  // Train blue, test orange, Spearman green, per-target purple/yellow, shuffled labels muted.
  const colours = new Map<string, string>([
    ['Train R²', theme.series[0]], ['Test R²', theme.series[1]], ['Test Spearman ρ', theme.series[2]], [SHUFFLED_METRIC, theme.mutedForeground],
    ...targets.map((target, i): [string, string] => [perTargetMetric(target), theme.series[4 + (i % 2)]]),
  ]);
  const range = domain.map((metric) => colours.get(metric) ?? theme.foreground);
  const color = { field: 'metric', type: 'nominal' as const, title: null, scale: { domain, range }, legend: { orient: 'bottom' as const, columns: width < 420 ? 2 : 4, labelLimit: 260 } };
  const indices = layers.map((l) => l.index);
  const xAxis = {
    field: 'layer', type: 'quantitative' as const, title: 'Layer',
    // The domain is the layers themselves (no "nice" rounding past the last layer) so nothing is cut off.
    scale: { domain: [Math.min(...indices), Math.max(...indices)], nice: false },
    axis: { tickMinStep: 1, format: 'd', labelOverlap: true },
  };
  const bestRule = {
    data: { values: [{ layer: bestLayer, label: `best layer ${bestLayer}` }] },
    layer: [
      { mark: { type: 'rule' as const, color: theme.bestLayer, strokeDash: [4, 3] }, encoding: { x: { field: 'layer', type: 'quantitative' as const } } },
      {
        // Right of the rule, or left of it when the best layer is in the right third (the label would be clipped).
        mark: {
          type: 'text' as const, color: theme.bestLayer, baseline: 'top' as const, y: 0,
          ...(bestLayer > indices[0] + (indices[indices.length - 1] - indices[0]) * 0.66 ? { align: 'right' as const, dx: -4 } : { align: 'left' as const, dx: 4 }),
        },
        encoding: { x: { field: 'layer', type: 'quantitative' as const }, text: { field: 'label' } },
      },
    ],
  };
  const r2Band = layers.filter((l) => l.testR2Interval && Number.isFinite(l.testR2Interval[0]) && Number.isFinite(l.testR2Interval[1]))
    .map((l) => ({ layer: l.index, low: l.testR2Interval![0], high: l.testR2Interval![1] }));
  const proximityBand = layers.filter((l) => l.proximityErrorInterval && Number.isFinite(l.proximityErrorInterval[0]) && Number.isFinite(l.proximityErrorInterval[1]))
    .map((l) => ({ layer: l.index, low: l.proximityErrorInterval![0], high: l.proximityErrorInterval![1] }));
  const rows = layerMetricRows(layers, { perTarget });
  // The proximity axis always shows the chance line and the whole band.
  const proximityTop = Math.min(1, Math.max(0.55, ...proximityBand.map((band) => band.high), ...layers.map((l) => (Number.isFinite(l.proximityError) ? l.proximityError : 0))));
  const tooltip = [{ field: 'metric', title: 'Series' }, { field: 'layer', title: 'Layer' }, { field: 'value', title: 'Value', format: '.3f' }];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: chartConfig(theme),
    vconcat: [
      {
        title: { text: best ? `Probe fit by layer (best layer ${bestLayer}: test R² ${noNegativeZero(best.testR2.toFixed(3))})` : 'Probe fit by layer', limit: width },
        width,
        height: 220,
        layer: [
          ...(r2Band.length > 0 ? [{
            data: { values: r2Band },
            mark: { type: 'area' as const, color: theme.series[1], opacity: 0.22, clip: true },
            encoding: {
              x: xAxis,
              y: { field: 'low', type: 'quantitative' as const, title: 'R² / ρ' },
              y2: { field: 'high' },
              tooltip: [{ field: 'layer', title: 'Layer' }, { field: 'low', title: 'Test R² 95% CI low', format: '.3f' }, { field: 'high', title: 'high', format: '.3f' }],
            },
          }] : []),
          {
            data: { values: rows.filter((row) => !row.metric.startsWith('Test R² (')) },
            mark: { type: 'line', point: { filled: true, size: 36 }, strokeWidth: 2 },
            encoding: {
              x: xAxis,
              y: { field: 'value', type: 'quantitative', title: 'R² / ρ', scale: { domainMax: 1 } },
              color,
              tooltip,
            },
          },
          ...(perTarget ? [{
            data: { values: rows.filter((row) => row.metric.startsWith('Test R² (')) },
            mark: { type: 'line' as const, point: { filled: true, size: 20 }, strokeDash: [5, 3], strokeWidth: 1.5 },
            encoding: { x: xAxis, y: { field: 'value', type: 'quantitative' as const }, color, tooltip },
          }] : []),
          ...(shuffled.length > 0 ? [{
            data: { values: shuffled.map((entry) => ({ layer: entry.layer, metric: SHUFFLED_METRIC, value: entry.testR2 })) },
            mark: { type: 'line' as const, point: { filled: true, size: 20 }, strokeDash: [2, 2], strokeWidth: 1.5 },
            encoding: { x: xAxis, y: { field: 'value', type: 'quantitative' as const }, color, tooltip },
          }] : []),
          bestRule,
        ],
      },
      {
        width,
        height: 140,
        layer: [
          ...(proximityBand.length > 0 ? [{
            data: { values: proximityBand },
            mark: { type: 'area' as const, color: theme.series[3], opacity: 0.22, clip: true },
            encoding: {
              x: xAxis,
              y: { field: 'low', type: 'quantitative' as const, title: 'Proximity error' },
              y2: { field: 'high' },
              tooltip: [{ field: 'layer', title: 'Layer' }, { field: 'low', title: '95% CI low', format: '.3f' }, { field: 'high', title: 'high', format: '.3f' }],
            },
          }] : []),
          {
            data: { values: [{ chance: PROXIMITY_CHANCE, label: 'chance 0.5' }] },
            layer: [
              { mark: { type: 'rule' as const, color: theme.mutedForeground, strokeDash: [2, 3] }, encoding: { y: { field: 'chance', type: 'quantitative' as const } } },
              {
                mark: { type: 'text' as const, color: theme.mutedForeground, align: 'right' as const, baseline: 'bottom' as const, dy: -2, x: width },
                encoding: { y: { field: 'chance', type: 'quantitative' as const }, text: { field: 'label' } },
              },
            ],
          },
          {
            data: { values: layers.filter((l) => Number.isFinite(l.proximityError)).map((l) => ({ layer: l.index, proximityError: l.proximityError })) },
            mark: { type: 'line', point: { color: theme.series[3], filled: true, size: 36 }, color: theme.series[3], strokeWidth: 2 },
            encoding: {
              x: xAxis,
              // The paper's proximity error: share of other entities predicted closer to the truth, ties half (0 perfect, 0.5 chance).
              y: { field: 'proximityError', type: 'quantitative', title: 'Proximity error', scale: { zero: true, domainMax: proximityTop } },
              tooltip: [{ field: 'layer', title: 'Layer' }, { field: 'proximityError', title: 'Proximity error', format: '.3f' }],
            },
          },
          bestRule,
        ],
      },
    ],
  };
}

/**
 * A one-layer model (GloVe) has no curve: its scores as labelled bars with their intervals, R² and ρ (higher is
 * better) and the proximity error (lower is better, chance 0.5) on separate axes.
 */
function singleLayerSpec(layer: LayerResult, theme: ChartTheme, width: number, options: LayerChartOptions): TopLevelSpec {
  const targets = Object.keys(layer.testR2PerTarget);
  const rows: { metric: string; value: number; low?: number; high?: number }[] = layerMetricRows([layer], { perTarget: targets.length > 1 })
    .map(({ metric, value }) => ({ metric, value }));
  const testRow = rows.find((row) => row.metric === 'Test R²');
  if (testRow && layer.testR2Interval) Object.assign(testRow, { low: layer.testR2Interval[0], high: layer.testR2Interval[1] });
  for (const target of targets) {
    const row = rows.find((entry) => entry.metric === perTargetMetric(target));
    const interval = layer.testR2PerTargetInterval?.[target];
    if (row && interval) Object.assign(row, { low: interval[0], high: interval[1] });
  }
  const shuffled = options.shuffled?.find((entry) => entry.layer === layer.index);
  if (shuffled && Number.isFinite(shuffled.testR2)) rows.push({ metric: SHUFFLED_METRIC, value: shuffled.testR2 });
  const low = Math.min(0, ...rows.map((r) => r.low ?? r.value));
  const order = rows.map((row) => row.metric);
  const barWidth = Math.max(160, Math.min(width, 640));
  // The value is written right of the bar and of its interval whisker.
  const valueText = {
    transform: [{ calculate: 'isValid(datum.high) ? max(datum.value, datum.high) : datum.value', as: 'labelAt' }],
    mark: { type: 'text' as const, align: 'left' as const, dx: 4, color: theme.foreground },
    encoding: { x: { field: 'labelAt', type: 'quantitative' as const }, text: { field: 'value', type: 'quantitative' as const, format: '.3f' } },
  };
  const intervalRule = {
    transform: [{ filter: 'isValid(datum.low)' }],
    mark: { type: 'rule' as const, color: theme.foreground, strokeWidth: 1.5 },
    encoding: { x: { field: 'low', type: 'quantitative' as const }, x2: { field: 'high' } },
  };
  const proximity = Number.isFinite(layer.proximityError)
    ? [{ metric: 'Proximity error', value: layer.proximityError, low: layer.proximityErrorInterval?.[0], high: layer.proximityErrorInterval?.[1] }]
    : [];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: chartConfig(theme),
    title: { text: `Probe fit (single layer ${layer.index})`, limit: barWidth },
    vconcat: [
      {
        width: barWidth,
        data: { values: rows },
        encoding: {
          y: { field: 'metric', type: 'nominal', title: null, sort: order, axis: { labelLimit: 180 } },
          x: { field: 'value', type: 'quantitative', title: 'R² / ρ (higher is better)', scale: { domain: [low, 1] } },
        },
        layer: [
          {
            mark: { type: 'bar', height: { band: 0.6 } },
            encoding: {
              color: { field: 'metric', type: 'nominal', legend: null, sort: order, scale: { range: [theme.series[0], theme.series[1], theme.series[2], theme.series[4], theme.series[5], theme.mutedForeground] } },
              tooltip: [{ field: 'metric', title: 'Score' }, { field: 'value', title: 'Value', format: '.3f' }, { field: 'low', title: '95% CI low', format: '.3f' }, { field: 'high', title: 'high', format: '.3f' }],
            },
          },
          intervalRule,
          valueText,
        ],
      },
      ...(proximity.length > 0 ? [{
        width: barWidth,
        data: { values: proximity },
        encoding: {
          y: { field: 'metric', type: 'nominal' as const, title: null, axis: { labelLimit: 180 } },
          x: { field: 'value', type: 'quantitative' as const, title: 'Proximity error (lower is better; chance 0.5)', scale: { domain: [0, 0.6] } },
        },
        layer: [
          {
            mark: { type: 'bar' as const, height: { band: 0.6 }, color: theme.series[3] },
            encoding: { tooltip: [{ field: 'value', title: 'Proximity error', format: '.3f' }, { field: 'low', title: '95% CI low', format: '.3f' }, { field: 'high', title: 'high', format: '.3f' }] },
          },
          intervalRule,
          valueText,
          {
            data: { values: [{ chance: PROXIMITY_CHANCE }] },
            mark: { type: 'rule' as const, color: theme.mutedForeground, strokeDash: [2, 3] },
            encoding: { x: { field: 'chance', type: 'quantitative' as const }, y: null as never },
          },
        ],
      }] : []),
    ],
  } as TopLevelSpec;
}

/** Short legend name for a compared run: the model's last path segment (not an absolute path) and the dataset's. */
export function runLabel(summary: { readonly model: string; readonly dataset: string; readonly createdAt: string }): string {
  const short = (value: string): string => value.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || value;
  return `${short(summary.model)} · ${short(summary.dataset)} · ${summary.createdAt.slice(5, 16).replace('T', ' ')}`;
}

/**
 * Test R² by layer for several runs. When the runs' models have different depths, the x axis is relative depth
 * (layer / last layer), as in the paper's cross-model figures, with ticks at quarters. One-layer runs are drawn
 * as large points (at relative depth 0).
 */
export function compareChartSpec(runs: readonly ComparedRun[], theme: ChartTheme, width: number): TopLevelSpec {
  const depths = new Set(runs.map((r) => r.layers.length));
  const relative = depths.size > 1;
  const labels = runs.map((run) => runLabel(run.summary));
  // Two runs with the same short name are told apart by a number.
  const unique = labels.map((label, i) => (labels.indexOf(label) !== i || labels.lastIndexOf(label) !== i ? `${label} (${i + 1})` : label));
  const values = runs.flatMap((run, i) => {
    const last = Math.max(1, run.layers.length - 1);
    return run.layers
      .filter((l) => Number.isFinite(l.testR2))
      .map((l) => ({ run: unique[i], x: relative ? l.index / last : l.index, testR2: l.testR2, layer: l.index, path: run.summary.model }));
  });
  const maxLayer = Math.max(1, ...values.map((v) => v.x));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: chartConfig(theme),
    title: { text: 'Compared runs: test R² by layer', limit: width },
    width,
    height: 220,
    data: { values },
    mark: { type: 'line', point: { filled: true, size: 70 }, strokeWidth: 2 },
    encoding: {
      x: {
        field: 'x', type: 'quantitative', title: relative ? 'Relative depth (layer / last layer)' : 'Layer',
        scale: relative ? { domain: [0, 1], nice: false } : { domain: [0, maxLayer], nice: false },
        axis: relative ? { values: [0, 0.25, 0.5, 0.75, 1], format: '.2f' } : { format: 'd', tickMinStep: 1 },
      },
      y: { field: 'testR2', type: 'quantitative', title: 'Test R²' },
      color: { field: 'run', type: 'nominal', title: null, sort: unique, legend: { orient: 'bottom', columns: 1, labelLimit: Math.max(160, width) } },
      tooltip: [{ field: 'run', title: 'Run' }, { field: 'path', title: 'Model' }, { field: 'layer', title: 'Layer' }, { field: 'testR2', title: 'Test R²', format: '.3f' }],
    },
  };
}

/** A prediction joined with its error, as the map, time charts and table show it. */
export interface PredictionRow {
  readonly row: number;
  readonly name: string;
  readonly split: 'train' | 'test';
  readonly truth: readonly number[];
  readonly predicted: readonly number[];
  readonly error: number;
  readonly metadata?: Readonly<Record<string, string>>;
}

export function predictionRows(kind: 'space' | 'time', predictions: readonly Prediction[]): PredictionRow[] {
  return predictions.map((p) => ({
    row: p.row,
    name: p.name,
    split: p.split,
    truth: p.true,
    predicted: p.predicted,
    error: predictionError(kind, p.true, p.predicted),
    ...(p.metadata ? { metadata: p.metadata } : {}),
  }));
}

/** Topology or GeoJSON the map draws under the points. */
export interface BaseMap {
  /** Parsed TopoJSON (world, USA) or GeoJSON FeatureCollection (NYC boroughs). */
  readonly data: unknown;
  readonly format: { readonly type: 'topojson'; readonly feature: string } | { readonly type: 'json'; readonly property: string };
}

const PROJECTION: Readonly<Record<MapExtent, string>> = { world: 'equalEarth', usa: 'albers', nyc: 'mercator' };

/** At most this many entities are drawn on the map (both points and the error line each); the caption says so. */
export const MAP_POINT_LIMIT = 4000;

/**
 * Map of true (blue) and predicted (orange) positions joined by error lines, over the base map of the extent.
 * The projection is fitted to the extent's frame, not to the points, so a wild prediction does not zoom out.
 */
/** Error lines are drawn by default only up to this many entities (beyond, they hide the map). */
export const ERROR_LINES_DEFAULT_LIMIT = 300;

export interface MapOptions {
  /**
   * 'position' (default): true points blue, predicted orange. 'longitude': the paper's style — predicted points
   * coloured by the entity's TRUE longitude (a smooth hue means the probe keeps east–west order); truths not drawn.
   */
  readonly colour?: 'position' | 'longitude';
  /** Colour points by this metadata column instead (its 10 most common values; the rest "other"). */
  readonly colourBy?: string;
  /**
   * The column's values in the run's breakdown order (results.json groupBreakdown): the first 10 get the colours
   * they have in the Layers split; the rest are "other". Without it, the 10 most common values shown.
   */
  readonly groupOrder?: readonly string[];
  /** Draw a line from each truth to its prediction (default: only up to ERROR_LINES_DEFAULT_LIMIT entities). */
  readonly errorLines?: boolean;
}

export function mapSpec(rows: readonly PredictionRow[], extent: MapExtent, baseMap: BaseMap | undefined, theme: ChartTheme, width: number, options: MapOptions = {}): TopLevelSpec {
  const shown = thinOut(rows, MAP_POINT_LIMIT);
  const errorLines = options.errorLines ?? shown.length <= ERROR_LINES_DEFAULT_LIMIT;
  const byLongitude = options.colour === 'longitude' && !options.colourBy;
  const byColumn = options.colourBy;
  // The column's most common values get colours; the rest share "other".
  // With the run's breakdown order (largest test groups first), a value keeps the colour it has in the Layers split.
  const present = byColumn ? new Set(shown.map((r) => r.metadata?.[byColumn] ?? '')) : new Set<string>();
  const common = !byColumn ? new Set<string>()
    : options.groupOrder ? new Set(options.groupOrder.slice(0, SPLIT_GROUP_LIMIT).filter((value) => present.has(value)))
    : topValues(shown.map((r) => r.metadata?.[byColumn] ?? ''), SPLIT_GROUP_LIMIT);
  const groupColours = byColumn ? groupPalette(theme, options.groupOrder ? Math.min(options.groupOrder.length, SPLIT_GROUP_LIMIT) : common.size) : [];
  const colourOf = new Map((options.groupOrder ? options.groupOrder.slice(0, SPLIT_GROUP_LIMIT) : [...common]).map((value, i) => [value, groupColours[i]]));
  const groupOf = (r: PredictionRow): string => {
    const value = byColumn ? r.metadata?.[byColumn] ?? '' : '';
    return value === '' ? '(none)' : common.has(value) ? value : 'other';
  };
  const drawnGroups = new Set(byColumn ? shown.map(groupOf) : []);
  const rest = ([['other', theme.mutedForeground], ['(none)', mixColour(theme.mutedForeground, theme.background, 0.45)]] as const)
    .filter(([name]) => drawnGroups.has(name));
  const [west, south, east, north] = EXTENT_FRAMES[extent];
  // Fit to points along the frame's edges rather than to a polygon: a spherical polygon's meaning depends on its
  // winding (the wrong order means "the whole globe except the box"), and a conic projection bends the edges.
  const edgePoints: number[][] = [];
  for (let i = 0; i <= 8; i++) {
    const lon = west + ((east - west) * i) / 8;
    const lat = south + ((north - south) * i) / 8;
    edgePoints.push([lon, south], [lon, north], [west, lat], [east, lat]);
  }
  const frame = {
    type: 'Feature',
    properties: {},
    geometry: extent === 'world' ? { type: 'Sphere' } : { type: 'MultiPoint', coordinates: edgePoints },
  };
  const points = shown.flatMap((r) => [
    { row: r.row, name: r.name, split: r.split, position: 'true', latitude: r.truth[0], longitude: r.truth[1], trueLongitude: r.truth[1], group: groupOf(r), errorKm: Math.round(r.error) },
    { row: r.row, name: r.name, split: r.split, position: 'predicted', latitude: r.predicted[0], longitude: wrapLongitude(r.predicted[1]), trueLongitude: r.truth[1], group: groupOf(r), errorKm: Math.round(r.error) },
  ]);
  const lines = shown.map((r) => ({ row: r.row, name: r.name, lat: r.truth[0], lon: r.truth[1], lat2: r.predicted[0], lon2: wrapLongitude(r.predicted[1]) }));
  // Capped so the whole map fits a typical editor height; the projection fit keeps the aspect ratio.
  const height = Math.min(520, Math.round(width * (extent === 'world' ? 0.5 : extent === 'usa' ? 0.6 : 0.85)));
  const tooltip = [
    { field: 'name', title: 'Entity' },
    { field: 'position', title: 'Position' },
    { field: 'latitude', title: 'Latitude', format: '.3f' },
    { field: 'longitude', title: 'Longitude', format: '.3f' },
    { field: 'errorKm', title: 'Error (km)' },
    { field: 'split', title: 'Split' },
    { field: 'row', title: 'Line' },
  ];
  const layers: NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']> = [];
  if (baseMap) {
    layers.push({
      data: { values: baseMap.data, format: baseMap.format } as never,
      // Land as a faint wash of the text colour: visible on light and dark backgrounds alike.
      mark: { type: 'geoshape', fill: theme.land, fillOpacity: theme.landOpacity, stroke: theme.landBorder, strokeOpacity: 0.6, strokeWidth: 0.6, clip: true },
    });
  }
  if (errorLines) layers.push(
    {
      data: { values: lines },
      // Thousands of error lines would hide the map: fainter the more there are.
      mark: { type: 'rule', color: theme.errorLine, opacity: shown.length > 1500 ? 0.12 : shown.length > 300 ? 0.25 : 0.45, strokeWidth: 0.8, clip: true },
      encoding: {
        longitude: { field: 'lon', type: 'quantitative' },
        latitude: { field: 'lat', type: 'quantitative' },
        longitude2: { field: 'lon2' },
        latitude2: { field: 'lat2' },
      },
    },
  );
  layers.push(
    {
      data: { values: byLongitude || byColumn ? points.filter((point) => point.position === 'predicted') : points },
      mark: { type: 'circle', size: shown.length > 1500 ? 6 : 14, opacity: 0.85, clip: true, cursor: 'pointer' },
      encoding: {
        longitude: { field: 'longitude', type: 'quantitative' },
        latitude: { field: 'latitude', type: 'quantitative' },
        color: byColumn
          ? {
            field: 'group', type: 'nominal', title: byColumn, legend: { columns: 4, labelLimit: 160 },
            // Only the values drawn: an explicit domain would otherwise list "other" and "(none)" when there are none.
            scale: {
              domain: [...common, ...rest.map(([name]) => name)],
              range: [...[...common].map((value) => colourOf.get(value)!), ...rest.map(([, colour]) => colour)],
            },
          }
          : byLongitude
          ? { field: 'trueLongitude', type: 'quantitative', title: 'true longitude', scale: { scheme: 'turbo', domain: [-180, 180] } }
          : { field: 'position', type: 'nominal', title: null, scale: { domain: ['true', 'predicted'], range: [theme.truePoint, theme.predictedPoint] } },
        tooltip,
      },
    },
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: chartConfig(theme),
    width,
    height,
    projection: { type: PROJECTION[extent], fit: frame } as never,
    layer: layers,
  };
}

/** The `limit` most common non-empty values (ties: alphabetical). */
function topValues(values: readonly string[], limit: number): Set<string> {
  const counts = new Map<string, number>();
  for (const value of values) if (value !== '') counts.set(value, (counts.get(value) ?? 0) + 1);
  return new Set([...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, limit).map(([value]) => value));
}

/** Per true-decade summary of predicted years (the timeline view). */
export function decadeSummary(rows: readonly PredictionRow[]): { decade: number; mean: number; low: number; high: number; count: number }[] {
  const byDecade = new Map<number, number[]>();
  for (const r of rows) {
    const decade = Math.floor(r.truth[0] / 10) * 10;
    const list = byDecade.get(decade) ?? [];
    list.push(r.predicted[0]);
    byDecade.set(decade, list);
  }
  return [...byDecade.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([decade, predicted]) => {
      const m = mean(predicted);
      const sd = Math.sqrt(mean(predicted.map((p) => (p - m) ** 2)));
      return { decade, mean: m, low: m - sd, high: m + sd, count: predicted.length };
    });
}

/** Time datasets: predicted-vs-true scatter with the identity line, and a decade timeline (mean ± 1 sd). */
export function timeSpec(rows: readonly PredictionRow[], theme: ChartTheme, width: number): TopLevelSpec {
  const shown = thinOut(rows, MAP_POINT_LIMIT).map((r) => ({
    row: r.row, name: r.name, split: r.split, trueYear: r.truth[0], predictedYear: r.predicted[0], errorYears: Math.round(r.error * 10) / 10,
  }));
  const years = rows.flatMap((r) => [r.truth[0], r.predicted[0]]).filter(Number.isFinite);
  const lo = years.length ? Math.min(...years) : 0;
  const hi = years.length ? Math.max(...years) : 1;
  const summary = decadeSummary(rows).map((d) => ({ ...d, ideal: d.decade + 5 }));
  // Two plots side by side, each with its own y axis and title.
  const half = Math.max(220, Math.floor((width - 110) / 2));
  const height = Math.min(half, 340);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: chartConfig(theme),
    hconcat: [
      {
        title: { text: 'Predicted vs true year', limit: half },
        width: half,
        height,
        layer: [
          {
            data: { values: [{ year: lo, year2: hi }] },
            mark: { type: 'rule', color: theme.mutedForeground, strokeDash: [4, 3] },
            encoding: {
              x: { field: 'year', type: 'quantitative' },
              y: { field: 'year', type: 'quantitative' },
              x2: { field: 'year2' },
              y2: { field: 'year2' },
            },
          },
          {
            data: { values: shown },
            mark: { type: 'circle', size: 14, opacity: 0.7, cursor: 'pointer' },
            encoding: {
              x: { field: 'trueYear', type: 'quantitative', title: 'True year', scale: { zero: false, domain: [lo, hi] }, axis: { format: 'd' } },
              y: { field: 'predictedYear', type: 'quantitative', title: 'Predicted year', scale: { zero: false, domain: [lo, hi] }, axis: { format: 'd' } },
              color: { field: 'split', type: 'nominal', title: null, scale: { domain: ['train', 'test'], range: [theme.series[0], theme.series[1]] } },
              tooltip: [
                { field: 'name', title: 'Entity' },
                { field: 'trueYear', title: 'True year' },
                { field: 'predictedYear', title: 'Predicted year', format: '.0f' },
                { field: 'errorYears', title: 'Error (years)' },
                { field: 'split', title: 'Split' },
                { field: 'row', title: 'Line' },
              ],
            },
          },
        ],
      },
      {
        // Two lines when the half-width plot cannot hold it on one (a 740 px panel clipped it).
        title: { text: half < 360 ? ['Timeline: predicted year by', 'true decade (mean ± 1 sd)'] : 'Timeline: predicted year by true decade (mean ± 1 sd)', limit: half },
        width: half,
        height,
        data: { values: summary },
        layer: [
          {
            mark: { type: 'area', opacity: 0.25, color: theme.series[1] },
            encoding: {
              x: { field: 'decade', type: 'quantitative', title: 'True decade', scale: { zero: false }, axis: { format: 'd' } },
              y: { field: 'low', type: 'quantitative', title: 'Predicted year', scale: { zero: false }, axis: { format: 'd' } },
              y2: { field: 'high' },
            },
          },
          {
            mark: { type: 'line', color: theme.mutedForeground, strokeDash: [4, 3], clip: true },
            encoding: { x: { field: 'decade', type: 'quantitative' }, y: { field: 'ideal', type: 'quantitative' } },
          },
          {
            mark: { type: 'line', point: { color: theme.series[1] }, color: theme.series[1], tooltip: true },
            encoding: {
              x: { field: 'decade', type: 'quantitative' },
              y: { field: 'mean', type: 'quantitative' },
              tooltip: [
                { field: 'decade', title: 'Decade' },
                { field: 'mean', title: 'Mean predicted', format: '.0f' },
                { field: 'count', title: 'Entities' },
              ],
            },
          },
        ],
      },
    ],
  };
}

/** The chart of `tab` with a title naming the run: dataset, model, prompt, token, date (for exported files). */
export function titledSpec(spec: TopLevelSpec, view: Pick<RunView, 'summary' | 'results'>, tabLabel: string): TopLevelSpec {
  const { summary, results } = view;
  const own = (spec as { title?: unknown }).title;
  const ownText = typeof own === 'string' ? own : typeof own === 'object' && own !== null ? String((own as { text?: unknown }).text ?? '') : '';
  const date = (results.createdAt ?? summary.createdAt).slice(0, 16).replace('T', ' ');
  const subtitle = [
    ...(ownText ? [ownText] : []),
    `prompt "${results.prompt ?? summary.prompt ?? '{entity}'}" \u00b7 token ${results.token ?? 'prompt-last'} \u00b7 ${results.split.train} train / ${results.split.test} test \u00b7 ${date}`,
  ];
  return { ...spec, title: { text: `${summary.dataset} \u00b7 ${summary.model} \u2014 ${tabLabel}`, subtitle, anchor: 'start' } } as TopLevelSpec;
}


/** A group's test R² (mean over targets, each target's R² within the group) and mean error. */
export interface GroupScore {
  readonly group: string;
  readonly count: number;
  readonly r2: number;
  readonly meanError: number;
  /** Proximity error within the group (from results.json's per-layer groups; absent when computed from predictions). */
  readonly proximityError?: number;
}

/** Groups with fewer test rows than this are left out of the breakdown (their R² means little). */
export const MIN_GROUP_ROWS = 5;

/**
 * Test R² per value of a metadata column (the paper's "R² per entity type"): test rows grouped by
 * `metadata[column]`, each group's R² computed within it (scikit-learn semantics per target, then averaged),
 * largest groups first, at most `limit`.
 */
export function groupScores(rows: readonly PredictionRow[], column: string, limit = 12): GroupScore[] {
  const groups = new Map<string, PredictionRow[]>();
  for (const row of rows) {
    if (row.split !== 'test') continue;
    const value = row.metadata?.[column];
    if (value === undefined || value === '') continue;
    const list = groups.get(value) ?? [];
    list.push(row);
    groups.set(value, list);
  }
  const scores: GroupScore[] = [];
  for (const [group, members] of groups) {
    if (members.length < MIN_GROUP_ROWS) continue;
    const targets = members[0].truth.length;
    let sum = 0;
    for (let c = 0; c < targets; c++) {
      const truth = members.map((m) => m.truth[c]);
      const average = mean(truth);
      let residual = 0;
      let total = 0;
      members.forEach((m, i) => {
        residual += (truth[i] - m.predicted[c]) ** 2;
        total += (truth[i] - average) ** 2;
      });
      sum += total === 0 ? (residual === 0 ? 1 : 0) : 1 - residual / total;
    }
    scores.push({ group, count: members.length, r2: sum / targets, meanError: mean(members.map((m) => m.error).filter(Number.isFinite)) });
  }
  return scores.sort((a, b) => b.count - a.count || a.group.localeCompare(b.group)).slice(0, limit);
}

/** Bars of test R² per group of a metadata column, at the best layer. */
export function groupSpec(scores: readonly GroupScore[], column: string, layer: number, theme: ChartTheme, width: number): TopLevelSpec {
  const low = Math.min(0, ...scores.map((score) => Math.max(-1, score.r2)));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: chartConfig(theme),
    title: { text: `Test R² by ${column} (layer ${layer}; R² within each group; groups of ${MIN_GROUP_ROWS}+ test entities)`, limit: Math.max(160, width) },
    width: Math.max(160, Math.min(width, 640)),
    data: { values: scores.map((score) => ({ ...score, shown: Math.max(-1, score.r2) })) },
    encoding: {
      y: { field: 'group', type: 'nominal', title: null, sort: scores.map((score) => score.group), axis: { labelLimit: 180 } },
      x: { field: 'shown', type: 'quantitative', title: 'Test R² (clipped at −1)', scale: { domain: [low, 1] } },
    },
    layer: [
      {
        mark: { type: 'bar', height: { band: 0.6 }, color: theme.series[1] },
        encoding: {
          tooltip: [
            { field: 'group', title: column }, { field: 'count', title: 'Test entities' }, { field: 'r2', title: 'Test R²', format: '.3f' },
            scores.some((score) => score.proximityError !== undefined)
              ? { field: 'proximityError', title: 'Proximity error', format: '.3f' } : { field: 'meanError', title: 'Mean error', format: '.1f' },
          ],
        },
      },
      { mark: { type: 'text', align: 'left', dx: 4, color: theme.foreground }, encoding: { text: { field: 'r2', type: 'quantitative', format: '.2f' } } },
    ],
  };
}

/** At most this many groups get a line in the Layers split (and a colour of their own on the map); the rest are named in the caption. */
export const SPLIT_GROUP_LIMIT = 10;

/**
 * Colours for up to SPLIT_GROUP_LIMIT groups from the theme's six chart colours: the first six as they are, the
 * next ones the same hues mixed halfway towards the text colour (lighter on dark themes, darker on light ones),
 * so group i has the same colour in the Layers split and on the map.
 */
export function groupPalette(theme: ChartTheme, count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const base = theme.series[i % theme.series.length];
    return i < theme.series.length ? base : mixColour(base, theme.foreground, 0.5);
  });
}

function mixColour(color: string, toward: string, t: number): string {
  const a = parseColor(color);
  const b = parseColor(toward);
  if (!a || !b) return color;
  return `#${a.map((value, i) => Math.round(value + (b[i] - value) * t).toString(16).padStart(2, '0')).join('')}`;
}

/** A layer's scores of one group of a metadata column, as the split chart draws them. */
export interface GroupLayerRow {
  readonly layer: number;
  readonly group: string;
  /** Legend label: the value and its number of test entities. */
  readonly label: string;
  readonly n: number;
  readonly r2: number;
  /** R² per target within the group (latitude, longitude), for the tooltip. */
  readonly r2PerTarget: Readonly<Record<string, number>>;
  readonly proximityError: number;
}

/**
 * One row per (layer, group) from results.json's `layers[].groups[column]`, for the groups in `order` (largest
 * first, as groupBreakdown lists them) up to `limit`; non-finite R² dropped.
 */
export function groupLayerRows(layers: readonly LayerResult[], column: string, order: readonly string[], limit = SPLIT_GROUP_LIMIT): GroupLayerRow[] {
  const shown = order.slice(0, limit);
  const rows: GroupLayerRow[] = [];
  for (const layer of layers) {
    const groups = layer.groups?.[column];
    if (!groups) continue;
    for (const group of shown) {
      const scores = groups[group];
      if (!scores || !Number.isFinite(scores.r2)) continue;
      rows.push({ layer: layer.index, group, label: `${group} (n=${scores.n})`, n: scores.n, r2: scores.r2, r2PerTarget: scores.r2PerTarget, proximityError: scores.proximityError });
    }
  }
  return rows;
}

/**
 * The paper's per-type figure: test R² by layer, one line per value of `column` (R² within each group), with the
 * overall test R² as a muted dashed line and the best layer marked. Lines past the sixth colour are dashed too, so
 * that a group never depends on a colour alone.
 */
export function groupLayerSpec(layers: readonly LayerResult[], column: string, order: readonly string[], bestLayer: number, theme: ChartTheme, width: number,
  minTestEntities = MIN_GROUP_ROWS): TopLevelSpec {
  const rows = groupLayerRows(layers, column, order);
  const labels = [...new Set(rows.map((row) => row.label))];
  const groups = [...new Set(rows.map((row) => row.group))];
  const palette = groupPalette(theme, groups.length);
  const overall = 'all test entities';
  const domain = [...labels, overall];
  const range = [...palette, theme.mutedForeground];
  const dashes = [...groups.map((_, i) => (i < theme.series.length ? [1, 0] : [5, 3])), [2, 3]];
  const indices = layers.map((l) => l.index);
  const x = {
    field: 'layer', type: 'quantitative' as const, title: 'Layer',
    scale: { domain: [Math.min(...indices), Math.max(...indices)], nice: false },
    axis: { tickMinStep: 1, format: 'd', labelOverlap: true },
  };
  // R² far below zero (a group the probe places worse than its own mean) would squash the others: clipped at −1.
  const clip = (value: number): number => Math.max(-1, value);
  const values = [
    ...rows.map((row) => ({ ...row, shown: clip(row.r2) })),
    ...layers.filter((l) => Number.isFinite(l.testR2)).map((l) => ({
      layer: l.index, group: overall, label: overall, n: undefined, r2: l.testR2, r2PerTarget: l.testR2PerTarget, proximityError: l.proximityError, shown: clip(l.testR2),
    })),
  ];
  // Per-target R² in the tooltip when there are several targets (latitude and longitude).
  const targets = Object.keys(layers[0]?.testR2PerTarget ?? {});
  const perTargetTooltip = targets.length > 1 ? targets.map((target) => ({ field: `r2PerTarget.${target}`, title: `Test R² (${target})`, format: '.3f' })) : [];
  const low = Math.min(0, ...values.map((value) => value.shown));
  // One column in a narrow panel, so that "subway_station (n=81)" is never cut.
  const legendColumns = width < 420 ? 1 : 3;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: chartConfig(theme),
    title: { text: `Test R² by ${column}, per layer`, subtitle: width < 420 ? ['R² within each group', `(${minTestEntities}+ test entities)`] : `R² within each group (${minTestEntities}+ test entities)`, limit: Math.max(160, width), subtitleColor: theme.mutedForeground },
    width,
    height: 220,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: { filled: true, size: 24 }, strokeWidth: 1.8, clip: true },
        encoding: {
          x,
          y: { field: 'shown', type: 'quantitative', title: 'Test R² (clipped at −1)', scale: { domain: [low, 1] } },
          color: { field: 'label', type: 'nominal', title: column, scale: { domain, range }, legend: { orient: 'bottom', columns: legendColumns, labelLimit: Math.max(120, Math.floor(width / legendColumns) - 30), symbolType: 'stroke' } },
          strokeDash: { field: 'label', type: 'nominal', scale: { domain, range: dashes }, legend: null },
          tooltip: [
            { field: 'group', title: column }, { field: 'layer', title: 'Layer' }, { field: 'n', title: 'Test entities' },
            { field: 'r2', title: 'Test R²', format: '.3f' }, ...perTargetTooltip, { field: 'proximityError', title: 'Proximity error', format: '.3f' },
          ],
        },
      },
      {
        data: { values: [{ layer: bestLayer }] },
        mark: { type: 'rule', color: theme.bestLayer, strokeDash: [4, 3] },
        encoding: { x: { field: 'layer', type: 'quantitative' } },
      },
    ],
  };
}

/** A layer's groups of one column as bar-chart scores (a one-layer model, where there is no curve to draw). */
export function groupScoresAtLayer(layer: LayerResult, column: string, order: readonly string[]): GroupScore[] {
  const groups = layer.groups?.[column] ?? {};
  return order.filter((group) => groups[group]).slice(0, SPLIT_GROUP_LIMIT)
    .map((group) => ({ group, count: groups[group].n, r2: groups[group].r2, meanError: Number.NaN, proximityError: groups[group].proximityError }));
}

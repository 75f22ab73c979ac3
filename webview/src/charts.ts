/**
 * Vega-Lite specifications for the results panel, built from results.json data. Pure functions (no DOM, no Vega
 * runtime) so they can be unit-tested in Node; webview/src/main.ts embeds them with vega-embed.
 *
 * Entity names never reach HTML here: Vega draws them as SVG/canvas text, and tooltips go through
 * vega-tooltip's HTML escaping (see main.ts).
 */
import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };
import type { LayerResult, Prediction } from '../../src/core/experiments/results';
import type { ComparedRun, MapExtent } from './protocol';
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

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** Long-format rows for the layer chart: one row per (layer, metric). Non-finite values are dropped. */
export function layerMetricRows(layers: readonly LayerResult[]): { layer: number; metric: string; value: number }[] {
  const rows: { layer: number; metric: string; value: number }[] = [];
  for (const layer of layers) {
    const values = [layer.trainR2, layer.testR2, mean(Object.values(layer.spearman))];
    values.forEach((value, i) => {
      if (Number.isFinite(value)) rows.push({ layer: layer.index, metric: LAYER_METRICS[i], value });
    });
  }
  return rows;
}

/**
 * Layerwise chart: train/test R² and test Spearman (top), proximity error (bottom, its own unit), best layer
 * marked by a vertical rule and a label on both.
 */
export function layerChartSpec(layers: readonly LayerResult[], bestLayer: number, theme: ChartTheme, width: number): TopLevelSpec {
  if (layers.length === 1) return singleLayerSpec(layers[0], theme, width);
  const best = layers.find((l) => l.index === bestLayer);
  const bestRule = {
    data: { values: [{ layer: bestLayer, label: `best layer ${bestLayer}` }] },
    layer: [
      { mark: { type: 'rule' as const, color: theme.bestLayer, strokeDash: [4, 3] }, encoding: { x: { field: 'layer', type: 'quantitative' as const } } },
      {
        mark: { type: 'text' as const, color: theme.bestLayer, align: 'left' as const, dx: 4, dy: -4, baseline: 'top' as const, y: 0 },
        encoding: { x: { field: 'layer', type: 'quantitative' as const }, text: { field: 'label' } },
      },
    ],
  };
  const xAxis = { field: 'layer', type: 'quantitative' as const, title: 'Layer', axis: { tickMinStep: 1, format: 'd' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: chartConfig(theme),
    vconcat: [
      {
        title: best ? `Probe fit by layer (best layer ${bestLayer}: test R² ${best.testR2.toFixed(3)})` : 'Probe fit by layer',
        width,
        height: 220,
        layer: [
          {
            data: { values: layerMetricRows(layers) },
            mark: { type: 'line', point: true, tooltip: true },
            encoding: {
              x: xAxis,
              y: { field: 'value', type: 'quantitative', title: 'Score', scale: { domainMax: 1 } },
              color: { field: 'metric', type: 'nominal', title: null, sort: [...LAYER_METRICS] },
            },
          },
          bestRule,
        ],
      },
      {
        width,
        height: 140,
        layer: [
          {
            data: { values: layers.filter((l) => Number.isFinite(l.proximityError)).map((l) => ({ layer: l.index, proximityError: l.proximityError })) },
            mark: { type: 'line', point: { color: theme.series[3] }, color: theme.series[3], tooltip: true },
            encoding: {
              x: xAxis,
              // The paper's proximity error: share of other entities predicted closer to the truth (0 perfect, ~0.5 chance).
              y: { field: 'proximityError', type: 'quantitative', title: 'Proximity error', scale: { zero: true } },
            },
          },
          bestRule,
        ],
      },
    ],
  };
}

/** A one-layer model (GloVe) has no curve: its scores as labelled bars. */
function singleLayerSpec(layer: LayerResult, theme: ChartTheme, width: number): TopLevelSpec {
  const rows = layerMetricRows([layer]);
  if (Number.isFinite(layer.proximityError)) rows.push({ layer: layer.index, metric: 'Proximity error', value: layer.proximityError });
  const low = Math.min(0, ...rows.map((r) => r.value));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: chartConfig(theme),
    title: `Probe fit (single layer ${layer.index})`,
    width: Math.min(width, 640),
    data: { values: rows },
    encoding: {
      y: { field: 'metric', type: 'nominal', title: null, sort: [...LAYER_METRICS, 'Proximity error'] },
      x: { field: 'value', type: 'quantitative', title: 'Score', scale: { domain: [low, 1] } },
    },
    layer: [
      {
        mark: { type: 'bar', height: { band: 0.6 }, tooltip: true },
        encoding: { color: { field: 'metric', type: 'nominal', legend: null, sort: [...LAYER_METRICS, 'Proximity error'] } },
      },
      { mark: { type: 'text', align: 'left', dx: 4, color: theme.foreground }, encoding: { text: { field: 'value', type: 'quantitative', format: '.3f' } } },
    ],
  };
}

/**
 * Test R² by layer for several runs. When the runs' models have different depths, the x axis is relative depth
 * (layer / last layer), as in the paper's cross-model figures.
 */
export function compareChartSpec(runs: readonly ComparedRun[], theme: ChartTheme, width: number): TopLevelSpec {
  const depths = new Set(runs.map((r) => r.layers.length));
  const relative = depths.size > 1;
  const values = runs.flatMap((run) => {
    const last = Math.max(1, run.layers.length - 1);
    const label = `${run.summary.model} · ${run.summary.dataset} (${run.summary.createdAt.slice(0, 16).replace('T', ' ')})`;
    return run.layers
      .filter((l) => Number.isFinite(l.testR2))
      .map((l) => ({ run: label, x: relative ? l.index / last : l.index, testR2: l.testR2 }));
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: chartConfig(theme),
    title: 'Compared runs: test R² by layer',
    width,
    height: 220,
    data: { values },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x: {
        field: 'x', type: 'quantitative', title: relative ? 'Relative depth (layer / last layer)' : 'Layer',
        axis: relative ? { format: '.1f' } : { format: 'd', tickMinStep: 1 },
      },
      y: { field: 'testR2', type: 'quantitative', title: 'Test R²' },
      color: { field: 'run', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 1, labelLimit: 600 } },
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
}

export function predictionRows(kind: 'space' | 'time', predictions: readonly Prediction[]): PredictionRow[] {
  return predictions.map((p) => ({
    row: p.row,
    name: p.name,
    split: p.split,
    truth: p.true,
    predicted: p.predicted,
    error: predictionError(kind, p.true, p.predicted),
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
export function mapSpec(rows: readonly PredictionRow[], extent: MapExtent, baseMap: BaseMap | undefined, theme: ChartTheme, width: number): TopLevelSpec {
  const shown = thinOut(rows, MAP_POINT_LIMIT);
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
    { row: r.row, name: r.name, split: r.split, position: 'true', latitude: r.truth[0], longitude: r.truth[1], errorKm: Math.round(r.error) },
    { row: r.row, name: r.name, split: r.split, position: 'predicted', latitude: r.predicted[0], longitude: r.predicted[1], errorKm: Math.round(r.error) },
  ]);
  const lines = shown.map((r) => ({ row: r.row, name: r.name, lat: r.truth[0], lon: r.truth[1], lat2: r.predicted[0], lon2: r.predicted[1] }));
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
  layers.push(
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
    {
      data: { values: points },
      mark: { type: 'circle', size: shown.length > 1500 ? 6 : 14, opacity: 0.85, clip: true, cursor: 'pointer' },
      encoding: {
        longitude: { field: 'longitude', type: 'quantitative' },
        latitude: { field: 'latitude', type: 'quantitative' },
        color: {
          field: 'position',
          type: 'nominal',
          title: null,
          scale: { domain: ['true', 'predicted'], range: [theme.truePoint, theme.predictedPoint] },
        },
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
        title: 'Predicted vs true year',
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
        title: 'Timeline: predicted year by true decade (mean ± 1 sd)',
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

/**
 * Results panel front end. Runs inside the webview (browser, strict CSP, no network): receives a run from the
 * host (see protocol.ts), draws the layer chart, map or time views and the predictions table, and posts back
 * reveal/export requests. Vega runs with vega-interpreter (`ast: true`) so no code is generated at run time
 * and the CSP needs no 'unsafe-eval'.
 */
import type { EmbedOptions, Result as EmbedResult } from 'vega-embed' with { 'resolution-mode': 'import' };
import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };
import type { Prediction } from '../../src/core/experiments/results';
import {
  FALLBACK_THEME, compareChartSpec, layerChartSpec, mapSpec, predictionRows, timeSpec, withContrast, luminance, titledSpec, groupScores, groupSpec, groupLayerSpec, groupScoresAtLayer, ERROR_LINES_DEFAULT_LIMIT, SPLIT_GROUP_LIMIT, MAP_POINT_LIMIT,
  type BaseMap, type ChartTheme, type PredictionRow,
} from './charts';
import { chooseMapExtent } from './geo';
import {
  MAP_EXTENTS, SKIPPED_SENT, parseHostToWebview,
  type ComparedRun, type ExportFormat, type HostToWebview, type MapExtent, type RenderMark, type RunView, type WebviewToHost, type WebviewUiState,
} from './protocol';
import { fixed, metadataColumns, renderPredictionTable, type SortColumn } from './table';
import { applyPredictionsDelta, unpackPredictions, type PackedPredictions } from './packedPredictions';
import { canUpdateInPlace, hoistInlineData, updateInPlace, type Changeset, type DataView, type PreparedSpec } from './chartUpdate';
import { experimentSections } from './experimentCharts';
import { renderExperimentSections } from './experimentsTab';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: WebviewUiState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

type Embed = (element: HTMLElement, spec: TopLevelSpec, options: EmbedOptions) => Promise<EmbedResult>;
type TabId = WebviewUiState['tab'];

const vscode = acquireVsCodeApi();
const TABLE_ROW_LIMIT = 500;

const DEFAULT_STATE: WebviewUiState = { tab: 'layers', split: 'test', sortColumn: 'error', sortDescending: true, filter: '' };

function restoredState(): WebviewUiState {
  const saved = vscode.getState();
  if (typeof saved !== 'object' || saved === null) return DEFAULT_STATE;
  return { ...DEFAULT_STATE, ...(saved as Partial<WebviewUiState>) };
}

let state: WebviewUiState = restoredState();
let run: RunView | undefined;
let compare: readonly ComparedRun[] = [];
let embed: Embed | undefined;
let embedOptions: EmbedOptions = {};
/** vega.changeset, once vega-embed is loaded (chartUpdate.ts modifies a chart's data with it). */
let changeset: () => Changeset = () => { throw new Error('vega is not loaded yet'); };
/** Predictions per layer: the best layer's come with the run, others are requested from the host. */
const layerPredictions = new Map<number, readonly Prediction[]>();
const pendingLayerRequests = new Map<number, number>();
let nextRequestId = 1;
/** The Vega views currently on screen, per tab, for PNG/SVG export and clean-up. */
const views = new Map<TabId, EmbedResult>();
/** The Compare Runs chart under the layer chart, when runs are compared. */
let compareView: EmbedResult | undefined;
const baseMaps = new Map<MapExtent, Promise<BaseMap | undefined>>();

/** Timestamps of the drawing in progress, reported with `rendered` (the editor-loop benchmark's webview phases). */
let renderMarks: RenderMark[] = [];

function markRender(phase: string): void {
  if (renderMarks.length < 24) renderMarks.push({ phase, at: performance.timeOrigin + performance.now() });
}

/** Resolves after the browser has painted (the next frame), or after 100 ms where frames do not come (a hidden panel). */
function nextFrame(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 100);
    requestAnimationFrame(() => setTimeout(() => { clearTimeout(timer); resolve(); }, 0));
  });
}

function setState(patch: Partial<WebviewUiState>): void {
  state = { ...state, ...patch };
  vscode.setState(state);
}

function post(message: WebviewToHost): void {
  vscode.postMessage(message);
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, options: { className?: string; text?: string; id?: string } = {}): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined) node.textContent = options.text;
  if (options.id) node.id = options.id;
  return node;
}

// ---------------------------------------------------------------- theme

function cssVariable(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

/** Reads VS Code's theme variables (set on <html> by the webview host) into chart colours. */
function currentTheme(): ChartTheme {
  const highContrast = document.body.classList.contains('vscode-high-contrast') || document.body.classList.contains('vscode-high-contrast-light');
  const foreground = cssVariable('--vscode-foreground', FALLBACK_THEME.foreground);
  const border = cssVariable('--vscode-contrastBorder', '');
  const background = cssVariable('--vscode-editor-background', FALLBACK_THEME.background);
  // Series colours from the theme, lifted towards the text colour where they would not stand out from the
  // background (3:1, WCAG's figure for graphics).
  const visible = (name: string, fallback: string): string => withContrast(cssVariable(name, fallback), background, foreground);
  return {
    foreground,
    mutedForeground: cssVariable('--vscode-descriptionForeground', FALLBACK_THEME.mutedForeground),
    background,
    grid: highContrast && border ? border : cssVariable('--vscode-editorWidget-border', cssVariable('--vscode-panel-border', FALLBACK_THEME.grid)),
    fontFamily: cssVariable('--vscode-font-family', FALLBACK_THEME.fontFamily),
    fontSize: Number.parseFloat(cssVariable('--vscode-font-size', '13')) || 13,
    series: [
      visible('--vscode-charts-blue', FALLBACK_THEME.series[0]),
      visible('--vscode-charts-orange', FALLBACK_THEME.series[1]),
      visible('--vscode-charts-green', FALLBACK_THEME.series[2]),
      visible('--vscode-charts-red', FALLBACK_THEME.series[3]),
      visible('--vscode-charts-purple', FALLBACK_THEME.series[4]),
      visible('--vscode-charts-yellow', FALLBACK_THEME.series[5]),
    ],
    truePoint: visible('--vscode-charts-blue', FALLBACK_THEME.truePoint),
    predictedPoint: visible('--vscode-charts-orange', FALLBACK_THEME.predictedPoint),
    errorLine: cssVariable('--vscode-descriptionForeground', FALLBACK_THEME.errorLine),
    land: foreground,
    // A wash of the text colour: a dark theme needs more of it to show than a light one.
    landOpacity: highContrast ? 0 : (luminance(background) ?? 1) < 0.2 ? 0.16 : 0.08,
    landBorder: highContrast && border ? border : cssVariable('--vscode-editorWidget-border', cssVariable('--vscode-panel-border', FALLBACK_THEME.landBorder)),
    bestLayer: visible('--vscode-charts-red', FALLBACK_THEME.bestLayer),
  };
}

// ---------------------------------------------------------------- base maps (bundled files, fetched locally)

function geoBaseUri(): string {
  return document.body.dataset.geoBase ?? './geo';
}

async function fetchJson(name: string): Promise<unknown> {
  const response = await fetch(`${geoBaseUri()}/${name}`);
  if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
  return response.json();
}

function loadBaseMap(extent: MapExtent): Promise<BaseMap | undefined> {
  let pending = baseMaps.get(extent);
  if (!pending) {
    const load = async (): Promise<BaseMap> => {
      if (extent === 'world') return { data: await fetchJson('world-110m.json'), format: { type: 'topojson', feature: 'countries' } };
      if (extent === 'usa') return { data: await fetchJson('states-10m.json'), format: { type: 'topojson', feature: 'states' } };
      return { data: await fetchJson('nyc-boroughs.geojson'), format: { type: 'json', property: 'features' } };
    };
    pending = load().catch((error: unknown) => {
      post({ type: 'log', level: 'error', message: `Base map for ${extent} could not be loaded: ${String(error)}` });
      return undefined;
    });
    baseMaps.set(extent, pending);
  }
  return pending;
}

// ---------------------------------------------------------------- rendering

function chartWidth(container: HTMLElement): number {
  // Leave room for axis titles and labels that Vega adds around the plotting area; never wider than the panel
  // (a 355 px panel gets a 255 px plot, not one that runs off the right edge).
  const available = container.clientWidth || document.body.clientWidth || 800;
  return Math.max(140, Math.min(1400, available - (available < 500 ? 100 : 130)));
}

/** Test R² of the shuffled-labels control by layer, when the run has a controls experiment. */
function shuffledControl(): { layer: number; testR2: number }[] | undefined {
  const controls = run?.experiments?.find((experiment) => experiment.experiment === 'controls');
  if (!controls || controls.experiment !== 'controls') return undefined;
  const rows = controls.layers.filter((layer) => layer.shuffled).map((layer) => ({ layer: layer.index, testR2: layer.shuffled!.testR2 }));
  return rows.length > 0 ? rows : undefined;
}

/** Warnings of the run (e.g. a small test split) and the entities it skipped, above the Layers chart. */
function runNotes(): HTMLElement[] {
  if (!run) return [];
  const notes: HTMLElement[] = [];
  for (const warning of run.results.warnings ?? []) notes.push(element('p', { className: 'warning', text: `\u26a0 ${warning}` }));
  const skipped = run.results.skipped ?? [];
  // The host sends the first SKIPPED_SENT and the count.
  const skippedCount = run.skippedCount ?? skipped.length;
  if (skippedCount > 0) {
    const details = element('details', { className: 'skipped', id: 'skipped-entities' });
    details.appendChild(element('summary', { text: `${skippedCount} ${skippedCount === 1 ? 'entity was' : 'entities were'} skipped (no usable token)` }));
    const list = element('ul');
    for (const entry of skipped.slice(0, SKIPPED_SENT)) list.appendChild(element('li', { text: `line ${entry.row}: ${entry.name} \u2014 ${entry.reason}` }));
    if (skippedCount > SKIPPED_SENT) list.appendChild(element('li', { text: `\u2026 and ${skippedCount - SKIPPED_SENT} more (results.json "skipped")` }));
    details.appendChild(list);
    notes.push(details);
  }
  return notes;
}

/** The spec last drawn per tab: exports draw it once more with a title and the run's provenance. */
const drawnSpecs = new Map<TabId, TopLevelSpec>();

/** Per tab, the chart on screen: its prepared spec and its container, so a redraw can change only its data. */
const drawnCharts = new Map<TabId, { readonly prepared: PreparedSpec; readonly container: HTMLElement }>();

async function drawChart(tab: TabId, container: HTMLElement, spec: TopLevelSpec, onClickRow: boolean): Promise<void> {
  if (!embed) return;
  markRender(`${tab}: spec built`);
  drawnSpecs.set(tab, spec);
  const prepared = hoistInlineData(spec);
  const previous = drawnCharts.get(tab);
  const view = views.get(tab);
  if (view && canUpdateInPlace(previous?.prepared, prepared) && previous) {
    // Same chart but for its data (a re-run, a split or layer change): keep the view, its SVG and its listeners.
    container.replaceWith(previous.container);
    await updateInPlace(view.view as unknown as DataView, prepared, changeset);
    drawnCharts.set(tab, { prepared, container: previous.container });
    markRender(`${tab}: vega data updated`);
    return;
  }
  view?.finalize();
  views.delete(tab);
  drawnCharts.delete(tab);
  const result = await embed(container, prepared.spec, embedOptions);
  markRender(`${tab}: vega embedded`);
  views.set(tab, result);
  drawnCharts.set(tab, { prepared, container });
  if (onClickRow) {
    result.view.addEventListener('click', (_event, item) => {
      const datum = (item as { datum?: { row?: unknown } } | null | undefined)?.datum;
      if (datum && typeof datum.row === 'number') post({ type: 'revealEntity', row: datum.row });
    });
  }
}

function selectedLayer(): number {
  if (!run) return 0;
  const layer = state.layer;
  return layer !== undefined && run.layersWithPredictions.includes(layer) ? layer : run.results.bestLayer;
}

/** Predictions of the selected layer, requesting them from the host when not yet here. */
function predictionsForSelectedLayer(): readonly Prediction[] | undefined {
  if (!run) return undefined;
  const layer = selectedLayer();
  const cached = layerPredictions.get(layer);
  if (cached) return cached;
  if (![...pendingLayerRequests.values()].includes(layer)) {
    const requestId = nextRequestId++;
    pendingLayerRequests.set(requestId, layer);
    post({ type: 'requestLayerPredictions', requestId, layer });
  }
  return undefined;
}

function rowsForSplit(rows: readonly PredictionRow[]): readonly PredictionRow[] {
  return state.split === 'all' ? rows : rows.filter((r) => r.split === state.split);
}

function describeSplit(): string {
  return state.split === 'all' ? 'train and test splits' : `${state.split} split`;
}

interface TabDefinition {
  readonly id: TabId;
  readonly label: string;
  readonly available: (view: RunView) => boolean;
  readonly render: (panel: HTMLElement) => Promise<void>;
}

/** Tabs in order. Issue 8's "Experiments" view adds one entry here. */
const TABS: readonly TabDefinition[] = [
  { id: 'layers', label: 'Layers', available: () => true, render: renderLayersTab },
  { id: 'map', label: 'Map', available: (view) => view.results.kind === 'space', render: renderMapTab },
  { id: 'time', label: 'Time', available: (view) => view.results.kind === 'time', render: renderTimeTab },
  { id: 'table', label: 'Predictions', available: () => true, render: renderTableTab },
  { id: 'experiments', label: 'Experiments', available: (view) => (view.experiments?.length ?? 0) > 0, render: renderExperimentsTab },
];

/** The Experiments tab holds several charts: all are finalised on re-render; the first is the tab's export view. */
let experimentViews: EmbedResult[] = [];

async function renderExperimentsTab(panel: HTMLElement): Promise<void> {
  if (!run?.experiments || !embed) return;
  for (const view of experimentViews) view.finalize();
  experimentViews = [];
  views.delete('experiments');
  const baseMap = run.results.kind === 'space' ? await loadBaseMap('world') : undefined;
  const pending = renderExperimentSections(panel, experimentSections(run.experiments, currentTheme(), chartWidth(panel), baseMap));
  for (const { container, spec } of pending) {
    const result = await embed(container, spec, embedOptions);
    experimentViews.push(result);
    if (!views.has('experiments')) views.set('experiments', result);
  }
}

async function renderLayersTab(panel: HTMLElement): Promise<void> {
  if (!run) return;
  const { results } = run;
  const best = results.layers.find((l) => l.index === results.bestLayer);
  const summary = element('p', { className: 'caption' });
  const intervals = results.bootstrap ? ` Bands: ${Math.round(results.bootstrap.level * 100)}% bootstrap intervals over the ${results.split.test} test entities.` : '';
  summary.textContent = best
    ? `Layerwise probe fit: train R², test R² (mean${results.targets.length > 1 ? ' and per target' : ''}), test Spearman ρ and proximity error (share of other entities predicted closer to the truth, ties half; 0 is perfect, 0.5 chance).${intervals} ` +
      `Best layer ${results.bestLayer} of ${results.layers.length}: test R² ${fixed(best.testR2, 3)}, proximity error ${Number.isFinite(best.proximityError) ? fixed(best.proximityError, 3) : '–'}.`
    : 'Layerwise probe fit.';
  const chart = element('div', { className: 'chart', id: 'layer-chart' });
  panel.replaceChildren(...runNotes(), summary, chart);
  const shuffled = shuffledControl();
  await drawChart('layers', chart, layerChartSpec(results.layers, results.bestLayer, currentTheme(), chartWidth(panel), shuffled ? { shuffled } : {}), false);
  await renderBreakdown(panel);
  if (compare.length > 0) {
    const compareChart = element('div', { className: 'chart', id: 'compare-chart' });
    panel.appendChild(compareChart);
    const runs: ComparedRun[] = [{ summary: run.summary, layers: results.layers }, ...compare];
    compareView?.finalize();
    compareView = await embed?.(compareChart, compareChartSpec(runs, currentTheme(), chartWidth(panel)), embedOptions);
  }
}

/** Set when the layer slider changed, so the redrawn slider takes the focus back. */
let refocusSlider = false;

/** The Vega view of the breakdown chart under the Layers chart. */
let breakdownView: EmbedResult | undefined;

/**
 * "Split by <metadata column>": test R² per group of the column, computed within each group. From results.json's
 * per-layer groups (one line per group across layers, as the paper's figures; bars for a one-layer model), or, for
 * results written before those existed, bars at the best layer from its predictions.
 */
async function renderBreakdown(panel: HTMLElement): Promise<void> {
  if (!run || !embed) return;
  const { results } = run;
  const perLayer = results.groupBreakdown && results.layers.some((layer) => layer.groups) ? results.groupBreakdown : undefined;
  const rows = perLayer ? [] : predictionRows(results.kind, results.predictions);
  const columns = perLayer ? Object.keys(perLayer.columns) : metadataColumns(rows).filter((column) => groupScores(rows, column).length > 1);
  if (columns.length === 0) return;
  const chosen = state.breakdown ?? (columns.includes('type') ? 'type' : '');
  const toolbar = element('div', { className: 'toolbar' });
  const label = element('label', { text: 'Split by ' });
  const select = element('select');
  select.id = 'breakdown-select';
  for (const value of ['', ...columns]) {
    const option = element('option', { text: value || '(none)' });
    option.value = value;
    option.selected = value === chosen;
    select.appendChild(option);
  }
  select.addEventListener('change', () => {
    setState({ breakdown: select.value });
    void renderBreakdown(panel);
  });
  label.appendChild(select);
  toolbar.appendChild(label);
  const holder = element('div', { className: 'chart', id: 'breakdown-chart' });
  document.getElementById('breakdown')?.remove();
  const section = element('section', { id: 'breakdown' });
  section.append(toolbar);
  const column = chosen && columns.includes(chosen) ? chosen : undefined;
  const info = column && perLayer ? perLayer.columns[column] : undefined;
  const note = !column ? '' : info ? splitCaption(column, info, perLayer!.minTestEntities)
    : results.layers.length > 1 ? 'At the best layer only: this run predates per-layer breakdowns.' : '';
  if (note) section.appendChild(element('p', { className: 'caption', id: 'breakdown-caption', text: note }));
  section.appendChild(holder);
  panel.appendChild(section);
  breakdownView?.finalize();
  breakdownView = undefined;
  if (!column) return;
  const width = chartWidth(panel);
  const best = results.layers.find((layer) => layer.index === results.bestLayer) ?? results.layers[0];
  const spec = !info ? groupSpec(groupScores(rows, column), column, results.bestLayer, currentTheme(), width)
    : results.layers.length > 1 ? groupLayerSpec(results.layers, column, info.values, results.bestLayer, currentTheme(), width, perLayer!.minTestEntities)
    : groupSpec(groupScoresAtLayer(best, column, info.values), column, best.index, currentTheme(), width);
  breakdownView = await embed(holder, spec, embedOptions);
}

/** What the split leaves out (small groups, rows without a value, groups past the line limit); '' when nothing. */
function splitCaption(column: string, info: NonNullable<RunView['results']['groupBreakdown']>['columns'][string], minimum: number): string {
  const parts: string[] = [];
  if (info.values.length > SPLIT_GROUP_LIMIT) parts.push(`The ${SPLIT_GROUP_LIMIT} largest of ${info.values.length} groups are drawn.`);
  const left: string[] = [];
  if (info.smallGroups > 0) left.push(`${info.smallGroups} value${info.smallGroups === 1 ? '' : 's'} with fewer than ${minimum} test entities (${info.smallGroupEntities} entities)`);
  if (info.missing > 0) left.push(`${info.missing} test entit${info.missing === 1 ? 'y' : 'ies'} without a ${column}`);
  if (left.length > 0) parts.push(`Left out: ${left.join('; ')}.`);
  return parts.join(' ');
}

function layerControls(onChange: () => void): HTMLElement {
  const toolbar = element('div', { className: 'toolbar' });
  if (!run) return toolbar;
  const available = [...run.layersWithPredictions].sort((a, b) => a - b);
  const label = element('label', { text: 'Layer ' });
  const slider = element('input');
  slider.type = 'range';
  slider.id = 'layer-slider';
  slider.min = '0';
  slider.max = String(Math.max(0, available.length - 1));
  slider.step = '1';
  slider.value = String(Math.max(0, available.indexOf(selectedLayer())));
  slider.disabled = available.length < 2;
  slider.setAttribute('aria-label', 'Layer');
  const value = element('span', { className: 'layer-value' });
  const describe = (layer: number): string => `${layer}${layer === run?.results.bestLayer ? ' (best)' : ''}`;
  value.textContent = describe(selectedLayer());
  slider.addEventListener('input', () => {
    const layer = available[Number(slider.value)] ?? run?.results.bestLayer ?? 0;
    value.textContent = describe(layer);
  });
  slider.addEventListener('change', () => {
    setState({ layer: available[Number(slider.value)] });
    // The tab is drawn anew with a new slider: keep the keyboard on it.
    refocusSlider = true;
    onChange();
  });
  if (refocusSlider) {
    refocusSlider = false;
    setTimeout(() => slider.focus(), 0);
  }
  label.appendChild(slider);
  label.appendChild(value);
  // A one-layer model (GloVe) has nothing to slide through.
  if (run.results.layers.length > 1) toolbar.appendChild(label);
  if (available.length < 2 && run.results.layers.length > 1) {
    toolbar.appendChild(element('span', { className: 'note', text: 'Only the best layer\u2019s predictions were saved for this run.' }));
  }

  const split = element('label', { text: 'Split ' });
  const select = element('select');
  select.id = 'split-select';
  for (const option of ['test', 'train', 'all'] as const) {
    const node = element('option', { text: option });
    node.value = option;
    node.selected = state.split === option;
    select.appendChild(node);
  }
  select.addEventListener('change', () => {
    setState({ split: select.value === 'train' || select.value === 'all' ? select.value : 'test' });
    onChange();
  });
  split.appendChild(select);
  toolbar.appendChild(split);
  return toolbar;
}

function pendingNote(panel: HTMLElement, toolbar: HTMLElement): void {
  panel.replaceChildren(toolbar, element('p', { className: 'caption', text: `Loading predictions for layer ${selectedLayer()}\u2026` }));
}

async function renderMapTab(panel: HTMLElement): Promise<void> {
  if (!run) return;
  const rerender = (): void => void renderMapTab(panel);
  const toolbar = layerControls(rerender);
  const predictions = predictionsForSelectedLayer();
  if (!predictions) return pendingNote(panel, toolbar);
  const rows = predictionRows('space', predictions);
  const autoExtent = chooseMapExtent(rows.map((r) => r.truth));
  const extent = state.mapExtent ?? autoExtent;

  const extentLabel = element('label', { text: 'Extent ' });
  const select = element('select');
  select.id = 'extent-select';
  for (const option of MAP_EXTENTS) {
    const node = element('option', { text: option === 'usa' ? 'USA' : option === 'nyc' ? 'New York City' : 'World' });
    node.value = option;
    node.selected = extent === option;
    select.appendChild(node);
  }
  select.addEventListener('change', () => {
    const value = select.value as MapExtent;
    setState({ mapExtent: MAP_EXTENTS.includes(value) ? value : undefined });
    rerender();
  });
  extentLabel.appendChild(select);
  toolbar.appendChild(extentLabel);

  const colourLabel = element('label', { text: 'Colour ' });
  const colour = element('select');
  colour.id = 'colour-select';
  const columnChoices = metadataColumns(rows).map((column): [string, string] => [`column:${column}`, `predicted, by ${column}`]);
  for (const [value, text] of [['position', 'true / predicted'], ['longitude', 'predicted, by true longitude'], ...columnChoices] as const) {
    const node = element('option', { text });
    node.value = value;
    node.selected = (state.mapColour ?? 'position') === value;
    colour.appendChild(node);
  }
  colour.addEventListener('change', () => {
    const value = colour.value;
    setState({ mapColour: value === 'longitude' ? 'longitude' : value.startsWith('column:') ? (value as `column:${string}`) : 'position' });
    rerender();
  });
  colourLabel.appendChild(colour);
  toolbar.appendChild(colourLabel);

  const shown = rowsForSplit(rows);
  const linesLabel = element('label', { text: 'Error lines ' });
  const lines = element('input');
  lines.type = 'checkbox';
  lines.id = 'error-lines';
  lines.checked = state.errorLines ?? Math.min(shown.length, MAP_POINT_LIMIT) <= ERROR_LINES_DEFAULT_LIMIT;
  lines.addEventListener('change', () => {
    setState({ errorLines: lines.checked });
    rerender();
  });
  linesLabel.appendChild(lines);
  toolbar.appendChild(linesLabel);
  const caption = element('p', { className: 'caption' });
  const meanError = shown.length ? shown.reduce((s, r) => s + r.error, 0) / shown.length : Number.NaN;
  const what = state.mapColour === 'longitude' ? 'predicted positions coloured by their true longitude'
    : state.mapColour?.startsWith('column:') ? `predicted positions coloured by ${state.mapColour.slice('column:'.length)}` : 'true (blue) vs predicted (orange) positions';
  caption.textContent = `Map: ${what} at layer ${selectedLayer()}, ${describeSplit()}, ` +
    `${extent === 'usa' ? 'USA' : extent === 'nyc' ? 'New York City' : 'world'} extent. ` +
    `${shown.length} entities, mean error ${Number.isFinite(meanError) ? Math.round(meanError).toLocaleString('en') : '–'} km` +
    `${shown.length > MAP_POINT_LIMIT ? ` (an even sample of ${MAP_POINT_LIMIT.toLocaleString('en')} drawn)` : ''}. Click a point to reveal its line.`;
  const chart = element('div', { className: 'chart', id: 'map-chart' });
  const note = extent === 'nyc' ? element('p', { className: 'note', text: 'Borough outlines: us-atlas county shapes at 1:10m, coarse at city scale.' }) : undefined;
  panel.replaceChildren(toolbar, caption, chart, ...(note ? [note] : []));
  const baseMap = await loadBaseMap(extent);
  const colourBy = state.mapColour?.startsWith('column:') ? state.mapColour.slice('column:'.length) : undefined;
  await drawChart('map', chart, mapSpec(shown, extent, baseMap, currentTheme(), chartWidth(panel), {
    colour: state.mapColour === 'longitude' ? 'longitude' : 'position',
    ...(colourBy ? { colourBy, ...(run.results.groupBreakdown?.columns[colourBy] ? { groupOrder: run.results.groupBreakdown.columns[colourBy].values } : {}) } : {}),
    errorLines: lines.checked,
  }), true);
}

async function renderTimeTab(panel: HTMLElement): Promise<void> {
  if (!run) return;
  const toolbar = layerControls(() => void renderTimeTab(panel));
  const predictions = predictionsForSelectedLayer();
  if (!predictions) return pendingNote(panel, toolbar);
  const shown = rowsForSplit(predictionRows('time', predictions));
  const meanError = shown.length ? shown.reduce((s, r) => s + r.error, 0) / shown.length : Number.NaN;
  const caption = element('p', { className: 'caption' });
  caption.textContent = `Time: predicted vs true year at layer ${selectedLayer()}, ${describeSplit()}. ${shown.length} entities, ` +
    `mean absolute error ${Number.isFinite(meanError) ? meanError.toFixed(1) : '–'} years. Click a point to reveal its line.`;
  const chart = element('div', { className: 'chart', id: 'time-chart' });
  panel.replaceChildren(toolbar, caption, chart);
  await drawChart('time', chart, timeSpec(shown, currentTheme(), chartWidth(panel)), true);
}

async function renderTableTab(panel: HTMLElement): Promise<void> {
  if (!run) return;
  const kind = run.results.kind;
  const toolbar = layerControls(() => void renderTableTab(panel));
  const predictions = predictionsForSelectedLayer();
  if (!predictions) return pendingNote(panel, toolbar);
  const filterLabel = element('label', { text: 'Filter ' });
  const filter = element('input');
  filter.type = 'search';
  filter.id = 'table-filter';
  filter.placeholder = 'entity name';
  filter.value = state.filter;
  filterLabel.appendChild(filter);
  toolbar.appendChild(filterLabel);
  const tableContainer = element('div', { className: 'table-container' });
  panel.replaceChildren(toolbar, tableContainer);
  const rows = predictionRows(kind, predictions);
  const draw = (): void => {
    renderPredictionTable(tableContainer, rowsForSplit(rows), {
      kind,
      sortColumn: state.sortColumn,
      sortDescending: state.sortDescending,
      filter: state.filter,
      limit: TABLE_ROW_LIMIT,
      onSort: (column: SortColumn) => {
        // Errors sort largest first on the first click; names and lines sort ascending first.
        const descending = state.sortColumn === column ? !state.sortDescending : column === 'error';
        setState({ sortColumn: column, sortDescending: descending });
        draw();
      },
      onReveal: (row) => post({ type: 'revealEntity', row }),
    });
  };
  filter.addEventListener('input', () => {
    setState({ filter: filter.value });
    draw();
  });
  draw();
}

let tabPanels = new Map<TabId, HTMLElement>();

function header(view: RunView): HTMLElement {
  const { summary, results } = view;
  const best = results.layers.find((l) => l.index === results.bestLayer);
  const box = element('header');
  box.appendChild(element('h1', { text: `${summary.dataset} \u00b7 ${summary.model}` }));
  const facts = [
    `best layer ${results.bestLayer}${best ? ` (test R\u00b2 ${fixed(best.testR2, 3)})` : ''}`,
    `${results.split.train} train / ${results.split.test} test (${results.split.method === 'is_test' ? 'is_test column' : 'random split'})`,
    results.device ? `device ${results.device.used}` : undefined,
    results.createdAt ? new Date(results.createdAt).toLocaleString() : undefined,
  ].filter((f): f is string => Boolean(f));
  box.appendChild(element('p', { className: 'meta', text: facts.join(' \u00b7 ') }));
  if (results.prompt) box.appendChild(element('p', { className: 'meta prompt', text: `Prompt: ${results.prompt}` }));
  if (results.skipped && results.skipped.length > 0) {
    box.appendChild(element('p', { className: 'meta', text: `${view.skippedCount ?? results.skipped.length} entities skipped (e.g. line ${results.skipped[0].row}: ${results.skipped[0].reason}).` }));
  }
  const actions = element('div', { className: 'actions' });
  for (const format of ['csv', 'json', 'png', 'svg'] as const) {
    const button = document.createElement('vscode-button');
    button.setAttribute('secondary', '');
    button.textContent = `Export ${format.toUpperCase()}`;
    button.dataset.format = format;
    button.addEventListener('click', () => post({ type: 'export', format: format as ExportFormat }));
    actions.appendChild(button);
  }
  box.appendChild(actions);
  return box;
}

function renderRun(): void {
  const app = document.getElementById('app');
  if (!app || !run) return;
  compareView?.finalize();
  compareView = undefined;
  const current = run;
  const tabs = TABS.filter((t) => t.available(current));
  if (!tabs.some((t) => t.id === state.tab)) setState({ tab: 'layers' });
  // The tab about to be drawn keeps its chart, which it may update in place (drawChart); the others' go.
  for (const [tab, result] of views) {
    if (tab === state.tab) continue;
    result.finalize();
    views.delete(tab);
    drawnCharts.delete(tab);
  }
  const tabsElement = document.createElement('vscode-tabs');
  tabPanels = new Map();
  for (const tab of tabs) {
    const tabHeader = document.createElement('vscode-tab-header');
    tabHeader.setAttribute('slot', 'header');
    // vscode-tabs assigns its own ids to headers and panels, so tests and styles address them by data-tab.
    tabHeader.dataset.tab = tab.id;
    tabHeader.textContent = tab.label;
    const panel = document.createElement('vscode-tab-panel');
    panel.dataset.tab = tab.id;
    tabsElement.appendChild(tabHeader);
    tabsElement.appendChild(panel);
    tabPanels.set(tab.id, panel);
  }
  tabsElement.setAttribute('selected-index', String(tabs.findIndex((t) => t.id === state.tab)));
  tabsElement.addEventListener('vsc-tabs-select', (event) => {
    const tab = tabs[(event as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex];
    if (tab && tab.id !== state.tab) {
      setState({ tab: tab.id });
      void renderActiveTab();
    }
  });
  const running = element('div', { className: 'running', id: 'running' });
  running.hidden = true;
  app.replaceChildren(header(current), running, tabsElement);
  markRender('tabs built');
  void renderActiveTab();
}

async function renderActiveTab(): Promise<void> {
  const tab = TABS.find((t) => t.id === state.tab);
  const panel = tabPanels.get(state.tab);
  if (!tab || !panel) return;
  try {
    markRender(`${tab.id}: start`);
    await tab.render(panel);
    markRender(`${tab.id}: drawn`);
    document.body.dataset.rendered = state.tab;
    const shownRun = run;
    await nextFrame();
    markRender('painted');
    const marks = renderMarks;
    renderMarks = [];
    if (shownRun && shownRun === run) post({ type: 'rendered', runId: shownRun.summary.id, tab: tab.id, marks });
  } catch (error) {
    panel.replaceChildren(element('p', { className: 'error', text: `Could not draw this view: ${String(error)}` }));
    post({ type: 'log', level: 'error', message: `Rendering ${state.tab} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}` });
  }
}

// ---------------------------------------------------------------- export

async function chartImage(format: 'png' | 'svg'): Promise<string> {
  const tab: TabId = views.has(state.tab) ? state.tab : 'layers';
  const spec = drawnSpecs.get(tab);
  if (embed && run && spec) {
    // Drawn once more off screen with the title, exported, then thrown away.
    const holder = element('div');
    holder.style.position = 'absolute';
    holder.style.left = '-20000px';
    document.body.appendChild(holder);
    try {
      const titled = await embed(holder, titledSpec(spec, run, TABS.find((t) => t.id === tab)?.label ?? tab), embedOptions);
      try {
        titled.view.background(currentTheme().background);
        return format === 'svg' ? await titled.view.toSVG() : await titled.view.toImageURL('png', 2);
      } finally {
        titled.finalize();
      }
    } finally {
      holder.remove();
    }
  }
  const result = views.get(state.tab) ?? views.get('layers');
  if (!result) throw new Error('No chart is on screen in this tab.');
  const view = result.view;
  // Exported images get an opaque theme background: transparent PNGs with light text are unreadable elsewhere.
  const previous = view.background();
  view.background(currentTheme().background);
  try {
    return format === 'svg' ? await view.toSVG() : await view.toImageURL('png', 2);
  } finally {
    view.background(previous);
    await view.runAsync();
  }
}

// ---------------------------------------------------------------- messages

/** The tab a refused `show` (a delta this page could not apply) asked for, until the whole run comes. */
let tabOfRefusedShow: TabId | undefined;

/** The best layer's predictions of the run on screen, in columns: the base of the next run's delta. */
let heldPredictions: { readonly runId: string; readonly packed: PackedPredictions } | undefined;

/**
 * The run with its best layer's predictions as objects again (they come in columns, or as changes to the ones held:
 * packedPredictions.ts); undefined when a delta does not fit what is held.
 */
function withPredictions(view: RunView): RunView | undefined {
  const { packedPredictions, predictionsDelta, ...rest } = view;
  let packed = packedPredictions;
  if (predictionsDelta) {
    if (heldPredictions?.runId !== predictionsDelta.base) return undefined;
    try {
      packed = applyPredictionsDelta(heldPredictions.packed, predictionsDelta);
    } catch (error) {
      post({ type: 'log', level: 'error', message: String(error) });
      return undefined;
    }
  }
  if (!packed) return view;
  heldPredictions = { runId: view.summary.id, packed };
  return { ...rest, results: { ...view.results, predictions: unpackPredictions(packed) } };
}

function handle(message: HostToWebview): void {
  switch (message.type) {
    case 'show': {
      renderMarks = [];
      markRender('show received');
      const shown = withPredictions(message.run);
      if (!shown) {
        // Changes to predictions this page does not hold (it was reloaded meanwhile): ask for the whole run again,
        // and switch to the tab this message asked for when it comes.
        heldPredictions = undefined;
        tabOfRefusedShow = message.tab ?? tabOfRefusedShow;
        post({ type: 'ready' });
        return;
      }
      run = shown;
      const tab = message.tab ?? tabOfRefusedShow;
      tabOfRefusedShow = undefined;
      markRender('predictions unpacked');
      compare = message.compare ?? [];
      layerPredictions.clear();
      pendingLayerRequests.clear();
      layerPredictions.set(run.results.bestLayer, run.results.predictions);
      // Another run: its own layer, extent, filter and sort, not the previous run's.
      if (state.runId !== run.summary.id) {
        setState({ runId: run.summary.id, layer: undefined, mapExtent: undefined, filter: '', sortColumn: DEFAULT_STATE.sortColumn, sortDescending: DEFAULT_STATE.sortDescending });
      }
      if (tab) setState({ tab });
      renderRun();
      return;
    }
    case 'layerPredictions': {
      const layer = pendingLayerRequests.get(message.requestId);
      pendingLayerRequests.delete(message.requestId);
      if (layer === undefined) return;
      if (message.predictions) layerPredictions.set(layer, message.predictions);
      else {
        // Not available after all: fall back to the best layer and say why.
        post({ type: 'log', level: 'error', message: message.error ?? `Predictions for layer ${layer} are not available.` });
        setState({ layer: undefined });
      }
      void renderActiveTab();
      return;
    }
    case 'running': {
      const box = document.getElementById('running');
      const app = document.getElementById('app');
      if (!box) {
        if (app && message.message) app.replaceChildren(element('p', { className: 'caption', text: message.message }));
        return;
      }
      box.hidden = message.message === null;
      box.textContent = message.message ?? '';
      return;
    }
    case 'exportChart':
      chartImage(message.format).then(
        (data) => post({ type: 'chartImage', requestId: message.requestId, format: message.format, data }),
        (error: unknown) => post({ type: 'chartImage', requestId: message.requestId, format: message.format, data: null, error: String(error) }),
      );
      return;
    default: {
      const unreachable: never = message;
      return unreachable;
    }
  }
}

async function boot(): Promise<void> {
  const [{ default: vegaEmbed, vega }, { expressionInterpreter }] = await Promise.all([
    import('vega-embed'),
    import('vega-interpreter'),
    import('@vscode-elements/elements/dist/vscode-button/index.js'),
    import('@vscode-elements/elements/dist/vscode-tabs/index.js'),
    import('@vscode-elements/elements/dist/vscode-tab-header/index.js'),
    import('@vscode-elements/elements/dist/vscode-tab-panel/index.js'),
  ]);
  embed = vegaEmbed as unknown as Embed;
  changeset = () => vega.changeset() as unknown as Changeset;
  embedOptions = {
    actions: false,
    renderer: 'svg',
    // CSP: interpret Vega expressions instead of compiling them with Function(), and inject no <style>.
    ast: true,
    expr: expressionInterpreter,
    defaultStyle: false,
    tooltip: { theme: 'custom', disableDefaultStyle: true },
  } as EmbedOptions;

  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const message = parseHostToWebview(event.data);
    if (!message) {
      post({ type: 'log', level: 'error', message: `Ignored a malformed message from the host: ${JSON.stringify(event.data)?.slice(0, 200)}` });
      return;
    }
    handle(message);
  });

  // Re-draw when the user switches colour theme (VS Code swaps the body class and the CSS variables).
  new MutationObserver(() => { if (run) renderRun(); }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  let resizeTimer: ReturnType<typeof setTimeout> | undefined;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (run) void renderActiveTab(); }, 250);
  });
  post({ type: 'ready' });
}

boot().catch((error: unknown) => {
  const app = document.getElementById('app');
  app?.replaceChildren(element('p', { className: 'error', text: `The results view failed to start: ${String(error)}` }));
  post({ type: 'log', level: 'error', message: `Webview boot failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}` });
});

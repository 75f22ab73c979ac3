/**
 * Vega-Lite specifications and captions for the Experiments tab, one set per experiment file
 * (experiment_<name>.json, src/core/experiments/experimentResults.ts). Pure functions like charts.ts: no DOM, no
 * Vega runtime, unit-tested headless in Node.
 */
import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };
import type {
  ControlsResult, ExperimentResult, HoldoutResult, MlpResult, NeuronsResult, PromptVariantsResult,
} from '../../src/core/experiments/experimentResults';
import { chartConfig, type BaseMap, type ChartTheme } from './charts';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** One chart of an experiment, with the sentence shown above it. */
export interface ExperimentChart {
  readonly id: string;
  readonly caption: string;
  readonly spec: TopLevelSpec;
}

export interface ExperimentSection {
  readonly experiment: ExperimentResult['experiment'];
  readonly title: string;
  /** Parameters and headline numbers in one paragraph. */
  readonly summary: string;
  readonly charts: readonly ExperimentChart[];
}

/** Section order in the tab. */
export const EXPERIMENT_ORDER: readonly ExperimentResult['experiment'][] = ['prompt-variants', 'holdout', 'mlp', 'neurons', 'controls'];

const TITLES: Readonly<Record<ExperimentResult['experiment'], string>> = {
  'prompt-variants': 'Prompt variants',
  holdout: 'Block holdout',
  mlp: 'Nonlinear (MLP) probe',
  neurons: 'Space and time neurons',
  controls: 'Controls',
};

function fixed(value: number | null | undefined, digits = 3): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

function finite(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function shorten(text: string, width = 40): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}\u2026`;
}

interface SeriesRow {
  readonly layer: number;
  readonly series: string;
  readonly value: number;
}

/**
 * A score per layer for several series: lines over layers, or grouped bars when the model has a single layer
 * (the built-in GloVe model), where a "curve" would be one dot per series.
 */
export function seriesByLayerSpec(rows: readonly SeriesRow[], order: readonly string[], title: string, yTitle: string, theme: ChartTheme, width: number): TopLevelSpec {
  const values = rows.filter((row) => finite(row.value));
  const layers = new Set(values.map((row) => row.layer));
  const color = { field: 'series', type: 'nominal' as const, title: null, sort: [...order] };
  if (layers.size <= 1) {
    return {
      $schema: SCHEMA,
      config: chartConfig(theme),
      title,
      width: Math.min(width, 120 * Math.max(1, order.length)),
      height: 200,
      data: { values: [...values] },
      layer: [
        {
          mark: { type: 'bar', tooltip: true },
          encoding: { x: { field: 'series', type: 'nominal', title: null, sort: [...order], axis: { labelAngle: 0, labelLimit: 140 } }, y: { field: 'value', type: 'quantitative', title: yTitle }, color },
        },
        {
          mark: { type: 'text', dy: -6, color: theme.foreground },
          encoding: { x: { field: 'series', type: 'nominal', sort: [...order] }, y: { field: 'value', type: 'quantitative' }, text: { field: 'value', type: 'quantitative', format: '.3f' } },
        },
      ],
    };
  }
  return {
    $schema: SCHEMA,
    config: chartConfig(theme),
    title,
    width,
    height: 220,
    data: { values: [...values] },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x: { field: 'layer', type: 'quantitative', title: 'Layer', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative', title: yTitle },
      color,
    },
  };
}

// ------------------------------------------------------------------ prompt variants

function templateLabel(result: PromptVariantsResult, index: number): string {
  return `T${index + 1}: ${shorten(result.templates[index].template, 36)}`;
}

/** Train × test matrix of cross-prompt test R² (at each training template's best layer), values printed in cells. */
export function crossPromptSpec(result: PromptVariantsResult, theme: ChartTheme, width: number): TopLevelSpec {
  const values = result.cross.filter((cell) => finite(cell.testR2)).map((cell) => ({
    train: templateLabel(result, cell.train), test: templateLabel(result, cell.test), layer: cell.layer, r2: cell.testR2,
  }));
  const labels = result.templates.map((_, index) => templateLabel(result, index));
  const low = Math.min(0, ...values.map((value) => value.r2));
  const size = Math.min(width, 90 * labels.length);
  return {
    $schema: SCHEMA,
    config: chartConfig(theme),
    title: 'Cross-prompt generalisation: probe trained on one template, tested on another (test R²)',
    width: size,
    height: Math.max(120, 40 * labels.length),
    data: { values },
    encoding: {
      x: { field: 'test', type: 'nominal', title: 'Tested on', sort: labels, axis: { labelAngle: -30, labelAlign: 'right', labelLimit: 160, titlePadding: 14 } },
      y: { field: 'train', type: 'nominal', title: 'Trained on', sort: labels, axis: { labelLimit: 220, titlePadding: 14 } },
    },
    layer: [
      {
        mark: { type: 'rect', tooltip: true },
        encoding: {
          // Diverging around 0 so a negative R² is red, not a pale blue next to zero; below −1 the colour is
          // clamped and the printed value tells.
          color: { field: 'r2', type: 'quantitative', title: 'test R²', scale: { domain: [Math.max(low, -1), 1], domainMid: 0, clamp: true, scheme: 'redblue' } },
        },
      },
      {
        mark: { type: 'text' },
        encoding: {
          text: { field: 'r2', type: 'quantitative', format: '.2f' },
          // Dark cells (|R²| large) get white text, light ones black: readable in any theme.
          color: { condition: { test: 'abs(datum.r2) > 0.55', value: '#ffffff' }, value: '#000000' },
        },
      },
    ],
  };
}

function promptVariantsSection(result: PromptVariantsResult, theme: ChartTheme, width: number): ExperimentSection {
  const order = result.templates.map((_, index) => templateLabel(result, index));
  const rows = result.templates.flatMap((template, index) => template.layers.map((layer) => ({ layer: layer.index, series: order[index], value: layer.testR2 })));
  const diagonal = result.cross.filter((cell) => cell.train === cell.test).map((cell) => cell.testR2);
  const offDiagonal = result.cross.filter((cell) => cell.train !== cell.test).map((cell) => cell.testR2);
  const meanOff = offDiagonal.length ? offDiagonal.reduce((a, b) => a + b, 0) / offDiagonal.length : Number.NaN;
  return {
    experiment: 'prompt-variants',
    title: TITLES['prompt-variants'],
    summary: `${result.templates.length} templates on the ${result.entities} entities usable under all of them. Best test R² per template: ` +
      `${result.templates.map((template, index) => `T${index + 1} ${fixed(template.bestTestR2)} (layer ${template.bestLayer})`).join(', ')}. ` +
      `Cross-prompt (activations mean-centred per template): mean off-diagonal test R² ${fixed(meanOff)} vs ${fixed(diagonal.reduce((a, b) => a + b, 0) / Math.max(1, diagonal.length))} on the diagonal.`,
    charts: [
      { id: 'prompt-variants-layers', caption: 'Test R² by layer under each template.', spec: seriesByLayerSpec(rows, order, 'Test R² by template', 'Test R²', theme, width) },
      { id: 'prompt-variants-cross', caption: 'Rows: the template the probe was trained on (at its best layer); columns: the template it was tested on.', spec: crossPromptSpec(result, theme, width) },
    ],
  };
}

// ------------------------------------------------------------------ holdout

/** The largest blocks (at most `limit`): proximity error when the block is held out vs as many random rows. */
export function holdoutSpec(result: HoldoutResult, theme: ChartTheme, width: number, limit = 30): TopLevelSpec {
  const blocks = result.blocks.slice(0, limit);
  const order = blocks.map((block) => block.block);
  const values = blocks.flatMap((block) => [
    { block: block.block, rows: block.rows, split: 'Block held out', proximityError: block.holdout.proximityError, distance: block.holdout.meanDistance },
    { block: block.block, rows: block.rows, split: 'Random rows held out', proximityError: block.random.proximityError, distance: block.random.meanDistance },
  ]).filter((row) => finite(row.proximityError));
  return {
    $schema: SCHEMA,
    config: chartConfig(theme),
    title: `Proximity error of held-out ${result.parameters.blockColumn} blocks vs random rows (layer ${result.layer}; 0.5 = chance)`,
    width: Math.min(width, Math.max(240, 28 * blocks.length)),
    height: 220,
    data: { values },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'block', type: 'nominal', title: `${result.parameters.blockColumn} (largest first)`, sort: order, axis: { labelAngle: -45, labelLimit: 100 } },
      xOffset: { field: 'split', type: 'nominal', sort: ['Block held out', 'Random rows held out'] },
      y: { field: 'proximityError', type: 'quantitative', title: 'Proximity error', scale: { domain: [0, Math.max(0.6, ...values.map((row) => row.proximityError))] } },
      color: { field: 'split', type: 'nominal', title: null, sort: ['Block held out', 'Random rows held out'] },
    },
  };
}

function holdoutSection(result: HoldoutResult, theme: ChartTheme, width: number): ExperimentSection {
  const unit = result.distance === 'greatCircleKm' ? 'km' : 'years';
  const s = result.summary;
  return {
    experiment: 'holdout',
    title: TITLES.holdout,
    summary: `Layer ${result.layer}; blocks = ${result.parameters.blockColumn} with at least ${result.parameters.minBlockRows} rows (${s.blocks} blocks, ${s.heldOutRows} rows). ` +
      `Mean proximity error: held-out block ${fixed(s.holdoutProximityError)} vs random rows ${fixed(s.randomProximityError)} ` +
      `(row-weighted ${fixed(s.holdoutProximityErrorWeighted)} vs ${fixed(s.randomProximityErrorWeighted)}); mean distance ` +
      `${fixed(s.holdoutMeanDistance, 0)} vs ${fixed(s.randomMeanDistance, 0)} ${unit}. Default split at this layer: test R² ${fixed(result.defaultSplit.testR2)}.`,
    charts: [{
      id: 'holdout-blocks',
      caption: result.blocks.length > 30 ? `The 30 largest of ${result.blocks.length} blocks; all are in experiment_holdout.json.` : 'Every block held out.',
      spec: holdoutSpec(result, theme, width),
    }],
  };
}

// ------------------------------------------------------------------ mlp

function mlpSection(result: MlpResult, theme: ChartTheme, width: number): ExperimentSection {
  const order = ['Linear (ridge)', 'MLP (256 ReLU)'];
  const rows = result.layers.flatMap((layer) => [
    { layer: layer.index, series: order[0], value: layer.linear.testR2 },
    { layer: layer.index, series: order[1], value: layer.mlp.testR2 },
  ]);
  const gains = result.layers.map((layer) => layer.mlp.testR2 - layer.linear.testR2).filter(finite);
  const best = result.layers.reduce((a, b) => (b.linear.testR2 > a.linear.testR2 ? b : a), result.layers[0]);
  return {
    experiment: 'mlp',
    title: TITLES.mlp,
    summary: `${result.parameters.hiddenUnits} hidden ReLU units, AdamW (learning rate ${result.parameters.learningRate}, batch ${result.parameters.batchSize}), ` +
      `weight decay from {${result.parameters.weightDecays.join(', ')}} on a ${Math.round(result.parameters.validationFraction * 100)}% validation split, early stopping after ` +
      `${result.parameters.patience} epochs. ` +
      (best ? `At the best linear layer ${best.index}: linear ${fixed(best.linear.testR2)}, MLP ${fixed(best.mlp.testR2)}. ` : '') +
      `MLP gain over layers: ${gains.length ? `${fixed(Math.min(...gains))} to ${fixed(Math.max(...gains))}` : 'n/a'}.`,
    charts: [{ id: 'mlp-layers', caption: 'Test R² of the linear and the MLP probe on the same split.', spec: seriesByLayerSpec(rows, order, 'Linear vs MLP probe', 'Test R²', theme, width) }],
  };
}

// ------------------------------------------------------------------ neurons

/** Activation of one neuron over the view entities: on a longitude/latitude plane, or against the year. */
export function neuronViewSpec(result: NeuronsResult, viewIndex: number, theme: ChartTheme, width: number, baseMap?: BaseMap): TopLevelSpec {
  const view = result.views.neurons[viewIndex];
  const values = result.views.entities.map((entity, index) => ({
    name: entity.name, row: entity.row, activation: view.values[index],
    ...(result.kind === 'space' ? { latitude: entity.true[0], longitude: entity.true[1] } : { year: entity.true[0] }),
  })).filter((row) => finite(row.activation));
  const title = `Layer ${view.layer}, dim ${view.dim}: Spearman ρ ${fixed(view.rho)} with ${view.target}`;
  if (result.kind === 'space') {
    const limit = Math.max(1e-12, ...values.map((row) => Math.abs(row.activation - median(values.map((v) => v.activation)))));
    const centre = median(values.map((row) => row.activation));
    // On the world map (equal-earth projection of the whole sphere), so positions read as places.
    const mapWidth = Math.min(width, 620);
    return {
      $schema: SCHEMA,
      config: chartConfig(theme),
      title,
      width: mapWidth,
      height: Math.round(mapWidth / 2),
      projection: { type: 'equalEarth', fit: { type: 'Feature', properties: {}, geometry: { type: 'Sphere' } } } as never,
      layer: [
        ...(baseMap ? [{
          data: { values: baseMap.data, format: baseMap.format } as never,
          mark: { type: 'geoshape' as const, fill: theme.land, fillOpacity: theme.landOpacity, stroke: theme.landBorder, strokeOpacity: 0.6, strokeWidth: 0.6 },
        }] : []),
        {
          data: { values },
          mark: { type: 'circle' as const, size: 14, opacity: 0.85, tooltip: true },
          encoding: {
            longitude: { field: 'longitude', type: 'quantitative' as const },
            latitude: { field: 'latitude', type: 'quantitative' as const },
            color: { field: 'activation', type: 'quantitative' as const, title: 'activation', scale: { scheme: 'redblue', reverse: true, domain: [centre - limit, centre + limit] } },
            tooltip: [{ field: 'name', type: 'nominal' as const }, { field: 'latitude', type: 'quantitative' as const, format: '.2f' }, { field: 'longitude', type: 'quantitative' as const, format: '.2f' }, { field: 'activation', type: 'quantitative' as const, format: '.4g' }],
          },
        },
      ],
    } as TopLevelSpec;
  }
  return {
    $schema: SCHEMA,
    config: chartConfig(theme),
    title,
    width: Math.min(width, 520),
    height: 220,
    data: { values },
    mark: { type: 'circle', size: 14, opacity: 0.7, tooltip: true },
    encoding: {
      x: { field: 'year', type: 'quantitative', title: 'Year', axis: { format: 'd' }, scale: { zero: false } },
      y: { field: 'activation', type: 'quantitative', title: 'Activation', scale: { zero: false } },
      tooltip: [{ field: 'name', type: 'nominal' }, { field: 'year', type: 'quantitative' }, { field: 'activation', type: 'quantitative', format: '.4g' }],
    },
  };
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function neuronsSection(result: NeuronsResult, theme: ChartTheme, width: number, baseMap?: BaseMap): ExperimentSection {
  const rows = result.layers.flatMap((layer) => result.neuronTargets.map((target) => ({ layer: layer.index, series: target, value: Math.abs(layer.top[target]?.[0]?.rho ?? Number.NaN) })));
  // The strongest view per target (more are in the file).
  const shown = result.neuronTargets.map((target) => result.views.neurons.findIndex((view) => view.target === target)).filter((index) => index >= 0);
  return {
    experiment: 'neurons',
    title: TITLES.neurons,
    summary: `Single residual dimensions ranked by Spearman ρ with ${result.neuronTargets.join(', ')} over ${result.entities} entities. Strongest: ` +
      `${result.neuronTargets.map((target) => {
        const best = result.best[target];
        return best ? `${target} layer ${best.layer} dim ${best.dim} (ρ ${fixed(best.rho)})` : `${target} n/a`;
      }).join('; ')}.${result.mlpNeurons.exposed ? '' : ' MLP hidden units are not exposed by the extraction; residual dimensions are ranked instead.'}`,
    charts: [
      { id: 'neurons-layers', caption: 'Largest |ρ| of a single dimension at each layer.', spec: seriesByLayerSpec(rows, result.neuronTargets, 'Best single dimension by layer', '|Spearman ρ|', theme, width) },
      ...shown.map((index) => ({
        id: `neurons-view-${index}`,
        caption: `${result.kind === 'space' ? 'Activation on the map' : 'Activation against the year'} for ${result.views.entities.length} entities.`,
        spec: neuronViewSpec(result, index, theme, width, baseMap),
      })),
    ],
  };
}

// ------------------------------------------------------------------ controls

/** Test R² against the number of principal components, at one layer, with the full linear probe as a rule. */
export function pcaSpec(result: ControlsResult, layerIndex: number, theme: ChartTheme, width: number): TopLevelSpec {
  const layer = result.layers.find((entry) => entry.index === layerIndex);
  const values = (layer?.pca ?? []).filter((score) => finite(score.testR2)).map((score) => ({ k: score.k, r2: score.testR2, explained: score.explainedVariance }));
  return {
    $schema: SCHEMA,
    config: chartConfig(theme),
    title: `PCA baseline at layer ${layerIndex}: ridge on the top k principal components`,
    width: Math.min(width, 520),
    height: 200,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: true, tooltip: true },
        encoding: {
          // The axis ends at the largest k tried (never past the model's width, as a "nice" log domain would).
          x: { field: 'k', type: 'quantitative', title: 'Components (k)', scale: { type: 'log', nice: false, domain: values.length ? [Math.min(...values.map((v) => v.k)), Math.max(...values.map((v) => v.k))] : undefined } },
          y: { field: 'r2', type: 'quantitative', title: 'Test R²' },
        },
      },
      {
        data: { values: layer && finite(layer.linear.testR2) ? [{ r2: layer.linear.testR2, label: `all dims: ${fixed(layer.linear.testR2)}` }] : [] },
        layer: [
          { mark: { type: 'rule', color: theme.bestLayer, strokeDash: [4, 3] }, encoding: { y: { field: 'r2', type: 'quantitative' } } },
          { mark: { type: 'text', color: theme.bestLayer, align: 'left', dy: -6, x: 4 }, encoding: { y: { field: 'r2', type: 'quantitative' }, text: { field: 'label' } } },
        ],
      },
    ],
  };
}

function controlsSection(result: ControlsResult, theme: ChartTheme, width: number): ExperimentSection {
  const order = ['Linear probe', 'Shuffled labels', 'Random weights'];
  const rows: SeriesRow[] = result.layers.flatMap((layer) => [
    { layer: layer.index, series: order[0], value: layer.linear.testR2 },
    ...(layer.shuffled ? [{ layer: layer.index, series: order[1], value: layer.shuffled.testR2 }] : []),
  ]);
  for (const layer of result.randomWeights?.layers ?? []) rows.push({ layer: layer.index, series: order[2], value: layer.testR2 });
  const best = result.layers.reduce((a, b) => (b.linear.testR2 > a.linear.testR2 ? b : a), result.layers[0]);
  const present = order.filter((series) => rows.some((row) => row.series === series));
  const shuffledMax = Math.max(...result.layers.map((layer) => layer.shuffled?.testR2 ?? Number.NEGATIVE_INFINITY));
  const randomBest = Math.max(...(result.randomWeights?.layers ?? []).map((layer) => layer.testR2));
  const charts: ExperimentChart[] = [
    { id: 'controls-layers', caption: 'Test R² of the probe and its controls on the same rows and split.', spec: seriesByLayerSpec(rows, present, 'Probe vs controls', 'Test R²', theme, width) },
  ];
  if (best?.pca && best.pca.length > 0) charts.push({ id: 'controls-pca', caption: `Principal components of the training activations at the best linear layer (${best.index}).`, spec: pcaSpec(result, best.index, theme, width) });
  return {
    experiment: 'controls',
    title: TITLES.controls,
    summary: `Best linear test R² ${fixed(best?.linear.testR2)} (layer ${best?.index ?? 'n/a'}). ` +
      (Number.isFinite(shuffledMax) ? `Shuffled labels: at most ${fixed(shuffledMax)}. ` : '') +
      (result.randomWeights ? `Random weights (${result.randomWeights.method}): best ${fixed(randomBest)}. ` : '') +
      (best?.pca ? `PCA at layer ${best.index}: ${best.pca.map((score) => `k=${score.k} ${fixed(score.testR2)}`).join(', ')}.` : ''),
    charts,
  };
}

/** The sections of the Experiments tab for the experiment files of a run, in EXPERIMENT_ORDER. */
/** `baseMap`: the world map under the neuron views of space datasets. */
export function experimentSections(experiments: readonly ExperimentResult[], theme: ChartTheme, width: number, baseMap?: BaseMap): ExperimentSection[] {
  const byName = new Map(experiments.map((experiment) => [experiment.experiment, experiment]));
  return EXPERIMENT_ORDER.flatMap((name): ExperimentSection[] => {
    const result = byName.get(name);
    if (!result) return [];
    switch (result.experiment) {
      case 'prompt-variants': return [promptVariantsSection(result, theme, width)];
      case 'holdout': return [holdoutSection(result, theme, width)];
      case 'mlp': return [mlpSection(result, theme, width)];
      case 'neurons': return [neuronsSection(result, theme, width, baseMap)];
      case 'controls': return [controlsSection(result, theme, width)];
    }
  });
}

/**
 * @file Prompt variants (the paper's robustness to the prompt): the same probe under several templates, and
 * cross-prompt generalisation.
 *
 * Per template and layer: the paper's linear probe, test R². Rows: the entities usable under EVERY template (a
 * word-level model may lose some under one template), so all numbers are on the same rows and the same split.
 *
 * Cross-prompt: a probe trained on template A's activations, mean-centred per template (each template's mean
 * activation over the TRAINING rows is subtracted, so a constant shift between prompts does not count), is tested
 * on template B's centred test rows. Because ridge with an intercept is invariant to centring the inputs (the
 * intercept absorbs it), A's ordinary probe is reused: prediction = (x_B − μ_B)·w_A + b_A + μ_A·w_A. The diagonal
 * equals each template's own test R².
 */
import type { Dataset } from '../datasets/types';
import { mulberry32 } from '../probes/split';
import { r2PerTarget } from '../probes/metrics';
import { DEFAULT_ALPHAS } from '../probes/probe';
import { splitFor } from './probeActivations';
import {
  ExperimentInputError, byName, fitLinear, gatherRows, linearScores, readLayer, resolveLayers, targetsOf,
  type ActivationSet, type ExperimentHooks, type ExperimentSession,
} from './experimentSession';
import {
  type CrossCell, type PromptVariantsParameters, type PromptVariantsResult, type TemplateLayer, type TemplateResult,
} from './experimentResults';

/**
 * Words for the "ten random tokens" distractor prefix: 100 frequent English words, so that every tokenizer
 * (GloVe's vocabulary included) knows them. A seeded draw of 10 (with replacement) is the same for every entity.
 */
export const RANDOM_PREFIX_WORDS: readonly string[] = Object.freeze([
  'apple', 'river', 'window', 'music', 'paper', 'garden', 'silver', 'engine', 'bottle', 'market',
  'yellow', 'letter', 'winter', 'doctor', 'island', 'camera', 'forest', 'pencil', 'circle', 'basket',
  'orange', 'bridge', 'dinner', 'rabbit', 'ticket', 'summer', 'rocket', 'candle', 'button', 'jacket',
  'mirror', 'planet', 'tunnel', 'violin', 'wallet', 'carpet', 'helmet', 'pepper', 'saddle', 'turtle',
  'anchor', 'blanket', 'cabinet', 'diamond', 'feather', 'giraffe', 'harbor', 'kitchen', 'ladder', 'magnet',
  'napkin', 'oyster', 'pillow', 'quarter', 'ribbon', 'shadow', 'thunder', 'umbrella', 'valley', 'whistle',
  'hammer', 'cotton', 'marble', 'needle', 'parrot', 'rubber', 'spider', 'tomato', 'vessel', 'wooden',
  'glass', 'stone', 'cloud', 'horse', 'table', 'chair', 'light', 'green', 'water', 'bread',
  'sugar', 'money', 'plant', 'train', 'clock', 'house', 'smile', 'quiet', 'happy', 'small',
  'round', 'sharp', 'sweet', 'heavy', 'early', 'quick', 'brave', 'proud', 'simple', 'gentle',
]);

/** The distractor prefix: `count` words drawn (seeded) from RANDOM_PREFIX_WORDS, space-separated. */
export function randomPrefix(seed: number, count = 10): string {
  const random = mulberry32((seed ^ 0x5eed1e55) >>> 0);
  return Array.from({ length: count }, () => RANDOM_PREFIX_WORDS[Math.floor(random() * RANDOM_PREFIX_WORDS.length)]).join(' ');
}

/** The question template for a time dataset, from its name and columns (see docs/experiments.md). */
export function timeQuestion(dataset: Pick<Dataset, 'source' | 'entities'>): string {
  const source = dataset.source.toLowerCase();
  const columns = new Set(Object.keys(dataset.entities[0]?.metadata ?? {}));
  // The built-in historical_figures has `year` = birth year and a separate death_year column.
  if (columns.has('death_year')) return 'When was {entity} born?';
  if (/figure|people|person/.test(source) || columns.has('birth_date') || columns.has('birth_year')) return 'When did {entity} die?';
  if (/art|film|movie|book|song|entertainment/.test(source) || columns.has('creator')) return 'When was {entity} released?';
  if (/headline|news/.test(source)) return 'When was {entity} published?';
  if (/event/.test(source)) return 'When did {entity} happen?';
  return 'In what year was {entity}?';
}

/** The paper's four templates for this dataset: plain, a question, ten random words first, upper-cased. */
export function defaultTemplates(dataset: Pick<Dataset, 'kind' | 'source' | 'entities'>, seed: number): string[] {
  const question = dataset.kind === 'space' ? 'What are the lat/lon coordinates of {entity}?' : timeQuestion(dataset);
  return ['{entity}', question, `${randomPrefix(seed)} {entity}`, '{ENTITY}'];
}

export interface PromptVariantsOptions {
  readonly templates?: readonly string[];
  readonly crossLayers?: 'best' | 'all';
  readonly seed?: number;
  readonly alphas?: readonly number[];
  readonly layers?: readonly number[] | 'all';
  /** Base template, recorded in the parameters (the variants replace it). */
  readonly prompt?: string;
}

export function promptVariantsParameters(session: ExperimentSession, options: PromptVariantsOptions): PromptVariantsParameters {
  const seed = options.seed ?? 0;
  const templates = options.templates && options.templates.length > 0 ? [...options.templates] : defaultTemplates(session.dataset, seed);
  if (new Set(templates).size !== templates.length) throw new ExperimentInputError('the same template is listed twice');
  if (templates.length < 2) throw new ExperimentInputError('prompt variants need at least two templates');
  return {
    prompt: options.prompt ?? '{entity}',
    seed,
    alphas: [...(options.alphas ?? DEFAULT_ALPHAS)],
    layers: options.layers ?? 'all',
    templates,
    crossLayers: options.crossLayers ?? 'best',
  };
}

interface LinearModel {
  readonly coef: Float64Array;
  readonly intercept: Float64Array;
  /** Mean activation over the training rows. */
  readonly trainMean: Float64Array;
}

function trainMean(x: Float32Array, d: number, train: Int32Array): Float64Array {
  const mean = new Float64Array(d);
  for (const row of train) for (let f = 0; f < d; f++) mean[f] += x[row * d + f];
  for (let f = 0; f < d; f++) mean[f] /= train.length;
  return mean;
}

/** Test-split predictions of A's probe on B's centred activations. */
function crossPredict(model: LinearModel, xB: Float32Array, meanB: Float64Array, d: number, t: number, test: Int32Array): Float64Array {
  const { coef, intercept, trainMean: meanA } = model;
  const offset = Float64Array.from(intercept);
  for (let c = 0; c < t; c++) for (let f = 0; f < d; f++) offset[c] += (meanA[f] - meanB[f]) * coef[f * t + c];
  const out = new Float64Array(test.length * t);
  test.forEach((row, k) => {
    for (let c = 0; c < t; c++) {
      let sum = offset[c];
      for (let f = 0; f < d; f++) sum += xB[row * d + f] * coef[f * t + c];
      out[k * t + c] = sum;
    }
  });
  return out;
}

/** Rows usable under every template, in the first set's order, with each set's row position. */
function commonRows(sets: readonly ActivationSet[]): { entities: ActivationSet['entities']; positions: Int32Array[] } {
  const positionMaps = sets.map((set) => new Map(set.manifest.rows.map((line, position) => [line, position])));
  const keep = sets[0].manifest.rows.map((line, position) => ({ line, position })).filter(({ line }) => positionMaps.every((map) => map.has(line)));
  return {
    entities: keep.map(({ position }) => sets[0].entities[position]),
    positions: positionMaps.map((map) => Int32Array.from(keep, ({ line }) => map.get(line) as number)),
  };
}

export async function runPromptVariants(session: ExperimentSession, parameters: PromptVariantsParameters, hooks: ExperimentHooks = {}): Promise<PromptVariantsResult> {
  const { dataset, model } = session;
  const sets: ActivationSet[] = [];
  for (const template of parameters.templates) sets.push(await session.activations(template));
  const { entities, positions } = commonRows(sets);
  if (entities.length < 5) throw new ExperimentInputError(`only ${entities.length} entities are usable under every template; need at least 5`);
  const dropped = Math.max(...sets.map((set) => set.entities.length)) - entities.length;
  if (dropped > 0) hooks.log?.(`prompt variants: ${entities.length} entities usable under every template (${dropped} dropped)`);
  const d = model.hiddenSize;
  const t = dataset.targets.length;
  const targets = targetsOf(entities, t);
  const split = splitFor(entities, parameters.seed);
  const layers = resolveLayers(parameters.layers, sets[0].manifest.layers.length);
  const testTruth = gatherRows(targets, t, split.test);

  // Pass 1: each template's probe at each layer (one layer of one template in memory at a time).
  const models: LinearModel[][] = sets.map(() => []);
  const templateResults: TemplateResult[] = [];
  const total = sets.length * layers.length;
  let done = 0;
  for (const [s, set] of sets.entries()) {
    const scores: TemplateLayer[] = [];
    for (const layer of layers) {
      hooks.signal?.throwIfAborted();
      hooks.onProgress?.({ stage: 'fit', done: done++, total, message: `"${set.template}": fitting layer ${layer}` });
      const x = gatherRows(readLayer(set, layer), d, positions[s]);
      const fit = await fitLinear(x, d, targets, t, split, parameters.alphas, session.distance);
      models[s][layer] = { coef: fit.coef, intercept: fit.intercept, trainMean: trainMean(x, d, split.train) };
      scores.push({ index: layer, ...linearScores(fit, dataset.targets) });
    }
    const best = scores.reduce((a, b) => (b.testR2 > a.testR2 ? b : a));
    templateResults.push({ template: set.template, layers: scores, bestLayer: best.index, bestTestR2: best.testR2 });
  }

  // Pass 2: cross-prompt cells. For each layer needed, each test template's activations are read once.
  const crossAt = (layer: number, trainTemplates: readonly number[]): CrossCell[] => {
    const cells: CrossCell[] = [];
    for (const [b, set] of sets.entries()) {
      const xB = gatherRows(readLayer(set, layer), d, positions[b]);
      const meanB = trainMean(xB, d, split.train);
      for (const a of trainTemplates) {
        const predicted = crossPredict(models[a][layer], xB, meanB, d, t, split.test);
        const { perTarget, mean } = r2PerTarget(testTruth, predicted, split.test.length, t);
        cells.push({ train: a, test: b, layer, testR2: mean, testR2PerTarget: byName(dataset.targets, perTarget) });
      }
    }
    return cells;
  };
  hooks.onProgress?.({ stage: 'fit', done: total, total, message: 'cross-prompt generalisation' });
  const bestLayers = [...new Set(templateResults.map((result) => result.bestLayer))];
  const cross: CrossCell[] = [];
  for (const layer of bestLayers) {
    const trainers = templateResults.flatMap((result, index) => (result.bestLayer === layer ? [index] : []));
    cross.push(...crossAt(layer, trainers));
  }
  cross.sort((p, q) => p.train - q.train || p.test - q.test);
  const all = sets.map((_, index) => index);
  const crossPerLayer = parameters.crossLayers === 'all' ? layers.map((layer) => ({ layer, cells: crossAt(layer, all) })) : undefined;

  return {
    ...session.header('prompt-variants', parameters, { split, entities: entities.length, numLayers: sets[0].manifest.layers.length }),
    templates: templateResults,
    cross,
    ...(crossPerLayer ? { crossPerLayer } : {}),
  };
}

/**
 * @file Block holdout generalisation (the paper's holdout table): hold out a whole block — a country, state or
 * borough for places; a century, decade or year for time; or an entity type — train the linear probe on the rest,
 * and score the held-out block; compare with holding out the same number of random rows.
 *
 * Procedure for a block B with at least `minBlockRows` rows, at one layer (default: the best layer of the linear
 * probe on the default split):
 *   - train on the default training rows outside B (alpha by leave-one-out, as everywhere);
 *   - the rows the probe never saw are E = B ∪ (default test rows outside B);
 *   - proximity error of each row of B = fraction of the other rows of E whose PREDICTION lies strictly closer
 *     to that row's true value than its own prediction does, ties counting half (great-circle distance for places, |Δyear| for
 *     time), averaged over B; plus the mean distance between prediction and truth, and R² over B.
 * The random control draws |B| rows uniformly (seeded by the seed and the block's name) and runs the same
 * procedure with them in place of B. A block that generalises like a random subset has similar numbers; a probe
 * that only memorised neighbourhoods does much worse on the block.
 */
import type { Dataset, Entity } from '../datasets/types';
import { r2PerTarget, type DistanceMeasure } from '../probes/metrics';
import { DEFAULT_ALPHAS } from '../probes/probe';
import {
  ExperimentInputError, fitLinear, gatherRows, linearScores, readLayer, resolveLayers, sampleRows,
  type ExperimentHooks, type ExperimentSession,
} from './experimentSession';
import {
  type FitScores, type HoldoutBlock, type HoldoutParameters, type HoldoutResult, type HoldoutScores,
} from './experimentResults';

/** Block columns derived from the target year (time datasets) when the file has no such column. */
export const DERIVED_BLOCKS = ['century', 'decade', 'year'] as const;

/** Columns tried, in order, when no block column is given. */
const DEFAULT_BLOCK_COLUMNS: Readonly<Record<Dataset['kind'], readonly string[]>> = {
  space: ['block', 'country', 'state_id', 'state', 'borough_name', 'borough', 'entity_type', 'type'],
  time: ['block', 'decade', 'century'],
};

export function defaultBlockColumn(dataset: Pick<Dataset, 'kind' | 'entities'>): string {
  const columns = new Set(Object.keys(dataset.entities[0]?.metadata ?? {}));
  const found = DEFAULT_BLOCK_COLUMNS[dataset.kind].find((column) => columns.has(column));
  if (found) return found;
  if (dataset.kind === 'time') return 'decade';
  throw new ExperimentInputError(`no block column found (tried ${DEFAULT_BLOCK_COLUMNS.space.join(', ')}); pass --block COLUMN ` +
    `(columns: ${[...columns].join(', ') || 'none besides name and targets'})`);
}

/** The block of each entity ('' = none: never held out, still used for training). */
export function blockLabels(dataset: Pick<Dataset, 'kind' | 'entities' | 'source'>, entities: readonly Entity[], column: string): string[] {
  const columns = new Set(Object.keys(dataset.entities[0]?.metadata ?? {}));
  if (columns.has(column)) return entities.map((entity) => (entity.metadata[column] ?? '').trim());
  if ((DERIVED_BLOCKS as readonly string[]).includes(column)) {
    if (dataset.kind !== 'time') throw new ExperimentInputError(`--block ${column} is derived from the year; ${dataset.source} is a space dataset`);
    const width = column === 'century' ? 100 : column === 'decade' ? 10 : 1;
    return entities.map((entity) => String(Math.floor(entity.target[0] / width) * width));
  }
  throw new ExperimentInputError(`${dataset.source} has no column "${column}" (columns: ${[...columns].join(', ') || 'none'}` +
    `${dataset.kind === 'time' ? '; derived: century, decade, year' : ''})`);
}

/** FNV-1a of a string: a stable per-block seed component. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Mean over `heldOut` of the proximity error against `pool` (rows of the same arrays; heldOut ⊆ pool):
 * for held-out row i, the fraction of the other pool rows j with d(truth_i, pred_j) < d(truth_i, pred_i), rows
 * with an equal distance counting half (as proximityErrorPerEntity: 0.5 = chance, also for identical predictions).
 */
export function proximityErrorAgainst(truth: Float64Array, predicted: Float64Array, heldOut: Int32Array, pool: Int32Array, measure: DistanceMeasure): number {
  const k = measure.dimensions;
  if (pool.length < 2) return Number.NaN;
  let sum = 0;
  if (measure.name === 'greatCircleKm') {
    // Compare the haversine term h = sin²(Δφ/2) + cos φ₁ cos φ₂ sin²(Δλ/2), monotone in the distance, from
    // precomputed sines and cosines (2·h is what the loop computes), instead of full distances.
    const radians = Math.PI / 180;
    const poolTrig = new Float64Array(pool.length * 4);
    pool.forEach((row, index) => {
      const lat = predicted[row * 2] * radians;
      const lon = predicted[row * 2 + 1] * radians;
      poolTrig.set([Math.cos(lat), Math.sin(lat), Math.cos(lon), Math.sin(lon)], index * 4);
    });
    for (const i of heldOut) {
      const lat = truth[i * 2] * radians;
      const lon = truth[i * 2 + 1] * radians;
      const cosLat = Math.cos(lat);
      const sinLat = Math.sin(lat);
      const cosLon = Math.cos(lon);
      const sinLon = Math.sin(lon);
      const h = (index: number): number => {
        const base = index * 4;
        const cp = poolTrig[base];
        return (1 - (cosLat * cp + sinLat * poolTrig[base + 1])) + cosLat * cp * (1 - (cosLon * poolTrig[base + 2] + sinLon * poolTrig[base + 3]));
      };
      const ownLat = predicted[i * 2] * radians;
      const ownLon = predicted[i * 2 + 1] * radians;
      const own = (1 - (cosLat * Math.cos(ownLat) + sinLat * Math.sin(ownLat))) + cosLat * Math.cos(ownLat) * (1 - (cosLon * Math.cos(ownLon) + sinLon * Math.sin(ownLon)));
      let closer = 0;
      for (let index = 0; index < pool.length; index++) {
        if (pool[index] === i) continue;
        const other = h(index);
        closer += other < own ? 1 : other === own ? 0.5 : 0;
      }
      sum += closer / (pool.length - 1);
    }
    return sum / heldOut.length;
  }
  for (const i of heldOut) {
    const own = measure.distance(truth, i * k, predicted, i * k);
    let closer = 0;
    for (const j of pool) {
      if (j === i) continue;
      const other = measure.distance(truth, i * k, predicted, j * k);
      closer += other < own ? 1 : other === own ? 0.5 : 0;
    }
    sum += closer / (pool.length - 1);
  }
  return sum / heldOut.length;
}

function scoreHeldOut(truth: Float64Array, predicted: Float64Array, heldOut: Int32Array, defaultTest: Int32Array, measure: DistanceMeasure, t: number): HoldoutScores {
  const inHeldOut = new Set(heldOut);
  const pool = Int32Array.from([...heldOut, ...Array.from(defaultTest).filter((row) => !inHeldOut.has(row))]);
  let distance = 0;
  for (const row of heldOut) distance += measure.distance(truth, row * t, predicted, row * t);
  const { mean } = r2PerTarget(gatherRows(truth, t, heldOut), gatherRows(predicted, t, heldOut), heldOut.length, t);
  return { proximityError: proximityErrorAgainst(truth, predicted, heldOut, pool, measure), meanDistance: distance / heldOut.length, r2: mean };
}

export interface HoldoutOptions {
  readonly blockColumn?: string;
  readonly minBlockRows?: number;
  readonly maxBlocks?: number;
  readonly layer?: number;
  readonly seed?: number;
  readonly alphas?: readonly number[];
  readonly prompt?: string;
}

export function holdoutParameters(session: ExperimentSession, options: HoldoutOptions): HoldoutParameters {
  const minBlockRows = options.minBlockRows ?? 25;
  if (!Number.isInteger(minBlockRows) || minBlockRows < 2) throw new ExperimentInputError(`the minimum block size must be an integer ≥ 2, got ${minBlockRows}`);
  return {
    prompt: options.prompt ?? '{entity}',
    seed: options.seed ?? 0,
    alphas: [...(options.alphas ?? DEFAULT_ALPHAS)],
    layers: options.layer === undefined ? 'all' : [options.layer],
    blockColumn: options.blockColumn ?? defaultBlockColumn(session.dataset),
    minBlockRows,
    maxBlocks: options.maxBlocks ?? 0,
    ...(options.layer === undefined ? {} : { layer: options.layer }),
  };
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
}

export async function runHoldout(session: ExperimentSession, parameters: HoldoutParameters, hooks: ExperimentHooks = {}): Promise<HoldoutResult> {
  const { dataset } = session;
  const { set, entities, n, d, t, targets, split } = await session.probeData(parameters.prompt, parameters.seed);
  const measure = session.distance;
  const labels = blockLabels(dataset, entities, parameters.blockColumn);

  // The layer: given, or the best layer of the linear probe on the default split.
  const numLayers = set.manifest.layers.length;
  let layer: number;
  let defaultSplit: FitScores;
  if (parameters.layer !== undefined) {
    [layer] = resolveLayers([parameters.layer], numLayers);
    defaultSplit = linearScores(await fitLinear(readLayer(set, layer), d, targets, t, split, parameters.alphas, measure), dataset.targets);
  } else {
    let best: { layer: number; scores: FitScores } | undefined;
    for (let index = 0; index < numLayers; index++) {
      hooks.signal?.throwIfAborted();
      hooks.onProgress?.({ stage: 'fit', done: index, total: numLayers, message: `default split: fitting layer ${index} to choose the layer` });
      const scores = linearScores(await fitLinear(readLayer(set, index), d, targets, t, split, parameters.alphas, measure), dataset.targets);
      if (best === undefined || scores.testR2 > best.scores.testR2) best = { layer: index, scores };
    }
    layer = (best as { layer: number }).layer;
    defaultSplit = (best as { scores: FitScores }).scores;
  }

  const rowsByBlock = new Map<string, number[]>();
  labels.forEach((label, row) => {
    if (label === '') return;
    const rows = rowsByBlock.get(label);
    if (rows) rows.push(row);
    else rowsByBlock.set(label, [row]);
  });
  let candidates = [...rowsByBlock.entries()].filter(([, rows]) => rows.length >= parameters.minBlockRows && rows.length <= n - 5)
    .sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (parameters.maxBlocks > 0) candidates = candidates.slice(0, parameters.maxBlocks);
  if (candidates.length === 0) {
    throw new ExperimentInputError(`no block of "${parameters.blockColumn}" has at least ${parameters.minBlockRows} rows ` +
      `(${rowsByBlock.size} blocks, largest ${Math.max(0, ...[...rowsByBlock.values()].map((rows) => rows.length))} rows); lower --min-block-rows`);
  }
  const heldRows = candidates.reduce((sum, [, rows]) => sum + rows.length, 0);
  const skippedBlocks = { count: rowsByBlock.size - candidates.length, rows: [...rowsByBlock.values()].reduce((sum, rows) => sum + rows.length, 0) - heldRows };

  const x = readLayer(set, layer);
  const fitWithout = async (heldOut: Int32Array): Promise<HoldoutScores> => {
    const excluded = new Set(heldOut);
    const train = Int32Array.from(Array.from(split.train).filter((row) => !excluded.has(row)));
    const fit = await fitLinear(x, d, targets, t, { train, test: heldOut }, parameters.alphas, measure);
    return scoreHeldOut(targets, fit.predictions, heldOut, split.test, measure, t);
  };
  const blocks: HoldoutBlock[] = [];
  for (const [index, [block, rows]] of candidates.entries()) {
    hooks.signal?.throwIfAborted();
    hooks.onProgress?.({ stage: 'fit', done: index, total: candidates.length, message: `holding out ${parameters.blockColumn} ${block} (${rows.length} rows)` });
    const holdout = await fitWithout(Int32Array.from(rows));
    const random = await fitWithout(sampleRows(n, rows.length, (parameters.seed ^ fnv1a(block)) >>> 0));
    blocks.push({ block, rows: rows.length, holdout, random });
  }
  const weighted = (pick: (block: HoldoutBlock) => number): number =>
    blocks.reduce((sum, block) => sum + pick(block) * block.rows, 0) / heldRows;

  return {
    ...session.header('holdout', parameters, { split, entities: n, numLayers }),
    layer,
    layerChosenBy: parameters.layer === undefined ? 'linear-probe' : 'option',
    defaultSplit,
    blocks,
    skippedBlocks,
    summary: {
      blocks: blocks.length,
      heldOutRows: heldRows,
      holdoutProximityError: mean(blocks.map((block) => block.holdout.proximityError)),
      randomProximityError: mean(blocks.map((block) => block.random.proximityError)),
      holdoutMeanDistance: mean(blocks.map((block) => block.holdout.meanDistance)),
      randomMeanDistance: mean(blocks.map((block) => block.random.meanDistance)),
      holdoutProximityErrorWeighted: weighted((block) => block.holdout.proximityError),
      randomProximityErrorWeighted: weighted((block) => block.random.proximityError),
    },
  };
}

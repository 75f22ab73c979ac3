/**
 * @file Space and time neurons: rank individual residual-stream dimensions by their Spearman correlation with
 * latitude, longitude, |latitude|, |longitude| (places) or year (time), at every layer, over every probed row (a
 * descriptive statistic: nothing is fitted, so no split is involved). The output lists the top dimensions per
 * target and layer and, for the strongest few per target, their activation on a bounded sample of entities so
 * the views can draw them on a map or a timeline.
 *
 * MLP hidden units are not ranked: extraction taps only the residual stream (one numLayers × hiddenSize vector
 * per prompt, src/core/model/onnx/residualTaps.ts), and exposing MLP neurons would need per-architecture discovery of
 * each block's activation-function output plus a second, differently sized tap set. The output says so.
 */
import { averageRanks } from '../probes/metrics';
import { DEFAULT_ALPHAS } from '../probes/probe';
import { splitFor } from './probeActivations';
import {
  ExperimentInputError, readLayer, resolveLayers, sampleRows,
  type ExperimentHooks, type ExperimentSession,
} from './experimentSession';
import {
  type NeuronLayer, type NeuronView, type NeuronsParameters, type NeuronsResult, type RankedNeuron,
} from './experimentResults';
import type { Entity } from '../datasets/types';

export const MLP_NEURONS_NOT_EXPOSED = 'Only the residual stream is tapped (numLayers × hiddenSize per prompt); MLP hidden ' +
  'units would need per-architecture discovery of each block\u2019s activation output and a second tap set, which the ' +
  'extraction does not have. Residual dimensions are ranked instead.';

/** Neuron targets of a dataset kind: the paper's four for places, the year for time. */
export function neuronTargets(kind: 'space' | 'time'): string[] {
  return kind === 'space' ? ['latitude', 'longitude', '|latitude|', '|longitude|'] : ['year'];
}

function neuronTargetValues(entities: readonly Entity[], name: string): Float64Array {
  const absolute = name.startsWith('|');
  const column = name.includes('longitude') ? 1 : 0;
  return Float64Array.from(entities, (entity) => (absolute ? Math.abs(entity.target[column]) : entity.target[column]));
}

/** Centred ranks and their norm: Spearman(a, b) = Σ ra·rb / (‖ra‖‖rb‖). */
function centredRanks(values: ArrayLike<number>, n: number, columns = 1, column = 0): { ranks: Float64Array; norm: number } {
  const ranks = averageRanks(values, n, columns, column);
  const mean = (n + 1) / 2;
  let norm = 0;
  for (let index = 0; index < n; index++) {
    ranks[index] -= mean;
    norm += ranks[index] * ranks[index];
  }
  return { ranks, norm: Math.sqrt(norm) };
}

/** Spearman correlation of every column of x (n × d) with each target rank vector; NaN for constant columns. */
export function spearmanPerDimension(x: Float32Array, n: number, d: number, targets: readonly { ranks: Float64Array; norm: number }[]): Float64Array[] {
  const out = targets.map(() => new Float64Array(d));
  const column = new Float64Array(n);
  for (let f = 0; f < d; f++) {
    for (let row = 0; row < n; row++) column[row] = x[row * d + f];
    const { ranks, norm } = centredRanks(column, n);
    targets.forEach((target, index) => {
      if (norm === 0 || target.norm === 0) {
        out[index][f] = Number.NaN;
        return;
      }
      let dot = 0;
      for (let row = 0; row < n; row++) dot += ranks[row] * target.ranks[row];
      out[index][f] = Math.max(-1, Math.min(1, dot / (norm * target.norm)));
    });
  }
  return out;
}

/** The k dims with the largest |ρ| (NaN last; ties by dim). */
export function topByAbsolute(rho: Float64Array, k: number): RankedNeuron[] {
  const order = Array.from(rho.keys()).filter((dim) => !Number.isNaN(rho[dim]));
  order.sort((a, b) => Math.abs(rho[b]) - Math.abs(rho[a]) || a - b);
  return order.slice(0, k).map((dim) => ({ dim, rho: rho[dim] }));
}

export interface NeuronsOptions {
  readonly topK?: number;
  readonly viewNeurons?: number;
  readonly viewEntities?: number;
  readonly seed?: number;
  readonly layers?: readonly number[] | 'all';
  readonly prompt?: string;
  readonly alphas?: readonly number[];
}

export function neuronsParameters(options: NeuronsOptions): NeuronsParameters {
  const parameters: NeuronsParameters = {
    prompt: options.prompt ?? '{entity}',
    seed: options.seed ?? 0,
    // Not used by the ranking; recorded for a uniform header.
    alphas: [...(options.alphas ?? DEFAULT_ALPHAS)],
    layers: options.layers ?? 'all',
    topK: options.topK ?? 10,
    viewNeurons: options.viewNeurons ?? 3,
    viewEntities: options.viewEntities ?? 2000,
  };
  for (const name of ['topK', 'viewNeurons', 'viewEntities'] as const) {
    const value = parameters[name];
    if (!Number.isInteger(value) || value < (name === 'topK' ? 1 : 0)) throw new ExperimentInputError(`${name} must be a non-negative integer, got ${value}`);
  }
  return parameters;
}

const significant = (value: number): number => Number(value.toPrecision(4));

export async function runNeurons(session: ExperimentSession, parameters: NeuronsParameters, hooks: ExperimentHooks = {}): Promise<NeuronsResult> {
  const { dataset, model } = session;
  const set = await session.activations(parameters.prompt);
  const entities = set.entities;
  const n = entities.length;
  if (n < 3) throw new ExperimentInputError(`only ${n} entities have activations; need at least 3`);
  const d = model.hiddenSize;
  const names = neuronTargets(dataset.kind);
  const targetRanks = names.map((name) => centredRanks(neuronTargetValues(entities, name), n));
  const layers = resolveLayers(parameters.layers, set.manifest.layers.length);
  const viewRows = sampleRows(n, parameters.viewEntities, (parameters.seed ^ 0x6e6575) >>> 0);

  const layerResults: NeuronLayer[] = [];
  // Per target: candidate views (the strongest viewNeurons dims of each layer, with their sampled values).
  const candidates = names.map((): NeuronView[] => []);
  for (const [position, layer] of layers.entries()) {
    hooks.signal?.throwIfAborted();
    hooks.onProgress?.({ stage: 'fit', done: position, total: layers.length, message: `ranking the ${d} dims of layer ${layer}` });
    const x = readLayer(set, layer);
    const rho = spearmanPerDimension(x, n, d, targetRanks);
    const top: Record<string, RankedNeuron[]> = {};
    names.forEach((name, index) => {
      top[name] = topByAbsolute(rho[index], parameters.topK);
      for (const neuron of topByAbsolute(rho[index], parameters.viewNeurons)) {
        candidates[index].push({ target: name, layer, dim: neuron.dim, rho: neuron.rho, values: Array.from(viewRows, (row) => significant(x[row * d + neuron.dim])) });
      }
    });
    layerResults.push({ index: layer, top });
  }
  const best: Record<string, RankedNeuron & { layer: number }> = {};
  const views: NeuronView[] = [];
  names.forEach((name, index) => {
    const ranked = [...candidates[index]].sort((a, b) => Math.abs(b.rho) - Math.abs(a.rho) || a.layer - b.layer || a.dim - b.dim);
    if (ranked.length > 0) best[name] = { layer: ranked[0].layer, dim: ranked[0].dim, rho: ranked[0].rho };
    else {
      const strongest = layerResults.flatMap((result) => (result.top[name] ?? []).map((neuron) => ({ ...neuron, layer: result.index })))
        .sort((a, b) => Math.abs(b.rho) - Math.abs(a.rho))[0];
      if (strongest) best[name] = strongest;
    }
    views.push(...ranked.slice(0, parameters.viewNeurons));
  });
  const split = splitFor(entities, parameters.seed);

  return {
    ...session.header('neurons', parameters, { split, entities: n, numLayers: set.manifest.layers.length }),
    neuronTargets: names,
    layers: layerResults,
    best,
    views: {
      entities: Array.from(viewRows, (row) => ({ row: entities[row].line, name: entities[row].name, true: [...entities[row].target] })),
      neurons: views,
    },
    mlpNeurons: { exposed: false, reason: MLP_NEURONS_NOT_EXPOSED },
  };
}

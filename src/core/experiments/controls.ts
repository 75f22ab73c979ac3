/**
 * @file Controls the paper lacks, each next to the ordinary linear probe on the same rows and split:
 *   - shuffled labels: the training targets permuted among the training rows (seeded); the test targets stay
 *     true. A probe that finds structure here is fitting noise: expect test R² ≈ 0 (slightly negative);
 *   - random weights: the same architecture and tokenizer with re-randomised weights (randomWeights.ts),
 *     extracted through the same path and probed per layer;
 *   - PCA baseline: ridge on the top-k principal components of the training rows' activations, k = 2, 5, 10,
 *     20, 50, 100 (clipped to the hidden size and to the training rows − 1): how much of the signal lives in the
 *     directions of largest variance.
 */
import * as path from 'node:path';
import { mulberry32 } from '../probes/split';
import { DEFAULT_ALPHAS } from '../probes/probe';
import { leadingColumns, principalComponents, projectOnComponents } from '../probes/pca';
import {
  ExperimentInputError, fitLinear, linearScores, readLayer, resolveLayers,
  type ExperimentHooks, type ExperimentSession,
} from './experimentSession';
import {
  CONTROL_NAMES, type ControlName, type ControlsLayer, type ControlsParameters, type ControlsResult, type PcaScore,
  type RandomWeightsControl, type TemplateLayer,
} from './experimentResults';
import { randomWeightsModel } from './randomWeights';

export const DEFAULT_PCA_K: readonly number[] = Object.freeze([2, 5, 10, 20, 50, 100]);

export interface ControlsOptions {
  readonly controls?: readonly ControlName[];
  readonly pcaK?: readonly number[];
  readonly randomWeightsSeed?: number;
  readonly seed?: number;
  readonly alphas?: readonly number[];
  readonly layers?: readonly number[] | 'all';
  readonly prompt?: string;
}

export function controlsParameters(options: ControlsOptions): ControlsParameters {
  const controls = options.controls && options.controls.length > 0 ? [...new Set(options.controls)] : [...CONTROL_NAMES];
  for (const control of controls) {
    if (!CONTROL_NAMES.includes(control)) throw new ExperimentInputError(`unknown control "${control}" (known: ${CONTROL_NAMES.join(', ')})`);
  }
  const pcaK = [...new Set(options.pcaK ?? DEFAULT_PCA_K)].sort((a, b) => a - b);
  if (pcaK.length === 0 || pcaK.some((k) => !Number.isInteger(k) || k < 1)) throw new ExperimentInputError('PCA k values must be positive integers');
  return {
    prompt: options.prompt ?? '{entity}',
    seed: options.seed ?? 0,
    alphas: [...(options.alphas ?? DEFAULT_ALPHAS)],
    layers: options.layers ?? 'all',
    controls,
    pcaK,
    randomWeightsSeed: options.randomWeightsSeed ?? 1,
  };
}

/** Targets with the training rows' values permuted among the training rows (seeded); test rows unchanged. */
export function shuffleTrainingTargets(targets: Float64Array, nTargets: number, train: Int32Array, seed: number): Float64Array {
  const shuffled = Float64Array.from(targets);
  const order = Int32Array.from(train);
  const random = mulberry32((seed ^ 0x5f3759df) >>> 0);
  for (let index = order.length - 1; index > 0; index--) {
    const pick = Math.floor(random() * (index + 1));
    const swap = order[index];
    order[index] = order[pick];
    order[pick] = swap;
  }
  train.forEach((row, index) => {
    for (let c = 0; c < nTargets; c++) shuffled[row * nTargets + c] = targets[order[index] * nTargets + c];
  });
  return shuffled;
}

export async function runControls(session: ExperimentSession, parameters: ControlsParameters, hooks: ExperimentHooks = {}): Promise<ControlsResult> {
  const { dataset, model } = session;
  const { set, entities, n, d, t, targets, split } = await session.probeData(parameters.prompt, parameters.seed);
  const layers = resolveLayers(parameters.layers, set.manifest.layers.length);
  const measure = session.distance;
  const wants = (control: ControlName): boolean => parameters.controls.includes(control);
  const shuffled = wants('shuffled') ? shuffleTrainingTargets(targets, t, split.train, parameters.seed) : undefined;
  const pcaK = parameters.pcaK.map((k) => Math.min(k, d, split.train.length - 1)).filter((k, index, list) => k >= 1 && list.indexOf(k) === index);
  const maxK = Math.max(...pcaK);

  const results: ControlsLayer[] = [];
  for (const [position, layer] of layers.entries()) {
    hooks.signal?.throwIfAborted();
    hooks.onProgress?.({ stage: 'fit', done: position, total: layers.length, message: `layer ${layer} (${position + 1}/${layers.length}): ${parameters.controls.filter((c) => c !== 'random-weights').join(', ') || 'linear'}` });
    const x = readLayer(set, layer);
    const linear = linearScores(await fitLinear(x, d, targets, t, split, parameters.alphas, measure), dataset.targets);
    const row: { index: number; linear: typeof linear; shuffled?: typeof linear; pca?: PcaScore[] } = { index: layer, linear };
    if (shuffled) row.shuffled = linearScores(await fitLinear(x, d, shuffled, t, split, parameters.alphas, measure), dataset.targets);
    if (wants('pca')) {
      const pca = await principalComponents(x, d, split.train, maxK);
      const scores = await projectOnComponents(pca, x, n);
      const cumulative: number[] = [];
      pca.variances.reduce((sum, value) => { cumulative.push(sum + value); return sum + value; }, 0);
      row.pca = [];
      for (const k of pcaK) {
        const z = leadingColumns(scores, n, pca.k, k);
        const fit = linearScores(await fitLinear(z, k, targets, t, split, parameters.alphas, measure), dataset.targets);
        row.pca.push({ k, explainedVariance: pca.totalVariance > 0 ? cumulative[k - 1] / pca.totalVariance : Number.NaN, ...fit });
      }
    }
    results.push(row);
  }

  let randomWeights: RandomWeightsControl | undefined;
  if (wants('random-weights')) {
    hooks.onProgress?.({ stage: 'model', message: `re-randomising the weights of ${session.inputs.model} (seed ${parameters.randomWeightsSeed})` });
    const workDir = path.join(path.resolve(session.inputs.outDir), `.random-weights-${process.pid}-${parameters.randomWeightsSeed}`);
    const twin = await randomWeightsModel(model, parameters.randomWeightsSeed, workDir, { device: session.inputs.device });
    try {
      const randomSet = await session.activations(parameters.prompt, twin.model);
      // Same tokenizer, so the same rows; if not (it cannot happen for these models), fail loudly.
      if (randomSet.entities.length !== n || randomSet.entities.some((entity, index) => entity.line !== entities[index].line)) {
        throw new ExperimentInputError('the random-weights model kept different rows than the model; cannot compare');
      }
      const randomLayers: TemplateLayer[] = [];
      for (const [position, layer] of layers.entries()) {
        hooks.signal?.throwIfAborted();
        hooks.onProgress?.({ stage: 'fit', done: position, total: layers.length, message: `random weights: layer ${layer}` });
        const fit = await fitLinear(readLayer(randomSet, layer), d, targets, t, split, parameters.alphas, measure);
        randomLayers.push({ index: layer, ...linearScores(fit, dataset.targets) });
      }
      randomWeights = { method: twin.method, fingerprint: twin.model.fingerprint, tensors: twin.tensors, layers: randomLayers };
    } finally {
      await twin.dispose();
    }
  }

  return {
    ...session.header('controls', parameters, { split, entities: n, numLayers: set.manifest.layers.length }),
    layers: results,
    ...(randomWeights ? { randomWeights } : {}),
  };
}

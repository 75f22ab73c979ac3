/**
 * @file Nonlinear probes: per layer, the paper's one-hidden-layer MLP (src/core/probes/mlp.ts) next to the linear
 * ridge probe, on the same split. The paper finds almost no gain from the MLP, i.e. the representation is linear.
 */
import { MLP_DEFAULTS, fitMlpRegressor, predictMlp, type MlpOptions } from '../probes/mlp';
import { proximityError, r2PerTarget } from '../probes/metrics';
import { DEFAULT_ALPHAS } from '../probes/probe';
import {
  ExperimentInputError, byName, fitLinear, gatherRows, linearScores, readLayer, resolveLayers,
  type ExperimentHooks, type ExperimentSession,
} from './experimentSession';
import { type MlpLayer, type MlpParameters, type MlpResult } from './experimentResults';

/** The MLP's own hyper-parameters (src/core/probes/mlp.ts) plus what the experiment adds. */
export interface MlpExperimentOptions extends Pick<MlpOptions,
  'hiddenUnits' | 'learningRate' | 'batchSize' | 'maxEpochs' | 'patience' | 'weightDecays' | 'validationFraction' | 'seed'> {
  readonly alphas?: readonly number[];
  readonly layers?: readonly number[] | 'all';
  readonly prompt?: string;
}

export function mlpParameters(options: MlpExperimentOptions): MlpParameters {
  const parameters: MlpParameters = {
    prompt: options.prompt ?? '{entity}',
    seed: options.seed ?? 0,
    alphas: [...(options.alphas ?? DEFAULT_ALPHAS)],
    layers: options.layers ?? 'all',
    hiddenUnits: options.hiddenUnits ?? MLP_DEFAULTS.hiddenUnits,
    learningRate: options.learningRate ?? MLP_DEFAULTS.learningRate,
    batchSize: options.batchSize ?? MLP_DEFAULTS.batchSize,
    maxEpochs: options.maxEpochs ?? MLP_DEFAULTS.maxEpochs,
    patience: options.patience ?? MLP_DEFAULTS.patience,
    weightDecays: [...(options.weightDecays ?? MLP_DEFAULTS.weightDecays)],
    validationFraction: options.validationFraction ?? MLP_DEFAULTS.validationFraction,
  };
  if (!(parameters.validationFraction > 0 && parameters.validationFraction < 1)) {
    throw new ExperimentInputError(`the validation fraction must be in (0, 1), got ${parameters.validationFraction}`);
  }
  if (parameters.weightDecays.length === 0 || parameters.weightDecays.some((decay) => !(decay >= 0))) {
    throw new ExperimentInputError('weight decays must be a non-empty list of numbers ≥ 0');
  }
  return parameters;
}

export async function runMlpExperiment(session: ExperimentSession, parameters: MlpParameters, hooks: ExperimentHooks = {}): Promise<MlpResult> {
  const { dataset } = session;
  const { set, n, d, t, targets, split } = await session.probeData(parameters.prompt, parameters.seed);
  const layers = resolveLayers(parameters.layers, set.manifest.layers.length);
  const testTruth = gatherRows(targets, t, split.test);
  const results: MlpLayer[] = [];
  for (const [position, layer] of layers.entries()) {
    hooks.signal?.throwIfAborted();
    const message = `layer ${layer} (${position + 1}/${layers.length})`;
    hooks.onProgress?.({ stage: 'fit', done: position, total: layers.length, message: `${message}: linear probe` });
    const x = readLayer(set, layer);
    const linear = linearScores(await fitLinear(x, d, targets, t, split, parameters.alphas, session.distance), dataset.targets);
    const fit = await fitMlpRegressor({ x, nSamples: n, nFeatures: d, y: targets, nTargets: t, trainIdx: split.train }, {
      ...parameters,
      signal: hooks.signal,
      onEpoch: (decay, epoch, loss) => hooks.onProgress?.({
        stage: 'fit', done: position, total: layers.length, message: `${message}: MLP, weight decay ${decay}, epoch ${epoch}, validation MSE ${loss.toFixed(4)}`,
      }),
    });
    const predicted = await predictMlp(fit, gatherRows(x, d, split.test), split.test.length);
    const { perTarget, mean } = r2PerTarget(testTruth, predicted, split.test.length, t);
    results.push({
      index: layer,
      linear,
      mlp: {
        testR2: mean,
        testR2PerTarget: byName(dataset.targets, perTarget),
        proximityError: proximityError(testTruth, predicted, session.distance),
        weightDecay: fit.weightDecay,
        epochs: fit.epochs,
        bestEpoch: fit.bestEpoch,
        validationLoss: fit.validationLoss,
      },
    });
  }
  return {
    ...session.header('mlp', parameters, { split, entities: n, numLayers: set.manifest.layers.length }),
    layers: results,
  };
}

/**
 * @file A one-hidden-layer MLP regressor (the paper's nonlinear probe): x → ReLU(x·W₁ + b₁)·W₂ + b₂.
 *
 * Training, all seeded and in float32:
 *   - inputs standardised per feature and targets per column with the training rows' mean and standard deviation
 *     (ddof 0; a constant feature keeps scale 1);
 *   - a validation split (default 20%) carved from the training rows by a seeded shuffle;
 *   - for each weight decay of the grid: the same seeded initialisation (PyTorch's nn.Linear default,
 *     U(±1/√fan_in) for weights and biases), mini-batch AdamW (β = 0.9, 0.999, ε = 1e-8; decoupled decay on the
 *     weight matrices only, not the biases) on the mean squared error, rows reshuffled every epoch; after every
 *     epoch the validation MSE is measured and the best weights kept; training stops after `patience` epochs
 *     without a strictly lower validation MSE (early stopping) or at `maxEpochs`;
 *   - the weight decay with the lowest validation MSE wins (the first on ties), with its best-epoch weights.
 *
 * Cost is two matrix products per mini-batch of the size batch × nFeatures × hiddenUnits (the forward product
 * and the gradient of W₁); they go to the product backend (onnxruntime's MLAS Gemm by default, plain TypeScript
 * on request). The second layer has nTargets ≤ 2 columns and stays in TypeScript, as do ReLU and AdamW.
 */
import { OrtGemm } from '../runtime/linalg';
import { javascriptProducts, onnxProducts, type DenseProducts } from './products';
import { mulberry32 } from './split';

export interface MlpOptions {
  readonly hiddenUnits?: number;
  readonly learningRate?: number;
  readonly batchSize?: number;
  readonly maxEpochs?: number;
  readonly patience?: number;
  /** AdamW decoupled weight decays tried; the validation split chooses one. */
  readonly weightDecays?: readonly number[];
  readonly validationFraction?: number;
  readonly seed?: number;
  readonly products?: DenseProducts | 'onnxruntime' | 'javascript';
  readonly signal?: AbortSignal;
  /** Called after every epoch (for progress). */
  readonly onEpoch?: (weightDecay: number, epoch: number, validationLoss: number) => void;
}

export const MLP_DEFAULTS = Object.freeze({
  hiddenUnits: 256,
  learningRate: 1e-3,
  batchSize: 256,
  maxEpochs: 100,
  patience: 5,
  weightDecays: Object.freeze([0.01, 0.1, 1, 10]) as readonly number[],
  validationFraction: 0.2,
  seed: 0,
});

export interface MlpInput {
  /** nSamples × nFeatures, row-major. */
  readonly x: Float32Array | Float64Array;
  readonly nSamples: number;
  readonly nFeatures: number;
  /** nSamples × nTargets, row-major, in the targets' own units. */
  readonly y: Float64Array;
  readonly nTargets: number;
  /** Rows used for training (validation rows are carved from these). */
  readonly trainIdx: Int32Array;
}

export interface MlpWeights {
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  readonly w2: Float32Array;
  readonly b2: Float32Array;
}

export interface MlpFit {
  readonly weightDecay: number;
  /** Epochs run for the chosen weight decay, and the epoch (1-based) whose weights were kept. */
  readonly epochs: number;
  readonly bestEpoch: number;
  /** Best validation MSE (standardised targets) per weight decay, in grid order. */
  readonly validationLoss: readonly number[];
  readonly weights: MlpWeights;
  readonly featureMean: Float64Array;
  readonly featureScale: Float64Array;
  readonly targetMean: Float64Array;
  readonly targetScale: Float64Array;
  readonly hiddenUnits: number;
  readonly nFeatures: number;
  readonly nTargets: number;
}

export class MlpInputError extends Error {
  override readonly name = 'MlpInputError';
}

let singleThreaded: DenseProducts | undefined;

/**
 * The MLP's products are small (batch × nFeatures × hiddenUnits, a few million multiply-adds) and there are
 * thousands of them: a single onnxruntime thread beats two, which spend their time synchronising (measured:
 * 253 vs 505 ms of CPU per epoch on 16,000 × 100, BENCHMARKS.md).
 */
function resolveProducts(products: MlpOptions['products']): DenseProducts {
  if (products === undefined || products === 'onnxruntime') return (singleThreaded ??= onnxProducts(new OrtGemm(1)));
  if (products === 'javascript') return javascriptProducts;
  return products;
}

/** Mean and scale (population standard deviation, 1 when zero) of each column over `rows`. */
function columnStats(data: ArrayLike<number>, cols: number, rows: Int32Array): { mean: Float64Array; scale: Float64Array } {
  const mean = new Float64Array(cols);
  const scale = new Float64Array(cols);
  for (const row of rows) for (let c = 0; c < cols; c++) mean[c] += data[row * cols + c];
  for (let c = 0; c < cols; c++) mean[c] /= rows.length;
  for (const row of rows) for (let c = 0; c < cols; c++) scale[c] += (data[row * cols + c] - mean[c]) ** 2;
  for (let c = 0; c < cols; c++) {
    const std = Math.sqrt(scale[c] / rows.length);
    scale[c] = std > 0 ? std : 1;
  }
  return { mean, scale };
}

function standardise(data: ArrayLike<number>, cols: number, rows: ArrayLike<number>, mean: Float64Array, scale: Float64Array): Float32Array {
  const out = new Float32Array(rows.length * cols);
  for (let r = 0; r < rows.length; r++) {
    const source = rows[r] * cols;
    const target = r * cols;
    for (let c = 0; c < cols; c++) out[target + c] = (data[source + c] - mean[c]) / scale[c];
  }
  return out;
}

function initialWeights(d: number, h: number, t: number, seed: number): MlpWeights {
  const random = mulberry32(seed);
  const uniform = (bound: number): number => (2 * random() - 1) * bound;
  const bound1 = 1 / Math.sqrt(d);
  const bound2 = 1 / Math.sqrt(h);
  return {
    w1: Float32Array.from({ length: d * h }, () => uniform(bound1)),
    b1: Float32Array.from({ length: h }, () => uniform(bound1)),
    w2: Float32Array.from({ length: h * t }, () => uniform(bound2)),
    b2: Float32Array.from({ length: t }, () => uniform(bound2)),
  };
}

function copyWeights(weights: MlpWeights): MlpWeights {
  return { w1: weights.w1.slice(), b1: weights.b1.slice(), w2: weights.w2.slice(), b2: weights.b2.slice() };
}

/** Hidden activations ReLU(x·W₁ + b₁) in place of `pre` (kept for the backward pass via `pre > 0`). */
async function hiddenLayer(products: DenseProducts, x: Float32Array, rows: number, d: number, weights: MlpWeights, h: number, out: Float32Array): Promise<Float32Array> {
  await products.gemm('float32', { data: x, rows, cols: d }, { data: weights.w1, rows: d, cols: h }, { out });
  const { b1 } = weights;
  for (let r = 0; r < rows; r++) {
    const offset = r * h;
    for (let j = 0; j < h; j++) {
      const value = out[offset + j] + b1[j];
      out[offset + j] = value > 0 ? value : 0;
    }
  }
  return out;
}

function outputLayer(hidden: Float32Array, rows: number, h: number, weights: MlpWeights, t: number, out: Float64Array): Float64Array {
  const { w2, b2 } = weights;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < t; c++) {
      let sum = b2[c];
      for (let j = 0; j < h; j++) sum += hidden[r * h + j] * w2[j * t + c];
      out[r * t + c] = sum;
    }
  }
  return out;
}

/** Mean squared error (over rows and targets) of standardised predictions, evaluated in chunks. */
async function meanSquaredError(products: DenseProducts, x: Float32Array, y: Float32Array, rows: number, d: number, t: number, weights: MlpWeights, h: number): Promise<number> {
  const chunk = Math.max(1, Math.min(rows, 4096));
  const hidden = new Float32Array(chunk * h);
  const predicted = new Float64Array(chunk * t);
  let sum = 0;
  for (let start = 0; start < rows; start += chunk) {
    const count = Math.min(chunk, rows - start);
    await hiddenLayer(products, x.subarray(start * d, (start + count) * d), count, d, weights, h, hidden.subarray(0, count * h));
    outputLayer(hidden, count, h, weights, t, predicted);
    for (let index = 0; index < count * t; index++) sum += (predicted[index] - y[start * t + index]) ** 2;
  }
  return sum / (rows * t);
}

interface Adam {
  readonly m: Float32Array;
  readonly v: Float32Array;
}

function adamState(size: number): Adam {
  return { m: new Float32Array(size), v: new Float32Array(size) };
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

/** One AdamW step on `param` with gradient `grad` (step ≥ 1); decay 0 for biases. */
function adamW(param: Float32Array, grad: Float32Array, state: Adam, step: number, learningRate: number, decay: number): void {
  const { m, v } = state;
  const correction1 = 1 - BETA1 ** step;
  const correction2 = 1 - BETA2 ** step;
  const shrink = 1 - learningRate * decay;
  for (let index = 0; index < param.length; index++) {
    const g = grad[index];
    const mi = BETA1 * m[index] + (1 - BETA1) * g;
    const vi = BETA2 * v[index] + (1 - BETA2) * g * g;
    m[index] = mi;
    v[index] = vi;
    param[index] = param[index] * shrink - learningRate * (mi / correction1) / (Math.sqrt(vi / correction2) + EPSILON);
  }
}

interface TrainOutcome {
  readonly weights: MlpWeights;
  readonly bestLoss: number;
  readonly epochs: number;
  readonly bestEpoch: number;
}

async function trainOne(products: DenseProducts, data: { xFit: Float32Array; yFit: Float32Array; nFit: number; xVal: Float32Array; yVal: Float32Array; nVal: number },
  d: number, t: number, decay: number, options: Required<Pick<MlpOptions, 'hiddenUnits' | 'learningRate' | 'batchSize' | 'maxEpochs' | 'patience' | 'seed'>>,
  signal: AbortSignal | undefined, onEpoch: MlpOptions['onEpoch']): Promise<TrainOutcome> {
  const { hiddenUnits: h, learningRate, maxEpochs, patience } = options;
  const { xFit, yFit, nFit, xVal, yVal, nVal } = data;
  const batch = Math.max(1, Math.min(options.batchSize, nFit));
  const weights = initialWeights(d, h, t, options.seed);
  const states = { w1: adamState(d * h), b1: adamState(h), w2: adamState(h * t), b2: adamState(t) };
  const gradients = { w1: new Float32Array(d * h), b1: new Float32Array(h), w2: new Float32Array(h * t), b2: new Float32Array(t) };
  const xBatch = new Float32Array(batch * d);
  const yBatch = new Float32Array(batch * t);
  const hidden = new Float32Array(batch * h);
  const output = new Float64Array(batch * t);
  const outputGrad = new Float32Array(batch * t);
  const hiddenGrad = new Float32Array(batch * h);
  const order = Int32Array.from({ length: nFit }, (_, index) => index);
  // The shuffle stream differs from the initialisation stream but is the same for every weight decay.
  const random = mulberry32((options.seed ^ 0x9e3779b9) >>> 0);
  let best: MlpWeights = copyWeights(weights);
  let bestLoss = Infinity;
  let bestEpoch = 0;
  let step = 0;
  let epoch = 0;
  let stale = 0;
  while (epoch < maxEpochs && stale < patience) {
    signal?.throwIfAborted();
    epoch++;
    for (let index = nFit - 1; index > 0; index--) {
      const pick = Math.floor(random() * (index + 1));
      const swap = order[index];
      order[index] = order[pick];
      order[pick] = swap;
    }
    for (let start = 0; start < nFit; start += batch) {
      const rows = Math.min(batch, nFit - start);
      for (let r = 0; r < rows; r++) {
        const source = order[start + r] * d;
        const target = r * d;
        for (let f = 0; f < d; f++) xBatch[target + f] = xFit[source + f];
        for (let c = 0; c < t; c++) yBatch[r * t + c] = yFit[order[start + r] * t + c];
      }
      const xRows = xBatch.subarray(0, rows * d);
      const hiddenRows = hidden.subarray(0, rows * h);
      await hiddenLayer(products, xRows, rows, d, weights, h, hiddenRows);
      outputLayer(hiddenRows, rows, h, weights, t, output);
      // d(MSE)/d(output) with the mean over rows and targets.
      const scale = 2 / (rows * t);
      const { b2: gradB2, w2: gradW2, b1: gradB1 } = gradients;
      gradB2.fill(0);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < t; c++) {
          const g = (output[r * t + c] - yBatch[r * t + c]) * scale;
          outputGrad[r * t + c] = g;
          gradB2[c] += g;
        }
      }
      gradW2.fill(0);
      gradB1.fill(0);
      hiddenGrad.fill(0, 0, rows * h);
      const { w2 } = weights;
      for (let r = 0; r < rows; r++) {
        const offset = r * h;
        for (let j = 0; j < h; j++) {
          const activation = hiddenRows[offset + j];
          // ReLU: inactive units pass no gradient and contribute nothing to ∂W₂.
          if (activation <= 0) continue;
          let back = 0;
          for (let c = 0; c < t; c++) {
            const g = outputGrad[r * t + c];
            gradW2[j * t + c] += activation * g;
            back += g * w2[j * t + c];
          }
          hiddenGrad[offset + j] = back;
          gradB1[j] += back;
        }
      }
      await products.gemm('float32', { data: xRows, rows, cols: d }, { data: hiddenGrad.subarray(0, rows * h), rows, cols: h }, { transA: true, out: gradients.w1 });
      step++;
      adamW(weights.w1, gradients.w1, states.w1, step, learningRate, decay);
      adamW(weights.b1, gradients.b1, states.b1, step, learningRate, 0);
      adamW(weights.w2, gradients.w2, states.w2, step, learningRate, decay);
      adamW(weights.b2, gradients.b2, states.b2, step, learningRate, 0);
    }
    const loss = await meanSquaredError(products, xVal, yVal, nVal, d, t, weights, h);
    onEpoch?.(decay, epoch, loss);
    if (loss < bestLoss) {
      bestLoss = loss;
      bestEpoch = epoch;
      best = copyWeights(weights);
      stale = 0;
    } else {
      stale++;
    }
  }
  return { weights: best, bestLoss, epochs: epoch, bestEpoch };
}

/** Fit the MLP on `trainIdx` (see the file comment). */
export async function fitMlpRegressor(input: MlpInput, options: MlpOptions = {}): Promise<MlpFit> {
  const { x, nSamples: n, nFeatures: d, y, nTargets: t, trainIdx } = input;
  const settings = {
    hiddenUnits: options.hiddenUnits ?? MLP_DEFAULTS.hiddenUnits,
    learningRate: options.learningRate ?? MLP_DEFAULTS.learningRate,
    batchSize: options.batchSize ?? MLP_DEFAULTS.batchSize,
    maxEpochs: options.maxEpochs ?? MLP_DEFAULTS.maxEpochs,
    patience: options.patience ?? MLP_DEFAULTS.patience,
    seed: options.seed ?? MLP_DEFAULTS.seed,
  };
  const weightDecays = options.weightDecays ?? MLP_DEFAULTS.weightDecays;
  const validationFraction = options.validationFraction ?? MLP_DEFAULTS.validationFraction;
  if (x.length !== n * d) throw new MlpInputError(`fitMlpRegressor: x has ${x.length} values, expected ${n} × ${d}`);
  if (y.length !== n * t) throw new MlpInputError(`fitMlpRegressor: y has ${y.length} values, expected ${n} × ${t}`);
  for (const [name, value] of Object.entries(settings)) {
    if (!Number.isFinite(value) || value < 0 || (name !== 'seed' && value === 0)) throw new MlpInputError(`fitMlpRegressor: ${name} must be positive, got ${value}`);
  }
  for (const name of ['hiddenUnits', 'batchSize', 'maxEpochs', 'patience', 'seed'] as const) {
    if (!Number.isInteger(settings[name])) throw new MlpInputError(`fitMlpRegressor: ${name} must be an integer, got ${settings[name]}`);
  }
  if (weightDecays.length === 0 || weightDecays.some((decay) => !(decay >= 0) || !Number.isFinite(decay))) {
    throw new MlpInputError(`fitMlpRegressor: weight decays must be a non-empty list of finite values ≥ 0, got ${weightDecays.join(', ')}`);
  }
  if (!(validationFraction > 0 && validationFraction < 1)) throw new MlpInputError(`fitMlpRegressor: validationFraction must be in (0, 1), got ${validationFraction}`);
  if (trainIdx.length < 4) throw new MlpInputError(`fitMlpRegressor: need at least 4 training rows, got ${trainIdx.length}`);
  for (const row of trainIdx) if (row < 0 || row >= n) throw new MlpInputError(`fitMlpRegressor: training row ${row} outside 0…${n - 1}`);
  const products = resolveProducts(options.products);

  const features = columnStats(x, d, trainIdx);
  const targetStats = columnStats(y, t, trainIdx);
  // Validation rows: a seeded shuffle of the training rows.
  const shuffled = Int32Array.from(trainIdx);
  const random = mulberry32((settings.seed ^ 0x243f6a88) >>> 0);
  for (let index = shuffled.length - 1; index > 0; index--) {
    const pick = Math.floor(random() * (index + 1));
    const swap = shuffled[index];
    shuffled[index] = shuffled[pick];
    shuffled[pick] = swap;
  }
  const nVal = Math.min(shuffled.length - 2, Math.max(2, Math.round(validationFraction * shuffled.length)));
  const valRows = shuffled.slice(0, nVal).sort();
  const fitRows = shuffled.slice(nVal).sort();
  const data = {
    xFit: standardise(x, d, fitRows, features.mean, features.scale),
    yFit: standardise(y, t, fitRows, targetStats.mean, targetStats.scale),
    nFit: fitRows.length,
    xVal: standardise(x, d, valRows, features.mean, features.scale),
    yVal: standardise(y, t, valRows, targetStats.mean, targetStats.scale),
    nVal,
  };

  let chosen: { decay: number; outcome: TrainOutcome } | undefined;
  const validationLoss: number[] = [];
  for (const decay of weightDecays) {
    const outcome = await trainOne(products, data, d, t, decay, settings, options.signal, options.onEpoch);
    validationLoss.push(outcome.bestLoss);
    if (chosen === undefined || outcome.bestLoss < chosen.outcome.bestLoss) chosen = { decay, outcome };
  }
  const { decay, outcome } = chosen as { decay: number; outcome: TrainOutcome };
  return Object.freeze({
    weightDecay: decay,
    epochs: outcome.epochs,
    bestEpoch: outcome.bestEpoch,
    validationLoss,
    weights: outcome.weights,
    featureMean: features.mean,
    featureScale: features.scale,
    targetMean: targetStats.mean,
    targetScale: targetStats.scale,
    hiddenUnits: settings.hiddenUnits,
    nFeatures: d,
    nTargets: t,
  });
}

/** Predictions (target units) of a fitted MLP for nSamples × nFeatures rows of x. */
export async function predictMlp(fit: MlpFit, x: Float32Array | Float64Array, nSamples: number, products: MlpOptions['products'] = undefined): Promise<Float64Array> {
  const { nFeatures: d, nTargets: t, hiddenUnits: h } = fit;
  if (x.length !== nSamples * d) throw new MlpInputError(`predictMlp: x has ${x.length} values, expected ${nSamples} × ${d}`);
  const backend = resolveProducts(products);
  const chunk = Math.max(1, Math.min(nSamples, 4096));
  const hidden = new Float32Array(chunk * h);
  const output = new Float64Array(chunk * t);
  const out = new Float64Array(nSamples * t);
  for (let start = 0; start < nSamples; start += chunk) {
    const count = Math.min(chunk, nSamples - start);
    const rows = Int32Array.from({ length: count }, (_, index) => start + index);
    const standardised = standardise(x, d, rows, fit.featureMean, fit.featureScale);
    await hiddenLayer(backend, standardised, count, d, fit.weights, h, hidden.subarray(0, count * h));
    outputLayer(hidden, count, h, fit.weights, t, output);
    for (let index = 0; index < count * t; index++) {
      const c = index % t;
      out[start * t + index] = output[index] * fit.targetScale[c] + fit.targetMean[c];
    }
  }
  return out;
}

/**
 * The MLP probe (src/core/probes/mlp.ts): it must beat the linear probe on a nonlinear target (y = |x₁|), roughly
 * match it on a linear one, be exactly reproducible for a seed, and compute the same thing on the onnxruntime and
 * plain-TypeScript product backends.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { fitMlpRegressor, predictMlp, MlpInputError } from '../../../src/core/probes/mlp';
import { fitLayerProbe } from '../../../src/core/probes/probe';
import { absoluteYears, r2PerTarget } from '../../../src/core/probes/metrics';
import { mulberry32 } from '../../../src/core/probes/split';

const N = 1500;
const D = 6;

function data(target: (row: Float32Array) => number, seed = 3): { x: Float32Array; y: Float64Array; train: Int32Array; test: Int32Array } {
  const random = mulberry32(seed);
  const x = Float32Array.from({ length: N * D }, () => random() * 4 - 2);
  // A little noise so that nothing is exactly solvable.
  const y = Float64Array.from({ length: N }, (_, row) => target(x.subarray(row * D, (row + 1) * D)) + 0.02 * (random() - 0.5));
  return { x, y, train: Int32Array.from({ length: 1200 }, (_, i) => i), test: Int32Array.from({ length: 300 }, (_, i) => 1200 + i) };
}

async function testR2(kind: 'mlp' | 'linear', set: ReturnType<typeof data>, options = {}): Promise<number> {
  const truth = set.y.subarray(1200);
  if (kind === 'linear') {
    const fit = await fitLayerProbe({ x: set.x, nSamples: N, nFeatures: D, targets: set.y, nTargets: 1, trainIdx: set.train, testIdx: set.test, distance: absoluteYears });
    return fit.test.r2;
  }
  const fit = await fitMlpRegressor({ x: set.x, nSamples: N, nFeatures: D, y: set.y, nTargets: 1, trainIdx: set.train }, { weightDecays: [0.01, 0.1], ...options });
  const predicted = await predictMlp(fit, set.x.subarray(1200 * D), 300);
  return r2PerTarget(truth, predicted, 300, 1).mean;
}

describe('MLP probe', () => {
  test('beats the linear probe on y = |x₁| (which no linear probe can fit)', async () => {
    const set = data((row) => Math.abs(row[0]));
    const linear = await testR2('linear', set);
    const mlp = await testR2('mlp', set);
    assert.ok(linear < 0.05, `linear R² ${linear}`);
    assert.ok(mlp > 0.9, `MLP R² ${mlp}`);
  });

  test('roughly matches the linear probe on a linear target', async () => {
    const set = data((row) => 2 * row[0] - row[1] + 0.5 * row[2]);
    const linear = await testR2('linear', set);
    const mlp = await testR2('mlp', set);
    assert.ok(linear > 0.999, `linear R² ${linear}`);
    assert.ok(mlp > 0.98 && mlp <= linear + 1e-3, `MLP R² ${mlp} vs linear ${linear}`);
  });

  test('is reproducible for a seed, differs for another, and records its choices', async () => {
    const set = data((row) => Math.abs(row[0]) + row[1]);
    const input = { x: set.x, nSamples: N, nFeatures: D, y: set.y, nTargets: 1, trainIdx: set.train };
    const options = { weightDecays: [0.01, 1], maxEpochs: 15, seed: 4 };
    const first = await fitMlpRegressor(input, options);
    const second = await fitMlpRegressor(input, options);
    assert.deepEqual(second.weights, first.weights);
    assert.deepEqual(second.validationLoss, first.validationLoss);
    const other = await fitMlpRegressor(input, { ...options, seed: 5 });
    assert.notDeepEqual(other.weights.w1, first.weights.w1);
    assert.equal(first.validationLoss.length, 2);
    assert.ok([0.01, 1].includes(first.weightDecay));
    assert.equal(first.weightDecay, [0.01, 1][first.validationLoss.indexOf(Math.min(...first.validationLoss))]);
    assert.ok(first.bestEpoch >= 1 && first.bestEpoch <= first.epochs && first.epochs <= 15);
  });

  test('early stopping: training ends `patience` epochs after the best validation loss', async () => {
    const set = data((row) => Math.abs(row[0]));
    const epochs: number[] = [];
    const fit = await fitMlpRegressor({ x: set.x, nSamples: N, nFeatures: D, y: set.y, nTargets: 1, trainIdx: set.train },
      { weightDecays: [0.01], patience: 3, maxEpochs: 400, learningRate: 0.02, onEpoch: (_decay, epoch) => epochs.push(epoch) });
    assert.equal(epochs.length, fit.epochs);
    assert.ok(fit.epochs < 400, 'stopped early');
    assert.equal(fit.epochs, fit.bestEpoch + 3);
  });

  test('onnxruntime and TypeScript products train the same network', async () => {
    const set = data((row) => Math.abs(row[0]) - row[2]);
    const input = { x: set.x, nSamples: N, nFeatures: D, y: set.y, nTargets: 1, trainIdx: set.train };
    const options = { weightDecays: [0.1], maxEpochs: 3, patience: 10 };
    const ort = await fitMlpRegressor(input, { ...options, products: 'onnxruntime' });
    const js = await fitMlpRegressor(input, { ...options, products: 'javascript' });
    const a = await predictMlp(ort, set.x, N, 'onnxruntime');
    const b = await predictMlp(js, set.x, N, 'javascript');
    let worst = 0;
    for (let i = 0; i < N; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    // Float32 sums in a different order: small differences that grow a little over 3 epochs of training.
    assert.ok(worst < 1e-3, `max |Δprediction| ${worst}`);
  });

  test('bad input is refused with a message naming the field', async () => {
    const set = data((row) => row[0]);
    const input = { x: set.x, nSamples: N, nFeatures: D, y: set.y, nTargets: 1, trainIdx: set.train };
    await assert.rejects(fitMlpRegressor({ ...input, nFeatures: 5 }), (error: Error) => error instanceof MlpInputError && /x has 9000 values, expected 1500 × 5/.test(error.message));
    await assert.rejects(fitMlpRegressor(input, { weightDecays: [] }), /weight decays/);
    await assert.rejects(fitMlpRegressor(input, { validationFraction: 1 }), /validationFraction/);
    await assert.rejects(fitMlpRegressor({ ...input, trainIdx: Int32Array.from([0, 1, 2, 5000]) }), /training row 5000/);
  });
});

/**
 * The α → 0 limit of our ridge against an independent ordinary-least-squares implementation:
 * ml-regression-multivariate-linear (ml-matrix: normal equations solved through an SVD inverse, with an intercept
 * column). It has no ridge penalty and no leave-one-out, so it cannot stand in for fitRidgeCV, but with a
 * vanishing α both must give the same plane, through either product backend; and a real α must move away from it.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import MultivariateLinearRegression from 'ml-regression-multivariate-linear';
import { fitRidgeCV, predict } from '../../../src/core/probes/ridge';
import { mulberry32 } from '../../../src/core/probes/split';

const N = 240;
const D = 9;
const T = 2;

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(random(), 1e-300))) * Math.cos(2 * Math.PI * random());
}

/** Features with offsets and scales from 0.5 to 40, two targets linear in them plus noise. */
function data(seed: number): { x: Float64Array; y: Float64Array; rowsX: number[][]; rowsY: number[][] } {
  const random = mulberry32(seed);
  const x = new Float64Array(N * D);
  const y = new Float64Array(N * T);
  for (let i = 0; i < N; i++) {
    for (let f = 0; f < D; f++) x[i * D + f] = (f === 0 ? 40 : 0.5 + f) * gaussian(random) + 3 * f - 7;
    for (let c = 0; c < T; c++) {
      let value = 100 * c - 20;
      for (let f = 0; f < D; f++) value += ((f + 2 * c) % 5 - 2) * 0.7 * x[i * D + f];
      y[i * T + c] = value + 5 * gaussian(random);
    }
  }
  const rows = (values: Float64Array, width: number) => Array.from({ length: N }, (_, i) => Array.from(values.subarray(i * width, (i + 1) * width)));
  return { x, y, rowsX: rows(x, D), rowsY: rows(y, T) };
}

function maxRelative(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / scale);
  return worst;
}

test('α → 0: coefficients, intercepts and predictions equal ml-regression-multivariate-linear\'s OLS (both backends)', async () => {
  const { x, y, rowsX, rowsY } = data(16);
  const ols = new MultivariateLinearRegression(rowsX, rowsY, { intercept: true, statistics: false });
  const olsCoef = Float64Array.from(ols.weights.slice(0, D).flat());
  const olsIntercept = Float64Array.from(ols.weights[D]);
  const olsPredictions = Float64Array.from(ols.predict(rowsX).flat());
  for (const products of ['javascript', 'onnxruntime'] as const) {
    const fit = await fitRidgeCV({ x, y, nSamples: N, nFeatures: D, nTargets: T }, { alphas: [1e-9], products });
    assert.ok(maxRelative(fit.coef, olsCoef) < 1e-8, `${products}: coef ${maxRelative(fit.coef, olsCoef)}`);
    assert.ok(maxRelative(fit.intercept, olsIntercept) < 1e-8, `${products}: intercept ${maxRelative(fit.intercept, olsIntercept)}`);
    const predictions = predict(fit, x, N);
    assert.ok(maxRelative(predictions, olsPredictions) < 1e-9, `${products}: predictions ${maxRelative(predictions, olsPredictions)}`);
  }
});

test('a real α shrinks away from OLS, more for larger α', async () => {
  const { x, y, rowsX, rowsY } = data(17);
  const ols = new MultivariateLinearRegression(rowsX, rowsY, { intercept: true, statistics: false });
  const olsCoef = Float64Array.from(ols.weights.slice(0, D).flat());
  const norm = (values: ArrayLike<number>) => Math.hypot(...Array.from(values));
  let previous = norm(olsCoef);
  for (const alpha of [10, 1e3, 1e5]) {
    const fit = await fitRidgeCV({ x, y, nSamples: N, nFeatures: D, nTargets: T }, { alphas: [alpha], products: 'javascript' });
    assert.ok(maxRelative(fit.coef, olsCoef) > 1e-4, `α=${alpha} is not OLS`);
    assert.ok(norm(fit.coef) < previous, `α=${alpha}: ‖coef‖ ${norm(fit.coef)} < ${previous}`);
    previous = norm(fit.coef);
  }
});

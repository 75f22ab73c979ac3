import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  autoProjectionPrecision, factorShiftedTridiagonal, fitRidgeCV, FLOAT32_PROJECTION_MIN_FEATURES, FLOAT32_PROJECTION_MIN_SAMPLES, predict, RidgeInputError,
  solveShiftedTridiagonal, type RidgeCVResult,
} from '../../../src/core/probes/ridge';
import { float32ChoiceIsSafe } from '../../../src/core/probes/looScores';
import { tridiagonalize } from '../../../src/core/probes/tridiagonal';
import { factorShiftedBand, reduceToBand, solveShiftedBand } from '../../../src/core/probes/band';
import { acceleratedProducts, javascriptProducts, onnxProducts } from '../../../src/core/probes/products';
import { OrtGemm, type GemmArray, type GemmDtype, type GemmOptions, type MatrixArg } from '../../../src/core/runtime/linalg';
import { mulberry32 } from '../../../src/core/probes/split';
import { DEFAULT_ALPHAS } from '../../../src/core/probes/probe';

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(random(), 1e-300))) * Math.cos(2 * Math.PI * random());
}

/** Features with offsets, uneven scales and one outlier dimension; targets linear in two features plus noise. */
function dataset(nSamples: number, nFeatures: number, nTargets: number, seed: number): { x: Float64Array; y: Float64Array } {
  const random = mulberry32(seed);
  const x = new Float64Array(nSamples * nFeatures);
  for (let i = 0; i < nSamples; i++) {
    for (let f = 0; f < nFeatures; f++) x[i * nFeatures + f] = (f === 0 ? 30 : 1 + f / nFeatures) * gaussian(random) + (f === 0 ? 50 : f);
  }
  const y = new Float64Array(nSamples * nTargets);
  for (let i = 0; i < nSamples; i++) {
    for (let c = 0; c < nTargets; c++) y[i * nTargets + c] = 2 * x[i * nFeatures + ((c + 1) % nFeatures)] - 0.05 * x[i * nFeatures] + 3 * gaussian(random) + 10 * c;
  }
  return { x, y };
}

/** Solve the dense system A w = b (A m×m, b m×k) by Gaussian elimination with partial pivoting. */
function solveDense(a: Float64Array, b: Float64Array, m: number, k: number): Float64Array {
  const aa = Float64Array.from(a);
  const bb = Float64Array.from(b);
  for (let col = 0; col < m; col++) {
    let pivot = col;
    for (let row = col + 1; row < m; row++) if (Math.abs(aa[row * m + col]) > Math.abs(aa[pivot * m + col])) pivot = row;
    for (let j = 0; j < m; j++) [aa[col * m + j], aa[pivot * m + j]] = [aa[pivot * m + j], aa[col * m + j]];
    for (let j = 0; j < k; j++) [bb[col * k + j], bb[pivot * k + j]] = [bb[pivot * k + j], bb[col * k + j]];
    for (let row = col + 1; row < m; row++) {
      const factor = aa[row * m + col] / aa[col * m + col];
      for (let j = col; j < m; j++) aa[row * m + j] -= factor * aa[col * m + j];
      for (let j = 0; j < k; j++) bb[row * k + j] -= factor * bb[col * k + j];
    }
  }
  for (let row = m - 1; row >= 0; row--) {
    for (let j = 0; j < k; j++) {
      let sum = bb[row * k + j];
      for (let c = row + 1; c < m; c++) sum -= aa[row * m + c] * bb[c * k + j];
      bb[row * k + j] = sum / aa[row * m + row];
    }
  }
  return bb;
}

/** Ridge with an unpenalised intercept by brute force: augmented normal equations [X 1]ᵀ[X 1] + diag(α,…,α,0). */
function bruteForceRidge(x: Float64Array, y: Float64Array, rows: number[], d: number, t: number, alpha: number): { coef: Float64Array; intercept: Float64Array } {
  const m = d + 1;
  const a = new Float64Array(m * m);
  const b = new Float64Array(m * t);
  for (const i of rows) {
    for (let p = 0; p < m; p++) {
      const xp = p < d ? x[i * d + p] : 1;
      for (let q = 0; q < m; q++) a[p * m + q] += xp * (q < d ? x[i * d + q] : 1);
      for (let c = 0; c < t; c++) b[p * t + c] += xp * y[i * t + c];
    }
  }
  for (let p = 0; p < d; p++) a[p * m + p] += alpha;
  const w = solveDense(a, b, m, t);
  return { coef: w.subarray(0, d * t), intercept: w.subarray(d * t, m * t) };
}

/** Leave-one-out MSE by refitting n times (sklearn's test_ridge_gcv_vs_ridge_loo_cv, in spirit). */
function bruteForceLooMse(x: Float64Array, y: Float64Array, n: number, d: number, t: number, alpha: number): number {
  let sum = 0;
  for (let left = 0; left < n; left++) {
    const rows = Array.from({ length: n }, (_, i) => i).filter((i) => i !== left);
    const { coef, intercept } = bruteForceRidge(x, y, rows, d, t, alpha);
    for (let c = 0; c < t; c++) {
      let prediction = intercept[c];
      for (let f = 0; f < d; f++) prediction += x[left * d + f] * coef[f * t + c];
      sum += (y[left * t + c] - prediction) ** 2;
    }
  }
  return sum / (n * t);
}

function maxRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1e-12, Math.abs(b[i])));
  return worst;
}

function maxAbsolute(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

const ALPHAS = [0.5, 3, 20, 150, 1000];

for (const [label, n, d, t] of [['n > d', 30, 5, 2], ['n < d', 12, 20, 1], ['n = d', 10, 10, 2]] as const) {
  test(`closed-form leave-one-out equals refitting n times (${label}, ${t} target(s)), both modes`, async () => {
    const { x, y } = dataset(n, d, t, 7 + n);
    const expected = ALPHAS.map((alpha) => bruteForceLooMse(x, y, n, d, t, alpha));
    for (const mode of ['primal', 'dual'] as const) {
      const fit = await fitRidgeCV({ x, y, nSamples: n, nFeatures: d, nTargets: t }, { alphas: ALPHAS, mode, products: 'javascript' });
      assert.ok(maxRelative(fit.looMse, expected) < 1e-8, `${mode}: ${[...fit.looMse]} vs ${expected}`);
      const best = expected.indexOf(Math.min(...expected));
      assert.equal(fit.alphaIndex, best);
      const direct = bruteForceRidge(x, y, Array.from({ length: n }, (_, i) => i), d, t, ALPHAS[best]);
      assert.ok(maxAbsolute(fit.coef, direct.coef) < 1e-8, `${mode} coef`);
      assert.ok(maxAbsolute(fit.intercept, direct.intercept) < 1e-7, `${mode} intercept`);
    }
  });
}

function assertSameFit(fast: RidgeCVResult, slow: RidgeCVResult, tolerance: number): void {
  assert.equal(fast.alphaIndex, slow.alphaIndex);
  assert.ok(maxRelative(fast.looMse, slow.looMse) < tolerance, 'looMse');
  assert.ok(maxAbsolute(fast.coef, slow.coef) < tolerance * Math.max(1, ...slow.coef.map(Math.abs)), 'coef');
  assert.ok(maxAbsolute(fast.intercept, slow.intercept) < tolerance * Math.max(1, ...slow.intercept.map(Math.abs)), 'intercept');
}

for (const [label, n, d] of [['nSamples > nFeatures', 400, 90], ['nSamples > nFeatures, three covariance strips', 700, 300], ['nSamples < nFeatures', 80, 300]] as const) {
  test(`onnxruntime products agree with the plain TypeScript path (${label}, blocked reduction)`, async () => {
    const { x, y } = dataset(n, d, 2, 99 + d);
    const x32 = Float32Array.from(x);
    const options = { alphas: DEFAULT_ALPHAS, chunkRows: 64 };
    const fast = await fitRidgeCV({ x: x32, y, nSamples: n, nFeatures: d, nTargets: 2 }, { ...options, products: onnxProducts() });
    const slow = await fitRidgeCV({ x: x32, y, nSamples: n, nFeatures: d, nTargets: 2 }, { ...options, products: javascriptProducts });
    assert.equal(fast.mode, n > d ? 'primal' : 'dual');
    assertSameFit(fast, slow, 1e-9);
    if (n > d) {
      // The band reduction (forced, narrow uneven blocks) gives the same answer on both backends.
      for (const products of [onnxProducts(), javascriptProducts]) {
        const band = await fitRidgeCV({ x: x32, y, nSamples: n, nFeatures: d, nTargets: 2 }, { ...options, products, reduction: 'band', bandwidth: 7 });
        assertSameFit(band, slow, 1e-9);
      }
    }
    // The other form gives the same answer too.
    const other = await fitRidgeCV({ x: x32, y, nSamples: n, nFeatures: d, nTargets: 2 }, { ...options, mode: n > d ? 'dual' : 'primal' });
    assertSameFit(other, slow, 1e-7);
    // So do float64 rows (centred and transposed here, not in the kernel), in both forms.
    const primal64 = await fitRidgeCV({ x, y, nSamples: n, nFeatures: d, nTargets: 2 }, { ...options, mode: 'primal' });
    const dual64 = await fitRidgeCV({ x, y, nSamples: n, nFeatures: d, nTargets: 2 }, { ...options, mode: 'dual' });
    assertSameFit(primal64, dual64, 1e-7);
  });
}

test('band form: the fused leave-one-out sweep (one onnxruntime graph per chunk) gives the fit of the block-by-block Gemm sweep', async () => {
  const { x, y } = dataset(2600, 45, 2, 21);
  const input = { x: Float32Array.from(x), y, nSamples: 2600, nFeatures: 45, nTargets: 2 };
  const fused = onnxProducts();
  assert.ok(fused.bandLeverages !== undefined);
  const blockByBlock = { name: fused.name, gemm: fused.gemm };
  // bandwidth 8 over 45 features: a narrower last block, zero-padded in the fused graph; chunks of 700 rows, the last partial.
  for (const projectionPrecision of ['float64', 'float32'] as const) {
    const options = { alphas: DEFAULT_ALPHAS, reduction: 'band' as const, bandwidth: 8, chunkRows: 700, projectionPrecision };
    const one = await fitRidgeCV(input, { ...options, products: fused });
    const other = await fitRidgeCV(input, { ...options, products: blockByBlock });
    assert.equal(one.looPrecision, projectionPrecision);
    assertSameFit(one, other, projectionPrecision === 'float64' ? 1e-12 : 1e-5);
  }
});

test('float32 projection keeps the chosen alpha and float64 coefficients', async () => {
  const { x, y } = dataset(500, 60, 2, 5);
  const exact = await fitRidgeCV({ x, y, nSamples: 500, nFeatures: 60, nTargets: 2 }, { alphas: DEFAULT_ALPHAS });
  const fast = await fitRidgeCV({ x, y, nSamples: 500, nFeatures: 60, nTargets: 2 }, { alphas: DEFAULT_ALPHAS, projectionPrecision: 'float32' });
  assert.equal(fast.alphaIndex, exact.alphaIndex);
  assert.ok(maxRelative(fast.looMse, exact.looMse) < 1e-4);
  assert.ok(maxAbsolute(fast.coef, exact.coef) < 1e-9 * Math.max(...exact.coef.map(Math.abs)));
});

test('float32 leave-one-out pass, both reductions: kept when the check vouches for it, same alpha, float64 coefficients', async () => {
  const { x, y } = dataset(600, 40, 2, 11);
  const input = { x, y, nSamples: 600, nFeatures: 40, nTargets: 2 };
  for (const reduction of ['tridiagonal', 'band'] as const) {
    const options = { alphas: DEFAULT_ALPHAS, reduction, bandwidth: 7, chunkRows: 128 };
    const exact = await fitRidgeCV(input, { ...options, projectionPrecision: 'float64' });
    const fast = await fitRidgeCV(input, { ...options, projectionPrecision: 'float32' });
    assert.equal(exact.looPrecision, 'float64');
    assert.equal(fast.looPrecision, 'float32', reduction);
    assert.equal(fast.alphaIndex, exact.alphaIndex);
    const relative = maxRelative(fast.looMse, exact.looMse);
    assert.ok(relative < 1e-5 && relative > 0, `${reduction}: float32 scores differ from float64 by ${relative}`);
    assert.ok(maxAbsolute(fast.coef, exact.coef) < 1e-9 * Math.max(...exact.coef.map(Math.abs)), `${reduction} coef`);
  }
});

test('float32 leave-one-out pass: a near tie the check cannot vouch for is decided in float64', async () => {
  const { x, y } = dataset(600, 40, 2, 11);
  const input = { x, y, nSamples: 600, nFeatures: 40, nTargets: 2 };
  const exactBest = (await fitRidgeCV(input, { alphas: DEFAULT_ALPHAS, projectionPrecision: 'float64' })).alpha;
  // Two alphas 1e-9 apart around the best: float32 rounding could order them either way.
  const alphas = [exactBest * 0.25, exactBest * (1 + 1e-9), exactBest, exactBest * 4];
  for (const reduction of ['tridiagonal', 'band'] as const) {
    const phases: string[] = [];
    const exact = await fitRidgeCV(input, { alphas, reduction, bandwidth: 7, projectionPrecision: 'float64' });
    const checked = await fitRidgeCV(input, { alphas, reduction, bandwidth: 7, projectionPrecision: 'float32', onPhase: (name) => phases.push(name) });
    assert.equal(checked.looPrecision, 'float64', reduction);
    assert.ok(phases.includes('precision check'));
    assert.equal(checked.alphaIndex, exact.alphaIndex);
    assert.deepEqual([...checked.looMse], [...exact.looMse]);
    assert.deepEqual([...checked.coef], [...exact.coef]);
  }
});

test('float32ChoiceIsSafe: needs a margin over the error estimates and the relative floor; never on a tie', () => {
  const sums = Float64Array.from([3, 1, 2]);
  assert.equal(float32ChoiceIsSafe(sums, Float64Array.from([1e-3, 1e-3, 1e-3])), true);
  assert.equal(float32ChoiceIsSafe(sums, Float64Array.from([0, 0.09, 0])), true); // runner-up margin 1 > 10 × 0.09 + 1e-5
  assert.equal(float32ChoiceIsSafe(sums, Float64Array.from([0, 0.1, 0])), false); // 1 < 10 × 0.1 + 1e-5
  assert.equal(float32ChoiceIsSafe(Float64Array.from([1, 1, 2]), new Float64Array(3)), false);
  assert.equal(float32ChoiceIsSafe(Float64Array.from([1 + 1e-6, 1]), new Float64Array(2)), false);
  assert.equal(float32ChoiceIsSafe(Float64Array.from([1 + 1e-4, 1]), new Float64Array(2)), true);
});

test("projectionPrecision 'auto': float32 only where the pass is big enough to matter", () => {
  assert.equal(autoProjectionPrecision(FLOAT32_PROJECTION_MIN_SAMPLES, FLOAT32_PROJECTION_MIN_FEATURES), 'float32');
  assert.equal(autoProjectionPrecision(FLOAT32_PROJECTION_MIN_SAMPLES - 1, 4096), 'float64');
  assert.equal(autoProjectionPrecision(100_000, FLOAT32_PROJECTION_MIN_FEATURES - 1), 'float64');
});

/** An OrtGemm that counts its products per dtype (the accelerator's stand-in: the same code path on the CPU provider). */
class CountingGemm extends OrtGemm {
  readonly calls = { float32: 0, float64: 0 };
  override gemm<D extends GemmDtype>(dtype: D, a: MatrixArg<D>, b: MatrixArg<D>, options?: GemmOptions<D>): Promise<GemmArray<D>> {
    this.calls[dtype]++;
    return super.gemm(dtype, a, b, options);
  }
}

test('acceleratedProducts: the float32 leave-one-out pass on the accelerator\'s Gemm, everything float64 on the CPU\'s; same fit as the CPU path', async () => {
  const { x, y } = dataset(600, 40, 2, 11);
  const input = { x, y, nSamples: 600, nFeatures: 40, nTargets: 2 };
  for (const reduction of ['tridiagonal', 'band'] as const) {
    const accelerator = new CountingGemm(undefined, undefined, 'cpu');
    const cpu = new CountingGemm();
    const options = { alphas: DEFAULT_ALPHAS, reduction, bandwidth: 7, projectionPrecision: 'float32' } as const;
    const accelerated = await fitRidgeCV(input, { ...options, products: acceleratedProducts(accelerator, cpu) });
    // The accelerated products have no fused band sweep (runtime/bandSweep.ts runs on the CPU), so the CPU path
    // compared bit for bit is the block-by-block one.
    const cpuProducts = onnxProducts(new OrtGemm());
    const reference = await fitRidgeCV(input, { ...options, products: { name: cpuProducts.name, gemm: cpuProducts.gemm } });
    assert.equal(acceleratedProducts(accelerator, cpu).bandLeverages, undefined);
    assert.ok(accelerator.calls.float32 > 0 && accelerator.calls.float64 === 0, `${reduction}: ${JSON.stringify(accelerator.calls)}`);
    assert.ok(cpu.calls.float64 > 0 && cpu.calls.float32 === 0, `${reduction}: ${JSON.stringify(cpu.calls)}`);
    assert.equal(accelerated.alphaIndex, reference.alphaIndex);
    assert.equal(accelerated.looPrecision, reference.looPrecision);
    assert.deepEqual([...accelerated.looMse], [...reference.looMse]);
    assert.deepEqual([...accelerated.coef], [...reference.coef]);
    await accelerator.dispose();
    await cpu.dispose();
  }
});

test('ties go to the first alpha, as scikit-learn (strictly better score only)', async () => {
  const { x, y } = dataset(40, 4, 1, 3);
  const probe = await fitRidgeCV({ x, y, nSamples: 40, nFeatures: 4, nTargets: 1 }, { alphas: ALPHAS, products: 'javascript' });
  const best = ALPHAS[probe.alphaIndex];
  const repeated = await fitRidgeCV({ x, y, nSamples: 40, nFeatures: 4, nTargets: 1 }, { alphas: [1e6, best, best, 1e-3], products: 'javascript' });
  assert.equal(repeated.alphaIndex, 1);
  assert.equal(repeated.looMse[1], repeated.looMse[2]);
});

test('predict applies coef and intercept', () => {
  const model = { coef: Float64Array.from([1, 2, 3, 4]), intercept: Float64Array.from([10, 20]), nFeatures: 2, nTargets: 2 };
  assert.deepEqual([...predict(model, Float32Array.from([1, 1, 0, 2]), 2)], [14, 26, 16, 28]);
});

test('predict with two targets gives the same doubles as each target on its own (float32 and float64 rows, odd and even counts)', () => {
  const random = mulberry32(17);
  for (const [n, d] of [[7, 301], [8, 5], [1, 3]]) {
    const values = Array.from({ length: n * d }, () => gaussian(random));
    const coef = Float64Array.from({ length: d * 2 }, () => gaussian(random) / 7);
    for (const x of [Float32Array.from(values), Float64Array.from(values)]) {
      const both = predict({ coef, intercept: Float64Array.from([0.3, -2]), nFeatures: d, nTargets: 2 }, x, n);
      for (const c of [0, 1]) {
        const alone = predict({ coef: coef.filter((_, index) => index % 2 === c), intercept: Float64Array.of(c === 0 ? 0.3 : -2), nFeatures: d, nTargets: 1 }, x, n);
        assert.deepEqual([...alone], [...both].filter((_, index) => index % 2 === c), `${x.constructor.name}, ${n} × ${d}`);
      }
    }
  }
});

test('bad input is rejected with the position and the reason', async () => {
  const x = new Float64Array(6).fill(1);
  const y = new Float64Array(3).fill(1);
  const base = { x, y, nSamples: 3, nFeatures: 2, nTargets: 1 };
  await assert.rejects(fitRidgeCV({ ...base, x: Float64Array.from([1, 2, 3, NaN, 5, 6]) }, { alphas: [1] }), (error: unknown) => error instanceof RidgeInputError && /x\[1, 1\] is NaN/.test(error.message));
  // The first non-finite value in row-major order is named, whichever column's sum shows it first.
  await assert.rejects(fitRidgeCV({ ...base, x: Float64Array.from([1, 2, -Infinity, 4, NaN, 6]) }, { alphas: [1] }), /x\[1, 0\] is -Infinity/);
  await assert.rejects(fitRidgeCV({ ...base, x: Float32Array.from([1, 2, 3, 4, 5, Infinity]) }, { alphas: [1] }), /x\[2, 1\] is Infinity/);
  // Finite values whose sum overflows float64 cannot be centred: refused, not fitted to NaN.
  await assert.rejects(fitRidgeCV({ ...base, x: Float64Array.from([1, 1e308, 2, 1e308, 3, 1e308]) }, { alphas: [1] }),
    (error: unknown) => error instanceof RidgeInputError && /column 1 are too large to add up/.test(error.message));
  await assert.rejects(fitRidgeCV({ ...base, y: Float64Array.from([1, Infinity, 2]) }, { alphas: [1] }), /y\[1, 0\] is Infinity/);
  await assert.rejects(fitRidgeCV(base, { alphas: [1, 0] }), /alphas\[1\] = 0 must be finite and > 0/);
  await assert.rejects(fitRidgeCV(base, { alphas: [] }), /alphas is empty/);
  await assert.rejects(fitRidgeCV({ ...base, nFeatures: 3 }, { alphas: [1] }), /x has 6 values, expected nSamples × nFeatures = 3 × 3/);
  await assert.rejects(fitRidgeCV({ ...base, x: new Float64Array(2), y: new Float64Array(1), nSamples: 1 }, { alphas: [1] }), /at least 2 samples/);
});

for (const products of [javascriptProducts, onnxProducts()]) {
  test(`tridiagonalize: A = Q T Qᵀ with orthogonal Q (${products.name}, blocked and unblocked, matrix–vector products symmetric and on the backend)`, async () => {
    for (const [size, blockSize, qBlockSize, matVec] of [[1, 4, 4, 'symmetric'], [2, 4, 1, 'symmetric'], [7, 3, 2, 'symmetric'], [50, 8, undefined, 'symmetric'],
      [130, 32, undefined, 'symmetric'], [130, 32, 5, 'symmetric'], [130, 16, 200, 'symmetric'], [7, 3, 2, 'backend'], [130, 32, undefined, 'backend'], [130, 16, 200, 'backend']] as const) {
      const random = mulberry32(size);
      const a = new Float64Array(size * size);
      for (let i = 0; i < size; i++) for (let j = 0; j <= i; j++) a[i * size + j] = a[j * size + i] = gaussian(random) * (i === j ? 10 : 1);
      const original = Float64Array.from(a);
      const t = await tridiagonalize(a, size, products, { blockSize, qBlockSize, matVec, backendGemvThreshold: 64 });
      const q = t.q;
      let reconstruction = 0;
      let orthogonality = 0;
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          let qtq = 0;
          let value = 0;
          for (let k = 0; k < size; k++) {
            qtq += q[k * size + i] * q[k * size + j];
            let tq = t.diagonal[k] * q[j * size + k];
            if (k > 0) tq += t.offDiagonal[k - 1] * q[j * size + k - 1];
            if (k < size - 1) tq += t.offDiagonal[k] * q[j * size + k + 1];
            value += q[i * size + k] * tq;
          }
          orthogonality = Math.max(orthogonality, Math.abs(qtq - (i === j ? 1 : 0)));
          reconstruction = Math.max(reconstruction, Math.abs(value - original[i * size + j]));
        }
      }
      assert.ok(reconstruction < 1e-12 * Math.max(10, size), `size ${size} (Q blocks ${qBlockSize}, ${matVec}): ‖QTQᵀ − A‖ = ${reconstruction}`);
      assert.ok(orthogonality < 1e-13 * Math.max(10, size), `size ${size} (Q blocks ${qBlockSize}, ${matVec}): ‖QᵀQ − I‖ = ${orthogonality}`);
    }
  });
}

test('LDLᵀ solve of a shifted tridiagonal matches a dense solve', () => {
  const size = 9;
  const random = mulberry32(1);
  const diagonal = Float64Array.from({ length: size }, () => 5 + random());
  const offDiagonal = Float64Array.from({ length: size - 1 }, () => gaussian(random));
  const b = Float64Array.from({ length: size * 2 }, () => gaussian(random));
  const alpha = 0.7;
  const dense = new Float64Array(size * size);
  for (let k = 0; k < size; k++) {
    dense[k * size + k] = diagonal[k] + alpha;
    if (k > 0) dense[k * size + k - 1] = dense[(k - 1) * size + k] = offDiagonal[k - 1];
  }
  const solved = solveShiftedTridiagonal(factorShiftedTridiagonal({ size, diagonal, offDiagonal }, alpha), b, size, 2);
  assert.ok(maxAbsolute(solved, solveDense(dense, b, size, 2)) < 1e-13);
});

for (const products of [javascriptProducts, onnxProducts()]) {
  test(`reduceToBand: A = Q B Qᵀ with orthogonal Q and B banded; shifted block Cholesky solves (${products.name})`, async () => {
    // groupPanels and qBlockWidth small enough that several groups of deferred updates and several merged Q blocks occur.
    for (const [size, bandwidth, groupPanels, qBlockWidth] of [[1, 4, 8, 256], [5, 2, 1, 1], [23, 4, 2, 8], [64, 8, 3, 16], [100, 32, 8, 256], [100, 7, 4, 20]] as const) {
      const random = mulberry32(size + 1000);
      const a = new Float64Array(size * size);
      for (let i = 0; i < size; i++) for (let j = 0; j <= i; j++) a[i * size + j] = a[j * size + i] = gaussian(random) + (i === j ? 3 : 0);
      const original = Float64Array.from(a);
      const band = await reduceToBand(a, size, products, { bandwidth, groupPanels, qBlockWidth });
      // Assemble B densely from its blocks.
      const b = new Float64Array(size * size);
      band.diagonalBlocks.forEach((block, k) => {
        const start = band.bounds[k];
        const w = band.bounds[k + 1] - start;
        for (let i = 0; i < w; i++) for (let j = 0; j < w; j++) b[(start + i) * size + start + j] = block[i * w + j];
      });
      band.subdiagonalBlocks.forEach((block, k) => {
        const row = band.bounds[k + 1];
        const col = band.bounds[k];
        const w = band.bounds[k + 2] - row;
        const wPrevious = row - col;
        for (let i = 0; i < w; i++) for (let j = 0; j < wPrevious; j++) b[(row + i) * size + col + j] = b[(col + j) * size + row + i] = block[i * wPrevious + j];
      });
      const q = band.q;
      assert.ok(q !== undefined, 'Q is formed unless formQ is false');
      let reconstruction = 0;
      let orthogonality = 0;
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          let value = 0;
          let qtq = 0;
          for (let k = 0; k < size; k++) {
            qtq += q[k * size + i] * q[k * size + j];
            let bq = 0;
            for (let l = 0; l < size; l++) bq += b[k * size + l] * q[j * size + l];
            value += q[i * size + k] * bq;
          }
          reconstruction = Math.max(reconstruction, Math.abs(value - original[i * size + j]));
          orthogonality = Math.max(orthogonality, Math.abs(qtq - (i === j ? 1 : 0)));
        }
      }
      assert.ok(reconstruction < 1e-12 * Math.max(10, size), `size ${size}: ‖QBQᵀ − A‖ = ${reconstruction}`);
      assert.ok(orthogonality < 1e-13 * Math.max(10, size), `size ${size}: ‖QᵀQ − I‖ = ${orthogonality}`);
      // (B + αI) s = rhs against a dense solve; B here is not necessarily PSD, so use a large shift.
      const alpha = 50;
      const rhs = Float64Array.from({ length: size * 2 }, () => gaussian(random));
      const shifted = Float64Array.from(b);
      for (let i = 0; i < size; i++) shifted[i * size + i] += alpha;
      const solved = solveShiftedBand(band, factorShiftedBand(band, alpha), rhs, 2);
      assert.ok(maxAbsolute(solved, solveDense(shifted, rhs, size, 2)) < 1e-12, `size ${size}: band solve`);
    }
  });
}

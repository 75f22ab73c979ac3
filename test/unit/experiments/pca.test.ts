/**
 * PCA for the baseline (src/core/probes/pca.ts), against an independent cyclic-Jacobi eigensolver written here:
 * eigenvalues of tridiagonal matrices, the top-k components of data (orthonormal, C·v = λ·v), clustered and
 * repeated eigenvalues, and both product backends.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { leadingColumns, principalComponents, projectOnComponents, tridiagonalEigenvalues, tridiagonalEigenvectors } from '../../../src/core/probes/pca';
import { mulberry32 } from '../../../src/core/probes/split';

/** Eigenvalues of a symmetric matrix by cyclic Jacobi rotations (slow, simple, independent). */
function jacobiEigenvalues(matrix: Float64Array, n: number): number[] {
  const a = Float64Array.from(matrix);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off < 1e-26) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p * n + q]) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Array.from({ length: n }, (_, i) => a[i * n + i]).sort((x, y) => y - x);
}

function tridiagonalMatrix(diagonal: Float64Array, off: Float64Array): Float64Array {
  const n = diagonal.length;
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    m[i * n + i] = diagonal[i];
    if (i < n - 1) m[i * n + i + 1] = m[(i + 1) * n + i] = off[i];
  }
  return m;
}

function covarianceOf(x: Float64Array, n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let f = 0; f < d; f++) mean[f] += x[r * d + f] / n;
  const c = new Float64Array(d * d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) c[i * d + j] += (x[r * d + i] - mean[i]) * (x[r * d + j] - mean[j]) / n;
  return c;
}

describe('tridiagonal eigenvalues and vectors', () => {
  test('match cyclic Jacobi on random tridiagonal matrices', () => {
    const random = mulberry32(8);
    for (const n of [1, 2, 5, 40]) {
      const diagonal = Float64Array.from({ length: n }, () => random() * 10 - 5);
      const off = Float64Array.from({ length: Math.max(0, n - 1) }, () => random() * 4 - 2);
      const ours = tridiagonalEigenvalues(diagonal, off);
      const reference = jacobiEigenvalues(tridiagonalMatrix(diagonal, off), n);
      ours.forEach((value, i) => assert.ok(Math.abs(value - reference[i]) < 1e-9, `n=${n} λ${i}: ${value} vs ${reference[i]}`));
    }
  });

  test('eigenvectors of repeated eigenvalues stay orthonormal (a block-diagonal T with equal blocks)', () => {
    // T = diag(B, B, B) with B = [[2, 1], [1, 2]]: eigenvalues 3, 3, 3, 1, 1, 1.
    const diagonal = Float64Array.from([2, 2, 2, 2, 2, 2]);
    const off = Float64Array.from([1, 0, 1, 0, 1]);
    const values = tridiagonalEigenvalues(diagonal, off);
    assert.deepEqual(Array.from(values, (v) => Math.round(v * 1e9) / 1e9), [3, 3, 3, 1, 1, 1]);
    const vectors = tridiagonalEigenvectors(diagonal, off, values);
    const t = tridiagonalMatrix(diagonal, off);
    for (let a = 0; a < 6; a++) {
      for (let b = 0; b < 6; b++) {
        let dot = 0;
        for (let i = 0; i < 6; i++) dot += vectors[i * 6 + a] * vectors[i * 6 + b];
        assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-9, `v${a}·v${b} = ${dot}`);
      }
      for (let i = 0; i < 6; i++) {
        let tv = 0;
        for (let j = 0; j < 6; j++) tv += t[i * 6 + j] * vectors[j * 6 + a];
        assert.ok(Math.abs(tv - values[a] * vectors[i * 6 + a]) < 1e-9);
      }
    }
  });
});

describe('principal components', () => {
  const random = mulberry32(21);
  const n = 400;
  const d = 12;
  // Correlated data: x = z·M with z standard normal-ish and M random, plus one strong direction.
  const m = Float64Array.from({ length: d * d }, () => random() * 2 - 1);
  const x = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    const z = Array.from({ length: d }, () => random() * 2 - 1);
    for (let f = 0; f < d; f++) {
      let sum = 3 * z[0] * (f % 2 === 0 ? 1 : -1);
      for (let k = 0; k < d; k++) sum += z[k] * m[k * d + f];
      x[r * d + f] = sum + 5;
    }
  }
  const rows = Int32Array.from({ length: n }, (_, i) => i);

  for (const products of ['onnxruntime', 'javascript'] as const) {
    test(`top-k eigenpairs of the covariance (${products} products)`, async () => {
      const pca = await principalComponents(x, d, rows, 5, { products, chunkRows: 64 });
      const c = covarianceOf(x, n, d);
      const reference = jacobiEigenvalues(c, d);
      let trace = 0;
      for (let i = 0; i < d; i++) trace += c[i * d + i];
      assert.ok(Math.abs(pca.totalVariance - trace) < 1e-9 * trace);
      assert.equal(pca.k, 5);
      for (let j = 0; j < 5; j++) {
        assert.ok(Math.abs(pca.variances[j] - reference[j]) < 1e-9 * reference[0], `λ${j}: ${pca.variances[j]} vs ${reference[j]}`);
        // C·v = λ·v and ‖v‖ = 1
        let norm = 0;
        for (let i = 0; i < d; i++) {
          norm += pca.components[i * 5 + j] ** 2;
          let cv = 0;
          for (let k = 0; k < d; k++) cv += c[i * d + k] * pca.components[k * 5 + j];
          assert.ok(Math.abs(cv - pca.variances[j] * pca.components[i * 5 + j]) < 1e-8 * reference[0]);
        }
        assert.ok(Math.abs(norm - 1) < 1e-10);
      }
      // Scores: centred data on the components; their variance is the eigenvalue.
      const scores = await projectOnComponents(pca, x, n, { products });
      const first = leadingColumns(scores, n, 5, 2);
      assert.equal(first.length, n * 2);
      let variance = 0;
      for (let r = 0; r < n; r++) variance += first[r * 2] ** 2 / n;
      assert.ok(Math.abs(variance - pca.variances[0]) < 1e-8 * pca.variances[0]);
    });
  }

  test('k is clipped to the number of features', async () => {
    const pca = await principalComponents(x, d, rows, 100, { products: 'javascript' });
    assert.equal(pca.k, d);
    const sum = pca.variances.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - pca.totalVariance) < 1e-9 * sum);
  });
});

/**
 * Parity with scikit-learn RidgeCV on committed inputs (test/fixtures/probes/parity/<case>/), recorded in each
 * case's sklearn.json. Regenerate inputs and records (Debian's python3-sklearn) with:
 *   npx tsc -p . && node bench/probes/make-parity-inputs.mjs test/fixtures/probes/parity
 *   for c in test/fixtures/probes/parity/*\/; do /usr/bin/python3 bench/probes/sklearn_compare.py "${c%/}" > "${c%/}/sklearn.json"; done
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readNpy } from '../../../src/core/activations/npy';
import { fitLayerProbe } from '../../../src/core/probes/probe';
import { splitTrainTest } from '../../../src/core/probes/split';
import { absoluteYears, greatCircleKm } from '../../../src/core/probes/metrics';

interface SklearnLayer {
  readonly layer: string;
  readonly alpha: number;
  readonly alpha_index: number;
  readonly loo_mse: number[];
  readonly train_r2_per_target: number[];
  readonly test_r2_per_target: number[];
  readonly test_r2: number;
}
interface SklearnRecord { readonly alphas: number[]; readonly n_train: number; readonly n_test: number; readonly layers: SklearnLayer[] }

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/probes/parity');
const cases = fs.readdirSync(FIXTURES).filter((name) => fs.existsSync(path.join(FIXTURES, name, 'sklearn.json'))).sort();

test('parity fixtures are present (both shapes, one and two targets)', () => {
  assert.ok(cases.some((name) => name.startsWith('primal-2')) && cases.some((name) => name.startsWith('dual-1')), cases.join(', '));
  assert.ok(cases.length >= 4);
});

for (const name of cases) {
  for (const variant of ['onnxruntime', 'javascript', 'onnxruntime+float32 projection'] as const) {
    test(`${name}: same alpha as scikit-learn RidgeCV and test R² within 1e-6 (${variant})`, async () => {
      const dir = path.join(FIXTURES, name);
      const record = JSON.parse(fs.readFileSync(path.join(dir, 'sklearn.json'), 'utf8')) as SklearnRecord;
      const targets = readNpy(path.join(dir, 'targets.npy'));
      const [nSamples, nTargets] = targets.shape;
      const split = splitTrainTest(nSamples, readNpy(path.join(dir, 'is_test.npy')).data);
      assert.equal(split.train.length, record.n_train);
      assert.equal(split.test.length, record.n_test);
      for (const expected of record.layers) {
        const x = readNpy(path.join(dir, expected.layer));
        const probe = await fitLayerProbe({
          x: x.data as Float32Array, nSamples, nFeatures: x.shape[1], targets: targets.data as Float64Array, nTargets,
          trainIdx: split.train, testIdx: split.test, alphas: record.alphas,
          distance: nTargets === 2 ? greatCircleKm : absoluteYears,
          ridge: {
            products: variant === 'javascript' ? 'javascript' : 'onnxruntime',
            projectionPrecision: variant.includes('float32') ? 'float32' : 'float64',
          },
        });
        const where = `${name}/${expected.layer}`;
        assert.equal(probe.alphaIndex, expected.alpha_index, `${where}: alpha ${probe.alpha} vs scikit-learn ${expected.alpha}`);
        assert.equal(probe.alpha, expected.alpha);
        probe.test.r2PerTarget.forEach((value, c) => assert.ok(Math.abs(value - expected.test_r2_per_target[c]) < 1e-6, `${where}: test R² ${value} vs ${expected.test_r2_per_target[c]}`));
        probe.train.r2PerTarget.forEach((value, c) => assert.ok(Math.abs(value - expected.train_r2_per_target[c]) < 1e-6, `${where}: train R²`));
        const looTolerance = variant.includes('float32') ? 1e-4 : 1e-8;
        probe.looMse.forEach((value, a) => assert.ok(Math.abs(value - expected.loo_mse[a]) <= looTolerance * expected.loo_mse[a], `${where}: LOO MSE[${a}] ${value} vs ${expected.loo_mse[a]}`));
      }
    });
  }
}

/**
 * The probes' WebAssembly kernels as committed (leverageSweepsWasm.ts, twoTargetPredictionsWasm.ts) are what their
 * sources assemble to — `node scripts/build-wasm.mjs --check` — so the .wat files stay the truth.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..', '..', '..');

test('every committed kernel module is what its .wat source assembles to (node scripts/build-wasm.mjs)', async () => {
  const script = path.join(root, 'scripts', 'build-wasm.mjs');
  const { KERNELS, generatedModule } = await import(script) as { KERNELS: { source: string; module: string }[]; generatedModule: (kernel: unknown) => Promise<string> };
  assert.ok(KERNELS.length >= 2);
  for (const kernel of KERNELS) {
    assert.equal(fs.readFileSync(path.join(root, kernel.module), 'utf8'), await generatedModule(kernel), `${kernel.module} is stale: run node scripts/build-wasm.mjs`);
  }
});

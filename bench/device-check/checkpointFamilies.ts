/**
 * Every architecture family's safetensors checkpoint through our graph builder on an accelerator (device check step
 * 4b, bench/device-check/run.sh), against the float32 PyTorch references the CPU tests use
 * (test/fixtures/checkpoints/<name>/reference.json, `python test/fixtures/checkpoints/generate.py`).
 *
 *   node app/checkpointFamilies.js --device webgpu --fixtures test/fixtures/checkpoints      (bundled by prepare.sh)
 *   npx tsc -p . && node out/bench/device-check/checkpointFamilies.js --device cpu             (dry run here)
 *
 * Each fixture is loaded three ways on --device: float32 with the plain attention graph (what the CPU runs), float32
 * with onnxruntime's fused GroupQueryAttention (where the head size allows it), and the accelerator's default
 * (float16 compute, fused attention). Each runs all reference prompts in one right-padded batch and reports
 * max |ours − reference| over every layer, the largest |reference| (the scale), the load and run seconds, or the
 * error. Prints one JSON object; exit 1 when a float32 run is off by more than --tolerance (default 1e-3) or fails.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCheckpointModel, type CheckpointModelOptions } from '../../src/core/model/checkpoint/checkpointModel';
import type { DeviceName } from '../../src/core/model/types';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1] : fallback;
}
const device = option('device', 'webgpu') as DeviceName;
const fixtures = path.resolve(option('fixtures', path.join('test', 'fixtures', 'checkpoints')));
const tolerance = Number(option('tolerance', '1e-3'));

interface Reference {
  readonly architecture: string;
  readonly checkpoint_dtype: string;
  readonly prompts: readonly { readonly ids: readonly number[]; readonly layers: readonly (readonly number[])[] }[];
}

interface Variant { readonly name: string; readonly options: Pick<CheckpointModelOptions, 'computeDtype' | 'fusedAttention'>; readonly checked: boolean }
const VARIANTS: readonly Variant[] = [
  { name: 'float32 plain', options: { computeDtype: 'float32', fusedAttention: false }, checked: true },
  { name: 'float32 fused', options: { computeDtype: 'float32', fusedAttention: true }, checked: true },
  { name: 'default', options: {}, checked: false },
];

async function runOne(dir: string, reference: Reference, variant: Variant): Promise<Record<string, unknown>> {
  const started = performance.now();
  try {
    const model = await loadCheckpointModel(dir, { device, ...variant.options });
    const loadSeconds = (performance.now() - started) / 1000;
    try {
      const runStarted = performance.now();
      const output = await model.runBatch(reference.prompts.map((prompt) => ({ ids: prompt.ids, usable: true })));
      const runSeconds = (performance.now() - runStarted) / 1000;
      let worst = 0;
      let scale = 0;
      reference.prompts.forEach((prompt, row) => prompt.layers.forEach((layer, l) => layer.forEach((value, d) => {
        const ours = output[(row * model.numLayers + l) * model.hiddenSize + d];
        worst = Math.max(worst, Number.isFinite(ours) ? Math.abs(ours - value) : Infinity);
        scale = Math.max(scale, Math.abs(value));
      })));
      return {
        ok: !variant.checked || worst <= tolerance, maxAbsDiff: worst, maxAbsReference: scale, computeDtype: model.computeDtype,
        fusedAttentionBlocks: model.fusedAttentionBlocks, deviceUsed: model.device.used, loadSeconds, runSeconds,
      };
    } finally {
      await model.dispose();
    }
  } catch (error) {
    return { ok: !variant.checked, error: (error as Error).message.split('\n').slice(0, 3).join(' | ') };
  }
}

async function main(): Promise<void> {
  const names = fs.readdirSync(fixtures).filter((name) => fs.existsSync(path.join(fixtures, name, 'reference.json'))).sort();
  const results: Record<string, unknown> = {};
  let allOk = names.length > 0;
  for (const name of names) {
    const dir = path.join(fixtures, name);
    const reference = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference;
    const row: Record<string, unknown> = { architecture: reference.architecture, checkpointDtype: reference.checkpoint_dtype, prompts: reference.prompts.length };
    for (const variant of VARIANTS) {
      const result = await runOne(dir, reference, variant);
      row[variant.name] = result;
      allOk &&= result.ok === true;
    }
    results[name] = row;
    console.error(`${name}: ${VARIANTS.map((variant) => {
      const r = row[variant.name] as Record<string, unknown>;
      return `${variant.name} ${r.error !== undefined ? `ERROR ${String(r.error).slice(0, 120)}` : (r.maxAbsDiff as number).toExponential(2)}`;
    }).join('; ')}`);
  }
  console.log(JSON.stringify({ device, tolerance, fixtures: names.length, allFloat32WithinTolerance: allOk, results }, null, 1));
  if (!allOk) process.exitCode = 1;
}

main().catch((error: unknown) => { console.error(error); process.exitCode = 1; });

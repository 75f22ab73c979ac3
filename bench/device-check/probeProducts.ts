/**
 * The probe engine's products on an accelerator (device check step 6b, bench/device-check/run.sh): does the float32 leave-one-out
 * pass on WebGPU/CUDA pick the same alpha as the CPU path, and how fast is it?
 *
 *   node app/probeProducts.js --device webgpu [--n 20000] [--d 2048] [--gemm 4096]     (bundled by prepare.sh)
 *   npx tsc -p . && node out/bench/device-check/probeProducts.js --device cpu --n 4000 --d 512 --gemm 1024   (dry run here)
 *
 * 1. One float32 Gemm (gemm × gemm × gemm) on the device and on the CPU: seconds and max relative error against
 *    the CPU's float64 product of the same (float32-representable) inputs.
 * 2. fitRidgeCV on one synthetic layer (n × d, low-rank signal + outlier dimensions), three ways: CPU float64 (the
 *    reference), CPU checked float32 (the default), accelerated (float32 products on the device, float64 on the
 *    CPU; the same check). Alpha, LOO precision, max relative LOO difference, max |Δcoef| and phase seconds each.
 * --ways f64,f32,acc (default all three) picks the fits, the first being the reference; --gemm 0 skips step 1.
 * Prints one JSON object; exit 1 when an alpha differs from the reference, 2 when the device is unusable.
 */
import * as os from 'node:os';
import { fitRidgeCV, type RidgeCVResult, type RidgePhase } from '../../src/core/probes/ridge';
import { acceleratedProducts, onnxProducts, type DenseProducts } from '../../src/core/probes/products';
import { DEFAULT_ALPHAS } from '../../src/core/probes/probe';
import { mulberry32 } from '../../src/core/probes/split';
import { OrtGemm } from '../../src/core/runtime/linalg';
import { probeProvider } from '../../src/core/runtime/devices';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1] : fallback;
}
const device = option('device', 'webgpu') as 'cpu' | 'webgpu' | 'cuda';
const n = Number(option('n', '20000'));
const d = Number(option('d', '2048'));
const gemmSize = Number(option('gemm', '4096'));

function gaussianStream(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-300))) * Math.cos(2 * Math.PI * random());
}

async function main(): Promise<void> {
  if (device !== 'cpu') {
    const probe = await probeProvider(device);
    if (!probe.usable) {
      console.log(JSON.stringify({ device, usable: false, detail: probe.detail, remedy: probe.remedy }, null, 1));
      process.exitCode = 2;
      return;
    }
  }
  const cpu = new OrtGemm();
  const accelerator = new OrtGemm(undefined, Number.POSITIVE_INFINITY, device); // one run per product: pieces would each upload again
  const random = mulberry32(7);
  const gaussian = gaussianStream(random);

  // 1. One float32 Gemm.
  const gemm: Record<string, unknown> = {};
  if (gemmSize > 0) {
    const a = Float32Array.from({ length: gemmSize * gemmSize }, gaussian);
    const b = Float32Array.from({ length: gemmSize * gemmSize }, gaussian);
    const reference = await cpu.gemm('float64', { data: Float64Array.from(a), rows: gemmSize, cols: gemmSize }, { data: Float64Array.from(b), rows: gemmSize, cols: gemmSize });
    for (const [name, gemmer] of [['cpu', cpu], [`accelerator (${device})`, accelerator]] as const) {
      await gemmer.gemm('float32', { data: a, rows: gemmSize, cols: gemmSize }, { data: b, rows: gemmSize, cols: gemmSize }); // session creation, warm-up
      const started = performance.now();
      const product = await gemmer.gemm('float32', { data: a, rows: gemmSize, cols: gemmSize }, { data: b, rows: gemmSize, cols: gemmSize });
      const seconds = (performance.now() - started) / 1000;
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < reference.length; i++) { worst = Math.max(worst, Math.abs(product[i] - reference[i])); scale = Math.max(scale, Math.abs(reference[i])); }
      gemm[name] = { seconds, gflops: (2 * gemmSize ** 3) / seconds / 1e9, maxAbsErrorOverMaxAbs: worst / scale };
    }
  }

  // 2. One ridge fit, three ways.
  const rank = 16;
  const latent = Float64Array.from({ length: n * rank }, gaussian);
  const mixing = Float64Array.from({ length: rank * d }, () => gaussian() * 0.3);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < d; f++) {
      let value = 0;
      for (let r = 0; r < rank; r++) value += latent[i * rank + r] * mixing[r * d + f];
      x[i * d + f] = (f < 4 ? 20 + 5 * f : 0) + (f < 4 ? 30 : 1) * (value + gaussian());
    }
  }
  const y = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) { y[2 * i] = Math.tanh(0.6 * latent[i * rank] + 0.3 * gaussian()); y[2 * i + 1] = Math.tanh(0.6 * latent[i * rank + 1] + 0.3 * gaussian()); }
  const input = { x, y, nSamples: n, nFeatures: d, nTargets: 2 };
  const fit = async (products: DenseProducts, projectionPrecision: 'float32' | 'float64'): Promise<{ result: RidgeCVResult; seconds: number; phases: Partial<Record<RidgePhase, number>> }> => {
    const phases: Partial<Record<RidgePhase, number>> = {};
    const started = performance.now();
    const result = await fitRidgeCV(input, { alphas: DEFAULT_ALPHAS, products, projectionPrecision, onPhase: (phase, seconds) => { phases[phase] = (phases[phase] ?? 0) + seconds; } });
    return { result, seconds: (performance.now() - started) / 1000, phases };
  };
  // --ways picks the fits (the first is the reference the others are compared with): f64 = CPU float64,
  // f32 = CPU checked float32 (the default), acc = the accelerator's float32 products.
  const ways = {
    f64: ['cpu float64', () => fit(onnxProducts(cpu), 'float64')],
    f32: ['cpu float32 (checked)', () => fit(onnxProducts(cpu), 'float32')],
    acc: [`accelerator (${device}) float32 (checked)`, () => fit(acceleratedProducts(accelerator, cpu), 'float32')],
  } as const;
  const runs: Record<string, Awaited<ReturnType<typeof fit>>> = {};
  for (const way of option('ways', 'f64,f32,acc').split(',') as (keyof typeof ways)[]) {
    const [name, run] = ways[way];
    runs[name] = await run();
    console.error(`${name}: ${runs[name].seconds.toFixed(2)} s, alpha index ${runs[name].result.alphaIndex}`);
  }
  const exact = Object.values(runs)[0];
  const summary: Record<string, unknown> = {};
  let sameAlpha = true;
  for (const [name, run] of Object.entries(runs)) {
    const { result } = run;
    sameAlpha &&= result.alphaIndex === exact.result.alphaIndex;
    summary[name] = {
      seconds: run.seconds, phases: run.phases, alpha: result.alpha, alphaIndex: result.alphaIndex, looPrecision: result.looPrecision,
      maxRelativeLoo: Math.max(...result.looMse.map((value, index) => Math.abs(value - exact.result.looMse[index]) / exact.result.looMse[index])),
      maxAbsCoefDifference: Math.max(...result.coef.map((value, index) => Math.abs(value - exact.result.coef[index]))),
    };
  }
  console.log(JSON.stringify({
    device, usable: true, cpus: os.cpus().length, n, d, gemmSize, gemm, reference: Object.keys(runs)[0], fits: summary, sameAlpha,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }, null, 1));
  await cpu.dispose();
  await accelerator.dispose();
  if (!sameAlpha) process.exitCode = 1;
}

main().catch((error: unknown) => { console.error(error); process.exitCode = 1; });

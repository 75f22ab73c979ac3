/**
 * Memory stays bounded when extraction output is far larger than RAM budgets: a stand-in model with a 70B-class
 * residual stream (81 layers × 8,192 dims = 2.6 MB per entity in float32) streams N entities to disk while we record
 * peak RSS. The model computes nothing (it fills rows with a per-entity constant), so this measures only the
 * extraction engine: windows, buffers and .npy writes.
 *
 *   npx tsc -p . && node out/bench/extraction/memoryBound.js [--entities 2000] [--budget-mb 256] [--out DIR]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractActivations } from '../../src/core/activations/extract';
import { promptText, type PromptInput, type ResidualModel, type TokenizedPrompt } from '../../src/core/model/types';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
}

class SeventyBStandIn implements ResidualModel {
  readonly id = '70b-stand-in';
  readonly architecture = 'stand-in';
  readonly numLayers = 81;
  readonly hiddenSize = 8192;
  readonly fingerprint = '0'.repeat(64);
  readonly device = { requested: 'cpu' as const, used: 'cpu' as const, fallbacks: [] };
  tokenize(prompts: readonly (string | PromptInput)[]): TokenizedPrompt[] {
    return prompts.map((prompt) => ({ ids: [Number(promptText(prompt))], usable: true }));
  }
  async runBatch(prompts: readonly TokenizedPrompt[]): Promise<Float32Array> {
    const stride = this.numLayers * this.hiddenSize;
    const out = new Float32Array(prompts.length * stride);
    prompts.forEach((prompt, row) => out.fill(prompt.ids[0], row * stride, (row + 1) * stride));
    return out;
  }
  async dispose(): Promise<void> {}
}

async function main(): Promise<void> {
  const entities = Number(option('--entities', '2000'));
  const budget = Number(option('--budget-mb', '256')) * 1024 * 1024;
  const parent = fs.mkdtempSync(path.join(option('--out', os.tmpdir()), 'memory-bound-'));
  const model = new SeventyBStandIn();
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const timer = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 20);
  const started = performance.now();
  const result = await extractActivations(model, Array.from({ length: entities }, (_, k) => ({ text: String(k), row: k + 2 })), {
    outDir: path.join(parent, 'acts'), model: model.id, prompt: '{entity}', dataset: 'synthetic', batchSize: 16, memoryBudgetBytes: budget,
    onProgress: () => { peakRss = Math.max(peakRss, process.memoryUsage().rss); },
  });
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  const bytesOnDisk = fs.readdirSync(result.outDir).reduce((sum, file) => sum + fs.statSync(path.join(result.outDir, file)).size, 0);
  // Spot-check the last entity of the last layer.
  const last = fs.openSync(path.join(result.outDir, 'layer_080.npy'), 'r');
  const probe = Buffer.alloc(4);
  fs.readSync(last, probe, 0, 4, fs.statSync(path.join(result.outDir, 'layer_080.npy')).size - 4);
  fs.closeSync(last);
  fs.rmSync(parent, { recursive: true, force: true });
  console.log(JSON.stringify({
    entities, layers: 81, hidden: 8192, budgetMb: budget / 2 ** 20, gbWritten: bytesOnDisk / 1e9, seconds,
    rssBeforeMb: rssBefore / 2 ** 20, peakRssMb: Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 2 ** 20,
    lastValueOk: probe.readFloatLE(0) === entities - 1,
  }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

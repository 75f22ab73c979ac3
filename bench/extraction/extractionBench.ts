/**
 * Our side of the extraction benchmark: the same ONNX export and the same token-id batch as
 * bench/extraction/torch_gpt2.py, through loadTransformerModel (taps + pruned LM head) and runBatch.
 *
 *   npx tsc -p . && node out/bench/extraction/extractionBench.js DIR [--threads 2 --repeats 3 --runs 5 --entities 512]
 *
 * Prints one JSON object: load time, tokens/s (best of `repeats`, each `runs` batches), max |ours − torch| on the
 * batch (DIR/reference.json, written by the export), an end-to-end extractActivations run over `entities` prompts
 * of 1–8 tokens (tokenize, length-sorted batches, per-layer .npy writes), and peak RSS.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadTransformerModel } from '../../src/core/model/onnx/transformerModel';
import { extractActivations } from '../../src/core/activations/extract';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir || dir.startsWith('--')) throw new Error('usage: extractionBench.js DIR [--threads N --repeats N --runs N --entities N]');
  const threads = option('--threads', 2);
  const repeats = option('--repeats', 3);
  const runs = option('--runs', 5);
  const entities = option('--entities', 512);

  const loadStart = performance.now();
  const model = await loadTransformerModel(dir, { device: 'cpu', intraOpNumThreads: threads });
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const { ids } = JSON.parse(fs.readFileSync(path.join(dir, 'batch.json'), 'utf8')) as { ids: number[][] };
  const prompts = ids.map((row) => ({ ids: row, usable: true }));
  const tokens = ids.reduce((sum, row) => sum + row.length, 0);

  const first = await model.runBatch(prompts); // warm-up, and the numbers we check
  const reference = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')) as { prompts: { layers: number[][] }[] };
  let maxDeviation = 0;
  reference.prompts.forEach((prompt, row) => prompt.layers.forEach((values, layer) => values.forEach((value, d) => {
    maxDeviation = Math.max(maxDeviation, Math.abs(value - first[(row * model.numLayers + layer) * model.hiddenSize + d]));
  })));

  let best = Infinity;
  for (let repeat = 0; repeat < repeats; repeat++) {
    const start = performance.now();
    for (let run = 0; run < runs; run++) await model.runBatch(prompts);
    best = Math.min(best, (performance.now() - start) / 1000 / runs);
  }

  // End to end: placeholder words w1…w1999 are single tokens; 1–8 words per prompt.
  let seed = 7;
  const random = (): number => { seed = (seed * 48271) % 2147483647; return seed / 2147483647; };
  const texts = Array.from({ length: entities }, () => Array.from({ length: 1 + Math.floor(random() * 8) }, () => `w${1 + Math.floor(random() * 1998)}`).join(' '));
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'extraction-bench-'));
  const endToEnd = await extractActivations(model, texts.map((text, index) => ({ text, row: index + 2 })), {
    outDir: path.join(outDir, 'acts'), model: dir, prompt: '{entity}', dataset: 'synthetic', batchSize: ids.length,
  });
  fs.rmSync(outDir, { recursive: true, force: true });
  await model.dispose();

  console.log(JSON.stringify({
    batch: [ids.length, ids[0].length],
    threads,
    repeats,
    runs,
    loadSeconds,
    secondsPerBatch: best,
    tokensPerSecond: tokens / best,
    maxDeviationFromTorch: maxDeviation,
    pruning: { nodes: [model.rewrite.nodesBefore, model.rewrite.nodesAfter], initializers: [model.rewrite.initializersBefore, model.rewrite.initializersAfter] },
    endToEnd: {
      entities, tokens: endToEnd.tokens, paddedTokens: endToEnd.paddedTokens, batches: endToEnd.batches,
      totalSeconds: endToEnd.totalSeconds, tokensPerSecond: endToEnd.tokens / endToEnd.totalSeconds,
      modelTokensPerSecond: endToEnd.tokensPerSecond,
    },
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    node: process.version,
  }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * Our side of the checkpoint benchmark: a safetensors checkpoint folder through loadCheckpointModel (our graph over
 * the checkpoint's bytes, no conversion) and runBatch, on the same prompts and batches as torch_side.py.
 *
 *   node out/bench/checkpoint/checkpointBench.js DIR --prompts FILE [--batch 32 --threads 2]
 *
 * FILE is a JSON list of prompt strings, run in the given order in batches of --batch, right-padded. Prints one
 * JSON object: load_s (model load: headers, graph build, session), tokenize_s, extract_s, tokens (real),
 * padded_tokens, tokens_per_s (real tokens / extract_s), peak_rss_mb, float32_weight_mb, total_s (process start
 * to the end of extraction). bench/checkpoint/run.mjs runs both sides back to back.
 */
import * as fs from 'node:fs';
import { loadCheckpointModel } from '../../src/core/model/checkpoint/checkpointModel';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir || dir.startsWith('--')) throw new Error('usage: checkpointBench.js DIR --prompts FILE [--batch N --threads N]');
  const texts = JSON.parse(fs.readFileSync(option('--prompts', ''), 'utf8')) as string[];
  const batch = Number(option('--batch', '32'));
  const threads = Number(option('--threads', '2'));

  const loadStart = performance.now();
  const model = await loadCheckpointModel(dir, { device: 'cpu', intraOpNumThreads: threads });
  const loadSeconds = (performance.now() - loadStart) / 1000;

  const tokenizeStart = performance.now();
  const prompts = model.tokenize(texts);
  const tokenizeSeconds = (performance.now() - tokenizeStart) / 1000;
  const unusable = prompts.filter((prompt) => !prompt.usable).length;
  if (unusable > 0) throw new Error(`${unusable} prompts are unusable`);

  let tokens = 0;
  let padded = 0;
  let checksum = 0;
  const extractStart = performance.now();
  for (let start = 0; start < prompts.length; start += batch) {
    const rows = prompts.slice(start, start + batch);
    const longest = Math.max(...rows.map((prompt) => prompt.ids.length));
    tokens += rows.reduce((sum, prompt) => sum + prompt.ids.length, 0);
    padded += longest * rows.length;
    const output = await model.runBatch(rows);
    checksum += output[output.length - 1];
  }
  const extractSeconds = (performance.now() - extractStart) / 1000;
  const totalSeconds = performance.now() / 1000;
  await model.dispose();
  process.stdout.write(`${JSON.stringify({
    side: 'ours', dir, architecture: model.architecture, dtype: model.checkpointDtype, layers: model.numLayers, hidden: model.hiddenSize,
    prompts: prompts.length, batch, threads, load_s: loadSeconds, tokenize_s: tokenizeSeconds, extract_s: extractSeconds,
    tokens, padded_tokens: padded, tokens_per_s: tokens / extractSeconds, peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    float32_weight_mb: model.weightBytes / 1e6, total_s: totalSeconds, checksum,
  })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});

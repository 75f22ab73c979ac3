/**
 * Tokenization speed on a dataset's names (how much an up-front tokenization pass costs next to the model).
 *
 *   npx tsc -p . && node out/bench/device-check/tokenizeBench.js TOKENIZER_JSON DATASET_CSV [--repeats 3]
 *
 * Reads the first CSV column (quoted or not), encodes every name with the project's tokenizer wrapper
 * (@huggingface/tokenizers), best of --repeats. Prints one JSON object.
 */
import * as fs from 'node:fs';
import { ModelTokenizer } from '../../src/core/model/tokenizer';

const [tokenizerPath, datasetPath] = process.argv.slice(2);
const repeatsAt = process.argv.indexOf('--repeats');
const repeats = repeatsAt > 0 ? Number(process.argv[repeatsAt + 1]) : 3;
if (!tokenizerPath || !datasetPath) throw new Error('usage: tokenizeBench.js TOKENIZER_JSON DATASET_CSV [--repeats 3]');
const names = fs.readFileSync(datasetPath, 'utf8').split('\n').slice(1).filter(Boolean)
  .map((line) => (line.startsWith('"') ? line.slice(1, line.indexOf('"', 1)) : line.split(',')[0]));
const loadStarted = performance.now();
const tokenizer = ModelTokenizer.fromFiles(tokenizerPath);
const loadSeconds = (performance.now() - loadStarted) / 1000;
const rounds: number[] = [];
let tokens = 0;
for (let repeat = 0; repeat < repeats; repeat++) {
  const started = performance.now();
  tokens = tokenizer.encodeAll(names).reduce((sum, prompt) => sum + prompt.ids.length, 0);
  rounds.push((performance.now() - started) / 1000);
}
const best = Math.min(...rounds);
process.stdout.write(`${JSON.stringify({ names: names.length, tokens, loadSeconds, rounds, bestSeconds: best, tokensPerSecond: tokens / best, namesPerSecond: names.length / best })}\n`);

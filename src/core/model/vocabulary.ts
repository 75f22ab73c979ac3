/**
 * @file Tokenizer vs embedding size, compared at load: a tokenizer that can produce ids beyond the embedding's
 * rows would crash mid-extraction (an index error in the graph), so it is refused; a smaller one runs (the rows
 * beyond it are simply never used) and is reported as a warning. Model loaders (ONNX, checkpoints) call this.
 */
import * as fs from 'node:fs';
import { ModelLoadError } from './errors';

/** One more than the largest token id a tokenizer.json can produce (vocabulary and added tokens), if readable. */
export function tokenizerIdLimit(tokenizerPath: string): number | undefined {
  try {
    const json = JSON.parse(fs.readFileSync(tokenizerPath, 'utf8')) as { model?: { vocab?: unknown }; added_tokens?: { id?: unknown }[] };
    let max = -1;
    const vocab = json.model?.vocab;
    if (Array.isArray(vocab)) max = vocab.length - 1; // Unigram: [piece, score] pairs, id = position
    else if (vocab && typeof vocab === 'object') for (const id of Object.values(vocab)) if (typeof id === 'number' && id > max) max = id;
    for (const token of json.added_tokens ?? []) if (typeof token?.id === 'number' && token.id > max) max = token.id;
    return max >= 0 ? max + 1 : undefined;
  } catch {
    return undefined;
  }
}

/** Throws when the tokenizer's ids exceed the embedding; returns warning lines when it is smaller. */
export function checkVocabulary(tokenizerPath: string, vocabSize: number | undefined, label: string): string[] {
  const limit = tokenizerIdLimit(tokenizerPath);
  if (limit === undefined || vocabSize === undefined) return [];
  if (limit > vocabSize) {
    throw new ModelLoadError(`The tokenizer of ${label} produces token ids up to ${limit - 1}, but the model's embedding has only ${vocabSize} rows (config.json vocab_size).`,
      ['The tokenizer and the model do not belong together: use the tokenizer.json that came with the model.']);
  }
  if (limit < vocabSize) {
    return [`the tokenizer of ${label} has ${limit} ids and the model's embedding ${vocabSize} rows; the extra rows are never used (padding rows are common; a very different size means a mismatched tokenizer)`];
  }
  return [];
}

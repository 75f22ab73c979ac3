/**
 * @file Running a batch through a residual session, shared by the ONNX-export and checkpoint models: right
 * padding (with each row's read token) and the output-size check.
 */
import { readIndexOf, type TokenizedPrompt } from './types';
import type { PaddedBatch, ResidualSession } from '../runtime/residualSession';

/**
 * Right-pad a batch: row b holds its ids, then padId up to the longest row; readIndex[b] is the prompt's
 * TokenizedPrompt.readIndex (the last token when absent), checked to lie inside its real tokens.
 */
export function toPaddedBatch(prompts: readonly TokenizedPrompt[], padId: number): PaddedBatch {
  if (prompts.length === 0) throw new Error('empty batch');
  let seqLength = 0;
  for (const prompt of prompts) {
    if (!prompt.usable || prompt.ids.length === 0) throw new Error('runBatch was given an unusable prompt');
    seqLength = Math.max(seqLength, prompt.ids.length);
  }
  const ids = new Int32Array(prompts.length * seqLength).fill(padId);
  const lengths = new Int32Array(prompts.length);
  const readIndex = new Int32Array(prompts.length);
  prompts.forEach((prompt, row) => {
    ids.set(prompt.ids, row * seqLength);
    lengths[row] = prompt.ids.length;
    const index = readIndexOf(prompt);
    if (!Number.isInteger(index) || index < 0 || index >= prompt.ids.length) {
      throw new Error(`runBatch: read index ${index} is outside the prompt's ${prompt.ids.length} tokens`);
    }
    readIndex[row] = index;
  });
  return { batchSize: prompts.length, seqLength, ids, lengths, readIndex };
}

/** One batch → [batch, numLayers, hiddenSize] float32, checked against the size the model promised. */
export async function runResidualBatch(
  session: ResidualSession, prompts: readonly TokenizedPrompt[], padId: number, label: string, numLayers: number, hiddenSize: number,
): Promise<Float32Array> {
  const result = await session.run(toPaddedBatch(prompts, padId));
  if (result.data.length !== prompts.length * numLayers * hiddenSize) {
    throw new Error(`${label}: output has ${result.data.length} values, expected ${prompts.length}×${numLayers}×${hiddenSize}`);
  }
  return result.data;
}

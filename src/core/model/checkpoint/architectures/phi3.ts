/**
 * @file Phi-3 (model_type phi3): Llama-style blocks with a fused qkv_proj [q; k; v] and a fused gate_up_proj
 * [gate; up], partial rotary (`partial_rotary_factor`), LongRoPE scaling (the short factors: prompts up to
 * original_max_position_embeddings), and a sliding window on every layer when `sliding_window` is set.
 * Semantics from transformers' Phi3Model.
 */
import { attention, embed, linear, norm } from '../blocks';
import type { Architecture } from '../architecture';
import type { ConfigReader } from '../config';
import { ropeFromConfig } from '../rope';
import { gatedMlp, layerWindows, projectQkv, readDecoderConfig } from './decoder';

function read(config: ConfigReader) {
  const c = readDecoderConfig(config, { eps: 1e-5 });
  return { c, rope: ropeFromConfig(config, c.headDim), windows: layerWindows(config, c.blocks, () => true) };
}

export const phi3: Architecture = {
  modelTypes: ['phi3'],
  dims(config) {
    const { c, rope } = read(config);
    return { numBlocks: c.blocks, hiddenSize: c.hidden, vocabSize: c.vocab, maxPositions: rope.maxSequence ?? c.maxPositions };
  },
  build({ config, graph, weights: w, blocks }) {
    const { c, rope, windows } = read(config);
    const g = graph.g;
    w.usePrefix(['model.', ''], 'embed_tokens.weight');
    const rms = { kind: 'rms', eps: c.eps } as const;
    let h = embed(graph, w, 'embed_tokens.weight', c.vocab, c.hidden);
    const boundaries = [h];
    for (let layer = 0; layer < blocks; layer++) {
      const p = `layers.${layer}`;
      const { q, k, v } = projectQkv(graph, w, norm(graph, w, h, `${p}.input_layernorm`, c.hidden, rms), `${p}.self_attn`, c, { bias: false, fused: 'qkv_proj' });
      const heads = attention(graph, q, k, v, { numHeads: c.heads, numKvHeads: c.kvHeads, headDim: c.headDim, rope, window: windows[layer] });
      h = g.op('Add', [h, linear(graph, w, heads, `${p}.self_attn.o_proj`, c.heads * c.headDim, c.hidden)]);
      h = g.op('Add', [h, gatedMlp(graph, w, norm(graph, w, h, `${p}.post_attention_layernorm`, c.hidden, rms), `${p}.mlp`, c, { fusedGateUp: 'gate_up_proj' })]);
      boundaries.push(h);
    }
    return boundaries;
  },
};

/**
 * @file Phi-3 (model_type phi3): Llama-style blocks with a fused qkv_proj [q; k; v] and a fused gate_up_proj
 * [gate; up], partial rotary (`partial_rotary_factor`), LongRoPE scaling (the short factors: prompts up to
 * original_max_position_embeddings), and a sliding window on every layer when `sliding_window` is set.
 * Semantics from transformers' Phi3Model.
 */
import { attention, linear, norm } from '../blocks';
import type { Architecture } from '../architecture';
import type { ConfigReader } from '../config';
import { ropeFromConfig } from '../rope';
import { decoderDims, gatedMlp, layerWindows, projectQkv, readDecoderConfig, stackBlocks } from './decoder';

function read(config: ConfigReader) {
  const c = readDecoderConfig(config, { eps: 1e-5 });
  return { c, rope: ropeFromConfig(config, c.headDim), windows: layerWindows(config, c.blocks, () => true) };
}

export const phi3: Architecture = {
  modelTypes: ['phi3'],
  dims(config) {
    const { c, rope } = read(config);
    return decoderDims(c, rope);
  },
  build({ config, graph, weights: w, blocks }) {
    const { c, rope, windows } = read(config);
    const g = graph.g;
    const rms = { kind: 'rms', eps: c.eps } as const;
    return stackBlocks(graph, w, c, blocks, (h, layer, p) => {
      const { q, k, v } = projectQkv(graph, w, norm(graph, w, h, `${p}.input_layernorm`, c.hidden, rms), `${p}.self_attn`, c, { bias: false, fused: 'qkv_proj' });
      const heads = attention(graph, q, k, v, { numHeads: c.heads, numKvHeads: c.kvHeads, headDim: c.headDim, rope, window: windows[layer] });
      h = g.op('Add', [h, linear(graph, w, heads, `${p}.self_attn.o_proj`, c.heads * c.headDim, c.hidden)]);
      return g.op('Add', [h, gatedMlp(graph, w, norm(graph, w, h, `${p}.post_attention_layernorm`, c.hidden, rms), `${p}.mlp`, c, { fusedGateUp: 'gate_up_proj' })]);
    });
  },
};

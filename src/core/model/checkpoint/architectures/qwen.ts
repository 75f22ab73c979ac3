/**
 * @file Qwen2 (q/k/v projections with bias, o_proj without) and Qwen3 (no projection bias unless
 * `attention_bias`; RMSNorm of every query and key head before RoPE, `head_dim` independent of hidden/heads).
 * Sliding windows only with `use_sliding_window`, from `max_window_layers` on. Semantics from transformers'
 * Qwen2Model / Qwen3Model.
 */
import { attention, linear, norm } from '../blocks';
import type { Architecture } from '../architecture';
import type { ConfigReader } from '../config';
import { ropeFromConfig } from '../rope';
import { decoderDims, gatedMlp, projectQkv, qwenWindows, readDecoderConfig, stackBlocks } from './decoder';

function read(config: ConfigReader) {
  const qwen3 = config.modelType === 'qwen3';
  // Qwen3Config's head_dim defaults to 128 whatever hidden_size / num_attention_heads is.
  const c = readDecoderConfig(config, { eps: 1e-6, headDim: qwen3 ? 128 : undefined });
  return {
    c, qwen3,
    rope: ropeFromConfig(config, c.headDim),
    qkvBias: qwen3 ? config.bool('attention_bias', false) : true,
    oBias: qwen3 ? config.bool('attention_bias', false) : false,
    windows: qwenWindows(config, c.blocks),
  };
}

export const qwen: Architecture = {
  modelTypes: ['qwen2', 'qwen3'],
  dims(config) {
    const { c, rope } = read(config);
    return decoderDims(c, rope);
  },
  build({ config, graph, weights: w, blocks }) {
    const { c, qwen3, rope, qkvBias, oBias, windows } = read(config);
    const g = graph.g;
    const rms = { kind: 'rms', eps: c.eps } as const;
    return stackBlocks(graph, w, c, blocks, (h, layer, p) => {
      const { q, k, v } = projectQkv(graph, w, norm(graph, w, h, `${p}.input_layernorm`, c.hidden, rms), `${p}.self_attn`, c, { bias: qkvBias });
      const heads = attention(graph, q, k, v, {
        numHeads: c.heads, numKvHeads: c.kvHeads, headDim: c.headDim, rope, window: windows[layer],
        ...(qwen3 ? {
          qHeadNorm: (x: string) => norm(graph, w, x, `${p}.self_attn.q_norm`, c.headDim, rms),
          kHeadNorm: (x: string) => norm(graph, w, x, `${p}.self_attn.k_norm`, c.headDim, rms),
        } : {}),
      });
      h = g.op('Add', [h, linear(graph, w, heads, `${p}.self_attn.o_proj`, c.heads * c.headDim, c.hidden, { bias: oBias ? 'required' : 'none' })]);
      return g.op('Add', [h, gatedMlp(graph, w, norm(graph, w, h, `${p}.post_attention_layernorm`, c.hidden, rms), `${p}.mlp`, c)]);
    });
  },
};

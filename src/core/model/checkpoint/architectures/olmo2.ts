/**
 * @file OLMo-2 (model_type olmo2): no norm before attention or MLP; instead each branch's output is normalised
 * (post_attention_layernorm, post_feedforward_layernorm) before it is added to the stream, and the whole query and
 * key projections get an RMSNorm (over heads·headDim) before RoPE. Semantics from transformers' Olmo2Model.
 */
import { attention, linear, norm } from '../blocks';
import type { Architecture } from '../architecture';
import type { ConfigReader } from '../config';
import { ropeFromConfig } from '../rope';
import { decoderDims, gatedMlp, projectQkv, readDecoderConfig, stackBlocks } from './decoder';

function read(config: ConfigReader) {
  const c = readDecoderConfig(config, { eps: 1e-5 });
  return { c, rope: ropeFromConfig(config, c.headDim), bias: config.bool('attention_bias', false) };
}

export const olmo2: Architecture = {
  modelTypes: ['olmo2'],
  dims(config) {
    const { c, rope } = read(config);
    return decoderDims(c, rope);
  },
  build({ config, graph, weights: w, blocks }) {
    const { c, rope, bias } = read(config);
    const g = graph.g;
    const rms = { kind: 'rms', eps: c.eps } as const;
    return stackBlocks(graph, w, c, blocks, (h, _layer, p) => {
      const projected = projectQkv(graph, w, h, `${p}.self_attn`, c, { bias });
      const q = norm(graph, w, projected.q, `${p}.self_attn.q_norm`, c.heads * c.headDim, rms);
      const k = norm(graph, w, projected.k, `${p}.self_attn.k_norm`, c.kvHeads * c.headDim, rms);
      const heads = attention(graph, q, k, projected.v, { numHeads: c.heads, numKvHeads: c.kvHeads, headDim: c.headDim, rope });
      const attn = linear(graph, w, heads, `${p}.self_attn.o_proj`, c.heads * c.headDim, c.hidden, { bias: bias ? 'required' : 'none' });
      h = g.op('Add', [h, norm(graph, w, attn, `${p}.post_attention_layernorm`, c.hidden, rms)]);
      return g.op('Add', [h, norm(graph, w, gatedMlp(graph, w, h, `${p}.mlp`, c), `${p}.post_feedforward_layernorm`, c.hidden, rms)]);
    });
  },
};

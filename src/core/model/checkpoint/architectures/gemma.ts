/**
 * @file Gemma and Gemma-2. Both: embeddings × √hidden, RMSNorm weights used as (1 + w), GELU-tanh gated MLP,
 * head_dim (default 256) independent of hidden/heads. Gemma-2 adds sandwich norms (post-attention and
 * post-feed-forward norms on each branch's output), attention-logit softcapping, scale query_pre_attn_scalar^-½
 * and sliding-window attention on alternate layers. Semantics from transformers' GemmaModel / Gemma2Model.
 */
import { attention, linear, norm } from '../blocks';
import type { Architecture } from '../architecture';
import type { ConfigReader } from '../config';
import { ropeFromConfig } from '../rope';
import { decoderDims, gatedMlp, layerWindows, projectQkv, readDecoderConfig, stackBlocks } from './decoder';

function read(config: ConfigReader) {
  const gemma2 = config.modelType === 'gemma2';
  // transformers maps Gemma's legacy hidden_act "gelu" to the tanh approximation it was trained with.
  const legacyAct = !gemma2 && config.string('hidden_act', 'gelu_pytorch_tanh') === 'gelu';
  const c = readDecoderConfig(config, {
    eps: 1e-6, headDim: 256, act: 'gelu_pytorch_tanh', actKeys: gemma2 ? ['hidden_activation'] : legacyAct ? [] : ['hidden_act'],
  });
  const softcap = gemma2 ? (config.raw('attn_logit_softcapping') === undefined ? 50 : config.optionalNumber('attn_logit_softcapping')) : undefined;
  return {
    c, gemma2,
    rope: ropeFromConfig(config, c.headDim),
    bias: config.bool('attention_bias', false),
    scale: gemma2 ? Math.pow(config.number('query_pre_attn_scalar', 256), -0.5) : undefined,
    softcap,
    // Gemma-2's default layer_types: even layers (0, 2, …) slide, odd ones see everything.
    windows: gemma2 ? layerWindows(config, c.blocks, (layer) => (layer + 1) % 2 === 1, 4096) : [],
  };
}

export const gemma: Architecture = {
  modelTypes: ['gemma', 'gemma2'],
  dims(config) {
    const { c, rope } = read(config);
    return decoderDims(c, rope);
  },
  build({ config, graph, weights: w, blocks }) {
    const { c, gemma2, rope, bias, scale, softcap, windows } = read(config);
    const g = graph.g;
    const rms = { kind: 'rms', eps: c.eps, weightOffset: 1 } as const;
    // transformers multiplies the embeddings by √hidden cast to the activation dtype (rounded to float16 in a
    // float16 graph).
    return stackBlocks(graph, w, c, blocks, (h, layer, p) => {
      const { q, k, v } = projectQkv(graph, w, norm(graph, w, h, `${p}.input_layernorm`, c.hidden, rms), `${p}.self_attn`, c, { bias });
      const heads = attention(graph, q, k, v, { numHeads: c.heads, numKvHeads: c.kvHeads, headDim: c.headDim, rope, scale, softcap, window: windows[layer] });
      let attn = linear(graph, w, heads, `${p}.self_attn.o_proj`, c.heads * c.headDim, c.hidden, { bias: bias ? 'required' : 'none' });
      if (gemma2) attn = norm(graph, w, attn, `${p}.post_attention_layernorm`, c.hidden, rms);
      h = g.op('Add', [h, attn]);
      const mlpIn = norm(graph, w, h, gemma2 ? `${p}.pre_feedforward_layernorm` : `${p}.post_attention_layernorm`, c.hidden, rms);
      let mlp = gatedMlp(graph, w, mlpIn, `${p}.mlp`, c);
      if (gemma2) mlp = norm(graph, w, mlp, `${p}.post_feedforward_layernorm`, c.hidden, rms);
      return g.op('Add', [h, mlp]);
    }, { embedScale: Math.sqrt(c.hidden) });
  },
};

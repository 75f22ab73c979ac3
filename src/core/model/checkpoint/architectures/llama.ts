/**
 * @file Llama (Llama-2, Llama-3 with rope_scaling llama3, TinyLlama, SmolLM) and Mistral: pre-RMSNorm blocks,
 * grouped-query attention with RoPE, SwiGLU MLP. Optional `attention_bias` / `mlp_bias`; Mistral adds a sliding
 * window on every layer when `sliding_window` is set. Semantics from transformers' LlamaModel / MistralModel.
 */
import { attention, linear, norm } from '../blocks';
import type { Architecture } from '../architecture';
import type { ConfigReader } from '../config';
import { ropeFromConfig } from '../rope';
import { decoderDims, gatedMlp, layerWindows, projectQkv, readDecoderConfig, stackBlocks } from './decoder';

function read(config: ConfigReader, modelType: string) {
  const c = readDecoderConfig(config, { eps: 1e-6 });
  return {
    c,
    rope: ropeFromConfig(config, c.headDim),
    attentionBias: config.bool('attention_bias', false),
    mlpBias: config.bool('mlp_bias', false),
    // Mistral: a window on every layer (4096 when config.json does not say; null turns it off). Llama: none.
    windows: modelType === 'mistral' ? layerWindows(config, c.blocks, () => true, 4096) : [],
  };
}

export const llama: Architecture = {
  modelTypes: ['llama', 'mistral'],
  dims(config) {
    const { c, rope } = read(config, config.modelType ?? 'llama');
    return decoderDims(c, rope);
  },
  build({ config, graph, weights: w, blocks }) {
    const { c, rope, attentionBias, mlpBias, windows } = read(config, config.modelType ?? 'llama');
    const g = graph.g;
    const rms = { kind: 'rms', eps: c.eps } as const;
    return stackBlocks(graph, w, c, blocks, (h, layer, p) => {
      const { q, k, v } = projectQkv(graph, w, norm(graph, w, h, `${p}.input_layernorm`, c.hidden, rms), `${p}.self_attn`, c, { bias: attentionBias });
      const heads = attention(graph, q, k, v, { numHeads: c.heads, numKvHeads: c.kvHeads, headDim: c.headDim, rope, window: windows[layer] });
      h = g.op('Add', [h, linear(graph, w, heads, `${p}.self_attn.o_proj`, c.heads * c.headDim, c.hidden, { bias: attentionBias ? 'required' : 'none' })]);
      return g.op('Add', [h, gatedMlp(graph, w, norm(graph, w, h, `${p}.post_attention_layernorm`, c.hidden, rms), `${p}.mlp`, c, { bias: mlpBias })]);
    });
  },
};

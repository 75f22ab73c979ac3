/**
 * @file GPT-NeoX / Pythia (model_type gpt_neox): fused query_key_value laid out per head as [heads, 3, headDim],
 * partial rotary (`rotary_pct`, default 0.25) with base `rotary_emb_base`, and by default the parallel residual
 * x + attn(ln₁(x)) + mlp(ln₂(x)). Semantics from transformers' GPTNeoXModel.
 */
import { activation, activationFromName, attention, embed, linear, norm } from '../blocks';
import type { Architecture } from '../architecture';
import type { ConfigReader } from '../config';
import { ropeFromConfig } from '../rope';

function read(config: ConfigReader) {
  const hidden = config.positiveInt('hidden_size');
  const heads = config.positiveInt('num_attention_heads');
  const headDim = hidden / heads;
  return {
    hidden, heads, headDim,
    blocks: config.positiveInt('num_hidden_layers'),
    vocab: config.positiveInt('vocab_size'),
    inner: config.positiveInt('intermediate_size', 4 * hidden),
    eps: config.number('layer_norm_eps', 1e-5),
    act: activationFromName(config.string('hidden_act', 'gelu'), config.file),
    parallel: config.bool('use_parallel_residual', true),
    bias: config.bool('attention_bias', true),
    rope: ropeFromConfig(config, headDim, {
      thetaKeys: ['rotary_emb_base', 'rope_theta'], partialKeys: ['rotary_pct', 'partial_rotary_factor'], partialRotaryFactor: 0.25,
    }),
    maxPositions: config.optionalInt('max_position_embeddings'),
  };
}

export const gptNeox: Architecture = {
  modelTypes: ['gpt_neox'],
  dims(config) {
    const c = read(config);
    if (!Number.isInteger(c.headDim)) config.refuse('num_attention_heads', `hidden_size ${c.hidden} is not a multiple of it`);
    return { numBlocks: c.blocks, hiddenSize: c.hidden, vocabSize: c.vocab, maxPositions: c.rope.maxSequence ?? c.maxPositions };
  },
  build({ config, graph, weights: w, blocks }) {
    const c = read(config);
    const g = graph.g;
    w.usePrefix(['gpt_neox.', ''], 'embed_in.weight');
    const D = c.hidden;
    const bias = c.bias ? 'required' : 'none';
    let h = embed(graph, w, 'embed_in.weight', c.vocab, D);
    const boundaries = [h];
    const ln = { kind: 'layer', eps: c.eps, bias: true } as const;
    const headwise = g.int64([-1, c.heads, 3, c.headDim]);
    const flat = g.int64([-1, D]);
    for (let layer = 0; layer < blocks; layer++) {
      const p = `layers.${layer}`;
      const qkv = linear(graph, w, norm(graph, w, h, `${p}.input_layernorm`, D, ln), `${p}.attention.query_key_value`, D, 3 * D, { bias });
      const [q, k, v] = g.opMulti('Split', [g.op('Reshape', [qkv, headwise]), g.int64([1, 1, 1])], 3, { axis: 2 })
        .map((part) => g.op('Reshape', [part, flat]));
      const heads = attention(graph, q, k, v, { numHeads: c.heads, numKvHeads: c.heads, headDim: c.headDim, rope: c.rope });
      const attn = linear(graph, w, heads, `${p}.attention.dense`, D, D, { bias });
      const mlp = (x: string): string => {
        const up = linear(graph, w, norm(graph, w, x, `${p}.post_attention_layernorm`, D, ln), `${p}.mlp.dense_h_to_4h`, D, c.inner, { bias: 'required' });
        return linear(graph, w, activation(g, up, c.act), `${p}.mlp.dense_4h_to_h`, c.inner, D, { bias: 'required' });
      };
      if (c.parallel) {
        h = g.op('Add', [g.op('Add', [mlp(h), attn]), h]);
      } else {
        const mid = g.op('Add', [attn, h]);
        h = g.op('Add', [mlp(mid), mid]);
      }
      boundaries.push(h);
    }
    return boundaries;
  },
};

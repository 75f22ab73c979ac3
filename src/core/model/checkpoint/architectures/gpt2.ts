/**
 * @file GPT-2 (model_type gpt2): learned absolute positions, pre-LayerNorm blocks, fused c_attn, Conv1D weights
 * stored [in, out]. Semantics from transformers' GPT2Model (eager attention).
 */
import { activation, activationFromName, attention, embed, linear, norm, splitFeatures } from '../blocks';
import type { Architecture } from '../architecture';
import type { ConfigReader } from '../config';

function read(config: ConfigReader) {
  const hidden = config.positiveInt(['n_embd', 'hidden_size']);
  const heads = config.positiveInt(['n_head', 'num_attention_heads']);
  return {
    hidden, heads, headDim: hidden / heads,
    blocks: config.positiveInt(['n_layer', 'num_hidden_layers']),
    vocab: config.positiveInt('vocab_size', 50257),
    positions: config.positiveInt(['n_positions', 'max_position_embeddings'], 1024),
    inner: config.optionalInt('n_inner') ?? 4 * hidden,
    eps: config.number('layer_norm_epsilon', 1e-5),
    act: activationFromName(config.string('activation_function', 'gelu_new'), config.file),
    scaleWeights: config.bool('scale_attn_weights', true),
    scaleByLayer: config.bool('scale_attn_by_inverse_layer_idx', false),
  };
}

export const gpt2: Architecture = {
  modelTypes: ['gpt2'],
  dims(config) {
    const c = read(config);
    if (!Number.isInteger(c.headDim)) config.refuse('n_head', `n_embd ${c.hidden} is not a multiple of it`);
    return { numBlocks: c.blocks, hiddenSize: c.hidden, vocabSize: c.vocab, maxPositions: c.positions };
  },
  build({ config, graph, weights: w, blocks }) {
    const c = read(config);
    const g = graph.g;
    w.usePrefix(['transformer.', ''], 'wte.weight');
    const D = c.hidden;
    // Position ids 0…T-1 for every row (right padding), flattened like the token ids.
    const positionIds = g.op('Reshape', [
      g.op('Expand', [g.op('Unsqueeze', [graph.positions(), g.int64([0])]), graph.batchAndTokens]), g.int64([-1])]);
    const wpe = w.float('wpe.weight', [c.positions, D]);
    let h = g.op('Add', [embed(graph, w, 'wte.weight', c.vocab, D), g.op('Gather', [wpe, positionIds], { axis: 0 })]);
    const boundaries = [h];
    const ln = { kind: 'layer', eps: c.eps, bias: true } as const;
    for (let layer = 0; layer < blocks; layer++) {
      const p = `h.${layer}`;
      const qkv = linear(graph, w, norm(graph, w, h, `${p}.ln_1`, D, ln), `${p}.attn.c_attn`, D, 3 * D, { inputMajor: true, bias: 'required' });
      const [q, k, v] = splitFeatures(graph, qkv, [D, D, D]);
      let scale = c.scaleWeights ? 1 / Math.sqrt(c.headDim) : 1;
      if (c.scaleByLayer) scale /= layer + 1;
      const heads = attention(graph, q, k, v, { numHeads: c.heads, numKvHeads: c.heads, headDim: c.headDim, scale });
      h = g.op('Add', [h, linear(graph, w, heads, `${p}.attn.c_proj`, D, D, { inputMajor: true, bias: 'required' })]);
      const up = linear(graph, w, norm(graph, w, h, `${p}.ln_2`, D, ln), `${p}.mlp.c_fc`, D, c.inner, { inputMajor: true, bias: 'required' });
      h = g.op('Add', [h, linear(graph, w, activation(g, up, c.act), `${p}.mlp.c_proj`, c.inner, D, { inputMajor: true, bias: 'required' })]);
      boundaries.push(h);
    }
    return boundaries;
  },
};

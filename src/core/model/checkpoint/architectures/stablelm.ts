/**
 * @file StableLM (model_type stablelm): LayerNorm with bias, partial rotary (`partial_rotary_factor`, default
 * 0.25), optional q/k/v bias (`use_qkv_bias`), optional per-head LayerNorms of queries and keys (`qk_layernorm`:
 * one weight vector per head, no bias), and optionally the parallel residual x + attn(ln(x)) + mlp(ln(x)) with a
 * single norm. Semantics from transformers' StableLmModel.
 */
import { attention, linear, norm } from '../blocks';
import { ElemType } from '../graphBuilder';
import type { Graph, Weights } from '../blocks';
import type { Architecture } from '../architecture';
import type { ConfigReader } from '../config';
import { ropeFromConfig } from '../rope';
import { decoderDims, gatedMlp, projectQkv, readDecoderConfig, stackBlocks, type DecoderConfig } from './decoder';

function read(config: ConfigReader) {
  const c = readDecoderConfig(config, { eps: 1e-5, epsKeys: ['layer_norm_eps'] });
  return {
    c,
    rope: ropeFromConfig(config, c.headDim, { partialRotaryFactor: 0.25 }),
    qkvBias: config.bool('use_qkv_bias', false),
    qkNorm: config.bool('qk_layernorm', false),
    parallel: config.bool('use_parallel_residual', false),
  };
}

/** StableLmLayerNormPerHead: heads separate LayerNorms over headDim, stacked into one [KV, groups, headDim] weight. */
function perHeadNorm(graph: Graph, w: Weights, x: string, name: string, heads: number, c: DecoderConfig, groups: number): string {
  const g = graph.g;
  const rows = Array.from({ length: heads }, (_, head) => g.op('Unsqueeze', [w.float32(`${name}.norms.${head}.weight`, [c.headDim]), g.int64([0])]));
  const weight = g.op('Reshape', [g.op('Concat', rows, { axis: 0 }), g.int64([heads / groups, groups, c.headDim])]);
  // In float32, like every norm (blocks.ts norm).
  const x32 = g.computeType === ElemType.FLOAT ? x : g.op('Cast', [x], { to: ElemType.FLOAT });
  const normed = g.op('LayerNormalization', [x32, g.float(new Float32Array(c.headDim).fill(1))], { axis: -1, epsilon: { float: c.eps } });
  return g.toCompute(g.op('Mul', [normed, weight]), ElemType.FLOAT);
}

export const stablelm: Architecture = {
  modelTypes: ['stablelm'],
  dims(config) {
    const { c, rope } = read(config);
    return decoderDims(c, rope);
  },
  build({ config, graph, weights: w, blocks }) {
    const { c, rope, qkvBias, qkNorm, parallel } = read(config);
    const g = graph.g;
    const ln = { kind: 'layer', eps: c.eps, bias: true } as const;
    const groups = c.heads / c.kvHeads;
    return stackBlocks(graph, w, c, blocks, (h, _layer, p) => {
      const x = norm(graph, w, h, `${p}.input_layernorm`, c.hidden, ln);
      const { q, k, v } = projectQkv(graph, w, x, `${p}.self_attn`, c, { bias: qkvBias });
      const heads = attention(graph, q, k, v, {
        numHeads: c.heads, numKvHeads: c.kvHeads, headDim: c.headDim, rope,
        ...(qkNorm ? {
          qHeadNorm: (t: string) => perHeadNorm(graph, w, t, `${p}.self_attn.q_layernorm`, c.heads, c, groups),
          kHeadNorm: (t: string) => perHeadNorm(graph, w, t, `${p}.self_attn.k_layernorm`, c.kvHeads, c, 1),
        } : {}),
      });
      const attn = linear(graph, w, heads, `${p}.self_attn.o_proj`, c.heads * c.headDim, c.hidden);
      if (parallel) return g.op('Add', [g.op('Add', [h, attn]), gatedMlp(graph, w, x, `${p}.mlp`, c)]);
      h = g.op('Add', [h, attn]);
      return g.op('Add', [h, gatedMlp(graph, w, norm(graph, w, h, `${p}.post_attention_layernorm`, c.hidden, ln), `${p}.mlp`, c)]);
    });
  },
};

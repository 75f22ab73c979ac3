/**
 * @file Rotary position embedding parameters from config.json, with the semantics of transformers'
 * modeling_rope_utils (read there, written here): the inverse frequencies, the cos/sin scaling ("attention factor")
 * and the longest sequence for which these static frequencies are what transformers would use.
 *
 * Where the settings live (transformers ≥ 5 normalises all of these into `rope_parameters`):
 *   - `rope_parameters` {rope_type, rope_theta, partial_rotary_factor, factor, …}  (newer configs)
 *   - `rope_scaling` {type | rope_type, factor, …} + top-level `rope_theta`          (older configs; wins if both)
 *   - GPT-NeoX: `rotary_emb_base`, `rotary_pct`; StableLM/Phi: top-level `partial_rotary_factor`
 * Values inside the dict win over top-level ones (transformers uses setdefault), except that a top-level
 * `original_max_position_embeddings` (Phi-3) overrides the dict's for llama3/yarn/longrope.
 */
import type { ConfigReader } from './config';

export interface RopeSpec {
  /** Dimensions of each head that rotate (the first `rotaryDim`; the rest pass through). */
  readonly rotaryDim: number;
  /** rotaryDim / 2 inverse frequencies, float32 as transformers computes them. */
  readonly invFreq: Float32Array;
  /** Multiplies cos and sin (yarn, longrope); 1 otherwise. */
  readonly attentionScaling: number;
  /** The longest sequence these frequencies are valid for (dynamic/longrope change them beyond); undefined: any. */
  readonly maxSequence?: number;
  readonly type: string;
}

export interface RopeDefaults {
  readonly theta?: number;
  readonly partialRotaryFactor?: number;
  /** Config keys that hold the base (rope_theta; GPT-NeoX's rotary_emb_base). */
  readonly thetaKeys?: readonly string[];
  readonly partialKeys?: readonly string[];
}

const f32 = Math.fround;

export function ropeFromConfig(config: ConfigReader, headDim: number, defaults: RopeDefaults = {}): RopeSpec {
  const parameters: Record<string, unknown> = { ...(config.object(['rope_scaling']) ?? config.object(['rope_parameters']) ?? {}) };
  if (!('rope_type' in parameters) && !('type' in parameters) && !('rope_theta' in parameters) && Object.keys(parameters).length > 0) {
    config.refuse(config.has('rope_scaling') ? 'rope_scaling' : 'rope_parameters', 'RoPE settings per layer type are not implemented');
  }
  // Early Phi-3 configs call LongRoPE "su" (transformers renamed it).
  const named = String(parameters.rope_type ?? parameters.type ?? 'default');
  const type = named === 'su' ? 'longrope' : named;
  const theta = numberIn(parameters, 'rope_theta') ?? config.number(defaults.thetaKeys ?? ['rope_theta'], defaults.theta ?? 10000);
  const partial = numberIn(parameters, 'partial_rotary_factor')
    ?? config.optionalNumber(defaults.partialKeys ?? ['partial_rotary_factor']) ?? defaults.partialRotaryFactor ?? 1;
  const dim = Math.floor(headDim * partial);
  if (dim < 2 || dim % 2 !== 0) config.refuse('partial_rotary_factor', `it gives ${dim} rotary dimensions of a ${headDim}-wide head`);
  const maxPositions = config.optionalInt(['max_position_embeddings', 'n_positions']);
  const originalMax = (): number => {
    const value = config.optionalInt('original_max_position_embeddings') ?? numberIn(parameters, 'original_max_position_embeddings') ?? maxPositions;
    if (value === undefined) config.refuse('rope_scaling', `${type} needs original_max_position_embeddings`);
    return value;
  };
  const factor = (): number => {
    const value = numberIn(parameters, 'factor');
    if (value === undefined) config.refuse('rope_scaling', `${type} needs a factor`);
    return value;
  };
  // transformers: 1 / base ** (arange(0, dim, 2).float() / dim), in float32.
  const base = Array.from({ length: dim / 2 }, (_, i) => f32(1 / f32(Math.pow(theta, f32((2 * i) / dim)))));
  let invFreq = base;
  let attentionScaling = 1;
  let maxSequence: number | undefined;
  switch (type) {
    case 'default':
      break;
    case 'linear':
      invFreq = base.map((value) => f32(value / factor()));
      break;
    case 'dynamic':
      // Dynamic NTK changes the base only for sequences longer than max_position_embeddings.
      maxSequence = maxPositions;
      break;
    case 'llama3': {
      const scale = factor();
      const low = numberIn(parameters, 'low_freq_factor') ?? config.refuse('rope_scaling', 'llama3 needs low_freq_factor');
      const high = numberIn(parameters, 'high_freq_factor') ?? config.refuse('rope_scaling', 'llama3 needs high_freq_factor');
      const context = originalMax();
      const lowWavelength = context / low;
      const highWavelength = context / high;
      invFreq = base.map((value) => {
        const wavelength = (2 * Math.PI) / value;
        const scaled = wavelength > lowWavelength ? value / scale : value;
        if (wavelength < highWavelength || wavelength > lowWavelength) return f32(scaled);
        const smooth = (context / wavelength - low) / (high - low);
        return f32((1 - smooth) * (scaled / scale) + smooth * scaled);
      });
      break;
    }
    case 'yarn': {
      const context = originalMax();
      const scale = numberIn(parameters, 'factor') ?? (maxPositions !== undefined ? maxPositions / context : factor());
      const mscale = numberIn(parameters, 'mscale');
      const mscaleAllDim = numberIn(parameters, 'mscale_all_dim');
      const getMscale = (s: number, m = 1): number => (s <= 1 ? 1 : 0.1 * m * Math.log(s) + 1);
      attentionScaling = numberIn(parameters, 'attention_factor')
        ?? (mscale && mscaleAllDim ? getMscale(scale, mscale) / getMscale(scale, mscaleAllDim) : getMscale(scale));
      const betaFast = numberIn(parameters, 'beta_fast') || 32;
      const betaSlow = numberIn(parameters, 'beta_slow') || 1;
      const truncate = parameters.truncate === undefined ? true : parameters.truncate === true;
      const correctionDim = (rotations: number): number => (dim * Math.log(context / (rotations * 2 * Math.PI))) / (2 * Math.log(theta));
      let low = correctionDim(betaFast);
      let high = correctionDim(betaSlow);
      if (truncate) { low = Math.floor(low); high = Math.ceil(high); }
      low = Math.max(low, 0);
      high = Math.min(high, dim - 1);
      if (low === high) high += 0.001;
      invFreq = base.map((value, i) => {
        const ramp = Math.min(1, Math.max(0, f32((i - low) / (high - low))));
        const extrapolation = f32(1 - ramp);
        const interpolated = f32(value / scale);
        return f32(interpolated * (1 - extrapolation) + value * extrapolation);
      });
      break;
    }
    case 'longrope': {
      const context = originalMax();
      const short = parameters.short_factor;
      if (!Array.isArray(short) || short.length !== dim / 2 || !short.every((x) => typeof x === 'number')) {
        config.refuse('rope_scaling', `longrope needs short_factor with ${dim / 2} numbers`);
      }
      const scale = numberIn(parameters, 'factor') ?? (maxPositions !== undefined ? maxPositions / context : 1);
      attentionScaling = numberIn(parameters, 'attention_factor')
        ?? (scale <= 1 ? 1 : Math.sqrt(1 + Math.log(scale) / Math.log(context)));
      // transformers: 1 / (ext_factors * base ** (arange(0, dim, 2) / dim)); the long factors apply past `context`.
      invFreq = Array.from({ length: dim / 2 }, (_, i) => f32(1 / f32((short as number[])[i] * f32(Math.pow(theta, f32((2 * i) / dim))))));
      maxSequence = context;
      break;
    }
    default:
      config.refuse(config.has('rope_scaling') ? 'rope_scaling' : 'rope_parameters', `RoPE type "${type}" is not implemented (default, linear, dynamic, llama3, yarn, longrope are)`);
  }
  return { rotaryDim: dim, invFreq: Float32Array.from(invFreq), attentionScaling, maxSequence, type };
}

function numberIn(record: Record<string, unknown>, key: string): number | undefined {
  const value = record[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

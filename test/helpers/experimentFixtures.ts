/**
 * In-memory models for the experiment tests (no ONNX): their activations are known exactly, so what an experiment
 * must find is known in advance.
 */
import { promptText, type PromptInput, type ResidualModel, type TokenizedPrompt } from '../../src/core/model/types';
import { mulberry32 } from '../../src/core/probes/split';

export const TEMPLATE_AWARE_HIDDEN = 8;
const HIDDEN = TEMPLATE_AWARE_HIDDEN;

/** Words → ids; entity words ("place17") carry a planted vector, every other word a constant offset. */
export class TemplateAwareModel implements ResidualModel {
  readonly id = 'test:template-aware';
  readonly architecture = 'test';
  readonly numLayers = 2;
  readonly hiddenSize = HIDDEN;
  readonly fingerprint = 'template-aware-model/1';
  readonly device = { requested: 'cpu' as const, used: 'cpu' as const, fallbacks: [] };
  private readonly words: string[] = [];
  private readonly ids = new Map<string, number>();

  constructor(private readonly targets: ReadonlyMap<string, readonly number[]>) {}

  tokenize(prompts: readonly (string | PromptInput)[]): TokenizedPrompt[] {
    return prompts.map(promptText).map((text) => ({
      usable: true,
      ids: text.split(/\s+/).filter(Boolean).map((word) => {
        let id = this.ids.get(word);
        if (id === undefined) {
          id = this.words.length;
          this.words.push(word);
          this.ids.set(word, id);
        }
        return id;
      }),
    }));
  }

  private wordVector(word: string, salt: number): Float64Array {
    let seed = salt;
    for (const char of word) seed = Math.imul(seed ^ char.charCodeAt(0), 0x01000193) >>> 0;
    const random = mulberry32(seed);
    return Float64Array.from({ length: HIDDEN }, () => random() * 2 - 1);
  }

  async runBatch(prompts: readonly TokenizedPrompt[]): Promise<Float32Array> {
    const out = new Float32Array(prompts.length * 2 * HIDDEN);
    prompts.forEach((prompt, row) => {
      const layers = [new Float64Array(HIDDEN), new Float64Array(HIDDEN)];
      for (const id of prompt.ids) {
        const word = this.words[id];
        const target = this.targets.get(word.toLowerCase());
        if (target) {
          const noise = this.wordVector(word.toLowerCase(), 1);
          for (let f = 0; f < HIDDEN; f++) {
            layers[0][f] += noise[f];
            layers[1][f] += f === 0 ? (10 * target[0]) / 90 : f === 1 ? (10 * target[1]) / 180 : 0.3 * noise[f];
          }
        } else {
          // A template word: the same large offset for every entity.
          const offset = this.wordVector(word, 2);
          for (let f = 0; f < HIDDEN; f++) {
            layers[0][f] += 20 * offset[f];
            layers[1][f] += 20 * offset[f];
          }
        }
      }
      layers.forEach((values, layer) => out.set(Float32Array.from(values), (row * 2 + layer) * HIDDEN));
    });
    return out;
  }

  async dispose(): Promise<void> {}
}


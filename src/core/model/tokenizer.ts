/**
 * @file The model's own tokenizer: tokenizer.json (+ tokenizer_config.json) read by @huggingface/tokenizers.
 *
 * The tokenizer's normalizer, pre-tokenizer and post-processor decide everything, including BOS: Llama-2's
 * TemplateProcessing adds `<s>`, GPT-2 adds nothing. Some files (e.g. Llama-3 conversions) have no post-processor
 * although the model was trained with BOS; their tokenizer_config.json says `add_bos_token: true`. We prepend BOS
 * from tokenizer_config only in that case, i.e. when the config asks for it and the post-processor does not add it.
 */
import * as fs from 'node:fs';
import type { Tokenizer as HfTokenizer } from '@huggingface/tokenizers' with { 'resolution-mode': 'import' };
import type { TokenizedPrompt } from './types';
import { ModelLoadError } from './errors';

// @huggingface/tokenizers is an ES module with a CommonJS build; our CommonJS output loads the latter.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Tokenizer } = require('@huggingface/tokenizers') as { Tokenizer: typeof HfTokenizer };

/** How BOS reaches the ids. */
export type BosPolicy = 'post-processor' | 'prepended (tokenizer_config add_bos_token)' | 'none';

export interface TokenizerConfig {
  readonly add_bos_token?: boolean;
  readonly bos_token?: string | { readonly content?: string } | null;
  readonly [key: string]: unknown;
}

export class ModelTokenizer {
  private readonly specialIds: ReadonlySet<number>;

  private constructor(
    private readonly tokenizer: HfTokenizer,
    /** Token id prepended by us, when the post-processor does not add the BOS the config asks for. */
    private readonly prependId: number | undefined,
    readonly bosPolicy: BosPolicy,
    readonly bosId: number | undefined,
    specialIds: ReadonlySet<number>,
  ) {
    this.specialIds = specialIds;
  }

  /** Load from a parsed tokenizer.json and optional tokenizer_config.json. */
  static fromJson(tokenizerJson: unknown, tokenizerConfig: TokenizerConfig = {}, label = 'tokenizer.json'): ModelTokenizer {
    let tokenizer: HfTokenizer;
    // @huggingface/tokenizers 0.2.0 runs WordLevel models through its "Legacy" model, which takes unk_token from
    // tokenizer_config.json only; fall back to the model's own unk_token so unknown words map to it.
    const modelUnk = ((tokenizerJson as { model?: { unk_token?: unknown } } | null)?.model?.unk_token);
    const config = typeof modelUnk === 'string' && tokenizerConfig.unk_token === undefined ? { ...tokenizerConfig, unk_token: modelUnk } : tokenizerConfig;
    try {
      tokenizer = new Tokenizer(tokenizerJson as object, config);
    } catch (error) {
      throw new ModelLoadError(`Cannot build the tokenizer from ${label}: ${(error as Error).message}`);
    }
    const bosText = typeof tokenizerConfig.bos_token === 'string' ? tokenizerConfig.bos_token : tokenizerConfig.bos_token?.content ?? undefined;
    const bosId = bosText !== undefined ? tokenizer.token_to_id(bosText) : undefined;
    const specialIds = new Set<number>();
    for (const [id, token] of tokenizer.get_added_tokens_decoder()) if (token.special) specialIds.add(id);

    // Probe the post-processor: does encoding with special tokens put something in front of the text?
    const probe = 'a';
    const withSpecial = tokenizer.encode(probe, { add_special_tokens: true }).ids;
    const without = tokenizer.encode(probe, { add_special_tokens: false }).ids;
    const postProcessorPrefixes = withSpecial.length > without.length && withSpecial[0] !== without[0];
    const postProcessorAddsBos = postProcessorPrefixes && (bosId === undefined || withSpecial[0] === bosId);
    if (postProcessorAddsBos) return new ModelTokenizer(tokenizer, undefined, 'post-processor', withSpecial[0], specialIds);
    if (tokenizerConfig.add_bos_token === true) {
      if (bosId === undefined) {
        throw new ModelLoadError(`tokenizer_config.json asks for a BOS token (add_bos_token) but its bos_token ` +
          `${JSON.stringify(bosText ?? null)} is not in ${label}.`);
      }
      return new ModelTokenizer(tokenizer, bosId, 'prepended (tokenizer_config add_bos_token)', bosId, specialIds);
    }
    return new ModelTokenizer(tokenizer, undefined, 'none', bosId, specialIds);
  }

  /** Load tokenizer.json and, if given, tokenizer_config.json from disk. */
  static fromFiles(tokenizerPath: string, tokenizerConfigPath?: string): ModelTokenizer {
    const read = (file: string): unknown => {
      try {
        return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
      } catch (error) {
        throw new ModelLoadError(`Cannot read ${file}: ${(error as Error).message}`);
      }
    };
    const config = tokenizerConfigPath ? (read(tokenizerConfigPath) as TokenizerConfig) : {};
    return ModelTokenizer.fromJson(read(tokenizerPath), config, tokenizerPath);
  }

  /** Tokenize one prompt exactly as given (no added spaces). */
  encode(text: string): TokenizedPrompt {
    if (text.length === 0) return { ids: [], usable: false, reason: 'empty prompt' };
    const raw = this.tokenizer.encode(text, { add_special_tokens: true }).ids as (number | undefined)[];
    if (raw.some((id) => id === undefined || !Number.isInteger(id))) {
      return { ids: [], usable: false, reason: 'text has pieces outside the vocabulary and the tokenizer has no unknown token' };
    }
    const ids = (this.prependId !== undefined && raw[0] !== this.prependId ? [this.prependId, ...raw] : raw) as number[];
    if (!ids.some((id) => !this.specialIds.has(id))) {
      return { ids, usable: false, reason: 'the tokenizer produced no token for the text (only special tokens)' };
    }
    return { ids, usable: true };
  }

  encodeAll(texts: readonly string[]): TokenizedPrompt[] {
    return texts.map((text) => this.encode(text));
  }

  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }
}

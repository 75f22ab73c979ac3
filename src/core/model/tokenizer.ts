/**
 * @file The model's own tokenizer: tokenizer.json (+ tokenizer_config.json) read by @huggingface/tokenizers.
 *
 * The tokenizer's normalizer, pre-tokenizer and post-processor decide everything, including BOS: Llama-2's
 * TemplateProcessing adds `<s>`, GPT-2 adds nothing. Some files (e.g. Llama-3 conversions) have no post-processor
 * although the model was trained with BOS; their tokenizer_config.json says `add_bos_token: true`. We prepend BOS
 * from tokenizer_config only in that case, i.e. when the config asks for it and the post-processor does not add it.
 *
 * Which token is read (`TokenizedPrompt.readIndex`): @huggingface/tokenizers 0.2.0 gives no character offsets,
 * so the entity's last token is found by tokenizing the prompt cut right after the entity, P = text[0, end), with
 * the same special tokens, trailing special tokens (an appended EOS) dropped. P's ids are compared with the full
 * prompt's ids F:
 *   - P is a prefix of F (the usual case: the suffix starts a new pre-token, e.g. "?" or " is"): read F[|P| − 1];
 *   - they part at position c < |P| (the suffix merged with the entity's end, e.g. "{entity}n" or a
 *     SentencePiece piece spanning the boundary): read the last token of F from c on that starts before the
 *     entity's end — the one that runs past it — with starts measured by decoding F's first tokens and P.
 * This works for byte-level BPE (GPT-2, Llama-3), SentencePiece-style BPE (Llama-2) and WordPiece/WordLevel, with
 * BOS from the post-processor or from tokenizer_config, since both tokenizations get the same front. A template
 * ending in `{entity}` needs no second tokenization.
 */
import * as fs from 'node:fs';
import type { Tokenizer as HfTokenizer } from '@huggingface/tokenizers' with { 'resolution-mode': 'import' };
import type { EntitySpan, PromptInput, TokenizedPrompt } from './types';
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

  /** Ids with special tokens (and our prepended BOS), or undefined when a piece has no id. */
  private rawIds(text: string): number[] | undefined {
    const raw = this.tokenizer.encode(text, { add_special_tokens: true }).ids as (number | undefined)[];
    if (raw.some((id) => id === undefined || !Number.isInteger(id))) return undefined;
    return (this.prependId !== undefined && raw[0] !== this.prependId ? [this.prependId, ...raw] : raw) as number[];
  }

  /** Length of `ids` without its trailing special tokens (an EOS the post-processor appends). */
  private withoutTrailingSpecials(ids: readonly number[]): number {
    let end = ids.length;
    while (end > 0 && this.specialIds.has(ids[end - 1])) end--;
    return end;
  }

  /**
   * Tokenize one prompt exactly as given (no added spaces). A string, or a PromptInput without an entity, reads
   * the prompt's last token; with `entity`, `readIndex` is the entity's last token (see the file comment).
   */
  encode(input: string | PromptInput): TokenizedPrompt {
    const text = typeof input === 'string' ? input : input.text;
    const entity = typeof input === 'string' ? undefined : input.entity;
    if (text.length === 0) return { ids: [], usable: false, reason: 'empty prompt' };
    const ids = this.rawIds(text);
    if (ids === undefined) {
      return { ids: [], usable: false, reason: 'text has pieces outside the vocabulary and the tokenizer has no unknown token' };
    }
    if (!ids.some((id) => !this.specialIds.has(id))) {
      return { ids, usable: false, reason: 'the tokenizer produced no token for the text (only special tokens)' };
    }
    if (entity === undefined) return { ids, usable: true, readIndex: ids.length - 1 };
    const readIndex = this.entityLastIndex(text, entity, ids);
    if (readIndex === undefined || this.specialIds.has(ids[readIndex])) {
      return { ids, usable: false, reason: 'the entity produced no token of its own' };
    }
    return { ids, usable: true, readIndex };
  }

  private entityLastIndex(text: string, entity: EntitySpan, full: readonly number[]): number | undefined {
    checkSpan(text, entity);
    const prefix = entity.end === text.length ? full : this.rawIds(text.slice(0, entity.end));
    if (prefix === undefined) return undefined;
    const prefixLength = this.withoutTrailingSpecials(prefix);
    if (prefixLength === 0) return undefined;
    let common = 0;
    while (common < prefixLength && common < full.length && prefix[common] === full[common]) common++;
    if (common === prefixLength) return common - 1;
    if (common >= full.length) return full.length - 1;
    // The tokenizations part inside the entity: F[common] starts where P[common] does, before the entity's end.
    // Later tokens of F may too ("São Paulon" → … "ĠPaul" "on"): take the last one whose start, measured in
    // decoded text as the entity's end is, lies before it.
    const decodedLength = (ids: readonly number[]): number =>
      this.tokenizer.decode([...ids], { skip_special_tokens: true, clean_up_tokenization_spaces: false }).length;
    const end = decodedLength(prefix.slice(0, prefixLength));
    let index = common;
    for (let next = common + 1; next < full.length && !this.specialIds.has(full[next]); next++) {
      if (decodedLength(full.slice(0, next)) >= end) break;
      index = next;
    }
    return index;
  }

  encodeAll(inputs: readonly (string | PromptInput)[]): TokenizedPrompt[] {
    return inputs.map((input) => this.encode(input));
  }

  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }
}

/** Throw unless `entity` is a non-empty span inside `text`. */
export function checkSpan(text: string, entity: EntitySpan): void {
  if (!Number.isInteger(entity.start) || !Number.isInteger(entity.end) || entity.start < 0 || entity.end <= entity.start || entity.end > text.length) {
    throw new RangeError(`entity span [${entity.start}, ${entity.end}) is not a non-empty range inside a ${text.length}-character prompt`);
  }
}

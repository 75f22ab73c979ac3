/**
 * @file Word tokenisation and vocabulary lookup for the built-in GloVe model.
 *
 * Rule (`GLOVE_TOKENIZER_RULE`): lower-case the text (String.prototype.toLowerCase), then take maximal runs of word
 * characters (Unicode letters, numbers and `_`) and every other non-space character as a token of its own:
 * `/[\p{L}\p{N}_]+|[^\p{L}\p{N}_\s]/gu`. This is Python's `re.findall(r"\w+|[^\w\s]", text.lower())`, the rule
 * that reproduces the reference count n = 26,106 fully known world places (see docs/models-hub.md and
 * bench/glove/sklearn_reference.py; whitespace splitting gives 15,044 and `\w+` alone 26,145).
 * GloVe 6B was trained on Stanford-tokenised lower-cased text, so punctuation such as "." "," "(" "'" "-" has
 * vectors of its own, which is why punctuation is kept as tokens rather than dropped.
 */

/** Identifies the rule in fingerprints: change it whenever tokenisation changes, so cached vectors are not reused. */
export const GLOVE_TOKENIZER_RULE = 'glove-word-v1: toLowerCase; /[\\p{L}\\p{N}_]+|[^\\p{L}\\p{N}_\\s]/gu';

const WORD_TOKEN = /[\p{L}\p{N}_]+|[^\p{L}\p{N}_\s]/gu;

/**
 * Identifies the vocabulary lookup with accent folding in fingerprints (the build's GLOVE_TOKENIZER_RULE is not
 * changed, so built models stay valid): a token missing from the vocabulary is looked up once more folded.
 */
export const GLOVE_FOLD_RULE = 'glove-fold-v1: NFKD, strip \\p{M}, when the exact token is missing';

/** NFKD, then drop combining marks: "bogotá" → "bogota", "türkiye" → "turkiye", "curaçao" → "curacao". */
export function foldAccents(token: string): string {
  return token.normalize('NFKD').replace(/\p{M}/gu, '');
}

/** Split text into GloVe word tokens (lower-cased). */
export function gloveWordTokens(text: string): string[] {
  return text.toLowerCase().match(WORD_TOKEN) ?? [];
}

/** What the vocabulary makes of one text. */
export interface GloveEncoding {
  readonly tokens: readonly string[];
  /** Vocabulary ids of the known tokens, in order. */
  readonly ids: readonly number[];
  /** Tokens not in the vocabulary, in order (duplicates kept). */
  readonly unknown: readonly string[];
  /** Tokens found only after folding accents, as [token, folded]. */
  readonly folded?: readonly (readonly [string, string])[];
}

/** Coverage of a set of texts by the vocabulary. */
export interface GloveCoverage {
  readonly total: number;
  /** Every token known: the reference's inclusion rule. */
  readonly allKnown: number;
  /** Some tokens known: the product uses the mean of the known ones. */
  readonly partlyKnown: number;
  /** No token known (or no token at all): listed and skipped. */
  readonly noneKnown: number;
  /** Indices (into the input) of the texts with no known token. */
  readonly noneKnownIndices: readonly number[];
}

/** FNV-1a over UTF-16 code units. */
function hashWord(word: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < word.length; index += 1) hash = Math.imul(hash ^ word.charCodeAt(index), 0x01000193);
  return hash >>> 0;
}

/**
 * The GloVe vocabulary: word → row of the embedding table. An open-addressing table of row ids in an Int32Array
 * (load factor ≤ 0.5) instead of a Map: building a 341,479-entry Map takes several times longer, and the
 * vocabulary is built on every model load — part of the edit-one-row re-run budget.
 */
export class GloveVocabulary {
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(readonly words: readonly string[]) {
    let size = 1024;
    while (size < words.length * 2) size *= 2;
    this.slots = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    words.forEach((word, id) => {
      let slot = hashWord(word) & this.mask;
      for (let existing = this.slots[slot]; existing !== -1; existing = this.slots[slot]) {
        if (words[existing] === word) throw new Error(`GloVe vocabulary: duplicate word "${word}" at rows ${existing} and ${id}`);
        slot = (slot + 1) & this.mask;
      }
      this.slots[slot] = id;
    });
  }

  /** Parse the vocabulary file: one word per line, line i (0-based) = row i; a final newline is optional. */
  static fromText(text: string): GloveVocabulary {
    const body = text.endsWith('\n') ? text.slice(0, -1) : text;
    return new GloveVocabulary(body.split('\n'));
  }

  get size(): number {
    return this.words.length;
  }

  idOf(word: string): number | undefined {
    let slot = hashWord(word) & this.mask;
    for (let id = this.slots[slot]; id !== -1; id = this.slots[slot]) {
      if (this.words[id] === word) return id;
      slot = (slot + 1) & this.mask;
    }
    return undefined;
  }

  /** Word tokens → ids; with `fold`, a token missing from the vocabulary is looked up again accent-folded. */
  encode(text: string, fold = false): GloveEncoding {
    const tokens = gloveWordTokens(text);
    const ids: number[] = [];
    const unknown: string[] = [];
    const folded: [string, string][] = [];
    for (const token of tokens) {
      let id = this.idOf(token);
      if (id === undefined && fold) {
        const plain = foldAccents(token);
        if (plain !== token && plain.length > 0) {
          id = this.idOf(plain);
          if (id !== undefined) folded.push([token, plain]);
        }
      }
      if (id === undefined) unknown.push(token);
      else ids.push(id);
    }
    return folded.length > 0 ? { tokens, ids, unknown, folded } : { tokens, ids, unknown };
  }

  coverage(texts: readonly string[], fold = false): GloveCoverage {
    let allKnown = 0;
    let partlyKnown = 0;
    const noneKnownIndices: number[] = [];
    texts.forEach((text, index) => {
      const encoding = this.encode(text, fold);
      if (encoding.ids.length === 0) noneKnownIndices.push(index);
      else if (encoding.unknown.length === 0) allKnown += 1;
      else partlyKnown += 1;
    });
    return { total: texts.length, allKnown, partlyKnown, noneKnown: noneKnownIndices.length, noneKnownIndices };
  }
}

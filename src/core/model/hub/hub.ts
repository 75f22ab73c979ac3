/**
 * @file Download a causal LM (ONNX export) from the Hugging Face Hub into the shared Hub cache (hubCache.ts).
 *
 * 1. `GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true` → the commit and every file with its size, git
 *    blob id and, for LFS files, sha256.
 * 2. Pick the files: config.json, tokenizer.json (+ tokenizer_config.json, special_tokens_map.json when present)
 *    and the variant's graph — fp32 `onnx/model.onnx`, fp16 `onnx/model_fp16.onnx`, q8 `onnx/model_quantized.onnx`,
 *    any other name `onnx/model_<name>.onnx` (transformers.js naming), or the older `onnx/decoder_model*.onnx` —
 *    with its external data files (`model.onnx_data`, `model.onnx_data_1`, …).
 * 3. Each file: `GET {endpoint}/{repo}/resolve/{commit}/{path}` (redirects followed, e.g. to a CDN) into
 *    `blobs/<etag>.incomplete`; an interrupted transfer resumes with `Range` (retried a bounded number of times);
 *    the result is checked against the size and hash the API reported (sha256 for LFS files, the git blob sha1
 *    otherwise) before it is renamed into place — a mismatch deletes it and says so. Files already in the cache
 *    are not downloaded again.
 * 4. `snapshots/<commit>/…` links and `refs/<rev>` are written last.
 *
 * The token (gated or private repos) is sent as `Authorization: Bearer …` to the Hub only (never to a redirect
 * target on another host) and never appears in errors, logs or progress.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ModelLoadError } from '../errors';
import { genaiFolders, preferredGenaiFolder } from '../modelFolder';
import { rememberFileContentHash } from '../../util/fileIdentity';
import {
  blobFile, checkRepoId, checkRevision, hubCacheDir, isCommitHash, linkSnapshotFile, readRef, repoFolder, snapshotDir, writeRef,
} from './hubCache';
import { httpGet, NetworkError, readBodyText, type HttpResponse } from './hubHttp';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

/** 'fp32' | 'fp16' | 'q8', or a transformers.js suffix such as 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'. */
export type HubVariant = string;

export type HubErrorKind = 'unauthorized' | 'gated' | 'not-found' | 'network' | 'corrupt' | 'http' | 'missing-files' | 'offline' | 'busy' | 'no-space';

/** A Hub problem the user can act on; `details` say how. Extends ModelLoadError: the CLI prints it without a stack. */
export class HubError extends ModelLoadError {
  constructor(readonly kind: HubErrorKind, summary: string, details: readonly string[] = [], readonly status?: number) {
    super(summary, details);
  }
}

export interface HubProgress {
  readonly phase: 'resolving' | 'downloading' | 'cached' | 'verifying' | 'done';
  /** Path in the repo of the file concerned (empty while resolving). */
  readonly file: string;
  readonly fileBytes: number;
  readonly fileTotal: number;
  /** Bytes over all selected files (cached ones count as done). */
  readonly bytes: number;
  readonly total: number;
  /** Transfer rate over the last few seconds (bytes/s), 0 when not downloading. */
  readonly bytesPerSecond: number;
}

export interface HubOptions {
  readonly revision?: string;
  readonly variant?: HubVariant;
  /** Default `$HF_ENDPOINT` or https://huggingface.co. */
  readonly endpoint?: string;
  /** Default hubCacheDir(env). */
  readonly cacheDir?: string;
  /** For gated/private repos. Never logged. */
  readonly token?: string;
  /** Environment for HF_* and proxy variables (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: HubProgress) => void;
  /** Extra CA certificates (PEM). */
  readonly ca?: string | Buffer;
  /** Attempts per file after a dropped connection or 5xx (default 5). */
  readonly retries?: number;
  /** First retry delay, doubled each time (default 1000 ms). */
  readonly retryDelayMs?: number;
  readonly idleTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface HubSibling {
  readonly rfilename: string;
  readonly size?: number;
  readonly blobId?: string;
  readonly lfs?: { readonly sha256: string; readonly size: number };
}

export interface HubFileResult {
  readonly path: string;
  readonly size: number;
  /** Already in the cache: not downloaded. */
  readonly cached: boolean;
}

export interface HubDownloadResult {
  readonly repoId: string;
  readonly revision: string;
  readonly commit: string;
  /** The snapshot folder: a model folder loadModel accepts. */
  readonly dir: string;
  readonly variant: string;
  readonly files: readonly HubFileResult[];
  readonly downloadedBytes: number;
}

const VARIANT_BASENAME: Readonly<Record<string, string>> = { fp32: 'model', fp16: 'model_fp16', q8: 'model_quantized' };
const OPTIONAL_FILES = ['tokenizer_config.json', 'special_tokens_map.json'];
const REQUIRED_FILES = ['config.json', 'tokenizer.json'];

/**
 * Where a variant's graph may sit, in order — the same places the folder loader (modelFolder.ts) looks:
 * transformers.js v3 / optimum single-graph exports (`onnx/model.onnx`), then older optimum exports whose
 * no-past decoder is `onnx/decoder_model.onnx`, then merged decoders (`onnx/decoder_model_merged*.onnx`, an If on
 * use_cache_branch whose no-past branch the loader inlines) for repos that ship nothing else.
 */
export function graphCandidates(fileName: string): string[] {
  const suffix = fileName.replace(/^model/, '').replace(/\.onnx$/, '');
  return [`onnx/${fileName}`, fileName, `onnx/decoder_${fileName}`, `decoder_${fileName}`,
    `onnx/decoder_model_merged${suffix}.onnx`, `decoder_model_merged${suffix}.onnx`];
}

export function variantFileName(variant: HubVariant): string {
  if (!/^[\w-]+$/.test(variant)) throw new ModelLoadError(`"${variant}" is not a model variant (fp32, fp16, q8, or a suffix such as q4)`);
  return `${VARIANT_BASENAME[variant] ?? `model_${variant}`}.onnx`;
}

function endpointOf(options: HubOptions): string {
  const env = options.env ?? process.env;
  return (options.endpoint ?? env.HF_ENDPOINT ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
}

function encodePath(value: string): string {
  return value.split('/').map(encodeURIComponent).join('/');
}

/**
 * The pseudo-variant for a repo's original weights: config.json, tokenizer files and `model.safetensors` or the
 * shards named by `model.safetensors.index.json` (src/core/model/checkpoint builds the graph).
 */
export const SAFETENSORS_VARIANT = 'safetensors';
const CHECKPOINT_SINGLE = 'model.safetensors';
const CHECKPOINT_INDEX = 'model.safetensors.index.json';
/** Shard names as save_pretrained writes them: model-00001-of-00003.safetensors. */
const CHECKPOINT_SHARD = /^model-\d{5}-of-\d{5}\.safetensors$/;

function hasCheckpoint(names: ReadonlySet<string>): boolean {
  return names.has(CHECKPOINT_SINGLE) || names.has(CHECKPOINT_INDEX);
}

/**
 * `auto`: the original safetensors weights when the repo has them (exact: the graph follows transformers'
 * semantics from the weights themselves, with no exporter in between), else the fp32 ONNX export.
 */
export function autoVariant(siblings: readonly HubSibling[]): HubVariant {
  return hasCheckpoint(new Set(siblings.map((sibling) => sibling.rfilename))) ? SAFETENSORS_VARIANT : 'fp32';
}

function selectCheckpointFiles(siblings: readonly HubSibling[], byName: ReadonlyMap<string, HubSibling>, repoId: string): HubSibling[] {
  const optional = OPTIONAL_FILES.map((name) => byName.get(name)).filter((sibling): sibling is HubSibling => sibling !== undefined);
  const required = REQUIRED_FILES.map((name) => byName.get(name)!);
  const single = byName.get(CHECKPOINT_SINGLE);
  if (single) return [...required, ...optional, single];
  const index = byName.get(CHECKPOINT_INDEX);
  if (!index) {
    const weights = siblings.map((sibling) => sibling.rfilename).filter((name) => /\.(bin|pt|pth|safetensors|gguf)$/.test(name));
    throw new HubError('missing-files', `${repoId} has no ${CHECKPOINT_SINGLE} or ${CHECKPOINT_INDEX}.`, [
      weights.length > 0 ? `Weight files in the repo: ${weights.slice(0, 8).join(', ')}${weights.length > 8 ? ', …' : ''}; only safetensors ` +
        'checkpoints saved by save_pretrained are read (PyTorch .bin files are pickles, which we do not load).' : 'The repo has no weights.',
      'Use --format onnx for an ONNX export.']);
  }
  // The shard names are in the index, which is not downloaded yet: take every save_pretrained-style shard.
  const shards = siblings.filter((sibling) => CHECKPOINT_SHARD.test(sibling.rfilename));
  if (shards.length === 0) throw new HubError('missing-files', `${repoId} has ${CHECKPOINT_INDEX} but no model-0000k-of-0000n.safetensors shards.`);
  return [...required, ...optional, index, ...shards];
}

/** Folders of a repo listing that hold an onnxruntime-genai model (genai_config.json): '.' or e.g. 'cuda/cuda-fp16'. */
export function genaiFoldersOf(names: readonly string[]): string[] {
  return names.filter((name) => name === 'genai_config.json' || name.endsWith('/genai_config.json'))
    .map((name) => (name === 'genai_config.json' ? '.' : name.slice(0, -'/genai_config.json'.length)))
    .filter((folder) => folder === '.' || folder.split('/').length <= 2).sort();
}

/**
 * The genai folder a variant means: named by its path or last part, or — for fp32 when the repo has no single-graph
 * fp32 export — the one `auto` would load (modelFolder.preferredGenaiFolder: a CPU fp32 build first).
 */
function genaiFolderFor(names: readonly string[], variant: HubVariant, hasStandardGraph: boolean): string | undefined {
  const folders = genaiFoldersOf(names);
  const named = folders.find((folder) => folder === variant || path.posix.basename(folder) === variant);
  if (named !== undefined) return named;
  return variant === 'fp32' && !hasStandardGraph ? preferredGenaiFolder(folders) : undefined;
}

/** An onnxruntime-genai model's files: everything in its folder, plus config/tokenizer files at the root. */
function selectGenaiFiles(siblings: readonly HubSibling[], folder: string, repoId: string): HubSibling[] {
  const prefix = folder === '.' ? '' : `${folder}/`;
  const inFolder = siblings.filter((sibling) => sibling.rfilename.startsWith(prefix) && !sibling.rfilename.slice(prefix.length).includes('/'));
  const root = folder === '.' ? [] : siblings.filter((sibling) => [...REQUIRED_FILES, ...OPTIONAL_FILES].includes(sibling.rfilename));
  const names = new Set([...inFolder, ...root].map((sibling) => path.posix.basename(sibling.rfilename)));
  if (!names.has('tokenizer.json')) {
    throw new HubError('missing-files', `${repoId}: the onnxruntime-genai model in ${folder} has no tokenizer.json (in its folder or at the root).`);
  }
  return [...root, ...inFolder];
}

/** The files of a variant among a repo's siblings; throws a HubError naming what is there when it is absent. */
export function selectVariantFiles(siblings: readonly HubSibling[], variant: HubVariant, repoId: string): HubSibling[] {
  const byName = new Map(siblings.map((sibling) => [sibling.rfilename, sibling]));
  // onnxruntime-genai model-builder repos (microsoft/*-onnx): per-provider folders with genai_config.json.
  if (variant !== SAFETENSORS_VARIANT) {
    const standard = /^[\w-]+$/.test(variant) && graphCandidates(variantFileName(variant)).some((name) => byName.has(name));
    const genai = standard ? undefined : genaiFolderFor([...byName.keys()], variant, standard);
    if (genai !== undefined) return selectGenaiFiles(siblings, genai, repoId);
  }
  const missing = REQUIRED_FILES.filter((file) => !byName.has(file));
  if (missing.length > 0) {
    throw new HubError('missing-files', `${repoId} has no ${missing.join(' or ')}: it is not a model folder Spacetime Probe can load.`,
      ['A model needs config.json, tokenizer.json and safetensors weights or an ONNX export (onnx/model.onnx).']);
  }
  if (variant === SAFETENSORS_VARIANT) return selectCheckpointFiles(siblings, byName, repoId);
  const fileName = variantFileName(variant);
  const graph = graphCandidates(fileName).map((name) => byName.get(name)).find((sibling) => sibling !== undefined);
  if (!graph) {
    const available = siblings.map((sibling) => sibling.rfilename).filter((name) => name.endsWith('.onnx'));
    const details = available.length > 0
      ? [`ONNX files in the repo: ${available.join(', ')}.`, 'Choose another --variant (fp32, fp16, q8, or a suffix like q4), or an ONNX export of the model.']
      : ['The repo has no ONNX export. Look for an ONNX version (often under onnx-community/ or Xenova/).'];
    throw new HubError('missing-files', `${repoId} has no ${variant} export (${fileName}).`, details);
  }
  const dataPrefixes = [`${graph.rfilename}_data`, `${graph.rfilename}.data`];
  const data = siblings.filter((sibling) => dataPrefixes.some((prefix) => sibling.rfilename.startsWith(prefix)));
  const optional = OPTIONAL_FILES.map((name) => byName.get(name)).filter((sibling): sibling is HubSibling => sibling !== undefined);
  return [...REQUIRED_FILES.map((name) => byName.get(name)!), ...optional, graph, ...data];
}

function statusError(status: number, what: string, repoId: string, hasToken: boolean, errorCode: string | undefined): HubError {
  if (status === 401) {
    return new HubError(hasToken ? 'unauthorized' : 'gated',
      hasToken ? `The Hub rejected the token for ${repoId} (HTTP 401).` : `${repoId} needs a token (HTTP 401: gated or private repo).`,
      hasToken
        ? ['Check that the token is valid and has read access.']
        : ['Accept the licence on the Hub page of the model, then provide a token: HF_TOKEN, --token-file, or the extension\'s "Set Hugging Face Token" command.'],
      status);
  }
  if (status === 403) {
    return new HubError('gated', `Access to ${repoId} was refused (HTTP 403${errorCode ? `, ${errorCode}` : ''}).`,
      ['The repo is gated: accept the licence on the Hub page of the model with the account of your token, and use a token with read access.'], status);
  }
  if (status === 404) {
    const which = errorCode === 'RepoNotFound' ? `repository ${repoId}` : errorCode === 'RevisionNotFound' ? `revision of ${repoId}` : what;
    return new HubError('not-found', `Not found on the Hub: ${which} (HTTP 404${errorCode ? `, ${errorCode}` : ''}).`,
      ['Check the model id (org/name) and --revision. Private repos also answer 404 without a token.'], status);
  }
  return new HubError('http', `The Hub answered HTTP ${status} for ${what}.`, [], status);
}

function headerText(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Why `name` cannot be a file of a repo snapshot, or undefined when it can: a relative path of plain segments
 * (no empty, `.` or `..` segment, no leading slash, backslash, NUL or other control character, no drive letter).
 */
export function repoPathProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return 'it is not a non-empty string';
  if (name.length > 1024) return 'it is longer than 1024 characters';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'it contains a NUL or control character';
  if (name.includes('\\')) return 'it contains a backslash';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'it is an absolute path';
  if (name.split('/').some((part) => part === '' || part === '.' || part === '..')) return 'it has an empty, "." or ".." segment';
  return undefined;
}

/** A listing entry we can trust: a safe path, and a size and hashes of the right shape. */
function checkSibling(entry: unknown, repoId: string): void {
  const sibling = (entry ?? {}) as Partial<HubSibling>;
  const problem = repoPathProblem(sibling.rfilename);
  if (problem !== undefined) {
    throw new HubError('corrupt', `The Hub's file list for ${repoId} has an unusable file name ${JSON.stringify(sibling.rfilename)?.slice(0, 200)}: ${problem}; nothing was downloaded.`,
      ['A real Hub never lists such a name: check the endpoint (HF_ENDPOINT) and any proxy in between.']);
  }
  const size = sibling.lfs?.size ?? sibling.size;
  if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) {
    throw new HubError('corrupt', `The Hub's file list for ${repoId} gives ${sibling.rfilename} the size ${JSON.stringify(size)}; nothing was downloaded.`);
  }
}

interface RepoRevision {
  readonly commit: string;
  readonly siblings: readonly HubSibling[];
}

/** Ask the Hub API for a revision's commit and files. */
export async function fetchRepoRevision(repoId: string, revision: string, options: HubOptions = {}): Promise<RepoRevision> {
  checkRepoId(repoId);
  checkRevision(revision);
  const url = `${endpointOf(options)}/api/models/${repoId}/revision/${encodeURIComponent(revision)}?blobs=true`;
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const attempts = options.retries ?? 5;
  for (let attempt = 1; ; attempt += 1) {
    let response: HttpResponse;
    try {
      response = await httpGet(url, { headers, signal: options.signal, ca: options.ca, env: options.env, idleTimeoutMs: options.idleTimeoutMs });
    } catch (error) {
      if (!(error instanceof NetworkError) || attempt >= attempts || error.code === 'EPROTO') throw asHubNetworkError(error, repoId);
      await sleep((options.retryDelayMs ?? 1000) * 2 ** (attempt - 1), options.signal);
      continue;
    }
    if (response.status !== 200) {
      response.discard();
      if (isRetryableStatus(response.status) && attempt < attempts) {
        await sleep((options.retryDelayMs ?? 1000) * 2 ** (attempt - 1), options.signal);
        continue;
      }
      throw statusError(response.status, `${repoId}@${revision}`, repoId, options.token !== undefined, headerText(response, 'x-error-code'));
    }
    const text = await readBodyText(response, 16 * 1024 * 1024);
    let body: { sha?: unknown; siblings?: unknown };
    try {
      body = (JSON.parse(text) ?? {}) as { sha?: unknown; siblings?: unknown };
    } catch {
      throw new HubError('http', `The answer of ${url} is not JSON (it starts ${JSON.stringify(text.slice(0, 60))}).`,
        ['Is the endpoint (HF_ENDPOINT) a Hugging Face Hub? A proxy or captive portal may be answering instead.']);
    }
    if (typeof body.sha !== 'string' || !isCommitHash(body.sha) || !Array.isArray(body.siblings)) {
      throw new HubError('http', `The Hub's answer for ${repoId}@${revision} has no commit or file list.`);
    }
    // Every name is checked before any file request is made (a name is used in a URL with the token, and as a path).
    for (const sibling of body.siblings as unknown[]) checkSibling(sibling, repoId);
    return { commit: body.sha, siblings: body.siblings as HubSibling[] };
  }
}

function asHubNetworkError(error: unknown, repoId: string): Error {
  if (error instanceof HubError || !(error instanceof NetworkError)) return error as Error;
  return new HubError('network', `Could not reach the Hub for ${repoId}: ${error.message}`,
    ['Check the connection and proxy settings (HTTPS_PROXY, NO_PROXY); HF_ENDPOINT selects a mirror.']);
}

/** git's blob id: sha1("blob <size>\0" + content). */
function gitBlobHasher(size: number) {
  return createHash('sha1').update(`blob ${size}\0`);
}

class RateMeter {
  private samples: { time: number; bytes: number }[] = [];
  add(bytes: number): number {
    const now = performance.now();
    this.samples.push({ time: now, bytes });
    while (this.samples.length > 2 && now - this.samples[0].time > 3000) this.samples.shift();
    const first = this.samples[0];
    const elapsed = (now - first.time) / 1000;
    return elapsed > 0 ? (bytes - first.bytes) / elapsed : 0;
  }
}

/** Take the blob's download lock; a lock held by a live process on this machine means "busy". */
function acquireLock(lockFile: string, file: string): () => void {
  const tryCreate = (): boolean => {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return false;
    }
  };
  if (!tryCreate()) {
    const owner = Number(fs.readFileSync(lockFile, 'utf8').trim());
    let alive = false;
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid) {
      try {
        process.kill(owner, 0);
        alive = true;
      } catch (error) {
        alive = (error as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (alive) {
      throw new HubError('busy', `Another process (pid ${owner}) is downloading ${file}.`, [`Wait for it to finish, or delete ${lockFile} if it is gone.`]);
    }
    fs.rmSync(lockFile, { force: true });
    if (!tryCreate()) throw new HubError('busy', `Another process is downloading ${file}.`);
  }
  return () => fs.rmSync(lockFile, { force: true });
}

interface FileJob {
  readonly sibling: HubSibling;
  readonly size: number;
  /** The blob name: LFS sha256 or git blob sha1. */
  readonly etag: string;
  readonly sha256?: string;
}

/**
 * Download one file into blobs/<etag> (resuming `.incomplete`), verifying size and hash. Returns bytes transferred.
 */
async function downloadBlob(repoId: string, commit: string, repoDir: string, job: FileJob, options: HubOptions,
  progress: (fileBytes: number, rate: number, phase: HubProgress['phase']) => void): Promise<number> {
  const target = blobFile(repoDir, job.etag);
  const partial = `${target}.incomplete`;
  const url = `${endpointOf(options)}/${repoId}/resolve/${commit}/${encodePath(job.sibling.rfilename)}`;
  const attempts = options.retries ?? 5;
  const meter = new RateMeter();
  let transferred = 0;
  let restartedAfterMismatch = false;
  for (let attempt = 1; ; attempt += 1) {
    options.signal?.throwIfAborted();
    let offset = fs.existsSync(partial) ? fs.statSync(partial).size : 0;
    if (offset > job.size) {
      fs.rmSync(partial, { force: true });
      offset = 0;
    }
    const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
    if (offset > 0) headers.range = `bytes=${offset}-`;
    let response: HttpResponse | undefined;
    try {
      response = await httpGet(url, { headers, signal: options.signal, ca: options.ca, env: options.env, idleTimeoutMs: options.idleTimeoutMs });
      if (response.status === 416 && offset > 0) {
        // Our partial file is at least as long as the file: start over.
        response.discard();
        fs.rmSync(partial, { force: true });
        continue;
      }
      if (response.status !== 200 && response.status !== 206) {
        response.discard();
        if (isRetryableStatus(response.status) && attempt < attempts) {
          options.log?.(`hub: ${job.sibling.rfilename}: HTTP ${response.status}, retrying (${attempt}/${attempts - 1})`);
          await sleep((options.retryDelayMs ?? 1000) * 2 ** (attempt - 1), options.signal);
          continue;
        }
        throw statusError(response.status, `${repoId}: file ${job.sibling.rfilename}`, repoId, options.token !== undefined, headerText(response, 'x-error-code'));
      }
      let append = false;
      if (response.status === 206) {
        const range = /^bytes (\d+)-/.exec(headerText(response, 'content-range') ?? '');
        append = range !== null && Number(range[1]) === offset;
        if (!append) {
          response.discard();
          fs.rmSync(partial, { force: true });
          continue;
        }
      }
      if (!append) offset = 0;
      // Hash the bytes already on disk, then the new ones as they arrive.
      const sha256 = createHash('sha256');
      const sha1 = gitBlobHasher(job.size);
      if (append) {
        for await (const chunk of fs.createReadStream(partial)) {
          sha256.update(chunk as Buffer);
          sha1.update(chunk as Buffer);
        }
      }
      const out = await fsp.open(partial, append ? 'a' : 'w');
      let fileBytes = offset;
      let lastReport = 0;
      try {
        const chunks = response.body[Symbol.asyncIterator]();
        for (;;) {
          let next: IteratorResult<unknown>;
          try {
            next = await chunks.next();
          } catch (error) {
            // Errors of the body stream are transport failures (reset, "aborted", idle timeout); write errors
            // (a full disk) below are not, and are not retried.
            throw error instanceof NetworkError || options.signal?.aborted ? error
              : new NetworkError((error as Error).message, (error as NodeJS.ErrnoException).code);
          }
          if (next.done) break;
          const buffer = next.value as Buffer;
          if (fileBytes + buffer.length > job.size) {
            throw new HubError('corrupt', `${job.sibling.rfilename} is longer than the ${job.size} bytes the Hub reported; the download was stopped there and deleted.`,
              ['Run the download again; if it keeps failing, a proxy or mirror may be altering the file.']);
          }
          await out.write(buffer);
          sha256.update(buffer);
          sha1.update(buffer);
          fileBytes += buffer.length;
          transferred += buffer.length;
          const now = performance.now();
          if (now - lastReport > 100) {
            lastReport = now;
            progress(fileBytes, meter.add(transferred), 'downloading');
          }
        }
      } finally {
        await out.close();
      }
      progress(fileBytes, meter.add(transferred), 'verifying');
      if (fileBytes !== job.size) {
        // The body ended early without an error (a proxy closing cleanly): resume like a dropped connection.
        throw new NetworkError(`${job.sibling.rfilename}: connection closed after ${fileBytes} of ${job.size} bytes`, 'ECONNRESET');
      }
      const expected = job.sha256 ?? job.etag;
      const actual = job.sha256 ? sha256.digest('hex') : sha1.digest('hex');
      if (actual !== expected) {
        fs.rmSync(partial, { force: true });
        if (offset > 0 && !restartedAfterMismatch) {
          // A resumed transfer may have stitched two different versions together: one clean retry.
          restartedAfterMismatch = true;
          options.log?.(`hub: ${job.sibling.rfilename}: hash mismatch after resuming; downloading it again from the start`);
          continue;
        }
        throw new HubError('corrupt', `${job.sibling.rfilename} from ${repoId}@${commit.slice(0, 12)} is corrupted ` +
          `(${job.sha256 ? 'sha256' : 'git blob sha1'} ${actual.slice(0, 16)}…, expected ${expected.slice(0, 16)}…); the download was deleted.`,
          ['Run the download again; if it keeps failing, a proxy or mirror may be altering the file.']);
      }
      await fsp.rename(partial, target);
      // The sha256 was just verified: the first model load need not read the file again for its identity.
      if (job.sha256) rememberFileContentHash(target, job.sha256);
      return transferred;
    } catch (error) {
      response?.body.destroy();
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      if (!(error instanceof NetworkError)) {
        // Only a dropped connection keeps the partial file (to resume); anything else removes it.
        fs.rmSync(partial, { force: true });
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOSPC' || code === 'EDQUOT') {
          throw new HubError('no-space', `No space left in ${path.dirname(target)} while downloading ${job.sibling.rfilename} (${formatSize(job.size)}); the partial file was removed.`,
            ['Free some space, or point HF_HUB_CACHE at a larger disk.']);
        }
        throw error;
      }
      if (error.code === 'EPROTO') throw new HubError('network', `Downloading ${job.sibling.rfilename} from ${repoId}: ${error.message}.`);
      if (attempt >= attempts) {
        throw new HubError('network', `Downloading ${job.sibling.rfilename} from ${repoId} failed after ${attempts} attempts: ${error.message}`,
          ['The partial file is kept and the next attempt resumes it. Check the connection and proxy settings (HTTPS_PROXY, NO_PROXY).']);
      }
      options.log?.(`hub: ${job.sibling.rfilename}: ${error.message}; resuming (${attempt}/${attempts - 1})`);
      await sleep((options.retryDelayMs ?? 1000) * 2 ** (attempt - 1), options.signal);
    }
  }
}

/** Download (or find in the cache) a model's files for one variant; returns the snapshot folder. */
export async function downloadHubModel(repoId: string, options: HubOptions = {}): Promise<HubDownloadResult> {
  const revision = options.revision ?? 'main';
  const cacheDir = options.cacheDir ?? hubCacheDir(options.env ?? process.env);
  const repoDir = repoFolder(cacheDir, repoId);
  options.onProgress?.({ phase: 'resolving', file: '', fileBytes: 0, fileTotal: 0, bytes: 0, total: 0, bytesPerSecond: 0 });
  const { commit, siblings } = await fetchRepoRevision(repoId, revision, options);
  const variant = options.variant === undefined || options.variant === 'auto' ? autoVariant(siblings) : options.variant;
  const jobs: FileJob[] = selectVariantFiles(siblings, variant, repoId).map((sibling) => {
    const size = sibling.lfs?.size ?? sibling.size;
    const etag = sibling.lfs?.sha256 ?? sibling.blobId;
    if (size === undefined || etag === undefined) {
      throw new HubError('http', `The Hub did not report the size and hash of ${sibling.rfilename}; cannot verify the download.`);
    }
    return { sibling, size, etag, sha256: sibling.lfs?.sha256 };
  });
  const total = jobs.reduce((sum, job) => sum + job.size, 0);
  fs.mkdirSync(path.join(repoDir, 'blobs'), { recursive: true });
  checkFreeSpace(repoDir, jobs);
  let done = 0;
  let downloadedBytes = 0;
  const files: HubFileResult[] = [];
  for (const job of jobs) {
    const target = blobFile(repoDir, job.etag);
    const report = (fileBytes: number, rate: number, phase: HubProgress['phase']) => options.onProgress?.({
      phase, file: job.sibling.rfilename, fileBytes, fileTotal: job.size, bytes: done + fileBytes, total, bytesPerSecond: rate,
    });
    const existing = fs.existsSync(target) ? fs.statSync(target).size : -1;
    if (existing === job.size) {
      report(job.size, 0, 'cached');
      files.push({ path: job.sibling.rfilename, size: job.size, cached: true });
    } else {
      if (existing >= 0) fs.rmSync(target, { force: true });
      const release = acquireLock(`${target}.lock`, job.sibling.rfilename);
      try {
        downloadedBytes += await downloadBlob(repoId, commit, repoDir, job, options, report);
      } finally {
        release();
      }
      files.push({ path: job.sibling.rfilename, size: job.size, cached: false });
    }
    linkSnapshotFile(repoDir, commit, job.sibling.rfilename, job.etag);
    done += job.size;
  }
  writeRef(repoDir, revision, commit);
  options.onProgress?.({ phase: 'done', file: '', fileBytes: 0, fileTotal: 0, bytes: total, total, bytesPerSecond: 0 });
  return { repoId, revision, commit, dir: snapshotDir(repoDir, commit), variant, files, downloadedBytes };
}

function formatSize(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** Refuse before downloading when the disk cannot hold the files still missing (plus 64 MiB of headroom). */
function checkFreeSpace(repoDir: string, jobs: readonly FileJob[]): void {
  const needed = jobs.filter((job) => {
    const target = blobFile(repoDir, job.etag);
    return !(fs.existsSync(target) && fs.statSync(target).size === job.size);
  }).reduce((sum, job) => sum + job.size, 0);
  if (needed === 0) return;
  let free: number;
  try {
    const stats = fs.statfsSync(path.join(repoDir, 'blobs'));
    free = Number(stats.bavail) * Number(stats.bsize);
  } catch {
    return; // unknown (statfs unsupported): the write errors are handled
  }
  if (free < needed + 64 * 1024 * 1024) {
    throw new HubError('no-space', `The download needs ${formatSize(needed)}, but ${path.join(repoDir, 'blobs')} has only ${formatSize(free)} free; nothing was downloaded.`,
      ['Free some space, or point HF_HUB_CACHE at a larger disk.']);
  }
}

/** `hf:org/name[@revision]` or `org/name[@revision]` → parts. */
export function parseHubSpec(spec: string): { repoId: string; revision: string } {
  const body = spec.startsWith('hf:') ? spec.slice(3) : spec;
  const at = body.lastIndexOf('@');
  const repoId = at > 0 ? body.slice(0, at) : body;
  const revision = at > 0 ? body.slice(at + 1) : 'main';
  checkRepoId(repoId);
  checkRevision(revision);
  return { repoId, revision };
}

/** The cached snapshot folder of an `hf:` spec when its revision resolves locally and holds the variant's files. */
export function findCachedHubSnapshot(spec: string, variant: HubVariant, cacheDir: string): string | undefined {
  const { repoId, revision } = parseHubSpec(spec);
  const repoDir = repoFolder(cacheDir, repoId);
  const commit = readRef(repoDir, revision);
  if (!commit) return undefined;
  const dir = snapshotDir(repoDir, commit);
  if (variant !== SAFETENSORS_VARIANT) {
    const standard = /^[\w-]+$/.test(variant) && graphCandidates(variantFileName(variant)).some((name) => fs.existsSync(path.join(dir, name)));
    if (!standard) {
      // An onnxruntime-genai folder of the snapshot (its graph present).
      const genai = genaiFolderFor(genaiFolders(dir).map((folder) => (folder === '.' ? 'genai_config.json' : `${folder}/genai_config.json`)), variant, false);
      return genai !== undefined && fs.existsSync(path.join(dir, genai, 'model.onnx')) ? dir : undefined;
    }
  }
  const hasWeights = variant === SAFETENSORS_VARIANT ? hasCachedCheckpoint(dir)
    : graphCandidates(variantFileName(variant)).some((name) => fs.existsSync(path.join(dir, name)));
  return hasWeights && REQUIRED_FILES.every((name) => fs.existsSync(path.join(dir, name))) ? dir : undefined;
}

/** model.safetensors, or the index and every shard it names, present in a snapshot. */
function hasCachedCheckpoint(dir: string): boolean {
  if (fs.existsSync(path.join(dir, CHECKPOINT_SINGLE))) return true;
  try {
    const index = JSON.parse(fs.readFileSync(path.join(dir, CHECKPOINT_INDEX), 'utf8')) as { weight_map?: Record<string, string> };
    const shards = new Set(Object.values(index.weight_map ?? {}));
    return shards.size > 0 && [...shards].every((shard) => CHECKPOINT_SHARD.test(shard) && fs.existsSync(path.join(dir, shard)));
  } catch {
    return false;
  }
}

/**
 * The local folder for an `hf:` spec: the cached snapshot when the revision resolves locally and has the variant's
 * graph (no network needed, as with `HF_HUB_OFFLINE=1`), else a download.
 */
export async function resolveHubModel(spec: string, options: HubOptions = {}): Promise<string> {
  const { repoId, revision } = parseHubSpec(spec);
  const env = options.env ?? process.env;
  const cacheDir = options.cacheDir ?? hubCacheDir(env);
  const variant = options.variant ?? 'fp32';
  const cached = variant === 'auto'
    ? [SAFETENSORS_VARIANT, 'fp32', 'fp16', 'q8'].map((candidate) => findCachedHubSnapshot(spec, candidate, cacheDir)).find((dir) => dir !== undefined)
    : findCachedHubSnapshot(spec, variant, cacheDir);
  if (cached) return cached;
  if (env.HF_HUB_OFFLINE === '1' || env.HF_HUB_OFFLINE?.toLowerCase() === 'true') {
    throw new HubError('offline', `${repoId}@${revision} (${variant}) is not in the Hub cache ${cacheDir} and HF_HUB_OFFLINE is set.`,
      [`Download it first: spacetime-probe models download ${repoId}${revision !== 'main' ? ` --revision ${revision}` : ''} --variant ${variant}`]);
  }
  return (await downloadHubModel(repoId, { ...options, revision, variant, cacheDir })).dir;
}

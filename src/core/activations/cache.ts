/**
 * @file The activation cache: extraction is the expensive step, so never do it twice.
 *
 * Key: (model fingerprint — content hash of graph/weights and tokenizer —, prompt template, layer count, hidden
 * size, storage dtype, token read — entity-last or prompt-last) selects a namespace folder; inside it, SHA-256 of
 * the prompt text selects a record holding that prompt's vectors (at the token read) for every layer.
 *
 * Layout (designed for 50 GB-scale runs, no central index to contend for):
 *   <root>/v1/<namespace>/namespace.json   what the namespace is (model id, template, shapes) — for `cache info`
 *   <root>/v1/<namespace>/<chunk>.chunk    append-only records (cacheFormat.ts); each chunk has exactly one writer,
 *                                          the session that created it, so writers never interleave
 *   <root>/v1/<namespace>/<chunk>.idx      the chunk's index, rewritten whole (temp + rename) every `indexEvery`
 *                                          records and at close, so readers never see a half-written index
 * Chunk names start with a base-36 timestamp, so a later chunk wins when a key appears twice (a recomputation
 * after a corrupt record). A chunk's mtime is its LRU clock: writing it or reading a hit from it sets it to now;
 * eviction deletes whole chunks, oldest first, until the total is under the cap.
 *
 * Safety: every record carries CRC-32s of its header and payload and its own key; a lookup that finds a bad
 * record (bit flip, truncation, a chunk evicted or cleared by another process) reports a miss — so the caller
 * recomputes — and warns. A writer killed mid-record leaves a torn tail that the next reader's scan stops at; a
 * full disk or any write error disables caching for the rest of the session with a warning, never the results.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomicWrite';
import {
  bytesPerValue, decodeIndex, decodeRecord, decodeRecordHeader, encodeIndex, encodeRecord, RECORD_HEADER_BYTES, recordKey,
  type CacheDType, type IndexEntry,
} from './cacheFormat';
import { roundToFloat16InPlace } from '../util/float16';
import { processAlive } from './outputFolders';
import type { TokenChoice } from '../model/types';

export type { CacheDType } from './cacheFormat';

const LAYOUT = 'v1';
const GiB = 1024 ** 3;
/** Coalesced reads stay under this many bytes. */
const MAX_READ_BYTES = 8 * 1024 * 1024;
/** Offsets are u32 in the index. */
const MAX_CHUNK_BYTES = 2 ** 32 - 1;

export interface CacheFaults {
  /** Called before every chunk write with the number of bytes about to be written; throw to simulate ENOSPC etc. */
  beforeWrite?(chunkFile: string, bytes: number): void;
  /** Called before a namespace folder is created or opened; throw to simulate EROFS, EACCES… */
  beforeNamespace?(dir: string): void;
}

export interface ActivationCacheOptions {
  /** Cache root; default `$SPACETIME_PROBE_CACHE_DIR` or `$XDG_CACHE_HOME/spacetime-probe/activations`. */
  readonly dir?: string;
  /** Size cap over all namespaces, enforced by LRU eviction of whole chunks (default 10 GiB). */
  readonly maxBytes?: number;
  /** Record precision (default float32: cached vectors are bit-identical to fresh ones). */
  readonly dtype?: CacheDType;
  /** A writer starts a new chunk past this size (default 256 MiB). */
  readonly chunkBytes?: number;
  /** Records between index rewrites while writing (default 4096). */
  readonly indexEvery?: number;
  /** Warnings and eviction notices, one line each. */
  readonly log?: (line: string) => void;
  /** Fault injection for tests. */
  readonly faults?: CacheFaults;
}

/** What identifies a namespace: vectors are reused only when all of these match. */
export interface CacheNamespaceKey {
  /** ModelInfo.fingerprint: content hash of model graph/weights and tokenizer. */
  readonly fingerprint: string;
  /** The prompt template (e.g. "{name}"); texts are the prompts after substitution. */
  readonly template: string;
  /**
   * Which token was read. 'prompt-last' (and absent) keep the key of caches written before the choice existed,
   * which read the prompt's last token; 'entity-last' is a key of its own.
   */
  readonly token?: TokenChoice;
  readonly numLayers: number;
  readonly hiddenSize: number;
  /** Shown by `cache info`; not part of the key. */
  readonly modelId?: string;
}

/**
 * The seam the extraction engine calls (extract.ts's `ActivationCache`); vectors are float32, numLayers · hiddenSize
 * per text, row-major by layer — either one array per text or one flat [texts, numLayers · hiddenSize] array.
 */
export interface ActivationCacheSeam {
  lookup(texts: readonly string[]): Promise<(Float32Array | undefined)[]>;
  store(texts: readonly string[], vectors: Float32Array | readonly Float32Array[]): Promise<void>;
}

export interface CacheSessionStats {
  hits: number;
  misses: number;
  stored: number;
  /** Records found damaged or missing on disk and reported as misses (to be recomputed). */
  corrupt: number;
}

export interface NamespaceInfo {
  readonly id: string;
  readonly modelId?: string;
  readonly fingerprint?: string;
  readonly template?: string;
  readonly token?: TokenChoice;
  readonly numLayers?: number;
  readonly hiddenSize?: number;
  readonly dtype?: CacheDType;
  readonly chunks: number;
  /** Records listed in chunk indexes (records of a chunk still being written may not be counted yet). */
  readonly records: number;
  readonly bytes: number;
  readonly lastUsed?: string;
}

export interface CacheInfo {
  readonly dir: string;
  readonly maxBytes: number;
  readonly bytes: number;
  readonly namespaces: readonly NamespaceInfo[];
}

interface NamespaceMeta {
  readonly layout: string;
  readonly modelId?: string;
  readonly fingerprint: string;
  readonly template: string;
  readonly token?: TokenChoice;
  readonly numLayers: number;
  readonly hiddenSize: number;
  readonly dtype: CacheDType;
  readonly createdAt: string;
}

export function defaultCacheDir(): string {
  const fromEnv = process.env.SPACETIME_PROBE_CACHE_DIR;
  if (fromEnv) return path.resolve(fromEnv);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'spacetime-probe', 'activations');
}

function namespaceId(key: CacheNamespaceKey, dtype: CacheDType): string {
  const parts: (string | number)[] = [LAYOUT, key.fingerprint, key.template, key.numLayers, key.hiddenSize, dtype];
  if (key.token !== undefined && key.token !== 'prompt-last') parts.push(`token=${key.token}`);
  return recordKey(parts.join('\u0000'));
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Chunk files: `<base-36 time>-<base-36 pid>-<hex>.chunk`. */
const CHUNK_NAME = /^[0-9a-z]+-[0-9a-z]+-[0-9a-f]+\.chunk$/;
/** Files a namespace folder may hold: chunks, their indexes, atomic-write temporaries and the marker. */
const OUR_NAMESPACE_FILE = /^([0-9a-z]+-[0-9a-z]+-[0-9a-f]+\.(chunk|idx)|namespace\.json|\..+\.\d+-[0-9a-f]+\.tmp)$/;

/** The namespace marker of folder `id`, or undefined when the folder is not one of our namespaces. */
async function readNamespaceMeta(dir: string, id: string): Promise<NamespaceMeta | undefined> {
  if (!/^[0-9a-f]{32}$/.test(id)) return undefined;
  try {
    const meta = JSON.parse(await fsp.readFile(path.join(dir, 'namespace.json'), 'utf8')) as NamespaceMeta;
    if (meta?.layout !== LAYOUT || typeof meta.fingerprint !== 'string' || typeof meta.template !== 'string') return undefined;
    return namespaceId(meta, meta.dtype) === id ? meta : undefined;
  } catch {
    return undefined;
  }
}

function describe(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}…` : text);
}


function newChunkId(): string {
  return `${Date.now().toString(36).padStart(9, '0')}-${process.pid.toString(36)}-${randomBytes(4).toString('hex')}`;
}

interface ChunkState {
  readonly id: string;
  readonly file: string;
  handle?: fsp.FileHandle;
  /** Hits were read from it this session (its mtime is bumped at close). */
  used: boolean;
  /** Missing or unreadable: its entries are dropped. */
  gone: boolean;
}

interface Location {
  readonly chunk: ChunkState;
  readonly offset: number;
  readonly bytes: number;
}

interface Writer {
  readonly chunk: ChunkState;
  readonly handle: fsp.FileHandle;
  position: number;
  readonly entries: IndexEntry[];
  unindexed: number;
}

/** The cache root: namespaces, info, clear and eviction. */
export class ActivationCache {
  readonly dir: string;
  readonly maxBytes: number;
  readonly dtype: CacheDType;
  /** Chunks being written by sessions of this process: never evicted. */
  private readonly activeChunks = new Set<string>();

  constructor(private readonly options: ActivationCacheOptions = {}) {
    this.dir = path.resolve(options.dir ?? defaultCacheDir());
    this.maxBytes = options.maxBytes ?? 10 * GiB;
    this.dtype = options.dtype ?? 'float32';
  }

  private get layoutDir(): string {
    return path.join(this.dir, LAYOUT);
  }

  /** Open (creating if needed) the namespace for a model/template; loads its indexes. */
  async namespace(key: CacheNamespaceKey): Promise<CacheNamespace> {
    if (!key.fingerprint) throw new Error('activation cache: the model has no fingerprint; refusing to cache under an empty key');
    const id = namespaceId(key, this.dtype);
    const dir = path.join(this.layoutDir, id);
    this.options.faults?.beforeNamespace?.(dir);
    await fsp.mkdir(dir, { recursive: true });
    const metaFile = path.join(dir, 'namespace.json');
    const meta: NamespaceMeta = {
      layout: LAYOUT, modelId: key.modelId, fingerprint: key.fingerprint, template: key.template, token: key.token ?? 'prompt-last',
      numLayers: key.numLayers, hiddenSize: key.hiddenSize, dtype: this.dtype, createdAt: new Date().toISOString(),
    };
    if (!fs.existsSync(metaFile)) await writeFileAtomic(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
    const namespace = new CacheNamespace(this, dir, key, this.dtype, this.options, this.activeChunks);
    await namespace.load();
    return namespace;
  }

  /** Sizes and contents per namespace. */
  async info(): Promise<CacheInfo> {
    const namespaces: NamespaceInfo[] = [];
    let total = 0;
    for (const id of await listDir(this.layoutDir)) {
      const dir = path.join(this.layoutDir, id);
      // Only folders that carry our marker (namespace.json of this layout, named by its own key) are ours to
      // count, clear or evict: anything else someone put under the cache root is left alone.
      const meta = await readNamespaceMeta(dir, id);
      if (meta === undefined) continue;
      let bytes = 0;
      let chunks = 0;
      let records = 0;
      let lastUsed = 0;
      for (const name of await listDir(dir)) {
        const stat = await statOrUndefined(path.join(dir, name));
        if (!stat) continue;
        bytes += stat.size;
        if (name.endsWith('.chunk')) {
          chunks += 1;
          lastUsed = Math.max(lastUsed, stat.mtimeMs);
        } else if (name.endsWith('.idx')) {
          const index = decodeIndex(await fsp.readFile(path.join(dir, name)).catch(() => Buffer.alloc(0)));
          records += index?.entries.length ?? 0;
        }
      }
      total += bytes;
      namespaces.push({
        id, modelId: meta.modelId, fingerprint: meta.fingerprint, template: meta.template, token: meta.token, numLayers: meta.numLayers,
        hiddenSize: meta.hiddenSize, dtype: meta.dtype, chunks, records, bytes,
        lastUsed: lastUsed > 0 ? new Date(lastUsed).toISOString() : undefined,
      });
    }
    namespaces.sort((a, b) => (b.lastUsed ?? '').localeCompare(a.lastUsed ?? ''));
    return { dir: this.dir, maxBytes: this.maxBytes, bytes: total, namespaces };
  }

  /** Delete every namespace (or those whose model fingerprint is given). Returns the bytes freed. */
  async clear(fingerprint?: string): Promise<{ readonly bytes: number; readonly namespaces: number }> {
    const info = await this.info();
    let bytes = 0;
    let namespaces = 0;
    for (const namespace of info.namespaces) {
      if (fingerprint !== undefined && namespace.fingerprint !== fingerprint) continue;
      const dir = path.join(this.layoutDir, namespace.id);
      // Our files first (chunks, indexes, temporaries, the marker last), then the folder only if that emptied it.
      const names = await listDir(dir);
      for (const name of names.filter((entry) => OUR_NAMESPACE_FILE.test(entry) && entry !== 'namespace.json')) await fsp.rm(path.join(dir, name), { force: true });
      if ((await listDir(dir)).every((entry) => entry === 'namespace.json')) await fsp.rm(dir, { recursive: true, force: true });
      bytes += namespace.bytes;
      namespaces += 1;
    }
    return { bytes, namespaces };
  }

  /** Evict least-recently-used chunks until the cache is under `maxBytes` (never a chunk being written here). */
  async enforceCap(maxBytes = this.maxBytes): Promise<{ readonly evictedChunks: number; readonly evictedBytes: number }> {
    interface Candidate { file: string; index: string; bytes: number; mtime: number }
    const candidates: Candidate[] = [];
    let total = 0;
    for (const id of await listDir(this.layoutDir)) {
      const dir = path.join(this.layoutDir, id);
      if (await readNamespaceMeta(dir, id) === undefined) continue;
      for (const name of await listDir(dir)) {
        const file = path.join(dir, name);
        const stat = await statOrUndefined(file);
        if (!stat) continue;
        total += stat.size;
        if (!CHUNK_NAME.test(name)) continue;
        const index = file.replace(/\.chunk$/, '.idx');
        const indexStat = await statOrUndefined(index);
        candidates.push({ file, index, bytes: stat.size + (indexStat?.size ?? 0), mtime: stat.mtimeMs });
      }
    }
    if (total <= maxBytes) return { evictedChunks: 0, evictedBytes: 0 };
    candidates.sort((a, b) => a.mtime - b.mtime);
    let evictedChunks = 0;
    let evictedBytes = 0;
    for (const candidate of candidates) {
      if (total <= maxBytes) break;
      if (this.activeChunks.has(candidate.file)) continue;
      // Index first: a reader that loads the namespace meanwhile then scans the chunk or finds it gone — both safe.
      await fsp.rm(candidate.index, { force: true });
      await fsp.rm(candidate.file, { force: true });
      total -= candidate.bytes;
      evictedChunks += 1;
      evictedBytes += candidate.bytes;
    }
    if (evictedChunks > 0) {
      this.options.log?.(`activation cache: evicted ${evictedChunks} least recently used chunk(s), ${formatBytes(evictedBytes)}, ` +
        `to stay under ${formatBytes(maxBytes)}`);
    }
    return { evictedChunks, evictedBytes };
  }
}

/** One (model, template) namespace: lookups and stores for an extraction run. Call `close()` when done. */
export class CacheNamespace implements ActivationCacheSeam {
  readonly stats: CacheSessionStats = { hits: 0, misses: 0, stored: 0, corrupt: 0 };
  readonly warnings: string[] = [];
  private readonly index = new Map<string, Location>();
  private readonly chunks = new Map<string, ChunkState>();
  private readonly valuesPerRecord: number;
  private readonly recordBytes: number;
  private writer: Writer | undefined;
  private writesDisabled = false;
  private closed = false;
  /** Unusable records found at lookup, per chunk id. */
  private readonly corruptByChunk = new Map<string, number>();
  /** Serialises stores (and the close that follows them). */
  private queue: Promise<void> = Promise.resolve();

  /** @internal Created by ActivationCache.namespace. */
  constructor(
    private readonly cache: ActivationCache,
    readonly dir: string,
    readonly key: CacheNamespaceKey,
    readonly dtype: CacheDType,
    private readonly options: ActivationCacheOptions,
    private readonly activeChunks: Set<string>,
  ) {
    this.valuesPerRecord = key.numLayers * key.hiddenSize;
    this.recordBytes = RECORD_HEADER_BYTES + this.valuesPerRecord * bytesPerValue(dtype);
  }

  /** Number of distinct prompts with a (not yet verified) record. */
  get size(): number {
    return this.index.size;
  }

  private warn(line: string): void {
    this.warnings.push(line);
    this.options.log?.(`activation cache: ${line}`);
  }

  /** @internal Build the in-memory index from the chunk indexes, scanning chunk tails they do not cover. */
  async load(): Promise<void> {
    const names = await listDir(this.dir);
    const ids = [...new Set(names.filter((name) => /\.(chunk|idx)$/.test(name)).map((name) => name.replace(/\.(chunk|idx)$/, '')))].sort();
    for (const id of ids) {
      const file = path.join(this.dir, `${id}.chunk`);
      const stat = await statOrUndefined(file);
      if (!stat) continue; // index of an evicted chunk
      const chunk: ChunkState = { id, file, used: false, gone: false };
      this.chunks.set(id, chunk);
      let covered = 0;
      const indexBytes = await fsp.readFile(path.join(this.dir, `${id}.idx`)).catch(() => undefined);
      if (indexBytes) {
        const decoded = decodeIndex(indexBytes);
        if (decoded && decoded.coveredBytes <= stat.size) {
          for (const entry of decoded.entries) {
            if (entry.bytes === this.recordBytes) this.index.set(entry.key, { chunk, offset: entry.offset, bytes: entry.bytes });
          }
          covered = decoded.coveredBytes;
        } else {
          this.warn(`index ${id}.idx is damaged or does not match its chunk; re-scanning the chunk`);
        }
      }
      if (stat.size > covered) await this.scanTail(chunk, covered, stat.size);
    }
  }

  /** Index the valid records of a chunk from `start` (records the index does not cover yet). */
  private async scanTail(chunk: ChunkState, start: number, end: number): Promise<void> {
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(chunk.file, 'r');
    } catch {
      return;
    }
    try {
      let offset = start;
      const buffer = Buffer.alloc(Math.max(this.recordBytes, Math.min(MAX_READ_BYTES, end - start)));
      let bufferStart = -1;
      let bufferLength = 0;
      let badRecords = 0;
      while (offset + this.recordBytes <= end) {
        if (bufferStart < 0 || offset + this.recordBytes > bufferStart + bufferLength) {
          const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - offset), offset);
          bufferStart = offset;
          bufferLength = bytesRead;
          if (bytesRead < this.recordBytes) break;
        }
        const header = decodeRecordHeader(buffer, offset - bufferStart);
        const check = header ? decodeRecord(buffer, header.key, this.valuesPerRecord, this.dtype, offset - bufferStart) : undefined;
        // Records of a namespace all have the same size and writes never split one across an offset, so a bad
        // record (torn by a crash, zero-filled after a power loss) can be stepped over.
        if (header && check?.ok) this.index.set(header.key, { chunk, offset, bytes: this.recordBytes });
        else badRecords += 1;
        offset += this.recordBytes;
      }
      if (badRecords > 0) this.warn(`chunk ${chunk.id} has ${badRecords} unreadable record(s); they will be recomputed`);
      if (offset < end) {
        if (await this.repairTornTail(chunk, offset)) {
          this.warn(`chunk ${chunk.id} ended in ${end - offset} byte(s) of an interrupted write; removed them (the chunk's writer is gone)`);
        } else {
          this.warn(`chunk ${chunk.id} has ${end - offset} unreadable trailing byte(s) (an interrupted write, or one still in progress); ignoring them`);
        }
      }
    } finally {
      await handle.close();
    }
  }

  /**
   * Cut a torn tail off a chunk whose writer process is gone (its pid is in the chunk id) and that has not been
   * written for a minute, so the next run does not warn again. Returns whether it did.
   */
  private async repairTornTail(chunk: ChunkState, length: number): Promise<boolean> {
    const pid = Number.parseInt(chunk.id.split('-')[1] ?? '', 36);
    if (!Number.isSafeInteger(pid) || pid <= 0 || processAlive(pid)) return false;
    try {
      const stat = await fsp.stat(chunk.file);
      if (Date.now() - stat.mtimeMs < 60_000) return false;
      await fsp.truncate(chunk.file, length);
      return true;
    } catch {
      return false; // read-only cache: warned about instead
    }
  }

  /** Which texts have a record (no disk reads; a record may still turn out damaged at lookup). */
  has(texts: readonly string[]): boolean[] {
    return texts.map((text) => this.index.has(recordKey(text)));
  }

  /** The cached vectors of each text, or undefined (miss, or a damaged record: recompute it). */
  async lookup(texts: readonly string[]): Promise<(Float32Array | undefined)[]> {
    const results: (Float32Array | undefined)[] = new Array(texts.length).fill(undefined);
    const wanted: { position: number; key: string; location: Location }[] = [];
    texts.forEach((text, position) => {
      const key = recordKey(text);
      const location = this.index.get(key);
      if (location && !location.chunk.gone) wanted.push({ position, key, location });
    });
    const byChunk = new Map<ChunkState, typeof wanted>();
    for (const item of wanted) {
      const list = byChunk.get(item.location.chunk) ?? [];
      list.push(item);
      byChunk.set(item.location.chunk, list);
    }
    for (const [chunk, items] of byChunk) {
      items.sort((a, b) => a.location.offset - b.location.offset);
      const handle = await this.readHandle(chunk);
      if (!handle) continue;
      // Coalesce neighbouring records into one read: a re-run reads its records in the order they were written.
      for (let start = 0; start < items.length;) {
        let end = start + 1;
        while (end < items.length
          && items[end].location.offset === items[end - 1].location.offset + items[end - 1].location.bytes
          && items[end].location.offset + items[end].location.bytes - items[start].location.offset <= MAX_READ_BYTES) end += 1;
        const first = items[start].location.offset;
        const length = items[end - 1].location.offset + items[end - 1].location.bytes - first;
        // A fresh ArrayBuffer (byteOffset 0): float32 payloads are 4-byte aligned in it and returned as views.
        const buffer = new Uint8Array(length);
        let bytesRead = 0;
        try {
          ({ bytesRead } = await handle.read(buffer, 0, length, first));
        } catch (error) {
          this.warn(`reading chunk ${chunk.id} failed (${errorCode(error) ?? String(error)}); recomputing its entries`);
        }
        for (let index = start; index < end; index += 1) {
          const item = items[index];
          const at = item.location.offset - first;
          const check = at + item.location.bytes <= bytesRead
            ? decodeRecord(buffer, item.key, this.valuesPerRecord, this.dtype, at)
            : { ok: false as const, reason: 'record is truncated' };
          if (check.ok) {
            results[item.position] = check.values;
            chunk.used = true;
          } else {
            this.stats.corrupt += 1;
            this.index.delete(item.key);
            // One line per damaged chunk (a zeroed chunk has thousands of records); the total is given at close.
            const count = (this.corruptByChunk.get(chunk.id) ?? 0) + 1;
            this.corruptByChunk.set(chunk.id, count);
            if (count === 1) this.warn(`record for ${describe(texts[item.position])} in chunk ${chunk.id} is unusable (${check.reason}); recomputing it (further ones in this chunk are counted, not listed)`);
          }
        }
        start = end;
      }
    }
    for (const result of results) {
      if (result) this.stats.hits += 1;
      else this.stats.misses += 1;
    }
    return results;
  }

  private async readHandle(chunk: ChunkState): Promise<fsp.FileHandle | undefined> {
    if (chunk.handle) return chunk.handle;
    try {
      chunk.handle = await fsp.open(chunk.file, 'r');
      return chunk.handle;
    } catch (error) {
      chunk.gone = true;
      let dropped = 0;
      for (const [key, location] of this.index) {
        if (location.chunk === chunk) {
          this.index.delete(key);
          dropped += 1;
        }
      }
      this.warn(`chunk ${chunk.id} is no longer readable (${errorCode(error) ?? String(error)}: evicted or cleared by another process?); ` +
        `recomputing its ${dropped} record(s)`);
      return undefined;
    }
  }

  /**
   * Store vectors (one per text, or row-major [texts, numLayers·hiddenSize]). In float16 namespaces `vectors` is rounded in place to
   * what a later lookup returns, so a first run and a cached re-run probe identical numbers. Write failures
   * (e.g. a full disk) disable caching for this session with a warning; they never throw.
   */
  store(texts: readonly string[], vectors: Float32Array | readonly Float32Array[]): Promise<void> {
    if (!(vectors instanceof Float32Array)) {
      // One vector per text (the extraction engine's form): check each, then work on one flat array.
      const rows = vectors;
      if (rows.length !== texts.length || rows.some((row) => row.length !== this.valuesPerRecord)) {
        return Promise.reject(new Error(`activation cache: store got ${rows.length} vectors for ${texts.length} texts, each must hold ${this.valuesPerRecord} values`));
      }
      const flat = new Float32Array(texts.length * this.valuesPerRecord);
      rows.forEach((row, index) => flat.set(row, index * this.valuesPerRecord));
      return this.store(texts, flat).then(() => {
        if (this.dtype === 'float16') rows.forEach((row, index) => row.set(flat.subarray(index * this.valuesPerRecord, (index + 1) * this.valuesPerRecord)));
      });
    }
    if (vectors.length !== texts.length * this.valuesPerRecord) {
      return Promise.reject(new Error(`activation cache: store got ${vectors.length} values for ${texts.length} texts × ${this.valuesPerRecord}`));
    }
    if (this.closed) return Promise.reject(new Error('activation cache: namespace is closed'));
    const run = this.queue.then(() => this.storeNow(texts, vectors));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async storeNow(texts: readonly string[], vectors: Float32Array): Promise<void> {
    if (this.writesDisabled || texts.length === 0) {
      // Keep the in-place rounding contract even when not writing.
      if (this.dtype === 'float16') roundToFloat16InPlace(vectors);
      return;
    }
    const records: Buffer[] = [];
    const keys: string[] = [];
    texts.forEach((text, row) => {
      const key = recordKey(text);
      keys.push(key);
      records.push(encodeRecord(key, vectors.subarray(row * this.valuesPerRecord, (row + 1) * this.valuesPerRecord), this.dtype));
    });
    let writer: Writer | undefined;
    try {
      const data = Buffer.concat(records);
      // Offsets are u32 in the index: start a new chunk before a write would cross 4 GiB.
      if (this.writer && this.writer.position + data.length > MAX_CHUNK_BYTES) await this.sealWriter();
      writer = await this.currentWriter();
      this.options.faults?.beforeWrite?.(writer.chunk.file, data.length);
      let written = 0;
      while (written < data.length) {
        const { bytesWritten } = await writer.handle.write(data, written, data.length - written, writer.position + written);
        written += bytesWritten;
      }
      keys.forEach((key, row) => {
        const location = { chunk: writer!.chunk, offset: writer!.position + row * this.recordBytes, bytes: this.recordBytes };
        this.index.set(key, location);
        writer!.entries.push({ key, offset: location.offset, bytes: location.bytes });
      });
      writer.position += data.length;
      writer.unindexed += keys.length;
      this.stats.stored += keys.length;
      if (writer.unindexed >= (this.options.indexEvery ?? 4096)) await this.writeIndex(writer);
      if (writer.position >= (this.options.chunkBytes ?? 256 * 1024 * 1024)) {
        await this.sealWriter();
        await this.cache.enforceCap();
      }
    } catch (error) {
      this.writesDisabled = true;
      const code = errorCode(error);
      this.warn(`writing the cache failed (${code === 'ENOSPC' ? 'disk full, ENOSPC' : code ?? (error as Error).message}); ` +
        'caching is off for the rest of this run (results are unaffected)');
      if (writer) {
        // Cut a partly written batch off so the chunk ends on a record boundary; readers would skip it anyway.
        await writer.handle.truncate(writer.position).catch(() => undefined);
        await this.writeIndex(writer).catch(() => undefined);
      }
    }
  }

  private async currentWriter(): Promise<Writer> {
    if (this.writer) return this.writer;
    const id = newChunkId();
    const file = path.join(this.dir, `${id}.chunk`);
    const handle = await fsp.open(file, 'wx');
    const chunk: ChunkState = { id, file, used: true, gone: false };
    this.chunks.set(id, chunk);
    this.activeChunks.add(file);
    this.writer = { chunk, handle, position: 0, entries: [], unindexed: 0 };
    return this.writer;
  }

  private async writeIndex(writer: Writer): Promise<void> {
    await writeFileAtomic(path.join(this.dir, `${writer.chunk.id}.idx`), encodeIndex(writer.entries, writer.position));
    writer.unindexed = 0;
  }

  private async sealWriter(): Promise<void> {
    const writer = this.writer;
    if (!writer) return;
    this.writer = undefined;
    try {
      await writer.handle.sync().catch(() => undefined);
      await this.writeIndex(writer);
    } finally {
      await writer.handle.close();
      this.activeChunks.delete(writer.chunk.file);
    }
  }

  /** Flush the index, mark the chunks read from as recently used, release files and enforce the size cap. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    for (const [id, count] of this.corruptByChunk) if (count > 1) this.warn(`chunk ${id}: ${count} unusable records in all, recomputed`);
    try {
      await this.sealWriter();
    } catch (error) {
      this.warn(`finishing the cache index failed (${errorCode(error) ?? (error as Error).message}); the next run re-scans the chunk`);
    }
    const now = new Date();
    for (const chunk of this.chunks.values()) {
      if (chunk.handle) await chunk.handle.close().catch(() => undefined);
      chunk.handle = undefined;
      if (chunk.used && !chunk.gone) await fsp.utimes(chunk.file, now, now).catch(() => undefined);
    }
    await this.cache.enforceCap().catch((error: unknown) => this.warn(`eviction failed: ${(error as Error).message}`));
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
}

async function statOrUndefined(file: string): Promise<fs.Stats | undefined> {
  try {
    return await fsp.stat(file);
  } catch {
    return undefined;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/**
 * Open a namespace for a run, or undefined (with one warning) when the cache folder cannot be used at all —
 * read-only, full, not a folder, no permission: caching is off and the run goes on, as for a write error later.
 */
export async function openCacheNamespace(options: ActivationCacheOptions, key: CacheNamespaceKey,
  log?: (line: string) => void): Promise<CacheNamespace | undefined> {
  const cache = new ActivationCache(options);
  try {
    return await cache.namespace(key);
  } catch (error) {
    let code = errorCode(error);
    if (code === 'ENOENT') code = ancestorProblem(cache.dir) ?? code; // a recursive mkdir reports EROFS/EACCES as ENOENT
    const why = code === 'EROFS' ? 'read-only file system' : code === 'ENOSPC' ? 'disk full' : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'ENOTDIR' ? 'a file is in the way of the folder' : code ?? (error as Error).message;
    log?.(`activation cache: ${cache.dir} cannot be used (${why}); caching is off for this run (results are unaffected)`);
    return undefined;
  }
}

/** Why the nearest existing ancestor of `dir` cannot be written to (EROFS, EACCES, ENOTDIR), if it cannot. */
function ancestorProblem(dir: string): string | undefined {
  for (let at = path.dirname(dir); ; at = path.dirname(at)) {
    try {
      const stat = fs.statSync(at);
      if (!stat.isDirectory()) return 'ENOTDIR';
      fs.accessSync(at, fs.constants.W_OK);
      return undefined;
    } catch (error) {
      const code = errorCode(error);
      if (code !== 'ENOENT') return code;
    }
    if (path.dirname(at) === at) return undefined;
  }
}

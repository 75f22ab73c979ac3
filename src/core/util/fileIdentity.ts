/**
 * @file File content identity: SHA-256 of every byte of a file, computed once and remembered in a small cache
 * file keyed by (real path, device, inode, size, mtime, ctime). Any write to the file changes its ctime (which
 * no user tool can set back), so a remembered hash is reused only for the very same bytes; a changed file is
 * hashed again. Used for model weights (ONNX external data, checkpoints): the activation cache's model identity
 * must change whenever any weight byte changes, but hashing tens of GB on every load is not an option.
 *
 * The cache file is `$SPACETIME_PROBE_FILE_HASHES`, else `$XDG_CACHE_HOME/spacetime-probe/file-hashes.json`
 * (~/.cache/…). It is only an accelerator: unreadable, damaged or read-only, it is ignored (the hash is then
 * computed every time) and never makes an identity wrong.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomicSync } from './atomicWrite';

export interface FileIdentityOptions {
  /** The cache file (default: see the file comment); `false`: do not remember. */
  readonly cacheFile?: string | false;
}

const FORMAT = 'spacetime-probe-file-hashes/1';
/** Entries kept (most recently used first); each is ~200 bytes. */
const MAX_ENTRIES = 2000;
const READ_BYTES = 8 * 1024 * 1024;

/** Counters for tests and logs: how many files were hashed in full in this process. */
export const fileIdentityStats = { fullHashes: 0 };

interface Entry {
  readonly key: string;
  readonly sha256: string;
  readonly usedAt: number;
}

export function defaultFileHashCache(): string {
  if (process.env.SPACETIME_PROBE_FILE_HASHES) return path.resolve(process.env.SPACETIME_PROBE_FILE_HASHES);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'spacetime-probe', 'file-hashes.json');
}

/** The identity key of the file's current state; throws (ENOENT…) when it cannot be stat'ed, or is not a regular file. */
function stateKey(file: string): { key: string; size: number } {
  const real = fs.realpathSync(file);
  const stat = fs.statSync(real, { bigint: true });
  if (!stat.isFile()) {
    const error = new Error(`${file} is not a regular file`) as NodeJS.ErrnoException;
    error.code = 'EINVAL';
    error.path = file;
    throw error;
  }
  return { key: [real, stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs].join('\0'), size: Number(stat.size) };
}

function readEntries(cacheFile: string): Entry[] {
  try {
    const parsed = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as { format?: string; entries?: Entry[] };
    if (parsed.format !== FORMAT || !Array.isArray(parsed.entries)) return [];
    return parsed.entries.filter((entry) => typeof entry?.key === 'string' && /^[0-9a-f]{64}$/.test(entry.sha256 ?? ''));
  } catch {
    return [];
  }
}

function remember(cacheFile: string, key: string, sha256: string): void {
  try {
    const entries = readEntries(cacheFile).filter((entry) => entry.key !== key);
    entries.unshift({ key, sha256, usedAt: Date.now() });
    writeFileAtomicSync(cacheFile, JSON.stringify({ format: FORMAT, entries: entries.slice(0, MAX_ENTRIES) }));
  } catch {
    // Read-only or full: the hash is simply computed again next time.
  }
}

function lookup(cacheFile: string | false, key: string): string | undefined {
  if (cacheFile === false) return undefined;
  return readEntries(cacheFile).find((entry) => entry.key === key)?.sha256;
}

/** SHA-256 (hex) of every byte of `file`, remembered across runs while the file is unchanged. */
export function fileContentHashSync(file: string, options: FileIdentityOptions = {}): string {
  const cacheFile = options.cacheFile ?? defaultFileHashCache();
  const { key } = stateKey(file);
  const known = lookup(cacheFile, key);
  if (known) return known;
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    for (;;) {
      const read = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
    }
  } finally {
    fs.closeSync(fd);
  }
  fileIdentityStats.fullHashes += 1;
  const sha256 = hash.digest('hex');
  // Remember it only if the file did not change while it was read.
  if (cacheFile !== false && stateKey(file).key === key) remember(cacheFile, key, sha256);
  return sha256;
}

/** The asynchronous twin of fileContentHashSync (reads on libuv's thread pool). */
export async function fileContentHash(file: string, options: FileIdentityOptions = {}): Promise<string> {
  const cacheFile = options.cacheFile ?? defaultFileHashCache();
  const { key } = stateKey(file);
  const known = lookup(cacheFile, key);
  if (known) return known;
  const hash = createHash('sha256');
  const handle = await fsp.open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  fileIdentityStats.fullHashes += 1;
  const sha256 = hash.digest('hex');
  if (cacheFile !== false && stateKey(file).key === key) remember(cacheFile, key, sha256);
  return sha256;
}

/**
 * Record a hash already verified by other means (the Hub downloader checks every LFS file's sha256), so the
 * first load does not read the file again. Only call with a hash of exactly the file's current bytes.
 */
export function rememberFileContentHash(file: string, sha256: string, options: FileIdentityOptions = {}): void {
  const cacheFile = options.cacheFile ?? defaultFileHashCache();
  if (cacheFile === false || !/^[0-9a-f]{64}$/.test(sha256)) return;
  try {
    remember(cacheFile, stateKey(file).key, sha256);
  } catch {
    // The file vanished: nothing to remember.
  }
}

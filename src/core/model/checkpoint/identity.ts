/**
 * @file The content identity of a checkpoint file, for the activation-cache fingerprint: it must change whenever
 * any byte changes. A Hugging Face cache blob of an LFS file is named by its sha256 (the Hub's etag), so its name
 * is its identity; any other file is hashed in full once, and the hash remembered by (real path, size, mtime,
 * inode) in a small JSON file in the user's cache folder, so a re-run does not read gigabytes again.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../../util/atomicWrite';

const SHA256_NAME = /^[0-9a-f]{64}$/;

function memoFile(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'spacetime-probe', 'file-hashes.json');
}

type Memo = Record<string, { key: string; sha256: string }>;

function readMemo(file: string): Memo {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as Memo) : {};
  } catch {
    return {};
  }
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function checkpointIdentity(realFile: string): Promise<string> {
  const stat = fs.statSync(realFile);
  const statKey = `${stat.size}:${stat.mtimeMs}:${stat.ino}`;
  if (SHA256_NAME.test(path.basename(realFile))) return `blob:${path.basename(realFile)}:${statKey}`;
  const memoPath = memoFile();
  const memo = readMemo(memoPath);
  const known = memo[realFile];
  if (known && known.key === statKey) return `sha256:${known.sha256}`;
  const sha256 = await sha256OfFile(realFile);
  // Remembering is an optimisation: a read-only or full cache folder only means hashing again next time.
  try {
    fs.mkdirSync(path.dirname(memoPath), { recursive: true });
    writeFileAtomicSync(memoPath, JSON.stringify({ ...readMemo(memoPath), [realFile]: { key: statKey, sha256 } }));
  } catch {
    // ignored on purpose (see above)
  }
  return `sha256:${sha256}`;
}

/**
 * @file Atomic file writes: a temporary file in the same folder, then a rename over the target, so a reader never
 * sees half a file and a crash or a full disk leaves the previous version (or nothing) in place. The one helper
 * every writer of results, manifests, caches and exports uses.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** A sibling temporary name unique to this process and call (concurrent writers never share one). */
function temporaryName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/** Write `data` to `file` atomically (creating the folder); on failure the temporary file is removed. */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = temporaryName(file);
  try {
    fs.writeFileSync(temporary, data);
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

/** The asynchronous twin of writeFileAtomicSync. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const temporary = temporaryName(file);
  try {
    await fsp.writeFile(temporary, data);
    await fsp.rename(temporary, file);
  } catch (error) {
    await fsp.rm(temporary, { force: true });
    throw error;
  }
}

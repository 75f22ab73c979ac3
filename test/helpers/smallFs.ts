/**
 * Fault-injection helpers: a small tmpfs (full or read-only folders for real), when this process may mount one
 * (root with CAP_SYS_ADMIN, as in the CI container); tests fall back to injected errors otherwise.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface SmallFs {
  readonly dir: string;
  /** Remount read-only (true) or read-write. */
  setReadOnly(readOnly: boolean): void;
  dispose(): void;
}

/** Mount a tmpfs of `bytes` at a fresh folder, or undefined when mounting is not allowed here. */
export function mountSmallFs(bytes: number): SmallFs | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smallfs-'));
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mount.status !== 0) {
    fs.rmdirSync(dir);
    return undefined;
  }
  return {
    dir,
    setReadOnly(readOnly) {
      const result = spawnSync('mount', ['-o', `remount,${readOnly ? 'ro' : 'rw'}`, dir], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`remount ${dir}: ${result.stderr}`);
    },
    dispose() {
      spawnSync('umount', [dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An Error shaped like Node's file-system errors. */
export function errnoError(code: string, syscall: string, file: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: ${syscall} '${file}'`) as NodeJS.ErrnoException;
  error.code = code;
  error.syscall = syscall;
  error.path = file;
  return error;
}

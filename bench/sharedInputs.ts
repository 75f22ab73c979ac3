/**
 * Benchmarks that use the paper's datasets or the larger model fixtures read them from ../shared (or
 * $SPACETIME_SHARED_DIR): material beside the checkout in CI and on the build machine, not part of the repository.
 * Without it they stop at once and say what is missing and how to point them elsewhere. No test uses this.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, __dirname.includes(`${path.sep}out${path.sep}`) ? '../..' : '..');

export function sharedDir(): string {
  return process.env.SPACETIME_SHARED_DIR ?? path.resolve(root, '..', 'shared');
}

/** A path under the shared folder, e.g. sharedPath('datasets', 'paper', 'world_place.csv'). */
export function sharedPath(...parts: string[]): string {
  return path.join(sharedDir(), ...parts);
}

/** Exit with status 2 and an explanation when `file` (a default under ../shared, or what `flag` gave) is missing. */
export function requireInput(file: string, flag: string): string {
  if (!fs.existsSync(file)) {
    console.error(`bench: ${file} not found. This benchmark's default input is in ../shared (or $SPACETIME_SHARED_DIR), ` +
      `which is beside the checkout in CI but not part of the repository; set SPACETIME_SHARED_DIR or pass ${flag} PATH.`);
    process.exit(2);
  }
  return file;
}

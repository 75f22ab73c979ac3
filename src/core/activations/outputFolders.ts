/**
 * @file The rules for output folders we may replace or delete. Nothing is ever removed unless it is provably
 * ours: an activation folder (our manifest format, and nothing in it but that manifest and the layer files it
 * lists), or a temporary folder of ours (`.<name>.partial-<pid>-<hex>`) whose process is gone and that holds only
 * files we write. Everything else in the way is refused with a message saying why.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_FILE, readActivationManifest } from './manifest';

/** Why a folder is not ours to replace, or undefined when it is (an empty folder counts as ours). */
export function notOurActivationFolder(dir: string): string | undefined {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    return `cannot list it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  if (entries.length === 0) return undefined;
  if (!entries.some((entry) => entry.name === MANIFEST_FILE)) return `it is not an activation folder (no ${MANIFEST_FILE})`;
  let listed: Set<string>;
  try {
    listed = new Set(readActivationManifest(dir).layers.map((layer) => layer.file));
  } catch (error) {
    return `its ${MANIFEST_FILE} is not a Spacetime Probe activation manifest (${(error as Error).message})`;
  }
  const foreign = entries.filter((entry) => !(entry.isFile() && (entry.name === MANIFEST_FILE || listed.has(entry.name))));
  if (foreign.length > 0) {
    return `it holds ${foreign.length} file(s) that are not part of the activation folder (${foreign.slice(0, 3).map((entry) => JSON.stringify(entry.name)).join(', ')}${foreign.length > 3 ? ', …' : ''})`;
  }
  return undefined;
}

/** The temporary sibling name for building `target` (unique to this process and call). */
export function partialName(target: string, random: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.partial-${process.pid}-${random}`);
}

const PARTIAL = /^\.(.+)\.partial-(\d+)-[0-9a-f]+(\.old)?$/;
/** Files our writers create inside a partial folder: layer files, manifest, results, atomic-write temporaries. */
const OUR_FILE = /^(layer_\d+\.(npy|json)|manifest\.json|results\.json|\..+\.\d+-[0-9a-f]+\.tmp)$/;
/** Folders a run's partial folder holds. */
const OUR_FOLDER = /^(activations|layer_predictions|old)$/;

/** True when process `pid` exists (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A folder that holds only what our writers put in partial folders (checked recursively, two levels deep). */
function onlyOurFiles(dir: string, depth = 0): boolean {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  return entries.every((entry) => (entry.isFile() && OUR_FILE.test(entry.name))
    || (entry.isDirectory() && depth < 3 && OUR_FOLDER.test(entry.name) && onlyOurFiles(path.join(dir, entry.name), depth + 1)));
}

/**
 * Remove the partial folders a killed run left next to `target` (`.<name>.partial-<pid>-<hex>`): only those whose
 * process is gone and that hold nothing but our files. Returns the folders removed.
 */
export function removeStalePartials(target: string): string[] {
  const parent = path.dirname(path.resolve(target));
  const base = path.basename(target);
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    // Partials nest (a run's staged folder is itself built in a partial): `..activations.partial-1-ab.partial-1-cd`.
    let inner = name;
    const pids: number[] = [];
    for (let match = PARTIAL.exec(inner); match; match = PARTIAL.exec(inner)) {
      pids.push(Number(match[2]));
      inner = match[1];
    }
    if (pids.length === 0 || inner !== base || pids.some(processAlive)) continue;
    const dir = path.join(parent, name);
    try {
      if (!fs.lstatSync(dir).isDirectory() || !onlyOurFiles(dir)) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Not removable (read-only parent…): harmless, tried again next run.
    }
  }
  return removed;
}

/**
 * Put the finished folder `staged` at `target`: one rename when `target` is absent; otherwise the old folder is
 * renamed aside (`<staged>.old`), `staged` renamed in, and the old one removed. `existed`: the caller found
 * `target` at its start and checked that it is ours. A `target` that appeared meanwhile (another run) is refused, `staged` left for the
 * caller to remove.
 */
export function replaceFolder(staged: string, target: string, existed: boolean): void {
  if (!existed) {
    try {
      fs.renameSync(staged, target);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') throw error;
      throw new FolderRaceError(target);
    }
  }
  const old = `${staged}.old`;
  fs.renameSync(target, old);
  try {
    fs.renameSync(staged, target);
  } catch (error) {
    fs.renameSync(old, target);
    throw error;
  }
  fs.rmSync(old, { recursive: true, force: true });
}

/** Another process created the output folder while we were running. */
export class FolderRaceError extends Error {
  override readonly name = 'FolderRaceError';
  constructor(readonly target: string) {
    super(`${target} was created by someone else (another run?) while this one was running; refusing to replace it, ` +
      'and this run\'s output was discarded. Give each run its own output folder.');
  }
}

/** Why `dir` is not a layer_predictions folder of ours (only layer_###.json files), or undefined when it is. */
export function notOurLayerPredictions(dir: string): string | undefined {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    return `cannot list it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  const foreign = entries.filter((entry) => !(entry.isFile() && /^layer_\d+\.json$/.test(entry.name)));
  return foreign.length === 0 ? undefined : `it holds ${foreign.length} file(s) that are not layer predictions (${JSON.stringify(foreign[0].name)}…)`;
}

/** Partial folders this process is building right now (removed by a hard stop: removeActivePartials). */
const activePartials = new Set<string>();

/** Note a partial folder being built; call the returned function once it is moved into place or removed. */
export function trackPartial(dir: string): () => void {
  activePartials.add(dir);
  return () => { activePartials.delete(dir); };
}

/** Remove every partial folder this process is building (a stop that cannot wait for the normal cleanup). */
export function removeActivePartials(): string[] {
  const removed = [...activePartials];
  for (const dir of removed) fs.rmSync(dir, { recursive: true, force: true });
  activePartials.clear();
  return removed;
}

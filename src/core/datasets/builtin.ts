/**
 * The six built-in datasets shipped in data/builtin/ (built by scripts/build-datasets.mjs, described in DATASETS.md).
 * They are addressed as `builtin:<name>` wherever a dataset path is accepted; `resolveDatasetPath` turns such a
 * reference into the CSV's absolute path and leaves ordinary paths alone.
 *
 * The data folder is found by walking up from this module's folder to the package root (the folder whose
 * package.json is named "spacetime-probe"). That one rule covers every layout the code runs in: the tsc output
 * (out/src/core/datasets/), the esbuild bundles (out/cli.js, out/extension.js) and an installed .vsix
 * (extension/out/extension.js next to extension/package.json and extension/data/builtin/).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DatasetKind } from './types';

export const BUILTIN_PREFIX = 'builtin:';
export const PACKAGE_NAME = 'spacetime-probe';

/** What index.json says about one built-in dataset, plus the CSV's absolute path. */
export interface BuiltinDatasetInfo {
  /** Short name, as in `builtin:<name>`. */
  readonly name: string;
  /** `builtin:<name>`. */
  readonly reference: string;
  readonly title: string;
  readonly kind: DatasetKind;
  readonly rows: number;
  readonly testRows: number;
  /** Licence expression of the data (several sources may apply; DATASETS.md has the details). */
  readonly licence: string;
  /** The licence of each source, in words. */
  readonly licenceDetail: string;
  /** Where the data comes from, in one line. */
  readonly source: string;
  readonly description: string;
  /** What the `block` column holds (country, state, borough, century, decade) for holdout experiments. */
  readonly blockKind: string;
  readonly columns: readonly string[];
  readonly sha256: string;
  /** Absolute path of the CSV. */
  readonly path: string;
}

/** A `builtin:` reference that names no built-in dataset, or a damaged data/builtin folder. */
export class BuiltinDatasetError extends Error {
  override readonly name = 'BuiltinDatasetError';
}

/**
 * The package root: the nearest folder at or above `startDir` whose package.json has name "spacetime-probe".
 * Throws when there is none (a copy of the code outside the package).
 */
export function findPackageRoot(startDir: string = __dirname): string {
  let folder = startDir;
  for (;;) {
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return folder;
      } catch {
        // An unreadable or foreign package.json on the way up is not ours: keep walking.
      }
    }
    const parent = dirname(folder);
    if (parent === folder) throw new BuiltinDatasetError(`cannot find the ${PACKAGE_NAME} package root above ${startDir}`);
    folder = parent;
  }
}

export interface BuiltinOptions {
  /** Package root; found from this module's location when omitted. */
  readonly root?: string;
}

interface ManifestEntry {
  readonly name: string;
  readonly title: string;
  readonly kind: DatasetKind;
  readonly file: string;
  readonly rows: number;
  readonly testRows: number;
  readonly licence: string;
  readonly licenceDetail?: string;
  readonly source: string;
  readonly description: string;
  readonly blockKind: string;
  readonly columns: readonly string[];
  readonly sha256: string;
}

const cache = new Map<string, readonly BuiltinDatasetInfo[]>();

function readManifest(root: string): readonly BuiltinDatasetInfo[] {
  const folder = join(root, 'data', 'builtin');
  const manifestPath = join(folder, 'index.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    throw new BuiltinDatasetError(`cannot read the built-in dataset manifest ${manifestPath}: ${(error as Error).message}`);
  }
  const datasets = (parsed as { datasets?: unknown }).datasets;
  if (!Array.isArray(datasets)) throw new BuiltinDatasetError(`${manifestPath}: no "datasets" list`);
  return datasets.map((raw: unknown, index): BuiltinDatasetInfo => {
    const entry = raw as Partial<ManifestEntry>;
    const stringFields = ['name', 'title', 'file', 'licence', 'source', 'description', 'blockKind', 'sha256'] as const;
    for (const field of stringFields) {
      if (typeof entry[field] !== 'string') throw new BuiltinDatasetError(`${manifestPath}: datasets[${index}].${field} is missing or not text`);
    }
    if (entry.kind !== 'space' && entry.kind !== 'time') throw new BuiltinDatasetError(`${manifestPath}: datasets[${index}].kind must be "space" or "time"`);
    if (!Number.isInteger(entry.rows) || !Number.isInteger(entry.testRows)) throw new BuiltinDatasetError(`${manifestPath}: datasets[${index}].rows/testRows must be integers`);
    if (!Array.isArray(entry.columns)) throw new BuiltinDatasetError(`${manifestPath}: datasets[${index}].columns must be a list`);
    const valid = entry as ManifestEntry;
    return Object.freeze({
      name: valid.name,
      reference: `${BUILTIN_PREFIX}${valid.name}`,
      title: valid.title,
      kind: valid.kind,
      rows: valid.rows,
      testRows: valid.testRows,
      licence: valid.licence,
      licenceDetail: typeof valid.licenceDetail === 'string' ? valid.licenceDetail : valid.licence,
      source: valid.source,
      description: valid.description,
      blockKind: valid.blockKind,
      columns: Object.freeze([...valid.columns]),
      sha256: valid.sha256,
      path: join(folder, valid.file),
    });
  });
}

/** Every built-in dataset, in manifest order (world, USA, NYC, figures, art, events). */
export function listBuiltinDatasets(options: BuiltinOptions = {}): readonly BuiltinDatasetInfo[] {
  const root = options.root ?? findPackageRoot();
  let list = cache.get(root);
  if (list === undefined) {
    list = Object.freeze(readManifest(root));
    cache.set(root, list);
  }
  return list;
}

/** True for `builtin:<anything>` (whether or not the name exists). */
export function isBuiltinReference(pathOrReference: string): boolean {
  return pathOrReference.startsWith(BUILTIN_PREFIX);
}

/** The built-in dataset a `builtin:<name>` reference names; the error lists the valid references. */
export function resolveBuiltinDataset(reference: string, options: BuiltinOptions = {}): BuiltinDatasetInfo {
  if (!isBuiltinReference(reference)) throw new BuiltinDatasetError(`"${reference}" is not a ${BUILTIN_PREFIX}<name> reference`);
  const name = reference.slice(BUILTIN_PREFIX.length);
  const list = listBuiltinDatasets(options);
  const found = list.find((entry) => entry.name === name);
  if (found === undefined) {
    throw new BuiltinDatasetError(`unknown built-in dataset "${reference}": expected one of ${list.map((entry) => entry.reference).join(', ')}`);
  }
  if (!existsSync(found.path)) throw new BuiltinDatasetError(`built-in dataset ${reference} is listed but its file ${found.path} is missing`);
  return found;
}

/** A dataset argument as a file path: `builtin:<name>` → the shipped CSV, anything else unchanged. */
export function resolveDatasetPath(pathOrReference: string, options: BuiltinOptions = {}): string {
  return isBuiltinReference(pathOrReference) ? resolveBuiltinDataset(pathOrReference, options).path : pathOrReference;
}

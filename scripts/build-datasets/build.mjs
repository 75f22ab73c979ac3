// Builds every built-in dataset in memory (collect → clean → validate → de-duplicate → split → sort), then writes
// the CSVs and data/builtin/index.json. Deterministic: no timestamps, code-unit sorting, hash-based split.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatCsv, parseCsv } from './csv.mjs';
import {
  SPLIT_SEED, TEST_FRACTION, centuryOf, cleanText, compareText, countBy, decadeOf, formatNumber, invalidReason, isTestRow, nameKey,
  sha256Hex, writeFileAtomic,
} from './common.mjs';
import { SourceLoader, debianRelease } from './sources.mjs';
import worldPlaces from './datasets/world-places.mjs';
import usaPlaces from './datasets/usa-places.mjs';
import nycPlaces from './datasets/nyc-places.mjs';
import historicalFigures from './datasets/historical-figures.mjs';
import artEntertainment from './datasets/art-entertainment.mjs';
import datedEvents from './datasets/dated-events.mjs';

export const DATASET_SPECS = [worldPlaces, usaPlaces, nycPlaces, historicalFigures, artEntertainment, datedEvents];
export const MANIFEST_FILE = 'index.json';

function compareRank(a, b) {
  for (let index = 0; index < Math.max(a.length, b.length); index += 1) {
    const left = a[index];
    const right = b[index];
    if (left === right) continue;
    if (left === undefined) return -1;
    if (right === undefined) return 1;
    if (typeof left === 'number' && typeof right === 'number') return left - right;
    return compareText(String(left), String(right));
  }
  return 0;
}

/** Build one dataset: returns {csv, entry} where entry is its index.json record. */
async function buildDataset(spec, loader) {
  const { candidates, sources, notes = {} } = await spec.collect(loader, nameKey);
  const invalid = [];
  const valid = [];
  for (const candidate of candidates) {
    const row = { ...candidate, name: cleanText(candidate.name) };
    if (spec.kind === 'time') {
      row.block = Number.isInteger(row.year) ? String(spec.blockKind === 'decade' ? decadeOf(row.year) : centuryOf(row.year)) : '';
    }
    const reason = invalidReason(row, spec);
    if (reason === undefined) valid.push(row);
    else invalid.push(reason.replace(/-?\d+(\.\d+)?/g, 'N')); // group "year 2046 outside …" style reasons
  }
  valid.sort((a, b) => compareRank(a.rank, b.rank) || compareText(a.name, b.name));

  const keyOf = spec.dedupeKey === undefined ? (row) => nameKey(row.name) : (row) => spec.dedupeKey(row, nameKey);
  const seen = new Set();
  const kept = [];
  for (const row of valid) {
    const key = keyOf(row);
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push({ ...row, key, is_test: isTestRow(spec.name, key) ? 'true' : 'false' });
  }
  const typeIndex = (type) => (spec.typeOrder.includes(type) ? spec.typeOrder.indexOf(type) : spec.typeOrder.length);
  kept.sort(spec.kind === 'time'
    ? (a, b) => a.year - b.year || compareText(a.key, b.key) || compareText(a.name, b.name)
    : (a, b) => typeIndex(a.type) - typeIndex(b.type) || compareText(a.key, b.key) || compareText(a.name, b.name));

  const rows = kept.map((row) => {
    const out = {};
    for (const column of spec.columns) {
      const value = row[column];
      if (column === 'latitude' || column === 'longitude') out[column] = formatNumber(value, 5);
      else if (column === 'year') out[column] = String(value);
      else out[column] = cleanText(value);
    }
    return out;
  });
  const csv = formatCsv(spec.columns, rows);
  const entry = {
    name: spec.name,
    title: spec.title,
    kind: spec.kind,
    file: spec.file,
    rows: rows.length,
    testRows: rows.filter((row) => row.is_test === 'true').length,
    columns: spec.columns,
    targetColumns: spec.kind === 'space' ? ['latitude', 'longitude'] : ['year'],
    blockColumn: 'block',
    blockKind: spec.blockKind,
    blocks: new Set(rows.map((row) => row.block)).size,
    description: spec.description,
    licence: spec.licence,
    licenceDetail: spec.licenceDetail,
    source: spec.sourceSummary,
    sources,
    entityTypes: countBy(rows.map((row) => row.type)),
    candidates: candidates.length,
    dropped: { invalid: countBy(invalid), duplicateNames: valid.length - kept.length },
    notes,
    sha256: sha256Hex(csv),
  };
  return { csv, entry };
}

/** Build all datasets; returns {files: Map(file → text), manifest}. Nothing is written. */
export async function buildAll({ root, allowApt = true, log = () => {}, only } = {}) {
  const loader = new SourceLoader(root, { allowApt, log });
  const files = new Map();
  const entries = [];
  for (const spec of DATASET_SPECS) {
    if (only !== undefined && !only.includes(spec.name)) continue;
    const started = Date.now();
    const { csv, entry } = await buildDataset(spec, loader);
    log(`${spec.name}: ${entry.rows} rows (${entry.testRows} test) from ${entry.candidates} candidates in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    files.set(spec.file, csv);
    entries.push(entry);
  }
  const manifest = {
    schema: 1,
    generatedBy: 'node scripts/build-datasets.mjs',
    buildPlatform: debianRelease(),
    split: { method: 'is_test when the first 32 bits of sha256("<seed>:<dataset>:<name key>") < testFraction * 2^32', seed: SPLIT_SEED, testFraction: TEST_FRACTION },
    datasets: entries,
  };
  files.set(MANIFEST_FILE, `${JSON.stringify(manifest, null, 2)}\n`);
  return { files, manifest };
}

/** Write every built file into `folder` (each via temp file + rename; the manifest last). */
export function writeBuild(folder, files) {
  for (const [file, text] of files) if (file !== MANIFEST_FILE) writeFileAtomic(join(folder, file), text);
  writeFileAtomic(join(folder, MANIFEST_FILE), files.get(MANIFEST_FILE));
}

/**
 * Compare a fresh build with the committed files. Returns a list of human-readable differences (empty when equal):
 * per CSV the row counts and a few added/removed names, per source a version change.
 */
export function compareWithCommitted(folder, files, manifest, { wholeManifest = true } = {}) {
  const differences = [];
  const committedManifestPath = join(folder, MANIFEST_FILE);
  const committed = existsSync(committedManifestPath) ? JSON.parse(readFileSync(committedManifestPath, 'utf8')) : { datasets: [] };
  for (const entry of manifest.datasets) {
    const before = committed.datasets.find((candidate) => candidate.name === entry.name);
    const path = join(folder, entry.file);
    if (before === undefined || !existsSync(path)) {
      differences.push(`${entry.name}: not in the committed build (${entry.rows} rows rebuilt)`);
      continue;
    }
    for (const source of entry.sources) {
      const old = before.sources.find((candidate) => candidate.source === source.source);
      if (old === undefined) differences.push(`${entry.name}: new source ${source.source} ${source.version}`);
      else if (old.version !== source.version) differences.push(`${entry.name}: ${source.source} is ${source.version}, the committed build used ${old.version}`);
    }
    const committedText = readFileSync(path, 'utf8');
    const committedSha = sha256Hex(committedText);
    if (committedSha !== before.sha256) differences.push(`${entry.file}: committed file's sha256 ${committedSha.slice(0, 12)} does not match index.json (${before.sha256.slice(0, 12)}): edited by hand?`);
    if (committedSha === entry.sha256) continue;
    const oldRows = parseCsv(committedText, path);
    const newRows = parseCsv(files.get(entry.file), `rebuilt ${entry.file}`);
    const oldByName = new Map(oldRows.map((row) => [row.name, row]));
    const newByName = new Map(newRows.map((row) => [row.name, row]));
    const added = newRows.filter((row) => !oldByName.has(row.name)).map((row) => row.name);
    const removed = oldRows.filter((row) => !newByName.has(row.name)).map((row) => row.name);
    const changed = newRows.filter((row) => oldByName.has(row.name) && JSON.stringify({ ...oldByName.get(row.name), __line: 0 }) !== JSON.stringify({ ...row, __line: 0 })).map((row) => row.name);
    const sample = (names) => names.slice(0, 5).map((name) => JSON.stringify(name)).join(', ') + (names.length > 5 ? ', …' : '');
    differences.push([
      `${entry.file}: sha256 ${entry.sha256.slice(0, 12)} rebuilt vs ${committedSha.slice(0, 12)} committed; rows ${entry.rows} rebuilt vs ${oldRows.length} committed`,
      added.length > 0 ? `  ${added.length} added: ${sample(added)}` : undefined,
      removed.length > 0 ? `  ${removed.length} removed: ${sample(removed)}` : undefined,
      changed.length > 0 ? `  ${changed.length} changed: ${sample(changed)}` : undefined,
      added.length + removed.length + changed.length === 0 ? '  same rows, different order or formatting' : undefined,
    ].filter((line) => line !== undefined).join('\n'));
  }
  if (wholeManifest && differences.length === 0 && existsSync(committedManifestPath) && readFileSync(committedManifestPath, 'utf8') !== files.get(MANIFEST_FILE)) {
    differences.push(`${MANIFEST_FILE}: differs from the rebuilt manifest (same CSVs; counts, notes or descriptions changed)`);
  }
  return differences;
}

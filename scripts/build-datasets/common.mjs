// Shared steps of the dataset build: name normalisation, row validation, duplicate removal, the seeded split,
// deterministic number formatting and atomic file writes.
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';

/** Salt of the train/test split. Changing it reshuffles every built-in set, so it is versioned. */
export const SPLIT_SEED = 'spacetime-probe-split-v1';
export const TEST_FRACTION = 0.2;

/** Trim, collapse runs of white space, NFC-normalise. */
export function cleanText(value) {
  return String(value ?? '').normalize('NFC').replace(/\s+/g, ' ').trim();
}

/**
 * The key under which two entity names count as the same: case, accents and punctuation spacing ignored, so
 * "São Paulo" and "Sao Paulo" (same target, near-identical text) never land one in train and one in test.
 */
export function nameKey(name) {
  return cleanText(name)
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[’‘`]/g, "'")
    .replace(/\s*([,&/-])\s*/g, '$1');
}

/**
 * Seeded, order-independent split: a row is a test row when the first 32 bits of
 * sha256(seed:dataset:nameKey) fall below TEST_FRACTION of 2^32. A hash of the name (not a shuffle of the rows)
 * keeps every row's side fixed when upstream data adds or removes other rows.
 */
export function isTestRow(dataset, key) {
  const digest = createHash('sha256').update(`${SPLIT_SEED}:${dataset}:${key}`).digest();
  return digest.readUInt32BE(0) < TEST_FRACTION * 2 ** 32;
}

/** Shortest decimal text of a value rounded to `digits` places ("-0" written as "0"). */
export function formatNumber(value, digits) {
  const rounded = Number(value.toFixed(digits));
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/** Start year of the century or decade holding `year` (negative years are BC: -384 → -400 century). */
export function centuryOf(year) {
  return Math.floor(year / 100) * 100;
}
export function decadeOf(year) {
  return Math.floor(year / 10) * 10;
}

/** Code-unit comparison: the same order on every machine and locale. */
export function compareText(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sha256Hex(data) {
  return createHash('sha256').update(data).digest('hex');
}

/** Write via a temporary file in the same folder, then rename, so readers never see a half-written file. */
export function writeFileAtomic(path, data) {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, data);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * Check one candidate row; returns the reason it is invalid, or undefined when it is fine.
 * Space rows: finite latitude in [-90, 90], longitude in [-180, 180], not exactly (0, 0) (a missing-value marker
 * in several sources). Time rows: an integer year inside the dataset's plausible range.
 */
export function invalidReason(row, spec) {
  const name = row.name;
  if (typeof name !== 'string' || name === '') return 'empty name';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'control character in name';
  if (name.length > spec.maxNameLength) return `name longer than ${spec.maxNameLength} characters`;
  if (spec.kind === 'space') {
    const { latitude, longitude } = row;
    if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) return 'missing coordinates';
    if (latitude < -90 || latitude > 90) return `latitude ${latitude} out of range`;
    if (longitude < -180 || longitude > 180) return `longitude ${longitude} out of range`;
    if (latitude === 0 && longitude === 0) return 'coordinates (0, 0)';
    if (spec.bounds !== undefined) {
      const [south, west, north, east] = spec.bounds;
      if (latitude < south || latitude > north || longitude < west || longitude > east) return 'outside the dataset area';
    }
  } else {
    const { year } = row;
    if (!Number.isInteger(year)) return 'missing or non-integer year';
    if (year < spec.yearRange[0] || year > spec.yearRange[1]) return `year ${year} outside ${spec.yearRange[0]}..${spec.yearRange[1]}`;
  }
  if (cleanText(row.block) === '') return 'empty block';
  return undefined;
}

/** Count occurrences of each value, as a plain object sorted by key (stable JSON). */
export function countBy(values) {
  const counts = new Map();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return Object.fromEntries([...counts.entries()].sort(([a], [b]) => compareText(String(a), String(b))));
}

/**
 * Dataset parsing and validation: CSV (RFC 4180, UTF-8, BOM tolerated) or JSON Lines into entities with targets.
 *
 * Validation lists every problem with file, line and column and never stops at the first one, so the Problems
 * panel and the CLI can show them all; the caller stops before any model work when `ok` is false.
 * With `skipInvalid`, bad rows are dropped and their problems are kept as warnings.
 *
 * Column conventions (the paper's CSVs load as they are):
 * - entity text: `name`, `entity`, `headline`, or `title` (+ `creator` → "{creator}'s {title}", the paper's art set);
 * - space targets: `latitude`/`lat` and `longitude`/`lon`/`lng`;
 * - time targets: `year`, else a date column (`date`, `release_date`, `death_date`, `birth_date`) → its year;
 * - `is_test` (true/false/1/0/yes/no) is honoured; every other column is kept as metadata.
 */
import type { Dataset, DatasetKind, DatasetProblem, Entity, ParseResult } from './types';
import { TARGET_NAMES } from './types';
import { parseCsv, type CsvRecord } from './csv';

export interface ParseOptions {
  /** Drop invalid rows (their problems become warnings) instead of failing. */
  readonly skipInvalid?: boolean;
  /** Force the dataset kind; by default it is inferred from the columns. */
  readonly kind?: DatasetKind;
  /** Force the format; by default `.jsonl`/`.ndjson` files are JSON Lines and everything else CSV. */
  readonly format?: 'csv' | 'jsonl';
  /** Plausible years [min, max] (default DEFAULT_YEAR_RANGE); a year outside is an error naming the range. */
  readonly yearRange?: readonly [number, number];
}

/** Years a time dataset may hold unless widened (`--year-range MIN:MAX`): 10,000 BC to AD 2200. */
export const DEFAULT_YEAR_RANGE: readonly [number, number] = [-10000, 2200];

/** Parse "MIN:MAX" (e.g. "-20000:3000") into a year range; throws with a readable message. */
export function parseYearRange(text: string): [number, number] {
  const match = /^\s*([+-]?\d+)\s*[:,]\s*([+-]?\d+)\s*$/.exec(text);
  const range: [number, number] | undefined = match ? [Number(match[1]), Number(match[2])] : undefined;
  if (!range || !(range[0] < range[1]) || !range.every(Number.isSafeInteger)) {
    throw new Error(`--year-range must be MIN:MAX with integer years, MIN < MAX (e.g. --year-range=-20000:3000), got "${text}"`);
  }
  return range;
}

const NAME_COLUMNS = ['name', 'entity', 'headline'];
const LATITUDE_COLUMNS = ['latitude', 'lat'];
const LONGITUDE_COLUMNS = ['longitude', 'lon', 'lng'];
const DATE_COLUMNS = ['date', 'release_date', 'death_date', 'birth_date'];

/** Every column name the parser interprets (case-insensitively). */
const KNOWN_COLUMNS = new Set([...NAME_COLUMNS, 'title', 'creator', ...LATITUDE_COLUMNS, ...LONGITUDE_COLUMNS, 'year', ...DATE_COLUMNS, 'is_test']);

/** "UTF-16 LE/BE (with|without a byte-order mark)" when the bytes look like UTF-16, else undefined. */
function utf16Kind(bytes: Uint8Array): string | undefined {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return 'UTF-16 LE (with a byte-order mark)';
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return 'UTF-16 BE (with a byte-order mark)';
  // Without a BOM: text in UTF-16 has a zero byte in every other position for ASCII characters.
  const sample = Math.min(bytes.length & ~1, 4096);
  if (sample < 4) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let index = 0; index < sample; index += 2) {
    if (bytes[index] === 0) evenZeros += 1;
    if (bytes[index + 1] === 0) oddZeros += 1;
  }
  const pairs = sample / 2;
  if (oddZeros > pairs * 0.6 && evenZeros < pairs * 0.1) return 'UTF-16 LE without a byte-order mark';
  if (evenZeros > pairs * 0.6 && oddZeros < pairs * 0.1) return 'UTF-16 BE without a byte-order mark';
  return undefined;
}

/** A cell with its position, whatever the file format. */
interface Cell {
  readonly value: string;
  readonly line: number;
  readonly column: number;
  readonly length: number;
}

/**
 * One data row: its values by column index, and positions worked out only when a problem needs them (building a
 * position object per cell up front cost more than reading the file).
 */
interface RawRow {
  readonly line: number;
  /** Values by column index; undefined where a JSON Lines object lacks the key. */
  readonly values: readonly (string | undefined)[];
  /** The position of column `index`'s cell, undefined when the row has none. */
  cellAt(index: number): Cell | undefined;
  /** Where to point problems that concern the row as a whole. */
  anchor(): Cell;
}

/** Parse dataset bytes (checks UTF-8 first). */
export function parseDatasetBytes(bytes: Uint8Array, file: string, options: ParseOptions = {}): ParseResult {
  const utf16 = utf16Kind(bytes);
  if (utf16 !== undefined) {
    return fail([problem('error', 'not-utf8', file, 1, 1, 1, `the file is ${utf16}, not UTF-8 (save it as UTF-8)`)]);
  }
  const invalidAt = firstInvalidUtf8(bytes);
  if (invalidAt !== -1) {
    let line = 1;
    let lineStartByte = 0;
    for (let index = 0; index < invalidAt; index += 1) {
      if (bytes[index] === 0x0a) {
        line += 1;
        lineStartByte = index + 1;
      }
    }
    const column = invalidAt - lineStartByte + 1;
    return fail([problem('error', 'not-utf8', file, line, column, 1,
      `not UTF-8 text: invalid byte 0x${bytes[invalidAt].toString(16).padStart(2, '0')} at byte ${invalidAt} (save the file as UTF-8)`)]);
  }
  return parseDatasetText(new TextDecoder('utf-8').decode(bytes), file, options);
}

/** Parse dataset text. `file` is only used in problem locations. */
export function parseDatasetText(text: string, file: string, options: ParseOptions = {}): ParseResult {
  let body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // Classic Mac line ends (CR alone, no LF anywhere): read them as line ends.
  if (body.includes('\r') && !body.includes('\n')) body = body.replace(/\r/g, '\n');
  if (body.trim() === '') {
    return fail([problem('error', 'empty-file', file, 0, 0, 0, 'empty file: expected a header row and at least one data row')]);
  }
  const format = options.format ?? (/\.(jsonl|ndjson)$/i.test(file) ? 'jsonl' : 'csv');
  const table = format === 'jsonl' ? readJsonLines(body, file) : readCsvTable(body, file);
  if (table.fatal.length > 0) return fail(table.fatal);
  return buildDataset(table.columns, table.rows, table.problems, file, options);
}

interface Table {
  readonly columns: readonly string[];
  readonly rows: readonly RawRow[];
  /** Problems local to rows (they make those rows invalid). */
  readonly problems: readonly DatasetProblem[];
  /** Problems that make the whole file unusable. */
  readonly fatal: readonly DatasetProblem[];
}

function readCsvTable(text: string, file: string): Table {
  const { records, errors } = parseCsv(text);
  const fatal = errors.map((error) => problem('error', 'csv-syntax', file, error.line, error.column, 1, error.message));
  if (records.length === 0) {
    return { columns: [], rows: [], problems: [], fatal: fatal.length > 0 ? fatal : [problem('error', 'empty-file', file, 0, 0, 0, 'empty file')] };
  }
  const header = records[0];
  const columns = header.fields.map((field) => field.value.trim());
  const problems: DatasetProblem[] = [];
  const seen = new Set<string>();
  header.fields.forEach((field, index) => {
    const name = columns[index];
    if (name === '') {
      fatal.push(problem('error', 'empty-column-name', file, field.line, field.column, Math.max(field.length, 1), `column ${index + 1} of the header has no name`));
    } else if (seen.has(name)) {
      fatal.push(problem('error', 'duplicate-column', file, field.line, field.column, field.length, `column "${name}" appears twice in the header`, name));
    }
    seen.add(name);
  });
  if (records.length === 1 && fatal.length === 0) {
    fatal.push(problem('error', 'header-only', file, header.line, 1, 0, 'the file has a header row but no data rows'));
  }
  const rows: RawRow[] = [];
  for (let index = 1; index < records.length; index += 1) {
    const record = records[index];
    if (record.values.length !== columns.length) {
      const fields = record.fields;
      const last = fields[fields.length - 1];
      problems.push(problem('error', 'field-count', file, record.line, fields.length > columns.length ? fields[columns.length].column : last.column + last.length, 1,
        `expected ${columns.length} fields (as in the header), found ${fields.length}`));
      continue;
    }
    rows.push(new CsvRow(record));
  }
  return { columns, rows, problems, fatal };
}

/** A CSV record as a RawRow (a class, not an object with two closures: there is one per data row). */
class CsvRow implements RawRow {
  constructor(private readonly record: CsvRecord) {}
  get line(): number { return this.record.line; }
  get values(): readonly string[] { return this.record.values; }
  cellAt(index: number): Cell | undefined { return this.record.fields[index]; }
  anchor(): Cell { return this.record.fields[0]; }
}

function readJsonLines(text: string, file: string): Table {
  const lines = text.split(/\r\n|\r|\n/);
  const columns: string[] = [];
  const known = new Map<string, number>();
  const rows: RawRow[] = [];
  const problems: DatasetProblem[] = [];
  lines.forEach((source, index) => {
    const line = index + 1;
    if (source.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(source);
    } catch (error) {
      problems.push(problem('error', 'json-syntax', file, line, 1, source.length, `not valid JSON: ${(error as Error).message}`));
      return;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(problem('error', 'json-syntax', file, line, 1, source.length, 'each line must be a JSON object'));
      return;
    }
    const values: (string | undefined)[] = [];
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      let index = known.get(key);
      if (index === undefined) {
        index = columns.length;
        known.set(key, index);
        columns.push(key);
      }
      // JSON.parse reads 1e309 as Infinity, which JSON.stringify would print as "null": keep it recognisable.
      values[index] = value === null || value === undefined ? '' : typeof value === 'string' ? value
        : typeof value === 'number' && !Number.isFinite(value) ? `${String(value)} (a JSON number too large for a float64)` : JSON.stringify(value);
    }
    const cellAt = (index: number): Cell | undefined => {
      const value = values[index];
      if (value === undefined) return undefined;
      // Point at the key when we can find it in the line; fall back to the line start.
      const quotedKey = JSON.stringify(columns[index]);
      const keyAt = source.indexOf(quotedKey);
      return { value, line, column: keyAt === -1 ? 1 : keyAt + 1, length: keyAt === -1 ? 1 : quotedKey.length };
    };
    rows.push({ line, values, cellAt, anchor: () => ({ value: '', line, column: 1, length: source.length }) });
  });
  const fatal: DatasetProblem[] = [];
  if (rows.length === 0 && problems.length === 0) fatal.push(problem('error', 'empty-file', file, 0, 0, 0, 'no JSON objects in the file'));
  return { columns, rows, problems, fatal };
}

function buildDataset(columns: readonly string[], rows: readonly RawRow[], rowProblems: readonly DatasetProblem[],
  file: string, options: ParseOptions): ParseResult {
  const problems: DatasetProblem[] = [...rowProblems];
  const lower = new Map<string, string>();
  const ambiguous: DatasetProblem[] = [];
  for (const column of columns) {
    const key = column.toLowerCase();
    const earlier = lower.get(key);
    if (earlier === undefined) lower.set(key, column);
    else if (KNOWN_COLUMNS.has(key)) {
      ambiguous.push(problem('error', 'ambiguous-column', file, 1, 1, 0, `columns "${earlier}" and "${column}" differ only in case; which one is meant is ambiguous (rename or remove one)`, column));
    }
  }
  if (ambiguous.length > 0) return fail([...ambiguous, ...rowProblems]);
  const find = (candidates: readonly string[]) => candidates.map((candidate) => lower.get(candidate)).find((column) => column !== undefined);

  const nameColumn = find(NAME_COLUMNS);
  const titleColumn = nameColumn === undefined ? find(['title']) : undefined;
  const creatorColumn = titleColumn !== undefined ? find(['creator']) : undefined;
  const latitudeColumn = find(LATITUDE_COLUMNS);
  const longitudeColumn = find(LONGITUDE_COLUMNS);
  const yearColumn = find(['year']);
  const dateColumn = yearColumn === undefined ? find(DATE_COLUMNS) : undefined;
  const isTestColumn = find(['is_test']);

  const headerProblem = (code: string, message: string) => problem('error', code, file, 1, 1, 0, message);
  const fileProblems: DatasetProblem[] = [];
  if (nameColumn === undefined && titleColumn === undefined) {
    fileProblems.push(headerProblem('missing-column', `missing entity column: expected one of ${[...NAME_COLUMNS, 'title'].map((c) => `"${c}"`).join(', ')} (found: ${columns.join(', ') || 'none'})`));
  }
  const hasSpace = latitudeColumn !== undefined || longitudeColumn !== undefined;
  const kind: DatasetKind | undefined = options.kind ?? (hasSpace ? 'space' : yearColumn !== undefined || dateColumn !== undefined ? 'time' : undefined);
  if (kind === undefined) {
    fileProblems.push(headerProblem('missing-column', `missing target columns: expected "latitude" and "longitude" (space) or "year"/"date" (time) (found: ${columns.join(', ') || 'none'})`));
  } else if (kind === 'space') {
    if (latitudeColumn === undefined) fileProblems.push(headerProblem('missing-column', 'missing column "latitude" (space datasets need latitude and longitude)'));
    if (longitudeColumn === undefined) fileProblems.push(headerProblem('missing-column', 'missing column "longitude" (space datasets need latitude and longitude)'));
  } else if (yearColumn === undefined && dateColumn === undefined) {
    fileProblems.push(headerProblem('missing-column', 'missing column "year" (or a date column such as "date" or "release_date")'));
  }
  if (fileProblems.length > 0 || kind === undefined) return fail([...fileProblems, ...problems]);

  const usedColumns = new Set([nameColumn, titleColumn, creatorColumn, latitudeColumn, longitudeColumn, yearColumn, dateColumn, isTestColumn]);
  const metadataColumns = columns.filter((column) => !usedColumns.has(column));
  const columnIndex = new Map(columns.map((column, index) => [column, index]));
  const indexOf = (column: string | undefined): number => (column === undefined ? -1 : columnIndex.get(column) ?? -1);
  const [nameAt, titleAt, creatorAt, latitudeAt, longitudeAt, yearAt, dateAt, isTestAt] =
    [nameColumn, titleColumn, creatorColumn, latitudeColumn, longitudeColumn, yearColumn, dateColumn, isTestColumn].map(indexOf);
  const metadataAt = metadataColumns.map(indexOf);
  const entities: Entity[] = [];
  const yearRange = options.yearRange ?? DEFAULT_YEAR_RANGE;
  const invalidLines = new Set<number>(rowProblems.map((rowProblem) => rowProblem.line));

  for (const row of rows) {
    const before = problems.length;
    const values = row.values;
    const value = (at: number): string | undefined => (at < 0 ? undefined : values[at]);
    const report: Reporter = (code, at, field, message) => {
      const where = (at < 0 ? undefined : row.cellAt(at)) ?? row.anchor();
      problems.push(problem('error', code, file, where.line, where.column, Math.max(where.length, 1), message, field));
    };

    // Entity text.
    let name = '';
    if (nameColumn !== undefined) {
      name = (value(nameAt) ?? '').trim();
      if (name === '') report('empty-name', nameAt, nameColumn, `empty entity name in column "${nameColumn}"`);
    } else if (titleColumn !== undefined) {
      const title = (value(titleAt) ?? '').trim();
      const creator = (value(creatorAt) ?? '').trim();
      if (title === '') report('empty-name', titleAt, titleColumn, `empty entity name in column "${titleColumn}"`);
      name = creator !== '' && title !== '' ? `${creator}'s ${title}` : title;
    }

    // Targets.
    const target: number[] = [];
    if (kind === 'space') {
      const latitude = readNumber(value(latitudeAt), latitudeAt, latitudeColumn!, report);
      const longitude = readNumber(value(longitudeAt), longitudeAt, longitudeColumn!, report);
      if (latitude !== undefined && (latitude < -90 || latitude > 90)) {
        report('out-of-range', latitudeAt, latitudeColumn!, `latitude ${latitude} is outside [-90, 90]`);
      }
      if (longitude !== undefined && (longitude < -180 || longitude > 180)) {
        report('out-of-range', longitudeAt, longitudeColumn!, `longitude ${longitude} is outside [-180, 180]`);
      }
      target.push(latitude ?? Number.NaN, longitude ?? Number.NaN);
    } else {
      const column = yearColumn ?? dateColumn!;
      const at = yearColumn !== undefined ? yearAt : dateAt;
      const year = yearColumn !== undefined ? readNumber(value(yearAt), yearAt, yearColumn, report) : readDateYear(value(dateAt), dateAt, dateColumn!, report);
      if (year !== undefined && (year < yearRange[0] || year > yearRange[1])) {
        report('out-of-range', at, column, `year ${(value(at) ?? '').trim()} in column "${column}" is outside the plausible range ` +
          `${yearRange[0]}…${yearRange[1]} (widen it with --year-range MIN:MAX if it is right)`);
      }
      target.push(year ?? Number.NaN);
    }

    // Split column.
    let isTest: boolean | undefined;
    if (isTestColumn !== undefined) {
      const raw = (value(isTestAt) ?? '').trim().toLowerCase();
      if (TRUE_WORDS.has(raw)) isTest = true;
      else if (FALSE_WORDS.has(raw)) isTest = false;
      else report('bad-boolean', isTestAt, isTestColumn, `is_test must be true or false, got "${value(isTestAt) ?? ''}"`);
    }

    if (problems.length > before) {
      invalidLines.add(row.line);
      continue;
    }
    const metadata: Record<string, string> = {};
    for (let index = 0; index < metadataColumns.length; index += 1) metadata[metadataColumns[index]] = value(metadataAt[index]) ?? '';
    entities.push(Object.freeze({ line: row.line, name, target: Object.freeze(target), isTest, metadata: Object.freeze(metadata) }));
  }

  // Duplicate entity texts: a warning when the targets differ (the paper's USA and NYC files have dozens).
  const firstByName = new Map<string, Entity>();
  for (const entity of entities) {
    const first = firstByName.get(entity.name);
    if (first === undefined) {
      firstByName.set(entity.name, entity);
    } else if (first.target.some((value, index) => value !== entity.target[index])) {
      problems.push(problem('warning', 'duplicate-entity', file, entity.line, 1, entity.name.length,
        `"${entity.name}" also appears on line ${first.line} with a different target (${first.target.join(', ')} vs ${entity.target.join(', ')})`));
    }
  }

  const errors = problems.filter((entry) => entry.severity === 'error');
  if (errors.length > 0 && !options.skipInvalid) return fail(sortProblems(problems));
  const kept = options.skipInvalid ? problems.map((entry) => (entry.severity === 'error' ? { ...entry, severity: 'warning' as const, message: `${entry.message} (row skipped)` } : entry)) : problems;
  if (entities.length === 0) {
    return fail(sortProblems([...problems, problem('error', 'no-valid-rows', file, 0, 0, 0, 'no valid data rows')]));
  }
  const dataset: Dataset = {
    source: file,
    kind,
    targets: TARGET_NAMES[kind],
    entities,
    problems: sortProblems(kept),
  };
  return { ok: true, dataset };
}

/** Reports a problem at a column of the current row (`at` = column index, −1 = the row as a whole). */
type Reporter = (code: string, at: number, field: string, message: string) => void;

const TRUE_WORDS = new Set(['true', '1', 'yes', 't', 'y']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'f', 'n']);

function readNumber(text: string | undefined, at: number, field: string, report: Reporter): number | undefined {
  const raw = (text ?? '').trim();
  if (raw === '') {
    report('missing-value', at, field, `missing value in column "${field}"`);
    return undefined;
  }
  const value = Number(raw);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw) || !Number.isFinite(value)) {
    report(/^[+-]?(nan|inf(inity)?)$/i.test(raw) ? 'not-finite' : 'non-numeric', at, field, `"${raw}" in column "${field}" is not a finite number`);
    return undefined;
  }
  return value;
}

/** A date's year: "1986-09-15" → 1986, "-0044-03-15" → -44, "1986" → 1986, "1986.0" → 1986. */
function readDateYear(text: string | undefined, at: number, field: string, report: Reporter): number | undefined {
  const raw = (text ?? '').trim();
  if (raw === '') {
    report('missing-value', at, field, `missing value in column "${field}"`);
    return undefined;
  }
  const match = /^([+-]?\d{1,6})(?:\.0+)?(?:[-/T ].*)?$/.exec(raw);
  if (!match) {
    report('bad-date', at, field, `"${raw}" in column "${field}" is not a date (expected YYYY, YYYY-MM-DD or similar)`);
    return undefined;
  }
  return Number(match[1]);
}

function problem(severity: DatasetProblem['severity'], code: string, file: string, line: number, column: number,
  length: number, message: string, field?: string): DatasetProblem {
  return field === undefined ? { severity, code, file, line, column, length, message } : { severity, code, file, line, column, length, field, message };
}

function sortProblems(problems: readonly DatasetProblem[]): DatasetProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
}

function fail(problems: readonly DatasetProblem[]): ParseResult {
  return { ok: false, problems: sortProblems(problems) };
}

/** Byte offset of the first invalid UTF-8 sequence, or -1 when the bytes are valid UTF-8. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let index = 0;
  const length = bytes.length;
  while (index < length) {
    const byte = bytes[index];
    if (byte < 0x80) {
      index += 1;
      continue;
    }
    let needed: number;
    let minimum: number;
    let codePoint: number;
    if (byte >= 0xc2 && byte <= 0xdf) { needed = 1; minimum = 0x80; codePoint = byte & 0x1f; }
    else if (byte >= 0xe0 && byte <= 0xef) { needed = 2; minimum = 0x800; codePoint = byte & 0x0f; }
    else if (byte >= 0xf0 && byte <= 0xf4) { needed = 3; minimum = 0x10000; codePoint = byte & 0x07; }
    else return index;
    if (index + needed >= length) return index;
    for (let offset = 1; offset <= needed; offset += 1) {
      const next = bytes[index + offset];
      if (next === undefined || (next & 0xc0) !== 0x80) return index;
      codePoint = (codePoint << 6) | (next & 0x3f);
    }
    if (codePoint < minimum || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return index;
    index += needed + 1;
  }
  return -1;
}

/** One line per problem, `file:line:col: severity: message`, for terminals and logs. */
export function formatProblem(entry: DatasetProblem): string {
  const where = entry.line > 0 ? `${entry.file}:${entry.line}${entry.column > 0 ? `:${entry.column}` : ''}` : entry.file;
  return `${where}: ${entry.severity}: ${entry.message}`;
}

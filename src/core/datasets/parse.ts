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
import type { Dataset, DatasetKind, DatasetProblem, ParseResult } from './types';
import { TARGET_NAMES } from './types';
import { CsvReader, type CsvRecord } from './csv';
import { EntityStore } from './entityStore';

export interface ParseOptions {
  /** Drop invalid rows (their problems become warnings) instead of failing. */
  readonly skipInvalid?: boolean;
  /** Force the dataset kind; by default it is inferred from the columns. */
  readonly kind?: DatasetKind;
  /** Force the format; by default `.jsonl`/`.ndjson` files are JSON Lines and everything else CSV. */
  readonly format?: 'csv' | 'jsonl';
  /** Plausible years [min, max] (default DEFAULT_YEAR_RANGE); a year outside is an error naming the range. */
  readonly yearRange?: readonly [number, number];
  /** Size of the pieces the input is read in (bytes for files and byte arrays, characters for text); for tests. */
  readonly chunkBytes?: number;
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

/** Bytes read per piece when a dataset is streamed from a file or a byte array. */
export const DEFAULT_CHUNK_BYTES = 1 << 20;

/** Something that can be read from the start, piece by piece, more than once (a file, a byte array). */
export type ByteSource = () => Iterable<Uint8Array>;

/** Dataset problems found before any row is read (encoding): they end the parse with just them. */
class InputProblem extends Error {
  constructor(readonly problem: DatasetProblem) {
    super(problem.message);
  }
}

/** Parse dataset bytes (checks the encoding first). */
export function parseDatasetBytes(bytes: Uint8Array, file: string, options: ParseOptions = {}): ParseResult {
  const step = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  return parseDatasetSource(function* () {
    for (let offset = 0; offset < bytes.length; offset += step) yield bytes.subarray(offset, offset + step);
  }, file, options);
}

/**
 * Parse a dataset read piece by piece: each piece is checked (UTF-8), decoded and parsed before the next is read,
 * and rows are kept compactly (entityStore.ts), so memory follows the rows kept, not the file's text. The source
 * is read once to look for a line feed (a file without any has classic Mac line ends) and once to parse; JSON
 * Lines whose later objects bring a column the parser interprets are read once more (columnsOf).
 */
export function parseDatasetSource(source: ByteSource, file: string, options: ParseOptions = {}): ParseResult {
  let head: Uint8Array = new Uint8Array(0);
  let hasLineFeed = false;
  for (const piece of source()) {
    if (head.length < UTF16_SAMPLE) head = concatBytes(head, piece.subarray(0, UTF16_SAMPLE - head.length));
    if (!hasLineFeed) hasLineFeed = piece.includes(LF_BYTE);
    if (hasLineFeed && head.length >= UTF16_SAMPLE) break;
  }
  const utf16 = utf16Kind(head);
  if (utf16 !== undefined) {
    return fail([problem('error', 'not-utf8', file, 1, 1, 1, `the file is ${utf16}, not UTF-8 (save it as UTF-8)`)]);
  }
  const texts = function* (): Generator<string> {
    const decoder = new TextDecoder('utf-8');
    const validator = new Utf8Validator(file);
    for (const piece of source()) {
      validator.push(piece);
      yield decoder.decode(piece, { stream: true });
    }
    validator.end();
    yield decoder.decode();
  };
  try {
    return parseTextSource(texts, file, options, !hasLineFeed);
  } catch (error) {
    if (error instanceof InputProblem) return fail([error.problem]);
    throw error;
  }
}

/** Parse dataset text. `file` is only used in problem locations. */
export function parseDatasetText(text: string, file: string, options: ParseOptions = {}): ParseResult {
  const step = options.chunkBytes ?? Number.POSITIVE_INFINITY;
  return parseTextSource(function* () {
    if (step >= text.length) yield text;
    else for (let offset = 0; offset < text.length; offset += step) yield text.slice(offset, offset + step);
  }, file, options, text.includes('\r') && !text.includes('\n'));
}

/** Text pieces (decoded), readable more than once. */
type TextSource = () => Iterable<string>;

function parseTextSource(source: TextSource, file: string, options: ParseOptions, carriageReturnLines: boolean): ParseResult {
  const format = options.format ?? (/\.(jsonl|ndjson)$/i.test(file) ? 'jsonl' : 'csv');
  const read = (columns?: readonly string[]): ParseResult => {
    const assembler = new DatasetAssembler(file, options, format, columns);
    // Classic Mac line ends (CR alone, no LF anywhere): read them as line ends.
    for (const piece of source()) assembler.push(carriageReturnLines ? piece.replace(/\r/g, '\n') : piece);
    return assembler.finish();
  };
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ColumnsChanged)) throw error;
    return read(jsonColumnsOf(source, carriageReturnLines));
  }
}

/** A JSON Lines object brought, after the first rows, a key the parser interprets: read again knowing every key. */
class ColumnsChanged extends Error {}

/** Every key of every JSON Lines object, in order of first appearance. */
function jsonColumnsOf(source: TextSource, carriageReturnLines: boolean): string[] {
  const columns = new Set<string>();
  const lines = new LineSplitter();
  const take = (line: string): void => {
    if (line.trim() === '') return;
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) for (const key of Object.keys(parsed)) columns.add(key);
    } catch {
      // Reported by the parse that follows.
    }
  };
  for (const piece of source()) lines.push(carriageReturnLines ? piece.replace(/\r/g, '\n') : piece, false, take);
  lines.push('', true, take);
  return [...columns];
}

/** Splits text pieces into lines at CRLF, LF or CR (a CR ending a piece waits: it may be half of a CRLF). */
class LineSplitter {
  private pending = '';
  push(piece: string, final: boolean, onLine: (line: string) => void): void {
    let text = this.pending + piece;
    let end = text.length;
    if (!final) {
      end = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
      // (lastIndexOf clamps a negative start to 0, which would find this very CR.)
      if (end === text.length - 1 && text.charCodeAt(end) === 0x0d) end = end === 0 ? -1 : Math.max(text.lastIndexOf('\n', end - 1), text.lastIndexOf('\r', end - 1));
      if (end === -1) {
        this.pending = text;
        return;
      }
      this.pending = text.slice(end + 1);
      // Cut before the whole line end (a CRLF is one).
      text = text.slice(0, text.charCodeAt(end) === 0x0a && text.charCodeAt(end - 1) === 0x0d ? end - 1 : end);
    } else {
      this.pending = '';
    }
    for (const line of text.split(/\r\n|\r|\n/)) onLine(line);
  }
}

const UTF16_SAMPLE = 4096;
const LF_BYTE = 0x0a;

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/**
 * Checks UTF-8 piece by piece (a sequence may straddle two pieces) and throws an InputProblem naming the line,
 * column and byte offset of the first invalid sequence.
 */
class Utf8Validator {
  private offset = 0;
  private line = 1;
  private lineStart = 0;
  private needed = 0;
  private minimum = 0;
  private codePoint = 0;
  private sequenceStart = 0;
  private leadByte = 0;

  constructor(private readonly file: string) {}

  push(bytes: Uint8Array): void {
    const length = bytes.length;
    let { needed, minimum, codePoint } = this;
    for (let index = 0; index < length; index += 1) {
      const byte = bytes[index];
      if (needed > 0) {
        if ((byte & 0xc0) !== 0x80) this.invalid();
        codePoint = (codePoint << 6) | (byte & 0x3f);
        needed -= 1;
        if (needed === 0 && (codePoint < minimum || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff))) this.invalid();
        continue;
      }
      if (byte < 0x80) {
        if (byte === LF_BYTE) {
          this.line += 1;
          this.lineStart = this.offset + index + 1;
        }
        continue;
      }
      this.sequenceStart = this.offset + index;
      this.leadByte = byte;
      if (byte >= 0xc2 && byte <= 0xdf) { needed = 1; minimum = 0x80; codePoint = byte & 0x1f; }
      else if (byte >= 0xe0 && byte <= 0xef) { needed = 2; minimum = 0x800; codePoint = byte & 0x0f; }
      else if (byte >= 0xf0 && byte <= 0xf4) { needed = 3; minimum = 0x10000; codePoint = byte & 0x07; }
      else this.invalid();
    }
    this.needed = needed;
    this.minimum = minimum;
    this.codePoint = codePoint;
    this.offset += length;
  }

  /** The end of the input: a sequence still open is invalid. */
  end(): void {
    if (this.needed > 0) this.invalid();
  }

  private invalid(): never {
    const column = this.sequenceStart - this.lineStart + 1;
    throw new InputProblem(problem('error', 'not-utf8', this.file, this.line, column, 1,
      `not UTF-8 text: invalid byte 0x${this.leadByte.toString(16).padStart(2, '0')} at byte ${this.sequenceStart} (save the file as UTF-8)`));
  }
}

/** How the columns are used, worked out once from the header (CSV) or the first object (JSON Lines). */
interface Roles {
  readonly kind: DatasetKind;
  readonly nameColumn?: string;
  readonly titleColumn?: string;
  readonly creatorColumn?: string;
  readonly latitudeColumn?: string;
  readonly longitudeColumn?: string;
  readonly yearColumn?: string;
  readonly dateColumn?: string;
  readonly isTestColumn?: string;
  readonly nameAt: number;
  readonly titleAt: number;
  readonly creatorAt: number;
  readonly latitudeAt: number;
  readonly longitudeAt: number;
  readonly yearAt: number;
  readonly dateAt: number;
  readonly isTestAt: number;
  readonly metadataColumns: string[];
  readonly metadataAt: number[];
}

/** The roles of `columns`, or the problems that make the file unusable (ambiguous or missing columns). */
function resolveRoles(columns: readonly string[], file: string, options: ParseOptions): Roles | DatasetProblem[] {
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
  if (ambiguous.length > 0) return ambiguous;
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
  if (fileProblems.length > 0 || kind === undefined) return fileProblems;

  const usedColumns = new Set([nameColumn, titleColumn, creatorColumn, latitudeColumn, longitudeColumn, yearColumn, dateColumn, isTestColumn]);
  const metadataColumns = columns.filter((column) => !usedColumns.has(column));
  const columnIndex = new Map(columns.map((column, index) => [column, index]));
  const indexOf = (column: string | undefined): number => (column === undefined ? -1 : columnIndex.get(column) ?? -1);
  return {
    kind, nameColumn, titleColumn, creatorColumn, latitudeColumn, longitudeColumn, yearColumn, dateColumn, isTestColumn,
    nameAt: indexOf(nameColumn), titleAt: indexOf(titleColumn), creatorAt: indexOf(creatorColumn), latitudeAt: indexOf(latitudeColumn),
    longitudeAt: indexOf(longitudeColumn), yearAt: indexOf(yearColumn), dateAt: indexOf(dateColumn), isTestAt: indexOf(isTestColumn),
    metadataColumns, metadataAt: metadataColumns.map(indexOf),
  };
}

/**
 * Builds a dataset from text pieces: rows are read, checked and stored as they arrive (nothing keeps the file's
 * records), problems are collected for the whole file, and `finish` decides as the whole-file parse did.
 */
class DatasetAssembler {
  /** Problems local to rows (they make those rows invalid). */
  private readonly problems: DatasetProblem[] = [];
  /** Field-count and JSON syntax problems: reported even when the columns make the file unusable. */
  private readonly rowProblems: DatasetProblem[] = [];
  /** Problems that make the whole file unusable (syntax, header). */
  private readonly fatal: DatasetProblem[] = [];
  /** Ambiguous or missing columns, once known. */
  private roleProblems: DatasetProblem[] | undefined;
  private roles: Roles | undefined;
  private store: EntityStore | undefined;
  /** Text before the first non-blank character (an all-blank file is "empty"). */
  private leading: string | undefined = '';
  private atStart = true;
  private readonly csv: CsvReader | undefined;
  private readonly lines: LineSplitter | undefined;
  private columns: string[] = [];
  private readonly known = new Map<string, number>();
  private records = 0;
  private jsonLine = 0;
  private readonly yearRange: readonly [number, number];

  constructor(private readonly file: string, private readonly options: ParseOptions, private readonly format: 'csv' | 'jsonl',
    presetColumns: readonly string[] | undefined) {
    this.yearRange = options.yearRange ?? DEFAULT_YEAR_RANGE;
    if (format === 'csv') this.csv = new CsvReader();
    else {
      this.lines = new LineSplitter();
      if (presetColumns !== undefined) {
        presetColumns.forEach((column) => this.addJsonColumn(column));
        this.settleRoles();
      }
    }
  }

  push(piece: string): void {
    if (this.atStart && piece.length > 0) {
      this.atStart = false;
      if (piece.charCodeAt(0) === 0xfeff) piece = piece.slice(1);
    }
    if (this.leading !== undefined) {
      this.leading += piece;
      if (!/\S/.test(piece)) return;
      piece = this.leading;
      this.leading = undefined;
    }
    this.feed(piece, false);
  }

  private feed(piece: string, final: boolean): void {
    if (this.csv !== undefined) this.csv.push(piece, final, (record) => this.csvRecord(record));
    else this.lines!.push(piece, final, (line) => this.jsonRecord(line));
  }

  private csvRecord(record: CsvRecord): void {
    this.records += 1;
    if (this.records === 1) {
      this.csvHeader(record);
      return;
    }
    if (record.values.length !== this.columns.length) {
      const fields = record.fields;
      const last = fields[fields.length - 1];
      this.rowProblems.push(problem('error', 'field-count', this.file, record.line,
        fields.length > this.columns.length ? fields[this.columns.length].column : last.column + last.length, 1,
        `expected ${this.columns.length} fields (as in the header), found ${fields.length}`));
      return;
    }
    if (this.fatal.length === 0) this.addRow(new CsvRow(record));
  }

  private csvHeader(header: CsvRecord): void {
    const columns = header.fields.map((field) => field.value.trim());
    const seen = new Set<string>();
    header.fields.forEach((field, index) => {
      const name = columns[index];
      if (name === '') {
        this.fatal.push(problem('error', 'empty-column-name', this.file, field.line, field.column, Math.max(field.length, 1), `column ${index + 1} of the header has no name`));
      } else if (seen.has(name)) {
        this.fatal.push(problem('error', 'duplicate-column', this.file, field.line, field.column, field.length, `column "${name}" appears twice in the header`, name));
      }
      seen.add(name);
    });
    this.columns = columns;
    if (this.fatal.length === 0) this.settleRoles();
  }

  private settleRoles(): void {
    const roles = resolveRoles(this.columns, this.file, this.options);
    if (Array.isArray(roles)) {
      this.roleProblems = roles;
      return;
    }
    this.roles = roles;
    this.store = new EntityStore(TARGET_NAMES[roles.kind].length, roles.metadataColumns);
  }

  private addJsonColumn(key: string): number {
    const index = this.columns.length;
    this.known.set(key, index);
    this.columns.push(key);
    return index;
  }

  private jsonRecord(source: string): void {
    this.jsonLine += 1;
    const line = this.jsonLine;
    if (source.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(source);
    } catch (error) {
      this.rowProblems.push(problem('error', 'json-syntax', this.file, line, 1, source.length, `not valid JSON: ${(error as Error).message}`));
      return;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      this.rowProblems.push(problem('error', 'json-syntax', this.file, line, 1, source.length, 'each line must be a JSON object'));
      return;
    }
    const settled = this.roles !== undefined || this.roleProblems !== undefined;
    const values: (string | undefined)[] = [];
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      let index = this.known.get(key);
      if (index === undefined) {
        // A key first seen now: harmless as metadata, but one the parser interprets could change every role.
        if (settled && KNOWN_COLUMNS.has(key.toLowerCase())) throw new ColumnsChanged();
        index = this.addJsonColumn(key);
        if (this.roles !== undefined) {
          this.roles.metadataColumns.push(key);
          this.roles.metadataAt.push(index);
          this.store!.addMetadataColumn(key);
        }
      }
      // JSON.parse reads 1e309 as Infinity, which JSON.stringify would print as "null": keep it recognisable.
      values[index] = value === null || value === undefined ? '' : typeof value === 'string' ? value
        : typeof value === 'number' && !Number.isFinite(value) ? `${String(value)} (a JSON number too large for a float64)` : JSON.stringify(value);
    }
    if (!settled) this.settleRoles();
    this.records += 1;
    const columns = this.columns;
    const cellAt = (index: number): Cell | undefined => {
      const value = values[index];
      if (value === undefined) return undefined;
      // Point at the key when we can find it in the line; fall back to the line start.
      const quotedKey = JSON.stringify(columns[index]);
      const keyAt = source.indexOf(quotedKey);
      return { value, line, column: keyAt === -1 ? 1 : keyAt + 1, length: keyAt === -1 ? 1 : quotedKey.length };
    };
    this.addRow({ line, values, cellAt, anchor: () => ({ value: '', line, column: 1, length: source.length }) });
  }

  /** Check one data row and keep it when it is valid. */
  private addRow(row: RawRow): void {
    const roles = this.roles;
    if (roles === undefined) return;
    const problems = this.problems;
    const file = this.file;
    const before = problems.length;
    const values = row.values;
    const value = (at: number): string | undefined => (at < 0 ? undefined : values[at]);
    const report: Reporter = (code, at, field, message) => {
      const where = (at < 0 ? undefined : row.cellAt(at)) ?? row.anchor();
      problems.push(problem('error', code, file, where.line, where.column, Math.max(where.length, 1), message, field));
    };
    const { nameColumn, titleColumn, latitudeColumn, longitudeColumn, yearColumn, dateColumn, isTestColumn } = roles;

    // Entity text.
    let name = '';
    if (nameColumn !== undefined) {
      name = (value(roles.nameAt) ?? '').trim();
      if (name === '') report('empty-name', roles.nameAt, nameColumn, `empty entity name in column "${nameColumn}"`);
    } else if (titleColumn !== undefined) {
      const title = (value(roles.titleAt) ?? '').trim();
      const creator = (value(roles.creatorAt) ?? '').trim();
      if (title === '') report('empty-name', roles.titleAt, titleColumn, `empty entity name in column "${titleColumn}"`);
      name = creator !== '' && title !== '' ? `${creator}'s ${title}` : title;
    }

    // Targets.
    const target: number[] = [];
    if (roles.kind === 'space') {
      const latitude = readNumber(value(roles.latitudeAt), roles.latitudeAt, latitudeColumn!, report);
      const longitude = readNumber(value(roles.longitudeAt), roles.longitudeAt, longitudeColumn!, report);
      if (latitude !== undefined && (latitude < -90 || latitude > 90)) {
        report('out-of-range', roles.latitudeAt, latitudeColumn!, `latitude ${latitude} is outside [-90, 90]`);
      }
      if (longitude !== undefined && (longitude < -180 || longitude > 180)) {
        report('out-of-range', roles.longitudeAt, longitudeColumn!, `longitude ${longitude} is outside [-180, 180]`);
      }
      target.push(latitude ?? Number.NaN, longitude ?? Number.NaN);
    } else {
      const column = yearColumn ?? dateColumn!;
      const at = yearColumn !== undefined ? roles.yearAt : roles.dateAt;
      const year = yearColumn !== undefined ? readNumber(value(roles.yearAt), roles.yearAt, yearColumn, report)
        : readDateYear(value(roles.dateAt), roles.dateAt, dateColumn!, report);
      const yearRange = this.yearRange;
      if (year !== undefined && (year < yearRange[0] || year > yearRange[1])) {
        report('out-of-range', at, column, `year ${(value(at) ?? '').trim()} in column "${column}" is outside the plausible range ` +
          `${yearRange[0]}…${yearRange[1]} (widen it with --year-range MIN:MAX if it is right)`);
      }
      target.push(year ?? Number.NaN);
    }

    // Split column.
    let isTest: boolean | undefined;
    if (isTestColumn !== undefined) {
      const raw = (value(roles.isTestAt) ?? '').trim().toLowerCase();
      if (TRUE_WORDS.has(raw)) isTest = true;
      else if (FALSE_WORDS.has(raw)) isTest = false;
      else report('bad-boolean', roles.isTestAt, isTestColumn, `is_test must be true or false, got "${value(roles.isTestAt) ?? ''}"`);
    }

    if (problems.length > before) return;
    const metadata = roles.metadataAt.map((at) => value(at) ?? '');
    this.store!.push(row.line, name, target, isTest, metadata);
  }

  finish(): ParseResult {
    const file = this.file;
    if (this.leading !== undefined) {
      return fail([problem('error', 'empty-file', file, 0, 0, 0, 'empty file: expected a header row and at least one data row')]);
    }
    this.feed('', true);
    if (this.csv !== undefined) {
      const fatal = [...this.csv.errors.map((error) => problem('error', 'csv-syntax', file, error.line, error.column, 1, error.message)), ...this.fatal];
      if (this.records === 0) return fail(fatal.length > 0 ? fatal : [problem('error', 'empty-file', file, 0, 0, 0, 'empty file')]);
      if (this.records === 1 && fatal.length === 0) return fail([problem('error', 'header-only', file, 1, 1, 0, 'the file has a header row but no data rows')]);
      if (fatal.length > 0) return fail(fatal);
    } else if (this.records === 0 && this.rowProblems.length === 0) {
      return fail([problem('error', 'empty-file', file, 0, 0, 0, 'no JSON objects in the file')]);
    }
    if (this.roleProblems !== undefined) return fail([...this.roleProblems, ...this.rowProblems]);
    const roles = this.roles;
    const store = this.store;
    if (roles === undefined || store === undefined) return fail(this.rowProblems);
    const problems = [...this.rowProblems, ...this.problems];

    // Duplicate entity texts: a warning when the targets differ (the paper's USA and NYC files have dozens).
    const width = TARGET_NAMES[roles.kind].length;
    for (const [first, row] of store.repeatedNames()) {
      let differs = false;
      for (let index = 0; index < width; index += 1) if (store.targetAt(first, index) !== store.targetAt(row, index)) differs = true;
      if (differs) {
        const name = store.nameAt(row);
        problems.push(problem('warning', 'duplicate-entity', file, store.lineAt(row), 1, name.length,
          `"${name}" also appears on line ${store.lineAt(first)} with a different target (${store.targetOf(first).join(', ')} vs ${store.targetOf(row).join(', ')})`));
      }
    }

    const errors = problems.filter((entry) => entry.severity === 'error');
    if (errors.length > 0 && !this.options.skipInvalid) return fail(sortProblems(problems));
    const kept = this.options.skipInvalid ? problems.map((entry) => (entry.severity === 'error' ? { ...entry, severity: 'warning' as const, message: `${entry.message} (row skipped)` } : entry)) : problems;
    if (store.length === 0) {
      return fail(sortProblems([...problems, problem('error', 'no-valid-rows', file, 0, 0, 0, 'no valid data rows')]));
    }
    const dataset: Dataset = {
      source: file,
      kind: roles.kind,
      targets: TARGET_NAMES[roles.kind],
      entities: store.entities(),
      problems: sortProblems(kept),
    };
    return { ok: true, dataset };
  }
}

/** A CSV record as a RawRow (a class, not an object with two closures: there is one per data row). */
class CsvRow implements RawRow {
  constructor(private readonly record: CsvRecord) {}
  get line(): number { return this.record.line; }
  get values(): readonly string[] { return this.record.values; }
  cellAt(index: number): Cell | undefined { return this.record.fields[index]; }
  anchor(): Cell { return this.record.fields[0]; }
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

/** One line per problem, `file:line:col: severity: message`, for terminals and logs. */
export function formatProblem(entry: DatasetProblem): string {
  const where = entry.line > 0 ? `${entry.file}:${entry.line}${entry.column > 0 ? `:${entry.column}` : ''}` : entry.file;
  return `${where}: ${entry.severity}: ${entry.message}`;
}

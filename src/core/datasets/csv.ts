/**
 * A small RFC 4180 CSV reader that remembers where every field starts, so validation problems can point at
 * an exact line and column (the Problems panel and `file:line:col` messages need that; generic CSV libraries
 * drop positions).
 *
 * Accepted: comma separator, CRLF or LF line ends, quoted fields with doubled quotes, newlines inside quotes,
 * a trailing newline or none. Blank lines between records are skipped (they are common at file ends).
 */

export interface CsvField {
  readonly value: string;
  /** 1-based line where the field starts. */
  readonly line: number;
  /** 1-based column (UTF-16 units) where the field starts (the opening quote for quoted fields). */
  readonly column: number;
  /** Length of the field's source text on its first line, for editor ranges. */
  readonly length: number;
}

export interface CsvRecord {
  /** 1-based line where the record starts. */
  readonly line: number;
  /** The fields' values (quotes removed, doubled quotes undone). */
  readonly values: readonly string[];
  /** The same fields with their positions; worked out on first use (only problems need them). */
  readonly fields: readonly CsvField[];
}

export interface CsvSyntaxError {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export interface CsvParseOutput {
  readonly records: readonly CsvRecord[];
  readonly errors: readonly CsvSyntaxError[];
}

/** Where the scanner stands: offset in the text, current line and the offset where that line starts. */
interface Cursor {
  position: number;
  line: number;
  lineStart: number;
}

/**
 * A record remembers where it starts and re-reads its own text when its field positions are asked for. Creating
 * a position object per field up front cost more than the scan itself (a 40,000-row, 11-column file is 440,000
 * fields), and positions are only needed for the few fields a problem points at.
 */
class LazyRecord implements CsvRecord {
  private positions: readonly CsvField[] | undefined;

  constructor(private readonly text: string, private readonly start: number, readonly line: number, private readonly lineStart: number,
    readonly values: readonly string[]) {}

  get fields(): readonly CsvField[] {
    if (this.positions === undefined) {
      const fields: CsvField[] = [];
      scanRecord(this.text, { position: this.start, line: this.line, lineStart: this.lineStart }, [], fields);
      this.positions = fields;
    }
    return this.positions;
  }
}

/** Parse CSV text (BOM already removed) into records; field positions are available per record on demand. */
export function parseCsv(text: string): CsvParseOutput {
  const records: CsvRecord[] = [];
  const reader = new CsvReader();
  reader.push(text, true, (record) => records.push(record));
  return { records, errors: reader.errors };
}

/**
 * The same reader fed piece by piece (a file read in chunks): `push` hands over every record that is complete in
 * the text so far and keeps the unfinished tail for the next piece. A record counts as complete only when its
 * line end lies inside the text: a record touching the end of a piece (an open quote, a `"` that may be the first
 * of a doubled pair, a CR that may be the first half of CRLF) is read again, from its start, once more text came.
 * Line numbers carry over between pieces, so they are those of the whole file.
 */
export class CsvReader {
  /** Syntax errors of the records read so far. */
  readonly errors: CsvSyntaxError[] = [];
  private text = '';
  private readonly cursor: Cursor = { position: 0, line: 1, lineStart: 0 };
  /** An unterminated quote ends the file: nothing after it is read. */
  private ended = false;
  /** Length of the unfinished tail at the last try: it is tried again only once the text has doubled (linear total). */
  private waitFor = 0;

  push(piece: string, final: boolean, onRecord: (record: CsvRecord) => void): void {
    if (this.ended) return;
    const cursor = this.cursor;
    if (cursor.position > 0) {
      this.text = this.text.slice(cursor.position) + piece;
      cursor.lineStart -= cursor.position;
      cursor.position = 0;
    } else {
      this.text += piece;
    }
    const text = this.text;
    const length = text.length;
    if (!final && length < this.waitFor) return;
    while (cursor.position < length) {
      // Skip blank lines between records. (charCodeAt throughout: indexing a string makes a one-character string.)
      const first = text.charCodeAt(cursor.position);
      if (first === LF || (first === CR && text.charCodeAt(cursor.position + 1) === LF)) {
        cursor.position += first === CR ? 2 : 1;
        cursor.line += 1;
        cursor.lineStart = cursor.position;
        continue;
      }
      const { position, line, lineStart } = cursor;
      const values: string[] = [];
      const errors: CsvSyntaxError[] = [];
      const status = scanRecord(text, cursor, values, undefined, errors);
      const complete = final || (status === 'line-end' && !(cursor.position === length && text.charCodeAt(length - 1) === CR));
      if (!complete) {
        cursor.position = position;
        cursor.line = line;
        cursor.lineStart = lineStart;
        this.waitFor = 2 * (length - position);
        return;
      }
      this.errors.push(...errors);
      if (status === 'unterminated') {
        this.ended = true;
        return;
      }
      onRecord(new LazyRecord(text, position, line, lineStart, values));
    }
    this.waitFor = 0;
  }
}

/**
 * Read one record from `cursor` (advanced past its line end), pushing values, and field positions when `fields`
 * is given. Returns how it ended: at a line end (consumed), at the end of the text, or on an unterminated quote
 * (reported in `errors`), which ends the file.
 */
function scanRecord(text: string, cursor: Cursor, values: string[], fields?: CsvField[], errors?: CsvSyntaxError[]): 'line-end' | 'end-of-text' | 'unterminated' {
  const length = text.length;
  for (;;) {
    const fieldLine = cursor.line;
    const fieldColumn = cursor.position - cursor.lineStart + 1;
    let value: string;
    let fieldLength: number;
    if (text.charCodeAt(cursor.position) === QUOTE) {
      // Quoted field: runs to the next quote not followed by another quote.
      const position = cursor.position;
      let scan = position + 1;
      let collected = '';
      let closed = false;
      while (scan < length) {
        const next = text.indexOf('"', scan);
        if (next === -1) break;
        collected += text.slice(scan, next);
        if (text.charCodeAt(next + 1) === QUOTE) {
          collected += '"';
          scan = next + 2;
          continue;
        }
        scan = next + 1;
        closed = true;
        break;
      }
      if (!closed) {
        errors?.push({ line: fieldLine, column: fieldColumn, message: 'unterminated quoted field (a " opened here is never closed)' });
        return 'unterminated';
      }
      // Count the newlines the quoted field spanned, to keep line numbers right.
      const raw = text.slice(position, scan);
      const firstBreak = raw.search(/\r?\n/);
      fieldLength = firstBreak === -1 ? raw.length : firstBreak;
      for (let index = raw.indexOf('\n'); index !== -1; index = raw.indexOf('\n', index + 1)) {
        cursor.line += 1;
        cursor.lineStart = position + index + 1;
      }
      value = collected;
      cursor.position = scan;
      const after = text.charCodeAt(scan);
      if (scan < length && after !== COMMA && after !== LF && after !== CR) {
        errors?.push({ line: cursor.line, column: scan - cursor.lineStart + 1, message: 'unexpected text after a closing quote (quotes inside a field must be doubled: "")' });
        // Recover: treat the rest up to the delimiter as part of the field.
        const stop = nextDelimiter(text, scan);
        value += text.slice(scan, stop);
        cursor.position = stop;
      }
    } else {
      const stop = nextDelimiter(text, cursor.position);
      value = text.slice(cursor.position, stop);
      fieldLength = value.length;
      cursor.position = stop;
    }
    values.push(value);
    fields?.push({ value, line: fieldLine, column: fieldColumn, length: fieldLength });
    const delimiter = text.charCodeAt(cursor.position);
    if (cursor.position >= length) return 'end-of-text';
    if (delimiter === COMMA) {
      cursor.position += 1;
    } else {
      cursor.position += delimiter === CR && text.charCodeAt(cursor.position + 1) === LF ? 2 : 1;
      cursor.line += 1;
      cursor.lineStart = cursor.position;
      return 'line-end';
    }
  }
}

const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

function nextDelimiter(text: string, from: number): number {
  const length = text.length;
  for (let index = from; index < length; index += 1) {
    const code = text.charCodeAt(index);
    if (code === COMMA || code === LF) return index;
    if (code === CR && text.charCodeAt(index + 1) === LF) return index;
  }
  return length;
}

/** Quote a value for CSV output when it needs it (RFC 4180). */
export function csvEscape(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

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

/** Parse CSV text (BOM already removed) into records with field positions. */
export function parseCsv(text: string): CsvParseOutput {
  const records: CsvRecord[] = [];
  const errors: CsvSyntaxError[] = [];
  let position = 0;
  let line = 1;
  let lineStart = 0;
  const length = text.length;

  while (position < length) {
    // Skip blank lines between records.
    if (text[position] === '\n' || (text[position] === '\r' && text[position + 1] === '\n')) {
      position += text[position] === '\r' ? 2 : 1;
      line += 1;
      lineStart = position;
      continue;
    }
    const recordLine = line;
    const fields: CsvField[] = [];
    let recordDone = false;
    while (!recordDone) {
      const fieldLine = line;
      const fieldColumn = position - lineStart + 1;
      let value: string;
      let fieldLength: number;
      if (text[position] === '"') {
        // Quoted field: runs to the next quote not followed by another quote.
        let cursor = position + 1;
        let collected = '';
        let closed = false;
        while (cursor < length) {
          const next = text.indexOf('"', cursor);
          if (next === -1) break;
          collected += text.slice(cursor, next);
          if (text[next + 1] === '"') {
            collected += '"';
            cursor = next + 2;
            continue;
          }
          cursor = next + 1;
          closed = true;
          break;
        }
        if (!closed) {
          errors.push({ line: fieldLine, column: fieldColumn, message: 'unterminated quoted field (a " opened here is never closed)' });
          return { records, errors };
        }
        // Count the newlines the quoted field spanned, to keep line numbers right.
        const raw = text.slice(position, cursor);
        const firstBreak = raw.search(/\r?\n/);
        fieldLength = firstBreak === -1 ? raw.length : firstBreak;
        for (let index = raw.indexOf('\n'); index !== -1; index = raw.indexOf('\n', index + 1)) {
          line += 1;
          lineStart = position + index + 1;
        }
        value = collected;
        position = cursor;
        if (position < length && text[position] !== ',' && text[position] !== '\n' && text[position] !== '\r') {
          errors.push({ line, column: position - lineStart + 1, message: 'unexpected text after a closing quote (quotes inside a field must be doubled: "")' });
          // Recover: treat the rest up to the delimiter as part of the field.
          const stop = nextDelimiter(text, position);
          value += text.slice(position, stop);
          position = stop;
        }
      } else {
        const stop = nextDelimiter(text, position);
        value = text.slice(position, stop);
        fieldLength = value.length;
        position = stop;
      }
      fields.push({ value, line: fieldLine, column: fieldColumn, length: fieldLength });
      if (position >= length) {
        recordDone = true;
      } else if (text[position] === ',') {
        position += 1;
      } else {
        position += text[position] === '\r' && text[position + 1] === '\n' ? 2 : 1;
        line += 1;
        lineStart = position;
        recordDone = true;
      }
    }
    records.push({ line: recordLine, fields });
  }
  return { records, errors };
}

function nextDelimiter(text: string, from: number): number {
  for (let index = from; index < text.length; index += 1) {
    const character = text[index];
    if (character === ',' || character === '\n') return index;
    if (character === '\r' && text[index + 1] === '\n') return index;
  }
  return text.length;
}

/** Quote a value for CSV output when it needs it (RFC 4180). */
export function csvEscape(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

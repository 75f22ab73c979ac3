// RFC 4180 CSV reading and writing for the dataset build (UTF-8, LF line endings, fields quoted only when needed).
// The build script runs before anything is compiled, so it cannot use src/core/datasets/csv.ts.

/** Quote a field when it holds a comma, a double quote, a line break, or leading/trailing spaces. */
export function csvField(value) {
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV document: header line, then one line per row, each ending in "\n". */
export function formatCsv(columns, rows) {
  const lines = [columns.map(csvField).join(',')];
  for (const row of rows) {
    lines.push(columns.map((column) => csvField(row[column] ?? '')).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Parse CSV text into objects keyed by the header. Throws with file and line on a syntax error
 * (unterminated quote, stray quote inside an unquoted field, wrong number of fields).
 */
export function parseCsv(text, file) {
  const records = [];
  let record = [];
  let field = '';
  let inQuotes = false;
  let fieldStarted = false;
  let line = 1;
  let recordLine = 1;
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let index = 0; index < body.length; index += 1) {
    const char = body[index];
    if (inQuotes) {
      if (char === '"') {
        if (body[index + 1] === '"') {
          field += '"';
          index += 1;
        } else {
          inQuotes = false;
        }
      } else {
        if (char === '\n') line += 1;
        field += char;
      }
      continue;
    }
    if (char === '"') {
      if (fieldStarted) throw new Error(`${file}:${line}: stray double quote inside an unquoted field`);
      inQuotes = true;
      fieldStarted = true;
    } else if (char === ',') {
      record.push(field);
      field = '';
      fieldStarted = false;
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && body[index + 1] === '\n') index += 1;
      record.push(field);
      records.push({ line: recordLine, fields: record });
      record = [];
      field = '';
      fieldStarted = false;
      line += 1;
      recordLine = line;
    } else {
      field += char;
      fieldStarted = true;
    }
  }
  if (inQuotes) throw new Error(`${file}:${recordLine}: unterminated quoted field`);
  if (fieldStarted || record.length > 0) {
    record.push(field);
    records.push({ line: recordLine, fields: record });
  }
  const nonEmpty = records.filter((entry) => !(entry.fields.length === 1 && entry.fields[0] === ''));
  if (nonEmpty.length === 0) throw new Error(`${file}: empty CSV`);
  const [header, ...rows] = nonEmpty;
  return rows.map((entry) => {
    if (entry.fields.length !== header.fields.length) {
      throw new Error(`${file}:${entry.line}: expected ${header.fields.length} fields, found ${entry.fields.length}`);
    }
    const row = { __line: entry.line };
    header.fields.forEach((column, position) => { row[column] = entry.fields[position]; });
    return row;
  });
}

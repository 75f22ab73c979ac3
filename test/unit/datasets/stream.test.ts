/**
 * The streamed dataset parse (parse.ts parseDatasetSource, csv.ts CsvReader, entityStore.ts): a file read in
 * pieces as small as one byte gives exactly what the whole text parsed at once gives, and both agree with a
 * deliberately naive reference reader written here (character by character over the whole text) on every row's
 * line, name, targets, split flag and metadata, and on the line, column and field of every problem — with quoted
 * fields holding LF and CRLF, mixed line ends, blank lines, a BOM and multi-byte characters split between pieces.
 */
import { test, describe } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadDataset, DatasetError } from '../../../src/core/datasets/load';
import { parseDatasetBytes, parseDatasetText } from '../../../src/core/datasets/parse';
import type { DatasetProblem, Entity, ParseResult } from '../../../src/core/datasets/types';

/** A record as the reference reader sees it: the line it starts on, and per field its value, line and column. */
interface ReferenceRecord {
  readonly line: number;
  readonly fields: { value: string; line: number; column: number }[];
}

/** RFC 4180 by hand, on the whole text: no pieces, no shared code with csv.ts. */
function referenceCsv(text: string): ReferenceRecord[] {
  const records: ReferenceRecord[] = [];
  let line = 1;
  let lineStart = 0;
  let index = 0;
  while (index < text.length) {
    if (text[index] === '\n') { index += 1; line += 1; lineStart = index; continue; }
    if (text.startsWith('\r\n', index)) { index += 2; line += 1; lineStart = index; continue; }
    const record: ReferenceRecord = { line, fields: [] };
    for (;;) {
      const field = { value: '', line, column: index - lineStart + 1 };
      if (text[index] === '"') {
        index += 1;
        for (;;) {
          if (text[index] === '"' && text[index + 1] === '"') { field.value += '"'; index += 2; continue; }
          if (text[index] === '"') { index += 1; break; }
          if (text[index] === '\n') { line += 1; lineStart = index + 1; }
          field.value += text[index];
          index += 1;
        }
      } else {
        while (index < text.length && text[index] !== ',' && text[index] !== '\n' && !text.startsWith('\r\n', index)) {
          field.value += text[index];
          index += 1;
        }
      }
      record.fields.push(field);
      if (text[index] === ',') { index += 1; continue; }
      if (text.startsWith('\r\n', index)) index += 2;
      else if (index < text.length) index += 1;
      line += 1;
      lineStart = index;
      break;
    }
    records.push(record);
  }
  return records;
}

/** Deterministic awkward rows: names with commas, quotes, LF and CRLF inside, accents and emoji; some bad rows. */
function awkwardCsv(rows: number): { text: string; bad: Set<number> } {
  const bad = new Set<number>();
  let text = '\ufeffname,latitude,longitude,country,is_test,note\r\n';
  for (let row = 0; row < rows; row += 1) {
    const kind = row % 9;
    const name = kind === 0 ? `"Saint-${row}, ville"` : kind === 1 ? `"Line ${row}\nsecond line"` : kind === 2 ? `"Crlf ${row}\r\nnext"`
      : kind === 3 ? `"Quote ""${row}"" here"` : kind === 4 ? `Zürich ${row} 🏔` : `Place ${row}`;
    const latitude = kind === 5 && row % 4 === 1 ? 'north' : ((row * 7.3) % 180 - 90).toFixed(3);
    if (kind === 5 && row % 4 === 1) bad.add(row);
    const longitude = ((row * 13.1) % 360 - 180).toFixed(3);
    const lineEnd = row % 3 === 0 ? '\r\n' : '\n';
    // A quoted last field right before CRLF: the CR may end one piece and the LF start the next.
    const note = row % 2 === 0 ? `"n${row}"` : `n${row}`;
    text += `${name},${latitude},${longitude},${['FR', 'CH', 'JP'][row % 3]},${row % 5 === 0},${note}${lineEnd}`;
    if (row % 17 === 0) text += row % 2 === 0 ? '\r\n' : '\n';
  }
  return { text, bad };
}

function plain(entity: Entity): object {
  return { line: entity.line, name: entity.name, target: [...entity.target], isTest: entity.isTest, metadata: { ...entity.metadata } };
}

function summary(result: ParseResult): { entities: object[]; problems: readonly DatasetProblem[] } {
  return result.ok ? { entities: result.dataset.entities.map(plain), problems: result.dataset.problems } : { entities: [], problems: result.problems };
}

function tempFile(name: string, content: string | Uint8Array): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-stream-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

const PIECES = [1, 2, 3, 5, 7, 64, 1000];

describe('streamed dataset parse', () => {
  const { text, bad } = awkwardCsv(400);
  const file = tempFile('awkward.csv', text);

  test('pieces of every size give what the whole text gives (rows and problems)', () => {
    const whole = summary(parseDatasetText(text.slice(1), file, { skipInvalid: true }));
    assert.equal(whole.entities.length, 400 - bad.size);
    for (const chunkBytes of PIECES) {
      const streamed = summary((() => {
        try {
          const dataset = loadDataset(file, { skipInvalid: true, chunkBytes });
          return { ok: true as const, dataset };
        } catch (error) {
          assert.fail(`chunkBytes ${chunkBytes}: ${(error as DatasetError).lines?.().join('\n') ?? error}`);
        }
      })());
      assert.deepEqual(streamed, whole, `file read ${chunkBytes} bytes at a time`);
      assert.deepEqual(summary(parseDatasetText(text, file, { skipInvalid: true, chunkBytes })), whole, `text fed ${chunkBytes} characters at a time`);
    }
  });

  test('rows and problem positions agree with the naive reference reader', () => {
    const records = referenceCsv(text.slice(1));
    const data = records.slice(1);
    assert.equal(data.length, 400);
    const expectedEntities = data.filter((_, row) => !bad.has(row)).map((record) => {
      const [name, latitude, longitude, country, isTest, note] = record.fields.map((field) => field.value);
      return { line: record.line, name: name.trim(), target: [Number(latitude), Number(longitude)], isTest: isTest === 'true', metadata: { country, note } };
    });
    const expectedProblems = data.filter((_, row) => bad.has(row)).map((record) => {
      const field = record.fields[1];
      return [field.line, field.column, 'latitude', 'non-numeric'];
    });
    for (const chunkBytes of [1, 3, 7, 1 << 20]) {
      const dataset = loadDataset(file, { skipInvalid: true, chunkBytes });
      assert.deepEqual(dataset.entities.map(plain), expectedEntities, `chunkBytes ${chunkBytes}`);
      assert.deepEqual(dataset.problems.map((entry) => [entry.line, entry.column, entry.field, entry.code]), expectedProblems, `chunkBytes ${chunkBytes}`);
      assert.throws(() => loadDataset(file, { chunkBytes }), (error: unknown) => {
        assert.ok(error instanceof DatasetError);
        assert.deepEqual(error.problems.map((entry) => [entry.line, entry.column, entry.field, entry.code]), expectedProblems);
        assert.match(error.lines()[0], new RegExp(`awkward\\.csv:${expectedProblems[0][0]}:${expectedProblems[0][1]}: error: "north" in column "latitude"`));
        return true;
      });
    }
  });

  test('lone-CR line ends, read in pieces', () => {
    const mac = 'name,year\rAlpha,1900\r"Beta\rGamma",1950\rDelta,x\r';
    const file = tempFile('mac.csv', mac);
    for (const chunkBytes of PIECES) {
      assert.throws(() => loadDataset(file, { chunkBytes }), (error: unknown) => {
        assert.ok(error instanceof DatasetError);
        assert.deepEqual(error.problems.map((entry) => [entry.line, entry.column, entry.field]), [[5, 7, 'year']]);
        return true;
      });
      assert.deepEqual(loadDataset(file, { chunkBytes, skipInvalid: true }).entities.map((entity) => [entity.line, entity.name]), [[2, 'Alpha'], [3, 'Beta\nGamma']]);
    }
  });

  test('invalid UTF-8 far into the file is located by line and column, also across pieces', () => {
    const before = Buffer.from('name,year\nÅland,1900\n'.repeat(50));
    const bytes = Buffer.concat([before, Buffer.from('Caf'), Buffer.from([0xe9]), Buffer.from(',1901\n')]);
    const expected = `not UTF-8 text: invalid byte 0xe9 at byte ${before.length + 3}`;
    for (const chunkBytes of PIECES) {
      const result = parseDatasetBytes(bytes, 'latin1.csv', { chunkBytes });
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.deepEqual([result.problems.length, result.problems[0].line, result.problems[0].column], [1, 101, 4], `chunkBytes ${chunkBytes}`);
        assert.match(result.problems[0].message, new RegExp(expected));
      }
    }
    // A multi-byte character cut off by the end of the file.
    const cut = parseDatasetBytes(Buffer.concat([Buffer.from('name,year\nA,1\nB'), Buffer.from([0xc3])]), 'cut.csv', { chunkBytes: 2 });
    assert.ok(!cut.ok && cut.problems[0].line === 3 && cut.problems[0].column === 2, JSON.stringify(cut));
  });

  test('JSON Lines: a later object adding is_test is read with the full set of keys, in pieces', () => {
    const lines = ['{"name":"A","year":1900}', '', '{"name":"B","year":1901,"note":"x"}\r', '{"name":"C","year":1902,"is_test":true}', '{bad json}', '{"name":"D","year":"y","is_test":false}'];
    const text = `${lines.join('\n')}\n`;
    const file = tempFile('late.jsonl', text);
    // is_test is a column from line 4 on, so lines 1 and 3 lack a value for it (as when the whole file is read).
    const expected = {
      entities: [{ line: 4, name: 'C', target: [1902], isTest: true, metadata: { note: '' } }],
      problems: [[1, 'bad-boolean'], [3, 'bad-boolean'], [5, 'json-syntax'], [6, 'non-numeric']],
    };
    for (const chunkBytes of [...PIECES, undefined]) {
      const dataset = loadDataset(file, { skipInvalid: true, chunkBytes });
      assert.deepEqual({ entities: dataset.entities.map(plain), problems: dataset.problems.map((entry) => [entry.line, entry.code]) }, expected, `chunkBytes ${chunkBytes}`);
    }
  });

  test('JSON Lines: a later metadata key is empty for the rows before it', () => {
    const text = '{"name":"A","year":1900}\r\n{"name":"B","year":1901,"note":"x"}\r\n\r\n{"name":"C","year":1902}';
    const file = tempFile('note.jsonl', text);
    for (const chunkBytes of PIECES) {
      assert.deepEqual(loadDataset(file, { chunkBytes }).entities.map(plain), [
        { line: 1, name: 'A', target: [1900], isTest: undefined, metadata: { note: '' } },
        { line: 2, name: 'B', target: [1901], isTest: undefined, metadata: { note: 'x' } },
        { line: 4, name: 'C', target: [1902], isTest: undefined, metadata: { note: '' } },
      ], `chunkBytes ${chunkBytes}`);
    }
  });

  test('entities serialise as their fields, not the store behind them', () => {
    const dataset = loadDataset(file, { skipInvalid: true });
    assert.deepEqual(JSON.parse(JSON.stringify(dataset.entities[0])), { line: 2, name: 'Saint-0, ville', target: [-90, -180], isTest: true, metadata: { country: 'FR', note: 'n0' } });
  });
});

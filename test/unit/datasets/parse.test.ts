import { test, describe } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDatasetBytes, parseDatasetText, formatProblem } from '../../../src/core/datasets/parse';
import type { ParseResult } from '../../../src/core/datasets/types';

function expectOk(result: ParseResult) {
  if (!result.ok) assert.fail(`expected ok, got:\n${result.problems.map(formatProblem).join('\n')}`);
  return result.dataset;
}

function expectProblems(result: ParseResult) {
  assert.equal(result.ok, false, 'expected the parse to fail');
  return result.ok ? [] : result.problems;
}

describe('parseDatasetText: formats', () => {
  test('space CSV with metadata, is_test and BOM', () => {
    const dataset = expectOk(parseDatasetText('\ufeffname,latitude,longitude,country,is_test\nParis,48.8566,2.3522,France,False\n"Washington, D.C.",38.9,-77.04,USA,True\n', 'places.csv'));
    assert.equal(dataset.kind, 'space');
    assert.deepEqual(dataset.targets, ['latitude', 'longitude']);
    assert.equal(dataset.entities.length, 2);
    assert.equal(dataset.entities[1].name, 'Washington, D.C.');
    assert.deepEqual(dataset.entities[1].target, [38.9, -77.04]);
    assert.equal(dataset.entities[1].isTest, true);
    assert.equal(dataset.entities[0].isTest, false);
    assert.deepEqual(dataset.entities[0].metadata, { country: 'France' });
    assert.equal(dataset.entities[1].line, 3);
  });

  test('time CSV with a year column, CRLF line ends, blank trailing lines', () => {
    const dataset = expectOk(parseDatasetText('name,year\r\nAbraham Lincoln,1865\r\nJulius Caesar,-44\r\n\r\n', 'people.csv'));
    assert.equal(dataset.kind, 'time');
    assert.deepEqual(dataset.entities.map((entity) => entity.target[0]), [1865, -44]);
  });

  test('the art convention: "{creator}\'s {title}" and the year of release_date', () => {
    const dataset = expectOk(parseDatasetText('title,creator,release_date\nIt,Stephen King,1986-09-15\nUntitled,,1999-01-01\n', 'art.csv'));
    assert.deepEqual(dataset.entities.map((entity) => entity.name), ["Stephen King's It", 'Untitled']);
    assert.deepEqual(dataset.entities.map((entity) => entity.target[0]), [1986, 1999]);
  });

  test('the paper\'s headline.csv format (headline, year)', () => {
    const dataset = expectOk(parseDatasetText('headline,year,pub_date\n"Stocks rally, then slide",2009,2009-03-10\n', 'headline.csv'));
    assert.equal(dataset.entities[0].name, 'Stocks rally, then slide');
    assert.equal(dataset.entities[0].target[0], 2009);
    assert.deepEqual(dataset.entities[0].metadata, { pub_date: '2009-03-10' });
  });

  test('JSON Lines', () => {
    const dataset = expectOk(parseDatasetText('{"name":"Paris","latitude":48.85,"longitude":2.35,"is_test":true}\n\n{"name":"Oslo","latitude":59.9,"longitude":10.75,"is_test":false,"note":"x"}\n', 'places.jsonl'));
    assert.equal(dataset.entities.length, 2);
    assert.equal(dataset.entities[0].isTest, true);
    assert.equal(dataset.entities[1].line, 3);
  });

  test('multi-line quoted fields keep later line numbers right', () => {
    const dataset = expectOk(parseDatasetText('name,year\n"A\nB",1900\nC,1901\n', 'x.csv'));
    assert.equal(dataset.entities[0].name, 'A\nB');
    assert.equal(dataset.entities[1].line, 4);
  });
});

describe('parseDatasetText: validation names file, line and column', () => {
  test('every bad row is reported, with exact positions', () => {
    const text = [
      'name,latitude,longitude',
      'Paris,48.8,2.3',
      'Nowhere,abc,2.3',
      ',10,10',
      'Pole,95,0',
      'Dateline,0,-181',
      'Void,NaN,0',
    ].join('\n');
    const problems = expectProblems(parseDatasetText(text, 'bad.csv'));
    const summary = problems.map((entry) => [entry.code, entry.line, entry.column, entry.field]);
    assert.deepEqual(summary, [
      ['non-numeric', 3, 9, 'latitude'],
      ['empty-name', 4, 1, 'name'],
      ['out-of-range', 5, 6, 'latitude'],
      ['out-of-range', 6, 12, 'longitude'],
      ['not-finite', 7, 6, 'latitude'],
    ]);
    assert.match(formatProblem(problems[0]), /^bad\.csv:3:9: error: "abc" in column "latitude" is not a finite number$/);
  });

  test('positions stay exact after quoted and multi-line fields, with CRLF, and in JSON Lines', () => {
    // Positions are worked out only when a problem needs them (by re-reading the record), so check them where
    // the scanner's state matters: after a quoted field with a doubled quote, inside a record that spans lines.
    const text = 'name,latitude,longitude\r\n"Say ""hi""",91,0\r\n"Two\r\nlines",1,x\r\nok,1,2\r\n';
    const problems = expectProblems(parseDatasetText(text, 'q.csv'));
    assert.deepEqual(problems.map((entry) => [entry.code, entry.line, entry.column, entry.length, entry.field]), [
      ['out-of-range', 2, 14, 2, 'latitude'],
      ['non-numeric', 4, 10, 1, 'longitude'],
    ]);
    const jsonl = expectProblems(parseDatasetText('{"name":"A","year":1900}\n{"name":"B", "year":"soon"}\n', 'y.jsonl'));
    assert.deepEqual(jsonl.map((entry) => [entry.code, entry.line, entry.column, entry.field]), [['non-numeric', 2, 14, 'year']]);
  });

  test('missing column, empty file, header only, unterminated quote, field count', () => {
    assert.match(expectProblems(parseDatasetText('name,latitude\nParis,48\n', 'a.csv'))[0].message, /missing column "longitude"/);
    assert.equal(expectProblems(parseDatasetText('', 'b.csv'))[0].code, 'empty-file');
    assert.equal(expectProblems(parseDatasetText('\ufeff  \n', 'b.csv'))[0].code, 'empty-file');
    assert.equal(expectProblems(parseDatasetText('name,year\n', 'c.csv'))[0].code, 'header-only');
    const unterminated = expectProblems(parseDatasetText('name,year\nok,1900\n"broken,1901\n', 'd.csv'));
    assert.deepEqual([unterminated[0].code, unterminated[0].line, unterminated[0].column], ['csv-syntax', 3, 1]);
    const count = expectProblems(parseDatasetText('name,year\nA,1900,extra\n', 'e.csv'));
    assert.equal(count[0].code, 'field-count');
    assert.equal(count[0].line, 2);
  });

  test('not UTF-8 is reported at the byte that breaks it', () => {
    const bytes = Buffer.concat([Buffer.from('name,year\nCaf'), Buffer.from([0xe9]), Buffer.from(',1900\n')]);
    const problems = expectProblems(parseDatasetBytes(bytes, 'latin1.csv'));
    assert.deepEqual([problems[0].code, problems[0].line, problems[0].column], ['not-utf8', 2, 4]);
    // Valid multi-byte text passes.
    expectOk(parseDatasetBytes(Buffer.from('name,year\nCafé,1900\n'), 'utf8.csv'));
  });

  test('--skip-invalid keeps the good rows and turns errors into warnings', () => {
    const dataset = expectOk(parseDatasetText('name,year\nA,1900\nB,soon\nC,1950\n', 'f.csv', { skipInvalid: true }));
    assert.deepEqual(dataset.entities.map((entity) => entity.name), ['A', 'C']);
    assert.equal(dataset.problems.length, 1);
    assert.equal(dataset.problems[0].severity, 'warning');
    assert.match(dataset.problems[0].message, /row skipped/);
  });

  test('duplicate names with different targets are a warning, not an error', () => {
    const dataset = expectOk(parseDatasetText('name,year\nA,1900\nA,1901\nA,1900\n', 'g.csv'));
    assert.equal(dataset.entities.length, 3);
    assert.deepEqual(dataset.problems.map((entry) => [entry.severity, entry.code, entry.line]), [['warning', 'duplicate-entity', 3]]);
  });

  test('bad is_test values are errors in the is_test field', () => {
    const problems = expectProblems(parseDatasetText('name,year,is_test\nA,1900,maybe\n', 'h.csv'));
    assert.deepEqual([problems[0].code, problems[0].field, problems[0].column], ['bad-boolean', 'is_test', 8]);
  });
});

// Files in the paper's exact column layouts and value styles (True/False, 1.0, empty cells, ISO dates, art's
// title + creator), filled with rows of our built-in sets: test/fixtures/datasets/generate.mjs.
describe('the paper\'s CSV layouts load as they are', () => {
  const dir = path.resolve(__dirname, '../../../../test/fixtures/datasets/paper-format');
  const cases: [string, string, { line: number; name: string; target: number[] }][] = [
    ['world_place.csv', 'space', { line: 2, name: 'Afghanistan', target: [33, 65] }],
    ['us_place.csv', 'space', { line: 3, name: 'Bartholomew County, Indiana', target: [39.20483, -85.89751] }],
    ['nyc_place.csv', 'space', { line: 3, name: 'JACKSON HEIGHTS', target: [40.75566, -73.88541] }],
    ['art.csv', 'time', { line: 3, name: "Lewis Milestone's All Quiet on the Western Front", target: [1930] }],
  ];
  for (const [file, kind, expected] of cases) {
    test(file, () => {
      const dataset = expectOk(parseDatasetBytes(fs.readFileSync(path.join(dir, file)), file));
      assert.equal(dataset.kind, kind);
      assert.equal(dataset.entities.length, 120);
      assert.ok(dataset.entities.every((entity) => entity.isTest !== undefined), 'is_test honoured');
      assert.ok(dataset.entities.some((entity) => entity.isTest) && dataset.entities.some((entity) => !entity.isTest), 'True and False both read');
      assert.ok(dataset.problems.every((entry) => entry.severity === 'warning'));
      const entity = dataset.entities.find((candidate) => candidate.line === expected.line);
      assert.deepEqual([entity?.name, entity?.target], [expected.name, expected.target]);
    });
  }
});

/**
 * Terminal escape injection (issue 15, item 7): control characters from input files are printed as visible
 * escapes by the CLI (and the extension's output channel uses the same function); our own progress redraw
 * still works.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { escapeControlChars } from '../../../src/core/util/controlChars';
import { escapingIo, ProgressLine } from '../../../src/cli/format';
import { repoRoot } from '../../helpers/modelFixtures';

const cli = path.join(repoRoot, 'out', 'cli.js');
const OSC52 = '\x1b]52;c;ZWNobyBwd25lZA==\x07';

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return { stream, text: () => chunks.join('') };
}

describe('control characters are escaped in everything printed', () => {
  test('escapeControlChars: C0 (but newline, tab), DEL, C1, bidi overrides', () => {
    assert.equal(escapeControlChars(`a${OSC52}b`), 'a\\x1b]52;c;ZWNobyBwd25lZA==\\x07b');
    assert.equal(escapeControlChars('line\n\tnext\r\u007f\u009b\u202e'), 'line\n\tnext\\x0d\\x7f\\x9b\\u{202e}');
    assert.equal(escapeControlChars('Zürich, 東京'), 'Zürich, 東京');
  });

  test('escapingIo escapes writes; the progress line keeps its own redraw sequence', async () => {
    const out = collect();
    const err = collect();
    const io = escapingIo({ stdout: out.stream, stderr: err.stream, interactive: true });
    io.stdout.write(`name ${OSC52}\n`);
    const progress = new ProgressLine(io);
    progress.update('extract', `extracting \x1b[31mred`, 1, 2);
    progress.finish();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(out.text(), 'name \\x1b]52;c;ZWNobyBwd25lZA==\\x07\n');
    assert.ok(err.text().startsWith('\r\x1b[2K'), 'our redraw passes');
    assert.ok(err.text().includes('extracting \\x1b[31mred'), 'the message is escaped');
    assert.equal((err.text().match(/\x1b/g) ?? []).length, 2, 'only our two redraws carry a raw ESC');
  });

  test('the CLI prints a hostile header escaped (exit 2, no raw ESC)', { skip: !fs.existsSync(cli) && 'out/cli.js not built' }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'escapes-'));
    const file = path.join(dir, 'evil.csv');
    fs.writeFileSync(file, `title${OSC52},when\nx,1\n`);
    const result = spawnSync(process.execPath, [cli, 'probe', '--activations', dir, '--dataset', file, '--out', path.join(dir, 'o')],
      { encoding: 'utf8', env: { ...process.env, SPACETIME_PROBE_HUGE_PAGES: '0' } });
    assert.equal(result.status, 2, result.stderr);
    assert.ok(!result.stderr.includes('\x1b') && !result.stderr.includes('\x07'), JSON.stringify(result.stderr));
    assert.match(result.stderr, /\\x1b\]52;c;/);
  });
});

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic, writeFileAtomicSync } from '../../../src/core/util/atomicWrite';

for (const [name, write] of [
  ['sync', async (file: string, data: string) => writeFileAtomicSync(file, data)],
  ['async', writeFileAtomic],
] as const) {
  test(`writeFileAtomic (${name}): creates folders, replaces whole files, and leaves nothing behind when it fails`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-'));
    try {
      const file = path.join(dir, 'a', 'b', 'results.json');
      await write(file, 'first');
      await write(file, 'second');
      assert.equal(fs.readFileSync(file, 'utf8'), 'second');
      // The rename cannot replace a non-empty folder: the write fails, the folder is untouched, no temp file stays.
      const blocked = path.join(dir, 'blocked');
      fs.mkdirSync(path.join(blocked, 'inside'), { recursive: true });
      await assert.rejects(async () => write(blocked, 'data'));
      assert.ok(fs.statSync(blocked).isDirectory());
      assert.deepEqual(fs.readdirSync(dir).sort(), ['a', 'blocked']);
      assert.deepEqual(fs.readdirSync(path.join(dir, 'a', 'b')), ['results.json']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

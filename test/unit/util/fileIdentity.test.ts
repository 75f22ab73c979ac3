/**
 * fileContentHash (issue 15, item 2): every byte counts — a perturbed byte with the same size and a restored
 * mtime changes the hash — and an unchanged file is hashed only once (remembered in the cache file).
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileContentHash, fileContentHashSync, fileIdentityStats, rememberFileContentHash } from '../../../src/core/util/fileIdentity';

describe('fileContentHash', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'file-identity-'));
  const cacheFile = path.join(dir, 'hashes.json');
  const weights = path.join(dir, 'model.onnx_data');

  test('equals the SHA-256 of all bytes; remembered while unchanged', async () => {
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
    fs.writeFileSync(weights, bytes);
    const expected = createHash('sha256').update(bytes).digest('hex');
    const before = fileIdentityStats.fullHashes;
    assert.equal(fileContentHashSync(weights, { cacheFile }), expected);
    assert.equal(fileContentHashSync(weights, { cacheFile }), expected);
    assert.equal(await fileContentHash(weights, { cacheFile }), expected);
    assert.equal(fileIdentityStats.fullHashes - before, 1, 'hashed once, then remembered');
  });

  test('one perturbed byte in the middle, same size, mtime restored: a new hash (the old sampler missed this)', async () => {
    const original = fileContentHashSync(weights, { cacheFile });
    const stat = fs.statSync(weights);
    const fd = fs.openSync(weights, 'r+');
    // Between the old fingerprint's 16 sample windows.
    fs.writeSync(fd, Buffer.from([0x42 ^ 0xff]), 0, 1, 100_000);
    fs.closeSync(fd);
    fs.utimesSync(weights, stat.atime, stat.mtime);
    assert.equal(fs.statSync(weights).size, stat.size);
    const changed = fileContentHashSync(weights, { cacheFile });
    assert.notEqual(changed, original);
    assert.equal(changed, createHash('sha256').update(fs.readFileSync(weights)).digest('hex'));
    assert.equal(await fileContentHash(weights, { cacheFile }), changed);
  });

  test('a damaged or read-only cache file never makes a hash wrong; remembered hashes are used', () => {
    fs.writeFileSync(cacheFile, 'not json');
    const truth = createHash('sha256').update(fs.readFileSync(weights)).digest('hex');
    assert.equal(fileContentHashSync(weights, { cacheFile }), truth);
    const other = path.join(dir, 'blob');
    fs.writeFileSync(other, 'hub blob');
    const sha = createHash('sha256').update('hub blob').digest('hex');
    rememberFileContentHash(other, sha, { cacheFile });
    const before = fileIdentityStats.fullHashes;
    assert.equal(fileContentHashSync(other, { cacheFile }), sha);
    assert.equal(fileIdentityStats.fullHashes, before);
    assert.equal(fileContentHashSync(other, { cacheFile: path.join(dir, 'missing', 'dir', 'x.json') }), sha);
    assert.throws(() => fileContentHashSync(dir, { cacheFile }), /not a regular file/);
  });
});

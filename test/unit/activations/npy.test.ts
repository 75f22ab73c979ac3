import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpy, parseNpy, readNpy, readNpyFloat32, writeNpy, NpyFormatError } from '../../../src/core/activations/npy';

// Bytes written by NumPy 1.24.2 (`np.save`) for: np.arange(6, dtype='<f4').reshape(2, 3) / 4,
// np.array([1.5, -2.25, np.inf], dtype='<f2') and np.array([True, False, True]).
const NUMPY_F4 = 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPgAAAD8AAEA/AACAPwAAoD8=';
const NUMPY_F2 = 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGYyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAPoDAAHw=';
const NUMPY_B1 = 'k05VTVBZAQB2AHsnZGVzY3InOiAnfGIxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAE=';

test('reads NumPy-written float32, float16 and bool arrays', () => {
  const f4 = parseNpy(Buffer.from(NUMPY_F4, 'base64'));
  assert.equal(f4.dtype, 'float32');
  assert.deepEqual(f4.shape, [2, 3]);
  assert.deepEqual([...f4.data], [0, 0.25, 0.5, 0.75, 1, 1.25]);
  const f2 = parseNpy(Buffer.from(NUMPY_F2, 'base64'));
  assert.equal(f2.dtype, 'float16');
  assert.deepEqual([...f2.data], [1.5, -2.25, Infinity]);
  const b1 = parseNpy(Buffer.from(NUMPY_B1, 'base64'));
  assert.equal(b1.dtype, 'bool');
  assert.deepEqual([...b1.data], [1, 0, 1]);
});

test('encodes byte-identically to NumPy (header padded to 64 bytes)', () => {
  const data = new Float32Array([0, 0.25, 0.5, 0.75, 1, 1.25]);
  const encoded = encodeNpy(data, [2, 3]);
  assert.equal(Buffer.from(encoded).toString('base64'), NUMPY_F4);
  assert.equal((encoded.length - data.byteLength) % 64, 0);
});

test('round-trips float64 through a file written atomically', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npy-'));
  const file = path.join(dir, 'x.npy');
  const data = new Float64Array([Math.PI, -1e300, 5e-324, 0]);
  writeNpy(file, data, [4]);
  const back = readNpy(file);
  assert.deepEqual(back.shape, [4]);
  assert.deepEqual([...back.data], [...data]);
  assert.deepEqual(fs.readdirSync(dir), ['x.npy']);
  fs.rmSync(dir, { recursive: true });
});

test('rejects fortran order, unknown dtypes and truncated data with the file name', () => {
  const good = Buffer.from(encodeNpy(new Float32Array(6), [2, 3]));
  const fortran = Buffer.from(good.toString('latin1').replace("'fortran_order': False", "'fortran_order': True "), 'latin1');
  assert.throws(() => parseNpy(fortran, 'a.npy'), (error: unknown) => error instanceof NpyFormatError && /a\.npy.*fortran_order/.test(error.message));
  const bigEndian = Buffer.from(good.toString('latin1').replace("'<f4'", "'>f4'"), 'latin1');
  assert.throws(() => parseNpy(bigEndian, 'b.npy'), /b\.npy.*dtype >f4/);
  assert.throws(() => parseNpy(good.subarray(0, good.length - 1), 'c.npy'), /c\.npy.*needs 24 data bytes/);
  assert.throws(() => parseNpy(Buffer.from('hello world'), 'd.npy'), /d\.npy.*magic/);
});

test('readNpyFloat32 reads the same values into an ArrayBuffer, or with `shared` into a SharedArrayBuffer', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-npy-shared-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'layer.npy');
  const values = Float32Array.from({ length: 3 * 5 }, (_, k) => Math.sin(k) * 1e3);
  writeNpy(file, values, [3, 5]);
  const plain = readNpyFloat32(file);
  const shared = readNpyFloat32(file, true);
  assert.ok(plain.data.buffer instanceof ArrayBuffer);
  assert.ok(shared.data.buffer instanceof SharedArrayBuffer);
  assert.deepEqual(Array.from(shared.data), Array.from(values));
  assert.deepEqual(Array.from(plain.data), Array.from(values));
  assert.deepEqual(shared.shape, [3, 5]);
});

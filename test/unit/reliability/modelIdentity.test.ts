/**
 * Model identity (issue 15, item 2): for weights in model.onnx_data, one changed byte — same size, mtime put
 * back — gives another fingerprint (the old one sampled 16 windows of 64 KiB and kept serving stale vectors).
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseOnnxModel } from '../../../src/core/model/onnx/onnxGraph';
import { externalizeInitializers } from '../../../src/core/model/onnx/graphRewrite';
import { loadTransformerModel } from '../../../src/core/model/onnx/transformerModel';
import { copyModelSidecars, onnxModelDir } from '../../helpers/modelFixtures';

async function fingerprintOf(dir: string): Promise<string> {
  const model = await loadTransformerModel(dir, { device: 'cpu' });
  try {
    return model.fingerprint;
  } finally {
    await model.dispose();
  }
}

describe('ONNX external-data fingerprint', () => {
  test('one changed weight byte between the old sample windows changes the fingerprint', async () => {
    const source = onnxModelDir('gpt2-tiny');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-identity-'));
    process.env.SPACETIME_PROBE_FILE_HASHES = path.join(dir, 'hashes.json');
    try {
      copyModelSidecars(source, dir);
      const externalized = externalizeInitializers(parseOnnxModel(fs.readFileSync(path.join(source, 'onnx', 'model.onnx'))), 'model.onnx_data');
      fs.mkdirSync(path.join(dir, 'onnx'));
      fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), externalized.modelBytes);
      // Padded to 4 MiB after the tensors so that the old 16 × 64 KiB samples leave most bytes unread.
      const data = Buffer.concat([...externalized.dataChunks, Buffer.alloc(4 * 1024 * 1024)]);
      const dataFile = path.join(dir, 'onnx', 'model.onnx_data');
      fs.writeFileSync(dataFile, data);
      const before = await fingerprintOf(dir);
      assert.equal(await fingerprintOf(dir), before, 'stable while unchanged');
      const stat = fs.statSync(dataFile);
      const fd = fs.openSync(dataFile, 'r+');
      fs.writeSync(fd, Buffer.from([1]), 0, 1, data.length - 1024 * 1024 - 12345);
      fs.closeSync(fd);
      fs.utimesSync(dataFile, stat.atime, stat.mtime);
      assert.notEqual(await fingerprintOf(dir), before);
    } finally {
      delete process.env.SPACETIME_PROBE_FILE_HASHES;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// onnxruntime-node's native addon inside the extension host (Node 24 under code-server, Electron under VS Code):
// a real require of the package, a session on a one-node graph, and a run checked against plain arithmetic.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';

const FLOAT = onnx.TensorProto.DataType.FLOAT;

function vectorInfo(name: string, length: number): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: length }] } } } };
}

/** y = a * b + a, built as an ONNX model in memory (no fixture file needed). */
function multiplyAddModel(length: number): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8,
    producerName: 'spacetime-probe-integration-test',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'multiply_add',
      node: [
        { opType: 'Mul', input: ['a', 'b'], output: ['product'] },
        { opType: 'Add', input: ['product', 'a'], output: ['y'] },
      ],
      input: [vectorInfo('a', length), vectorInfo('b', length)],
      output: [vectorInfo('y', length)],
    },
  }).finish();
}

suite('onnxruntime-node in the extension host', () => {
  test('the native binding for this platform is loaded by require', () => {
    const loaded = Object.keys(require.cache).filter((file) => file.endsWith('onnxruntime_binding.node'));
    assert.equal(loaded.length, 1, `expected one native binding in require.cache, found ${JSON.stringify(loaded)}`);
    assert.ok(loaded[0].includes(path.join('napi-v6', process.platform, process.arch)),
      `binding ${loaded[0]} is not the ${process.platform}-${process.arch} one`);
    console.log(`      host: Node ${process.version} (ABI ${process.versions.modules}), binding ${loaded[0]}`);
  });

  test('runs a model on the cpu execution provider', async () => {
    const session = await ort.InferenceSession.create(multiplyAddModel(4), { executionProviders: ['cpu'] });
    try {
      const a = Float32Array.from([1, -2, 0.5, 3]);
      const b = Float32Array.from([4, 5, -6, 0.25]);
      const result = await session.run({ a: new ort.Tensor('float32', a, [4]), b: new ort.Tensor('float32', b, [4]) });
      const y = result.y.data as Float32Array;
      assert.deepEqual(Array.from(y), Array.from(a, (value, index) => Math.fround(value * b[index]) + value));
    } finally {
      await session.release();
    }
  });
});

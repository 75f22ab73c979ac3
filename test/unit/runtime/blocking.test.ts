/**
 * onnxruntime-node's `session.run` returns a promise but computes synchronously on the calling thread (its
 * backend runs the native call inside a setImmediate callback). A timer test shows it: while one run is in
 * flight on this thread, a 2 ms interval does not fire; while the same run is in flight in a worker thread, it
 * does. That is why the extension runs extraction in a worker (src/extension/runs/probeWorker.ts): a real model
 * on the extension host's thread would freeze the UI for the whole extraction.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { buildGemmModel } from '../../../src/core/runtime/linalg';
import { ort } from '../../../src/core/runtime/ort';

/** A MatMul big enough to take tens of milliseconds on one core (n³ = 2.7e9 multiply-adds at n = 1400). */
const N = 1400;

function inputs(): { A: InstanceType<typeof ort.Tensor>; B: InstanceType<typeof ort.Tensor> } {
  const a = new Float32Array(N * N).map((_, i) => (i % 7) / 7);
  return { A: new ort.Tensor('float32', a, [N, N]), B: new ort.Tensor('float32', a.slice(), [N, N]) };
}

/** Count interval ticks while `work` is pending; also return how long it was pending. */
async function ticksDuring(work: () => Promise<unknown>): Promise<{ ticks: number; milliseconds: number }> {
  let ticks = 0;
  const timer = setInterval(() => { ticks++; }, 2);
  // Let the interval start before the work begins.
  await new Promise((resolve) => setTimeout(resolve, 10));
  ticks = 0;
  const started = performance.now();
  await work();
  const milliseconds = performance.now() - started;
  clearInterval(timer);
  return { ticks, milliseconds };
}

test('session.run blocks the calling thread; the same run in a worker thread does not', async () => {
  const model = buildGemmModel('float32', false, false, false, 1, 1);
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  try {
    const feeds = inputs();
    await session.run(feeds); // warm-up
    const onThisThread = await ticksDuring(() => session.run(feeds));
    assert.ok(onThisThread.milliseconds >= 20, `the run took only ${onThisThread.milliseconds} ms: too short to observe`);
    // At most one tick can slip in between run() scheduling its setImmediate and the native call starting.
    assert.ok(onThisThread.ticks <= 1, `${onThisThread.ticks} timer ticks during a ${onThisThread.milliseconds.toFixed(0)} ms run on this thread`);
  } finally {
    await session.release();
  }

  // The same computation in a worker thread: the timer keeps firing on this thread while it runs.
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const ort = require(workerData.ortPath);
    (async () => {
      const session = await ort.InferenceSession.create(new Uint8Array(workerData.model), { executionProviders: ['cpu'], intraOpNumThreads: 1 });
      const a = new Float32Array(workerData.n * workerData.n).map((_, i) => (i % 7) / 7);
      const feeds = { A: new ort.Tensor('float32', a, [workerData.n, workerData.n]), B: new ort.Tensor('float32', a.slice(), [workerData.n, workerData.n]) };
      await session.run(feeds);
      parentPort.postMessage('ready');
      parentPort.on('message', async () => { await session.run(feeds); parentPort.postMessage('done'); });
    })();
  `, { eval: true, workerData: { model, n: N, ortPath: require.resolve('onnxruntime-node') } });
  try {
    await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    const inWorker = await ticksDuring(() => new Promise((resolve) => {
      worker.once('message', resolve);
      worker.postMessage('run');
    }));
    assert.ok(inWorker.ticks >= 3, `only ${inWorker.ticks} timer ticks during a ${inWorker.milliseconds.toFixed(0)} ms run in a worker`);
  } finally {
    await worker.terminate();
  }
});

/**
 * RequestWorker (src/core/util/requestWorker.ts): replies reach the request that asked, an error reply rejects only
 * that request, a dying worker rejects everything in flight with WorkerFailedError, and dispose marks it so.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RequestWorker, WorkerFailedError, type WorkerReply } from '../../../src/core/util/requestWorker';

interface Reply extends WorkerReply { readonly doubled: number }

function workerFile(dir: string, body: string): string {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.js`);
  fs.writeFileSync(file, `const { parentPort } = require('node:worker_threads');\nparentPort.on('message', (m) => {\n${body}\n});\n`);
  return file;
}

test('requests get their own replies; an error reply rejects that request only; failure and dispose reject with WorkerFailedError', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'request-worker-'));
  try {
    // Replies out of order (larger values answered first) must still reach the right request.
    const echo = new RequestWorker<{ value: number }, Reply>(workerFile(dir, `
      if (m.value < 0) { parentPort.postMessage({ id: m.id, error: 'negative ' + m.value }); return; }
      setTimeout(() => parentPort.postMessage({ id: m.id, doubled: 2 * m.value }), 50 - m.value);`), 'echo');
    const replies = await Promise.all([1, 20, 40].map((value) => echo.request({ value })));
    assert.deepEqual(replies.map((reply) => reply.doubled), [2, 40, 80]);
    await assert.rejects(echo.request({ value: -3 }), (error: Error) => !(error instanceof WorkerFailedError) && /negative -3/.test(error.message));
    assert.equal((await echo.request({ value: 5 })).doubled, 10, 'the worker still serves after an error reply');
    const inFlight = assert.rejects(echo.request({ value: 30 }), (error: Error) => error instanceof WorkerFailedError && error.disposed);
    await echo.dispose();
    await inFlight;

    const dying = new RequestWorker<{ value: number }, Reply>(workerFile(dir, 'process.exit(3);'), 'dying');
    await assert.rejects(dying.request({ value: 1 }), (error: Error) => error instanceof WorkerFailedError && !error.disposed && /dying worker exited \(code 3\)/.test(error.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a worker's late exit rejects only its own requests, not those of the worker started after it", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'request-worker-'));
  try {
    // value 0 throws: 'error' fires (the worker is replaced at once), its 'exit' follows later.
    const flaky = new RequestWorker<{ value: number }, Reply>(workerFile(dir, `
      if (m.value === 0) throw new Error('boom');
      setTimeout(() => parentPort.postMessage({ id: m.id, doubled: 2 * m.value }), 200);`), 'flaky');
    await assert.rejects(flaky.request({ value: 0 }), (error: Error) => error instanceof WorkerFailedError && /boom/.test(error.message));
    // Asked of the new worker while the old one is still exiting.
    assert.equal((await flaky.request({ value: 7 })).doubled, 14);
    await flaky.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

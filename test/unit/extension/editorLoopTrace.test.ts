import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { EditorLoopTrace, formatTrace, traceNow } from '../../../src/extension/runs/editorLoopTrace';

test('the trace keeps marks from several sources on one clock, in time order, prefixed by source', () => {
  const trace = new EditorLoopTrace();
  const start = traceNow();
  assert.ok(Math.abs(start - Date.now()) < 1000, 'epoch milliseconds, like Date.now() in every process');
  trace.mark('before', start - 5);
  trace.mark('save: event', start + 1);
  // The worker's and the webview's marks arrive later but happened in between.
  trace.add('worker', [{ phase: 'fit', at: start + 3 }, { phase: 'broken', at: Number.NaN }]);
  trace.add('webview', [{ phase: 'painted', at: start + 9 }]);
  trace.mark('panel: rendered received', start + 10);
  assert.deepEqual(trace.since(start).map((m) => m.phase), ['save: event', 'worker:fit', 'webview:painted', 'panel: rendered received']);
  assert.equal(formatTrace(trace.since(start), start).split('\n')[1], '     3 ms  (+    2)  worker:fit');
});

test('the trace is bounded', () => {
  const trace = new EditorLoopTrace();
  for (let i = 0; i < 5000; i++) trace.mark(`m${i}`, i);
  const kept = trace.since(0);
  assert.ok(kept.length <= 2000, `${kept.length} marks kept`);
  assert.equal(kept.at(-1)?.phase, 'm4999', 'the newest are kept');
});

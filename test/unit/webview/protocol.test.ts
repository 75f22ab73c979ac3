import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseHostToWebview, parseWebviewToHost, MAX_CHART_IMAGE_CHARS } from '../../../webview/src/protocol';

test('parseWebviewToHost accepts each well-formed message', () => {
  assert.deepEqual(parseWebviewToHost({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseWebviewToHost({ type: 'revealEntity', row: 12 }), { type: 'revealEntity', row: 12 });
  assert.deepEqual(parseWebviewToHost({ type: 'requestLayerPredictions', requestId: 3, layer: 7 }), { type: 'requestLayerPredictions', requestId: 3, layer: 7 });
  assert.deepEqual(parseWebviewToHost({ type: 'export', format: 'svg' }), { type: 'export', format: 'svg' });
  assert.deepEqual(parseWebviewToHost({ type: 'chartImage', requestId: 1, format: 'png', data: 'data:image/png;base64,AAAA' }),
    { type: 'chartImage', requestId: 1, format: 'png', data: 'data:image/png;base64,AAAA' });
  assert.deepEqual(parseWebviewToHost({ type: 'chartImage', requestId: 1, format: 'svg', data: '<svg xmlns="x"></svg>' }),
    { type: 'chartImage', requestId: 1, format: 'svg', data: '<svg xmlns="x"></svg>' });
  assert.deepEqual(parseWebviewToHost({ type: 'log', level: 'error', message: 'x' }), { type: 'log', level: 'error', message: 'x' });
});

test('parseWebviewToHost drops malformed or hostile messages', () => {
  const bad: unknown[] = [
    null, 'ready', [], { type: 'nope' }, { type: 'revealEntity' }, { type: 'revealEntity', row: 0 }, { type: 'revealEntity', row: -3 },
    { type: 'revealEntity', row: 1.5 }, { type: 'revealEntity', row: '4' }, { type: 'requestLayerPredictions', requestId: -1, layer: 1 },
    { type: 'export', format: 'exe' }, { type: 'chartImage', requestId: 1, format: 'png', data: 'data:text/html;base64,AAAA' },
    { type: 'chartImage', requestId: 1, format: 'svg', data: '<script>alert(1)</script>' },
    { type: 'chartImage', requestId: 1, format: 'png', data: `data:image/png;base64,${'A'.repeat(MAX_CHART_IMAGE_CHARS)}` },
    { type: 'log', level: 'debug', message: 'x' }, { type: 'log', level: 'info', message: 5 },
  ];
  for (const message of bad) assert.equal(parseWebviewToHost(message), undefined, JSON.stringify(message)?.slice(0, 80));
});

test('parseWebviewToHost truncates long log lines', () => {
  const parsed = parseWebviewToHost({ type: 'log', level: 'info', message: 'x'.repeat(10_000) });
  assert.equal(parsed?.type, 'log');
  assert.ok(parsed?.type === 'log' && parsed.message.length <= 4000);
});

test('parseHostToWebview checks the shape of host messages', () => {
  assert.equal(parseHostToWebview({ type: 'show', run: {} }), undefined);
  assert.equal(parseHostToWebview({ type: 'running', message: 3 }), undefined);
  assert.ok(parseHostToWebview({ type: 'running', message: null }));
  assert.ok(parseHostToWebview({ type: 'show', run: { summary: {}, results: { layers: [] }, layersWithPredictions: [] } }));
  assert.equal(parseHostToWebview({ type: 'exportChart', requestId: 1, format: 'gif' }), undefined);
});

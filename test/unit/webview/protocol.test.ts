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

test('parseWebviewToHost accepts a rendered report and copies only its known fields', () => {
  const marks = [{ phase: 'show received', at: 1_764_600_000_000.25 }, { phase: 'painted', at: 1_764_600_000_150.5, extra: 'dropped' }];
  assert.deepEqual(parseWebviewToHost({ type: 'rendered', runId: '20261201T181600Z-abc123', tab: 'map', marks, other: 1 }), {
    type: 'rendered', runId: '20261201T181600Z-abc123', tab: 'map',
    marks: [{ phase: 'show received', at: 1_764_600_000_000.25 }, { phase: 'painted', at: 1_764_600_000_150.5 }],
  });
  assert.deepEqual(parseWebviewToHost({ type: 'rendered', runId: 'r', tab: 'layers', marks: [] }), { type: 'rendered', runId: 'r', tab: 'layers', marks: [] });
});

test('parseWebviewToHost drops malformed rendered reports', () => {
  const ok = { type: 'rendered', runId: 'r', tab: 'map', marks: [{ phase: 'painted', at: 1 }] };
  const bad: unknown[] = [
    { ...ok, runId: '' }, { ...ok, runId: 7 }, { ...ok, runId: 'x'.repeat(201) }, { ...ok, tab: 'settings' }, { ...ok, tab: undefined },
    { ...ok, marks: undefined }, { ...ok, marks: {} }, { ...ok, marks: [{ phase: 'painted' }] }, { ...ok, marks: [{ phase: 'p', at: Number.NaN }] },
    { ...ok, marks: [{ phase: 'p', at: Number.POSITIVE_INFINITY }] }, { ...ok, marks: [{ phase: 3, at: 1 }] }, { ...ok, marks: [{ phase: 'p'.repeat(81), at: 1 }] },
    { ...ok, marks: Array.from({ length: 33 }, () => ({ phase: 'p', at: 1 })) }, { ...ok, marks: [null] },
  ];
  for (const message of bad) assert.equal(parseWebviewToHost(message), undefined, JSON.stringify(message)?.slice(0, 120));
});

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { contentSecurityPolicy, createNonce, resultsHtml } from '../../../src/extension/panels/resultsHtml';

test('the CSP allows nothing remote and no eval or inline code', () => {
  const csp = contentSecurityPolicy('https://res.example', 'abc');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'nonce-abc'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-eval|unsafe-inline|\*|https?:(?!\/\/res\.example)/);
});

test('every script carries the nonce and the document escapes attribute values', () => {
  const nonce = createNonce();
  assert.match(nonce, /^[A-Za-z0-9+/]{22}==$/);
  assert.notEqual(nonce, createNonce());
  const html = resultsHtml({ cspSource: 'https://r', nonce, scriptUri: 'https://r/main.js?a="b"', styleUri: 'https://r/s.css', geoBaseUri: 'https://r/geo', preludeScriptUris: ['https://r/shim.js'] });
  const scripts = html.match(/<script[^>]*>/g) ?? [];
  assert.equal(scripts.length, 2);
  for (const tag of scripts) assert.ok(tag.includes(`nonce="${nonce}"`), tag);
  assert.ok(html.includes('main.js?a=&quot;b&quot;'));
  assert.ok(!html.includes('a="b"'));
});

// Development page for the results webview, outside VS Code: serves the panel's real HTML (same CSP, same bundle)
// with an acquireVsCodeApi shim that plays the host, renders sample runs in Debian's chromium via playwright-core,
// saves screenshots under test-artifacts/webview-dev/ and fails on CSP violations, console errors or XSS.
// Not part of the product. Needs: `npx tsc -p . && node scripts/build.mjs`, playwright-core (PLAYWRIGHT_CORE or
// the harness cache, or /tmp/pw), chromium (CHROMIUM or /usr/bin/chromium), and /work/shared or ../shared datasets.
//   node scripts/webview-dev.mjs [--theme dark|light|hc|all] [--scenario world|usa|nyc|time|all] [--serve]
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const option = (name, fallback) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback; };
const themes = option('theme', 'dark') === 'all' ? ['dark', 'light', 'hc'] : [option('theme', 'dark')];
const scenarioNames = option('scenario', 'all') === 'all' ? ['world', 'usa', 'nyc', 'time'] : [option('scenario', 'world')];
const outDir = path.join(root, 'test-artifacts', 'webview-dev');

const { resultsHtml, createNonce } = require(path.join(root, 'out/src/extension/panels/resultsHtml.js'));

// ------------------------------------------------------------------ sample runs (synthetic predictions)
function sharedDir() {
  for (const candidate of [process.env.SPACETIME_SHARED, path.join(root, '..', 'shared'), '/work/shared']) {
    if (candidate && existsSync(path.join(candidate, 'datasets'))) return candidate;
  }
  throw new Error('shared/datasets not found (set SPACETIME_SHARED)');
}

function parseCsv(text) {
  const rows = [];
  let field = '', row = [], quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else if (c !== '\r') field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  const [header, ...body] = rows;
  return body.map((cells, i) => ({ line: i + 2, ...Object.fromEntries(header.map((h, j) => [h, cells[j]])) }));
}

let seed = 42;
function random() { seed = (seed * 1664525 + 1013904223) % 4294967296; return seed / 4294967296; }
function gaussian() { return Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random()); }

function r2(truth, predicted) {
  const mean = truth.reduce((s, v) => s + v, 0) / truth.length;
  const ssTot = truth.reduce((s, v) => s + (v - mean) ** 2, 0);
  const ssRes = truth.reduce((s, v, i) => s + (v - predicted[i]) ** 2, 0);
  return 1 - ssRes / ssTot;
}

function sampleRun(name) {
  const shared = sharedDir();
  const file = { world: 'world_place.csv', usa: 'us_place.csv', nyc: 'nyc_place.csv', time: 'art.csv' }[name];
  const records = parseCsv(readFileSync(path.join(shared, 'datasets/paper', file), 'utf8')).slice(0, 1500);
  const kind = name === 'time' ? 'time' : 'space';
  const entities = records.map((r) => ({
    row: r.line,
    name: kind === 'time' ? `${r.creator}'s ${r.title}` : r.name,
    split: r.is_test === 'True' ? 'test' : 'train',
    true: kind === 'time' ? [Number(r.release_date.slice(0, 4))] : [Number(r.latitude), Number(r.longitude)],
  })).filter((e) => e.true.every(Number.isFinite));
  // The script-injection row the security check looks for.
  entities.splice(3, 0, { row: 5, name: '<img src=x onerror=alert(1)>', split: 'test', true: kind === 'time' ? [1990] : entities[3].true });
  const numLayers = 13;
  const scale = { world: 25, usa: 6, nyc: 0.04, time: 25 }[name];
  const layers = [];
  const perLayer = {};
  for (let layer = 0; layer < numLayers; layer++) {
    const quality = Math.exp(-((layer - 8) ** 2) / 18); // best around layer 8
    const noise = scale * (1.6 - quality);
    const predictions = entities.map((e) => ({ ...e, predicted: e.true.map((v) => v + noise * gaussian()) }));
    perLayer[layer] = predictions;
    const test = predictions.filter((p) => p.split === 'test');
    const train = predictions.filter((p) => p.split === 'train');
    const targets = kind === 'time' ? ['year'] : ['latitude', 'longitude'];
    const perTarget = (set) => Object.fromEntries(targets.map((t, j) => [t, r2(set.map((p) => p.true[j]), set.map((p) => p.predicted[j]))]));
    const testPer = perTarget(test);
    const trainPer = perTarget(train);
    const meanOf = (o) => Object.values(o).reduce((s, v) => s + v, 0) / targets.length;
    layers.push({
      index: layer,
      alpha: 10 ** (layer % 4),
      trainR2: Math.min(0.99, meanOf(trainPer) + 0.08),
      testR2: meanOf(testPer),
      testR2PerTarget: testPer,
      pearson: Object.fromEntries(targets.map((t) => [t, Math.sqrt(Math.max(0, testPer[t]))])),
      spearman: Object.fromEntries(targets.map((t) => [t, Math.sqrt(Math.max(0, testPer[t])) * 0.97])),
      proximityError: 0.5 * (1.05 - quality) * (0.9 + 0.1 * random()),
    });
  }
  const bestLayer = layers.reduce((b, l) => (l.testR2 > b.testR2 ? l : b)).index;
  const results = {
    format: 'spacetime-probe-results/1',
    kind,
    targets: kind === 'time' ? ['year'] : ['latitude', 'longitude'],
    split: { method: 'is_test', train: entities.filter((e) => e.split === 'train').length, test: entities.filter((e) => e.split === 'test').length },
    alphas: [0.1, 1, 10, 100, 1000],
    layers,
    bestLayer,
    predictions: perLayer[bestLayer],
    model: 'sample:gpt2-tiny',
    dataset: `paper:${file}`,
    prompt: kind === 'time' ? 'What year was {} released?' : '{}',
    device: { requested: 'auto', used: 'cpu', fallbacks: ['cuda: provider libraries not installed'] },
    createdAt: '2026-11-26T06:00:00.000Z',
    skipped: [{ row: 9, name: 'Zzyzx', reason: 'no token in vocabulary' }],
  };
  const summary = { id: `sample-${name}`, model: results.model, dataset: file.replace('.csv', ''), prompt: results.prompt, kind, bestLayer, bestTestR2: layers[bestLayer].testR2, createdAt: results.createdAt };
  return { run: { summary, results, layersWithPredictions: Object.keys(perLayer).map(Number), canRevealRows: true }, perLayer };
}

// ------------------------------------------------------------------ theme variables (subset of what VS Code injects)
const THEMES = {
  dark: { bodyClass: 'vscode-dark', vars: {
    '--vscode-foreground': '#cccccc', '--vscode-descriptionForeground': '#9d9d9d', '--vscode-editor-background': '#1f1f1f',
    '--vscode-editorWidget-background': '#2b2b2b', '--vscode-editorWidget-border': '#454545', '--vscode-panel-border': '#2b2b2b',
    '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif', '--vscode-font-size': '13px', '--vscode-editor-font-family': 'monospace',
    '--vscode-charts-blue': '#3794ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#89d185', '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-purple': '#b180d7', '--vscode-charts-yellow': '#cca700', '--vscode-button-background': '#0078d4', '--vscode-button-foreground': '#ffffff',
    '--vscode-button-secondaryBackground': '#313131', '--vscode-button-secondaryForeground': '#cccccc', '--vscode-input-background': '#313131',
    '--vscode-input-foreground': '#cccccc', '--vscode-dropdown-background': '#313131', '--vscode-dropdown-border': '#3c3c3c', '--vscode-focusBorder': '#0078d4',
    '--vscode-list-hoverBackground': '#2a2d2e', '--vscode-panelTitle-activeBorder': '#0078d4', '--vscode-panelTitle-activeForeground': '#e7e7e7',
    '--vscode-panelTitle-inactiveForeground': '#9d9d9d', '--vscode-settings-headerBorder': '#2b2b2b', '--vscode-editorHoverWidget-background': '#202020',
    '--vscode-editorHoverWidget-border': '#454545', '--vscode-errorForeground': '#f85149', '--vscode-textBlockQuote-background': '#2b2b2b', '--vscode-progressBar-background': '#0078d4',
  } },
  light: { bodyClass: 'vscode-light', vars: {
    '--vscode-foreground': '#3b3b3b', '--vscode-descriptionForeground': '#717171', '--vscode-editor-background': '#ffffff',
    '--vscode-editorWidget-background': '#f0f0f0', '--vscode-editorWidget-border': '#c8c8c8', '--vscode-panel-border': '#e5e5e5',
    '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif', '--vscode-font-size': '13px', '--vscode-editor-font-family': 'monospace',
    '--vscode-charts-blue': '#1a85ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#388a34', '--vscode-charts-red': '#e51400',
    '--vscode-charts-purple': '#652d90', '--vscode-charts-yellow': '#bf8803', '--vscode-button-background': '#005fb8', '--vscode-button-foreground': '#ffffff',
    '--vscode-button-secondaryBackground': '#e5e5e5', '--vscode-button-secondaryForeground': '#3b3b3b', '--vscode-input-background': '#ffffff',
    '--vscode-input-foreground': '#3b3b3b', '--vscode-input-border': '#cecece', '--vscode-dropdown-background': '#ffffff', '--vscode-dropdown-border': '#cecece',
    '--vscode-focusBorder': '#005fb8', '--vscode-list-hoverBackground': '#f2f2f2', '--vscode-panelTitle-activeBorder': '#005fb8',
    '--vscode-panelTitle-activeForeground': '#3b3b3b', '--vscode-panelTitle-inactiveForeground': '#3b3b3b', '--vscode-settings-headerBorder': '#e5e5e5',
    '--vscode-editorHoverWidget-background': '#f8f8f8', '--vscode-editorHoverWidget-border': '#c8c8c8', '--vscode-errorForeground': '#a1260d',
    '--vscode-textBlockQuote-background': '#f8f8f8', '--vscode-progressBar-background': '#005fb8',
  } },
  hc: { bodyClass: 'vscode-high-contrast', vars: {
    '--vscode-foreground': '#ffffff', '--vscode-descriptionForeground': '#ffffffb3', '--vscode-editor-background': '#000000',
    '--vscode-editorWidget-background': '#0c141f', '--vscode-editorWidget-border': '#6fc3df', '--vscode-contrastBorder': '#6fc3df', '--vscode-contrastActiveBorder': '#f38518',
    '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif', '--vscode-font-size': '13px', '--vscode-editor-font-family': 'monospace',
    '--vscode-charts-blue': '#3794ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#89d185', '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-purple': '#b180d7', '--vscode-charts-yellow': '#cca700', '--vscode-button-background': '#000000', '--vscode-button-border': '#6fc3df',
    '--vscode-button-foreground': '#ffffff', '--vscode-input-background': '#000000', '--vscode-input-foreground': '#ffffff', '--vscode-input-border': '#6fc3df',
    '--vscode-dropdown-background': '#000000', '--vscode-dropdown-border': '#6fc3df', '--vscode-focusBorder': '#f38518', '--vscode-settings-headerBorder': '#6fc3df',
    '--vscode-panelTitle-activeBorder': '#6fc3df', '--vscode-panelTitle-activeForeground': '#ffffff', '--vscode-panelTitle-inactiveForeground': '#ffffff',
    '--vscode-editorHoverWidget-background': '#0c141f', '--vscode-editorHoverWidget-border': '#6fc3df', '--vscode-errorForeground': '#f48771',
  } },
};

function shimScript() {
  // Plays the extension host: answers `ready` with the sample run and `requestLayerPredictions` with its layer.
  return `(() => {
  const params = new URLSearchParams(location.search);
  const theme = ${JSON.stringify(THEMES)}[params.get('theme') || 'dark'];
  document.body.classList.add(theme.bodyClass);
  for (const [k, v] of Object.entries(theme.vars)) document.documentElement.style.setProperty(k, v);
  window.__posted = [];
  window.__xss = false;
  window.alert = () => { window.__xss = true; };
  let state = null;
  const reply = (message) => setTimeout(() => window.postMessage(message, '*'), 0);
  window.acquireVsCodeApi = () => ({
    getState: () => state,
    setState: (s) => { state = s; },
    postMessage: async (message) => {
      window.__posted.push(message);
      const sample = await (window.__sample ??= fetch('/sample/' + (params.get('scenario') || 'world') + '.json').then((r) => r.json()));
      if (message.type === 'ready') reply({ type: 'show', run: sample.run });
      if (message.type === 'requestLayerPredictions') reply({ type: 'layerPredictions', requestId: message.requestId, layer: message.layer, predictions: sample.perLayer[message.layer] ?? null });
    },
  });
})();`;
}

// ------------------------------------------------------------------ server
function startServer() {
  const samples = new Map();
  const server = createServer((request, response) => {
    const url = new URL(request.url, 'http://localhost');
    const origin = `http://${request.headers.host}`;
    const send = (status, type, body) => { response.writeHead(status, { 'content-type': type }); response.end(body); };
    if (url.pathname === '/') {
      return send(200, 'text/html', resultsHtml({
        cspSource: origin, nonce: createNonce(), scriptUri: `${origin}/out/webview/main.js`, styleUri: `${origin}/media/results.css`,
        geoBaseUri: `${origin}/out/webview/geo`, preludeScriptUris: [`${origin}/shim.js`],
      }));
    }
    if (url.pathname === '/shim.js') return send(200, 'text/javascript', shimScript());
    const sample = /^\/sample\/(\w+)\.json$/.exec(url.pathname);
    if (sample) {
      if (!samples.has(sample[1])) samples.set(sample[1], JSON.stringify(sampleRun(sample[1])));
      return send(200, 'application/json', samples.get(sample[1]));
    }
    const file = path.join(root, path.normalize(url.pathname));
    if (!file.startsWith(path.join(root, 'out')) && !file.startsWith(path.join(root, 'media'))) return send(404, 'text/plain', 'not served');
    if (!existsSync(file)) return send(404, 'text/plain', 'missing');
    const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'application/json';
    return send(200, type, readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function loadPlaywright() {
  const candidates = [process.env.PLAYWRIGHT_CORE, path.join(os.homedir(), '.cache/spacetime-probe-test/driver/node_modules/playwright-core'), '/tmp/pw/node_modules/playwright-core'];
  for (const candidate of candidates) if (candidate && existsSync(candidate)) return require(candidate);
  throw new Error('playwright-core not found (set PLAYWRIGHT_CORE)');
}

const server = await startServer();
const base = `http://127.0.0.1:${server.address().port}`;
if (args.includes('--serve')) {
  console.log(`serving ${base}/?scenario=world&theme=dark (Ctrl-C to stop)`);
} else {
  const { chromium } = loadPlaywright();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
  mkdirSync(outDir, { recursive: true });
  const failures = [];
  try {
    for (const theme of themes) {
      for (const scenario of scenarioNames) {
        const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
        const problems = [];
        page.on('console', (m) => { if ((m.type() === 'error' || m.type() === 'warning') && !m.text().includes('status of 404')) problems.push(`console.${m.type()}: ${m.text()}`); });
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`)));
        await page.goto(`${base}/?scenario=${scenario}&theme=${theme}`);
        await page.waitForSelector('body[data-rendered="layers"]', { timeout: 30000 });
        await page.waitForTimeout(300);
        const tabs = ['layers', scenario === 'time' ? 'time' : 'map', 'table'];
        for (const tab of tabs) {
          await page.click(`vscode-tab-header[data-tab="${tab}"]`);
          await page.waitForSelector(`body[data-rendered="${tab}"]`, { timeout: 30000 });
          await page.waitForTimeout(400);
          const file = path.join(outDir, `${scenario}-${theme}-${tab}.png`);
          await page.screenshot({ path: file, fullPage: tab !== 'table' });
          console.log(`saved ${path.relative(root, file)}`);
        }
        const text = await page.evaluate(() => document.body.innerText);
        const injected = await page.evaluate(() => ({ xss: window.__xss, imgs: document.querySelectorAll('img').length }));
        if (!text.includes('<img src=x onerror=alert(1)>')) problems.push('injection row not shown as text in the table');
        if (injected.xss || injected.imgs > 0) problems.push(`script injection executed (alert called: ${injected.xss}, img elements: ${injected.imgs})`);
        // Layer slider: move to layer 2 and check the map/table updates.
        await page.evaluate(() => { const s = document.getElementById('layer-slider'); s.value = '2'; s.dispatchEvent(new Event('change')); });
        await page.waitForTimeout(500);
        const layerShown = await page.evaluate(() => document.querySelector('.layer-value')?.textContent);
        if (layerShown !== '2') problems.push(`layer slider did not switch to layer 2 (shows ${layerShown})`);
        const posted = await page.evaluate(() => window.__posted.map((m) => m.type));
        if (!posted.includes('requestLayerPredictions')) problems.push('no requestLayerPredictions posted');
        await page.click('table.predictions tbody tr');
        const last = await page.evaluate(() => window.__posted.at(-1));
        if (last?.type !== 'revealEntity') problems.push(`clicking a row posted ${JSON.stringify(last)}`);
        if (problems.length) failures.push(`${scenario}/${theme}:\n  ${problems.join('\n  ')}`);
        await page.close();
      }
    }
  } finally {
    await browser.close();
    server.close();
  }
  if (failures.length) {
    console.error(`FAILED\n${failures.join('\n')}`);
    process.exitCode = 1;
  } else console.log('webview dev checks passed');
}

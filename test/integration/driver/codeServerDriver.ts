/**
 * @file Offline route for the integration tests: runs the mocha suite inside a real VS Code extension host served
 * by code-server, with Debian's headless chromium (driven by playwright-core) as the workbench.
 *
 * Two ways in:
 *  - `test`: what the shim that test/integration/runTest.ts hands to `@vscode/test-electron`'s `runTests()` as
 *    `vscodeExecutablePath` calls. It receives test-electron's arguments, keeps `--extensionDevelopmentPath`,
 *    `--extensionTestsPath` and the folder, ignores the rest, and exits with the suite's exit code.
 *  - `capture`: opens the extension (no tests), runs one command from the palette, waits for text in its webview
 *    and saves screenshots. For looking at a panel by hand:
 *      node out/test/integration/driver/codeServerDriver.js capture --command "Spacetime Probe: Show Environment" \
 *        --wait-for "onnxruntime-node" --name environment [--folder DIR]
 *
 * While the suite runs, the driver serves a loopback HTTP endpoint (SPACETIME_SCREENSHOT_URL in the extension
 * host's environment) so tests can ask for a palette command + webview screenshot: see suite/captureWebview.ts.
 *
 * Why each flag and timeout: docs/testing.md and /work/shared/docs/offline-vscode-testing.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { format, inspect } from 'node:util';
import { loadPlaywright, type Browser, type Frame, type Page } from './playwright';

/** Request body of POST /capture (the host side is suite/captureWebview.ts). */
export interface CaptureRequest {
  /** Command palette title, e.g. "Spacetime Probe: Show Environment". */
  readonly command: string;
  /** Text that appears in the webview only once its data has arrived. */
  readonly waitForText: string;
  /** File name stem for the PNGs under test-artifacts/. */
  readonly name: string;
  readonly timeoutMs?: number;
  /** CSS selector of an element in the webview to scroll into view (to the top) before the picture. */
  readonly scrollTo?: string;
}

export interface CaptureResponse {
  readonly ok: boolean;
  /** `document.body.innerText` of the webview that showed the text. */
  readonly text?: string;
  readonly screenshots?: readonly string[];
  readonly error?: string;
}

interface ToolLocations {
  readonly node24: string;
  readonly codeServerEntry: string;
  readonly playwrightCore: string;
  readonly chromium: string;
}

interface Session {
  readonly tempDir: string;
  readonly codeServer: ChildProcess;
  readonly port: number;
  browser?: Browser;
  page?: Page;
}

const SECOND = 1000;
const CODE_SERVER_START_TIMEOUT = 60 * SECOND;
const WORKBENCH_TIMEOUT = 60 * SECOND;
const PALETTE_ATTEMPTS = 12;
const DEFAULT_CAPTURE_TIMEOUT = 30 * SECOND;

function log(message: string): void {
  process.stdout.write(`[driver] ${message}\n`);
}

// --- tools ------------------------------------------------------------------------------------------------

function defaultCacheDir(): string {
  const xdgCache = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return process.env.SPACETIME_TEST_CACHE ?? path.join(xdgCache, 'spacetime-probe-test');
}

/** Tool paths from the environment (scripts/test.sh exports them), else from the setup script's env.json. */
export function resolveToolLocations(): ToolLocations {
  let fromFile: Partial<Record<string, string>> = {};
  const envFile = path.join(defaultCacheDir(), 'env.json');
  if (fs.existsSync(envFile)) {
    fromFile = JSON.parse(fs.readFileSync(envFile, 'utf8')) as Partial<Record<string, string>>;
  }
  const pick = (name: string): string => {
    const value = process.env[name] ?? fromFile[name];
    if (!value) {
      throw new Error(`${name} is not set and ${envFile} does not name it: run scripts/setup-test-env.sh first`);
    }
    if (!fs.existsSync(value)) {
      throw new Error(`${name}=${value} does not exist: rerun scripts/setup-test-env.sh`);
    }
    return value;
  };
  return {
    node24: pick('SPACETIME_NODE24'),
    codeServerEntry: pick('SPACETIME_CODE_SERVER'),
    playwrightCore: pick('SPACETIME_PLAYWRIGHT_CORE'),
    chromium: pick('SPACETIME_CHROMIUM'),
  };
}

// --- code-server ------------------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Settings that keep the workbench quiet and the screenshots clean (no chat side bar, no welcome page). */
const WORKBENCH_SETTINGS = {
  'workbench.startupEditor': 'none',
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.tips.enabled': false,
  'window.commandCenter': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'workbench.enableExperiments': false,
  'git.enabled': false,
  'security.workspace.trust.enabled': false,
};

async function startCodeServer(tools: ToolLocations, tempDir: string, hostEnv: NodeJS.ProcessEnv): Promise<Session> {
  const port = await freePort();
  const userDir = path.join(tempDir, 'user');
  fs.mkdirSync(path.join(userDir, 'User'), { recursive: true });
  fs.mkdirSync(path.join(tempDir, 'extensions'), { recursive: true });
  for (const dir of ['home', 'config', 'data', 'cache']) {
    fs.mkdirSync(path.join(tempDir, dir), { recursive: true });
  }
  const config = path.join(tempDir, 'config.yaml');
  fs.writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  fs.writeFileSync(path.join(userDir, 'User', 'settings.json'), JSON.stringify(WORKBENCH_SETTINGS, null, 2));

  const args = [
    tools.codeServerEntry,
    '--config', config,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--user-data-dir', userDir,
    '--extensions-dir', path.join(tempDir, 'extensions'),
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--disable-getting-started-override', '--disable-file-downloads', '--ignore-last-opened',
    // Without this the built workbench ignores the extensionDevelopmentPath/extensionTestsPath payload.
    '--vscode-option', 'enable-smoke-test-driver',
  ];
  // code-server otherwise writes its config and state under the user's home; keep everything in the temp dir.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...hostEnv,
    HOME: path.join(tempDir, 'home'),
    XDG_CONFIG_HOME: path.join(tempDir, 'config'),
    XDG_DATA_HOME: path.join(tempDir, 'data'),
    XDG_CACHE_HOME: path.join(tempDir, 'cache'),
  };
  const logStream = fs.createWriteStream(path.join(tempDir, 'code-server.log'));
  const codeServer = spawn(tools.node24, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not listen within ${CODE_SERVER_START_TIMEOUT / SECOND} s`)),
      CODE_SERVER_START_TIMEOUT);
    const onData = (chunk: Buffer): void => {
      logStream.write(chunk);
      if (chunk.toString().includes('HTTP server listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    codeServer.stdout?.on('data', onData);
    codeServer.stderr?.on('data', onData);
    codeServer.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`code-server exited early (code ${code ?? signal}); see ${path.join(tempDir, 'code-server.log')}`));
    });
  });
  hostConsoleLog = path.join(tempDir, 'host-console.log');
  const session: Session = { tempDir, codeServer, port };
  try {
    await listening;
  } catch (error) {
    await stopSession(session);
    throw error;
  }
  return session;
}

async function stopSession(session: Session): Promise<void> {
  await session.browser?.close().catch(() => undefined);
  const pid = session.codeServer.pid;
  if (pid !== undefined && session.codeServer.exitCode === null) {
    const exited = new Promise<void>((resolve) => session.codeServer.once('exit', () => resolve()));
    try {
      // Negative pid: the whole process group (code-server forks the extension host and file watchers).
      process.kill(-pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, 5 * SECOND);
    await exited;
    clearTimeout(timer);
  }
}

// --- browser ----------------------------------------------------------------------------------------------

async function openWorkbench(
  session: Session,
  tools: ToolLocations,
  options: { folder: string; extensionDevelopmentPath: string; extensionTestsPath?: string },
  onExit: (code: number) => void,
): Promise<Page> {
  const playwright = loadPlaywright(tools.playwrightCore);
  session.browser = await playwright.chromium.launch({
    executablePath: tools.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    timeout: 60 * SECOND,
  });
  const context = await session.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  session.page = page;
  // Both hooks must exist before the workbench loads: the smoke-test driver looks them up at start.
  await page.exposeFunction('codeAutomationLog', (type, args) => forwardHostLog(type, args));
  await page.exposeFunction('codeAutomationExit', (code) => onExit(typeof code === 'number' ? code : 1));
  page.on('pageerror', (error) => {
    fs.appendFileSync(path.join(session.tempDir, 'page-errors.log'), `${error.stack ?? error.message}\n`);
  });

  const remote = (absolute: string): string => `vscode-remote://127.0.0.1:${session.port}${absolute}`;
  const payload: Array<[string, string]> = [
    ['extensionDevelopmentPath', remote(options.extensionDevelopmentPath)],
    ['skipWelcome', 'true'],
  ];
  if (options.extensionTestsPath) {
    payload.push(['extensionTestsPath', remote(options.extensionTestsPath)]);
  }
  const url = `http://127.0.0.1:${session.port}/?folder=${encodeURIComponent(options.folder)}` +
    `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  await page.goto(url, { timeout: WORKBENCH_TIMEOUT });
  await page.waitForSelector('.monaco-workbench', { timeout: WORKBENCH_TIMEOUT });
  return page;
}

/**
 * Workbench chatter that is expected offline and says nothing about our tests (no gallery, no GitHub auth,
 * connection bookkeeping). It still goes to <temp>/host-console.log; only the terminal is spared.
 */
const KNOWN_NOISE = [
  /getaddrinfo ENOTFOUND/,
  /authentication provider 'github'/,
  /^\[AccountPolicyGate\]/,
  /^\[AgentHost:remote\]/,
  /^\[reconnection-grace-time\]/,
  /^(Resolving|Resolved) connection token/,
  /^Creating a socket/,
  /^Updating additional builtin extensions cache/,
  /^\[Service Worker\]/,
];

let hostConsoleLog: string | undefined;

/**
 * The extension host's console (mocha's reporter included) arrives here through the smoke-test driver hook, as
 * console.log-style arguments (a format string, then values), so format them the way Node would.
 */
function forwardHostLog(type: unknown, args: unknown): void {
  const values: unknown[] = Array.isArray(args) ? args : [args];
  const text = typeof values[0] === 'string' ? format(values[0], ...values.slice(1)) : values.map((value) => inspect(value)).join(' ');
  if (hostConsoleLog) {
    fs.appendFileSync(hostConsoleLog, `[${String(type)}] ${text}\n`);
  }
  if (KNOWN_NOISE.some((pattern) => pattern.test(text))) {
    return;
  }
  (type === 'error' || type === 'warn' ? process.stderr : process.stdout).write(`${text}\n`);
}

/**
 * Run a command through the palette, as a person would. The remote extension host registers contributions
 * seconds after the workbench appears, so a missing row is retried (Escape, wait, again) rather than failed.
 */
async function runFromPalette(page: Page, title: string): Promise<void> {
  await page.waitForSelector('.statusbar', { timeout: WORKBENCH_TIMEOUT });
  await page.waitForTimeout(1 * SECOND);
  let lastError: unknown;
  for (let attempt = 1; attempt <= PALETTE_ATTEMPTS; attempt++) {
    try {
      await page.keyboard.press('F1');
      await page.locator('.quick-input-widget input').first().waitFor({ state: 'visible', timeout: 5 * SECOND });
      await page.keyboard.type(title);
      const row = page.locator('.quick-input-list .monaco-list-row').filter({ hasText: title }).first();
      await row.waitFor({ state: 'visible', timeout: 5 * SECOND });
      await row.click({ timeout: 5 * SECOND });
      // The pointer would otherwise rest where the row was, over the editor tabs, and a tab tooltip would cover
      // the panel in the screenshot. The activity bar below its icons has nothing to hover.
      await page.mouse.move(24, 520);
      if (attempt > 1) {
        log(`palette: "${title}" found on attempt ${attempt}`);
      }
      return;
    } catch (error) {
      lastError = error;
      await page.keyboard.press('Escape').catch(() => undefined);
      await page.waitForTimeout(2 * SECOND);
    }
  }
  throw new Error(`command "${title}" not found in the palette after ${PALETTE_ATTEMPTS} attempts: ${errorText(lastError)}`);
}

function safeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return cleaned || 'webview';
}

/** The webview content frame is `iframe.webview.ready` (outer) → `#active-frame` (the extension's HTML). */
async function findWebviewFrameWithText(page: Page, text: string): Promise<{ frame: Frame; bodyText: string } | undefined> {
  for (const frame of page.frames()) {
    const outer = frame.parentFrame();
    if (!outer || outer.parentFrame() !== page.mainFrame()) {
      continue;
    }
    try {
      const inner = await frame.frameElement();
      if ((await inner.getAttribute('id')) !== 'active-frame') {
        continue;
      }
      const outerElement = await outer.frameElement();
      const outerClass = (await outerElement.getAttribute('class')) ?? '';
      if (!outerClass.split(/\s+/).includes('webview') || !(await outerElement.isVisible())) {
        continue;
      }
      const bodyText = await frame.evaluate(() => document.body?.innerText ?? '');
      if (bodyText.includes(text)) {
        return { frame, bodyText };
      }
    } catch {
      // Frames come and go while the panel loads; look again on the next poll.
    }
  }
  return undefined;
}

async function captureWebview(page: Page, request: CaptureRequest, artifactsDir: string): Promise<CaptureResponse> {
  const name = safeName(request.name);
  const timeoutMs = request.timeoutMs ?? DEFAULT_CAPTURE_TIMEOUT;
  fs.mkdirSync(artifactsDir, { recursive: true });
  try {
    await runFromPalette(page, request.command);
    // Waiting on the text, not a fixed sleep: it appears only once the panel's data has arrived.
    const deadline = Date.now() + timeoutMs;
    let found: { frame: Frame; bodyText: string } | undefined;
    while (!found && Date.now() < deadline) {
      found = await findWebviewFrameWithText(page, request.waitForText);
      if (!found) {
        await page.waitForTimeout(250);
      }
    }
    if (!found) {
      throw new Error(`no visible webview showed "${request.waitForText}" within ${timeoutMs / SECOND} s`);
    }
    if (request.scrollTo) {
      const selector = request.scrollTo;
      const scrolled = await found.frame.evaluate((target: string) => {
        const node = document.querySelector(target);
        node?.scrollIntoView({ block: 'start' });
        return node !== null;
      }, selector);
      if (!scrolled) throw new Error(`nothing in the webview matches ${JSON.stringify(selector)}`);
    }
    await page.waitForTimeout(500); // let layout and fonts settle before the picture
    const fullPage = path.join(artifactsDir, `${name}.png`);
    const panel = path.join(artifactsDir, `${name}-panel.png`);
    await page.screenshot({ path: fullPage });
    const outer = found.frame.parentFrame();
    if (!outer) {
      throw new Error('webview frame lost its parent');
    }
    await (await outer.frameElement()).screenshot({ path: panel });
    log(`captured ${path.relative(process.cwd(), fullPage)} and ${path.basename(panel)}`);
    return { ok: true, text: found.bodyText, screenshots: [fullPage, panel] };
  } catch (error) {
    const failed = path.join(artifactsDir, `${name}-FAILED.png`);
    await page.screenshot({ path: failed }).catch(() => undefined);
    const frames = page.frames().map((frame) => frame.url()).join('\n  ');
    log(`capture "${name}" failed: ${errorText(error)}\n  saved ${failed}\n  frames:\n  ${frames}`);
    return { ok: false, error: `${errorText(error)} (see ${failed})` };
  }
}

// --- screenshot endpoint ------------------------------------------------------------------------------------

function isCaptureRequest(value: unknown): value is CaptureRequest {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const record = value as Record<string, unknown>;
  return typeof record.command === 'string' && typeof record.waitForText === 'string' && typeof record.name === 'string' &&
    (record.timeoutMs === undefined || typeof record.timeoutMs === 'number');
}

/** Serves POST /capture on 127.0.0.1; requests run one at a time (one browser page). */
async function startCaptureServer(getPage: () => Page | undefined, artifactsDir: string): Promise<{ url: string; close: () => void }> {
  let queue: Promise<unknown> = Promise.resolve();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const reply = (status: number, body: CaptureResponse): void => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        reply(400, { ok: false, error: 'request body is not JSON' });
        return;
      }
      if (request.method !== 'POST' || request.url !== '/capture' || !isCaptureRequest(parsed)) {
        reply(400, { ok: false, error: 'expected POST /capture with {command, waitForText, name, timeoutMs?}' });
        return;
      }
      const page = getPage();
      if (!page) {
        reply(503, { ok: false, error: 'the browser page is not ready' });
        return;
      }
      const captureRequest = parsed;
      queue = queue.then(() => captureWebview(page, captureRequest, artifactsDir))
        .then((result) => reply(200, result), (error: unknown) => reply(500, { ok: false, error: errorText(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/capture`, close: () => server.close() };
}

// --- entry points -------------------------------------------------------------------------------------------

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface TestArguments {
  readonly extensionDevelopmentPath: string;
  readonly extensionTestsPath: string;
  readonly folder: string;
}

/** Keep what the offline route needs from test-electron's command line; its other flags are for Electron. */
export function parseTestElectronArguments(argv: readonly string[]): TestArguments {
  let extensionDevelopmentPath: string | undefined;
  let extensionTestsPath: string | undefined;
  const folders: string[] = [];
  for (const argument of argv) {
    if (argument.startsWith('--extensionDevelopmentPath=')) {
      extensionDevelopmentPath = argument.slice('--extensionDevelopmentPath='.length);
    } else if (argument.startsWith('--extensionTestsPath=')) {
      extensionTestsPath = argument.slice('--extensionTestsPath='.length);
    } else if (!argument.startsWith('-')) {
      folders.push(argument);
    }
  }
  if (!extensionDevelopmentPath || !extensionTestsPath) {
    throw new Error(`expected --extensionDevelopmentPath= and --extensionTestsPath= among: ${argv.join(' ')}`);
  }
  return {
    extensionDevelopmentPath: path.resolve(extensionDevelopmentPath),
    extensionTestsPath: path.resolve(extensionTestsPath),
    folder: path.resolve(folders[0] ?? extensionDevelopmentPath),
  };
}

function artifactsDirFor(extensionDevelopmentPath: string): string {
  return path.resolve(process.env.SPACETIME_ARTIFACTS_DIR ?? path.join(extensionDevelopmentPath, 'test-artifacts'));
}

/** Kills everything and exits 124 if the run hangs (a stuck host never calls codeAutomationExit). */
function armHardTimeout(seconds: number, onTimeout: () => Promise<void>): NodeJS.Timeout {
  return setTimeout(() => {
    log(`hard timeout: no result after ${seconds} s; stopping code-server and the browser`);
    void onTimeout().finally(() => process.exit(124));
  }, seconds * SECOND);
}

async function runTestMode(argv: readonly string[]): Promise<number> {
  const args = parseTestElectronArguments(argv);
  const tools = resolveToolLocations();
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-vscode-'));
  const artifactsDir = artifactsDirFor(args.extensionDevelopmentPath);
  let session: Session | undefined;
  let failed = true;
  const hardTimeout = armHardTimeout(Number(process.env.SPACETIME_DRIVER_TIMEOUT_S ?? 900), async () => {
    if (session) {
      await stopSession(session);
    }
    log(`kept ${tempDir} (host log: ${path.join(tempDir, 'user', 'logs', '*', 'exthost1', 'remoteexthost.log')})`);
  });
  const capture = await startCaptureServer(() => session?.page, artifactsDir);
  try {
    session = await startCodeServer(tools, tempDir, { SPACETIME_SCREENSHOT_URL: capture.url });
    log(`code-server on 127.0.0.1:${session.port}, temp dir ${tempDir}`);
    const exitCode = await new Promise<number>((resolve, reject) => {
      const current = session;
      if (!current) {
        reject(new Error('no session'));
        return;
      }
      openWorkbench(current, tools, args, resolve).catch(reject);
    });
    failed = exitCode !== 0;
    return exitCode;
  } catch (error) {
    log(`error: ${errorText(error)}`);
    return 1;
  } finally {
    clearTimeout(hardTimeout);
    capture.close();
    if (session) {
      await stopSession(session);
    }
    if (failed) {
      log(`kept ${tempDir} for inspection; host log: ${path.join(tempDir, 'user', 'logs', '*', 'exthost1', 'remoteexthost.log')}, ` +
        `code-server log: ${path.join(tempDir, 'code-server.log')}`);
    } else {
      fs.rmSync(tempDir, { recursive: true, force: true });
    }
  }
}

function optionValue(argv: readonly string[], name: string): string | undefined {
  const index = argv.indexOf(name);
  return index >= 0 ? argv[index + 1] : undefined;
}

async function runCaptureMode(argv: readonly string[]): Promise<number> {
  const command = optionValue(argv, '--command');
  const waitForText = optionValue(argv, '--wait-for');
  const name = optionValue(argv, '--name') ?? 'webview';
  if (!command || !waitForText) {
    process.stderr.write('usage: codeServerDriver.js capture --command "<palette title>" --wait-for "<text>" [--name N] [--folder DIR]\n');
    return 2;
  }
  const extensionDevelopmentPath = path.resolve(__dirname, '..', '..', '..', '..');
  const folder = path.resolve(optionValue(argv, '--folder') ?? extensionDevelopmentPath);
  const tools = resolveToolLocations();
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-vscode-'));
  let session: Session | undefined;
  let ok = false;
  const hardTimeout = armHardTimeout(Number(process.env.SPACETIME_DRIVER_TIMEOUT_S ?? 300), async () => {
    if (session) {
      await stopSession(session);
    }
  });
  try {
    session = await startCodeServer(tools, tempDir, {});
    const page = await openWorkbench(session, tools, { folder, extensionDevelopmentPath }, () => undefined);
    const result = await captureWebview(page, { command, waitForText, name }, artifactsDirFor(extensionDevelopmentPath));
    ok = result.ok;
    process.stdout.write(result.ok ? `${result.text ?? ''}\n` : `${result.error ?? 'capture failed'}\n`);
    return ok ? 0 : 1;
  } catch (error) {
    log(`error: ${errorText(error)}`);
    return 1;
  } finally {
    clearTimeout(hardTimeout);
    if (session) {
      await stopSession(session);
    }
    if (ok) {
      fs.rmSync(tempDir, { recursive: true, force: true });
    } else {
      log(`kept ${tempDir} for inspection`);
    }
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const [mode, ...rest] = argv;
  switch (mode) {
    case 'test':
      return runTestMode(rest);
    case 'capture':
      return runCaptureMode(rest);
    default:
      process.stderr.write('usage: codeServerDriver.js test <test-electron arguments> | capture --command ... --wait-for ...\n');
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (error: unknown) => {
    process.stderr.write(`[driver] ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  });
}

/**
 * @file Entry point of the integration tests (compiled to out/test/integration/runTest.js).
 *
 * It always goes through `@vscode/test-electron`'s `runTests()`. Where VS Code can be downloaded (the standard
 * route), runTests runs the suite in it. Offline, runTests is handed a small shim as `vscodeExecutablePath` that
 * starts code-server + headless chromium instead (driver/codeServerDriver.ts); the suite is the same.
 *
 * SPACETIME_VSCODE chooses:
 *   online   plain runTests() with the download
 *   offline  always the code-server shim (CI machines without internet; no time spent waiting for a download)
 *   auto     (default) try the download; only if *the download* fails, use the shim. A failing suite is never
 *            rerun on the other route.
 */
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

type Route = 'online' | 'offline' | 'auto';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

function chosenRoute(): Route {
  const value = (process.env.SPACETIME_VSCODE ?? 'auto').toLowerCase();
  if (value === 'online' || value === 'offline' || value === 'auto') {
    return value;
  }
  throw new Error(`SPACETIME_VSCODE must be online, offline or auto (got "${value}")`);
}

/** Installs (or confirms, in about a second) Node 24, code-server, playwright-core and chromium; exports their paths. */
function setUpOfflineTools(): void {
  const output = execFileSync('bash', [path.join(repoRoot, 'scripts', 'setup-test-env.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  for (const match of output.matchAll(/^export (SPACETIME_[A-Z0-9_]+)=(.*)$/gm)) {
    // The script quotes with printf %q; our cache paths never need it, but undo simple backslash escapes.
    process.env[match[1]] = match[2].replace(/\\(.)/g, '$1');
  }
}

/** The shim test-electron spawns in place of VS Code: it forwards every argument to the driver in test mode. */
function writeShim(directory: string): string {
  const driver = path.join(__dirname, 'driver', 'codeServerDriver.js');
  const shim = path.join(directory, 'code-server-shim.sh');
  fs.writeFileSync(shim, `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(driver)} test "$@"\n`, { mode: 0o755 });
  return shim;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A throwaway copy of test/integration/workspace as the opened folder, so tests may edit files freely. */
function prepareWorkspace(directory: string): string {
  const workspace = path.join(directory, 'workspace');
  const template = path.join(repoRoot, 'test', 'integration', 'workspace');
  if (fs.existsSync(template)) {
    fs.cpSync(template, workspace, { recursive: true });
  } else {
    fs.mkdirSync(workspace, { recursive: true });
  }
  return workspace;
}

async function main(): Promise<number> {
  const route = chosenRoute();
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-integration-'));
  const summaryFile = process.env.SPACETIME_TEST_SUMMARY ?? path.join(runDir, 'summary.json');
  const workspace = prepareWorkspace(runDir);
  const extensionTestsEnv = {
    SPACETIME_TEST_SUMMARY: summaryFile,
    SPACETIME_TEST_WORKSPACE: workspace,
    SPACETIME_REPO_ROOT: repoRoot,
  };
  const common = {
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
    launchArgs: [workspace, '--disable-extensions'],
    extensionTestsEnv,
  };

  let vscodeExecutablePath: string | undefined;
  if (route !== 'offline') {
    try {
      vscodeExecutablePath = await downloadAndUnzipVSCode({ cachePath: path.join(repoRoot, '.vscode-test'), timeout: 15_000 });
      console.log(`[runTest] route: online (VS Code at ${vscodeExecutablePath})`);
    } catch (error) {
      if (route === 'online') {
        fs.rmSync(runDir, { recursive: true, force: true });
        throw error;
      }
      console.log(`[runTest] VS Code download failed (${error instanceof Error ? error.message : String(error)}); ` +
        'using the offline code-server route');
    }
  }
  if (!vscodeExecutablePath) {
    try {
      setUpOfflineTools();
    } catch (error) {
      fs.rmSync(runDir, { recursive: true, force: true }); // nothing ran yet: nothing to inspect
      throw new Error(`the offline route's setup failed (scripts/setup-test-env.sh, output above): ${error instanceof Error ? error.message : String(error)}`);
    }
    vscodeExecutablePath = writeShim(runDir);
    console.log('[runTest] route: offline (code-server + headless chromium)');
  }

  try {
    await runTests({ ...common, vscodeExecutablePath });
    fs.rmSync(runDir, { recursive: true, force: true });
    return 0;
  } catch (error) {
    console.error(`[runTest] ${error instanceof Error ? error.message : String(error)}; kept ${runDir}`);
    const code = (error as { code?: unknown }).code;
    return typeof code === 'number' && code !== 0 ? code : 1;
  }
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error(`[runTest] ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  process.exit(1);
});

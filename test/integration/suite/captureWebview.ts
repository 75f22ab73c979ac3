/**
 * @file Webview screenshots from inside an integration test, as a person sees them.
 *
 * Tests run in the extension host, but the browser is driven from outside it: on the offline route the driver
 * (test/integration/driver/codeServerDriver.ts) serves a loopback endpoint whose URL arrives here as
 * SPACETIME_SCREENSHOT_URL. `captureWebview` asks it to run a command from the command palette, wait until the
 * given text is visible inside the webview frame, and save PNGs under test-artifacts/ (`<name>.png`, the whole
 * window, and `<name>-panel.png`, the panel only). It returns the frame's visible text to assert on.
 *
 * On the standard test-electron route there is no browser to drive: `screenshotsAvailable()` is false and tests
 * should call `skipWithoutScreenshots(this)`.
 */
import * as http from 'node:http';

export interface CaptureWebviewOptions {
  /** Title as shown in the command palette, e.g. "Spacetime Probe: Show Environment". */
  readonly command: string;
  /** Text that the webview renders only once its data has arrived. */
  readonly waitForText: string;
  /** File name stem for the PNGs. */
  readonly name: string;
  /** How long to wait for the text (default 30 s). */
  readonly timeoutMs?: number;
  /** CSS selector of an element in the webview to scroll to the top before the picture (e.g. a chart below the fold). */
  readonly scrollTo?: string;
}

export interface CapturedWebview {
  /** `document.body.innerText` of the webview frame that showed `waitForText`. */
  readonly text: string;
  /** Absolute paths of the saved PNGs (full window first, then the panel). */
  readonly screenshots: readonly string[];
}

export function screenshotsAvailable(): boolean {
  return Boolean(process.env.SPACETIME_SCREENSHOT_URL);
}

/** Mark the current test skipped, saying why, when no browser is driving this host. */
export function skipWithoutScreenshots(context: Mocha.Context): void {
  if (!screenshotsAvailable()) {
    console.log('      (skipped: webview screenshots need the offline code-server route; SPACETIME_SCREENSHOT_URL is not set)');
    context.skip();
  }
}

export async function captureWebview(options: CaptureWebviewOptions): Promise<CapturedWebview> {
  const url = process.env.SPACETIME_SCREENSHOT_URL;
  if (!url) {
    throw new Error('captureWebview needs the offline code-server route (SPACETIME_SCREENSHOT_URL is not set)');
  }
  const body = JSON.stringify(options);
  const response = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      incoming.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
  const parsed = JSON.parse(response.text) as { ok?: unknown; text?: unknown; screenshots?: unknown; error?: unknown };
  if (response.status !== 200 || parsed.ok !== true || typeof parsed.text !== 'string' || !Array.isArray(parsed.screenshots)) {
    throw new Error(`captureWebview("${options.name}") failed: ${typeof parsed.error === 'string' ? parsed.error : response.text}`);
  }
  return { text: parsed.text, screenshots: parsed.screenshots.filter((item): item is string => typeof item === 'string') };
}

/**
 * The results panel's HTML document. Kept free of the `vscode` module (plain strings in, string out) so the
 * development page (scripts/webview-dev.mjs) renders exactly what the extension serves.
 */

export interface ResultsHtmlOptions {
  /** `webview.cspSource`: the origin of the extension's local resources. */
  readonly cspSource: string;
  /** Fresh per document (see `createNonce`); only scripts and styles carrying it run. */
  readonly nonce: string;
  readonly scriptUri: string;
  readonly styleUri: string;
  /** Folder holding the bundled base maps (out/webview/geo). */
  readonly geoBaseUri: string;
  /** Extra script tags placed before the main script (the dev page's acquireVsCodeApi shim); empty in the product. */
  readonly preludeScriptUris?: readonly string[];
}

/** Attribute-safe text: the URIs are ours, but escaping costs nothing and rules out a broken document. */
function attribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Base64 of 16 random bytes from the platform CSPRNG (Node's global webcrypto, also present in browsers). */
export function createNonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString('base64');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    // Nothing is allowed unless listed below: no remote content of any kind.
    "default-src 'none'",
    // Vega's PNG export draws into a canvas and reads it back as a data: URL.
    `img-src ${cspSource} data: blob:`,
    // Our stylesheet; components (Lit) use constructable stylesheets, which CSP does not block.
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    // Only our bundle runs; Vega uses vega-interpreter, so no 'unsafe-eval'.
    `script-src 'nonce-${nonce}'`,
    // The base maps are fetched from the extension's own files.
    `connect-src ${cspSource}`,
  ].join('; ');
}

export function resultsHtml(options: ResultsHtmlOptions): string {
  const nonce = attribute(options.nonce);
  const prelude = (options.preludeScriptUris ?? [])
    .map((uri) => `<script nonce="${nonce}" src="${attribute(uri)}"></script>`)
    .join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${attribute(contentSecurityPolicy(options.cspSource, options.nonce))}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <link rel="stylesheet" nonce="${nonce}" href="${attribute(options.styleUri)}">
    <title>Spacetime Probe Results</title>
  </head>
  <body data-geo-base="${attribute(options.geoBaseUri)}">
    <main id="app"><p class="caption">Waiting for results\u2026</p></main>
    ${prelude}
    <script nonce="${nonce}" src="${attribute(options.scriptUri)}"></script>
  </body>
</html>`;
}

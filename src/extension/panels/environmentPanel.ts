/**
 * @file "Spacetime Probe: Show Environment": a small webview panel listing the extension version, the
 * onnxruntime-node version, the execution providers it reports and the extension host (Node, ABI, appHost).
 *
 * It is the smallest real feature that exercises the whole stack the probes depend on: the native onnxruntime
 * addon loading inside the extension host, a webview script running under a strict CSP, and the host/webview
 * message handshake. Integration tests and the screenshot helper use it as their known-good target.
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { ort } from '../../core/runtime/ort';

/** What the panel shows; also the command's return value, so tests can compare it with independent sources. */
export interface EnvironmentReport {
  readonly extensionVersion: string;
  readonly onnxruntimeVersion: string;
  /** As reported by `ort.listSupportedBackends()`; "bundled" does not mean usable (see onnx-runtime-notes). */
  readonly executionProviders: ReadonlyArray<{ readonly name: string; readonly bundled: boolean }>;
  readonly host: {
    readonly nodeVersion: string;
    /** Node's module ABI; 115 for Node 20, 137 for Node 24, Electron has its own. */
    readonly nodeModuleAbi: string;
    readonly platform: string;
    readonly arch: string;
    readonly appHost: string;
    readonly appName: string;
    readonly vscodeVersion: string;
  };
}

/** Messages between this panel's script (media/environmentPanel.js) and the host. */
type EnvironmentToHost = { readonly type: 'ready' };
type HostToEnvironment = { readonly type: 'environment'; readonly environment: EnvironmentReport };

export const SHOW_ENVIRONMENT_COMMAND = 'spacetimeProbe.showEnvironment';

export function collectEnvironment(extension: vscode.Extension<unknown>): EnvironmentReport {
  const packageJson = extension.packageJSON as { version?: unknown };
  return {
    extensionVersion: typeof packageJson.version === 'string' ? packageJson.version : 'unknown',
    onnxruntimeVersion: ort.env.versions.node ?? ort.env.versions.common,
    executionProviders: (ort.listSupportedBackends?.() ?? []).map(({ name, bundled }) => ({ name, bundled })),
    host: {
      nodeVersion: process.version,
      nodeModuleAbi: process.versions.modules,
      platform: process.platform,
      arch: process.arch,
      appHost: vscode.env.appHost,
      appName: vscode.env.appName,
      vscodeVersion: vscode.version,
    },
  };
}

export class EnvironmentPanel implements vscode.Disposable {
  static readonly viewType = 'spacetimeProbe.environment';
  private static current: EnvironmentPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  /** Reveal the open panel, or create one; either way it (re)sends the current environment. */
  static createOrShow(extensionUri: vscode.Uri, environment: EnvironmentReport): EnvironmentPanel {
    const existing = EnvironmentPanel.current;
    if (existing) {
      existing.panel.reveal();
      existing.post({ type: 'environment', environment });
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(EnvironmentPanel.viewType, 'Spacetime Probe: Environment',
      vscode.ViewColumn.Active, webviewOptions(extensionUri));
    EnvironmentPanel.current = new EnvironmentPanel(panel, extensionUri, environment);
    return EnvironmentPanel.current;
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private environment: EnvironmentReport,
  ) {
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      // The script asks for the data once it is listening, so nothing posted before it loads is lost.
      panel.webview.onDidReceiveMessage((message: unknown) => {
        if (isEnvironmentToHost(message) && message.type === 'ready') {
          this.post({ type: 'environment', environment: this.environment });
        }
      }),
    );
    panel.webview.html = renderHtml(panel.webview, extensionUri);
  }

  private post(message: HostToEnvironment): void {
    if (message.type === 'environment') {
      this.environment = message.environment;
    }
    void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    if (this.disposed) {
      return;
    }
    this.disposed = true;
    if (EnvironmentPanel.current === this) {
      EnvironmentPanel.current = undefined;
    }
    this.panel.dispose();
    for (const disposable of this.disposables.splice(0)) {
      disposable.dispose();
    }
  }
}

/** Registers the command; the returned report lets tests check what the panel was given. */
export function registerEnvironmentPanel(context: vscode.ExtensionContext): vscode.Disposable {
  return vscode.commands.registerCommand(SHOW_ENVIRONMENT_COMMAND, (): EnvironmentReport => {
    const environment = collectEnvironment(context.extension);
    EnvironmentPanel.createOrShow(context.extensionUri, environment);
    return environment;
  });
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    // Only our own static assets may load: no workspace files, no other extension's resources.
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media'), vscode.Uri.joinPath(extensionUri, 'out', 'webview')],
  };
}

function isEnvironmentToHost(message: unknown): message is EnvironmentToHost {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'ready';
}

function renderHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = createNonce();
  const scriptUri = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'environmentPanel.js'));
  const styleUri = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'environmentPanel.css'));
  // default-src 'none': nothing loads unless listed. Styles only from our media folder, scripts only with this
  // render's nonce (no inline handlers, no eval), no network access at all.
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${styleUri.toString()}">
  <title>Spacetime Probe: Environment</title>
</head>
<body>
  <h1>Spacetime Probe environment</h1>
  <p id="status">Waiting for the extension host…</p>
  <div id="content"></div>
  <script nonce="${nonce}" src="${scriptUri.toString()}"></script>
</body>
</html>`;
}

function createNonce(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(32), (byte) => alphabet[byte % alphabet.length]).join('');
}

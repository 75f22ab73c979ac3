// The extension in the real host: it activates, its command opens a webview panel, closing the panel removes it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EnvironmentReport } from '../../../src/extension/panels/environmentPanel';

const EXTENSION_ID = 'spacetime-probe.spacetime-probe';
const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');

/** The version npm installed, read from disk: an independent reference for what the host reports. */
function installedPackageVersion(name: string): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function environmentTab(): vscode.Tab | undefined {
  return vscode.window.tabGroups.all.flatMap((group) => group.tabs)
    .find((tab) => tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith('spacetimeProbe.environment'));
}

suite('Extension host', () => {
  test('activates and contributes its commands', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded in this host`);
    await extension.activate();
    assert.equal(extension.isActive, true);
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('spacetimeProbe.showEnvironment'), 'spacetimeProbe.showEnvironment is not registered');
  });

  test('Show Environment reports onnxruntime-node and the host, and opens a panel that closes cleanly', async () => {
    const report = await vscode.commands.executeCommand<EnvironmentReport>('spacetimeProbe.showEnvironment');
    assert.equal(report.onnxruntimeVersion, installedPackageVersion('onnxruntime-node'));
    assert.equal(report.extensionVersion, vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON.version);
    assert.ok(report.executionProviders.some((provider) => provider.name === 'cpu' && provider.bundled),
      `cpu missing from ${JSON.stringify(report.executionProviders)}`);
    assert.equal(report.host.nodeVersion, process.version);
    assert.equal(report.host.appHost, vscode.env.appHost);

    // The tab model updates asynchronously after createWebviewPanel.
    const tab = await waitFor(environmentTab, 'the Environment panel tab');
    assert.equal(tab.label, 'Spacetime Probe: Environment');

    // Running the command again reveals the same panel instead of opening a second one.
    await vscode.commands.executeCommand('spacetimeProbe.showEnvironment');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const environmentTabs = vscode.window.tabGroups.all.flatMap((group) => group.tabs)
      .filter((candidate) => candidate.input instanceof vscode.TabInputWebview && candidate.input.viewType.endsWith('spacetimeProbe.environment'));
    assert.equal(environmentTabs.length, 1);

    assert.equal(await vscode.window.tabGroups.close(tab), true);
    await waitFor(() => (environmentTab() ? undefined : true), 'the Environment panel to close');
  });
});

import * as vscode from 'vscode';
import { registerEnvironmentPanel } from './panels/environmentPanel';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('spacetimeProbe.hello', () => 'Spacetime Probe is active'),
    registerEnvironmentPanel(context),
  );
}

export function deactivate(): void {
  // Nothing to release yet: every registration lives in context.subscriptions.
}

import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('spacetimeProbe.hello', () => 'Spacetime Probe is active'),
  );
}

export function deactivate(): void {
  // Nothing to release yet: every registration lives in context.subscriptions.
}

/** A status-bar item while a probe runs: its progress line; click to cancel (after asking). */
import * as vscode from 'vscode';
import { Disposable } from './util/disposable';

export class RunStatusItem extends Disposable {
  readonly item: vscode.StatusBarItem;

  constructor(onDidChangeStatus: vscode.Event<string | null>) {
    super();
    this.item = this._register(vscode.window.createStatusBarItem('spacetimeProbe.runStatus', vscode.StatusBarAlignment.Left, 10));
    this.item.name = 'Spacetime Probe: run in progress';
    this.item.command = 'spacetimeProbe.cancelRunFromStatusBar';
    this._register(vscode.commands.registerCommand('spacetimeProbe.cancelRunFromStatusBar', async () => {
      const choice = await vscode.window.showInformationMessage('Spacetime Probe: cancel the run in progress?', 'Cancel Run', 'Keep Running');
      if (choice === 'Cancel Run') await vscode.commands.executeCommand('spacetimeProbe.cancelRun');
    }));
    this._register(onDidChangeStatus((status) => this.update(status)));
  }

  private update(status: string | null): void {
    if (status === null) {
      this.item.hide();
      return;
    }
    const short = status.length > 48 ? `${status.slice(0, 47)}\u2026` : status;
    this.item.text = `$(sync~spin) Probe: ${short}`;
    this.item.tooltip = `Spacetime Probe: ${status}\nClick to cancel the run.`;
    this.item.show();
  }
}

/**
 * Status bar item for the execution device: what was requested, what actually ran (from the last run's
 * DeviceInfo) and why other providers were not used. Clicking it runs "Select Device".
 */
import * as vscode from 'vscode';
import type { DeviceInfo } from '../core/model/types';
import { Disposable } from './util/disposable';
import { readSettings } from './config';

export class DeviceStatus extends Disposable {
  private readonly item: vscode.StatusBarItem;
  private lastDevice: DeviceInfo | undefined;

  constructor(private readonly log: vscode.LogOutputChannel) {
    super();
    this.item = this._register(vscode.window.createStatusBarItem('spacetimeProbe.device', vscode.StatusBarAlignment.Right, 100));
    this.item.name = 'Spacetime Probe Device';
    this.item.command = 'spacetimeProbe.selectDevice';
    this._register(vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('spacetimeProbe.device')) this.render();
    }));
    this.render();
    this.item.show();
  }

  /** Record the device a run reported, and log the fallbacks once per run. */
  reportDevice(device: DeviceInfo): void {
    this.lastDevice = device;
    this.log.info(`Device: requested ${device.requested}, used ${device.used}` +
      (device.fallbacks.length ? `; not used: ${device.fallbacks.join('; ')}` : ''));
    this.render();
  }

  get text(): string {
    return this.item.text;
  }

  private render(): void {
    const requested = readSettings().device;
    const used = this.lastDevice?.used;
    this.item.text = `$(chip) ${used ?? requested}${used && requested !== 'auto' && requested !== used ? ` (asked ${requested})` : ''}`;
    const tooltip = new vscode.MarkdownString();
    tooltip.appendMarkdown('**Spacetime Probe device**\n\n');
    tooltip.appendText(`Setting: ${requested}\n`);
    if (this.lastDevice) {
      tooltip.appendText(`Last run used: ${this.lastDevice.used} (requested ${this.lastDevice.requested})\n`);
      for (const line of this.lastDevice.fallbacks) tooltip.appendText(`• ${line}\n`);
    } else {
      tooltip.appendText('No probe has run in this window yet.\n');
    }
    tooltip.appendMarkdown('\nClick to select the device.');
    this.item.tooltip = tooltip;
  }
}

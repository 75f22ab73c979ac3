/** "Clear Activation Cache": deletes cached residual-stream vectors (after confirmation), reports what was freed. */
import * as vscode from 'vscode';
import type { Command } from './command';
import type { Services } from '../services';
import { ActivationCache, formatBytes } from '../../core/activations/cache';
import { readSettings } from '../config';

export class ClearActivationCacheCommand implements Command {
  readonly id = 'spacetimeProbe.clearActivationCache';
  constructor(private readonly services: Services) {}

  async execute(options?: unknown): Promise<{ bytes: number; namespaces: number } | undefined> {
    if (this.services.runner.isRunning) {
      void vscode.window.showWarningMessage('Spacetime Probe: a probe is running; cancel it before clearing the activation cache.');
      return undefined;
    }
    const settings = readSettings();
    const cache = new ActivationCache({ ...(settings.cacheDirectory ? { dir: settings.cacheDirectory } : {}), maxBytes: settings.cacheMaxBytes });
    const info = await cache.info();
    const skipConfirmation = typeof options === 'object' && options !== null && (options as { confirm?: unknown }).confirm === false;
    if (!skipConfirmation) {
      const answer = await vscode.window.showWarningMessage(
        `Delete ${formatBytes(info.bytes)} of cached activations in ${info.dir}? Later runs will extract them again.`,
        { modal: true }, 'Clear Cache');
      if (answer !== 'Clear Cache') return undefined;
    }
    const cleared = await cache.clear();
    this.services.log.info(`Activation cache cleared: ${formatBytes(cleared.bytes)} in ${cleared.namespaces} namespaces (${info.dir}).`);
    void vscode.window.showInformationMessage(`Spacetime Probe: freed ${formatBytes(cleared.bytes)} of cached activations.`);
    return { bytes: cleared.bytes, namespaces: cleared.namespaces };
  }
}

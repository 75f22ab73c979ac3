/**
 * "Download Model…": pick a suggested model or type a Hub id; downloads with progress and cancel (the core
 * resumes partial files), with the token kept in VS Code's SecretStorage for gated repositories.
 */
import * as vscode from 'vscode';
import type { Command } from './command';
import type { Services } from '../services';
import { modelHub, type DownloadedModel } from '../runs/modelHub';

export const HUB_TOKEN_SECRET = 'spacetimeProbe.huggingFaceToken';

function formatMegabytes(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(bytes < 10 * 1024 ** 2 ? 1 : 0)} MB`;
}

export class DownloadModelCommand implements Command {
  readonly id = 'spacetimeProbe.downloadModel';
  constructor(private readonly services: Services) {}

  async execute(repoArgument?: unknown): Promise<DownloadedModel | undefined> {
    const hub = modelHub();
    if (!hub) {
      void vscode.window.showWarningMessage('Spacetime Probe: model downloads are not available in this build. Use the built-in GloVe model or a local model folder.');
      return undefined;
    }
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Spacetime Probe downloads and runs models only in trusted workspaces.');
      return undefined;
    }
    let repo = typeof repoArgument === 'string' ? repoArgument : undefined;
    if (!repo) {
      const items: (vscode.QuickPickItem & { repo?: string })[] = hub.suggested().map((m) => ({
        label: m.repo, description: m.sizeBytes ? formatMegabytes(m.sizeBytes) : undefined, detail: m.description, repo: m.repo,
      }));
      items.push({ label: '$(edit) Other model id\u2026' });
      const picked = await vscode.window.showQuickPick(items, { title: 'Download model from the Hugging Face Hub' });
      if (!picked) return undefined;
      repo = picked.repo ?? (await vscode.window.showInputBox({
        title: 'Hugging Face model id', prompt: 'owner/name, optionally @revision',
        validateInput: (value) => (/^[\w.-]+\/[\w.-]+(@[\w./-]+)?$/.test(value.trim()) ? undefined : 'Expected owner/name'),
      }))?.trim();
    }
    if (!repo) return undefined;
    const [name, revision] = repo.split('@');
    const token = await this.services.context.secrets.get(HUB_TOKEN_SECRET);
    const controller = new AbortController();
    try {
      const downloaded = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Downloading ${name}`, cancellable: true },
        (progress, cancellation) => {
          cancellation.onCancellationRequested(() => controller.abort());
          let lastPercent = 0;
          return hub.download({
            repo: name, ...(revision ? { revision } : {}), ...(token ? { token } : {}), signal: controller.signal,
            log: (line) => this.services.log.info(line),
            onProgress: ({ file, receivedBytes, totalBytes }) => {
              const percent = totalBytes ? (receivedBytes / totalBytes) * 100 : undefined;
              const increment = percent !== undefined ? Math.max(0, percent - lastPercent) : undefined;
              if (percent !== undefined) lastPercent = Math.max(lastPercent, percent);
              progress.report({
                message: `${file}: ${formatMegabytes(receivedBytes)}${totalBytes ? ` of ${formatMegabytes(totalBytes)}` : ''}`,
                ...(increment ? { increment } : {}),
              });
            },
          });
        },
      );
      this.services.log.info(`Downloaded ${repo} to ${downloaded.path}.`);
      void vscode.commands.executeCommand('spacetimeProbe.refreshViews');
      // Not awaited: the command resolves with the download, the offer stays until dismissed.
      void vscode.window.showInformationMessage(`Spacetime Probe: ${name} is ready.`, 'Run Probe\u2026').then((choice) => {
        if (choice) void vscode.commands.executeCommand('spacetimeProbe.runProbe');
      });
      return downloaded;
    } catch (error) {
      if (controller.signal.aborted) {
        void vscode.window.showInformationMessage(`Spacetime Probe: download of ${name} cancelled; it resumes next time.`);
        return undefined;
      }
      const message = error instanceof Error ? error.message : String(error);
      const action = /\b(401|403)\b|gated|token/i.test(message) ? 'Set Token\u2026' : undefined;
      const choice = await vscode.window.showErrorMessage(`Spacetime Probe: download failed: ${message}`, ...(action ? [action] : []));
      if (choice === action) await vscode.commands.executeCommand('spacetimeProbe.setHubToken');
      return undefined;
    }
  }
}

export class SetHubTokenCommand implements Command {
  readonly id = 'spacetimeProbe.setHubToken';
  constructor(private readonly services: Services) {}

  async execute(): Promise<void> {
    const token = await vscode.window.showInputBox({
      title: 'Hugging Face access token', prompt: 'Stored in VS Code\u2019s secret storage; leave empty to remove it.', password: true, ignoreFocusOut: true,
    });
    if (token === undefined) return;
    if (token.trim()) await this.services.context.secrets.store(HUB_TOKEN_SECRET, token.trim());
    else await this.services.context.secrets.delete(HUB_TOKEN_SECRET);
    this.services.log.info(token.trim() ? 'Hugging Face token saved.' : 'Hugging Face token removed.');
  }
}

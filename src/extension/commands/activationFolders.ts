/**
 * Past one machine (issue 18): "Export Extraction Script…" writes the Python extraction for a GPU cluster or NDIF
 * (src/core/scripts/extractionScript.ts) for a dataset; "Open Activation Folder…" probes a folder produced
 * elsewhere (that script, or any tool writing docs/activations.md's format) and adds it to the Runs view with its
 * provenance. The probe runs in a child process (our CLI's `probe`), so the extension host stays responsive
 * whatever the folder's size; with Remote-SSH the extension (a workspace extension) and the child run on the
 * remote machine, next to the folder.
 */
import * as vscode from 'vscode';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import path from 'node:path';
import type { Command } from './command';
import type { Services } from '../services';
import { pickDataset, pickPrompt } from '../pickers';
import { readSettings } from '../config';
import { loadDataset } from '../../core/datasets/load';
import { isBuiltinReference, resolveDatasetPath } from '../../core/datasets/builtin';
import { renderEntityPrompt } from '../../core/activations/extract';
import { manifestDtype, readActivationManifest, type ActivationManifest } from '../../core/activations/manifest';
import {
  buildExtractionBundle, scriptPromptsFor, writeExtractionBundle, SCRIPT_DTYPES, SCRIPT_ENGINES, SCRIPT_FILE,
  type ScriptDtype, type ScriptEngine,
} from '../../core/scripts/extractionScript';
import type { ProbeResults } from '../../core/experiments/results';
import { datasetLabel } from '../runs/probeRunner';
import type { RunRecord } from '../runs/runStore';

export interface ExportScriptArguments {
  readonly dataset: string;
  readonly model: string;
  readonly engine?: ScriptEngine;
  readonly dtype?: ScriptDtype;
  readonly prompt?: string;
  readonly remote?: boolean;
  readonly outDir: string;
  readonly open?: boolean;
}

function activeDataset(): string | undefined {
  const uri = vscode.window.activeTextEditor?.document.uri;
  return uri?.scheme === 'file' && /\.(csv|jsonl|ndjson)$/i.test(uri.fsPath) ? uri.fsPath : undefined;
}

export class ExportExtractionScriptCommand implements Command {
  readonly id = 'spacetimeProbe.exportExtractionScript';
  constructor(private readonly services: Services) {}

  async execute(argument?: unknown): Promise<string[] | undefined> {
    const given = typeof argument === 'object' && argument !== null && typeof (argument as ExportScriptArguments).dataset === 'string'
      ? argument as ExportScriptArguments : undefined;
    const request = given ?? await this.ask();
    if (!request) return undefined;
    const settings = readSettings();
    const dataset = loadDataset(request.dataset, { skipInvalid: true });
    const template = request.prompt ?? '{entity}';
    const bundle = buildExtractionBundle(scriptPromptsFor(dataset.entities, template, renderEntityPrompt), {
      engine: request.engine ?? 'hf', model: request.model, dataset: request.dataset, prompt: template, token: settings.token,
      dtype: request.dtype ?? 'float16', remote: request.remote ?? false,
    });
    const files = writeExtractionBundle(request.outDir, bundle);
    this.services.log.info(`Extraction script for ${request.dataset} (${dataset.entities.length} prompts, engine ${request.engine ?? 'hf'}, model ${request.model}) written to ${request.outDir}`);
    if (request.open !== false) {
      await vscode.window.showTextDocument(vscode.Uri.file(path.join(request.outDir, SCRIPT_FILE)), { preview: false });
      void vscode.window.showInformationMessage(`Spacetime Probe: on the cluster run "pip install -r requirements.txt && python ${SCRIPT_FILE} --out activations/", ` +
        'then Open Activation Folder\u2026 here.');
    }
    return files;
  }

  private async ask(): Promise<ExportScriptArguments | undefined> {
    const dataset = activeDataset() ?? (await pickDataset())?.reference;
    if (!dataset) return undefined;
    const engine = await vscode.window.showQuickPick(SCRIPT_ENGINES.map((value) => ({
      label: value, value,
      description: { hf: 'Hugging Face transformers + accelerate (device_map="auto" over the GPUs)', nnsight: 'nnsight, locally or on NDIF (remote=True)', 'transformer-lens': 'TransformerLens (no weight processing)' }[value],
    })), { title: 'Spacetime Probe: extraction engine' });
    if (!engine) return undefined;
    const remote = engine.value === 'nnsight'
      ? (await vscode.window.showQuickPick([{ label: 'Local GPUs', value: false }, { label: 'NDIF (remote=True)', value: true }], { title: 'Where nnsight runs' }))?.value
      : false;
    if (remote === undefined) return undefined;
    const model = await vscode.window.showInputBox({
      title: 'Model: Hugging Face Hub id, or a folder on the cluster', value: 'meta-llama/Llama-2-70b-hf',
      validateInput: (value) => (value.trim() ? undefined : 'A Hub id (org/name) or a folder path'),
    });
    if (!model) return undefined;
    const dtype = await vscode.window.showQuickPick(SCRIPT_DTYPES.map((value) => ({ label: value, value })), { title: 'Model and layer-file dtype' });
    if (!dtype) return undefined;
    const prompt = await pickPrompt(undefined);
    if (prompt === null) return undefined;
    const folder = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Write the script here', title: 'Folder for the extraction script' });
    if (!folder?.[0]) return undefined;
    return { dataset, model: model.trim(), engine: engine.value, dtype: dtype.value, remote, ...(prompt ? { prompt } : {}), outDir: folder[0].fsPath };
  }
}

export interface OpenActivationFolderArguments {
  readonly folder: string;
  readonly dataset?: string;
  readonly showResults?: boolean;
}

/** One line of provenance for the Runs view: who wrote the folder, with what, where. */
export function describeProvenance(manifest: ActivationManifest, folder: string): string {
  const producer = manifest.producer;
  const versions = producer?.versions ? Object.entries(producer.versions).map(([name, version]) => `${name} ${version}`).join(', ') : '';
  const by = producer ? `${producer.tool ?? 'another tool'}${producer.engine ? ` (${producer.engine}${producer.remote ? ', NDIF' : ''})` : ''}` : 'spacetime-probe extract';
  return `${folder}: ${by}, ${manifestDtype(manifest)}${manifest.device ? ` on ${manifest.device}` : ''}${versions ? `; ${versions}` : ''}`;
}

/** Our CLI next to the extension: the bundle (out/cli.js) or the compiled sources (out/src/cli/cli.js). */
function cliScript(extensionPath: string): string {
  const candidates = [path.join(extensionPath, 'out', 'cli.js'), path.join(extensionPath, 'out', 'src', 'cli', 'cli.js')];
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) throw new Error(`the Spacetime Probe CLI is missing from this installation (${candidates.join(', ')})`);
  return found;
}

export class OpenActivationFolderCommand implements Command {
  readonly id = 'spacetimeProbe.openActivationFolder';
  constructor(private readonly services: Services) {}

  async execute(argument?: unknown): Promise<RunRecord | undefined> {
    const given = typeof argument === 'object' && argument !== null && typeof (argument as OpenActivationFolderArguments).folder === 'string'
      ? argument as OpenActivationFolderArguments : undefined;
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Spacetime Probe probes activation folders only in trusted workspaces.');
      return undefined;
    }
    const folder = given?.folder ?? (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Probe this folder', title: 'Activation folder (manifest.json + layer_###.npy)' }))?.[0]?.fsPath;
    if (!folder) return undefined;
    const manifest = readActivationManifest(folder);
    const dataset = given?.dataset ?? await this.datasetFor(manifest);
    if (!dataset) return undefined;
    const datasetPath = path.resolve(resolveDatasetPath(dataset));
    const { store, log } = this.services;
    const { id, dir } = await store.createRunFolder();
    const settings = readSettings();
    const provenance = describeProvenance(manifest, folder);
    log.info(`Run ${id}: probing activation folder ${provenance} against ${dataset}`);
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Spacetime Probe: probing ${path.basename(folder)}`, cancellable: true },
        (progress, token) => new Promise<void>((resolve, reject) => {
          const child = fork(cliScript(this.services.context.extensionPath),
            ['probe', '--activations', folder, '--dataset', dataset, '--out', dir, '--bootstrap', String(settings.bootstrapResamples), '--json'],
            { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
          let stderr = '';
          child.stderr?.setEncoding('utf8');
          child.stderr?.on('data', (chunk: string) => {
            stderr += chunk;
            const line = chunk.split(/[\r\n]/).filter((part) => part.trim()).pop();
            if (line) progress.report({ message: line.trim().slice(0, 120) });
          });
          token.onCancellationRequested(() => child.kill());
          child.on('error', reject);
          child.on('exit', (code, signal) => {
            if (code === 0) resolve();
            else reject(new Error(token.isCancellationRequested ? 'cancelled' : `probe exited with ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' ')}`));
          });
        }));
      const results = JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as ProbeResults;
      const best = results.layers.find((layer) => layer.index === results.bestLayer);
      const record: RunRecord = {
        id, model: manifest.model, dataset: datasetLabel(dataset), prompt: manifest.prompt, ...(results.token ? { token: results.token } : {}),
        kind: results.kind, bestLayer: results.bestLayer, bestTestR2: best?.testR2 ?? Number.NaN, createdAt: results.createdAt ?? new Date().toISOString(),
        datasetReference: dataset, datasetPath, modelSpec: manifest.model, ...(manifest.device ? { device: manifest.device } : {}),
        activationsFolder: folder, provenance,
      };
      await store.commit(record);
      log.info(`Run ${id} (activation folder) finished: best layer ${record.bestLayer}, test R\u00b2 ${record.bestTestR2.toFixed(3)}.`);
      if (given?.showResults !== false) await vscode.commands.executeCommand('spacetimeProbe.showResults', id);
      return record;
    } catch (error) {
      await store.discard(id).catch(() => undefined);
      throw error;
    }
  }

  private async datasetFor(manifest: ActivationManifest): Promise<string | undefined> {
    const recorded = manifest.dataset;
    const usable = isBuiltinReference(recorded) || (path.isAbsolute(recorded) && fs.existsSync(recorded));
    if (usable) {
      const choice = await vscode.window.showQuickPick([
        { label: `$(database) ${recorded}`, description: 'the dataset recorded in manifest.json', value: recorded },
        { label: '$(folder-opened) Another dataset\u2026', value: '' },
      ], { title: 'Dataset to probe against' });
      if (!choice) return undefined;
      if (choice.value) return choice.value;
    }
    return (await pickDataset())?.reference;
  }
}

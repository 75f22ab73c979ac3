/**
 * Starts probe runs from the UI: workspace-trust gate, progress notification with cancel, log lines to the
 * output channel, run folder lifecycle (a cancelled or failed run leaves nothing behind) and, on success, the
 * run history entry. At most one run at a time: starting another cancels the previous (MutableDisposable slot).
 */
import * as vscode from 'vscode';
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import { isBuiltinReference, resolveDatasetPath } from '../../core/datasets/builtin';
import type { ProbeResults } from '../../core/experiments/results';
import { Disposable, MutableDisposable } from '../util/disposable';
import { readSettings } from '../config';
import type { DeviceStatus } from '../deviceStatus';
import { probeEngine, type ProbeProgress } from './engine';
import type { WarmModel } from './warmModel';
import type { ResidualModel } from '../../core/model/types';
import type { RunRecord, RunStore } from './runStore';
import type { EditorLoopTrace } from './editorLoopTrace';

export interface ProbeRequest {
  /** Path, or `builtin:<name>`. */
  readonly dataset: string;
  /** Defaults to the `spacetimeProbe.defaultModel` setting. */
  readonly model?: string;
  /** Prompt template with `{entity}`; the core's default when absent. */
  readonly prompt?: string;
  /** Why the run starts, for the log ("command", "saved dataset"). */
  readonly reason?: string;
  /** Open the results panel when done (default true). */
  readonly showResults?: boolean;
  /** Skip invalid rows (with warnings) instead of refusing the dataset ("Run without bad rows"). */
  readonly skipInvalid?: boolean;
}

export type ProbeOutcome =
  | { readonly status: 'completed'; readonly record: RunRecord; readonly results: ProbeResults }
  | { readonly status: 'cancelled' }
  | { readonly status: 'refused'; readonly reason: string }
  | { readonly status: 'failed'; readonly error: string };

/** A running probe; disposing it cancels it. */
class ActiveRun implements vscode.Disposable {
  readonly controller = new AbortController();
  constructor(readonly label: string, readonly datasetPath: string) {}
  dispose(): void {
    this.controller.abort();
  }
}

/** Scratch folder for the run's .npy files inside the run folder. */
const ACTIVATIONS_DIR = 'activations';

/** The per-layer .npy files are only needed while probes are fitted; the activation cache keeps the vectors. */
async function removeActivations(runDir: string): Promise<void> {
  await fsp.rm(path.join(runDir, ACTIVATIONS_DIR), { recursive: true, force: true });
}

export function datasetLabel(reference: string): string {
  return isBuiltinReference(reference) ? reference.slice('builtin:'.length) : path.basename(reference);
}

/** One-line description of a progress event, as shown in the notification and the panel. */
export function describeProgress(progress: ProbeProgress): string {
  const counts = progress.done !== undefined && progress.total !== undefined ? ` ${progress.done}/${progress.total}` : '';
  const rate = progress.tokensPerSecond !== undefined ? ` (${Math.round(progress.tokensPerSecond).toLocaleString('en')} tokens/s)` : '';
  const stage: Record<ProbeProgress['stage'], string> = {
    dataset: 'Reading dataset', model: 'Loading model', tokenize: 'Tokenizing', extract: 'Extracting', fit: 'Fitting probes', write: 'Writing results',
  };
  return `${stage[progress.stage]}${counts}${rate}${progress.message ? ` \u2013 ${progress.message}` : ''}`;
}

export class ProbeRunner extends Disposable {
  private readonly active = this._register(new MutableDisposable<ActiveRun>());
  private readonly onDidChangeStatusEmitter = this._register(new vscode.EventEmitter<string | null>());
  /** Fires a status line while a run is in progress, and null when it ends. */
  readonly onDidChangeStatus = this.onDidChangeStatusEmitter.event;
  private readonly onDidCompleteEmitter = this._register(new vscode.EventEmitter<RunRecord>());
  readonly onDidComplete = this.onDidCompleteEmitter.event;
  private readonly onDidRefuseDatasetEmitter = this._register(new vscode.EventEmitter<vscode.Uri>());
  /** Fires with a dataset file the core refused, so its problems reach the Problems panel even when it is not open. */
  readonly onDidRefuseDataset = this.onDidRefuseDatasetEmitter.event;

  constructor(
    private readonly store: RunStore,
    private readonly log: vscode.LogOutputChannel,
    private readonly deviceStatus: DeviceStatus,
    private readonly models?: WarmModel,
    /** Where the run's steps are timed (the editor-loop benchmark reads it). */
    private readonly trace?: EditorLoopTrace,
  ) {
    super();
    if (models) this._register(models);
  }

  get isRunning(): boolean {
    return this.active.value !== undefined;
  }

  /** The dataset file of the run in progress (absolute path), if any: CodeLens shows "running" only there. */
  get runningDatasetPath(): string | undefined {
    return this.active.value?.datasetPath;
  }

  /** Cancels the run in progress, if any. */
  cancel(): void {
    this.active.value = undefined;
  }

  async run(request: ProbeRequest): Promise<ProbeOutcome> {
    if (!vscode.workspace.isTrusted) {
      const reason = 'Spacetime Probe runs models only in trusted workspaces. Results of earlier runs can still be viewed.';
      this.log.warn(`Refused to run a probe on ${request.dataset}: workspace not trusted.`);
      void vscode.window.showWarningMessage(reason, 'Manage Workspace Trust').then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
      });
      return { status: 'refused', reason };
    }
    this.trace?.mark('run: start');
    const settings = readSettings();
    const model = request.model ?? settings.defaultModel;
    let datasetPath: string;
    try {
      datasetPath = path.resolve(resolveDatasetPath(request.dataset));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      void vscode.window.showErrorMessage(`Spacetime Probe: ${message}`);
      return { status: 'failed', error: message };
    }
    const label = `${datasetLabel(request.dataset)} \u00b7 ${model}`;
    const run = new ActiveRun(label, datasetPath);
    this.active.value = run; // cancels any run in progress
    this.onDidChangeStatusEmitter.fire(`Starting ${label}`);
    const { id, dir } = await this.store.createRunFolder();
    this.log.info(`Run ${id} started (${request.reason ?? 'command'}): dataset ${request.dataset}, model ${model}` +
      `${request.prompt ? `, prompt ${JSON.stringify(request.prompt)}` : ''}, token ${settings.token}, device ${settings.device}`);

    const started = Date.now();
    try {
      const results = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Spacetime Probe: ${label}`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => run.controller.abort());
          let lastFraction = 0;
          let loadedModel: ResidualModel | undefined;
          if (this.models) {
            progress.report({ message: `Loading model ${model}` });
            loadedModel = await this.models.get(model, settings.device, run.controller.signal, { format: settings.modelFormat, precision: settings.precision });
          }
          this.trace?.mark('run: engine request');
          return probeEngine()(
            {
              dataset: request.dataset,
              model,
              ...(request.prompt ? { prompt: request.prompt } : {}),
              ...(request.skipInvalid ? { skipInvalid: true } : {}),
              token: settings.token,
              device: settings.device,
              batchSize: settings.batchSize,
              format: settings.modelFormat,
              precision: settings.precision,
              ...(settings.alphas ? { alphas: [...settings.alphas] } : {}),
              bootstrapResamples: settings.bootstrapResamples,
              outDir: dir,
              ...(settings.cacheDirectory ? { cacheDir: settings.cacheDirectory } : {}),
              cacheMaxBytes: settings.cacheMaxBytes,
              layerPredictions: settings.allLayerPredictions,
              activationsDir: path.join(dir, ACTIVATIONS_DIR),
              ...(loadedModel ? { loadedModel } : {}),
            },
            {
              signal: run.controller.signal,
              log: (line) => this.log.info(line),
              onTrace: (marks) => this.trace?.add('worker', marks),
              onProgress: (event) => {
                const message = describeProgress(event);
                // Extraction dominates the time, so the bar advances with entities extracted.
                let increment: number | undefined;
                if (event.stage === 'extract' && event.done !== undefined && event.total) {
                  const fraction = (event.done / event.total) * 90;
                  increment = Math.max(0, fraction - lastFraction);
                  lastFraction = Math.max(lastFraction, fraction);
                }
                progress.report({ message, ...(increment ? { increment } : {}) });
                this.onDidChangeStatusEmitter.fire(message);
              },
            },
          );
        },
      );
      this.trace?.mark('run: engine done');
      await removeActivations(dir);
      if (run.controller.signal.aborted) throw new DOMException('cancelled', 'AbortError');
      const best = results.layers.find((l) => l.index === results.bestLayer);
      const record: RunRecord = {
        id,
        model: results.model ?? model,
        dataset: datasetLabel(request.dataset),
        ...(results.prompt ?? request.prompt ? { prompt: results.prompt ?? request.prompt } : {}),
        ...(results.token ? { token: results.token } : {}),
        kind: results.kind,
        bestLayer: results.bestLayer,
        bestTestR2: best?.testR2 ?? Number.NaN,
        createdAt: results.createdAt ?? new Date().toISOString(),
        datasetReference: request.dataset,
        datasetPath,
        modelSpec: model,
        ...(results.device ? { device: results.device.used } : {}),
      };
      await this.store.commit(record, results); // the engine's results are results.json's, parsed
      this.trace?.mark('run: committed');
      if (results.device) this.deviceStatus.reportDevice(results.device);
      this.log.info(`Run ${id} finished in ${((Date.now() - started) / 1000).toFixed(1)} s: best layer ${results.bestLayer}, test R\u00b2 ${record.bestTestR2.toFixed(3)}.`);
      void this.store.prune(settings.keepRuns).catch((error: unknown) => this.log.warn(`Pruning old runs failed: ${String(error)}`));
      this.onDidCompleteEmitter.fire(record);
      if (request.showResults !== false) await vscode.commands.executeCommand('spacetimeProbe.showResults', record.id);
      return { status: 'completed', record, results };
    } catch (error) {
      await this.store.discard(id).catch(() => undefined);
      if (run.controller.signal.aborted || (error instanceof Error && error.name === 'AbortError')) {
        this.log.info(`Run ${id} cancelled; its partial output was removed (the activation cache keeps only complete entries).`);
        void vscode.window.showInformationMessage(`Spacetime Probe: run on ${datasetLabel(request.dataset)} cancelled.`);
        return { status: 'cancelled' };
      }
      const message = error instanceof Error ? error.message : String(error);
      this.log.error(`Run ${id} failed: ${error instanceof Error ? error.stack ?? message : message}`);
      if (error instanceof Error && error.name === 'DatasetError') {
        this.reportDatasetError(request, message);
      } else {
        void vscode.window.showErrorMessage(`Spacetime Probe: ${message}`, 'Show Log').then((choice) => {
          if (choice) this.log.show(true);
        });
      }
      return { status: 'failed', error: message };
    } finally {
      this.active.clearIfCurrent(run);
      this.onDidChangeStatusEmitter.fire(null);
    }
  }

  /**
   * A dataset the core refused: the first problem in the message itself, "Show Problems" (the file's problems are
   * put in the Problems panel through onDidRefuseDataset, open in an editor or not), and for problems on data rows
   * "Run without bad rows".
   */
  private reportDatasetError(request: ProbeRequest, message: string): void {
    if (!isBuiltinReference(request.dataset)) this.onDidRefuseDatasetEmitter.fire(vscode.Uri.file(path.resolve(request.dataset)));
    const [summary, ...problems] = message.split('\n');
    const rowProblem = problems.some((line) => /:(\d+):\d+: error:/.exec(line) && Number(/:(\d+):\d+: error:/.exec(line)![1]) > 1);
    const first = problems[0] ? ` ${problems[0].replace(/^.*?:(\d+):(\d+): error: /, 'Line $1, column $2: ')}` : '';
    const actions = ['Show Problems', ...(rowProblem && !request.skipInvalid ? ['Run without bad rows'] : []), 'Show Log'];
    void vscode.window.showErrorMessage(`Spacetime Probe: ${summary}${first}`, ...actions).then(async (choice) => {
      if (choice === 'Show Problems') {
        // The entries are there without opening the file; each one opens it at its line.
        await vscode.commands.executeCommand('workbench.actions.view.problems');
      } else if (choice === 'Run without bad rows') {
        await this.run({ ...request, skipInvalid: true, reason: 'run without bad rows' });
      } else if (choice === 'Show Log') {
        this.log.show(true);
      }
    });
  }
}

/**
 * Runs robustness experiments on a finished run from the UI: workspace-trust gate, progress notification with
 * cancel, the experiment in a worker thread (out/experimentWorker.js; in-process when the bundle is absent),
 * and the results panel's Experiments tab afterwards. The experiment reuses the run's dataset, model, prompt
 * and the probe settings, reads activations through the activation cache (the run filled it), and writes
 * experiment_<name>.json into the run folder. One experiment at a time: starting another cancels the previous.
 */
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Disposable, MutableDisposable } from '../util/disposable';
import { readSettings } from '../config';
import type { RunStore } from './runStore';
import { describeProgress } from './probeRunner';
import { runExperiment, type ExperimentOptionsMap } from '../../core/experiments/runExperiment';
import type { ExperimentInputs } from '../../core/experiments/experimentSession';
import type { ExperimentName } from '../../core/experiments/experimentResults';
import type { RunProgress } from '../../core/experiments/run';
import type { ExperimentWorkerMessage, ExperimentWorkerRequest } from './experimentWorker';

export interface ExperimentRequest {
  readonly runId: string;
  readonly experiment: ExperimentName;
  /** Experiment options (defaults: the paper's settings, see docs/experiments.md). */
  readonly options?: ExperimentOptionsMap[ExperimentName];
  /** Open the results panel on the Experiments tab when done (default true). */
  readonly showResults?: boolean;
}

export type ExperimentRunOutcome =
  | { readonly status: 'completed'; readonly file: string }
  | { readonly status: 'cancelled' }
  | { readonly status: 'refused'; readonly reason: string }
  | { readonly status: 'failed'; readonly error: string };

interface Hooks {
  readonly signal: AbortSignal;
  readonly onProgress: (progress: RunProgress) => void;
  readonly log: (line: string) => void;
}

type Engine = (name: ExperimentName, inputs: Omit<ExperimentInputs, 'loadedModel'>, options: ExperimentOptionsMap[ExperimentName], hooks: Hooks) => Promise<string>;

/** Run in a fresh worker thread; cancel asks it to stop, and terminates it if it has not within 10 s. */
function workerEngine(workerFile: string): Engine {
  return (name, inputs, options, hooks) => new Promise<string>((resolve, reject) => {
    const worker = new Worker(workerFile);
    let settled = false;
    const finish = (action: () => void): void => {
      if (settled) return;
      settled = true;
      action();
      void worker.terminate();
    };
    const onAbort = (): void => {
      worker.postMessage({ type: 'cancel' } satisfies ExperimentWorkerRequest);
      setTimeout(() => finish(() => reject(Object.assign(new Error('cancelled'), { name: 'AbortError' }))), 10_000).unref();
    };
    if (hooks.signal.aborted) onAbort();
    else hooks.signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: ExperimentWorkerMessage) => {
      switch (message.type) {
        case 'progress': hooks.onProgress(message.progress); return;
        case 'log': hooks.log(message.line); return;
        case 'done': finish(() => resolve(message.file)); return;
        case 'failed': finish(() => reject(Object.assign(new Error(message.message), { name: message.name, stack: message.stack }))); return;
      }
    });
    worker.on('error', (error) => finish(() => reject(error)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the experiment worker exited (code ${code})`))));
    worker.postMessage({ type: 'run', name, inputs, options } satisfies ExperimentWorkerRequest);
  });
}

const inProcessEngine: Engine = async (name, inputs, options, hooks) => (await runExperiment(name, inputs, options, hooks)).file;

class ActiveExperiment implements vscode.Disposable {
  readonly controller = new AbortController();
  dispose(): void {
    this.controller.abort();
  }
}

export class ExperimentRunner extends Disposable {
  private readonly active = this._register(new MutableDisposable<ActiveExperiment>());
  private readonly engine: Engine;

  /** `workerFile`: out/experimentWorker.js; when missing (e.g. unbundled tests), experiments run in-process. */
  constructor(private readonly store: RunStore, private readonly log: vscode.LogOutputChannel, workerFile?: string) {
    super();
    this.engine = workerFile && fs.existsSync(workerFile) ? workerEngine(workerFile) : inProcessEngine;
  }

  get isRunning(): boolean {
    return this.active.value !== undefined;
  }

  cancel(): void {
    this.active.value = undefined;
  }

  async run(request: ExperimentRequest): Promise<ExperimentRunOutcome> {
    if (!vscode.workspace.isTrusted) {
      const reason = 'Spacetime Probe runs models only in trusted workspaces.';
      void vscode.window.showWarningMessage(reason);
      return { status: 'refused', reason };
    }
    const record = this.store.get(request.runId);
    if (!record) {
      const error = `Run ${request.runId} is not in the history.`;
      void vscode.window.showErrorMessage(`Spacetime Probe: ${error}`);
      return { status: 'failed', error };
    }
    const settings = readSettings();
    const inputs: Omit<ExperimentInputs, 'loadedModel'> = {
      dataset: record.datasetReference,
      model: record.modelSpec,
      outDir: path.join(this.store.root, record.id),
      device: settings.device,
      // The run's own token choice, so the experiment reads what the run read (runs from before the choice: prompt-last).
      token: record.token ?? 'prompt-last',
      batchSize: settings.batchSize,
      format: settings.modelFormat,
      precision: settings.precision,
      ...(settings.cacheDirectory ? { cacheDir: settings.cacheDirectory } : {}),
      cacheMaxBytes: settings.cacheMaxBytes,
    };
    const options = {
      ...(record.prompt ? { prompt: record.prompt } : {}),
      ...(settings.alphas ? { alphas: [...settings.alphas] } : {}),
      ...request.options,
    } as ExperimentOptionsMap[ExperimentName];
    const active = new ActiveExperiment();
    this.active.value = active;
    const label = `${request.experiment} on ${record.dataset} \u00b7 ${record.model}`;
    this.log.info(`Experiment ${label} started (run ${record.id}).`);
    const started = Date.now();
    try {
      const file = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Spacetime Probe: ${label}`, cancellable: true },
        (progress, token) => {
          token.onCancellationRequested(() => active.controller.abort());
          return this.engine(request.experiment, inputs, options, {
            signal: active.controller.signal,
            log: (line) => this.log.info(line),
            onProgress: (event) => progress.report({ message: describeProgress(event) }),
          });
        },
      );
      this.log.info(`Experiment ${label} finished in ${((Date.now() - started) / 1000).toFixed(1)} s: ${file}`);
      if (request.showResults !== false) await vscode.commands.executeCommand('spacetimeProbe.showResults', record.id, { tab: 'experiments' });
      return { status: 'completed', file };
    } catch (error) {
      if (active.controller.signal.aborted || (error instanceof Error && error.name === 'AbortError')) {
        this.log.info(`Experiment ${label} cancelled; nothing was written.`);
        return { status: 'cancelled' };
      }
      const message = error instanceof Error ? error.message : String(error);
      this.log.error(`Experiment ${label} failed: ${error instanceof Error ? error.stack ?? message : message}`);
      void vscode.window.showErrorMessage(`Spacetime Probe: ${message}`, 'Show Log').then((choice) => {
        if (choice) this.log.show(true);
      });
      return { status: 'failed', error: message };
    } finally {
      this.active.clearIfCurrent(active);
    }
  }
}

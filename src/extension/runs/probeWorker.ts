/**
 * Worker (a thread, or a child process: see workerEngine.ts) that runs probes (bundled to out/probeWorker.js).
 * Ridge fitting and metrics are synchronous JavaScript that can take minutes on large runs; on the extension host's thread they would freeze every
 * extension ("Extension host is unresponsive"). The worker keeps the last model loaded between runs.
 *
 * Messages: in  { type: 'run', id, options } | { type: 'cancel', id }
 *           out { type: 'progress' | 'log', id, ... } | { type: 'done', id, resultsJson, trace } | { type: 'failed', id, name, message, stack }
 * `resultsJson`: the text of the results.json the run wrote. One string crosses to the extension host in a few
 * milliseconds where the results as objects took 0.1–0.2 s to clone (28k rows), and the host parses what is on disk
 * (NaN as null) without reading the file again.
 * `trace`: when the worker received the request, each stage began, and the results were ready (editorLoopTrace.ts).
 */
import { parentPort } from 'node:worker_threads';
import { promises as fsp } from 'node:fs';
import { runProbe } from '../../core/experiments/run';
import { DatasetError } from '../../core/datasets/load';
import type { ProbeRunOptions } from './engine';
import { loadChosenModel, WarmModel } from './warmModel';
import { traceNow, type TraceMark } from './editorLoopTrace';

export type WorkerRequest =
  | { readonly type: 'run'; readonly id: number; readonly options: Omit<ProbeRunOptions, 'loadedModel'>; readonly keepModelWarm: boolean }
  | { readonly type: 'cancel'; readonly id: number };

/** The parent's channel: a worker thread's port, or a forked child process's IPC channel (workerEngine.ts). */
interface ParentChannel {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (request: WorkerRequest) => void): void;
}

const port: ParentChannel | undefined = parentPort ?? (process.send === undefined ? undefined : {
  postMessage: (message) => process.send?.(message),
  on: (_event, listener) => process.on('message', listener),
});
if (!port) throw new Error('probeWorker must run in a worker thread or a forked child process');
// A child process must not outlive the extension host that started it.
if (!parentPort) process.on('disconnect', () => process.exit(0));

const models = new WarmModel(loadChosenModel);
const controllers = new Map<number, AbortController>();

port.on('message', (request: WorkerRequest) => {
  if (request.type === 'cancel') {
    controllers.get(request.id)?.abort();
    return;
  }
  const { id, options } = request;
  const trace: TraceMark[] = [{ phase: 'request received', at: traceNow() }];
  let lastStage: string | undefined;
  const controller = new AbortController();
  controllers.set(id, controller);
  void (async () => {
    try {
      const loadedModel = request.keepModelWarm ? await models.get(options.model, options.device ?? 'auto', controller.signal, { format: options.format, precision: options.precision }) : undefined;
      trace.push({ phase: 'model ready', at: traceNow() });
      const outcome = await runProbe({ ...options, ...(loadedModel ? { loadedModel } : {}) }, {
        signal: controller.signal,
        onProgress: (progress) => {
          if (progress.stage !== lastStage) trace.push({ phase: progress.stage, at: traceNow() });
          lastStage = progress.stage;
          port.postMessage({ type: 'progress', id, progress });
        },
        log: (line) => port.postMessage({ type: 'log', id, line }),
      });
      const resultsJson = await fsp.readFile(outcome.resultsFile, 'utf8');
      trace.push({ phase: 'results written', at: traceNow() });
      port.postMessage({ type: 'done', id, resultsJson, trace });
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      // A dataset error carries its problems (file:line:col: message), one per line after the summary.
      const message = failure instanceof DatasetError ? [failure.message, ...failure.lines(20)].join('\n') : failure.message;
      port.postMessage({ type: 'failed', id, name: controller.signal.aborted ? 'AbortError' : failure.name, message, stack: failure.stack });
    } finally {
      controllers.delete(id);
    }
  })();
});

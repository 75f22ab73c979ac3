/**
 * Worker thread that runs one robustness experiment (bundled to out/experimentWorker.js): MLP training, PCA and
 * block holdouts are minutes of synchronous JavaScript that must not run on the extension host's thread.
 * One worker per experiment; cancellation is cooperative (the AbortSignal reaches every layer loop), so
 * temporary folders are cleaned up and the output file is never half-written.
 *
 * Messages: in  { type: 'run', name, inputs, options } | { type: 'cancel' }
 *           out { type: 'progress' | 'log', ... } | { type: 'done', file } | { type: 'failed', name, message, stack }
 */
import { parentPort } from 'node:worker_threads';
import { runExperiment, type ExperimentOptionsMap } from '../../core/experiments/runExperiment';
import type { ExperimentInputs } from '../../core/experiments/experimentSession';
import type { ExperimentName } from '../../core/experiments/experimentResults';
import type { RunProgress } from '../../core/experiments/run';

export type ExperimentWorkerRequest =
  | { readonly type: 'run'; readonly name: ExperimentName; readonly inputs: Omit<ExperimentInputs, 'loadedModel'>; readonly options: ExperimentOptionsMap[ExperimentName] }
  | { readonly type: 'cancel' };

export type ExperimentWorkerMessage =
  | { readonly type: 'progress'; readonly progress: RunProgress }
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'done'; readonly file: string }
  | { readonly type: 'failed'; readonly name: string; readonly message: string; readonly stack?: string };

const port = parentPort;
if (!port) throw new Error('experimentWorker must run in a worker thread');
const controller = new AbortController();
const send = (message: ExperimentWorkerMessage): void => port.postMessage(message);

port.on('message', (request: ExperimentWorkerRequest) => {
  if (request.type === 'cancel') {
    controller.abort();
    return;
  }
  void (async () => {
    try {
      const { file } = await runExperiment(request.name, request.inputs, request.options, {
        signal: controller.signal,
        onProgress: (progress) => send({ type: 'progress', progress }),
        log: (line) => send({ type: 'log', line }),
      });
      send({ type: 'done', file });
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      send({ type: 'failed', name: controller.signal.aborted ? 'AbortError' : failure.name, message: failure.message, stack: failure.stack });
    }
  })();
});

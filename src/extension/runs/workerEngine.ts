/**
 * A ProbeEngine that runs the core's runProbe in a worker thread (see probeWorker.ts), so the extension host
 * stays responsive while probes are fitted. Cancellation is forwarded; the worker is started on first use and
 * terminated on dispose.
 */
import { SHARE_ENV, Worker } from 'node:worker_threads';
import type { ProbeResults } from '../../core/experiments/results';
import type { IDisposable } from '../util/disposable';
import type { ProbeEngine, ProbeProgress, ProbeRunHooks, ProbeRunOptions } from './engine';
import type { WorkerRequest } from './probeWorker';

type WorkerMessage =
  | { readonly type: 'progress'; readonly id: number; readonly progress: ProbeProgress }
  | { readonly type: 'log'; readonly id: number; readonly line: string }
  | { readonly type: 'done'; readonly id: number; readonly results: ProbeResults }
  | { readonly type: 'failed'; readonly id: number; readonly name: string; readonly message: string; readonly stack?: string };

interface Pending {
  readonly hooks: ProbeRunHooks;
  readonly resolve: (results: ProbeResults) => void;
  readonly reject: (error: Error) => void;
}

export class WorkerProbeEngine implements IDisposable {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly workerFile: string, private readonly keepModelWarm = true) {}

  readonly run: ProbeEngine = (options: ProbeRunOptions, hooks: ProbeRunHooks) => {
    const { loadedModel: _ignored, ...serializable } = options; // a model cannot cross threads; the worker keeps its own
    const id = this.nextId++;
    const worker = this.ensureWorker();
    return new Promise<ProbeResults>((resolve, reject) => {
      this.pending.set(id, { hooks, resolve, reject });
      worker.ref(); // a run in flight keeps the process alive; an idle worker does not (see settle)
      if (hooks.signal?.aborted) {
        this.settle(id);
        reject(Object.assign(new Error('cancelled'), { name: 'AbortError' }));
        return;
      }
      hooks.signal?.addEventListener('abort', () => worker.postMessage({ type: 'cancel', id } satisfies WorkerRequest), { once: true });
      worker.postMessage({ type: 'run', id, options: serializable, keepModelWarm: this.keepModelWarm } satisfies WorkerRequest);
    });
  };

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    // SHARE_ENV: HF_HOME, HF_ENDPOINT, proxies… set in the extension host reach model loading in the worker.
    const worker = new Worker(this.workerFile, { env: SHARE_ENV });
    worker.on('message', (message: WorkerMessage) => {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      switch (message.type) {
        case 'progress':
          pending.hooks.onProgress?.(message.progress);
          return;
        case 'log':
          pending.hooks.log?.(message.line);
          return;
        case 'done':
          this.settle(message.id);
          pending.resolve(message.results);
          return;
        case 'failed': {
          this.settle(message.id);
          const error = new Error(message.message);
          error.name = message.name;
          if (message.stack) error.stack = message.stack;
          pending.reject(error);
          return;
        }
      }
    });
    const failAll = (error: Error): void => {
      for (const pending of this.pending.values()) pending.reject(error);
      this.pending.clear();
      this.worker = undefined;
    };
    worker.on('error', (error) => failAll(error));
    worker.on('exit', (code) => failAll(new Error(`the probe worker exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private settle(id: number): void {
    this.pending.delete(id);
    // Do not keep the process alive just for an idle worker.
    if (this.pending.size === 0) this.worker?.unref();
  }

  dispose(): void {
    const worker = this.worker;
    this.worker = undefined;
    for (const pending of this.pending.values()) pending.reject(Object.assign(new Error('cancelled'), { name: 'AbortError' }));
    this.pending.clear();
    void worker?.terminate();
  }
}

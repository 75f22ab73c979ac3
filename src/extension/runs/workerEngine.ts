/**
 * A ProbeEngine that runs the core's runProbe in a worker (see probeWorker.ts), so the extension host stays
 * responsive while probes are fitted. Cancellation is forwarded; the worker is started on first use and
 * terminated on dispose.
 *
 * On Linux the worker is a child process: a fit's memory stays out of the extension host's, a stuck or runaway fit is
 * killed without taking the host with it, and malloc huge pages can be given to it when asked for
 * (`SPACETIME_PROBE_HUGE_PAGES=1`, src/core/runtime/hugePages.ts — the setting must be in a process's environment
 * when it starts, and the extension host's process is not ours to start). Elsewhere a worker thread (a child process
 * under Electron on macOS and Windows is untried here). Both run the same code and give the same results.
 */
import { fork } from 'node:child_process';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import { currentHugePageHost, hugePageEnv } from '../../core/runtime/hugePages';
import type { ProbeResults } from '../../core/experiments/results';
import type { IDisposable } from '../util/disposable';
import type { ProbeEngine, ProbeProgress, ProbeRunHooks, ProbeRunOptions } from './engine';
import type { WorkerRequest } from './probeWorker';
import { traceNow, type TraceMark } from './editorLoopTrace';

type WorkerMessage =
  | { readonly type: 'progress'; readonly id: number; readonly progress: ProbeProgress }
  | { readonly type: 'log'; readonly id: number; readonly line: string }
  | { readonly type: 'done'; readonly id: number; readonly resultsJson: string; readonly trace?: readonly TraceMark[] }
  | { readonly type: 'failed'; readonly id: number; readonly name: string; readonly message: string; readonly stack?: string };

interface Pending {
  readonly hooks: ProbeRunHooks;
  readonly resolve: (results: ProbeResults) => void;
  readonly reject: (error: Error) => void;
}

/** Where probes run: a child process or a worker thread. */
export type ProbeWorkerKind = 'process' | 'thread';

/** A child process on Linux, else a thread (see the file comment). */
export function defaultProbeWorkerKind(platform: NodeJS.Platform = process.platform): ProbeWorkerKind {
  return platform === 'linux' ? 'process' : 'thread';
}

/** What the engine needs of a worker, whichever kind it is. */
export interface WorkerHandle {
  postMessage(message: WorkerRequest): void;
  ref(): void;
  unref(): void;
  terminate(): void;
  onMessage(listener: (message: WorkerMessage) => void): void;
  onError(listener: (error: Error) => void): void;
  onExit(listener: (code: number | null) => void): void;
}

function startThread(workerFile: string): WorkerHandle {
  // SHARE_ENV: HF_HOME, HF_ENDPOINT, proxies… set in the extension host reach model loading in the worker.
  const worker = new Worker(workerFile, { env: SHARE_ENV });
  return {
    postMessage: (message) => worker.postMessage(message),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
    terminate: () => void worker.terminate(),
    onMessage: (listener) => worker.on('message', listener),
    onError: (listener) => worker.on('error', listener),
    onExit: (listener) => worker.on('exit', listener),
  };
}

/** Fork `workerFile` as the probe worker process (exported for the test that reads the environment it really gets). */
export function startProcess(workerFile: string): WorkerHandle {
  const env = hugePageEnv(process.env, currentHugePageHost) ?? { ...process.env };
  // ELECTRON_RUN_AS_NODE: under VS Code's Electron, process.execPath is Electron, which must act as Node here.
  // No execArgv: the extension host's (e.g. --inspect when debugging) must not be inherited.
  const child = fork(workerFile, [], {
    env: { ...env, ELECTRON_RUN_AS_NODE: '1' }, execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return {
    postMessage: (message) => child.send(message),
    ref: () => { child.ref(); child.channel?.ref(); },
    unref: () => { child.unref(); child.channel?.unref(); },
    terminate: () => { child.kill(); },
    onMessage: (listener) => child.on('message', listener),
    onError: (listener) => child.on('error', listener),
    onExit: (listener) => child.on('exit', (code) => listener(code)),
  };
}

export class WorkerProbeEngine implements IDisposable {
  private worker: WorkerHandle | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /** @param chosenKind where probes run; by default decided on first use (defaultProbeWorkerKind), not at activation. */
  constructor(private readonly workerFile: string, private readonly keepModelWarm = true, private chosenKind?: ProbeWorkerKind) {}

  get kind(): ProbeWorkerKind {
    this.chosenKind ??= defaultProbeWorkerKind();
    return this.chosenKind;
  }

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

  private ensureWorker(): WorkerHandle {
    if (this.worker) return this.worker;
    const worker = this.kind === 'process' ? startProcess(this.workerFile) : startThread(this.workerFile);
    worker.onMessage((message: WorkerMessage) => {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      switch (message.type) {
        case 'progress':
          pending.hooks.onProgress?.(message.progress);
          return;
        case 'log':
          pending.hooks.log?.(message.line);
          return;
        case 'done': {
          this.settle(message.id);
          const received = traceNow();
          let results: ProbeResults;
          try {
            results = JSON.parse(message.resultsJson) as ProbeResults;
          } catch (error) {
            pending.reject(new Error(`the probe worker sent results that are not JSON: ${error instanceof Error ? error.message : String(error)}`));
            return;
          }
          pending.hooks.onTrace?.([...(message.trace ?? []), { phase: 'results received', at: received }, { phase: 'results parsed', at: traceNow() }]);
          pending.resolve(results);
          return;
        }
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
    worker.onError((error) => failAll(error));
    worker.onExit((code) => failAll(new Error(`the probe worker exited (code ${code})`)));
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
    worker?.terminate();
  }
}

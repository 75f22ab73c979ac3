/**
 * @file Ridge fits of two layers at once, each on its own worker thread (ridgeWorker.ts) with half the cores.
 *
 * Why: about half of a mid-sized fit is single-threaded JavaScript (the tridiagonal reduction's panels, the
 * leave-one-out sweeps, centring), during which the second core idles; the rest is onnxruntime products that use
 * every core. Two fits side by side, each with its own onnxruntime sessions on half the cores, keep both cores
 * busy: four 10,000 × 768 fits took 2.5–3.2 s as two one-thread processes against 3.4–3.7 s one after another with
 * two threads, and the whole `probe` of two 20,000 × 4,096 layers 33 s against 41 s (2026-12-02, 2-core VM,
 * BENCHMARKS.md). The answers are the same doubles: MLAS splits a product's
 * output, not its sums, between threads, so the thread count changes no value (tested in ridgePool.test.ts).
 *
 * probeActivations keeps two layers in flight for layers up to 512 MB, so the pool adds no memory beyond that.
 * The training rows move to the worker (transferred, not copied); if the worker dies, they are gathered again
 * and the fit runs on this thread. Small fits stay here: a worker's start (~0.1 s) would cost more than it saves.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allCores } from '../util/cores';
import { RequestWorker, WorkerFailedError } from '../util/requestWorker';
import { fitRidgeCV, RidgeInputError, type RidgeCVOptions, type RidgeCVResult, type RidgeInput } from './ridge';
import { HalfMatrix } from './halfMatrix';
import type { PooledRidgeOptions, RidgeCancel, RidgeReply, RidgeRequest, RidgeWarmUp } from './ridgeWorker';

/**
 * How long a cancelled fit may take to stop before its worker is terminated. A worker sees the cancellation at its
 * next matrix product, each at most MAX_FLOPS_PER_RUN (~0.1–0.3 s on one thread), so this is only for a worker that
 * hangs; terminating one inside an onnxruntime call would abort the process.
 */
export const ABORT_GRACE_MS = 2000;

/** Fits with fewer multiply-adds than this (nSamples · nFeatures², ~20 ms of products) are not worth a worker. */
export const POOLED_FIT_MIN_WORK = 2 ** 30;

export interface RidgeFitPoolOptions {
  /**
   * Workers (default 2, or 1 on a one-core machine: then the pool is never used; SPACETIME_PROBE_FIT_WORKERS=0 turns
   * it off, for side-by-side benchmarks).
   */
  readonly size?: number;
  readonly workerFile?: string;
  /** Cores to share between the workers' products (default: this machine's). */
  readonly cores?: number;
  /** Smallest nSamples · nFeatures² sent to a worker (default POOLED_FIT_MIN_WORK; tests use 0). */
  readonly minWork?: number;
}

/**
 * The training rows as rows of a layer in shared memory (a Float32Array over a SharedArrayBuffer): the worker copies
 * the rows itself, into buffers it keeps from fit to fit, instead of this thread copying them into fresh memory to
 * transfer (10,000 × 768: ~20 ms and 6,000 page faults a layer on the main thread).
 */
export interface SharedTrainingRows {
  readonly x: Float32Array;
  readonly rows: Int32Array;
  readonly y: Float64Array;
  readonly nFeatures: number;
  readonly nTargets: number;
}

export class RidgeFitPool {
  readonly size: number;
  private readonly workerFile: string;
  private readonly threadsPerWorker: number;
  private readonly minWork: number;
  private readonly workers: RequestWorker<Omit<RidgeRequest, 'id'>, RidgeReply>[];
  private readonly inFlight: number[];
  private failed = false;
  /** How many workers prestart started (the first ones). */
  private prestarted = 0;
  private nextFit = 1;
  /** Per fit in flight on a worker: ask it to stop (and start the grace period). */
  private readonly cancels = new Map<number, () => void>();
  /** How many fits came back from a worker (for tests and diagnostics). */
  fittedOnWorker = 0;
  /** Fits sent to workers so far, and the flag the workers read: 1 while only one fit is in flight (see updateAlone). */
  private submitted = 0;
  private readonly alone = new Int32Array(new SharedArrayBuffer(4));
  /** Threads a lone fit's large products may take: every core. */
  private readonly aloneThreads: number;

  constructor(options: RidgeFitPoolOptions = {}) {
    this.size = options.size ?? defaultPoolSize();
    this.workerFile = options.workerFile ?? path.join(__dirname, 'ridgeWorker.js');
    this.threadsPerWorker = Math.max(1, Math.floor((options.cores ?? allCores()) / Math.max(1, this.size)));
    this.aloneThreads = Math.max(this.threadsPerWorker, options.cores ?? allCores());
    this.minWork = options.minWork ?? POOLED_FIT_MIN_WORK;
    this.workers = Array.from({ length: this.size }, () => new RequestWorker<Omit<RidgeRequest, 'id'>, RidgeReply>(this.workerFile, 'ridge fit'));
    this.inFlight = Array.from({ length: this.size }, () => 0);
  }

  /** Whether fits of `nSamples × nFeatures` go to the workers (two or more of them, not failed, and the file there). */
  worthIt(nSamples: number, nFeatures: number): boolean {
    return this.size >= 2 && !this.failed && nSamples * nFeatures * nFeatures >= this.minWork && fs.existsSync(this.workerFile);
  }

  /**
   * Start the workers now when fits of `nSamples × nFeatures` would go to them: a worker's start (thread, bundle,
   * onnxruntime) then overlaps with the caller's reading rather than delaying the first fit. `count` starts only the
   * first ones (a later call starts the rest). Nothing when they would not be used; idle workers never keep the
   * process alive.
   */
  prestart(nSamples: number, nFeatures: number, count = this.size): void {
    if (!this.worthIt(nSamples, nFeatures)) return;
    for (; this.prestarted < Math.min(count, this.size); this.prestarted++) {
      const worker = this.workers[this.prestarted];
      worker.start();
      worker.notify({ warmUp: this.threadsPerWorker } satisfies RidgeWarmUp);
    }
  }

  /**
   * fitRidgeCV(makeInput(), options) on the least busy worker. `makeInput` must return fresh arrays for x (they are
   * transferred to the worker); it is called again if the worker dies, to fit here instead. Options that cannot
   * cross threads (a products backend, a phase callback, scratch buffers) keep the fit on this thread. An abort of `signal` stops
   * the fit at its next matrix product (RidgeCancel) and rejects with the signal's reason once the worker has
   * stopped; a worker that has not stopped within ABORT_GRACE_MS is terminated.
   */
  async fit(makeInput: () => RidgeInput, options: RidgeCVOptions, signal?: AbortSignal, shared?: SharedTrainingRows): Promise<RidgeCVResult> {
    signal?.throwIfAborted();
    const here = options.products !== undefined || options.onPhase !== undefined || options.scratch !== undefined;
    const sharedRows = shared !== undefined && shared.x.buffer instanceof SharedArrayBuffer && !here && this.worthIt(shared.rows.length, shared.nFeatures)
      ? shared : undefined;
    const input = sharedRows === undefined ? makeInput() : undefined;
    if (input !== undefined && (here || !this.worthIt(input.nSamples, input.nFeatures))) return fitRidgeCV(input, options);
    const slot = this.inFlight.indexOf(Math.min(...this.inFlight));
    const worker = this.workers[slot];
    const fit = this.nextFit++;
    const pooledOptions: PooledRidgeOptions = { ...options };
    let request: Omit<RidgeRequest, 'id'>;
    let transfer: ArrayBuffer[];
    if (input !== undefined) {
      const { x } = input;
      const bits = x instanceof HalfMatrix ? x.bits : x;
      request = { fit, x: bits, ...(x instanceof HalfMatrix ? { halfKind: x.kind } : {}), y: input.y, nSamples: input.nSamples, nFeatures: input.nFeatures,
        nTargets: input.nTargets, options: pooledOptions, threads: this.threadsPerWorker, alone: this.alone, aloneThreads: this.aloneThreads };
      transfer = [bits.buffer as ArrayBuffer];
    } else {
      const { x, rows, y, nFeatures, nTargets } = sharedRows as SharedTrainingRows;
      request = { fit, x, rows, y, nSamples: rows.length, nFeatures, nTargets, options: pooledOptions, threads: this.threadsPerWorker, alone: this.alone,
        aloneThreads: this.aloneThreads };
      transfer = [];
    }
    let graceTimer: NodeJS.Timeout | undefined;
    const stopped = new Promise<never>((_, reject) => {
      this.cancels.set(fit, () => {
        worker.notify({ cancel: fit } satisfies RidgeCancel);
        graceTimer = setTimeout(() => {
          void worker.dispose();
          reject(new WorkerFailedError('the ridge fit worker did not stop when asked', true));
        }, ABORT_GRACE_MS);
      });
    });
    stopped.catch(() => undefined);
    const onAbort = (): void => this.cancels.get(fit)?.();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.inFlight[slot] += 1;
    this.submitted += 1;
    this.updateAlone();
    try {
      const reply = await Promise.race([worker.request(request, transfer), stopped]);
      this.fittedOnWorker += 1;
      return reply.result as RidgeCVResult;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      // Cancelled by dispose(), not by the caller: the fit is still wanted.
      if ((error as Error).name === 'AbortError') return fitRidgeCV(makeInput(), options);
      if (!(error instanceof WorkerFailedError)) {
        throw (error as Error).name === 'RidgeInputError' ? new RidgeInputError((error as Error).message) : error;
      }
      // A broken worker must not lose the fit: fit here (a broken pool is not used again; a disposed one is).
      if (!error.disposed) this.failed = true;
      return fitRidgeCV(makeInput(), options);
    } finally {
      clearTimeout(graceTimer);
      this.cancels.delete(fit);
      this.inFlight[slot] -= 1;
      this.updateAlone();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * A fit may take the idle cores when it is the only one in flight and every worker has had one: the last fit of a
   * run, while the other workers have finished theirs (on two cores one idled 0.1–0.2 s at the end of a
   * 10,000 × 768 × 4-layer probe). Not the first fit of a run (nothing in flight before it): the next ones are
   * still being read and sent then.
   */
  private updateAlone(): void {
    const inFlight = this.inFlight.reduce((sum, count) => sum + count, 0);
    if (inFlight === 0) this.submitted = 0;
    Atomics.store(this.alone, 0, inFlight === 1 && this.submitted >= this.size ? 1 : 0);
  }

  /**
   * Stop the workers: fits in flight are cancelled (they then finish on this thread), and each worker is terminated
   * once it has nothing in flight (or after ABORT_GRACE_MS).
   */
  async dispose(): Promise<void> {
    for (const cancel of this.cancels.values()) cancel();
    const deadline = Date.now() + ABORT_GRACE_MS;
    while (this.inFlight.some((count) => count > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await Promise.all(this.workers.map((worker) => worker.dispose()));
  }
}

function defaultPoolSize(): number {
  const fromEnv = process.env.SPACETIME_PROBE_FIT_WORKERS;
  if (fromEnv !== undefined && /^\d+$/.test(fromEnv)) return Math.min(Number(fromEnv), 2);
  return Math.min(2, allCores());
}

let shared: RidgeFitPool | undefined;

/** The process-wide pool (its workers start on first use and never keep a process alive while idle). */
export function sharedRidgePool(): RidgeFitPool {
  shared ??= new RidgeFitPool();
  return shared;
}

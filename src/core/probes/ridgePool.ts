/**
 * @file Ridge fits of two layers at once, each on its own worker thread (ridgeWorker.ts) with half the cores.
 *
 * Why: about half of a mid-sized fit is single-threaded JavaScript (the tridiagonal reduction's panels, the
 * leave-one-out sweeps, centring), during which the second core idles; the rest is onnxruntime products that use
 * every core. Two fits side by side, each with its own onnxruntime sessions on half the cores, keep both cores
 * busy: four 10,000 × 768 fits took 2.5 s as two one-thread processes against 3.4 s one after another with two
 * threads (2026-12-02, 2-core VM, docs/probes.md). The answers are the same doubles: MLAS splits a product's
 * output, not its sums, between threads, so the thread count changes no value (tested in ridgePool.test.ts).
 *
 * probeActivations keeps two layers in flight for layers up to 512 MB, so the pool adds no memory beyond that.
 * The training rows move to the worker (transferred, not copied); if the worker dies, they are gathered again
 * and the fit runs on this thread. Small fits stay here: a worker's start (~0.1 s) would cost more than it saves.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RequestWorker, WorkerFailedError } from '../util/requestWorker';
import { fitRidgeCV, RidgeInputError, type RidgeCVOptions, type RidgeCVResult, type RidgeInput } from './ridge';
import { HalfMatrix } from './halfMatrix';
import type { PooledRidgeOptions, RidgeReply, RidgeRequest } from './ridgeWorker';

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

export class RidgeFitPool {
  readonly size: number;
  private readonly workerFile: string;
  private readonly threadsPerWorker: number;
  private readonly minWork: number;
  private readonly workers: RequestWorker<Omit<RidgeRequest, 'id'>, RidgeReply>[];
  private readonly inFlight: number[];
  private failed = false;
  /** How many fits came back from a worker (for tests and diagnostics). */
  fittedOnWorker = 0;

  constructor(options: RidgeFitPoolOptions = {}) {
    this.size = options.size ?? defaultPoolSize();
    this.workerFile = options.workerFile ?? path.join(__dirname, 'ridgeWorker.js');
    this.threadsPerWorker = Math.max(1, Math.floor((options.cores ?? availableCores()) / Math.max(1, this.size)));
    this.minWork = options.minWork ?? POOLED_FIT_MIN_WORK;
    this.workers = Array.from({ length: this.size }, () => new RequestWorker<Omit<RidgeRequest, 'id'>, RidgeReply>(this.workerFile, 'ridge fit'));
    this.inFlight = Array.from({ length: this.size }, () => 0);
  }

  /** Whether fits of `nSamples × nFeatures` go to the workers (two or more of them, not failed, and the file there). */
  worthIt(nSamples: number, nFeatures: number): boolean {
    return this.size >= 2 && !this.failed && nSamples * nFeatures * nFeatures >= this.minWork && fs.existsSync(this.workerFile);
  }

  /**
   * fitRidgeCV(makeInput(), options) on the least busy worker. `makeInput` must return fresh arrays for x (they are
   * transferred to the worker); it is called again if the worker dies, to fit here instead. Options that cannot
   * cross threads (a products backend, a phase callback) keep the fit on this thread. An abort of `signal` stops
   * the worker at once (the fit rejects with the signal's reason); the pool starts a new one for the next fit.
   */
  async fit(makeInput: () => RidgeInput, options: RidgeCVOptions, signal?: AbortSignal): Promise<RidgeCVResult> {
    signal?.throwIfAborted();
    const input = makeInput();
    if (options.products !== undefined || options.onPhase !== undefined || !this.worthIt(input.nSamples, input.nFeatures)) return fitRidgeCV(input, options);
    const slot = this.inFlight.indexOf(Math.min(...this.inFlight));
    const worker = this.workers[slot];
    const { x } = input;
    const bits = x instanceof HalfMatrix ? x.bits : x;
    const pooledOptions: PooledRidgeOptions = { ...options };
    const onAbort = (): void => void worker.dispose();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.inFlight[slot] += 1;
    try {
      const reply = await worker.request({
        x: bits, ...(x instanceof HalfMatrix ? { halfKind: x.kind } : {}), y: input.y, nSamples: input.nSamples, nFeatures: input.nFeatures,
        nTargets: input.nTargets, options: pooledOptions, threads: this.threadsPerWorker,
      }, [bits.buffer as ArrayBuffer]);
      this.fittedOnWorker += 1;
      return reply.result as RidgeCVResult;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!(error instanceof WorkerFailedError)) {
        throw (error as Error).name === 'RidgeInputError' ? new RidgeInputError((error as Error).message) : error;
      }
      // A broken worker must not lose the fit: fit here (a broken pool is not used again; a disposed one is).
      if (!error.disposed) this.failed = true;
      return fitRidgeCV(makeInput(), options);
    } finally {
      this.inFlight[slot] -= 1;
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Stop the workers (fits in flight finish on this thread). */
  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.dispose()));
  }
}

function defaultPoolSize(): number {
  const fromEnv = process.env.SPACETIME_PROBE_FIT_WORKERS;
  if (fromEnv !== undefined && /^\d+$/.test(fromEnv)) return Math.min(Number(fromEnv), 2);
  return Math.min(2, availableCores());
}

function availableCores(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

let shared: RidgeFitPool | undefined;

/** The process-wide pool (its workers start on first use and never keep a process alive while idle). */
export function sharedRidgePool(): RidgeFitPool {
  shared ??= new RidgeFitPool();
  return shared;
}

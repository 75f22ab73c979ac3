/**
 * @file The test split's proximity error of a layer, computed on a second thread while the next layer is fitted.
 *
 * Why: on a re-run with a small model the proximity error is the largest single cost of a layer's probe (~50 ms
 * at 8,000 test entities, against ~50 ms for the ridge fit itself), it is plain single-threaded JavaScript, and the
 * machines we target have at least two cores. probeActivations keeps two layers in flight, so one layer's
 * proximity error runs in this worker while the main thread fits the next layer.
 *
 * The worker runs the same proximityError as the main thread, so the numbers are identical. Falls back to the
 * main thread (same function, same result) for small splits, custom distance measures, and when the worker file
 * is missing or the worker fails.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { absoluteYears, greatCircleKm, proximityError, type DistanceMeasure } from './metrics';
import type { ProximityReply, ProximityRequest } from './proximityWorker';

/** Below this many entities posting to the worker costs more than scoring here (~1 ms either way). */
export const BACKGROUND_PROXIMITY_MIN_ENTITIES = 1000;

interface Pending {
  readonly resolve: (value: number) => void;
  readonly reject: (error: Error) => void;
  readonly fallback: () => number;
}

/** One worker thread, started on first use; unreferenced while idle so it never keeps a process alive. */
export class BackgroundProximity {
  private worker: Worker | undefined;
  private failed = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** How many scores came back from the worker (for tests and diagnostics). */
  scoredOnWorker = 0;

  constructor(private readonly workerFile = path.join(__dirname, 'proximityWorker.js')) {}

  /** Whether scores go to the worker (false once it failed, or when its file is absent). */
  get available(): boolean {
    return !this.failed && fs.existsSync(this.workerFile);
  }

  /** proximityError(truth, predicted, measure), computed on the worker when that pays. */
  score(truth: Float64Array, predicted: Float64Array, measure: DistanceMeasure): Promise<number> {
    const builtIn = measure === greatCircleKm || measure === absoluteYears;
    const fallback = () => proximityError(truth, predicted, measure);
    if (!builtIn || truth.length / measure.dimensions < BACKGROUND_PROXIMITY_MIN_ENTITIES || !this.available) {
      return Promise.resolve().then(fallback);
    }
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, fallback });
      worker.ref();
      // Copies, not transfers: the caller keeps its arrays.
      worker.postMessage({ id, measure: measure.name, truth, predicted } satisfies ProximityRequest);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerFile);
    worker.on('message', (reply: ProximityReply) => {
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      this.settle(reply.id);
      if ('error' in reply) {
        pending.reject(new Error(reply.error));
      } else {
        this.scoredOnWorker += 1;
        pending.resolve(reply.value);
      }
    });
    // A broken worker must not lose results: everything in flight is scored here instead.
    const recover = () => {
      this.failed = true;
      this.worker = undefined;
      const stranded = [...this.pending.values()];
      this.pending.clear();
      for (const pending of stranded) {
        try {
          pending.resolve(pending.fallback());
        } catch (error) {
          pending.reject(error as Error);
        }
      }
    };
    worker.on('error', recover);
    worker.on('exit', recover);
    this.worker = worker;
    return worker;
  }

  private settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
  }

  /** Stop the worker (pending scores finish on this thread). */
  async dispose(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    worker.removeAllListeners('exit');
    this.worker = undefined;
    await worker.terminate();
    const stranded = [...this.pending.values()];
    this.pending.clear();
    for (const pending of stranded) pending.resolve(pending.fallback());
  }
}

let shared: BackgroundProximity | undefined;

/** The process-wide instance. */
export function sharedBackgroundProximity(): BackgroundProximity {
  shared ??= new BackgroundProximity();
  return shared;
}

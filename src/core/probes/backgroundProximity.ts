/**
 * @file The test split's proximity error of a layer, computed on a second thread while the next layer is fitted.
 *
 * Why: on a re-run with a small model the proximity error is the largest single cost of a layer's probe (~50 ms
 * at 8,000 test entities, against ~50 ms for the ridge fit itself), it is plain single-threaded JavaScript, and the
 * machines we target have at least two cores. probeActivations keeps two layers in flight, so one layer's
 * proximity error runs in this worker while the main thread fits the next layer.
 *
 * The worker runs the same proximityErrorPerEntity as the main thread and sends back every entity's error (the
 * bootstrap intervals resample them), so the numbers are identical. Falls back to the
 * main thread (same function, same result) for small splits, custom distance measures, and when the worker file
 * is missing or the worker fails.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RequestWorker, WorkerFailedError } from '../util/requestWorker';
import { absoluteYears, greatCircleKm, proximityErrorPerEntity, type DistanceMeasure } from './metrics';
import type { ProximityReply, ProximityRequest } from './proximityWorker';

/** Below this many entities posting to the worker costs more than scoring here (~1 ms either way). */
export const BACKGROUND_PROXIMITY_MIN_ENTITIES = 1000;

/** One worker thread (RequestWorker), started on first use; unreferenced while idle so it never keeps a process alive. */
export class BackgroundProximity {
  private readonly worker: RequestWorker<Omit<ProximityRequest, 'id'>, ProximityReply>;
  private failed = false;
  /** How many scores came back from the worker (for tests and diagnostics). */
  scoredOnWorker = 0;

  constructor(private readonly workerFile = path.join(__dirname, 'proximityWorker.js')) {
    this.worker = new RequestWorker(workerFile, 'proximity-error');
  }

  /** Whether scores go to the worker (false once it failed, or when its file is absent). */
  get available(): boolean {
    return !this.failed && fs.existsSync(this.workerFile);
  }

  /** proximityErrorPerEntity(truth, predicted, measure), computed on the worker when that pays. */
  async perEntity(truth: Float64Array, predicted: Float64Array, measure: DistanceMeasure): Promise<Float64Array> {
    const builtIn = measure === greatCircleKm || measure === absoluteYears;
    const fallback = () => proximityErrorPerEntity(truth, predicted, measure);
    if (!builtIn || truth.length / measure.dimensions < BACKGROUND_PROXIMITY_MIN_ENTITIES || !this.available) return fallback();
    try {
      const reply = await this.worker.request({ measure: measure.name, truth, predicted });
      this.scoredOnWorker += 1;
      return reply.errors;
    } catch (error) {
      if (!(error instanceof WorkerFailedError)) throw error;
      // A broken (or disposed) worker must not lose results: score here instead; a broken one is not used again.
      if (!error.disposed) this.failed = true;
      return fallback();
    }
  }

  /** Stop the worker (scores in flight finish on this thread). */
  dispose(): Promise<void> {
    return this.worker.dispose();
  }
}

let shared: BackgroundProximity | undefined;

/** The process-wide instance. */
export function sharedBackgroundProximity(): BackgroundProximity {
  shared ??= new BackgroundProximity();
  return shared;
}

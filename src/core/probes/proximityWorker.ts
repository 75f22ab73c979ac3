/**
 * @file Worker-thread entry that scores proximity errors for backgroundProximity.ts (bundled as
 * out/proximityWorker.js; under tsc it is the compiled file next to backgroundProximity.js).
 */
import { parentPort } from 'node:worker_threads';
import { absoluteYears, greatCircleKm, proximityError, type DistanceMeasure } from './metrics';
import type { WorkerReply } from '../util/requestWorker';

export interface ProximityRequest {
  readonly id: number;
  readonly measure: DistanceMeasure['name'];
  readonly truth: Float64Array;
  readonly predicted: Float64Array;
}

/** A score, or the error that stopped it (RequestWorker rejects the request with it). */
export interface ProximityReply extends WorkerReply {
  readonly value: number;
}

const MEASURES: Record<DistanceMeasure['name'], DistanceMeasure> = { greatCircleKm, absoluteYears };

parentPort?.on('message', (request: ProximityRequest) => {
  try {
    parentPort?.postMessage({ id: request.id, value: proximityError(request.truth, request.predicted, MEASURES[request.measure]) } satisfies ProximityReply);
  } catch (error) {
    parentPort?.postMessage({ id: request.id, error: (error as Error).message } satisfies WorkerReply);
  }
});

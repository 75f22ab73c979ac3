/**
 * @file Worker-thread entry that scores proximity errors for backgroundProximity.ts (bundled as
 * out/proximityWorker.js; under tsc it is the compiled file next to backgroundProximity.js).
 */
import { parentPort } from 'node:worker_threads';
import { absoluteYears, greatCircleKm, proximityErrorPerEntity, type DistanceMeasure } from './metrics';
import type { WorkerReply } from '../util/requestWorker';

export interface ProximityRequest {
  readonly id: number;
  readonly measure: DistanceMeasure['name'];
  readonly truth: Float64Array;
  readonly predicted: Float64Array;
}

/** Each entity's proximity error (proximityErrorPerEntity), or the error that stopped it (RequestWorker rejects the request with it). */
export interface ProximityReply extends WorkerReply {
  readonly errors: Float64Array;
}

const MEASURES: Record<DistanceMeasure['name'], DistanceMeasure> = { greatCircleKm, absoluteYears };

parentPort?.on('message', (request: ProximityRequest) => {
  try {
    const errors = proximityErrorPerEntity(request.truth, request.predicted, MEASURES[request.measure]);
    parentPort?.postMessage({ id: request.id, errors } satisfies ProximityReply, [errors.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort?.postMessage({ id: request.id, error: (error as Error).message } satisfies WorkerReply);
  }
});

/**
 * @file Worker-thread entry that fits ridge probes for ridgePool.ts (bundled as out/ridgeWorker.js; under tsc it is
 * the compiled file next to ridgePool.js). Each worker has its own onnxruntime sessions with the thread count the
 * pool gives it, so that two workers on two cores do not contend for four.
 */
import { parentPort } from 'node:worker_threads';
import { fitRidgeCV, type RidgeCVOptions, type RidgeCVResult } from './ridge';
import { onnxProducts, type DenseProducts } from './products';
import { HalfMatrix, type HalfKind } from './halfMatrix';
import { OrtGemm } from '../runtime/linalg';
import { OrtBandSweep } from '../runtime/bandSweep';
import type { WorkerReply } from '../util/requestWorker';

/** RidgeCVOptions without what cannot cross threads (the products backend, the phase callback). */
export type PooledRidgeOptions = Omit<RidgeCVOptions, 'products' | 'onPhase'>;

export interface RidgeRequest {
  readonly id: number;
  /** The rows (float32/float64 values, or the 16-bit bits of a HalfMatrix of `halfKind`). */
  readonly x: Float32Array | Float64Array | Uint16Array;
  readonly halfKind?: HalfKind;
  readonly y: Float64Array | Float32Array;
  readonly nSamples: number;
  readonly nFeatures: number;
  readonly nTargets: number;
  readonly options: PooledRidgeOptions;
  /** onnxruntime intra-op threads for this worker's products. */
  readonly threads: number;
}

/** The fit, or the error that stopped it (WorkerReply's `errorName` keeps e.g. RidgeInputError recognisable). */
export interface RidgeReply extends WorkerReply {
  readonly result?: RidgeCVResult;
}

const productsByThreads = new Map<number, DenseProducts>();

function productsFor(threads: number): DenseProducts {
  let products = productsByThreads.get(threads);
  if (products === undefined) {
    products = onnxProducts(new OrtGemm(threads), new OrtBandSweep(threads));
    productsByThreads.set(threads, products);
  }
  return products;
}

parentPort?.on('message', (request: RidgeRequest) => {
  void (async () => {
    try {
      const x = request.x instanceof Uint16Array ? new HalfMatrix(request.halfKind ?? 'float16', request.x) : request.x;
      const result = await fitRidgeCV({ x, y: request.y, nSamples: request.nSamples, nFeatures: request.nFeatures, nTargets: request.nTargets },
        { ...request.options, products: productsFor(request.threads) });
      const reply: RidgeReply = { id: request.id, result: { ...result } };
      // The result's arrays move back rather than being copied (a Set: two of them may share one buffer).
      parentPort?.postMessage(reply, [...new Set([result.coef.buffer, result.intercept.buffer, result.looMse.buffer])] as ArrayBuffer[]);
    } catch (error) {
      parentPort?.postMessage({ id: request.id, error: (error as Error).message, errorName: (error as Error).name } satisfies RidgeReply);
    }
  })();
});

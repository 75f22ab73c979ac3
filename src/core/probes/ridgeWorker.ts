/**
 * @file Worker-thread entry that fits ridge probes for ridgePool.ts (bundled as out/ridgeWorker.js; under tsc it is
 * the compiled file next to ridgePool.js). Each worker has its own onnxruntime sessions with the thread count the
 * pool gives it, so that two workers on two cores do not contend for four.
 */
import { parentPort } from 'node:worker_threads';
import { fitRidgeCV, type RidgeCVOptions, type RidgeCVResult } from './ridge';
import { onnxProducts, type DenseProducts } from './products';
import { HalfMatrix, type HalfKind } from './halfMatrix';
import { gemmShape, OrtGemm } from '../runtime/linalg';
import { OrtBandSweep } from '../runtime/bandSweep';
import type { WorkerReply } from '../util/requestWorker';
import { ScratchBuffers } from '../util/scratch';
import { forgetKeptKernelMemory } from './wasmKernels';

/** RidgeCVOptions without what cannot cross threads (the products backend, the phase callback, the scratch buffers). */
export type PooledRidgeOptions = Omit<RidgeCVOptions, 'products' | 'onPhase' | 'scratch'>;

export interface RidgeRequest {
  readonly id: number;
  /** The pool's name for this fit, which a RidgeCancel refers to. */
  readonly fit: number;
  /**
   * The rows (float32/float64 values, or the 16-bit bits of a HalfMatrix of `halfKind`); with `rows`, a whole layer
   * in shared memory, of which rows[i] is training row i (the worker copies them, ridgePool.ts SharedTrainingRows).
   */
  readonly x: Float32Array | Float64Array | Uint16Array;
  readonly rows?: Int32Array;
  readonly halfKind?: HalfKind;
  readonly y: Float64Array | Float32Array;
  readonly nSamples: number;
  readonly nFeatures: number;
  readonly nTargets: number;
  readonly options: PooledRidgeOptions;
  /** onnxruntime intra-op threads for this worker's products. */
  readonly threads: number;
  /**
   * The pool's "alone" flag (shared memory, RidgeFitPool): while [0] is 1 this is the only fit left in flight, and
   * its larger products take `aloneThreads` threads — the cores the other workers have left idle.
   */
  readonly alone?: Int32Array;
  readonly aloneThreads?: number;
}

/**
 * Stop fit `fit`: it ends with an AbortError at its next matrix product (every onnxruntime run is an event-loop
 * turn here, so the message is seen within one run). Cooperative on purpose: terminating a worker while it is
 * inside an onnxruntime call aborts the whole process ("terminate called after throwing an instance of
 * 'Napi::Error'").
 */
export interface RidgeCancel {
  readonly cancel: number;
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

/**
 * Products at least this large (2·m·n·k) take the idle cores while the fit is alone (smaller ones gain nothing
 * from a second thread; d = 768: the covariance strips, projection, Q and the reduction's updates qualify).
 */
const ALONE_MIN_FLOPS = 2e7;

/**
 * `products` whose Gemms of at least ALONE_MIN_FLOPS run on `aloneThreads` threads while `alone[0]` is 1. MLAS
 * splits a product's rows and columns among its threads, never its inner sums, so the doubles are those of one
 * thread (ridgePool.test.ts checks whole fits both ways); only the time changes.
 */
function whenAlone(products: DenseProducts, aloneThreads: number, alone: Int32Array | undefined): DenseProducts {
  if (alone === undefined || aloneThreads <= 1) return products;
  const wide = productsFor(aloneThreads);
  return {
    ...products,
    gemm: (dtype, a, b, options) => {
      const { m, k, n } = gemmShape(a, b, options);
      return (Atomics.load(alone, 0) === 1 && 2 * m * n * k >= ALONE_MIN_FLOPS ? wide : products).gemm(dtype, a, b, options);
    },
  } as DenseProducts;
}

/** `products` that throw an AbortError before any product once `cancelled()` says so. */
function cancellable(products: DenseProducts, cancelled: () => boolean): DenseProducts {
  const check = (): void => {
    if (!cancelled()) return;
    const error = new Error('the fit was cancelled');
    error.name = 'AbortError';
    throw error;
  };
  return {
    name: products.name,
    gemm: async (dtype, a, b, options) => { check(); return products.gemm(dtype, a, b, options); },
    ...(products.bandLeverages ? { bandLeverages: async (dtype, input, out) => { check(); return products.bandLeverages!(dtype, input, out); } } : {}),
  } as DenseProducts;
}

/** Rows `rows` of the shared layer x (d features each), copied into the queue's scratch buffers. */
function gatherInto(buffers: ScratchBuffers, x: Float32Array, rows: Int32Array, d: number): Float32Array {
  const out = buffers.get('float32', 'training rows', rows.length * d);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (!(row >= 0 && (row + 1) * d <= x.length)) throw new RangeError(`training row ${row} is outside the layer's ${x.length / d} rows`);
    out.set(x.subarray(row * d, (row + 1) * d), r * d);
  }
  return out;
}

const cancelledFits = new Set<number>();
const runningFits = new Set<number>();
/**
 * Fits run one at a time, in the order they came: the pool may send a worker its next fit while one is running
 * (probeActivations keeps two small layers per worker in flight), and two fits interleaved at every await would
 * only both finish late, with twice the memory.
 */
let queue: Promise<void> = Promise.resolve();
/**
 * The queued fits' working buffers (RidgeCVOptions.scratch), handed from one fit to the next while more are queued
 * and let go when the queue is empty, with the kernels' kept memories (centring.ts, reductionKernels.ts), so that an
 * idle worker holds no fit-sized memory.
 */
let scratch: ScratchBuffers | undefined;
let queued = 0;

/** Sent by RidgeFitPool.prestart: make this worker's products and onnxruntime's environment before the first fit. */
export interface RidgeWarmUp {
  readonly warmUp: number;
}

/**
 * onnxruntime's environment and first session cost 20–40 ms in a fresh worker (at the first product of its first
 * fit); made here, while a prestarted worker waits for its first rows, they no longer delay that fit (whole probe
 * of 10,000 × 768 × 4 layers, 7 alternating pairs: median 1.67 → 1.65 s, at the edge of this VM's noise).
 */
async function warmUp(threads: number): Promise<void> {
  try {
    await productsFor(threads).gemm('float64', { data: new Float64Array(4), rows: 2, cols: 2 }, { data: new Float64Array(4), rows: 2, cols: 2 });
  } catch {
    // Only a head start: the first fit reports any error itself.
  }
}

parentPort?.on('message', (message: RidgeRequest | RidgeCancel | RidgeWarmUp) => {
  if ('warmUp' in message) {
    queue = queue.then(() => warmUp(message.warmUp));
    return;
  }
  if ('cancel' in message) {
    if (runningFits.has(message.cancel)) cancelledFits.add(message.cancel);
    return;
  }
  const request = message;
  runningFits.add(request.fit);
  queued += 1;
  queue = queue.then(async () => {
    try {
      const products = cancellable(whenAlone(productsFor(request.threads), request.aloneThreads ?? 1, request.alone), () => cancelledFits.has(request.fit));
      scratch ??= new ScratchBuffers();
      const x = request.rows !== undefined ? gatherInto(scratch, request.x as Float32Array, request.rows, request.nFeatures)
        : request.x instanceof Uint16Array ? new HalfMatrix(request.halfKind ?? 'float16', request.x) : request.x;
      const result = await fitRidgeCV({ x, y: request.y, nSamples: request.nSamples, nFeatures: request.nFeatures, nTargets: request.nTargets },
        { ...request.options, products, scratch });
      const reply: RidgeReply = { id: request.id, result: { ...result } };
      // The result's arrays move back rather than being copied (a Set: two of them may share one buffer).
      parentPort?.postMessage(reply, [...new Set([result.coef.buffer, result.intercept.buffer, result.looMse.buffer])] as ArrayBuffer[]);
    } catch (error) {
      parentPort?.postMessage({ id: request.id, error: (error as Error).message, errorName: (error as Error).name } satisfies RidgeReply);
    } finally {
      runningFits.delete(request.fit);
      cancelledFits.delete(request.fit);
      queued -= 1;
      if (queued === 0) {
        scratch = undefined;
        forgetKeptKernelMemory();
      }
    }
  });
});

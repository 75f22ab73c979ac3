/**
 * @file Dense matrix products through onnxruntime's CPU kernels (MLAS: multithreaded, SIMD).
 *
 * Why: plain JavaScript loops reach about 0.5–1 GFLOP/s on this kind of machine, while a one-node ONNX `Gemm`
 * run by onnxruntime-node reaches ~190 GFLOP/s in float32 and ~85 GFLOP/s in float64 per core (2026-12, AVX-512 EPYC)
 * (docs/probes.md, BENCHMARKS.md). The probe engine uses it for XᵀX, X·Q and the per-alpha products; everything
 * else stays in plain TypeScript. This file lives in src/core/runtime because that is the only place allowed to
 * import onnxruntime-node.
 *
 * All matrices are dense, row-major typed arrays. `Y = alpha · op(A) · op(B) + beta · C` (ONNX Gemm semantics).
 */
import { onnx } from 'onnx-proto';
import { ort } from './ort';
import { SmallSessionCache } from './smallSessions';
import { allCores } from '../util/cores';

export type GemmDtype = 'float32' | 'float64';
export type GemmArray<D extends GemmDtype> = D extends 'float32' ? Float32Array : Float64Array;

/** Shape-carrying view of a row-major matrix. */
export interface MatrixArg<D extends GemmDtype> {
  readonly data: GemmArray<D>;
  readonly rows: number;
  readonly cols: number;
}

export interface GemmOptions<D extends GemmDtype> {
  readonly transA?: boolean;
  readonly transB?: boolean;
  /** Multiplies op(A)·op(B); fixed per cached session, so use few distinct values. Default 1. */
  readonly alpha?: number;
  /** Multiplies C when given. Default 1. */
  readonly beta?: number;
  /** Optional addend, rows × cols of the result. */
  readonly c?: MatrixArg<D>;
  /**
   * Optional preallocated result (rows × cols values, may be a subarray view), written in place and returned.
   * Reusing buffers matters: a fresh 100 MB typed array costs more in page faults than a Gemm of that size.
   * Must not alias A, B or C.
   */
  readonly out?: GemmArray<D>;
}

/**
 * The most work one onnxruntime run may do (2·m·n·k): about 50 ms at this machine's float64 speed (~170 GFLOP/s on
 * two idle cores, measured 2026-12-01), a few hundred when the machine is loaded. Larger products are split
 * (OrtGemm.gemmInPieces) so the event loop turns between. Not smaller: every piece packs the whole other operand
 * again, and at 2 GFLOP that packing cost as much as the arithmetic for the probe's d = 8,192 products (covariance
 * of 8,192 rows: 10.3–11.7 CPU-s with 2 GFLOP pieces, 7.8–9.0 with 10 GFLOP ones).
 */
export const MAX_FLOPS_PER_RUN = 8e9;

const ONNX_TYPE: Record<GemmDtype, number> = { float32: onnx.TensorProto.DataType.FLOAT, float64: onnx.TensorProto.DataType.DOUBLE };

/** The product's m × k · k × n shape (k from A; B's inner dimension is `kB`) for Gemm's operands and transposes. */
export function gemmShape(a: { readonly rows: number; readonly cols: number }, b: { readonly rows: number; readonly cols: number },
  options: { readonly transA?: boolean; readonly transB?: boolean } = {}): { m: number; k: number; kB: number; n: number } {
  return {
    m: options.transA ? a.cols : a.rows,
    k: options.transA ? a.rows : a.cols,
    kB: options.transB ? b.cols : b.rows,
    n: options.transB ? b.rows : b.cols,
  };
}

/** Serialise a one-node ModelProto: Y = Gemm(A, B[, C]) with symbolic dimensions (one session serves all shapes). */
export function buildGemmModel(dtype: GemmDtype, transA: boolean, transB: boolean, withC: boolean, alpha: number, beta: number): Uint8Array {
  const tensorType = (dims: string[]): onnx.ITypeProto => ({
    tensorType: { elemType: ONNX_TYPE[dtype], shape: { dim: dims.map((dimParam) => ({ dimParam })) } },
  });
  const inputs: onnx.IValueInfoProto[] = [
    { name: 'A', type: tensorType(transA ? ['K', 'M'] : ['M', 'K']) },
    { name: 'B', type: tensorType(transB ? ['N', 'K'] : ['K', 'N']) },
  ];
  if (withC) inputs.push({ name: 'C', type: tensorType(['M', 'N']) });
  const attribute: onnx.IAttributeProto[] = [
    { name: 'transA', type: onnx.AttributeProto.AttributeType.INT, i: transA ? 1 : 0 },
    { name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: transB ? 1 : 0 },
    { name: 'alpha', type: onnx.AttributeProto.AttributeType.FLOAT, f: alpha },
    { name: 'beta', type: onnx.AttributeProto.AttributeType.FLOAT, f: beta },
  ];
  const model: onnx.IModelProto = {
    irVersion: 7,
    producerName: 'spacetime-probe-linalg',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'gemm',
      node: [{ opType: 'Gemm', input: inputs.map((input) => input.name as string), output: ['Y'], attribute }],
      input: inputs,
      output: [{ name: 'Y', type: tensorType(['M', 'N']) }],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/**
 * Cached onnxruntime sessions, one per (dtype, transposes, C, alpha, beta). Sessions are created lazily and kept for
 * the process lifetime (each holds only a tiny graph); `dispose` releases them.
 */
export class OrtGemm {
  private readonly sessions: SmallSessionCache;

  /**
   * `maxFlopsPerRun`: see MAX_FLOPS_PER_RUN (smaller in tests, to exercise the split).
   * `device`: the execution provider the Gemm node is placed on ('cpu' by default). onnxruntime places a node its
   * provider cannot run (WebGPU has no float64 Gemm) on the CPU provider instead, so a non-CPU instance is meant
   * for float32 products only (probes/products.ts acceleratedProducts routes float64 to the CPU); give it a large
   * maxFlopsPerRun, as each piece would upload its operands to the device again.
   */
  constructor(threads = allCores(), private readonly maxFlopsPerRun = MAX_FLOPS_PER_RUN, readonly device: 'cpu' | 'webgpu' | 'cuda' = 'cpu') {
    this.sessions = new SmallSessionCache(threads, device, 'disabled');
  }

  private session(dtype: GemmDtype, transA: boolean, transB: boolean, withC: boolean, alpha: number, beta: number): Promise<ort.InferenceSession> {
    return this.sessions.get(`${dtype}|${transA}|${transB}|${withC}|${alpha}|${beta}`, () => buildGemmModel(dtype, transA, transB, withC, alpha, beta));
  }

  /** Y = alpha·op(A)·op(B) + beta·C, returned as a new row-major array of the same dtype. */
  async gemm<D extends GemmDtype>(dtype: D, a: MatrixArg<D>, b: MatrixArg<D>, options: GemmOptions<D> = {}): Promise<GemmArray<D>> {
    const transA = options.transA ?? false;
    const transB = options.transB ?? false;
    const { m, k, kB, n } = gemmShape(a, b, options);
    if (k !== kB) throw new Error(`gemm: inner dimensions differ (${k} vs ${kB})`);
    for (const [name, matrix] of [['A', a], ['B', b]] as const) {
      if (matrix.data.length !== matrix.rows * matrix.cols) throw new Error(`gemm: ${name} has ${matrix.data.length} values for ${matrix.rows}×${matrix.cols}`);
    }
    if (m === 0 || n === 0) return options.out ?? (dtype === 'float32' ? new Float32Array(m * n) : new Float64Array(m * n)) as GemmArray<D>;
    if (k === 0) {
      const out = options.out ?? (dtype === 'float32' ? new Float32Array(m * n) : new Float64Array(m * n)) as GemmArray<D>;
      out.fill(0);
      if (options.c !== undefined) for (let index = 0; index < out.length; index++) out[index] = (options.beta ?? 1) * options.c.data[index];
      return out;
    }
    if (2 * m * n * k > this.maxFlopsPerRun && Math.max(m, n) > 1) return this.gemmInPieces(dtype, a, b, options, m, n, k);
    const feeds: Record<string, ort.Tensor> = {
      A: new ort.Tensor(dtype, a.data, [a.rows, a.cols]),
      B: new ort.Tensor(dtype, b.data, [b.rows, b.cols]),
    };
    if (options.c !== undefined) {
      if (options.c.rows !== m || options.c.cols !== n) throw new Error(`gemm: C is ${options.c.rows}×${options.c.cols}, result is ${m}×${n}`);
      feeds.C = new ort.Tensor(dtype, options.c.data, [m, n]);
    }
    const session = await this.session(dtype, transA, transB, options.c !== undefined, options.alpha ?? 1, options.beta ?? 1);
    if (options.out !== undefined) {
      if (options.out.length !== m * n) throw new Error(`gemm: out has ${options.out.length} values, result is ${m}×${n}`);
      await session.run(feeds, { Y: new ort.Tensor(dtype, options.out, [m, n]) });
      return options.out;
    }
    const output = await session.run(feeds);
    return output.Y.data as GemmArray<D>;
  }

  /**
   * A large product as several runs, each under MAX_FLOPS_PER_RUN: a run is synchronous native code on the main
   * thread (onnxruntime-node runs it from a setImmediate), so between runs timers and signal handlers get their
   * turn — a SIGTERM is honoured within a second or so even in one process, mid-fit. Each output element is the
   * same dot product as in one run. The split is over rows of the result (contiguous when A is not transposed;
   * otherwise A's column block is copied) or, when that copy would be larger, over its columns (B's rows when B is
   * transposed, else a copied column block; the result's columns are copied into place).
   */
  private async gemmInPieces<D extends GemmDtype>(dtype: D, a: MatrixArg<D>, b: MatrixArg<D>, options: GemmOptions<D>,
    m: number, n: number, k: number): Promise<GemmArray<D>> {
    const transA = options.transA ?? false;
    const transB = options.transB ?? false;
    const make = (length: number): GemmArray<D> => (dtype === 'float32' ? new Float32Array(length) : new Float64Array(length)) as GemmArray<D>;
    const out = options.out ?? make(m * n);
    if (options.out !== undefined && options.out.length !== m * n) throw new Error(`gemm: out has ${options.out.length} values, result is ${m}×${n}`);
    const c = options.c;
    if (c !== undefined && (c.rows !== m || c.cols !== n)) throw new Error(`gemm: C is ${c.rows}×${c.cols}, result is ${m}×${n}`);
    const rowCopy = transA ? k * m : 0;
    const columnCopy = (transB ? 0 : k * n) + m * n + (c !== undefined ? m * n : 0);
    if (m > 1 && (rowCopy <= columnCopy || n === 1)) {
      const step = Math.max(1, Math.floor(this.maxFlopsPerRun / (2 * n * k)));
      for (let start = 0; start < m; start += step) {
        const rows = Math.min(step, m - start);
        let piece: MatrixArg<D>;
        if (!transA) piece = { data: a.data.subarray(start * k, (start + rows) * k) as GemmArray<D>, rows, cols: k };
        else {
          const block = make(k * rows);
          for (let p = 0; p < k; p++) block.set(a.data.subarray(p * m + start, p * m + start + rows), p * rows);
          piece = { data: block, rows: k, cols: rows };
        }
        await this.gemm(dtype, piece, b, { ...options, ...(c !== undefined ? { c: { data: c.data.subarray(start * n, (start + rows) * n) as GemmArray<D>, rows, cols: n } } : {}),
          out: out.subarray(start * n, (start + rows) * n) as GemmArray<D> });
      }
      return out;
    }
    const step = Math.max(1, Math.floor(this.maxFlopsPerRun / (2 * m * k)));
    for (let start = 0; start < n; start += step) {
      const cols = Math.min(step, n - start);
      let piece: MatrixArg<D>;
      if (transB) piece = { data: b.data.subarray(start * k, (start + cols) * k) as GemmArray<D>, rows: cols, cols: k };
      else {
        const block = make(k * cols);
        for (let p = 0; p < k; p++) block.set(b.data.subarray(p * n + start, p * n + start + cols), p * cols);
        piece = { data: block, rows: k, cols };
      }
      let cPiece: MatrixArg<D> | undefined;
      if (c !== undefined) {
        const block = make(m * cols);
        for (let row = 0; row < m; row++) block.set(c.data.subarray(row * n + start, row * n + start + cols), row * cols);
        cPiece = { data: block, rows: m, cols };
      }
      const result = await this.gemm(dtype, a, piece, { ...options, c: cPiece, out: make(m * cols) });
      for (let row = 0; row < m; row++) out.set(result.subarray(row * cols, (row + 1) * cols), row * n + start);
    }
    return out;
  }

  dispose(): Promise<void> {
    return this.sessions.dispose();
  }
}

let shared: OrtGemm | undefined;

/** A process-wide instance (sessions are cheap to keep and slow-ish to create). */
export function sharedGemm(): OrtGemm {
  shared ??= new OrtGemm();
  return shared;
}

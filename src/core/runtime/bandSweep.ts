/**
 * @file The band form's leave-one-out sweep (probes/ridge.ts fitPrimalBand) as one onnxruntime graph per chunk of
 * rows: a `Scan` over the band's blocks whose body is two batched MatMuls, a Sub and a ReduceSumSquare.
 *
 * Why one graph: run block by block from JavaScript, the sweep is ~13 small Gemm calls per block (128 blocks at
 * d = 4,096) whose every result (12 alphas × 32 × rows values per block) comes back to JavaScript, which then
 * squares and sums it. Inside one graph the per-block results stay in onnxruntime's arena and only the 12
 * leverages per row come back: one chunk of 4,096 rows at d = 4,096 took 468 ms this way against ~750 ms
 * (prototype, 2026-12-02; docs/probes.md).
 *
 * Per block k (width W, all alphas at once; A alphas, R rows):
 *   U_k = Mᵀ_k · Y_k − P_k · U_{k−1}     (Mᵀ_k: A × W × W, Y_k: W × R, P_k: A × W × W, U: A × W × R)
 *   h  += Σ_w U_k²                       (h: A × R)
 * with U_{−1} = 0 (P_0 is ignored as it multiplies zeros). Blocks narrower than W are padded with zeros.
 */
import { onnx } from 'onnx-proto';
import { ort } from './ort';
import { ScratchBuffers } from '../util/scratch';
import { SmallSessionCache } from './smallSessions';
import { allCores } from '../util/cores';

export type SweepDtype = 'float32' | 'float64';
type SweepArray<D extends SweepDtype> = D extends 'float32' ? Float32Array : Float64Array;

export interface BandSweepInput<D extends SweepDtype> {
  /** Yᵀ of the chunk, blocks × width × rows (rows beyond the matrix size zero). */
  readonly y: SweepArray<D>;
  /** Mᵀ_k(α), blocks × alphas × width × width. */
  readonly mTransposed: SweepArray<D>;
  /** P_k(α), blocks × alphas × width × width (block 0's entries unused). */
  readonly recurrence: SweepArray<D>;
  readonly blocks: number;
  readonly width: number;
  readonly alphas: number;
  readonly rows: number;
}

const ONNX_TYPE: Record<SweepDtype, number> = { float32: onnx.TensorProto.DataType.FLOAT, float64: onnx.TensorProto.DataType.DOUBLE };

/** Serialise the sweep's ModelProto for one element type, with symbolic dimensions (one session serves all chunks). */
export function buildBandSweepModel(dtype: SweepDtype): Uint8Array {
  const elemType = ONNX_TYPE[dtype];
  const value = (name: string, dims: string[]): onnx.IValueInfoProto => ({
    name, type: { tensorType: { elemType, shape: { dim: dims.map((dimParam) => ({ dimParam })) } } },
  });
  const body: onnx.IGraphProto = {
    name: 'band_block',
    node: [
      { opType: 'MatMul', input: ['m_transposed_k', 'y_k'], output: ['own'] },
      { opType: 'MatMul', input: ['recurrence_k', 'u_previous'], output: ['carried'] },
      { opType: 'Sub', input: ['own', 'carried'], output: ['u'] },
      {
        opType: 'ReduceSumSquare', input: ['u'], output: ['squares'], attribute: [
          { name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] },
          { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 },
        ],
      },
      { opType: 'Add', input: ['h_previous', 'squares'], output: ['h'] },
    ],
    input: [value('u_previous', ['A', 'W', 'R']), value('h_previous', ['A', 'R']), value('y_k', ['W', 'R']),
      value('m_transposed_k', ['A', 'W', 'W']), value('recurrence_k', ['A', 'W', 'W'])],
    output: [value('u', ['A', 'W', 'R']), value('h', ['A', 'R'])],
  };
  const graph: onnx.IGraphProto = {
    name: 'band_sweep',
    node: [{
      opType: 'Scan', input: ['u_initial', 'h_initial', 'y', 'm_transposed', 'recurrence'], output: ['u_last', 'leverage'], attribute: [
        { name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: body },
        { name: 'num_scan_inputs', type: onnx.AttributeProto.AttributeType.INT, i: 3 },
      ],
    }],
    input: [value('u_initial', ['A', 'W', 'R']), value('h_initial', ['A', 'R']), value('y', ['B', 'W', 'R']),
      value('m_transposed', ['B', 'A', 'W', 'W']), value('recurrence', ['B', 'A', 'W', 'W'])],
    output: [value('leverage', ['A', 'R'])],
  };
  const model: onnx.IModelProto = { irVersion: 8, producerName: 'spacetime-probe-band-sweep', opsetImport: [{ domain: '', version: 13 }], graph };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Cached sweep sessions, one per element type, on the CPU provider. */
export class OrtBandSweep {
  private readonly sessions: SmallSessionCache;
  /** The initial state's zeros: only ever fed to onnxruntime, which does not write its inputs, so they stay zero. */
  private readonly zeros = new ScratchBuffers();

  constructor(threads = allCores()) {
    this.sessions = new SmallSessionCache(threads);
  }

  private session(dtype: SweepDtype): Promise<ort.InferenceSession> {
    return this.sessions.get(dtype, () => buildBandSweepModel(dtype));
  }

  /** The leverages ‖L⁻¹ y_r‖² of every row for every alpha, alphas × rows, written to `out` when given. */
  async leverages<D extends SweepDtype>(dtype: D, input: BandSweepInput<D>, out?: SweepArray<D>): Promise<SweepArray<D>> {
    const { blocks, width, alphas, rows } = input;
    const expect = (name: string, array: ArrayLike<number>, length: number): void => {
      if (array.length !== length) throw new Error(`band sweep: ${name} has ${array.length} values, expected ${length}`);
    };
    expect('y', input.y, blocks * width * rows);
    expect('mTransposed', input.mTransposed, blocks * alphas * width * width);
    expect('recurrence', input.recurrence, blocks * alphas * width * width);
    if (out !== undefined) expect('out', out, alphas * rows);
    const session = await this.session(dtype);
    const feeds = {
      u_initial: new ort.Tensor(dtype, this.zeros.get(dtype, 'u', alphas * width * rows), [alphas, width, rows]),
      h_initial: new ort.Tensor(dtype, this.zeros.get(dtype, 'h', alphas * rows), [alphas, rows]),
      y: new ort.Tensor(dtype, input.y, [blocks, width, rows]),
      m_transposed: new ort.Tensor(dtype, input.mTransposed, [blocks, alphas, width, width]),
      recurrence: new ort.Tensor(dtype, input.recurrence, [blocks, alphas, width, width]),
    };
    if (out !== undefined) {
      await session.run(feeds, { leverage: new ort.Tensor(dtype, out, [alphas, rows]) });
      return out;
    }
    return (await session.run(feeds)).leverage.data as SweepArray<D>;
  }

  dispose(): Promise<void> {
    return this.sessions.dispose();
  }
}

let shared: OrtBandSweep | undefined;

/** A process-wide instance. */
export function sharedBandSweep(): OrtBandSweep {
  shared ??= new OrtBandSweep();
  return shared;
}

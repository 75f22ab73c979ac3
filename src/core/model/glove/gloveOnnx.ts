/**
 * @file The built-in GloVe model as an ONNX graph: token ids → masked mean of their word vectors, one "layer".
 *
 * Inputs `input_ids` and `attention_mask` (int64 [batch, tokens], right-padded like every other model), output
 * `resid_last` (float32 [batch, 1·dims]) — the same names as the tapped transformer graphs, so the model goes
 * through the same onnxruntime-node path. Three storage variants of the embedding table:
 * - `fp32`: Gather;
 * - `fp16`: Gather on a float16 table, then Cast (only the gathered rows are widened);
 * - `int8`: Gather on an int8 table and on a per-row float32 scale, Cast, Mul (symmetric per-row quantisation,
 *   error ≤ scale/2 = max|row|/254 per value). Gather-then-Mul instead of DequantizeLinear on the whole table keeps
 *   the session from materialising a float32 copy of the table.
 * The table can live in an external data file, which onnxruntime memory-maps (see `externalData`).
 * No ORT import here: building the graph is pure (unit-testable, usable from the build script).
 */
import { onnx } from 'onnx-proto';
import { encodeFloat16 } from '../../util/float16';

export type GloveVariant = 'fp32' | 'fp16' | 'int8';
export const GLOVE_VARIANTS: readonly GloveVariant[] = ['fp32', 'fp16', 'int8'];

export const GLOVE_INPUT_IDS = 'input_ids';
export const GLOVE_ATTENTION_MASK = 'attention_mask';
export const GLOVE_OUTPUT = 'resid_last';

/** Symmetric per-row int8 quantisation: value ≈ q · scale[row], q ∈ [−127, 127]. */
export interface Int8Rows {
  readonly values: Int8Array;
  readonly scales: Float32Array;
}

export function quantizeRowsInt8(table: Float32Array, rows: number, dims: number): Int8Rows {
  if (table.length !== rows * dims) throw new Error(`quantizeRowsInt8: table has ${table.length} values, expected ${rows}×${dims}`);
  const values = new Int8Array(rows * dims);
  const scales = new Float32Array(rows);
  for (let row = 0; row < rows; row += 1) {
    const start = row * dims;
    let maxAbs = 0;
    for (let d = 0; d < dims; d += 1) maxAbs = Math.max(maxAbs, Math.abs(table[start + d]));
    // fround: the graph multiplies by the float32 scale, so quantise against exactly that value.
    const scale = Math.fround(maxAbs / 127);
    scales[row] = scale;
    if (scale === 0) continue;
    for (let d = 0; d < dims; d += 1) values[start + d] = Math.max(-127, Math.min(127, Math.round(table[start + d] / scale)));
  }
  return { values, scales };
}

/** What the int8 graph computes for one row (for tests and the converter's self-check). */
export function dequantizeRowInt8(rows: Int8Rows, row: number, dims: number): Float32Array {
  const out = new Float32Array(dims);
  for (let d = 0; d < dims; d += 1) out[d] = rows.values[row * dims + d] * rows.scales[row];
  return out;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
const INT8 = onnx.TensorProto.DataType.INT8;
const INT64 = onnx.TensorProto.DataType.INT64;

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function tensor(name: string, dataType: number, dims: readonly number[], raw: ArrayBufferView): onnx.ITensorProto {
  return { name, dataType, dims: [...dims], rawData: bytesOf(raw) };
}

/** Page alignment of external tensors, so onnxruntime can memory-map them. */
const EXTERNAL_ALIGNMENT = 4096;
/** The per-word tensors (table and scales) go to the external data file; the small constants stay inline. */
const EXTERNAL_TENSORS = new Set(['embeddings', 'embeddings_fp16', 'embeddings_int8', 'row_scales']);

/** Move the table's bytes into one external data file (returned), leaving references in the graph. */
function externalize(initializers: onnx.ITensorProto[], location: string): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const initializer of initializers) {
    const raw = initializer.rawData;
    if (!raw || !EXTERNAL_TENSORS.has(initializer.name ?? '')) continue;
    const padding = (EXTERNAL_ALIGNMENT - (offset % EXTERNAL_ALIGNMENT)) % EXTERNAL_ALIGNMENT;
    if (padding > 0) parts.push(new Uint8Array(padding));
    offset += padding;
    parts.push(raw);
    initializer.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.byteLength) },
    ];
    initializer.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    initializer.rawData = new Uint8Array(0);
    offset += raw.byteLength;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const part of parts) {
    data.set(part, at);
    at += part.byteLength;
  }
  return data;
}

function node(opType: string, inputs: string[], outputs: string[], attributes: onnx.IAttributeProto[] = []): onnx.INodeProto {
  return { opType, input: inputs, output: outputs, name: `${opType}_${outputs[0]}`, attribute: attributes };
}

function intAttribute(name: string, value: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

function valueInfo(name: string, elemType: number, dims: readonly (string | number)[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((dim) => (typeof dim === 'string' ? { dimParam: dim } : { dimValue: dim })) },
      },
    },
  };
}

export interface GloveGraphInput {
  /** Row-major [rows, dims] float32 embedding table. */
  readonly table: Float32Array;
  readonly rows: number;
  readonly dims: number;
  readonly variant: GloveVariant;
  /** Stored in the model's doc string and metadata (source package, licence). */
  readonly docString?: string;
  /**
   * Put the embedding table in this external data file (name relative to the model file). onnxruntime then
   * memory-maps it: creating a session takes milliseconds instead of most of a second for the int8 table,
   * which matters for the edit-one-row re-run. Such a model must be loaded by path.
   */
  readonly externalData?: string;
}

export interface GloveOnnx {
  /** The ONNX model. */
  readonly model: Uint8Array;
  /** External data (when `externalData` was given). */
  readonly data?: Uint8Array;
}

/** Serialise the GloVe mean-embedding graph (opset 13) to ONNX bytes. */
export function buildGloveOnnx(input: GloveGraphInput): GloveOnnx {
  const { table, rows, dims, variant } = input;
  if (table.length !== rows * dims) throw new Error(`buildGloveOnnx: table has ${table.length} values, expected ${rows}×${dims}`);
  const initializers: onnx.ITensorProto[] = [
    tensor('reduce_axis_tokens', INT64, [1], new BigInt64Array([1n])),
    tensor('unsqueeze_axis_last', INT64, [1], new BigInt64Array([2n])),
    tensor('one', FLOAT, [], new Float32Array([1])),
  ];
  const nodes: onnx.INodeProto[] = [];
  switch (variant) {
    case 'fp32':
      initializers.push(tensor('embeddings', FLOAT, [rows, dims], table));
      nodes.push(node('Gather', ['embeddings', GLOVE_INPUT_IDS], ['token_vectors'], [intAttribute('axis', 0)]));
      break;
    case 'fp16':
      initializers.push(tensor('embeddings_fp16', FLOAT16, [rows, dims], encodeFloat16(table)));
      nodes.push(
        node('Gather', ['embeddings_fp16', GLOVE_INPUT_IDS], ['token_vectors_fp16'], [intAttribute('axis', 0)]),
        node('Cast', ['token_vectors_fp16'], ['token_vectors'], [intAttribute('to', FLOAT)]),
      );
      break;
    case 'int8': {
      const quantized = quantizeRowsInt8(table, rows, dims);
      initializers.push(
        tensor('embeddings_int8', INT8, [rows, dims], quantized.values),
        tensor('row_scales', FLOAT, [rows, 1], quantized.scales),
      );
      nodes.push(
        node('Gather', ['embeddings_int8', GLOVE_INPUT_IDS], ['token_vectors_int8'], [intAttribute('axis', 0)]),
        node('Cast', ['token_vectors_int8'], ['token_vectors_unscaled'], [intAttribute('to', FLOAT)]),
        node('Gather', ['row_scales', GLOVE_INPUT_IDS], ['token_scales'], [intAttribute('axis', 0)]),
        node('Mul', ['token_vectors_unscaled', 'token_scales'], ['token_vectors']),
      );
      break;
    }
  }
  nodes.push(
    node('Cast', [GLOVE_ATTENTION_MASK], ['mask_float'], [intAttribute('to', FLOAT)]),
    node('Unsqueeze', ['mask_float', 'unsqueeze_axis_last'], ['mask_column']),
    node('Mul', ['token_vectors', 'mask_column'], ['masked_vectors']),
    node('ReduceSum', ['masked_vectors', 'reduce_axis_tokens'], ['vector_sum'], [intAttribute('keepdims', 0)]),
    node('ReduceSum', ['mask_column', 'reduce_axis_tokens'], ['token_count'], [intAttribute('keepdims', 0)]),
    // An all-padding row would divide by zero; callers never send one, but keep the graph total anyway.
    node('Max', ['token_count', 'one'], ['safe_token_count']),
    node('Div', ['vector_sum', 'safe_token_count'], [GLOVE_OUTPUT]),
  );
  const model: onnx.IModelProto = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'spacetime-probe',
    producerVersion: '1',
    docString: input.docString ?? '',
    metadataProps: [{ key: 'spacetime_probe.variant', value: variant }],
    graph: {
      name: `glove_mean_${variant}`,
      node: nodes,
      initializer: initializers,
      input: [valueInfo(GLOVE_INPUT_IDS, INT64, ['batch', 'tokens']), valueInfo(GLOVE_ATTENTION_MASK, INT64, ['batch', 'tokens'])],
      output: [valueInfo(GLOVE_OUTPUT, FLOAT, ['batch', dims])],
    },
  };
  const data = input.externalData !== undefined ? externalize(initializers, input.externalData) : undefined;
  return { model: onnx.ModelProto.encode(model).finish(), data };
}

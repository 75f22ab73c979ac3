/**
 * @file A small ONNX graph writer for the checkpoint graph builder: nodes, small in-memory constants, and weights as
 * external-data initializers that point at byte ranges inside safetensors files (no copy, no converted file).
 *
 * Names are generated (`t0`, `t1`, …) unless given. The result is a ModelProto encoded with onnx-proto; that is safe
 * here (unlike for exports we only rewrite, graphRewrite.ts) because every field of this graph is ours.
 */
import { onnx } from 'onnx-proto';
import { float32ToFloat16Bits } from '../../util/float16';

export type AttributeValue = number | readonly number[] | string | { readonly float: number } | { readonly floats: readonly number[] };

/** ONNX element types the builder writes. */
export const ElemType = {
  FLOAT: onnx.TensorProto.DataType.FLOAT,
  FLOAT16: onnx.TensorProto.DataType.FLOAT16,
  BFLOAT16: onnx.TensorProto.DataType.BFLOAT16,
  INT32: onnx.TensorProto.DataType.INT32,
  INT64: onnx.TensorProto.DataType.INT64,
  BOOL: onnx.TensorProto.DataType.BOOL,
} as const;

export interface ExternalTensor {
  readonly dims: readonly number[];
  readonly elemType: number;
  /** Path relative to the folder onnxruntime resolves external data against. */
  readonly location: string;
  readonly offset: number;
  readonly length: number;
}

/** onnxruntime 1.30 refuses IR versions above 13 (onnx's helper writes 14); opset 17 has LayerNormalization. */
const IR_VERSION = 8;
export const OPSET = 17;

export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly constants = new Map<string, string>();
  private readonly domains = new Set<string>();
  private counter = 0;

  /** The element type the graph computes in (FLOAT, or FLOAT16 for GPUs); see `value`. */
  constructor(readonly computeType: number = ElemType.FLOAT) {}

  /** A constant in the compute type (float32 or float16), deduplicated. */
  value(values: number | ArrayLike<number>, dims?: readonly number[]): string {
    if (this.computeType === ElemType.FLOAT) return this.float(values, dims);
    const list = typeof values === 'number' ? [values] : Array.from(values);
    const data = Uint16Array.from(list, float32ToFloat16Bits);
    return this.constant(ElemType.FLOAT16, new Uint8Array(data.buffer), dims ?? (typeof values === 'number' ? [] : [list.length]));
  }

  /** Cast to the compute type (nothing when it already is). */
  toCompute(x: string, from: number): string {
    return from === this.computeType ? x : this.op('Cast', [x], { to: this.computeType });
  }

  /** A fresh tensor name with an optional readable stem. */
  fresh(stem = 't'): string {
    return `${stem}_${this.counter++}`;
  }

  input(name: string, elemType: number, dims: readonly (number | string)[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, elemType: number, dims: readonly (number | string)[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** Add a node with one output; returns the output's name. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, output?: string): string {
    const name = output ?? this.fresh(opType.toLowerCase());
    this.nodes.push(node(opType, inputs, [name], attributes, this.counter++));
    return name;
  }

  /** Add a node with several outputs (domain: e.g. 'com.microsoft' for onnxruntime's contrib operators). */
  opMulti(opType: string, inputs: readonly string[], outputCount: number, attributes: Record<string, AttributeValue> = {}, domain = ''): string[] {
    const outputs = Array.from({ length: outputCount }, () => this.fresh(opType.toLowerCase()));
    const built = node(opType, inputs, outputs, attributes, this.counter++);
    if (domain) {
      built.domain = domain;
      this.domains.add(domain);
    }
    this.nodes.push(built);
    return outputs;
  }

  /** A float32 constant (deduplicated by value and shape). */
  float(values: number | ArrayLike<number>, dims?: readonly number[]): string {
    const data = typeof values === 'number' ? Float32Array.of(values) : Float32Array.from(values);
    return this.constant(ElemType.FLOAT, new Uint8Array(data.buffer), dims ?? (typeof values === 'number' ? [] : [data.length]));
  }

  /** An int64 constant (deduplicated by value and shape). */
  int64(values: number | readonly number[], dims?: readonly number[]): string {
    const list = typeof values === 'number' ? [values] : values;
    const data = BigInt64Array.from(list.map((value) => BigInt(value)));
    return this.constant(ElemType.INT64, new Uint8Array(data.buffer), dims ?? (typeof values === 'number' ? [] : [list.length]));
  }

  private constant(elemType: number, raw: Uint8Array, dims: readonly number[]): string {
    const key = `${elemType}|${dims.join(',')}|${Buffer.from(raw).toString('base64')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.fresh('const');
    this.initializers.push({ name, dims: [...dims], dataType: elemType, rawData: raw });
    this.constants.set(key, name);
    return name;
  }

  /** An initializer whose data stays in a file (onnxruntime maps it). */
  external(name: string, tensor: ExternalTensor): string {
    this.initializers.push({
      name, dims: [...tensor.dims], dataType: tensor.elemType, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: tensor.location },
        { key: 'offset', value: String(tensor.offset) },
        { key: 'length', value: String(tensor.length) },
      ],
    });
    return name;
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  /** How many nodes of an operator the graph has. */
  countOf(opType: string): number {
    return this.nodes.filter((entry) => entry.opType === opType).length;
  }

  toBytes(graphName: string, docString = ''): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: IR_VERSION,
      producerName: 'spacetime-probe',
      docString,
      opsetImport: [{ domain: '', version: OPSET }, ...[...this.domains].map((domain) => ({ domain, version: 1 }))],
      graph: { name: graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    };
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, elemType: number, dims: readonly (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) } } },
  };
}

function node(opType: string, inputs: readonly string[], outputs: readonly string[], attributes: Record<string, AttributeValue>, id: number): onnx.INodeProto {
  return {
    name: `${opType}_${id}`, opType, input: [...inputs], output: [...outputs],
    attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
  };
}

function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') return { name, type: A.INT, i: value };
  if ('float' in value) return { name, type: A.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: A.FLOATS, floats: [...value.floats] };
  return { name, type: A.INTS, ints: [...(value as readonly number[])] };
}

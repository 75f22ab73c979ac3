/**
 * @file Read-only view of an ONNX model for graph analysis.
 *
 * The model bytes are scanned field by field (protobufjs' Reader) so that every top-level entry of the graph keeps
 * its exact byte range: graphRewrite.ts later copies unchanged entries byte-for-byte. Nodes and value infos are
 * decoded with onnx-proto (small messages); initializers are only scanned for their name, type, shape and
 * external-data reference, never decoded, so a multi-GB weight blob is never copied or turned into JS arrays.
 */
import { onnx } from 'onnx-proto';
import { Reader } from 'protobufjs/minimal';

/** ONNX TensorProto.DataType values used by this project. */
export const OnnxDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  BFLOAT16: 16,
} as const;

const DATA_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
};

export function dataTypeName(dataType: number | undefined): string {
  return dataType === undefined ? 'unknown' : DATA_TYPE_NAMES[dataType] ?? `type ${dataType}`;
}

/** Field numbers of the ONNX messages we scan (onnx.proto3). */
export const ModelField = { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8 } as const;
export const GraphField = {
  node: 1, name: 2, initializer: 5, docString: 10, input: 11, output: 12, valueInfo: 13, sparseInitializer: 15,
} as const;
export const TensorField = { dims: 1, dataType: 2, name: 8, rawData: 9, externalData: 13, dataLocation: 14 } as const;

/** One protobuf field occurrence: `start` is the tag's first byte, the payload (for length-delimited) is [payloadStart, end). */
export interface ProtoField {
  readonly field: number;
  readonly wireType: number;
  readonly start: number;
  readonly payloadStart: number;
  readonly end: number;
}

/** Split a message into its top-level field occurrences, in order. */
export function scanFields(bytes: Uint8Array, start = 0, end = bytes.length): ProtoField[] {
  const reader = Reader.create(bytes.subarray(start, end));
  const fields: ProtoField[] = [];
  while (reader.pos < reader.len) {
    const tagStart = reader.pos;
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    let payloadStart = reader.pos;
    if (wireType === 2) {
      const length = reader.uint32();
      payloadStart = reader.pos;
      reader.skip(length);
    } else {
      reader.skipType(wireType);
    }
    fields.push({ field, wireType, start: start + tagStart, payloadStart: start + payloadStart, end: start + reader.pos });
  }
  return fields;
}

function payload(bytes: Uint8Array, field: ProtoField): Uint8Array {
  return bytes.subarray(field.payloadStart, field.end);
}

const textDecoder = new TextDecoder();

function readVarint(bytes: Uint8Array, field: ProtoField): number {
  const reader = Reader.create(bytes.subarray(field.payloadStart, field.end));
  return longToNumber(reader.int64());
}

/**
 * protobufjs returns int64 as a Long object ({low, high}) when the `long` package is present, as a number otherwise.
 * Values beyond 2^53 do not occur in the fields we read (dims, versions, attributes).
 */
export function longToNumber(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  const { low, high, unsigned } = value as { low: number; high: number; unsigned?: boolean };
  return (unsigned ? high >>> 0 : high) * 4294967296 + (low >>> 0);
}

export interface OnnxNode {
  readonly index: number;
  readonly opType: string;
  readonly domain: string;
  readonly name: string;
  /** Input names in order; '' marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: readonly onnx.IAttributeProto[];
  /** Outer-scope names read inside this node's subgraphs (If/Loop/Scan bodies): they must stay alive with the node. */
  readonly outerScopeInputs: readonly string[];
  /** Number of normalisation ops inside this node's subgraphs (used to recognise merged decoders). */
  readonly subgraphNodeCount: number;
  readonly field: ProtoField;
}

export interface OnnxValueInfo {
  readonly name: string;
  /** TensorProto.DataType of a tensor value, undefined for non-tensor types. */
  readonly elemType?: number;
  /** Dimension values or symbolic names; undefined entries are unknown. Undefined when the rank is unknown. */
  readonly dims?: readonly (number | string | undefined)[];
  readonly field: ProtoField;
}

export interface OnnxInitializer {
  readonly name: string;
  readonly dataType: number;
  readonly dims: readonly number[];
  /** `location` of external data (relative to the model file), when the tensor's bytes live outside the model. */
  readonly externalLocation?: string;
  readonly field: ProtoField;
}

export interface OpsetImport {
  readonly domain: string;
  readonly version: number;
}

/** A parsed model: decoded structure plus the byte ranges needed to splice a rewritten copy. */
export interface OnnxModel {
  readonly bytes: Uint8Array;
  readonly modelFields: readonly ProtoField[];
  readonly irVersion: number;
  readonly producerName: string;
  readonly opsetImports: readonly OpsetImport[];
  /** Every top-level field of the GraphProto, in file order. */
  readonly graphFields: readonly ProtoField[];
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxInitializer[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly valueInfos: readonly OnnxValueInfo[];
}

/** Version of the default ('' or 'ai.onnx') opset, or 0 when the model imports none. */
export function defaultOpsetVersion(model: OnnxModel): number {
  const entry = model.opsetImports.find((opset) => opset.domain === '' || opset.domain === 'ai.onnx');
  return entry?.version ?? 0;
}

/** Parse model bytes. Throws a plain Error naming what is wrong when the bytes are not an ONNX ModelProto. */
export function parseOnnxModel(bytes: Uint8Array): OnnxModel {
  // onnx-proto's Reader returns views instead of copies only for Buffers.
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let modelFields: ProtoField[];
  try {
    modelFields = scanFields(buffer);
  } catch (error) {
    throw new Error(`not an ONNX model (protobuf decoding failed: ${(error as Error).message})`);
  }
  const graphEntries = modelFields.filter((field) => field.field === ModelField.graph && field.wireType === 2);
  if (graphEntries.length !== 1) throw new Error(`not an ONNX model: expected one graph, found ${graphEntries.length}`);
  let irVersion = 0;
  let producerName = '';
  const opsetImports: OpsetImport[] = [];
  for (const field of modelFields) {
    if (field.field === ModelField.irVersion && field.wireType === 0) irVersion = readVarint(buffer, field);
    else if (field.field === ModelField.producerName && field.wireType === 2) producerName = textDecoder.decode(payload(buffer, field));
    else if (field.field === ModelField.opsetImport && field.wireType === 2) {
      const opset = onnx.OperatorSetIdProto.decode(payload(buffer, field));
      opsetImports.push({ domain: opset.domain ?? '', version: longToNumber(opset.version) });
    }
  }
  const graphField = graphEntries[0];
  const graphFields = scanFields(buffer, graphField.payloadStart, graphField.end);
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  const valueInfos: OnnxValueInfo[] = [];
  for (const field of graphFields) {
    if (field.wireType !== 2) continue;
    switch (field.field) {
      case GraphField.node:
        nodes.push(decodeNode(buffer, field, nodes.length));
        break;
      case GraphField.initializer:
        initializers.push(scanInitializer(buffer, field));
        break;
      case GraphField.input:
        inputs.push(decodeValueInfo(buffer, field));
        break;
      case GraphField.output:
        outputs.push(decodeValueInfo(buffer, field));
        break;
      case GraphField.valueInfo:
        valueInfos.push(decodeValueInfo(buffer, field));
        break;
    }
  }
  return { bytes: buffer, modelFields, irVersion, producerName, opsetImports, graphFields, nodes, initializers, inputs, outputs, valueInfos };
}

function decodeNode(bytes: Uint8Array, field: ProtoField, index: number): OnnxNode {
  const node = onnx.NodeProto.decode(payload(bytes, field));
  const attributes = node.attribute ?? [];
  const outer = new Set<string>();
  let subgraphNodeCount = 0;
  for (const attribute of attributes) {
    const graphs = [...(attribute.g ? [attribute.g] : []), ...(attribute.graphs ?? [])];
    for (const graph of graphs) {
      subgraphNodeCount += collectOuterScopeInputs(graph, outer);
    }
  }
  return {
    index,
    opType: node.opType ?? '',
    domain: node.domain ?? '',
    name: node.name ?? '',
    inputs: node.input ?? [],
    outputs: node.output ?? [],
    attributes,
    outerScopeInputs: [...outer],
    subgraphNodeCount,
    field,
  };
}

/** Add to `outer` the names a subgraph reads but does not define; returns the subgraph's node count (recursively). */
function collectOuterScopeInputs(graph: onnx.IGraphProto, outer: Set<string>): number {
  const defined = new Set<string>();
  for (const input of graph.input ?? []) if (input.name) defined.add(input.name);
  for (const initializer of graph.initializer ?? []) if (initializer.name) defined.add(initializer.name);
  let count = 0;
  for (const node of graph.node ?? []) {
    count += 1;
    for (const name of node.input ?? []) if (name && !defined.has(name)) outer.add(name);
    for (const attribute of node.attribute ?? []) {
      for (const subgraph of [...(attribute.g ? [attribute.g] : []), ...(attribute.graphs ?? [])]) {
        const inner = new Set<string>();
        count += collectOuterScopeInputs(subgraph, inner);
        for (const name of inner) if (!defined.has(name)) outer.add(name);
      }
    }
    for (const name of node.output ?? []) if (name) defined.add(name);
  }
  for (const output of graph.output ?? []) if (output.name && !defined.has(output.name)) outer.add(output.name);
  return count;
}

function decodeValueInfo(bytes: Uint8Array, field: ProtoField): OnnxValueInfo {
  const info = onnx.ValueInfoProto.decode(payload(bytes, field));
  const tensorType = info.type?.tensorType;
  if (!tensorType) return { name: info.name ?? '', field };
  const shape = tensorType.shape;
  const dims = shape ? (shape.dim ?? []).map((dim) => {
    // The decoded Dimension records which member of its `value` oneof was actually present.
    const which = (dim as onnx.TensorShapeProto.Dimension).value;
    if (which === 'dimParam') return dim.dimParam ?? undefined;
    if (which === 'dimValue') return longToNumber(dim.dimValue);
    return undefined;
  }) : undefined;
  return { name: info.name ?? '', elemType: tensorType.elemType ?? undefined, dims, field };
}

/** Read a TensorProto's metadata without touching its data fields. */
function scanInitializer(bytes: Uint8Array, field: ProtoField): OnnxInitializer {
  let name = '';
  let dataType = 0;
  const dims: number[] = [];
  let externalLocation: string | undefined;
  for (const inner of scanFields(bytes, field.payloadStart, field.end)) {
    if (inner.field === TensorField.name && inner.wireType === 2) name = textDecoder.decode(payload(bytes, inner));
    else if (inner.field === TensorField.dataType && inner.wireType === 0) dataType = readVarint(bytes, inner);
    else if (inner.field === TensorField.dims) {
      const reader = Reader.create(bytes.subarray(inner.payloadStart, inner.end));
      if (inner.wireType === 2) {
        while (reader.pos < reader.len) dims.push(longToNumber(reader.int64()));
      } else {
        dims.push(longToNumber(reader.int64()));
      }
    } else if (inner.field === TensorField.externalData && inner.wireType === 2) {
      const entry = onnx.StringStringEntryProto.decode(payload(bytes, inner));
      if (entry.key === 'location') externalLocation = entry.value ?? undefined;
    }
  }
  return { name, dataType, dims, externalLocation, field };
}

/** Integer attribute of a node, or `fallback` when absent. */
export function intAttribute(node: OnnxNode, name: string, fallback: number): number {
  const attribute = node.attributes.find((candidate) => candidate.name === name);
  return attribute ? longToNumber(attribute.i) : fallback;
}

/** Map tensor name → index of the node that produces it. */
export function producerIndex(model: OnnxModel): Map<string, number> {
  const producers = new Map<string, number>();
  for (const node of model.nodes) for (const output of node.outputs) if (output) producers.set(output, node.index);
  return producers;
}

/** Map tensor name → indices of the nodes that read it (subgraph reads included). */
export function consumerIndex(model: OnnxModel): Map<string, number[]> {
  const consumers = new Map<string, number[]>();
  for (const node of model.nodes) {
    for (const input of [...node.inputs, ...node.outerScopeInputs]) {
      if (!input) continue;
      const list = consumers.get(input);
      if (list) list.push(node.index);
      else consumers.set(input, [node.index]);
    }
  }
  return consumers;
}

/** Relative external-data file names referenced by the model's initializers (deduplicated). */
export function externalDataFiles(model: OnnxModel): string[] {
  return [...new Set(model.initializers.flatMap((initializer) => initializer.externalLocation ? [initializer.externalLocation] : []))];
}

/** Ops whose outputs depend on the input's shape only, not its values (no value edge from input to output). */
export const SHAPE_ONLY_OPS: ReadonlySet<string> = new Set(['Shape', 'Size']);

/**
 * Node indices in a topological order (producers before consumers), stable with respect to file order: a node
 * comes as early as its inputs allow, ties keep their file order. Exporters and converters do not always write
 * sorted graphs (onnxconverter's fp16 conversion with keep_io_types appends the input Casts at the end).
 * Nodes on a cycle (invalid ONNX) are appended in file order.
 */
export function topologicalOrder(model: OnnxModel): number[] {
  const producers = producerIndex(model);
  const nodes = model.nodes;
  const waiting = new Array<number>(nodes.length).fill(0);
  const dependents: number[][] = nodes.map(() => []);
  for (const node of nodes) {
    const seen = new Set<number>();
    for (const input of [...node.inputs, ...node.outerScopeInputs]) {
      const producer = input ? producers.get(input) : undefined;
      if (producer === undefined || producer === node.index || seen.has(producer)) continue;
      seen.add(producer);
      waiting[node.index]++;
      dependents[producer].push(node.index);
    }
  }
  // A min-heap on file index keeps the result as close to file order as the dependencies allow.
  const heap: number[] = [];
  const push = (value: number): void => {
    heap.push(value);
    let child = heap.length - 1;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (heap[parent] <= heap[child]) break;
      [heap[parent], heap[child]] = [heap[child], heap[parent]];
      child = parent;
    }
  };
  const pop = (): number => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let parent = 0;
      for (;;) {
        const left = 2 * parent + 1;
        const right = left + 1;
        let smallest = parent;
        if (left < heap.length && heap[left] < heap[smallest]) smallest = left;
        if (right < heap.length && heap[right] < heap[smallest]) smallest = right;
        if (smallest === parent) break;
        [heap[parent], heap[smallest]] = [heap[smallest], heap[parent]];
        parent = smallest;
      }
    }
    return top;
  };
  for (const node of nodes) if (waiting[node.index] === 0) push(node.index);
  const order: number[] = [];
  const placed = new Array<boolean>(nodes.length).fill(false);
  while (heap.length > 0) {
    const index = pop();
    order.push(index);
    placed[index] = true;
    for (const dependent of dependents[index]) if (--waiting[dependent] === 0) push(dependent);
  }
  for (const node of nodes) if (!placed[node.index]) order.push(node.index);
  return order;
}

/** True when every node reads only tensors produced by earlier nodes (or graph inputs/initializers). */
export function isTopologicallySorted(model: OnnxModel): boolean {
  const producers = producerIndex(model);
  return model.nodes.every((node) => [...node.inputs, ...node.outerScopeInputs].every((input) => {
    const producer = input ? producers.get(input) : undefined;
    return producer === undefined || producer < node.index;
  }));
}

const INT64_OUTPUT_OPS: ReadonlySet<string> = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin']);
const BOOL_OUTPUT_OPS: ReadonlySet<string> = new Set(['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);

/**
 * Element type of every tensor we can tell: declared value infos, inputs and initializers, then a light forward
 * propagation (Cast sets its `to`, comparisons give bool, shapes int64, most other ops keep their first input's
 * type). Used to tell a no-op Cast (to the type it already has) from a real conversion.
 */
export function elementTypes(model: OnnxModel, order: readonly number[] = topologicalOrder(model)): Map<string, number> {
  const types = new Map<string, number>();
  for (const initializer of model.initializers) types.set(initializer.name, initializer.dataType);
  for (const info of [...model.inputs, ...model.outputs, ...model.valueInfos]) if (info.elemType) types.set(info.name, info.elemType);
  for (const index of order) {
    const node = model.nodes[index];
    let type: number | undefined;
    if (node.opType === 'Cast') type = intAttribute(node, 'to', 0) || undefined;
    else if (INT64_OUTPUT_OPS.has(node.opType)) type = OnnxDataType.INT64;
    else if (BOOL_OUTPUT_OPS.has(node.opType)) type = OnnxDataType.BOOL;
    else if (node.opType === 'Where') type = types.get(node.inputs[1]);
    else if (node.opType === 'DequantizeLinear') type = types.get(node.inputs[1]);
    else if (node.opType === 'Constant') {
      const value = node.attributes.find((attribute) => attribute.name === 'value')?.t;
      type = value?.dataType ?? undefined;
    } else if (node.opType === 'ConstantOfShape') {
      type = node.attributes.find((attribute) => attribute.name === 'value')?.t?.dataType ?? OnnxDataType.FLOAT;
    } else if (node.opType === 'MatMulInteger' || node.opType === 'ConvInteger') type = OnnxDataType.INT32;
    else type = node.inputs.map((input) => types.get(input)).find((known) => known !== undefined);
    if (type === undefined) continue;
    node.outputs.forEach((output, position) => {
      // Secondary outputs of norms (mean, inv_std_var) are float32; DynamicQuantizeLinear's scale/zero point differ.
      if (!output || types.has(output)) return;
      if (position === 0 || node.opType === 'Split' || node.opType.startsWith('Skip')) types.set(output, type!);
    });
  }
  return types;
}

/** Declared dims of every tensor with a value info (inputs, outputs, value_info). */
export function declaredShapes(model: OnnxModel): Map<string, readonly (number | string | undefined)[]> {
  const shapes = new Map<string, readonly (number | string | undefined)[]>();
  for (const info of [...model.inputs, ...model.outputs, ...model.valueInfos]) if (info.dims) shapes.set(info.name, info.dims);
  for (const initializer of model.initializers) shapes.set(initializer.name, initializer.dims);
  return shapes;
}

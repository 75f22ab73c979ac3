/**
 * @file Rewrite an ONNX model by splicing raw protobuf fields.
 *
 * We never re-encode a decoded model: onnx-proto (protobufjs 6, ONNX 1.10 schema) would drop fields newer than
 * its schema and copy every weight. Instead, the ModelProto and GraphProto are split into field byte ranges
 * (onnxGraph.ts), unchanged entries are copied byte-for-byte, dropped entries are skipped, and the few new
 * entries (nodes, one input, one output) are encoded with protobufjs' Writer. Initializers, external-data
 * references and unknown fields survive untouched.
 */
import { Writer } from 'protobufjs/minimal';
import { onnx } from 'onnx-proto';
import {
  defaultOpsetVersion, GraphField, ModelField, OnnxDataType, TensorField, producerIndex, scanFields, topologicalOrder,
  type OnnxModel, type ProtoField,
} from './onnxGraph';
import { ModelLoadError } from '../errors';

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
/** AttributeProto.AttributeType.INT */
const ATTRIBUTE_INT = 2;
/** TensorProto.DataLocation.EXTERNAL */
const DATA_LOCATION_EXTERNAL = 1;

export interface IntAttribute {
  readonly name: string;
  readonly value: number;
}

export interface NewNode {
  readonly opType: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: readonly IntAttribute[];
  readonly domain?: string;
}

/** Encode a NodeProto (input 1, output 2, name 3, op_type 4, attribute 5, domain 7). */
export function encodeNode(node: NewNode): Uint8Array {
  const writer = Writer.create();
  for (const input of node.inputs) writer.uint32((1 << 3) | WIRE_LENGTH_DELIMITED).string(input);
  for (const output of node.outputs) writer.uint32((2 << 3) | WIRE_LENGTH_DELIMITED).string(output);
  writer.uint32((3 << 3) | WIRE_LENGTH_DELIMITED).string(node.name);
  writer.uint32((4 << 3) | WIRE_LENGTH_DELIMITED).string(node.opType);
  for (const attribute of node.attributes ?? []) {
    // AttributeProto: name 1, i 3, type 20.
    writer.uint32((5 << 3) | WIRE_LENGTH_DELIMITED).fork()
      .uint32((1 << 3) | WIRE_LENGTH_DELIMITED).string(attribute.name)
      .uint32((3 << 3) | WIRE_VARINT).int64(attribute.value)
      .uint32((20 << 3) | WIRE_VARINT).int32(ATTRIBUTE_INT)
      .ldelim();
  }
  if (node.domain) writer.uint32((7 << 3) | WIRE_LENGTH_DELIMITED).string(node.domain);
  return writer.finish();
}

/** Encode a ValueInfoProto for a tensor: name 1, type 2 → TypeProto.tensor_type 1 → elem_type 1, shape 2 → dim 1. */
export function encodeTensorValueInfo(name: string, elemType: number, dims: readonly (number | string)[]): Uint8Array {
  const writer = Writer.create();
  writer.uint32((1 << 3) | WIRE_LENGTH_DELIMITED).string(name);
  writer.uint32((2 << 3) | WIRE_LENGTH_DELIMITED).fork();
  writer.uint32((1 << 3) | WIRE_LENGTH_DELIMITED).fork();
  writer.uint32((1 << 3) | WIRE_VARINT).int32(elemType);
  writer.uint32((2 << 3) | WIRE_LENGTH_DELIMITED).fork();
  for (const dim of dims) {
    writer.uint32((1 << 3) | WIRE_LENGTH_DELIMITED).fork();
    if (typeof dim === 'number') writer.uint32((1 << 3) | WIRE_VARINT).int64(dim);
    else writer.uint32((2 << 3) | WIRE_LENGTH_DELIMITED).string(dim);
    writer.ldelim();
  }
  writer.ldelim().ldelim().ldelim();
  return writer.finish();
}

/** Encode an int64 vector initializer (TensorProto: dims 1, data_type 2, name 8, raw_data 9). */
export function encodeInt64Initializer(name: string, values: readonly number[]): Uint8Array {
  const raw = Buffer.alloc(8 * values.length);
  values.forEach((value, index) => raw.writeBigInt64LE(BigInt(value), 8 * index));
  const writer = Writer.create();
  writer.uint32((TensorField.dims << 3) | WIRE_VARINT).int64(values.length);
  writer.uint32((TensorField.dataType << 3) | WIRE_VARINT).int32(OnnxDataType.INT64);
  writer.uint32((TensorField.name << 3) | WIRE_LENGTH_DELIMITED).string(name);
  writer.uint32((TensorField.rawData << 3) | WIRE_LENGTH_DELIMITED).bytes(raw);
  return writer.finish();
}

/** Tag + length prefix for a length-delimited field of `length` bytes. */
function fieldHeader(field: number, length: number): Uint8Array {
  return Writer.create().uint32((field << 3) | WIRE_LENGTH_DELIMITED).uint32(length).finish();
}

function lengthOf(chunks: readonly Uint8Array[]): number {
  let total = 0;
  for (const chunk of chunks) total += chunk.byteLength;
  return total;
}

/** Wrap already-encoded chunks as one length-delimited field. */
function wrapField(field: number, chunks: readonly Uint8Array[]): Uint8Array[] {
  return [fieldHeader(field, lengthOf(chunks)), ...chunks];
}

/** Join chunks into one buffer (a single copy). */
export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(chunks.map((chunk) => (Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))));
}

/** Re-emit a ModelProto with its graph field replaced, every other field copied byte-for-byte in order. */
function spliceModel(model: OnnxModel, graphChunks: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const field of model.modelFields) {
    if (field.field === ModelField.graph && field.wireType === WIRE_LENGTH_DELIMITED) out.push(...wrapField(ModelField.graph, graphChunks));
    else out.push(model.bytes.subarray(field.start, field.end));
  }
  return out;
}

export interface TapRewriteOptions {
  /** Residual tensors to expose, in layer order. */
  readonly taps: readonly string[];
  /** Taps that do not exist in the graph and are built as Add of existing tensors (fused Skip*Normalization sums). */
  readonly synthesized?: readonly { readonly name: string; readonly addends: readonly string[] }[];
  /** Name of the added int64 [batch, 1] input holding each row's last token position. */
  readonly lastIndexInput?: string;
  /** Name of the single float32 output [batch, taps·hidden]. */
  readonly outputName?: string;
  /** Residual width, written into the output's declared shape when known. */
  readonly hiddenSize?: number;
  /**
   * New `location` for external-data references, by old location (Hugging Face cache snapshots: the data file is a
   * symlink into blobs/, and onnxruntime only accepts data inside the folder it is given).
   */
  readonly externalDataLocations?: ReadonlyMap<string, string>;
}

export interface TapRewrite {
  readonly bytes: Uint8Array;
  readonly lastIndexInput: string;
  readonly outputName: string;
  /** Graph inputs the rewritten model still reads (the original ones that stayed alive, then last_index). */
  readonly inputs: readonly string[];
  readonly nodesBefore: number;
  readonly nodesAfter: number;
  readonly initializersBefore: number;
  readonly initializersAfter: number;
  /** IsNaN nodes written as Not(Equal(x, x)) (isNaNAsComparison). */
  readonly isNaNRewritten: number;
}

/**
 * Whether IsNaN(x) may be written as Not(Equal(x, x)): the same truth values (NaN is the only value unequal to
 * itself), but kernels every provider has. WebGPU has no IsNaN: onnxruntime ran it on the CPU and copied each
 * attention's scores to the host and back — a third of a GPT-2-small dynamo export's run on an H200 (BENCHMARKS.md).
 * Only for float32/float16 inputs (onnxruntime's CPU Equal has no bfloat16 kernel), or an input of unknown type in a
 * graph that has no bfloat16 anywhere.
 */
export function isNaNAsComparison(model: OnnxModel): (node: OnnxModel['nodes'][number]) => boolean {
  const types = new Map<string, number | undefined>();
  for (const info of [...model.inputs, ...model.valueInfos]) types.set(info.name, info.elemType);
  for (const initializer of model.initializers) types.set(initializer.name, initializer.dataType);
  let bfloat16: boolean | undefined;
  const mentionsBfloat16 = (): boolean => bfloat16 ??= [...types.values()].includes(OnnxDataType.BFLOAT16) ||
    model.nodes.some((node) => node.attributes.some((attribute) =>
      (attribute.name === 'to' && Number(attribute.i ?? 0) === OnnxDataType.BFLOAT16) || attribute.t?.dataType === OnnxDataType.BFLOAT16));
  return (node) => {
    if (node.opType !== 'IsNaN' || node.domain !== '' || node.inputs.length !== 1 || node.outputs.length !== 1) return false;
    const type = types.get(node.inputs[0]);
    return type === OnnxDataType.FLOAT || type === OnnxDataType.FLOAT16 || (type === undefined && !mentionsBfloat16());
  };
}

const PREFIX = 'spacetime_probe/';

/**
 * Expose the last token of each tap as one output and prune everything the taps do not need (the LM head, the
 * final norm, KV-cache outputs): for each tap a GatherND(tap, last_index, batch_dims=1) → [B, D] and a Cast to
 * float32 (fp16/bf16 models), then one Concat on axis 1 → [B, taps·D] (row-major [B, taps, D]).
 */
export function rewriteForResidualTaps(model: OnnxModel, options: TapRewriteOptions): TapRewrite {
  const lastIndexInput = options.lastIndexInput ?? 'last_index';
  const outputName = options.outputName ?? 'resid_last';
  const opset = defaultOpsetVersion(model);
  if (opset < 12) {
    throw new ModelLoadError(`The model uses ONNX opset ${opset}; tapping needs opset 12 or newer (GatherND with batch_dims).`,
      ['Re-export the model with a newer opset (e.g. torch.onnx.export(..., opset_version=14)).']);
  }
  const existing = new Set<string>([
    ...model.nodes.flatMap((node) => [...node.outputs, node.name]),
    ...model.inputs.map((input) => input.name),
    ...model.initializers.map((initializer) => initializer.name),
  ]);
  for (const name of [lastIndexInput, outputName]) {
    if (existing.has(name)) throw new ModelLoadError(`The model already has a tensor named "${name}"; cannot add the tap input/output.`);
  }

  const synthesized = new Map((options.synthesized ?? []).map((tap) => [tap.name, tap.addends]));
  // Dead-code elimination from the taps, by producer lookup: it does not rely on the file's node order, which is
  // not always topological (onnxconverter's fp16 conversion appends the input Casts at the end).
  const producers = producerIndex(model);
  const needed = new Set<string>();
  const keepNode = new Array<boolean>(model.nodes.length).fill(false);
  const pending: string[] = [];
  const need = (name: string): void => {
    if (!name || needed.has(name)) return;
    needed.add(name);
    pending.push(name);
  };
  for (const tap of options.taps) for (const name of synthesized.get(tap) ?? [tap]) need(name);
  while (pending.length > 0) {
    const index = producers.get(pending.pop()!);
    if (index === undefined || keepNode[index]) continue;
    keepNode[index] = true;
    const node = model.nodes[index];
    for (const input of node.inputs) need(input);
    for (const input of node.outerScopeInputs) need(input);
  }

  const newNodes: NewNode[] = [];
  for (const [name, addends] of synthesized) {
    if (addends.length < 2) throw new ModelLoadError(`Cannot rebuild residual tensor ${name}: it needs at least two addends.`);
    let sum = addends[0];
    addends.slice(1).forEach((addend, index) => {
      const output = index === addends.length - 2 ? name : `${name}/partial_${index}`;
      newNodes.push({ opType: 'Add', name: `${name}/add_${index}`, inputs: [sum, addend], outputs: [output] });
      sum = output;
    });
  }
  // Each tap is brought to [batch, tokens, hidden] first: some exports add the residual in [batch·tokens, hidden]
  // (OPT's MLP), and a tap seen through a Reshape may have either form. For a [B, T, D] tap this is a no-op.
  const constants = { minusOne: `${PREFIX}const_minus_one`, zero: `${PREFIX}const_zero`, one: `${PREFIX}const_one`, last: `${PREFIX}const_last` };
  const batchDim = `${PREFIX}batch_dim`;
  newNodes.push({ opType: 'Shape', name: `${PREFIX}shape_last_index`, inputs: [lastIndexInput], outputs: [`${PREFIX}last_index_shape`] });
  newNodes.push({ opType: 'Slice', name: `${PREFIX}slice_batch`, inputs: [`${PREFIX}last_index_shape`, constants.zero, constants.one], outputs: [batchDim] });
  const castOutputs: string[] = [];
  options.taps.forEach((tap, layer) => {
    const shaped = `${PREFIX}tap_${layer}_bth`;
    const gathered = `${PREFIX}tap_${layer}`;
    const cast = `${PREFIX}tap_${layer}_f32`;
    newNodes.push({ opType: 'Shape', name: `${PREFIX}shape_${layer}`, inputs: [tap], outputs: [`${PREFIX}tap_${layer}_shape`] });
    newNodes.push({
      opType: 'Slice', name: `${PREFIX}slice_hidden_${layer}`, inputs: [`${PREFIX}tap_${layer}_shape`, constants.minusOne, constants.last],
      outputs: [`${PREFIX}tap_${layer}_hidden`],
    });
    newNodes.push({
      opType: 'Concat', name: `${PREFIX}target_${layer}`, inputs: [batchDim, constants.minusOne, `${PREFIX}tap_${layer}_hidden`],
      outputs: [`${PREFIX}tap_${layer}_target`], attributes: [{ name: 'axis', value: 0 }],
    });
    newNodes.push({ opType: 'Reshape', name: `${PREFIX}reshape_${layer}`, inputs: [tap, `${PREFIX}tap_${layer}_target`], outputs: [shaped] });
    newNodes.push({
      opType: 'GatherND', name: `${PREFIX}gather_${layer}`, inputs: [shaped, lastIndexInput], outputs: [gathered],
      attributes: [{ name: 'batch_dims', value: 1 }],
    });
    newNodes.push({
      opType: 'Cast', name: `${PREFIX}cast_${layer}`, inputs: [gathered], outputs: [cast],
      attributes: [{ name: 'to', value: OnnxDataType.FLOAT }],
    });
    castOutputs.push(cast);
  });
  newNodes.push({ opType: 'Concat', name: `${PREFIX}concat`, inputs: castOutputs, outputs: [outputName], attributes: [{ name: 'axis', value: 1 }] });

  const graphChunks: Uint8Array[] = [];
  const bytes = model.bytes;
  const copy = (field: ProtoField): void => { graphChunks.push(bytes.subarray(field.start, field.end)); };
  const relocate = options.externalDataLocations;
  let nodesWritten = false;
  let initializerIndex = 0;
  let inputIndex = 0;
  let valueInfoIndex = 0;
  const keptInputs: string[] = [];
  let keptInitializers = 0;
  const asComparison = isNaNAsComparison(model);
  let isNaNRewritten = 0;
  for (const field of model.graphFields) {
    if (field.wireType !== WIRE_LENGTH_DELIMITED) { copy(field); continue; }
    switch (field.field) {
      case GraphField.node:
        // All kept nodes, in topological order, where the first node was.
        if (!nodesWritten) {
          for (const index of topologicalOrder(model)) {
            if (!keepNode[index]) continue;
            const node = model.nodes[index];
            if (!asComparison(node)) { copy(node.field); continue; }
            const equal = `${PREFIX}isnan_${isNaNRewritten}_equal`;
            graphChunks.push(...wrapField(GraphField.node, [encodeNode({ opType: 'Equal', name: equal, inputs: [node.inputs[0], node.inputs[0]], outputs: [equal] })]));
            graphChunks.push(...wrapField(GraphField.node, [encodeNode({ opType: 'Not', name: `${PREFIX}isnan_${isNaNRewritten}_not`, inputs: [equal], outputs: [node.outputs[0]] })]));
            isNaNRewritten++;
          }
          nodesWritten = true;
        }
        break;
      case GraphField.initializer: {
        const initializer = model.initializers[initializerIndex++];
        if (!needed.has(initializer.name)) break;
        const location = initializer.externalLocation !== undefined ? relocate?.get(initializer.externalLocation) : undefined;
        if (location !== undefined) graphChunks.push(...relocatedInitializer(bytes, field, location));
        else copy(field);
        keptInitializers++;
        break;
      }
      case GraphField.input: {
        const name = model.inputs[inputIndex++].name;
        if (needed.has(name)) { copy(field); keptInputs.push(name); }
        break;
      }
      case GraphField.output:
        break;
      case GraphField.valueInfo:
        if (needed.has(model.valueInfos[valueInfoIndex++].name)) copy(field);
        break;
      default:
        copy(field);
    }
  }
  for (const node of newNodes) graphChunks.push(...wrapField(GraphField.node, [encodeNode(node)]));
  for (const [name, values] of [[constants.minusOne, [-1]], [constants.zero, [0]], [constants.one, [1]], [constants.last, [2 ** 53 - 1]]] as const) {
    graphChunks.push(...wrapField(GraphField.initializer, [encodeInt64Initializer(name, values)]));
  }
  graphChunks.push(...wrapField(GraphField.input, [encodeTensorValueInfo(lastIndexInput, OnnxDataType.INT64, ['batch_size', 1])]));
  const width = options.hiddenSize !== undefined ? options.hiddenSize * options.taps.length : 'resid_width';
  graphChunks.push(...wrapField(GraphField.output, [encodeTensorValueInfo(outputName, OnnxDataType.FLOAT, ['batch_size', width])]));

  return {
    bytes: concatChunks(spliceModel(model, graphChunks)),
    lastIndexInput,
    outputName,
    inputs: [...keptInputs, lastIndexInput],
    nodesBefore: model.nodes.length,
    nodesAfter: keepNode.filter(Boolean).length + newNodes.length + isNaNRewritten,
    initializersBefore: model.initializers.length,
    initializersAfter: keptInitializers,
    isNaNRewritten,
  };
}

/** An initializer entry with its external_data `location` replaced (every other field copied byte for byte). */
function relocatedInitializer(bytes: Uint8Array, field: ProtoField, location: string): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (const inner of scanFields(bytes, field.payloadStart, field.end)) {
    if (inner.field === TensorField.externalData && inner.wireType === WIRE_LENGTH_DELIMITED) {
      const entry = onnx.StringStringEntryProto.decode(bytes.subarray(inner.payloadStart, inner.end));
      if (entry.key === 'location') {
        const encoded = Writer.create().uint32((1 << 3) | WIRE_LENGTH_DELIMITED).string('location')
          .uint32((2 << 3) | WIRE_LENGTH_DELIMITED).string(location).finish();
        chunks.push(...wrapField(TensorField.externalData, [encoded]));
        continue;
      }
    }
    chunks.push(bytes.subarray(inner.start, inner.end));
  }
  return wrapField(GraphField.initializer, chunks);
}

export interface ExternalizedModel {
  /** The model with large initializers pointing at `location`. */
  readonly modelBytes: Uint8Array;
  /** Contents of the external data file, in order. */
  readonly dataChunks: readonly Uint8Array[];
  readonly externalized: number;
}

/**
 * Move the raw_data of initializers of at least `minBytes` into an external data file named `location`
 * (relative to the model file), as onnx's `save_model(..., save_as_external_data=True)` does: the TensorProto
 * loses raw_data and gains data_location=EXTERNAL plus external_data {location, offset, length}.
 */
export function externalizeInitializers(model: OnnxModel, location: string, minBytes = 1024): ExternalizedModel {
  const bytes = model.bytes;
  const dataChunks: Uint8Array[] = [];
  let offset = 0;
  let externalized = 0;
  const graphChunks: Uint8Array[] = [];
  for (const field of model.graphFields) {
    if (field.field !== GraphField.initializer || field.wireType !== WIRE_LENGTH_DELIMITED) {
      graphChunks.push(bytes.subarray(field.start, field.end));
      continue;
    }
    const inner = scanFields(bytes, field.payloadStart, field.end);
    const raw = inner.find((entry) => entry.field === TensorField.rawData && entry.wireType === WIRE_LENGTH_DELIMITED);
    if (!raw || raw.end - raw.payloadStart < minBytes) {
      graphChunks.push(bytes.subarray(field.start, field.end));
      continue;
    }
    const data = bytes.subarray(raw.payloadStart, raw.end);
    // Align each tensor to 64 bytes, as onnx does for memory-mapping.
    const padding = (64 - (offset % 64)) % 64;
    if (padding > 0) dataChunks.push(new Uint8Array(padding));
    offset += padding;
    const tensorChunks: Uint8Array[] = [];
    for (const entry of inner) {
      if (entry.field === TensorField.rawData || entry.field === TensorField.dataLocation) continue;
      tensorChunks.push(bytes.subarray(entry.start, entry.end));
    }
    for (const [key, value] of [['location', location], ['offset', String(offset)], ['length', String(data.byteLength)]]) {
      const entry = Writer.create().uint32((1 << 3) | WIRE_LENGTH_DELIMITED).string(key)
        .uint32((2 << 3) | WIRE_LENGTH_DELIMITED).string(value).finish();
      tensorChunks.push(...wrapField(TensorField.externalData, [entry]));
    }
    tensorChunks.push(Writer.create().uint32((TensorField.dataLocation << 3) | WIRE_VARINT).int32(DATA_LOCATION_EXTERNAL).finish());
    graphChunks.push(...wrapField(GraphField.initializer, tensorChunks));
    dataChunks.push(data);
    offset += data.byteLength;
    externalized++;
  }
  return { modelBytes: concatChunks(spliceModel(model, graphChunks)), dataChunks, externalized };
}

/** Field numbers of NodeProto and AttributeProto used to take a subgraph apart without decoding it. */
const NodeField = { input: 1, output: 2, name: 3, opType: 4, attribute: 5 } as const;
const AttributeField = { name: 1, g: 6 } as const;

export interface InlinedMergedDecoder {
  readonly bytes: Uint8Array;
  /** Name of the If node that was replaced by its no-past branch. */
  readonly ifNode: string;
  readonly branchNodes: number;
}

/**
 * A merged decoder (Optimum's `decoder_model_merged.onnx`: one `If` on the boolean input `use_cache_branch`, whose
 * then-branch runs with a KV cache and else-branch without) with the If replaced by its else-branch — the branch
 * onnxruntime runs when we feed `use_cache_branch = false` with an empty past. The branch's nodes, initializers and
 * value infos are copied byte for byte into the main graph, its outputs become Identity nodes named like the If's
 * outputs, so the blocks are in the main graph where they can be tapped. Returns undefined when the model has no
 * such If. Throws a ModelLoadError when a branch name clashes with a main-graph name.
 */
export function inlineMergedDecoder(model: OnnxModel, label: string): InlinedMergedDecoder | undefined {
  const conditionInputs = new Set(model.inputs.map((input) => input.name).filter((name) => /use_cache_branch/i.test(name)));
  const ifIndex = model.nodes.findIndex((node) => node.opType === 'If' && conditionInputs.has(node.inputs[0]));
  if (ifIndex < 0) return undefined;
  const ifNode = model.nodes[ifIndex];
  const bytes = model.bytes;
  let elseGraph: ProtoField | undefined;
  for (const field of scanFields(bytes, ifNode.field.payloadStart, ifNode.field.end)) {
    if (field.field !== NodeField.attribute || field.wireType !== WIRE_LENGTH_DELIMITED) continue;
    const inner = scanFields(bytes, field.payloadStart, field.end);
    const nameField = inner.find((entry) => entry.field === AttributeField.name);
    const name = nameField ? Buffer.from(bytes.subarray(nameField.payloadStart, nameField.end)).toString('utf8') : '';
    if (name === 'else_branch') elseGraph = inner.find((entry) => entry.field === AttributeField.g && entry.wireType === WIRE_LENGTH_DELIMITED);
  }
  if (!elseGraph) throw new ModelLoadError(`The merged decoder ${label} has an If on use_cache_branch without an else_branch.`);
  const branchFields = scanFields(bytes, elseGraph.payloadStart, elseGraph.end);
  const branch = onnx.GraphProto.decode(bytes.subarray(elseGraph.payloadStart, elseGraph.end));
  const branchOutputs = (branch.output ?? []).map((output) => output.name ?? '');
  if (branchOutputs.length !== ifNode.outputs.length) {
    throw new ModelLoadError(`The merged decoder ${label}: its no-past branch has ${branchOutputs.length} outputs, the If ${ifNode.outputs.length}.`);
  }
  // Names defined in the branch must not clash with the main graph's (ONNX forbids shadowing, but check).
  const mainNames = new Set<string>([
    ...model.nodes.filter((node) => node !== ifNode).flatMap((node) => node.outputs),
    ...model.inputs.map((input) => input.name), ...model.initializers.map((initializer) => initializer.name),
  ]);
  const branchDefined = [...(branch.node ?? []).flatMap((node) => node.output ?? []), ...(branch.initializer ?? []).map((tensor) => tensor.name ?? '')];
  const clash = branchDefined.find((name) => name && mainNames.has(name));
  if (clash) {
    throw new ModelLoadError(`Cannot inline the no-past branch of the merged decoder ${label}: its tensor "${clash}" clashes with the main graph.`,
      ['Use a single-graph export (model.onnx / decoder_model.onnx).']);
  }
  const graphChunks: Uint8Array[] = [];
  let nodeIndex = 0;
  for (const field of model.graphFields) {
    if (field.field === GraphField.node && field.wireType === WIRE_LENGTH_DELIMITED && nodeIndex++ === ifIndex) {
      for (const inner of branchFields) {
        if (inner.field === GraphField.node && inner.wireType === WIRE_LENGTH_DELIMITED) graphChunks.push(bytes.subarray(inner.start, inner.end));
      }
      branchOutputs.forEach((output, position) => {
        const target = ifNode.outputs[position];
        if (!target) return;
        graphChunks.push(...wrapField(GraphField.node, [encodeNode({
          opType: 'Identity', name: `spacetime_probe/inlined/${target}`, inputs: [output], outputs: [target],
        })]));
      });
      continue;
    }
    graphChunks.push(bytes.subarray(field.start, field.end));
  }
  for (const inner of branchFields) {
    const kept = inner.field === GraphField.initializer || inner.field === GraphField.sparseInitializer || inner.field === GraphField.valueInfo;
    if (kept && inner.wireType === WIRE_LENGTH_DELIMITED) graphChunks.push(bytes.subarray(inner.start, inner.end));
  }
  return { bytes: concatChunks(spliceModel(model, graphChunks)), ifNode: ifNode.name, branchNodes: (branch.node ?? []).length };
}

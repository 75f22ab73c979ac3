/**
 * @file `manifest.json` of an activation folder (format spacetime-probe-activations/1).
 *
 *   { "format": "spacetime-probe-activations/1", "model": …, "prompt": …, "dataset": …,
 *     "numEntities": n, "hiddenSize": d, "rows": [dataset line numbers],
 *     "layers": [{ "index": 0, "file": "layer_000.npy" }, …] }
 *
 * Each layer file is a .npy of shape [numEntities, hiddenSize] in the manifest's dtype (float32 when absent;
 * float16 '<f2'; bfloat16 as its raw bits '<u2'; docs/activations.md); row k belongs to dataset line rows[k].
 * Layer 0 is the embedding output, layer i the output of block i (the last one before the final norm).
 * Optional fields (added, never required by readers): fingerprint, architecture, device, dtype, skipped, token
 * (which token was read: "entity-last" or "prompt-last"; folders written before it existed read "prompt-last").
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../util/atomicWrite';
import { NpyFormatError, readNpy, readNpyBits16, readNpyFloat32 } from './npy';
import { HalfMatrix } from '../probes/halfMatrix';
import { readSafetensorsHeader } from '../model/checkpoint/safetensors';
import type { TokenChoice } from '../model/types';

export const ACTIVATIONS_FORMAT = 'spacetime-probe-activations/1';
export const ACTIVATION_DTYPES = ['float32', 'float16', 'bfloat16'] as const;
export type ActivationDtype = (typeof ACTIVATION_DTYPES)[number];
/** The .npy descriptor of each dtype's layer files. */
export const NPY_DESCR_OF: Readonly<Record<ActivationDtype, string>> = { float32: '<f4', float16: '<f2', bfloat16: '<u2' };

/** Provenance of a folder written elsewhere (free-form beyond these fields). */
export interface ActivationProducer {
  readonly tool?: string;
  readonly engine?: string;
  readonly remote?: boolean;
  readonly versions?: Readonly<Record<string, string>>;
  readonly [key: string]: unknown;
}
export const MANIFEST_FILE = 'manifest.json';

export interface ActivationLayerEntry {
  readonly index: number;
  readonly file: string;
}

export interface SkippedPrompt {
  /** Dataset line number. */
  readonly row: number;
  readonly text: string;
  readonly reason: string;
}

export interface ActivationManifest {
  readonly format: typeof ACTIVATIONS_FORMAT;
  /** Model spec as given (folder, .onnx file, builtin:…, hf:…). */
  readonly model: string;
  /** Prompt template, e.g. "{entity}". */
  readonly prompt: string;
  /** Which token was read; absent in folders written before the choice existed, which read the prompt's last. */
  readonly token?: TokenChoice;
  /** Dataset path or builtin:… name. */
  readonly dataset: string;
  readonly numEntities: number;
  readonly hiddenSize: number;
  /** Dataset line number of each row, in file order. */
  readonly rows: readonly number[];
  readonly layers: readonly ActivationLayerEntry[];
  readonly fingerprint?: string;
  readonly architecture?: string;
  /** Execution provider that ran the model. */
  readonly device?: string;
  /** Dtype of the layer files (absent: float32). bfloat16 files are '<u2' .npy holding the raw bits. */
  readonly dtype?: ActivationDtype;
  /** Who wrote the folder when it was not `extract` (e.g. the script of `spacetime-probe script`). */
  readonly producer?: ActivationProducer;
  /** Rows left out because the tokenizer produced no usable token. */
  readonly skipped?: readonly SkippedPrompt[];
  /** promptsIdentity of the extracted rows (line numbers and prompt texts): `probe` checks a dataset against it. */
  readonly promptsSha256?: string;
}

/** SHA-256 over (dataset line, prompt text) of every row, in order: which rows the activations belong to. */
export function promptsIdentity(prompts: readonly { readonly row: number; readonly text: string }[]): string {
  const hash = crypto.createHash('sha256');
  hash.update('spacetime-probe-prompts/1\0');
  // The rows go in a thousand at a time (the digest of the bytes is the same however they are split): one update
  // per row cost ~1 µs each, 10 ms of every probe's start at 10,000 rows.
  for (let first = 0; first < prompts.length; first += PROMPTS_PER_UPDATE) {
    let text = '';
    for (const prompt of prompts.slice(first, first + PROMPTS_PER_UPDATE)) text += `${prompt.row}\0${prompt.text}\0`;
    hash.update(text);
  }
  return hash.digest('hex');
}

const PROMPTS_PER_UPDATE = 1000;

/** `layer_000.npy`, `layer_001.npy`, … (wider numbers beyond 999 layers). */
export function layerFileName(index: number): string {
  return `layer_${String(index).padStart(3, '0')}.npy`;
}

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  constructor(readonly file: string, readonly field: string, detail: string) {
    super(`${file}: field "${field}": ${detail}`);
  }
}

/** Read and validate `<dir>/manifest.json`; every problem names the file and field. */
export function readActivationManifest(dir: string): ActivationManifest {
  const file = path.join(dir, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ManifestError(file, '(file)', (error as Error).message);
  }
  const record = (raw ?? {}) as Record<string, unknown>;
  const need = (field: string, ok: boolean, what: string): void => {
    if (!ok) throw new ManifestError(file, field, `expected ${what}, got ${JSON.stringify(record[field])?.slice(0, 80)}`);
  };
  need('format', record.format === ACTIVATIONS_FORMAT, JSON.stringify(ACTIVATIONS_FORMAT));
  for (const field of ['model', 'prompt', 'dataset']) need(field, typeof record[field] === 'string', 'a string');
  need('numEntities', Number.isInteger(record.numEntities) && (record.numEntities as number) >= 0, 'a non-negative integer');
  need('hiddenSize', Number.isInteger(record.hiddenSize) && (record.hiddenSize as number) > 0, 'a positive integer');
  need('rows', Array.isArray(record.rows) && record.rows.length === record.numEntities &&
    record.rows.every((row) => Number.isInteger(row)), `an array of ${String(record.numEntities)} line numbers`);
  const rows = record.rows as number[];
  const seen = new Set<number>();
  const repeated = rows.find((row) => seen.size === seen.add(row).size);
  if (repeated !== undefined) throw new ManifestError(file, 'rows', `dataset line ${repeated} appears more than once; each row must be listed once (the folder was edited or damaged; extract again)`);
  need('promptsSha256', record.promptsSha256 === undefined || (typeof record.promptsSha256 === 'string' && /^[0-9a-f]{64}$/.test(record.promptsSha256)), 'a SHA-256 hex string');
  need('layers', Array.isArray(record.layers) && record.layers.length > 0 && record.layers.every((entry, index) => {
    const layer = entry as Record<string, unknown>;
    return layer.index === index && typeof layer.file === 'string' && !layer.file.includes('/') && !layer.file.includes('\\');
  }), 'a non-empty array of {index: 0,1,…, file: "<name>.npy" or "<name>.safetensors"}');
  need('dtype', record.dtype === undefined || ACTIVATION_DTYPES.includes(record.dtype as ActivationDtype), `one of ${ACTIVATION_DTYPES.join(', ')}`);
  need('producer', record.producer === undefined || (typeof record.producer === 'object' && record.producer !== null && !Array.isArray(record.producer)), 'an object');
  need('token', record.token === undefined || record.token === 'entity-last' || record.token === 'prompt-last', '"entity-last" or "prompt-last"');
  return record as unknown as ActivationManifest;
}

/** The dtype of a folder's layer files. */
export function manifestDtype(manifest: Pick<ActivationManifest, 'dtype'>): ActivationDtype {
  return manifest.dtype ?? 'float32';
}

/**
 * Read one layer as [numEntities, hiddenSize] float32, checking its shape against the manifest. 16-bit folders
 * are widened here (the whole layer: for small layers and the experiments); the probe reads them with
 * readActivationLayerValues instead.
 */
export function readActivationLayer(dir: string, manifest: ActivationManifest, index: number): Float32Array {
  const values = readActivationLayerValues(dir, manifest, index);
  return values instanceof HalfMatrix ? values.widen() : values;
}

/**
 * Read one layer as stored: float32 values, or for float16/bfloat16 folders a HalfMatrix of the raw bits (half the
 * memory; the probe widens row chunks as it goes). `shared` asks for float32 .npy values over a SharedArrayBuffer
 * (the probe's fit workers then gather their rows from it themselves); other layers come as usual.
 */
export function readActivationLayerValues(dir: string, manifest: ActivationManifest, index: number, options: { readonly shared?: boolean } = {}): Float32Array | HalfMatrix {
  const entry = manifest.layers[index];
  if (!entry) throw new ManifestError(path.join(dir, MANIFEST_FILE), 'layers', `no layer ${index}`);
  const file = path.join(dir, entry.file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ManifestError(file, `layers[${index}]`, code === 'ENOENT' ? 'the layer file is missing: the folder is incomplete; extract again'
      : `cannot read the layer file (${code ?? (error as Error).message})`);
  }
  if (!stat.isFile()) throw new ManifestError(file, `layers[${index}]`, 'the layer file is not a regular file (a device, FIFO, socket or folder)');
  if (entry.file.endsWith('.safetensors')) return readSafetensorsLayer(file, manifest);
  // Data plus a header of at most 64 KiB (format 1.0) or 4 GiB (2.0; we only ever write 1.0's size).
  const dtype = manifestDtype(manifest);
  const dataBytes = manifest.numEntities * manifest.hiddenSize * (dtype === 'float32' ? 4 : 2);
  if (stat.size < dataBytes + 10 || stat.size > dataBytes + 65536 + 12) {
    throw new ManifestError(file, 'shape', `the layer file has ${stat.size} bytes; ${dtype} [${manifest.numEntities}, ${manifest.hiddenSize}] needs ${dataBytes} plus a header (truncated or another file?)`);
  }
  if (dtype !== 'float32') {
    const array = readNpyBits16(file);
    if (array.descr !== NPY_DESCR_OF[dtype] || array.shape.length !== 2 || array.shape[0] !== manifest.numEntities || array.shape[1] !== manifest.hiddenSize) {
      throw new ManifestError(file, 'shape', `expected ${dtype} ('${NPY_DESCR_OF[dtype]}') [${manifest.numEntities}, ${manifest.hiddenSize}], ` +
        `got '${array.descr}' [${array.shape.join(', ')}]`);
    }
    return new HalfMatrix(dtype, array.bits);
  }
  // The common case read straight into its Float32Array; anything else (another dtype, a broken header) goes
  // through readNpy for the error message the checks below give.
  let direct: { readonly shape: readonly number[]; readonly data: Float32Array } | undefined;
  try {
    direct = readNpyFloat32(file, options.shared === true);
  } catch (error) {
    if (!(error instanceof NpyFormatError)) throw error;
  }
  if (direct !== undefined && direct.shape.length === 2 && direct.shape[0] === manifest.numEntities && direct.shape[1] === manifest.hiddenSize) return direct.data;
  const array = readNpy(file);
  if (array.shape.length !== 2 || array.shape[0] !== manifest.numEntities || array.shape[1] !== manifest.hiddenSize || !(array.data instanceof Float32Array)) {
    throw new ManifestError(file, 'shape', `expected float32 [${manifest.numEntities}, ${manifest.hiddenSize}], ` +
      `got ${array.dtype} [${array.shape.join(', ')}]`);
  }
  return array.data;
}

/** Write `<dir>/manifest.json` via a temporary file and rename. */
export function writeActivationManifest(dir: string, manifest: ActivationManifest): void {
  const file = path.join(dir, MANIFEST_FILE);
  // One top-level field per line, each value compact: readable, and 40,000 rows stay one line.
  const lines = Object.entries(manifest).filter(([, value]) => value !== undefined)
    .map(([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`);
  writeFileAtomicSync(file, `{\n${lines.join(',\n')}\n}\n`);
}

/** Which token a folder's activations were read at (folders from before the choice read the prompt's last). */
export function manifestToken(manifest: Pick<ActivationManifest, 'token'>): TokenChoice {
  return manifest.token ?? 'prompt-last';
}

const SAFETENSORS_DTYPE: Readonly<Record<string, ActivationDtype>> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

/**
 * A layer stored as a safetensors file holding one [numEntities, hiddenSize] tensor (F32, F16 or BF16, matching the
 * manifest's dtype), read without widening like the .npy files.
 */
function readSafetensorsLayer(file: string, manifest: ActivationManifest): Float32Array | HalfMatrix {
  let header: ReturnType<typeof readSafetensorsHeader>;
  try {
    header = readSafetensorsHeader(file);
  } catch (error) {
    throw new ManifestError(file, 'layers', (error as Error).message);
  }
  if (header.tensors.length !== 1) throw new ManifestError(file, 'shape', `a layer file must hold exactly one tensor, this one has ${header.tensors.length}`);
  const tensor = header.tensors[0];
  const dtype = manifestDtype(manifest);
  if (SAFETENSORS_DTYPE[tensor.dtype] !== dtype || tensor.shape.length !== 2 || tensor.shape[0] !== manifest.numEntities || tensor.shape[1] !== manifest.hiddenSize) {
    throw new ManifestError(file, 'shape', `expected ${dtype} [${manifest.numEntities}, ${manifest.hiddenSize}] (manifest dtype and shape), ` +
      `got ${tensor.dtype} [${tensor.shape.join(', ')}]`);
  }
  const count = manifest.numEntities * manifest.hiddenSize;
  const data = dtype === 'float32' ? new Float32Array(count) : new Uint16Array(count);
  if (tensor.length !== data.byteLength) throw new ManifestError(file, 'shape', `the tensor has ${tensor.length} data bytes, expected ${data.byteLength}`);
  const target = new Uint8Array(data.buffer);
  const fd = fs.openSync(file, 'r');
  try {
    for (let done = 0; done < target.length;) {
      const read = fs.readSync(fd, target, done, Math.min(target.length - done, 1 << 30), tensor.offset + done);
      if (read === 0) throw new ManifestError(file, 'shape', 'the file ended early (truncated?)');
      done += read;
    }
  } finally {
    fs.closeSync(fd);
  }
  return data instanceof Float32Array ? data : new HalfMatrix(dtype as 'float16' | 'bfloat16', data);
}

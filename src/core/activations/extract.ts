/**
 * @file Extract the residual stream at every layer, read at each prompt's entity-last (default) or last token, for a list of prompts and stream it to disk:
 * one float32 `.npy` per layer ([numEntities, hiddenSize], rows in dataset order) plus manifest.json.
 *
 * Memory stays bounded whatever the model and dataset size: prompts are processed in windows of consecutive
 * dataset rows sized to a memory budget; inside a window they are sorted by token count (less padding) and run in
 * batches; the window's rows are then written to each layer file at their final position while the next window
 * runs (the writes go to libuv's thread pool, the model runs on this thread). A 70B model (81 layers × 8,192 dims
 * = 2.6 MB per entity in float32) with the default 256 MiB budget holds about 48 entities per window.
 *
 * Everything is written into a temporary sibling folder that is renamed to `outDir` at the end, manifest.json
 * last: a failure or a cancel (AbortSignal) removes the temporary folder and leaves `outDir` as it was.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_TOKEN_CHOICE, type EntitySpan, type PromptInput, type ResidualModel, type TokenChoice, type TokenizedPrompt } from '../model/types';
import { ACTIVATIONS_FORMAT, layerFileName, promptsIdentity, writeActivationManifest, type ActivationManifest, type SkippedPrompt } from './manifest';
import { NpyRowWriter } from './npyRowWriter';
import { chooseBatchSizing, DEFAULT_GPU_MEMORY_BUDGET_BYTES, defaultCpuBatchMemoryBudget, estimateBatchBytes, type BatchSizing } from '../runtime/batchSizing';
import { FolderRaceError, notOurActivationFolder, partialName, removeStalePartials, replaceFolder, trackPartial } from './outputFolders';

/** One prompt: the text fed to the model (template applied) and the dataset line it comes from. */
export interface ExtractionPrompt {
  readonly text: string;
  readonly row: number;
  /** Where the entity sits in `text` (renderEntityPrompt); absent: the whole text is the entity. */
  readonly entity?: EntitySpan;
}

export interface ExtractionProgress {
  /** Prompts whose activations are computed or found in the cache. */
  readonly done: number;
  /** Usable prompts in total. */
  readonly total: number;
  /** Real (unpadded) tokens per second of model time so far; 0 before the first batch. */
  readonly tokensPerSecond: number;
}

/**
 * The seam where an activation cache decides which prompts still need the model. Vectors are float32
 * [numLayers × hiddenSize], row-major by layer (what ResidualModel.runBatch returns per prompt). The cache is
 * expected to be scoped to one model fingerprint and prompt template by whoever builds it.
 */
export interface ActivationCache {
  /** For each text, its cached vector or undefined. */
  lookup(texts: readonly string[]): Promise<readonly (Float32Array | undefined)[]> | readonly (Float32Array | undefined)[];
  /** Remember freshly computed vectors (copies: the caller reuses its buffers). */
  store(texts: readonly string[], vectors: readonly Float32Array[]): Promise<void> | void;
  /**
   * Optional: which texts have a record, without reading it. Only usable prompts are ever stored, so a text the
   * cache has needs no tokenizing up front (re-runs after editing one row then tokenize one prompt).
   */
  has?(texts: readonly string[]): readonly boolean[];
}

export interface ExtractOptions {
  readonly outDir: string;
  /** Manifest fields: model spec, prompt template and dataset path as the user gave them. */
  readonly model: string;
  readonly prompt: string;
  readonly dataset: string;
  /**
   * Which token is read (default entity-last): the entity's last token (ExtractionPrompt.entity; the whole text
   * when absent) or the prompt's last token. Recorded in the manifest; the cache must be scoped to it too.
   */
  readonly token?: TokenChoice;
  /**
   * Prompts per model run. Default: chosen for the device the model runs on (src/core/runtime/batchSizing.ts):
   * 32 on CPU; on a GPU as many as the memory budget allows (up to 1,024).
   */
  readonly batchSize?: number;
  /** Upper bound on batch × padded length. Default: 4,096 on CPU; from the memory budget on a GPU. */
  readonly maxBatchTokens?: number;
  /** GPU devices: memory the intermediate tensors of one batch may take (default 2 GiB). */
  readonly gpuMemoryBudgetBytes?: number;
  /**
   * Memory one batch's intermediate tensors may take, by estimate (batchSizing.ts estimateBatchBytes: quadratic in
   * the prompt length). A batch over it is split; a single prompt over it is refused, naming its row. Default: on
   * a GPU `gpuMemoryBudgetBytes`; on the CPU half the memory free at the start.
   */
  readonly batchMemoryBudgetBytes?: number;
  /** Bytes of activations held in memory at once, across the two windows in flight (default 256 MiB). */
  readonly memoryBudgetBytes?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ExtractionProgress) => void;
  readonly cache?: ActivationCache;
  /**
   * Replace an existing `outDir` (only when it is empty or holds a previous activation folder with a
   * manifest.json). Default true; anything else in the way is never deleted.
   */
  readonly overwrite?: boolean;
  /** Called just before the finished folder is moved into place; throw to discard it (e.g. the parent process died). */
  readonly beforeCommit?: () => void;
}

export interface ExtractionResult {
  readonly outDir: string;
  readonly manifest: ActivationManifest;
  readonly skipped: readonly SkippedPrompt[];
  /** Real tokens run through the model (cache hits excluded). */
  readonly tokens: number;
  /** Tokens including padding. */
  readonly paddedTokens: number;
  readonly modelSeconds: number;
  readonly totalSeconds: number;
  readonly tokensPerSecond: number;
  readonly cacheHits: number;
  readonly batches: number;
  /** The batch size and token cap used, and why. */
  readonly batching: BatchSizing;
}

/** Bad input to the extraction (no usable prompt, an output folder in the way): the CLI exits with code 2. */
export class ExtractionError extends Error {
  override readonly name = 'ExtractionError';
  constructor(message: string, readonly details: readonly string[] = []) {
    super(details.length > 0 ? `${message}\n  ${details.join('\n  ')}` : message);
  }
}

/** Substitute the entity into a prompt template; `{entity}` may appear several times. */
export function renderPrompt(template: string, entity: string): string {
  return renderEntityPrompt(template, entity).text;
}

/**
 * Substitute the entity and say where it landed: the span of its last occurrence (the one read under
 * entity-last; the model has seen every earlier one by then).
 */
export function renderEntityPrompt(template: string, entity: string): { text: string; entity: EntitySpan } {
  if (!template.includes('{entity}')) throw new ExtractionError(`Prompt template ${JSON.stringify(template)} has no {entity} placeholder.`);
  const rendered = substituteWithSpan(template, { '{entity}': entity });
  return { text: rendered.text, entity: rendered.span! };
}

/**
 * Replace every placeholder (a key of `values`) in `template`, left to right, and return the span of the last
 * replacement (undefined when there was none, or it was empty).
 */
export function substituteWithSpan(template: string, values: Readonly<Record<string, string>>): { text: string; span?: EntitySpan } {
  const keys = Object.keys(values);
  let text = '';
  let span: EntitySpan | undefined;
  for (let at = 0; at < template.length;) {
    let next = -1;
    let key = '';
    for (const candidate of keys) {
      const found = template.indexOf(candidate, at);
      if (found !== -1 && (next === -1 || found < next)) { next = found; key = candidate; }
    }
    if (next === -1) { text += template.slice(at); break; }
    text += template.slice(at, next);
    const value = values[key];
    if (value.length > 0) span = { start: text.length, end: text.length + value.length };
    text += value;
    at = next + key.length;
  }
  return { text, span };
}

/** What the model's tokenizer is given for one prompt under a token choice. */
export function promptInput(prompt: Pick<ExtractionPrompt, 'text' | 'entity'>, token: TokenChoice): PromptInput {
  if (token === 'prompt-last') return { text: prompt.text };
  return { text: prompt.text, entity: prompt.entity ?? { start: 0, end: prompt.text.length } };
}

/** What to do with an existing output folder; throws when it is something we must not delete. */
function checkOutDir(outDir: string, overwrite: boolean): 'absent' | 'replace' {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(outDir);
  } catch {
    return 'absent';
  }
  if (!stat.isDirectory()) throw new ExtractionError(`--out ${outDir} exists and is not a folder.`, ['Choose a new or empty folder.']);
  const why = notOurActivationFolder(outDir);
  if (why !== undefined) {
    throw new ExtractionError(`--out ${outDir} is not an activation folder of ours: ${why}; refusing to replace it.`,
      ['Nothing was changed. Choose a new or empty folder, or remove it yourself.']);
  }
  if (!overwrite && fs.readdirSync(outDir).length > 0) throw new ExtractionError(`--out ${outDir} already holds activations.`, ['Remove it or choose another folder.']);
  return 'replace';
}

/**
 * Why the model cannot run these tokens (longer than its positions, an id beyond its embedding), or undefined.
 * Such a prompt would fail inside the graph (an index error) or allocate without bound, so it is skipped and listed.
 */
function modelLimitProblem(model: ResidualModel, tokens: TokenizedPrompt): string | undefined {
  if (model.maxPositions !== undefined && tokens.ids.length > model.maxPositions) {
    return `${tokens.ids.length} tokens; ${model.id} takes at most ${model.maxPositions} positions (max_position_embeddings): shorten the name or the template`;
  }
  if (model.vocabSize !== undefined) {
    const beyond = tokens.ids.find((id) => id < 0 || id >= model.vocabSize!);
    if (beyond !== undefined) return `token id ${beyond} is outside the model's embedding of ${model.vocabSize} rows (the tokenizer does not match the model)`;
  }
  return undefined;
}

interface Window {
  /** Positions (in the valid-prompt list) [start, end). */
  readonly start: number;
  readonly end: number;
}

/**
 * Run the model over `prompts` and write `outDir/layer_###.npy` + `outDir/manifest.json`.
 * Prompts the tokenizer cannot use are skipped and listed in the result and the manifest.
 */
export async function extractActivations(model: ResidualModel, prompts: readonly ExtractionPrompt[], options: ExtractOptions): Promise<ExtractionResult> {
  const started = performance.now();
  for (const [name, value] of [['batch size', options.batchSize], ['max batch tokens', options.maxBatchTokens]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new ExtractionError(`${name} must be a positive integer, got ${value}`);
  }
  const batching = chooseBatchSizing({
    device: model.device.used, numLayers: model.numLayers, hiddenSize: model.hiddenSize,
    batchSize: options.batchSize, maxBatchTokens: options.maxBatchTokens, gpuMemoryBudgetBytes: options.gpuMemoryBudgetBytes,
  });
  const { batchSize, maxBatchTokens } = batching;
  const signal = options.signal;
  signal?.throwIfAborted();
  const outDir = path.resolve(options.outDir);
  const outState = checkOutDir(outDir, options.overwrite ?? true);
  removeStalePartials(outDir);

  // Tokenize what the cache does not hold; a cached prompt is tokenized later only if its record turns out damaged.
  const token = options.token ?? DEFAULT_TOKEN_CHOICE;
  const texts = prompts.map((prompt) => prompt.text);
  const inputs = prompts.map((prompt) => promptInput(prompt, token));
  const cached = options.cache?.has?.(texts) ?? [];
  const tokenizedList: (TokenizedPrompt | undefined)[] = new Array(prompts.length).fill(undefined);
  const toTokenize = prompts.map((_, index) => index).filter((index) => !cached[index]);
  model.tokenize(toTokenize.map((index) => inputs[index])).forEach((tokens, position) => { tokenizedList[toTokenize[position]] = tokens; });
  const valid: number[] = [];
  const skipped: SkippedPrompt[] = [];
  tokenizedList.forEach((tokens, index) => {
    const limit = tokens === undefined ? undefined : modelLimitProblem(model, tokens);
    if (tokens === undefined || (tokens.usable && tokens.ids.length > 0 && limit === undefined)) valid.push(index);
    else skipped.push({ row: prompts[index].row, text: prompts[index].text, reason: limit ?? tokens.reason ?? 'no usable token' });
  });
  /** The tokens of prompt `index`, tokenizing on demand (a cached record found damaged). */
  const tokensOf = (index: number): TokenizedPrompt => {
    let tokens = tokenizedList[index];
    if (tokens === undefined) {
      tokens = model.tokenize([inputs[index]])[0];
      tokenizedList[index] = tokens;
      if (!tokens.usable || tokens.ids.length === 0) {
        throw new Error(`activation cache held a record for ${JSON.stringify(texts[index])}, which the tokenizer cannot use; clear the cache (spacetime-probe cache clear)`);
      }
    }
    return tokens;
  };
  if (valid.length === 0) {
    throw new ExtractionError(`No usable prompt among ${prompts.length}: the tokenizer produced no token for any of them.`,
      skipped.slice(0, 5).map((skip) => `line ${skip.row}: ${JSON.stringify(skip.text)}: ${skip.reason}`));
  }

  // Each prompt alone must fit the batch memory budget; a batch is cut below to fit it (longest prompts first).
  const batchBudget = options.batchMemoryBudgetBytes
    ?? (model.device.used === 'cpu' ? defaultCpuBatchMemoryBudget(os.freemem()) : options.gpuMemoryBudgetBytes ?? DEFAULT_GPU_MEMORY_BUDGET_BYTES);
  const batchBytes = (batch: number, seqLength: number): number => estimateBatchBytes({
    batch, seqLength, numLayers: model.numLayers, hiddenSize: model.hiddenSize, ...(model.numAttentionHeads !== undefined ? { numAttentionHeads: model.numAttentionHeads } : {}),
  });
  const tooLarge = valid.filter((index) => tokenizedList[index] !== undefined && batchBytes(1, tokenizedList[index]!.ids.length) > batchBudget);
  if (tooLarge.length > 0) {
    const gib = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
    throw new ExtractionError(`${tooLarge.length} prompt${tooLarge.length === 1 ? '' : 's'} cannot run within the batch memory budget of ${gib(batchBudget)} ` +
      '(attention scores grow with the square of the prompt length); nothing was run.',
    tooLarge.slice(0, 5).map((index) => `line ${prompts[index].row}: ${tokenizedList[index]!.ids.length} tokens need an estimated ` +
      `${gib(batchBytes(1, tokenizedList[index]!.ids.length))} for one run: shorten the prompt or the template, or free memory`));
  }

  const numEntities = valid.length;
  const { numLayers, hiddenSize } = model;
  const rowBytes = numLayers * hiddenSize * 4;
  const budget = options.memoryBudgetBytes ?? 256 * 1024 * 1024;
  // Two windows are in memory at once (one computing, one being written).
  const windowRows = Math.max(batchSize, Math.floor(budget / 2 / rowBytes));
  const windows: Window[] = [];
  for (let start = 0; start < numEntities; start += windowRows) windows.push({ start, end: Math.min(numEntities, start + windowRows) });

  fs.mkdirSync(path.dirname(outDir), { recursive: true });
  const partial = partialName(outDir, crypto.randomBytes(4).toString('hex'));
  fs.mkdirSync(partial);
  const untrack = trackPartial(partial);
  const writers: NpyRowWriter[] = [];
  // Writes in flight per window buffer (two buffers alternate).
  const bufferWrites: Promise<unknown>[] = [Promise.resolve(), Promise.resolve()];
  let tokens = 0;
  let paddedTokens = 0;
  let modelMilliseconds = 0;
  let cacheHits = 0;
  let batches = 0;
  /** Batches made smaller than batchSize/maxBatchTokens allowed, to fit the batch memory budget. */
  let memorySplits = 0;
  let done = 0;
  try {
    for (let layer = 0; layer < numLayers; layer++) {
      writers.push(await NpyRowWriter.create(path.join(partial, layerFileName(layer)), numEntities, hiddenSize));
    }
    const report = (): void => {
      options.onProgress?.({ done, total: numEntities, tokensPerSecond: modelMilliseconds > 0 ? tokens / (modelMilliseconds / 1000) : 0 });
    };
    report();
    const buffers = [new Float32Array(Math.min(windowRows, numEntities) * numLayers * hiddenSize), new Float32Array(0)];
    if (windows.length > 1) buffers[1] = new Float32Array(windowRows * numLayers * hiddenSize);
    for (let w = 0; w < windows.length; w++) {
      const { start, end } = windows[w];
      const count = end - start;
      // The buffer of window w-2 is reused: its writes must be finished (window w-1's may still run).
      await bufferWrites[w % 2];
      // Layout [layer, row, hidden]: each layer's rows are contiguous, ready for one positional write.
      const buffer = buffers[w % 2].subarray(0, count * numLayers * hiddenSize);
      const place = (position: number, vector: Float32Array, offset: number): void => {
        for (let layer = 0; layer < numLayers; layer++) {
          buffer.set(vector.subarray(offset + layer * hiddenSize, offset + (layer + 1) * hiddenSize), (layer * count + position) * hiddenSize);
        }
      };

      let misses = Array.from({ length: count }, (_, position) => position);
      if (options.cache) {
        const texts = misses.map((position) => prompts[valid[start + position]].text);
        const found = await options.cache.lookup(texts);
        misses = misses.filter((position) => {
          const vector = found[position];
          if (vector === undefined) return true;
          if (vector.length !== numLayers * hiddenSize) {
            throw new Error(`activation cache returned ${vector.length} values for ${JSON.stringify(texts[position])}, expected ${numLayers * hiddenSize}`);
          }
          place(position, vector, 0);
          return false;
        });
        cacheHits += count - misses.length;
        done += count - misses.length;
        if (count > misses.length) report();
      }

      // Longest first: similar lengths share a batch, and an out-of-memory batch shows up at once.
      misses.sort((a, b) => tokensOf(valid[start + b]).ids.length - tokensOf(valid[start + a]).ids.length || a - b);
      for (let first = 0; first < misses.length;) {
        signal?.throwIfAborted();
        const longest = tokensOf(valid[start + misses[first]]).ids.length;
        let size = Math.min(batchSize, misses.length - first);
        size = Math.max(1, Math.min(size, Math.floor(maxBatchTokens / longest)));
        // Within the batch memory budget too (the estimate is linear in the batch; one prompt was checked above).
        if (size > 1 && batchBytes(size, longest) > batchBudget) {
          size = Math.max(1, Math.floor(batchBudget / batchBytes(1, longest)));
          memorySplits += 1;
        }
        const batch = misses.slice(first, first + size);
        const batchPrompts: TokenizedPrompt[] = batch.map((position) => tokensOf(valid[start + position]));
        const runStarted = performance.now();
        const output = await model.runBatch(batchPrompts);
        modelMilliseconds += performance.now() - runStarted;
        batches++;
        const stride = numLayers * hiddenSize;
        if (output.length !== batch.length * stride) {
          throw new Error(`${model.id}: runBatch returned ${output.length} values for ${batch.length} prompts × ${numLayers} layers × ${hiddenSize}`);
        }
        const fresh: Float32Array[] = [];
        batch.forEach((position, k) => {
          place(position, output, k * stride);
          if (options.cache) fresh.push(output.slice(k * stride, (k + 1) * stride));
        });
        // Committed batch by batch: a run killed later keeps what it computed (the cache is append-only).
        if (options.cache && fresh.length > 0) await options.cache.store(batch.map((position) => prompts[valid[start + position]].text), fresh);
        for (const prompt of batchPrompts) tokens += prompt.ids.length;
        paddedTokens += longest * batch.length;
        done += batch.length;
        first += size;
        report();
      }
      signal?.throwIfAborted();
      const writes = Promise.all(writers.map((writer, layer) =>
        writer.writeRows(start, buffer.subarray(layer * count * hiddenSize, (layer + 1) * count * hiddenSize))));
      // A write error is reported when this buffer is next awaited; avoid an unhandled rejection meanwhile.
      writes.catch(() => undefined);
      bufferWrites[w % 2] = writes;
    }
    await Promise.all(bufferWrites);
    for (const writer of writers.splice(0)) await writer.close();
    signal?.throwIfAborted();

    const manifest: ActivationManifest = {
      format: ACTIVATIONS_FORMAT,
      model: options.model,
      prompt: options.prompt,
      token,
      dataset: options.dataset,
      numEntities,
      hiddenSize,
      rows: valid.map((index) => prompts[index].row),
      layers: Array.from({ length: numLayers }, (_, index) => ({ index, file: layerFileName(index) })),
      fingerprint: model.fingerprint,
      architecture: model.architecture,
      device: model.device.used,
      dtype: 'float32',
      skipped,
      promptsSha256: promptsIdentity(valid.map((index) => prompts[index])),
    };
    writeActivationManifest(partial, manifest);
    options.beforeCommit?.();
    moveIntoPlace(partial, outDir, outState);
    untrack();
    const totalSeconds = (performance.now() - started) / 1000;
    return {
      outDir, manifest, skipped, tokens, paddedTokens, modelSeconds: modelMilliseconds / 1000, totalSeconds,
      tokensPerSecond: modelMilliseconds > 0 ? tokens / (modelMilliseconds / 1000) : 0, cacheHits, batches,
      batching: memorySplits === 0 ? batching : { ...batching, reason: `${batching.reason}; ${memorySplits} batch${memorySplits === 1 ? '' : 'es'} cut to fit the ${(batchBudget / 1024 ** 2).toFixed(0)} MiB batch memory budget` },
    };
  } catch (error) {
    await Promise.allSettled(bufferWrites);
    for (const writer of writers) await writer.close().catch(() => undefined);
    fs.rmSync(partial, { recursive: true, force: true });
    untrack();
    // A write error on a file descriptor names no path: name the output folder, so the message can.
    const errno = error as NodeJS.ErrnoException;
    if (typeof errno?.code === 'string' && typeof errno.syscall === 'string' && errno.path === undefined) errno.path = outDir;
    throw error;
  }
}

/** Rename the finished folder to outDir (see replaceFolder); a folder created meanwhile is an ExtractionError. */
function moveIntoPlace(partial: string, outDir: string, state: 'absent' | 'replace'): void {
  try {
    replaceFolder(partial, outDir, state === 'replace');
  } catch (error) {
    if (error instanceof FolderRaceError) throw new ExtractionError(`--out ${error.message}`);
    throw error;
  }
}

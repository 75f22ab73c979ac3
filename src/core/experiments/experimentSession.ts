/**
 * @file What every robustness experiment needs before it fits anything: the dataset, the model, and activation
 * folders for one or more prompt templates, obtained without running the model again whenever possible.
 *
 * Reuse, in order: (1) an activation folder that already holds exactly these activations (same model
 * fingerprint, template and dataset rows) — `OUT/activations` written by `spacetime-probe run`, or a folder a
 * previous experiment kept; (2) the activation cache, through `extractActivations` with the (fingerprint,
 * template) namespace that `runProbe` uses, so an experiment after a run costs no model time; (3) the model.
 * Folders this session writes go to `OUT/experiment_activations/<key>/` and are removed at `close()` unless
 * `keepActivations` is set (the cache keeps the vectors).
 *
 * Experiments read one layer at a time (`readLayer`), never every layer at once.
 */
import type { ModelFormat } from '../model/modelFolder';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset, Entity } from '../datasets/types';
import { loadDataset } from '../datasets/load';
import { DEFAULT_TOKEN_CHOICE, type DeviceRequest, type EntitySpan, type ModelPrecision, type ResidualModel, type TokenChoice } from '../model/types';
import { loadModel } from '../model/loadModel';
import { extractActivations, substituteWithSpan } from '../activations/extract';
import { ActivationCache } from '../activations/cache';
import { MANIFEST_FILE, manifestToken, readActivationLayer, readActivationManifest, type ActivationManifest } from '../activations/manifest';
import { fitLayerProbe, type LayerProbeResult } from '../probes/probe';
import { absoluteYears, greatCircleKm, type DistanceMeasure } from '../probes/metrics';
import { mulberry32, type TrainTestSplit } from '../probes/split';
import type { RunHooks } from './run';
import { EXPERIMENT_FORMAT, type ActivationProvenance, type ExperimentHeader, type ExperimentName, type FitScores, type SplitInfo } from './experimentResults';
import { byTarget, splitFor, targetMatrix } from './probeActivations';

/** Bad experiment input (template, layer, block column…): the CLI prints the message and exits with code 2. */
export class ExperimentInputError extends Error {
  override readonly name = 'ExperimentInputError';
}

export interface ExperimentInputs {
  /** Path or builtin:<name>. */
  readonly dataset: string;
  /** Model spec as for `run`. */
  readonly model: string;
  /** Where experiment_<name>.json goes (next to results.json). */
  readonly outDir: string;
  readonly device?: DeviceRequest;
  /** Which token is read (default entity-last), as for `run`. */
  readonly token?: TokenChoice;
  /** safetensors checkpoint or ONNX export, where the model has both (default auto). */
  readonly format?: ModelFormat;
  /** What a checkpoint computes in (loadModel's precision; default auto). */
  readonly precision?: ModelPrecision;
  readonly batchSize?: number;
  /** Activation cache folder (default: the user cache); `false` disables it. */
  readonly cacheDir?: string | false;
  readonly cacheMaxBytes?: number;
  readonly skipInvalid?: boolean;
  /** Plausible years of a time dataset (default: the parser's DEFAULT_YEAR_RANGE). */
  readonly yearRange?: readonly [number, number];
  /** Keep the activation folders this experiment writes (default: removed; the cache keeps the vectors). */
  readonly keepActivations?: boolean;
  /** An already loaded model (not disposed by the experiment). */
  readonly loadedModel?: ResidualModel;
}

export type ExperimentHooks = RunHooks;

export const EXPERIMENT_ACTIVATIONS_DIR = 'experiment_activations';

/** Substitute the entity: `{entity}` as written, `{ENTITY}` upper-cased (the paper's capitalised variant). */
export function renderTemplate(template: string, entity: string): string {
  return renderTemplateWithSpan(template, entity).text;
}

/** renderTemplate, plus the span of the entity's last occurrence (what entity-last reads). */
export function renderTemplateWithSpan(template: string, entity: string): { text: string; entity?: EntitySpan } {
  if (!template.includes('{entity}') && !template.includes('{ENTITY}')) {
    throw new ExperimentInputError(`Prompt template ${JSON.stringify(template)} has neither {entity} nor {ENTITY}.`);
  }
  const { text, span } = substituteWithSpan(template, { '{entity}': entity, '{ENTITY}': entity.toUpperCase() });
  return span ? { text, entity: span } : { text };
}

export interface ActivationSet {
  readonly template: string;
  readonly dir: string;
  readonly manifest: ActivationManifest;
  /** Dataset entities in activation-row order. */
  readonly entities: readonly Entity[];
  readonly provenance: ActivationProvenance;
}

/** Read one layer of a set ([numEntities × hiddenSize] float32). */
export function readLayer(set: ActivationSet, layer: number): Float32Array {
  return readActivationLayer(set.dir, set.manifest, layer);
}

/** Rows `positions` of a row-major [n × cols] matrix. */
export function gatherRows<T extends Float32Array | Float64Array>(source: T, cols: number, positions: ArrayLike<number>): T {
  const out = new (source.constructor as new (length: number) => T)(positions.length * cols);
  for (let r = 0; r < positions.length; r++) out.set(source.subarray(positions[r] * cols, (positions[r] + 1) * cols), r * cols);
  return out;
}

/** `count` distinct rows of 0…n−1 drawn with a seeded partial Fisher–Yates shuffle, ascending. */
export function sampleRows(n: number, count: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, index) => index);
  const random = mulberry32(seed);
  const take = Math.min(n, count);
  for (let index = 0; index < take; index++) {
    const pick = index + Math.floor(random() * (n - index));
    const swap = order[index];
    order[index] = order[pick];
    order[pick] = swap;
  }
  return order.slice(0, take).sort();
}

/** The layers to run: 'all', or a list checked against the model's layer count. */
export function resolveLayers(spec: readonly number[] | 'all', numLayers: number): number[] {
  if (spec === 'all') return Array.from({ length: numLayers }, (_, index) => index);
  if (spec.length === 0) throw new ExperimentInputError('the layer list is empty');
  for (const layer of spec) {
    if (!Number.isInteger(layer) || layer < 0 || layer >= numLayers) {
      throw new ExperimentInputError(`layer ${layer} does not exist: the model has layers 0…${numLayers - 1}`);
    }
  }
  return [...new Set(spec)].sort((a, b) => a - b);
}

export function distanceFor(dataset: Pick<Dataset, 'kind'>): DistanceMeasure {
  return dataset.kind === 'space' ? greatCircleKm : absoluteYears;
}

export function splitInfo(split: TrainTestSplit): SplitInfo {
  return { method: split.method, train: split.train.length, test: split.test.length, ...(split.method === 'random' ? { seed: split.seed } : {}) };
}

/** Row-major [entities × targets] float64 targets (the same layout the layerwise probe uses). */
export const targetsOf = targetMatrix;

/** { targetName: value } in target order. */
export const byName = byTarget;

/** The test-split scores of a linear probe fit, as experiment files report them. */
export function linearScores(fit: LayerProbeResult, targetNames: readonly string[]): FitScores {
  return {
    testR2: fit.test.r2,
    testR2PerTarget: byName(targetNames, fit.test.r2PerTarget),
    proximityError: fit.test.proximityError ?? Number.NaN,
    alpha: fit.alpha,
    trainR2: fit.train.r2,
  };
}

/** Fit the paper's linear probe on one layer (targets standardised, alpha by leave-one-out on the training split). */
export function fitLinear(x: Float32Array | Float64Array, nFeatures: number, targets: Float64Array, nTargets: number,
  split: Pick<TrainTestSplit, 'train' | 'test'>, alphas: readonly number[], distance: DistanceMeasure): Promise<LayerProbeResult> {
  return fitLayerProbe({
    x, nSamples: targets.length / nTargets, nFeatures, targets, nTargets, trainIdx: split.train, testIdx: split.test, alphas, distance,
  });
}

function hashKey(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/** See ExperimentSession.probeData. */
export interface ProbeData {
  readonly set: ActivationSet;
  /** Dataset entities in activation-row order. */
  readonly entities: readonly Entity[];
  /** Entities, hidden size, targets per entity. */
  readonly n: number;
  readonly d: number;
  readonly t: number;
  /** Row-major [n × t] targets. */
  readonly targets: Float64Array;
  readonly split: TrainTestSplit;
}

/** The dataset, the model, and activation folders per (model, template); see the file comment. */
export class ExperimentSession {
  private readonly created: string[] = [];
  private readonly cache: ActivationCache | undefined;
  private readonly provenanceList: ActivationProvenance[] = [];
  private readonly started = performance.now();
  /** Which token every activation set of this session reads. */
  readonly token: TokenChoice;

  private constructor(readonly inputs: ExperimentInputs, readonly dataset: Dataset, readonly model: ResidualModel,
    private readonly ownsModel: boolean, private readonly hooks: ExperimentHooks) {
    this.cache = inputs.cacheDir === false ? undefined : new ActivationCache({ dir: inputs.cacheDir, maxBytes: inputs.cacheMaxBytes, log: hooks.log });
    this.token = inputs.token ?? DEFAULT_TOKEN_CHOICE;
  }

  static async open(inputs: ExperimentInputs, hooks: ExperimentHooks = {}): Promise<ExperimentSession> {
    hooks.onProgress?.({ stage: 'dataset', message: `reading ${inputs.dataset}` });
    const dataset = loadDataset(inputs.dataset, { skipInvalid: inputs.skipInvalid, ...(inputs.yearRange ? { yearRange: inputs.yearRange } : {}) });
    for (const problem of dataset.problems) hooks.log?.(`${problem.file}:${problem.line}: ${problem.severity}: ${problem.message}`);
    hooks.signal?.throwIfAborted();
    hooks.onProgress?.({ stage: 'model', message: `loading ${inputs.model}` });
    const model = inputs.loadedModel ?? await loadModel(inputs.model, { device: inputs.device, signal: hooks.signal, ...(inputs.format ? { format: inputs.format } : {}), ...(inputs.precision ? { precision: inputs.precision } : {}) });
    return new ExperimentSession(inputs, dataset, model, inputs.loadedModel === undefined, hooks);
  }

  get distance(): DistanceMeasure {
    return distanceFor(this.dataset);
  }

  /**
   * The fields every experiment file starts with (format, inputs, parameters, split, shapes, provenance), so each
   * experiment only adds its own results.
   */
  header<N extends ExperimentName, P>(experiment: N, parameters: P, shape: { split: TrainTestSplit; entities: number; numLayers: number }): ExperimentHeader<N, P> {
    return {
      format: EXPERIMENT_FORMAT,
      experiment,
      kind: this.dataset.kind,
      targets: [...this.dataset.targets],
      dataset: this.inputs.dataset,
      model: this.inputs.model,
      parameters,
      split: splitInfo(shape.split),
      entities: shape.entities,
      numLayers: shape.numLayers,
      hiddenSize: this.model.hiddenSize,
      distance: this.distance.name,
      device: this.model.device,
      provenance: this.provenance,
      createdAt: new Date().toISOString(),
    };
  }

  /** One template's activations and what every probe-based experiment derives from them: targets and the split. */
  async probeData(prompt: string, seed: number): Promise<ProbeData> {
    const set = await this.activations(prompt);
    const entities = set.entities;
    const t = this.dataset.targets.length;
    return { set, entities, n: entities.length, d: this.model.hiddenSize, t, targets: targetsOf(entities, t), split: splitFor(entities, seed) };
  }

  /** Activation provenance so far (what was reused, what ran through the model). */
  get provenance(): { activations: readonly ActivationProvenance[]; seconds: number } {
    return { activations: [...this.provenanceList], seconds: Math.round((performance.now() - this.started) / 10) / 100 };
  }

  /** A folder holding exactly the activations of (model, template) over this dataset, or undefined. */
  private reusable(dir: string, model: ResidualModel, template: string): ActivationManifest | undefined {
    if (!fs.existsSync(path.join(dir, MANIFEST_FILE))) return undefined;
    let manifest: ActivationManifest;
    try {
      manifest = readActivationManifest(dir);
    } catch {
      return undefined;
    }
    if (manifest.fingerprint !== model.fingerprint || manifest.prompt !== template || manifest.dataset !== this.inputs.dataset) return undefined;
    if (manifestToken(manifest) !== this.token) return undefined;
    if (manifest.hiddenSize !== model.hiddenSize || manifest.layers.length !== model.numLayers) return undefined;
    // Same rows: every dataset line is either a row or a skipped prompt, and nothing else.
    const lines = new Set(this.dataset.entities.map((entity) => entity.line));
    const covered = [...manifest.rows, ...(manifest.skipped ?? []).map((skipped) => skipped.row)];
    if (covered.length !== lines.size || !covered.every((line) => lines.has(line))) return undefined;
    return manifest;
  }

  /**
   * Activations of `template` under `model` (default: the session's model) for every dataset entity the
   * tokenizer can use; see the file comment for how they are found or made.
   */
  async activations(template: string, model: ResidualModel = this.model): Promise<ActivationSet> {
    const { hooks, dataset } = this;
    const prompts = dataset.entities.map((entity) => ({ ...renderTemplateWithSpan(template, entity.name), row: entity.line }));
    const outDir = path.resolve(this.inputs.outDir);
    const candidates = [path.join(outDir, 'activations'), path.join(outDir, EXPERIMENT_ACTIVATIONS_DIR, hashKey(model.fingerprint, template))];
    for (const dir of candidates) {
      const manifest = this.reusable(dir, model, template);
      if (manifest) {
        hooks.log?.(`reusing ${dir} for "${template}" (${manifest.numEntities} entities)`);
        return this.record({ template, dir, manifest, model: model.id, source: 'folder', cacheHits: 0, computed: 0 });
      }
    }
    const dir = candidates[1];
    const namespace = this.cache ? await this.cache.namespace({
      fingerprint: model.fingerprint, template, token: this.token, numLayers: model.numLayers, hiddenSize: model.hiddenSize, modelId: model.id,
    }) : undefined;
    try {
      hooks.onProgress?.({ stage: 'tokenize', message: `"${template}": tokenizing ${prompts.length} entities` });
      const extraction = await extractActivations(model, prompts, {
        outDir: dir,
        model: model === this.model ? this.inputs.model : model.id,
        prompt: template,
        token: this.token,
        dataset: this.inputs.dataset,
        batchSize: this.inputs.batchSize,
        signal: hooks.signal,
        cache: namespace,
        onProgress: (progress) => hooks.onProgress?.({
          stage: 'extract', done: progress.done, total: progress.total, tokensPerSecond: progress.tokensPerSecond,
          message: `"${template}": extracting ${progress.done}/${progress.total} entities`,
        }),
      });
      this.created.push(dir);
      const computed = extraction.manifest.numEntities - extraction.cacheHits;
      hooks.log?.(`"${template}" on ${model.id}: ${extraction.manifest.numEntities} entities ` +
        `(${extraction.cacheHits} from cache, ${computed} through the model), ${extraction.skipped.length} skipped`);
      return this.record({ template, dir, manifest: extraction.manifest, model: model.id, source: 'extracted', cacheHits: extraction.cacheHits, computed });
    } finally {
      await namespace?.close();
    }
  }

  private record(found: { template: string; dir: string; manifest: ActivationManifest; model: string; source: 'folder' | 'extracted'; cacheHits: number; computed: number }): ActivationSet {
    const byLine = new Map(this.dataset.entities.map((entity) => [entity.line, entity]));
    const entities = found.manifest.rows.map((line) => {
      const entity = byLine.get(line);
      if (!entity) throw new ExperimentInputError(`${found.dir}: row for dataset line ${line}, which is not a valid row of ${this.dataset.source}`);
      return entity;
    });
    const provenance: ActivationProvenance = {
      template: found.template, model: found.model, source: found.source, entities: entities.length, cacheHits: found.cacheHits, computed: found.computed,
    };
    this.provenanceList.push(provenance);
    return { template: found.template, dir: found.dir, manifest: found.manifest, entities, provenance };
  }

  /** Remove the folders this session wrote (unless keepActivations) and dispose the model it loaded. */
  async close(): Promise<void> {
    if (!this.inputs.keepActivations) {
      for (const dir of this.created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
      const parent = path.join(path.resolve(this.inputs.outDir), EXPERIMENT_ACTIVATIONS_DIR);
      try {
        if (fs.readdirSync(parent).length === 0) fs.rmdirSync(parent);
      } catch {
        // Not there: nothing to tidy.
      }
    }
    if (this.ownsModel) await this.model.dispose();
  }
}

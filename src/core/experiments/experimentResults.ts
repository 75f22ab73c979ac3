/**
 * @file The robustness experiments' output files (format spacetime-probe-experiment/1): `experiment_<name>.json`
 * next to results.json. Every file carries the experiment's full `parameters` (seed, alpha grid, split, templates,
 * k values, MLP hyper-parameters, block column…), so `runExperiment(name, { ...inputs, ...file.parameters })`
 * (or `spacetime-probe experiment <name> --from FILE`) reproduces its numbers exactly.
 *
 * The schema is a public contract like results.json's: add fields, never rename them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DatasetKind } from '../datasets/types';
import type { DeviceInfo } from '../model/types';
import { writeFileAtomicSync } from '../util/atomicWrite';

export const EXPERIMENT_FORMAT = 'spacetime-probe-experiment/1';

export const EXPERIMENT_NAMES = ['prompt-variants', 'holdout', 'mlp', 'neurons', 'controls'] as const;
export type ExperimentName = (typeof EXPERIMENT_NAMES)[number];

export function isExperimentName(value: unknown): value is ExperimentName {
  return typeof value === 'string' && (EXPERIMENT_NAMES as readonly string[]).includes(value);
}

/** `experiment_prompt-variants.json`, `experiment_holdout.json`, … */
export function experimentFileName(name: ExperimentName): string {
  return `experiment_${name}.json`;
}

/** Parameters every experiment shares (part of each experiment's `parameters`). */
export interface CommonParameters {
  /** Base prompt template (prompt-variants has its own list). */
  readonly prompt: string;
  /** Seed of the random split (when the dataset has no is_test column) and of every random choice the experiment makes. */
  readonly seed: number;
  /** Ridge alpha grid (efficient leave-one-out on the training split chooses one per fit). */
  readonly alphas: readonly number[];
  /** Layers run, or 'all'. */
  readonly layers: readonly number[] | 'all';
}

/** Split actually used (as in results.json). */
export interface SplitInfo {
  readonly method: 'is_test' | 'random';
  readonly train: number;
  readonly test: number;
  readonly seed?: number;
}

/** How an activation folder was obtained (provenance: not part of the reproducible numbers). */
export interface ActivationProvenance {
  readonly template: string;
  readonly model: string;
  /** 'folder': an existing activation folder was reused as is; 'extracted': written now (cache hits counted). */
  readonly source: 'folder' | 'extracted';
  readonly entities: number;
  readonly cacheHits: number;
  /** Entities that went through the model. */
  readonly computed: number;
}

/** The part shared by every experiment file. */
export interface ExperimentHeader<N extends ExperimentName, P> {
  readonly format: typeof EXPERIMENT_FORMAT;
  readonly experiment: N;
  readonly kind: DatasetKind;
  readonly targets: readonly string[];
  readonly dataset: string;
  readonly model: string;
  readonly parameters: P;
  readonly split: SplitInfo;
  /** Entities probed (rows with activations; for prompt-variants, rows usable under every template). */
  readonly entities: number;
  readonly numLayers: number;
  readonly hiddenSize: number;
  /** Name of the proximity-error distance: great-circle km for places, |Δyear| for time. */
  readonly distance: 'greatCircleKm' | 'absoluteYears';
  readonly device?: DeviceInfo;
  readonly provenance: { readonly activations: readonly ActivationProvenance[]; readonly seconds: number };
  readonly createdAt: string;
}

/** Test-split scores of one fit. */
export interface FitScores {
  readonly testR2: number;
  readonly testR2PerTarget: Readonly<Record<string, number>>;
  readonly proximityError: number;
  /** Ridge alpha chosen (linear fits only). */
  readonly alpha?: number;
  readonly trainR2?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// prompt-variants

export interface PromptVariantsParameters extends CommonParameters {
  readonly templates: readonly string[];
  /** Cross-prompt matrix at each training template's best layer ('best'), or at every layer too ('all'). */
  readonly crossLayers: 'best' | 'all';
}

export interface TemplateLayer extends FitScores {
  readonly index: number;
}

export interface TemplateResult {
  readonly template: string;
  readonly layers: readonly TemplateLayer[];
  readonly bestLayer: number;
  readonly bestTestR2: number;
}

/** One cell of a cross-prompt matrix: a probe trained on `train`'s activations, tested on `test`'s. */
export interface CrossCell {
  /** Indices into `templates`. */
  readonly train: number;
  readonly test: number;
  readonly layer: number;
  readonly testR2: number;
  readonly testR2PerTarget: Readonly<Record<string, number>>;
}

export interface PromptVariantsResult extends ExperimentHeader<'prompt-variants', PromptVariantsParameters> {
  readonly templates: readonly TemplateResult[];
  /** templates.length² cells, each at the training template's best layer. */
  readonly cross: readonly CrossCell[];
  /** With crossLayers 'all': the full matrix at every layer. */
  readonly crossPerLayer?: readonly { readonly layer: number; readonly cells: readonly CrossCell[] }[];
}

// ---------------------------------------------------------------------------------------------------------------
// holdout

export interface HoldoutParameters extends CommonParameters {
  /** Column (or derived 'century' / 'decade' / 'year') whose values are the blocks. */
  readonly blockColumn: string;
  /** Blocks with fewer rows are not held out (they still train every other block's probe). */
  readonly minBlockRows: number;
  /** At most this many blocks (the largest first); 0 = all. */
  readonly maxBlocks: number;
  /** The layer probed; undefined = the best layer of the linear probe on the default split. */
  readonly layer?: number;
}

export interface HoldoutScores {
  /** Mean proximity error of the held-out rows, against every row the probe did not train on. */
  readonly proximityError: number;
  /** Mean distance between prediction and truth: great-circle km, or years. */
  readonly meanDistance: number;
  /** R² over the held-out rows (within-block variance is small, so this is often very negative). */
  readonly r2: number;
}

export interface HoldoutBlock {
  readonly block: string;
  readonly rows: number;
  readonly holdout: HoldoutScores;
  /** Same procedure with `rows` random rows held out instead (seeded per block). */
  readonly random: HoldoutScores;
}

export interface HoldoutSummary {
  readonly blocks: number;
  readonly heldOutRows: number;
  /** Unweighted means over blocks. */
  readonly holdoutProximityError: number;
  readonly randomProximityError: number;
  readonly holdoutMeanDistance: number;
  readonly randomMeanDistance: number;
  /** Means over held-out rows (blocks weighted by size). */
  readonly holdoutProximityErrorWeighted: number;
  readonly randomProximityErrorWeighted: number;
}

export interface HoldoutResult extends ExperimentHeader<'holdout', HoldoutParameters> {
  readonly layer: number;
  readonly layerChosenBy: 'option' | 'linear-probe';
  /** The default-split linear probe at that layer, for reference. */
  readonly defaultSplit: FitScores;
  readonly blocks: readonly HoldoutBlock[];
  /** Blocks below minBlockRows (or beyond maxBlocks): count and rows. */
  readonly skippedBlocks: { readonly count: number; readonly rows: number };
  readonly summary: HoldoutSummary;
}

// ---------------------------------------------------------------------------------------------------------------
// mlp

export interface MlpParameters extends CommonParameters {
  readonly hiddenUnits: number;
  readonly learningRate: number;
  readonly batchSize: number;
  readonly maxEpochs: number;
  readonly patience: number;
  readonly weightDecays: readonly number[];
  /** Fraction of the training split carved out (seeded) to choose the weight decay and stop early. */
  readonly validationFraction: number;
}

export interface MlpLayerScores extends FitScores {
  readonly weightDecay: number;
  /** Epochs run by the chosen model, and the epoch whose weights were kept. */
  readonly epochs: number;
  readonly bestEpoch: number;
  /** Validation MSE (standardised targets) of each weight decay, in grid order. */
  readonly validationLoss: readonly number[];
}

export interface MlpLayer {
  readonly index: number;
  readonly linear: FitScores;
  readonly mlp: MlpLayerScores;
}

export interface MlpResult extends ExperimentHeader<'mlp', MlpParameters> {
  readonly layers: readonly MlpLayer[];
}

// ---------------------------------------------------------------------------------------------------------------
// neurons

export interface NeuronsParameters extends CommonParameters {
  /** Dimensions listed per target and layer. */
  readonly topK: number;
  /** Dimensions whose activations are kept for the views, per target. */
  readonly viewNeurons: number;
  /** Entities in the views (a seeded sample when the dataset is larger). */
  readonly viewEntities: number;
}

export interface RankedNeuron {
  readonly dim: number;
  /** Spearman correlation with the target over every probed row. */
  readonly rho: number;
}

export interface NeuronLayer {
  readonly index: number;
  /** Per target (latitude, longitude, |latitude|, |longitude| or year): the topK dims by |ρ|, largest first. */
  readonly top: Readonly<Record<string, readonly RankedNeuron[]>>;
}

export interface NeuronView {
  readonly target: string;
  readonly layer: number;
  readonly dim: number;
  readonly rho: number;
  /** Activation of that dim for each view entity (same order as `views.entities`), 4 significant digits. */
  readonly values: readonly number[];
}

export interface NeuronsResult extends ExperimentHeader<'neurons', NeuronsParameters> {
  /** The neuron targets: [latitude, longitude, |latitude|, |longitude|] or [year]. */
  readonly neuronTargets: readonly string[];
  readonly layers: readonly NeuronLayer[];
  /** Per target, the single strongest dimension over all layers. */
  readonly best: Readonly<Record<string, RankedNeuron & { readonly layer: number }>>;
  readonly views: {
    readonly entities: readonly { readonly row: number; readonly name: string; readonly true: readonly number[] }[];
    readonly neurons: readonly NeuronView[];
  };
  /** Whether MLP hidden units (not only residual dimensions) were ranked. */
  readonly mlpNeurons: { readonly exposed: boolean; readonly reason: string };
}

// ---------------------------------------------------------------------------------------------------------------
// controls

export type ControlName = 'shuffled' | 'random-weights' | 'pca';
export const CONTROL_NAMES: readonly ControlName[] = ['shuffled', 'random-weights', 'pca'];

export interface ControlsParameters extends CommonParameters {
  readonly controls: readonly ControlName[];
  /** Number of principal components tried (clipped to the hidden size and the training rows). */
  readonly pcaK: readonly number[];
  /** Seed of the re-randomised weights (independent of the split seed). */
  readonly randomWeightsSeed: number;
}

export interface PcaScore extends FitScores {
  readonly k: number;
  /** Fraction of the training activations' variance in the top k components. */
  readonly explainedVariance: number;
}

export interface ControlsLayer {
  readonly index: number;
  readonly linear: FitScores;
  readonly shuffled?: FitScores;
  readonly pca?: readonly PcaScore[];
}

export interface RandomWeightsControl {
  /** How the weights were re-randomised. */
  readonly method: string;
  readonly fingerprint: string;
  readonly tensors: number;
  readonly layers: readonly TemplateLayer[];
}

export interface ControlsResult extends ExperimentHeader<'controls', ControlsParameters> {
  readonly layers: readonly ControlsLayer[];
  readonly randomWeights?: RandomWeightsControl;
}

export type ExperimentResult = PromptVariantsResult | HoldoutResult | MlpResult | NeuronsResult | ControlsResult;

/** JSON cannot hold NaN or ±Infinity: they are written as null (JSON.stringify's own rule, made explicit). */
export function serializeExperiment(result: ExperimentResult): string {
  return `${JSON.stringify(result, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 1)}\n`;
}

/** Write `experiment_<name>.json` into outDir atomically; returns the file. */
export function writeExperimentResult(outDir: string, result: ExperimentResult): string {
  const file = path.join(outDir, experimentFileName(result.experiment));
  writeFileAtomicSync(file, serializeExperiment(result));
  return file;
}

/** A file that is not an experiment output (or is malformed); the message names the file and field. */
export class ExperimentFileError extends Error {
  override readonly name = 'ExperimentFileError';
}

/** Read and structurally check an experiment file. */
export function readExperimentResult(file: string): ExperimentResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ExperimentFileError(`${file}: ${(error as Error).message}`);
  }
  return validateExperimentResult(parsed, file);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural check of a parsed experiment file (used by the CLI's --from and by the extension). */
export function validateExperimentResult(value: unknown, file: string): ExperimentResult {
  const fail = (field: string, expected: string): never => {
    throw new ExperimentFileError(`${file}: field "${field}": expected ${expected}`);
  };
  if (!isRecord(value)) return fail('(file)', 'a JSON object');
  if (value.format !== EXPERIMENT_FORMAT) fail('format', JSON.stringify(EXPERIMENT_FORMAT));
  if (!isExperimentName(value.experiment)) fail('experiment', `one of ${EXPERIMENT_NAMES.join(', ')}`);
  if (value.kind !== 'space' && value.kind !== 'time') fail('kind', '"space" or "time"');
  if (!Array.isArray(value.targets) || !value.targets.every((target) => typeof target === 'string')) fail('targets', 'an array of names');
  if (!isRecord(value.parameters)) fail('parameters', 'an object');
  const parameters = value.parameters as Record<string, unknown>;
  if (typeof parameters.seed !== 'number' || !Number.isInteger(parameters.seed)) fail('parameters.seed', 'an integer');
  if (!Array.isArray(parameters.alphas)) fail('parameters.alphas', 'an array of numbers');
  const listField: Record<ExperimentName, string> = {
    'prompt-variants': 'templates', holdout: 'blocks', mlp: 'layers', neurons: 'layers', controls: 'layers',
  };
  const list = listField[value.experiment as ExperimentName];
  if (!Array.isArray(value[list])) fail(list, 'an array');
  return value as unknown as ExperimentResult;
}

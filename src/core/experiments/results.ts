/**
 * results.json (format spacetime-probe-results/1): what a probe run writes and every view reads.
 * The schema is part of the public contract (issue 3); add fields, never rename them. Fields added later are
 * optional (layers[].groups and groupBreakdown came with issue 14), so a reader takes older files as they are.
 */
import type { DatasetKind } from '../datasets/types';
import type { DeviceInfo, TokenChoice } from '../model/types';

export const RESULTS_FORMAT = 'spacetime-probe-results/1';

export interface LayerResult {
  readonly index: number;
  /** Alpha chosen by efficient leave-one-out on the training split. */
  readonly alpha: number;
  /** Mean over targets of R² on the training split. */
  readonly trainR2: number;
  /** Mean over targets of R² on the test split. */
  readonly testR2: number;
  readonly testR2PerTarget: Readonly<Record<string, number>>;
  /** Test-split Pearson correlation per target. */
  readonly pearson: Readonly<Record<string, number>>;
  /** Test-split Spearman correlation per target. */
  readonly spearman: Readonly<Record<string, number>>;
  /** Paper's proximity error on the test split (great-circle for places, |Δyear| for time). */
  readonly proximityError: number;
  /** Train-split metrics for the same quantities, kept for completeness. */
  readonly trainR2PerTarget?: Readonly<Record<string, number>>;
  /** Bootstrap percentile interval over test entities of testR2 (see ProbeResults.bootstrap). */
  readonly testR2Interval?: readonly [number, number];
  readonly testR2PerTargetInterval?: Readonly<Record<string, readonly [number, number]>>;
  readonly proximityErrorInterval?: readonly [number, number];
  /**
   * Test scores per value of a metadata column, computed within each group (see ProbeResults.groupBreakdown for
   * which columns and values): `groups.type.city` = { n, r2, r2PerTarget, proximityError }. Absent in results
   * written before it existed, and when no column qualifies.
   */
  readonly groups?: Readonly<Record<string, Readonly<Record<string, GroupResult>>>>;
}

/** One group's test scores at one layer, computed within the group (src/core/probes/groups.ts). */
export interface GroupResult {
  /** Test entities in the group. */
  readonly n: number;
  /** Mean over targets of R² within the group (against the group's own mean). */
  readonly r2: number;
  readonly r2PerTarget: Readonly<Record<string, number>>;
  /** Proximity error among the group's members (0 perfect, 0.5 chance). */
  readonly proximityError: number;
}

/** Which metadata columns the layers' `groups` break down, and what they leave out. */
export interface GroupBreakdown {
  /** Groups with fewer test entities are not scored. */
  readonly minTestEntities: number;
  /** Columns with more distinct values among the test entities are not broken down. */
  readonly maxValues: number;
  /** Per broken-down column: its scored values (largest first) and the test entities left out of them. */
  readonly columns: Readonly<Record<string, {
    readonly values: readonly string[];
    /** Values with fewer than minTestEntities test entities, and how many test entities they hold. */
    readonly smallGroups: number;
    readonly smallGroupEntities: number;
    /** Test entities with no value in the column. */
    readonly missing: number;
  }>>;
  /** Metadata columns not broken down, with the reason (too many values, too few large groups). */
  readonly leftOut?: Readonly<Record<string, string>>;
}

export interface Prediction {
  /** 1-based line of the entity in the dataset file. */
  readonly row: number;
  readonly name: string;
  readonly split: 'train' | 'test';
  /** [latitude, longitude] or [year]. */
  readonly true: readonly number[];
  readonly predicted: readonly number[];
  /** The dataset's other columns for this entity (type, country, block …), non-empty values only. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface ProbeResults {
  readonly format: typeof RESULTS_FORMAT;
  readonly kind: DatasetKind;
  readonly targets: readonly string[];
  readonly split: { readonly method: 'is_test' | 'random'; readonly train: number; readonly test: number; readonly seed?: number };
  readonly alphas: readonly number[];
  readonly layers: readonly LayerResult[];
  readonly bestLayer: number;
  /** Predictions at the best layer. */
  readonly predictions: readonly Prediction[];
  /** Provenance (optional but always written by the CLI). */
  readonly model?: string;
  readonly dataset?: string;
  readonly prompt?: string;
  /** Which token's residual stream was read: the entity's last token (default) or the prompt's last token. */
  readonly token?: TokenChoice;
  readonly device?: DeviceInfo;
  /** What the model spec resolved to (architecture, how its weights were read, their dtype, the compute dtype). */
  readonly modelDetails?: {
    readonly architecture: string;
    readonly format?: string;
    readonly weightsDtype?: string;
    readonly computeDtype?: string;
    readonly numLayers: number;
    readonly hiddenSize: number;
  };
  readonly createdAt?: string;
  /** Checks overridden with `probe --force` (e.g. the dataset does not match the activations' manifest). */
  readonly forced?: readonly string[];
  /** How the layers' intervals were computed (absent: no intervals). */
  readonly bootstrap?: { readonly resamples: number; readonly seed: number; readonly level: number };
  /** The metadata breakdown in every layer's `groups` (absent: none; older results never have it). */
  readonly groupBreakdown?: GroupBreakdown;
  /** Caveats about the numbers, e.g. a test split too small to trust. */
  readonly warnings?: readonly string[];
  /** Entities skipped (e.g. no known token for GloVe), with the reason. */
  readonly skipped?: readonly { readonly row: number; readonly name: string; readonly reason: string }[];
}

/**
 * results.json (format spacetime-probe-results/1): what a probe run writes and every view reads.
 * The schema is part of the public contract (issue 3); add fields, never rename them.
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
  /** Caveats about the numbers, e.g. a test split too small to trust. */
  readonly warnings?: readonly string[];
  /** Entities skipped (e.g. no known token for GloVe), with the reason. */
  readonly skipped?: readonly { readonly row: number; readonly name: string; readonly reason: string }[];
}

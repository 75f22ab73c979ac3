/**
 * Dataset types shared by the parser, the built-in registry, the CLI and the extension.
 * A dataset is a list of entities (the text fed to the model) with numeric targets:
 * [latitude, longitude] for space datasets, [year] for time datasets.
 */

export type DatasetKind = 'space' | 'time';

/** Target names, in the order of `Entity.target`. */
export const TARGET_NAMES: Readonly<Record<DatasetKind, readonly string[]>> = {
  space: ['latitude', 'longitude'],
  time: ['year'],
};

export interface Entity {
  /** 1-based line number in the source file where the record starts (what editors and errors show). */
  readonly line: number;
  /** The entity text substituted into the prompt template (e.g. "Paris", "Stephen King's It"). */
  readonly name: string;
  /** [latitude, longitude] or [year]. */
  readonly target: readonly number[];
  /** true/false from an `is_test` column, undefined when the file has none. */
  readonly isTest?: boolean;
  /** Every other column, as text (kept for hover, tables and holdout blocks). */
  readonly metadata: Readonly<Record<string, string>>;
}

export type DatasetProblemSeverity = 'error' | 'warning';

/** One validation problem, located precisely enough for a Diagnostic or a `file:line:col` message. */
export interface DatasetProblem {
  readonly severity: DatasetProblemSeverity;
  /** Machine-readable reason, e.g. 'missing-column', 'non-numeric', 'out-of-range', 'duplicate-entity'. */
  readonly code: string;
  readonly file: string;
  /** 1-based line; 0 when the problem concerns the whole file (e.g. empty file). */
  readonly line: number;
  /** 1-based column (character offset in the line, UTF-16 units + 1); 0 when unknown. */
  readonly column: number;
  /** Length of the offending span in characters (for editor ranges); 0 when unknown. */
  readonly length: number;
  /** Column/field name when the problem concerns one field. */
  readonly field?: string;
  readonly message: string;
}

export interface Dataset {
  /** Path, or `builtin:<name>` for built-in sets. */
  readonly source: string;
  readonly kind: DatasetKind;
  /** Names of the targets in order: ['latitude','longitude'] or ['year']. */
  readonly targets: readonly string[];
  /** Valid entities in file order. */
  readonly entities: readonly Entity[];
  /** Warnings (and, with skipInvalid, the errors of skipped rows). */
  readonly problems: readonly DatasetProblem[];
}

export type ParseResult =
  | { readonly ok: true; readonly dataset: Dataset }
  | { readonly ok: false; readonly problems: readonly DatasetProblem[] };

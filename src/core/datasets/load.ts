/**
 * @file Load a dataset from a path or a `builtin:<name>` reference: resolve, read the bytes, parse and validate.
 */
import * as fs from 'node:fs';
import type { Dataset, DatasetProblem } from './types';
import { parseDatasetBytes, formatProblem, type ParseOptions } from './parse';
import { isBuiltinReference, resolveDatasetPath } from './builtin';

/** Datasets are parsed in memory; beyond this size they are refused with a message instead of exhausting it. */
export const MAX_DATASET_BYTES = 1024 ** 3;

/** The dataset cannot be used: every problem is listed (file, line, column, field). */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  constructor(readonly source: string, readonly problems: readonly DatasetProblem[]) {
    const errors = problems.filter((problem) => problem.severity === 'error');
    super(`${source}: ${errors.length} problem${errors.length === 1 ? '' : 's'} in the dataset; nothing was run.`);
  }

  /** One line per problem, `file:line:col: error: message`, at most `limit` lines. */
  lines(limit = 50): string[] {
    const shown = this.problems.slice(0, limit).map(formatProblem);
    if (this.problems.length > limit) shown.push(`… and ${this.problems.length - limit} more`);
    return shown;
  }
}

/**
 * Read and validate a dataset. Throws DatasetError (with every problem) when it cannot be used; warnings are in
 * `dataset.problems`. `source` on the result is the reference as given (so `builtin:world_places` stays readable).
 */
export function loadDataset(reference: string, options: ParseOptions = {}): Dataset {
  const file = resolveDatasetPath(reference);
  const unreadable = (message: string): DatasetError =>
    new DatasetError(reference, [{ severity: 'error', code: 'unreadable', file, line: 0, column: 0, length: 0, message }]);
  let bytes: Buffer;
  try {
    // Type and size before reading: a device (/dev/zero), FIFO or socket would be read without end.
    const stat = fs.statSync(file);
    if (stat.isDirectory()) throw unreadable('is a folder, not a file');
    if (!stat.isFile()) throw unreadable('is not a regular file (a device, FIFO or socket); give the path of a CSV or JSONL file');
    if (stat.size > MAX_DATASET_BYTES) {
      throw unreadable(`is ${(stat.size / 1024 ** 3).toFixed(1)} GiB; datasets are read whole and may be at most ${MAX_DATASET_BYTES / 1024 ** 3} GiB (split it)`);
    }
    bytes = fs.readFileSync(file);
  } catch (error) {
    if (error instanceof DatasetError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, not a file' : (error as Error).message;
    throw new DatasetError(reference, [{ severity: 'error', code: 'unreadable', file, line: 0, column: 0, length: 0, message: why }]);
  }
  const result = parseDatasetBytes(bytes, file, options);
  if (!result.ok) throw new DatasetError(reference, result.problems);
  return isBuiltinReference(reference) ? { ...result.dataset, source: reference } : result.dataset;
}

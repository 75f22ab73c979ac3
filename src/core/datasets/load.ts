/**
 * @file Load a dataset from a path or a `builtin:<name>` reference: resolve, read the bytes, parse and validate.
 */
import * as fs from 'node:fs';
import type { Dataset, DatasetProblem } from './types';
import { parseDatasetBytes, formatProblem, type ParseOptions } from './parse';
import { isBuiltinReference, resolveDatasetPath } from './builtin';

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
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, not a file' : (error as Error).message;
    throw new DatasetError(reference, [{ severity: 'error', code: 'unreadable', file, line: 0, column: 0, length: 0, message: why }]);
  }
  const result = parseDatasetBytes(bytes, file, options);
  if (!result.ok) throw new DatasetError(reference, result.problems);
  return isBuiltinReference(reference) ? { ...result.dataset, source: reference } : result.dataset;
}

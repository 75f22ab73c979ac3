/**
 * @file Load a dataset from a path or a `builtin:<name>` reference: resolve, then read, check and parse the file
 * piece by piece (parse.ts parseDatasetSource), so memory follows the rows kept and not the file's size.
 */
import * as fs from 'node:fs';
import type { Dataset, DatasetProblem, ParseResult } from './types';
import { DEFAULT_CHUNK_BYTES, parseDatasetSource, formatProblem, type ParseOptions } from './parse';
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
  const unreadable = (message: string): DatasetError =>
    new DatasetError(reference, [{ severity: 'error', code: 'unreadable', file, line: 0, column: 0, length: 0, message }]);
  let result: ParseResult;
  try {
    // Type before reading: a device (/dev/zero), FIFO or socket would be read without end.
    const stat = fs.statSync(file);
    if (stat.isDirectory()) throw unreadable('is a folder, not a file');
    if (!stat.isFile()) throw unreadable('is not a regular file (a device, FIFO or socket); give the path of a CSV or JSONL file');
    const replaced = (): DatasetError => unreadable('is not a regular file any more (replaced while being read)');
    result = parseDatasetSource(() => fileChunks(file, options.chunkBytes ?? DEFAULT_CHUNK_BYTES, replaced), file, options);
  } catch (error) {
    if (error instanceof DatasetError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, not a file' : (error as Error).message;
    throw unreadable(why);
  }
  if (!result.ok) throw new DatasetError(reference, result.problems);
  return isBuiltinReference(reference) ? { ...result.dataset, source: reference } : result.dataset;
}

/**
 * The file's bytes, `size` at a time, in one reused buffer (the parser copies what it keeps). The type is checked
 * again on the open descriptor: the path may have been replaced by a device since the stat.
 */
function* fileChunks(file: string, size: number, replaced: () => Error): Generator<Uint8Array> {
  const descriptor = fs.openSync(file, 'r');
  try {
    if (!fs.fstatSync(descriptor).isFile()) throw replaced();
    const buffer = Buffer.allocUnsafe(size);
    for (;;) {
      const read = fs.readSync(descriptor, buffer, 0, size, null);
      if (read === 0) return;
      yield buffer.subarray(0, read);
    }
  } finally {
    fs.closeSync(descriptor);
  }
}

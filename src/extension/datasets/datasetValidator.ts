/**
 * Validates dataset text: small files inline (a few milliseconds), large ones in a worker thread
 * (out/datasetWorker.js, served through RequestWorker) so typing in a big CSV never blocks the extension host.
 * Falls back to inline parsing when the worker bundle is missing.
 */
import { existsSync } from 'node:fs';
import { parseDatasetText } from '../../core/datasets/parse';
import type { DatasetProblem } from '../../core/datasets/types';
import { RequestWorker, type WorkerReply } from '../../core/util/requestWorker';
import type { IDisposable } from '../util/disposable';

/** Above this many characters the parse goes to the worker (~3,000 rows of a typical CSV). */
export const INLINE_LIMIT_CHARS = 256 * 1024;

/** datasetWorker.ts's protocol. */
export interface DatasetValidationRequest {
  readonly text: string;
  readonly file: string;
}

export interface DatasetValidationReply extends WorkerReply {
  readonly problems: readonly DatasetProblem[];
}

export class DatasetValidator implements IDisposable {
  private readonly worker: RequestWorker<DatasetValidationRequest, DatasetValidationReply> | undefined;
  /**
   * The last validation asked for, finished or in flight. Saving a dataset asks twice for the same text (the
   * Problems panel after the edit, re-run on save before starting the run): the second one shares the first's
   * answer instead of parsing 28k rows again on the same two cores the re-run needs.
   */
  private last: { readonly file: string; readonly text: string; readonly problems: Promise<readonly DatasetProblem[]> } | undefined;

  constructor(private readonly workerFile: string | undefined) {
    this.worker = workerFile === undefined ? undefined : new RequestWorker(workerFile, 'dataset');
  }

  validate(text: string, file: string): Promise<readonly DatasetProblem[]> {
    const last = this.last;
    if (last && last.file === file && last.text === text) return last.problems;
    const problems = this.parse(text, file);
    const entry = { file, text, problems };
    this.last = entry;
    // A failure (worker gone) is not remembered: the next call tries again.
    problems.catch(() => { if (this.last === entry) this.last = undefined; });
    return problems;
  }

  private async parse(text: string, file: string): Promise<readonly DatasetProblem[]> {
    if (text.length < INLINE_LIMIT_CHARS || this.worker === undefined || !existsSync(this.workerFile ?? '')) {
      const result = parseDatasetText(text, file);
      return result.ok ? result.dataset.problems : result.problems;
    }
    return (await this.worker.request({ text, file })).problems;
  }

  dispose(): void {
    void this.worker?.dispose();
  }
}

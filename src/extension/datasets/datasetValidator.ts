/**
 * Validates dataset text: small files inline (a few milliseconds), large ones in a worker thread
 * (out/datasetWorker.js) so typing in a big CSV never blocks the extension host. Falls back to inline
 * parsing when the worker bundle is missing.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { parseDatasetText } from '../../core/datasets/parse';
import type { DatasetProblem } from '../../core/datasets/types';
import type { IDisposable } from '../util/disposable';

/** Above this many characters the parse goes to the worker (~3,000 rows of a typical CSV). */
export const INLINE_LIMIT_CHARS = 256 * 1024;

export class DatasetValidator implements IDisposable {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (problems: readonly DatasetProblem[]) => void; reject: (error: Error) => void }>();

  constructor(private readonly workerFile: string | undefined) {}

  validate(text: string, file: string): Promise<readonly DatasetProblem[]> {
    if (text.length < INLINE_LIMIT_CHARS || !this.workerFile || !existsSync(this.workerFile)) {
      const result = parseDatasetText(text, file);
      return Promise.resolve(result.ok ? result.dataset.problems : result.problems);
    }
    const worker = this.ensureWorker(this.workerFile);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, text, file });
    });
  }

  private ensureWorker(file: string): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(file);
    worker.on('message', (message: { id: number; problems?: DatasetProblem[]; error?: string }) => {
      const pending = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (this.pending.size === 0) worker.unref();
      if (!pending) return;
      if (message.problems) pending.resolve(message.problems);
      else pending.reject(new Error(message.error ?? 'validation failed'));
    });
    const failAll = (error: Error): void => {
      for (const pending of this.pending.values()) pending.reject(error);
      this.pending.clear();
      this.worker = undefined;
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`the dataset worker exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  dispose(): void {
    const worker = this.worker;
    this.worker = undefined;
    for (const pending of this.pending.values()) pending.reject(new Error('disposed'));
    this.pending.clear();
    void worker?.terminate();
  }
}

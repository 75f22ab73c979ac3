/**
 * @file One worker thread serving id-tagged requests, each answered by one reply: started on first use, referenced
 * only while requests are in flight (an idle worker never keeps a process alive), and every pending request
 * rejected with WorkerFailedError when the worker fails, exits or is disposed. Used by the probes' proximity worker
 * and the extension's dataset validator; each decides what a failure means for it (score inline, or give up).
 */
import { Worker } from 'node:worker_threads';

/** What a worker sends back: the request's id, and `error` when it could not serve the request. */
export interface WorkerReply {
  readonly id: number;
  readonly error?: string;
  /** The error's name (RidgeInputError …), given to the rejection's Error so callers can tell errors apart. */
  readonly errorName?: string;
}

/** The worker itself is gone (crashed, exited or disposed), as opposed to a request it answered with an error. */
export class WorkerFailedError extends Error {
  override readonly name = 'WorkerFailedError';
  constructor(message: string, readonly disposed = false) {
    super(message);
  }
}

interface Pending<Reply> {
  /** The worker serving it: a failure rejects only that worker's requests, not a newer worker's. */
  readonly worker: Worker;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: Error) => void;
}

export class RequestWorker<Request extends object, Reply extends WorkerReply> {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending<Reply>>();

  /** @param label names the worker in failure messages ("the <label> worker exited (code 1)"). */
  constructor(private readonly file: string, private readonly label: string) {}

  /**
   * Post `message` with a fresh id; resolves to the reply, rejects with its error or a WorkerFailedError. Without
   * `transfer` the message is copied (structured clone: the caller keeps its arrays); buffers in `transfer` move
   * to the worker instead and are unusable here afterwards.
   */
  request(message: Request, transfer: readonly ArrayBuffer[] = []): Promise<Reply> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { worker, resolve, reject });
      worker.ref();
      worker.postMessage({ ...message, id }, [...transfer]);
    });
  }

  /** Post a message that expects no reply (e.g. a cancellation) to the running worker; nothing when none runs. */
  notify(message: object): void {
    this.worker?.postMessage(message);
  }

  /**
   * Start the worker now, ahead of its first request, so that its start-up (thread, bundle, native modules)
   * overlaps with the caller's own work. Until a request is in flight it does not keep the process alive.
   */
  start(): void {
    const worker = this.ensureWorker();
    if (![...this.pending.values()].some((pending) => pending.worker === worker)) worker.unref();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.file);
    worker.on('message', (reply: Reply) => {
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      this.pending.delete(reply.id);
      if (![...this.pending.values()].some((other) => other.worker === worker)) worker.unref();
      if (reply.error !== undefined) {
        const error = new Error(reply.error);
        if (reply.errorName !== undefined) error.name = reply.errorName;
        pending.reject(error);
      }
      else pending.resolve(reply);
    });
    const failAll = (error: WorkerFailedError): void => {
      if (this.worker === worker) this.worker = undefined;
      this.rejectAll(error, worker);
    };
    worker.on('error', (error) => failAll(new WorkerFailedError(`the ${this.label} worker failed: ${error.message}`)));
    worker.on('exit', (code) => failAll(new WorkerFailedError(`the ${this.label} worker exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  /** Reject the requests in flight on `worker` (all of them when it is not given). */
  private rejectAll(error: WorkerFailedError, worker?: Worker): void {
    const stranded: Pending<Reply>[] = [];
    for (const [id, pending] of this.pending) {
      if (worker !== undefined && pending.worker !== worker) continue;
      this.pending.delete(id);
      stranded.push(pending);
    }
    for (const pending of stranded) pending.reject(error);
  }

  /** Stop the worker; requests in flight reject with a WorkerFailedError marked `disposed`. */
  async dispose(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.rejectAll(new WorkerFailedError(`the ${this.label} worker was disposed`, true));
    await worker?.terminate();
  }
}

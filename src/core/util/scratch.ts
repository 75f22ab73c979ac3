/**
 * @file Typed-array buffers kept and reused by name, grown when a larger length is asked for.
 *
 * Why: on the benchmark VM a fresh 100 MB typed array costs more in page faults than a Gemm of that size, so the
 * probe engine's per-chunk buffers (ridge.ts, blockReflectors.ts, runtime/bandSweep.ts) are made once per fit or
 * session and handed out again as views. A buffer that is grown comes back zeroed; otherwise its contents are
 * whatever the last user left.
 */
export type ScratchDtype = 'float32' | 'float64';
export type ScratchArray<D extends ScratchDtype> = D extends 'float32' ? Float32Array : Float64Array;

export class ScratchBuffers {
  private readonly buffers = new Map<string, Float32Array | Float64Array>();

  /**
   * Serve `name` from `buffer` (memory someone else owns, such as a kernel's) until `forget`: `get` returns views
   * of it while it is long enough.
   */
  lend<D extends ScratchDtype>(dtype: D, name: string, buffer: ScratchArray<D>): void {
    this.buffers.set(`${dtype}:${name}`, buffer);
  }

  /** Stop serving `name` from the buffer it had (a lent one goes back to its owner); the next `get` makes a fresh one. */
  forget(dtype: ScratchDtype, name: string): void {
    this.buffers.delete(`${dtype}:${name}`);
  }

  /** A view of `length` values of the buffer named `name` for `dtype`. */
  get<D extends ScratchDtype>(dtype: D, name: string, length: number): ScratchArray<D> {
    const key = `${dtype}:${name}`;
    let buffer = this.buffers.get(key);
    if (buffer === undefined || buffer.length < length) {
      buffer = dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
      this.buffers.set(key, buffer);
    }
    return buffer.subarray(0, length) as ScratchArray<D>;
  }
}

/**
 * @file Loading the probes' WebAssembly kernels (leverageSweeps.wat, twoTargetPredictions.wat, centring.wat,
 * reductionKernels.wat), which scripts/build-wasm.mjs assembles into base64 constants: instances per thread (each
 * worker isolate has its own), a memory grown to what a call needs, and the memories a thread keeps for its next fit.
 */

export interface KernelExports {
  readonly memory: WebAssembly.Memory;
}

/** Compiled modules by their base64 bytes: a kernel with an instance per use compiles once per thread. */
const compiled = new Map<string, WebAssembly.Module>();

/** A new instance (with a memory of its own) of the kernel whose bytes are `base64`. */
export function instantiateKernel<T extends KernelExports>(base64: string): T {
  let module = compiled.get(base64);
  if (module === undefined) {
    module = new WebAssembly.Module(Buffer.from(base64, 'base64'));
    compiled.set(base64, module);
  }
  return new WebAssembly.Instance(module).exports as unknown as T;
}

/** The kernel memory's buffer, grown first to at least `bytes` (a grown memory has a new buffer: take views after this). */
export function kernelMemory(memory: WebAssembly.Memory, bytes: number): ArrayBuffer {
  const have = memory.buffer.byteLength;
  if (have < bytes) memory.grow(Math.ceil((bytes - have) / 65_536));
  return memory.buffer;
}

/** `offset` rounded up to a multiple of 16 (v128 and float64 views need at least 8). */
export function aligned(offset: number): number {
  return Math.ceil(offset / 16) * 16;
}

/** Rows (of `rowBytes` bytes each) per block copied into a kernel's memory: at most `blockBytes`, at least 1, at most `total`. */
export function blockRows(total: number, rowBytes: number, blockBytes: number): number {
  return Math.max(1, Math.min(total, Math.floor(blockBytes / Math.max(1, rowBytes))));
}

const keptSlots = new Set<KeptKernelMemory<unknown>>();

/**
 * One kernel memory kept on this thread for the next fit (a fresh WebAssembly memory per fit costs its page faults
 * again), handed out only while no fit is using it: two fits on one thread may interleave at awaits.
 */
export class KeptKernelMemory<T> {
  private idle: T | undefined;

  constructor() {
    keptSlots.add(this as KeptKernelMemory<unknown>);
  }

  /** The kept memory when it is free and `usable`, now taken (not handed out again until kept anew). */
  take(usable: (kept: T) => boolean): T | undefined {
    const kept = this.idle;
    if (kept === undefined || !usable(kept)) return undefined;
    this.idle = undefined;
    return kept;
  }

  /** The memory kept now, if any (to decide whether another should replace it). */
  get current(): T | undefined {
    return this.idle;
  }

  keep(memory: T): void {
    this.idle = memory;
  }

  forget(): void {
    this.idle = undefined;
  }
}

/** Let every kept kernel memory of this thread go (a fit worker whose queue is empty holds no fit-sized memory). */
export function forgetKeptKernelMemory(): void {
  for (const slot of keptSlots) slot.forget();
}

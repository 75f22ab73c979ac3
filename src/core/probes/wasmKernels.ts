/**
 * @file Loading the probes' WebAssembly kernels (leverageSweeps.wat, twoTargetPredictions.wat), which
 * scripts/build-wasm.mjs assembles into base64 constants: one instance per thread (each worker isolate has its
 * own), and a memory grown to what a call needs.
 */

export interface KernelExports {
  readonly memory: WebAssembly.Memory;
}

/** An instance of the kernel whose bytes are `base64`. */
export function instantiateKernel<T extends KernelExports>(base64: string): T {
  return new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(base64, 'base64'))).exports as unknown as T;
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

import * as os from 'node:os';

/** The cores this process may use (at least 1): the default thread count of onnxruntime sessions and products. */
export function allCores(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

/**
 * @file The only module that imports onnxruntime-node: session creation with execution-provider fallback.
 *
 * onnxruntime-node does not fall back by itself: `executionProviders: ['cuda', 'cpu']` throws at create time
 * when CUDA is unusable. So we try one provider at a time, remember why each failed, and report the one in use.
 */
import * as ort from 'onnxruntime-node';
import * as os from 'node:os';
import type { DeviceInfo, DeviceName, DeviceRequest } from '../model/types';

export { ort };

export interface SessionOptions {
  readonly device?: DeviceRequest;
  /** Defaults to the number of CPU cores. */
  readonly intraOpNumThreads?: number;
  /** Defaults to 'all' (about 10% faster than 'disabled' on CPU). */
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Write the graph as optimised by onnxruntime to this path (diagnostics and tests of fused graphs). */
  readonly optimizedModelFilePath?: string;
}

export interface CreatedSession {
  readonly session: ort.InferenceSession;
  readonly device: DeviceInfo;
}

const AUTO_ORDER: readonly DeviceName[] = ['cuda', 'webgpu', 'cpu'];

/** Ask onnxruntime which providers are bundled; CUDA without its provider libraries is reported as not bundled. */
export function bundledProviders(): ReadonlySet<string> {
  const listed = ort.listSupportedBackends?.() ?? [];
  return new Set(listed.filter((backend) => backend.bundled).map((backend) => backend.name));
}

function providerOptions(device: DeviceName): ort.InferenceSession.SessionOptions['executionProviders'] {
  return device === 'cpu' ? ['cpu'] : [device];
}

/**
 * Create a session on the requested device. `auto` tries CUDA, then WebGPU, then CPU; an explicit device that
 * fails throws an error that says why (no silent fallback when the user forced a device).
 */
export async function createSession(model: string | Uint8Array, options: SessionOptions = {}): Promise<CreatedSession> {
  const requested = options.device ?? 'auto';
  const order = requested === 'auto' ? AUTO_ORDER : [requested];
  const fallbacks: string[] = [];
  const bundled = bundledProviders();
  for (const device of order) {
    if (device !== 'cpu' && !bundled.has(device)) {
      fallbacks.push(`${device}: provider not available in this onnxruntime-node install` +
        (device === 'cuda' ? ' (its CUDA provider libraries are downloaded at install time on machines with internet)' : ''));
      continue;
    }
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: providerOptions(device),
      graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
      ...(options.optimizedModelFilePath ? { optimizedModelFilePath: options.optimizedModelFilePath } : {}),
      intraOpNumThreads: options.intraOpNumThreads ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length),
      interOpNumThreads: 1,
    };
    try {
      const session = typeof model === 'string'
        ? await ort.InferenceSession.create(model, sessionOptions)
        : await ort.InferenceSession.create(model, sessionOptions);
      return { session, device: { requested, used: device, fallbacks } };
    } catch (error) {
      fallbacks.push(`${device}: ${firstLine(error)}`);
    }
  }
  throw new Error(`No execution provider could run the model (requested: ${requested}).\n  ${fallbacks.join('\n  ')}`);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].slice(0, 300);
}

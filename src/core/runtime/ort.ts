/**
 * @file The only module that imports onnxruntime-node: session creation with execution-provider fallback.
 *
 * onnxruntime-node does not fall back by itself: `executionProviders: ['cuda', 'cpu']` throws at create time
 * when CUDA is unusable. So each provider is first probed (devices.ts: a one-node session, once per thread and
 * cached), then the model's session is created on the first usable one; `auto` tries cuda → webgpu → cpu and
 * records why each skipped provider was not used. A device the user forced fails with DeviceUnavailableError
 * (what is missing and how to get it) instead of silently running elsewhere.
 */
import './onnxruntimeTelemetry';
import * as ort from 'onnxruntime-node';
import type { DeviceInfo, DeviceName, DeviceRequest } from '../model/types';
import { allCores } from '../util/cores';
import { AUTO_DEVICE_ORDER, DeviceUnavailableError, conciseOrtError, fullOrtError, probeProvider } from './devices';

export { ort };
export { DeviceUnavailableError } from './devices';

export interface SessionOptions {
  readonly device?: DeviceRequest;
  /** Defaults to the number of CPU cores. */
  readonly intraOpNumThreads?: number;
  /** Defaults to 'all' (about 10% faster than 'disabled' on CPU). */
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Write the graph as optimised by onnxruntime to this path (diagnostics and tests of fused graphs). */
  readonly optimizedModelFilePath?: string;
  /**
   * onnxruntime's per-node profile (which provider ran each node, kernel times, copies between devices), written
   * as onnxruntime_profile_*.json in the working folder when the session ends profiling (bench/device-check).
   */
  readonly enableProfiling?: boolean;
  /** WebGPU validation: 'basic' (onnxruntime's default) checks more; 'wgpuOnly' skips onnxruntime's own checks. */
  readonly webgpuValidation?: 'disabled' | 'wgpuOnly' | 'basic' | 'full';
  /**
   * Folder holding the external-data files of a model given as bytes (onnxruntime's
   * `session.model_external_initializers_file_folder_path`); without it, data is looked up in the working folder.
   */
  readonly externalDataFolder?: string;
}

export interface CreatedSession {
  readonly session: ort.InferenceSession;
  readonly device: DeviceInfo;
}

/** Ask onnxruntime which providers are bundled (compiled in; says nothing about whether they can run here). */
export function bundledProviders(): ReadonlySet<string> {
  const listed = ort.listSupportedBackends?.() ?? [];
  return new Set(listed.filter((backend) => backend.bundled).map((backend) => backend.name));
}

function providerOptions(device: DeviceName, options: SessionOptions): ort.InferenceSession.SessionOptions['executionProviders'] {
  if (device === 'webgpu' && options.webgpuValidation) return [{ name: 'webgpu', validationMode: options.webgpuValidation }];
  return [device];
}

/**
 * Create a session on the requested device. `auto` tries CUDA, then WebGPU, then CPU, skipping providers whose
 * probe failed; an explicit device that cannot run throws DeviceUnavailableError (no silent fallback when the user
 * forced a device).
 */
export async function createSession(model: string | Uint8Array, options: SessionOptions = {}): Promise<CreatedSession> {
  const requested = options.device ?? 'auto';
  const order = requested === 'auto' ? AUTO_DEVICE_ORDER : [requested];
  const fallbacks: string[] = [];
  for (const device of order) {
    if (device !== 'cpu') {
      const probe = await probeProvider(device);
      if (!probe.usable) {
        if (requested !== 'auto') throw new DeviceUnavailableError(device, probe.detail, probe.remedy);
        fallbacks.push(`${device}: ${probe.detail}`);
        continue;
      }
    }
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: providerOptions(device, options),
      graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
      ...(options.optimizedModelFilePath ? { optimizedModelFilePath: options.optimizedModelFilePath } : {}),
      // onnxruntime-node refuses enableProfiling without a file prefix; the file lands in the working folder.
      ...(options.enableProfiling ? { enableProfiling: true, profileFilePrefix: 'onnxruntime_profile' } : {}),
      intraOpNumThreads: options.intraOpNumThreads ?? allCores(),
      interOpNumThreads: 1,
      ...(options.externalDataFolder ? { extra: { session: { model_external_initializers_file_folder_path: options.externalDataFolder } } } : {}),
    };
    try {
      const session = typeof model === 'string'
        ? await ort.InferenceSession.create(model, sessionOptions)
        : await ort.InferenceSession.create(model, sessionOptions);
      return { session, device: { requested, used: device, fallbacks } };
    } catch (error) {
      // The provider works (its probe passed) but not for this model: an unsupported operator, out of memory…
      if (requested !== 'auto' && device !== 'cpu') {
        throw new DeviceUnavailableError(device, `the provider works here but could not load this model: ${conciseOrtError(error)}`,
          ['Try --device cpu, or a different export (opset, fp32/fp16 variant).']);
      }
      // The whole message: onnxruntime often puts the reason on a later line.
      fallbacks.push(`${device}: could not load this model: ${fullOrtError(error)}`);
    }
  }
  throw new Error(`No execution provider could run the model (requested: ${requested}).\n  ${fallbacks.join('\n  ')}`);
}

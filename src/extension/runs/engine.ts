/**
 * The one seam between the extension and the core's run orchestration (src/core/experiments/run.ts, `runProbe`).
 * The signature follows the core's contract; `bindProbeEngine` is where extension.ts plugs the real function in,
 * and integration tests can plug in a counting wrapper.
 */
import type { ModelFormat } from '../../core/model/modelFolder';
import type { ProbeResults } from '../../core/experiments/results';
import type { DeviceRequest, ModelPrecision, ResidualModel, TokenChoice } from '../../core/model/types';
import type { TraceMark } from './editorLoopTrace';

export type ProbeStage = 'dataset' | 'model' | 'tokenize' | 'extract' | 'fit' | 'write';

export interface ProbeProgress {
  readonly stage: ProbeStage;
  readonly done?: number;
  readonly total?: number;
  readonly message: string;
  readonly tokensPerSecond?: number;
}

export interface ProbeRunOptions {
  /** Path, or `builtin:<name>`. */
  readonly dataset: string;
  /** `builtin:glove-100d`, a model folder, a .onnx file or a hub id. */
  readonly model: string;
  readonly prompt?: string;
  /** Which token is read (default entity-last). */
  readonly token?: TokenChoice;
  readonly device?: DeviceRequest;
  readonly batchSize?: number;
  /** safetensors checkpoint or ONNX export, where the model has both (setting spacetimeProbe.modelFormat). */
  readonly format?: ModelFormat;
  /** What a checkpoint computes in (setting spacetimeProbe.precision; loadModel's precision). */
  readonly precision?: ModelPrecision;
  readonly alphas?: number[];
  readonly seed?: number;
  /** Bootstrap resamples for the per-layer intervals (0: none). */
  readonly bootstrapResamples?: number;
  readonly outDir: string;
  /** Activation cache folder; `false` disables the cache. */
  readonly cacheDir?: string | false;
  readonly cacheMaxBytes?: number;
  readonly skipInvalid?: boolean;
  /** Ask the core to write layer_predictions/layer_###.json for every layer (the map's layer slider). */
  readonly layerPredictions?: boolean;
  /** Where the per-layer .npy files go during the run (deleted afterwards: the activation cache keeps vectors). */
  readonly activationsDir?: string;
  /** A model already loaded (kept warm between runs); the engine must not dispose it. */
  readonly loadedModel?: ResidualModel;
}

export interface ProbeRunHooks {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ProbeProgress) => void;
  readonly log?: (line: string) => void;
  /** Timestamps the engine took on its side (the worker's stages), for the editor-loop trace. */
  readonly onTrace?: (marks: readonly TraceMark[]) => void;
}

/** Resolves to the results as the run's results.json holds them (parsed from it: NaN written as null). */
export type ProbeEngine = (options: ProbeRunOptions, hooks: ProbeRunHooks) => Promise<ProbeResults>;

/** Thrown when no engine is bound (the core's run orchestration is not part of this build). */
export class ProbeEngineUnavailableError extends Error {
  override readonly name = 'ProbeEngineUnavailableError';
}

let engine: ProbeEngine | undefined;

export function bindProbeEngine(next: ProbeEngine | undefined): void {
  engine = next;
}

export function probeEngine(): ProbeEngine {
  if (!engine) throw new ProbeEngineUnavailableError('The probe engine (core runProbe) is not available in this build.');
  return engine;
}

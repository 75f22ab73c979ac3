/**
 * Keeps the last loaded model in memory between runs, so edit & re-run does not reload it (GloVe's 340k-word
 * table or an ONNX session take seconds to load; the re-run itself is often under a second thanks to the
 * activation cache). Released after an idle period, when another model or device is asked for, or on dispose.
 */
import { statSync } from 'node:fs';
import type { DeviceRequest, ModelPrecision, ResidualModel } from '../../core/model/types';
import type { ModelFormat } from '../../core/model/modelFolder';
import { loadModel } from '../../core/model/loadModel';
import type { IDisposable } from '../util/disposable';

/** How a model is read and computed (settings spacetimeProbe.modelFormat and spacetimeProbe.precision); default auto. */
export interface ModelChoice {
  readonly format?: ModelFormat;
  readonly precision?: ModelPrecision;
}

export type ModelLoader = (spec: string, device: DeviceRequest, signal?: AbortSignal, choice?: ModelChoice) => Promise<ResidualModel>;

/** The loader the extension host and the probe worker keep warm: loadModel with only the choices that are set. */
export const loadChosenModel: ModelLoader = (spec, device, signal, choice = {}) => loadModel(spec, {
  device, ...(signal ? { signal } : {}), ...(choice.format ? { format: choice.format } : {}), ...(choice.precision ? { precision: choice.precision } : {}),
});

const DEFAULT_IDLE_MS = 5 * 60_000;

/**
 * Spec + device + format + precision, plus the file's modification time for local paths (a re-exported model must be
 * reloaded; a float16 model must not answer for a float32 request).
 */
export function warmModelKey(spec: string, device: DeviceRequest, choice: ModelChoice = {}): string {
  let stamp = '';
  if (!/^(builtin|hf):/.test(spec)) {
    try {
      stamp = String(statSync(spec).mtimeMs);
    } catch {
      stamp = 'missing';
    }
  }
  return `${spec}\u0000${device}\u0000${choice.format ?? 'auto'}\u0000${choice.precision ?? 'auto'}\u0000${stamp}`;
}

export class WarmModel implements IDisposable {
  private entry: { key: string; model: Promise<ResidualModel> } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(private readonly load: ModelLoader, private readonly idleMs = DEFAULT_IDLE_MS) {}

  async get(spec: string, device: DeviceRequest, signal?: AbortSignal, choice: ModelChoice = {}): Promise<ResidualModel> {
    if (this.disposed) throw new Error('WarmModel is disposed');
    clearTimeout(this.timer);
    const key = warmModelKey(spec, device, choice);
    if (this.entry?.key !== key) {
      this.release();
      const entry = { key, model: this.load(spec, device, signal, choice) };
      this.entry = entry;
      // A failed or cancelled load must not be remembered.
      entry.model.catch(() => { if (this.entry === entry) this.entry = undefined; });
    }
    const model = await this.entry.model;
    this.timer = setTimeout(() => this.release(), this.idleMs);
    return model;
  }

  get loadedKey(): string | undefined {
    return this.entry?.key;
  }

  release(): void {
    clearTimeout(this.timer);
    const entry = this.entry;
    this.entry = undefined;
    void entry?.model.then((model) => model.dispose(), () => undefined);
  }

  dispose(): void {
    this.disposed = true;
    this.release();
  }
}

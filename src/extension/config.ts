/** Typed access to the `spacetimeProbe.*` settings (declared in package.json `contributes.configuration`). */
import * as vscode from 'vscode';
import { DEFAULT_TOKEN_CHOICE, MODEL_PRECISIONS, TOKEN_CHOICES, type DeviceRequest, type ModelPrecision, type TokenChoice } from '../core/model/types';

import { MODEL_FORMATS, type ModelFormat } from '../core/model/modelFolder';

export const CONFIG_SECTION = 'spacetimeProbe';
export const DEVICE_REQUESTS: readonly DeviceRequest[] = ['auto', 'cpu', 'webgpu', 'cuda'];
export type RerunOnSave = 'off' | 'onSave' | 'manual';

export interface ProbeSettings {
  readonly device: DeviceRequest;
  /** How to read a model that has both a safetensors checkpoint and an ONNX export. */
  readonly modelFormat: ModelFormat;
  readonly precision: ModelPrecision;
  /** Prompts per model batch; undefined = auto (chosen for the device by the core). */
  readonly batchSize: number | undefined;
  readonly cacheDirectory: string | undefined;
  readonly cacheMaxBytes: number;
  readonly defaultModel: string;
  /** Which token is read: the entity's last (default) or the prompt's last. */
  readonly token: TokenChoice;
  readonly promptTemplates: { readonly space: readonly string[]; readonly time: readonly string[] };
  readonly alphas: readonly number[] | undefined;
  /** Bootstrap resamples per layer for the test R² / proximity error intervals (0: none). */
  readonly bootstrapResamples: number;
  readonly rerunOnSave: RerunOnSave;
  readonly showResidualDiagnostics: boolean;
  readonly residualDiagnosticsCount: number;
  readonly keepRuns: number;
  readonly allLayerPredictions: boolean;
}

export const DEFAULT_TEMPLATES = {
  space: ['{entity}', 'Where is {entity}?', 'What is the location of {entity}?'],
  time: ['{entity}', 'What year was {entity} released?', 'When did {entity} happen?'],
} as const;

function stringList(value: unknown, fallback: readonly string[]): readonly string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') && value.length > 0 ? value : fallback;
}

export function readSettings(scope?: vscode.ConfigurationScope): ProbeSettings {
  const config = vscode.workspace.getConfiguration(CONFIG_SECTION, scope);
  const device = config.get<string>('device', 'auto');
  const templates = config.get<Record<string, unknown>>('promptTemplates', {});
  const alphas = config.get<unknown>('alphas', []);
  const rerun = config.get<string>('rerunOnSave', 'manual');
  const cacheDirectory = config.get<string>('cache.directory', '').trim();
  const token = config.get<string>('token', DEFAULT_TOKEN_CHOICE);
  const modelFormat = config.get<string>('modelFormat', 'auto');
  const precision = config.get<string>('precision', 'auto');
  return {
    device: (DEVICE_REQUESTS as readonly string[]).includes(device) ? (device as DeviceRequest) : 'auto',
    modelFormat: (MODEL_FORMATS as readonly string[]).includes(modelFormat) ? (modelFormat as ModelFormat) : 'auto',
    precision: (MODEL_PRECISIONS as readonly string[]).includes(precision) ? (precision as ModelPrecision) : 'auto',
    // 0 (the default) = auto: 32 on CPU, memory-sized batches on a GPU (src/core/runtime/batchSizing.ts).
    batchSize: Math.floor(config.get<number>('batchSize', 0)) >= 1 ? Math.floor(config.get<number>('batchSize', 0)) : undefined,
    cacheDirectory: cacheDirectory || undefined,
    cacheMaxBytes: Math.max(0.1, config.get<number>('cache.maxSizeGB', 10)) * 1024 ** 3,
    token: (TOKEN_CHOICES as readonly string[]).includes(token) ? (token as TokenChoice) : DEFAULT_TOKEN_CHOICE,
    defaultModel: config.get<string>('defaultModel', 'builtin:glove-100d').trim() || 'builtin:glove-100d',
    promptTemplates: {
      space: stringList(templates?.space, DEFAULT_TEMPLATES.space),
      time: stringList(templates?.time, DEFAULT_TEMPLATES.time),
    },
    bootstrapResamples: Math.max(0, Math.min(100_000, Math.floor(config.get<number>('bootstrapResamples', 1000)))),
    alphas: Array.isArray(alphas) && alphas.length > 0 && alphas.every((a) => typeof a === 'number' && a > 0) ? alphas : undefined,
    rerunOnSave: rerun === 'off' || rerun === 'onSave' ? rerun : 'manual',
    showResidualDiagnostics: config.get<boolean>('diagnostics.showLargestResiduals', false),
    residualDiagnosticsCount: Math.max(1, Math.floor(config.get<number>('diagnostics.residualCount', 10))),
    keepRuns: Math.max(1, Math.floor(config.get<number>('runs.keep', 50))),
    allLayerPredictions: config.get<boolean>('allLayerPredictions', true),
  };
}

/**
 * Write a setting. With `ask` and a folder open, the user picks where (workspace: .vscode/settings.json, or user
 * settings) and nothing is written when they cancel; without `ask` (a value passed by another command or a test)
 * it goes to the workspace when a folder is open, else to the user settings. Returns false when cancelled.
 */
export async function updateSetting(key: string, value: unknown, options: { readonly ask?: boolean } = {}): Promise<boolean> {
  const config = vscode.workspace.getConfiguration(CONFIG_SECTION);
  let target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  if (options.ask && vscode.workspace.workspaceFolders?.length) {
    const picked = await vscode.window.showQuickPick([
      { label: 'Workspace', description: 'this folder only (.vscode/settings.json)', target: vscode.ConfigurationTarget.Workspace },
      { label: 'User', description: 'every workspace (your user settings)', target: vscode.ConfigurationTarget.Global },
    ], { title: `Spacetime Probe: save ${CONFIG_SECTION}.${key} = ${JSON.stringify(value)} in…` });
    if (!picked) return false;
    target = picked.target;
  }
  await config.update(key, value, target);
  return true;
}

/** "Run Probe…": pick dataset, model and prompt template, then run. */
import type { Command } from './command';
import type { Services } from '../services';
import { pickDataset, pickModel, pickPrompt } from '../pickers';
import type { ProbeOutcome } from '../runs/probeRunner';

/** Arguments tests (and other extensions) may pass to skip the pickers. */
export interface RunProbeArguments {
  readonly dataset: string;
  readonly model?: string;
  readonly prompt?: string;
  readonly showResults?: boolean;
}

function isRunProbeArguments(value: unknown): value is RunProbeArguments {
  return typeof value === 'object' && value !== null && typeof (value as { dataset?: unknown }).dataset === 'string';
}

export class RunProbeCommand implements Command {
  readonly id = 'spacetimeProbe.runProbe';
  constructor(private readonly services: Services) {}

  async execute(argument?: unknown): Promise<ProbeOutcome | undefined> {
    if (isRunProbeArguments(argument)) return this.services.runner.run({ ...argument, reason: 'command arguments' });
    const dataset = await pickDataset();
    if (!dataset) return undefined;
    const model = await pickModel(this.services.store);
    if (!model) return undefined;
    const prompt = await pickPrompt(dataset.kind);
    if (prompt === null) return undefined;
    return this.services.runner.run({ dataset: dataset.reference, model, ...(prompt ? { prompt } : {}), reason: 'Run Probe\u2026' });
  }
}

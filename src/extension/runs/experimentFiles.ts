/**
 * The robustness experiments saved in a run folder (experiment_<name>.json, written by the core's runExperiment
 * through the Run Experiment command or the CLI). Plain Node, no vscode import, so it is unit-tested directly.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import {
  EXPERIMENT_NAMES, experimentFileName, validateExperimentResult, type ExperimentResult,
} from '../../core/experiments/experimentResults';

export interface RunExperiments {
  readonly experiments: ExperimentResult[];
  /** One line per file that exists but cannot be used (shown in the log, never thrown). */
  readonly problems: string[];
}

/** Read every experiment file of `runDir`, in the order of EXPERIMENT_NAMES; missing files are simply absent. */
export async function readRunExperiments(runDir: string): Promise<RunExperiments> {
  const experiments: ExperimentResult[] = [];
  const problems: string[] = [];
  for (const name of EXPERIMENT_NAMES) {
    const file = path.join(runDir, experimentFileName(name));
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch {
      continue;
    }
    try {
      const result = validateExperimentResult(JSON.parse(text) as unknown, file);
      if (result.experiment !== name) throw new Error(`${file}: holds a ${result.experiment} experiment`);
      experiments.push(result);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  return { experiments, problems };
}

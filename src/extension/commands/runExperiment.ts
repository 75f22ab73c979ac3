/** "Run Experiment…": pick a run (the one on screen first) and an experiment, then run it on that run's dataset and model. */
import * as vscode from 'vscode';
import type { Command } from './command';
import type { Services } from '../services';
import { ResultsPanel } from '../panels/resultsPanel';
import { pickRuns } from '../pickers';
import { EXPERIMENT_NAMES, isExperimentName, type ExperimentName } from '../../core/experiments/experimentResults';
import type { ExperimentOptionsMap } from '../../core/experiments/runExperiment';
import type { ExperimentRunOutcome } from '../runs/experimentRunner';

const DESCRIPTIONS: Readonly<Record<ExperimentName, { label: string; detail: string }>> = {
  'prompt-variants': { label: 'Prompt variants', detail: 'Probe under four templates (plain, question, 10 random words, upper-cased) and test cross-prompt generalisation' },
  holdout: { label: 'Block holdout', detail: 'Hold out whole countries/states/boroughs or centuries/decades; compare with random rows (proximity error)' },
  mlp: { label: 'Nonlinear (MLP) probe', detail: 'One hidden layer of 256 ReLU units vs the linear probe, per layer (slow: minutes per layer on big models)' },
  neurons: { label: 'Space and time neurons', detail: 'Rank single dimensions by Spearman ρ with latitude, longitude, |lat|, |lon| or year' },
  controls: { label: 'Controls', detail: 'Shuffled labels, random-weights model, PCA baseline (ridge on the top-k components)' },
};

/** Arguments tests (and other extensions) may pass to skip the pickers. */
export interface RunExperimentArguments {
  readonly runId: string;
  readonly experiment: ExperimentName;
  readonly options?: ExperimentOptionsMap[ExperimentName];
  readonly showResults?: boolean;
}

function isRunExperimentArguments(value: unknown): value is RunExperimentArguments {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { runId?: unknown; experiment?: unknown };
  return typeof candidate.runId === 'string' && isExperimentName(candidate.experiment);
}

export class RunExperimentCommand implements Command {
  readonly id = 'spacetimeProbe.runExperiment';
  constructor(private readonly services: Services) {}

  async execute(argument?: unknown): Promise<ExperimentRunOutcome | undefined> {
    if (isRunExperimentArguments(argument)) return this.services.experiments.run(argument);
    // From the Runs view's context menu the argument is the run record (or its id).
    const given = typeof argument === 'string' ? argument : (argument as { id?: unknown } | undefined)?.id;
    let runId = typeof given === 'string' && this.services.store.get(given) ? given : undefined;
    if (!runId) {
      // The run on screen in the results panel, else pick one.
      const onScreen = ResultsPanel.current?.shownRunId;
      if (onScreen && this.services.store.get(onScreen)) runId = onScreen;
      else runId = (await pickRuns(this.services.store, { canPickMany: false, title: 'Run an experiment on which run?' }))?.id;
    }
    if (!runId) return undefined;
    const picked = await vscode.window.showQuickPick(EXPERIMENT_NAMES.map((name) => ({ ...DESCRIPTIONS[name], name })), {
      title: 'Spacetime Probe: Run Experiment', placeHolder: 'Which robustness experiment?', matchOnDetail: true,
    });
    if (!picked) return undefined;
    return this.services.experiments.run({ runId, experiment: picked.name });
  }
}

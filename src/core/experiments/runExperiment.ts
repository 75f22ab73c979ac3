/**
 * @file One entry point for the robustness experiments (issue 8), used by the CLI (`spacetime-probe experiment`)
 * and the extension ("Run Experiment…"): open the dataset and model, get activations through the cache, run the
 * experiment, write `experiment_<name>.json` into the output folder (atomically) and return it.
 *
 * Every experiment's `parameters` (in the file) are accepted back as its options, so
 * `runExperiment(name, inputs, file.parameters)` repeats a run exactly.
 */
import { ExperimentSession, type ExperimentHooks, type ExperimentInputs } from './experimentSession';
import { promptVariantsParameters, runPromptVariants, type PromptVariantsOptions } from './promptVariants';
import { holdoutParameters, runHoldout, type HoldoutOptions } from './holdout';
import { mlpParameters, runMlpExperiment, type MlpExperimentOptions } from './mlpProbe';
import { neuronsParameters, runNeurons, type NeuronsOptions } from './neurons';
import { controlsParameters, runControls, type ControlsOptions } from './controls';
import { writeExperimentResult, type ExperimentName, type ExperimentResult } from './experimentResults';

export interface ExperimentOptionsMap {
  readonly 'prompt-variants': PromptVariantsOptions;
  readonly holdout: HoldoutOptions;
  readonly mlp: MlpExperimentOptions;
  readonly neurons: NeuronsOptions;
  readonly controls: ControlsOptions;
}

export interface ExperimentOutcome {
  readonly result: ExperimentResult;
  readonly file: string;
}

/** Run experiment `name` and write its file; see the file comment. */
export async function runExperiment<N extends ExperimentName>(name: N, inputs: ExperimentInputs, options: ExperimentOptionsMap[N],
  hooks: ExperimentHooks = {}): Promise<ExperimentOutcome> {
  const session = await ExperimentSession.open(inputs, hooks);
  try {
    let result: ExperimentResult;
    switch (name) {
      case 'prompt-variants':
        result = await runPromptVariants(session, promptVariantsParameters(session, options as PromptVariantsOptions), hooks);
        break;
      case 'holdout':
        result = await runHoldout(session, holdoutParameters(session, options as HoldoutOptions), hooks);
        break;
      case 'mlp':
        result = await runMlpExperiment(session, mlpParameters(options as MlpExperimentOptions), hooks);
        break;
      case 'neurons':
        result = await runNeurons(session, neuronsParameters(options as NeuronsOptions), hooks);
        break;
      case 'controls':
        result = await runControls(session, controlsParameters(options as ControlsOptions), hooks);
        break;
      default:
        throw new Error(`unknown experiment ${String(name)}`);
    }
    hooks.signal?.throwIfAborted();
    hooks.onProgress?.({ stage: 'write', message: `writing experiment_${name}.json` });
    const file = writeExperimentResult(inputs.outDir, result);
    return { result, file };
  } finally {
    await session.close();
  }
}

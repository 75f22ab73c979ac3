/**
 * `spacetime-probe experiment <prompt-variants|holdout|mlp|neurons|controls>`: the paper's robustness experiments
 * (src/core/experiments/runExperiment.ts). Writes OUT/experiment_<name>.json next to results.json and prints a
 * compact table. `--from FILE` repeats an earlier run with the parameters recorded in its file.
 */
import * as path from 'node:path';
import type { CliCommand, CliIo } from '../command';
import { InputError, UsageError, intOption, parseCommandArgs } from '../command';
import { fixed, formatTable, ProgressLine } from '../format';
import type { DeviceRequest } from '../../core/model/types';
import { GLOVE_MODEL_ID } from '../../core/model/glove/glove';
import { parseToken, promptOption, yearRangeOption } from './probeCommands';
import { DEFAULT_ALPHAS } from '../../core/probes/probe';
import { runExperiment, type ExperimentOptionsMap } from '../../core/experiments/runExperiment';
import { ExperimentInputError } from '../../core/experiments/experimentSession';
import {
  CONTROL_NAMES, EXPERIMENT_NAMES, ExperimentFileError, isExperimentName, readExperimentResult,
  type ControlName, type ControlsResult, type ExperimentName, type ExperimentResult, type HoldoutResult, type MlpResult,
  type NeuronsResult, type PromptVariantsResult,
} from '../../core/experiments/experimentResults';
import type { RunProgress } from '../../core/experiments/run';

const DEVICES: readonly DeviceRequest[] = ['auto', 'cpu', 'webgpu', 'cuda'];

/** Options that only one experiment takes (anything else given with that experiment is a usage error). */
const SPECIFIC: Readonly<Record<ExperimentName, readonly string[]>> = {
  'prompt-variants': ['template', 'cross-layers'],
  holdout: ['block', 'min-block-rows', 'max-blocks', 'layer'],
  mlp: ['hidden', 'learning-rate', 'mlp-batch', 'max-epochs', 'patience', 'weight-decays', 'validation-fraction'],
  neurons: ['top', 'views', 'view-entities'],
  controls: ['controls', 'pca-k', 'random-weights-seed'],
};

const OPTIONS = {
  dataset: { type: 'string' }, model: { type: 'string' }, out: { type: 'string' }, prompt: { type: 'string' }, 'prompt-file': { type: 'string' }, token: { type: 'string' },
  device: { type: 'string' }, 'batch-size': { type: 'string' }, 'cache-dir': { type: 'string' }, 'no-cache': { type: 'boolean', default: false },
  'skip-invalid': { type: 'boolean', default: false }, 'year-range': { type: 'string' }, seed: { type: 'string' }, alphas: { type: 'string' }, layers: { type: 'string' },
  'keep-activations': { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, from: { type: 'string' },
  template: { type: 'string', multiple: true }, 'cross-layers': { type: 'string' },
  block: { type: 'string' }, 'min-block-rows': { type: 'string' }, 'max-blocks': { type: 'string' }, layer: { type: 'string' },
  hidden: { type: 'string' }, 'learning-rate': { type: 'string' }, 'mlp-batch': { type: 'string' }, 'max-epochs': { type: 'string' },
  patience: { type: 'string' }, 'weight-decays': { type: 'string' }, 'validation-fraction': { type: 'string' },
  top: { type: 'string' }, views: { type: 'string' }, 'view-entities': { type: 'string' },
  controls: { type: 'string' }, 'pca-k': { type: 'string' }, 'random-weights-seed': { type: 'string' },
} as const;

function numberList(name: string, value: string, check: (x: number) => boolean, what: string): number[] {
  const values = value.split(',').map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((x) => !Number.isFinite(x) || !check(x))) throw new UsageError(`--${name} must be a comma-separated list of ${what}, got "${value}"`);
  return values;
}

function positiveNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new UsageError(`--${name} must be a positive number, got "${value}"`);
  return parsed;
}

function optionalInt(name: string, value: string | undefined, min: number): number | undefined {
  return value === undefined ? undefined : intOption(name, value, 0, min);
}

function shorten(text: string, width = 28): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** The compact table printed for each experiment. */
export function formatExperiment(result: ExperimentResult): string {
  switch (result.experiment) {
    case 'prompt-variants': return formatPromptVariants(result);
    case 'holdout': return formatHoldout(result);
    case 'mlp': return formatMlp(result);
    case 'neurons': return formatNeurons(result);
    case 'controls': return formatControls(result);
  }
}

function formatPromptVariants(result: PromptVariantsResult): string {
  const labels = result.templates.map((template, index) => `T${index + 1}`);
  const legend = result.templates.map((template, index) => `  T${index + 1} = ${JSON.stringify(template.template)} (best layer ${template.bestLayer}, test R² ${fixed(template.bestTestR2)})`).join('\n');
  const layerIndices = result.templates[0]?.layers.map((layer) => layer.index) ?? [];
  const rows = layerIndices.map((layer, position) => [String(layer), ...result.templates.map((template) => fixed(template.layers[position].testR2))]);
  const perLayer = formatTable(['layer', ...labels.map((label) => `${label} R²`)], rows, ['right', ...labels.map(() => 'right' as const)]);
  const matrix = labels.map((label, a) => [`train ${label} (L${result.templates[a].bestLayer})`,
    ...labels.map((_, b) => fixed(result.cross.find((cell) => cell.train === a && cell.test === b)?.testR2 ?? Number.NaN))]);
  const cross = formatTable(['cross-prompt test R²', ...labels.map((label) => `test ${label}`)], matrix, ['left', ...labels.map(() => 'right' as const)]);
  return `templates (${result.entities} entities usable under all):\n${legend}\n\ntest R² per layer:\n${perLayer}\n${cross}`;
}

function formatHoldout(result: HoldoutResult): string {
  const unit = result.distance === 'greatCircleKm' ? 'km' : 'years';
  const shown = result.blocks.slice(0, 25);
  const rows = shown.map((block) => [shorten(block.block, 24), String(block.rows), fixed(block.holdout.proximityError), fixed(block.random.proximityError),
    block.holdout.meanDistance.toFixed(0), block.random.meanDistance.toFixed(0)]);
  const table = formatTable([result.parameters.blockColumn, 'rows', 'prox. holdout', 'prox. random', `dist. holdout (${unit})`, `dist. random (${unit})`], rows,
    ['left', 'right', 'right', 'right', 'right', 'right']);
  const more = result.blocks.length > shown.length ? `… ${result.blocks.length - shown.length} more blocks in the file\n` : '';
  const s = result.summary;
  return `layer ${result.layer} (${result.layerChosenBy === 'option' ? 'given' : 'best linear layer'}; default split test R² ${fixed(result.defaultSplit.testR2)}, ` +
    `proximity error ${fixed(result.defaultSplit.proximityError)})\n${table}${more}` +
    `mean over ${s.blocks} blocks (${s.heldOutRows} rows): proximity error holdout ${fixed(s.holdoutProximityError)} vs random ${fixed(s.randomProximityError)} ` +
    `(row-weighted ${fixed(s.holdoutProximityErrorWeighted)} vs ${fixed(s.randomProximityErrorWeighted)}); ` +
    `distance ${s.holdoutMeanDistance.toFixed(0)} vs ${s.randomMeanDistance.toFixed(0)} ${unit}; ` +
    `${result.skippedBlocks.count} blocks under ${result.parameters.minBlockRows} rows not held out\n`;
}

function formatMlp(result: MlpResult): string {
  const rows = result.layers.map((layer) => [String(layer.index), fixed(layer.linear.testR2), fixed(layer.mlp.testR2), fixed(layer.mlp.testR2 - layer.linear.testR2),
    fixed(layer.linear.proximityError), fixed(layer.mlp.proximityError), String(layer.mlp.weightDecay), `${layer.mlp.bestEpoch}/${layer.mlp.epochs}`]);
  return formatTable(['layer', 'linear R²', 'MLP R²', 'gain', 'linear prox.', 'MLP prox.', 'weight decay', 'best/epochs'], rows,
    ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right']);
}

function formatNeurons(result: NeuronsResult): string {
  const rows = result.layers.map((layer) => [String(layer.index), ...result.neuronTargets.map((target) => {
    const top = layer.top[target]?.[0];
    return top ? `#${top.dim} ${fixed(top.rho)}` : 'n/a';
  })]);
  const table = formatTable(['layer', ...result.neuronTargets.map((target) => `top dim ρ (${target})`)], rows, ['right', ...result.neuronTargets.map(() => 'right' as const)]);
  const best = result.neuronTargets.map((target) => {
    const neuron = result.best[target];
    return neuron ? `${target}: layer ${neuron.layer} dim ${neuron.dim} ρ ${fixed(neuron.rho)}` : `${target}: n/a`;
  }).join('; ');
  return `${table}strongest: ${best}\n${result.mlpNeurons.exposed ? '' : 'MLP neurons: not exposed (residual dimensions ranked instead)\n'}`;
}

function formatControls(result: ControlsResult): string {
  const ks = result.layers[0]?.pca?.map((score) => score.k) ?? [];
  const header = ['layer', 'linear R²', ...(result.layers[0]?.shuffled ? ['shuffled R²'] : []), ...(result.randomWeights ? ['random-weights R²'] : []),
    ...ks.map((k) => `PCA-${k} R²`)];
  const rows = result.layers.map((layer) => [String(layer.index), fixed(layer.linear.testR2),
    ...(layer.shuffled ? [fixed(layer.shuffled.testR2)] : []),
    ...(result.randomWeights ? [fixed(result.randomWeights.layers.find((random) => random.index === layer.index)?.testR2 ?? Number.NaN)] : []),
    ...(layer.pca ?? []).map((score) => fixed(score.testR2))]);
  const note = result.randomWeights ? `random weights: ${result.randomWeights.method}\n` : '';
  return formatTable(header, rows, header.map(() => 'right' as const)) + note;
}

function experimentUsage(): string {
  return `usage: spacetime-probe experiment <${EXPERIMENT_NAMES.join('|')}> --dataset FILE [--model SPEC] [--out DIR] [options]

Runs one of the paper's robustness experiments on the activations of every layer (through the activation
cache: after \`spacetime-probe run\` with the same model, prompt and dataset nothing runs through the model again)
and writes OUT/experiment_<name>.json (every parameter included) next to results.json.

  prompt-variants  probe per template (plain, a question, 10 random words first, upper-cased) and cross-prompt
                   generalisation (probe trained on one template's mean-centred activations, tested on another's)
  holdout          hold out whole blocks (country/state/borough, century/decade/year, entity type), train on the
                   rest, compare the proximity error with holding out as many random rows
  mlp              one-hidden-layer MLP probe (256 ReLU, AdamW, weight decay on a validation split, early
                   stopping) next to the linear probe, per layer
  neurons          rank single dimensions by Spearman ρ with latitude, longitude, |lat|, |lon| or year
  controls         shuffled-label probe, random-weights model, PCA baseline (ridge on the top-k components)

common options:
  --dataset FILE       CSV or JSONL dataset, or builtin:<name>
  --model SPEC         ${GLOVE_MODEL_ID} (default), a Hub-layout folder, a .onnx file, or hf:<repo>[@rev]
  --out DIR            folder for experiment_<name>.json (default ./spacetime-probe-run, as \`run\`)
  --prompt TEMPLATE    prompt template with {entity} or {ENTITY} (default "{entity}")
  --prompt-file FILE   read the template from a file (for long templates; at most 64 KiB)
  --token T            entity-last (default: the entity's last token) or prompt-last, as for \`run\`
  --seed N             seed of the random split (datasets without is_test) and of every random choice (default 0)
  --alphas a,b,…       ridge alpha grid (default: the paper's 12 values 10^0.8…10^4.1)
  --layers all|a,b,…   layers to run (default all)
  --device D           auto|cpu|webgpu|cuda
  --batch-size N       prompts per model run (default 32)
  --cache-dir DIR      activation cache folder;  --no-cache  do not use the cache
  --keep-activations   keep the activation folders written under OUT/experiment_activations/
  --skip-invalid       skip invalid dataset rows with warnings
  --year-range MIN:MAX plausible years of a time dataset (default -10000:2200)
  --from FILE          repeat an earlier experiment: its dataset, model and parameters (flags given here win)
  --json               print the experiment JSON instead of the table

prompt-variants:  --template T (repeat for each; default: the four above)   --cross-layers best|all (default best)
holdout:          --block COLUMN (default: block, country, state_id, borough_name, type…; time: century|decade|year
                  derived from the year when no such column)   --min-block-rows N (default 25)
                  --max-blocks N (largest first; default all)   --layer N (default: best linear layer)
mlp:              --hidden N (256)  --learning-rate X (0.001)  --mlp-batch N (256)  --max-epochs N (100)
                  --patience N (5)  --weight-decays a,b,… (0.01,0.1,1,10)  --validation-fraction X (0.2)
neurons:          --top N (10 per target and layer)  --views N (3 per target)  --view-entities N (2000)
controls:         --controls ${CONTROL_NAMES.join(',')} (default all)   --pca-k a,b,… (2,5,10,20,50,100)
                  --random-weights-seed N (1)
`;
}

function progressReporter(io: CliIo): { progress: ProgressLine; onProgress: (update: RunProgress) => void } {
  const progress = new ProgressLine(io);
  return { progress, onProgress: (update) => progress.update(update.stage, update.message, update.done, update.total) };
}

export const experimentCommand: CliCommand = {
  name: 'experiment',
  summary: 'robustness experiments: prompt-variants, holdout, mlp, neurons, controls (writes experiment_<name>.json)',
  usage: experimentUsage(),
  async run(args, io) {
    const { values, positionals } = parseCommandArgs('experiment', args, OPTIONS);
    const [name, extra] = positionals;
    if (name === undefined) throw new UsageError(`experiment: name one of ${EXPERIMENT_NAMES.join(', ')}`);
    if (!isExperimentName(name)) throw new UsageError(`experiment: unknown experiment "${name}" (known: ${EXPERIMENT_NAMES.join(', ')})`);
    if (extra !== undefined) throw new UsageError(`experiment: unexpected argument "${extra}"`);
    const given = values as Record<string, unknown>;
    for (const [other, names] of Object.entries(SPECIFIC)) {
      if (other === name) continue;
      for (const option of names) {
        if (given[option] !== undefined) throw new UsageError(`--${option} applies to the ${other} experiment, not ${name}`);
      }
    }

    let base: Partial<ExperimentResult> = {};
    let baseParameters: Record<string, unknown> = {};
    if (values.from !== undefined) {
      let previous: ExperimentResult;
      try {
        previous = readExperimentResult(values.from);
      } catch (error) {
        if (error instanceof ExperimentFileError) throw new InputError(error.message);
        throw error;
      }
      if (previous.experiment !== name) throw new UsageError(`--from ${values.from} holds a ${previous.experiment} experiment, not ${name}`);
      base = previous;
      baseParameters = { ...previous.parameters };
    }
    const dataset = values.dataset ?? base.dataset;
    if (!dataset) throw new UsageError('--dataset is required');
    const device = (values.device ?? 'auto') as DeviceRequest;
    if (!DEVICES.includes(device)) throw new UsageError(`--device must be one of ${DEVICES.join(', ')}, got "${values.device}"`);
    const layersOption = values.layers === undefined ? undefined
      : values.layers === 'all' ? 'all' as const : numberList('layers', values.layers, (x) => Number.isInteger(x) && x >= 0, 'layer numbers');

    const common = {
      ...baseParameters,
      ...(promptOption(values) !== undefined ? { prompt: promptOption(values) } : {}),
      ...(values.seed !== undefined ? { seed: intOption('seed', values.seed, 0, 0) } : {}),
      ...(values.alphas !== undefined ? { alphas: numberList('alphas', values.alphas, (x) => x > 0, 'positive numbers') } : baseParameters.alphas ? {} : { alphas: DEFAULT_ALPHAS }),
      ...(layersOption !== undefined ? { layers: layersOption } : {}),
    };
    let options: ExperimentOptionsMap[ExperimentName];
    switch (name) {
      case 'prompt-variants': {
        const crossLayers = values['cross-layers'];
        if (crossLayers !== undefined && crossLayers !== 'best' && crossLayers !== 'all') throw new UsageError(`--cross-layers must be best or all, got "${crossLayers}"`);
        options = { ...common, ...(values.template ? { templates: values.template } : {}), ...(crossLayers ? { crossLayers } : {}) };
        break;
      }
      case 'holdout':
        options = {
          ...common,
          ...(values.block !== undefined ? { blockColumn: values.block } : {}),
          ...(values['min-block-rows'] !== undefined ? { minBlockRows: intOption('min-block-rows', values['min-block-rows'], 25, 2) } : {}),
          ...(values['max-blocks'] !== undefined ? { maxBlocks: intOption('max-blocks', values['max-blocks'], 0, 0) } : {}),
          ...(values.layer !== undefined ? { layer: intOption('layer', values.layer, 0, 0) } : {}),
        };
        break;
      case 'mlp':
        options = {
          ...common,
          ...(values.hidden !== undefined ? { hiddenUnits: optionalInt('hidden', values.hidden, 1) } : {}),
          ...(values['learning-rate'] !== undefined ? { learningRate: positiveNumber('learning-rate', values['learning-rate']) } : {}),
          ...(values['mlp-batch'] !== undefined ? { batchSize: optionalInt('mlp-batch', values['mlp-batch'], 1) } : {}),
          ...(values['max-epochs'] !== undefined ? { maxEpochs: optionalInt('max-epochs', values['max-epochs'], 1) } : {}),
          ...(values.patience !== undefined ? { patience: optionalInt('patience', values.patience, 1) } : {}),
          ...(values['weight-decays'] !== undefined ? { weightDecays: numberList('weight-decays', values['weight-decays'], (x) => x >= 0, 'numbers ≥ 0') } : {}),
          ...(values['validation-fraction'] !== undefined ? { validationFraction: positiveNumber('validation-fraction', values['validation-fraction']) } : {}),
        };
        break;
      case 'neurons':
        options = {
          ...common,
          ...(values.top !== undefined ? { topK: optionalInt('top', values.top, 1) } : {}),
          ...(values.views !== undefined ? { viewNeurons: optionalInt('views', values.views, 0) } : {}),
          ...(values['view-entities'] !== undefined ? { viewEntities: optionalInt('view-entities', values['view-entities'], 0) } : {}),
        };
        break;
      case 'controls': {
        let controls: ControlName[] | undefined;
        if (values.controls !== undefined) {
          controls = values.controls.split(',').map((part) => part.trim()) as ControlName[];
          const unknown = controls.find((control) => !CONTROL_NAMES.includes(control));
          if (unknown !== undefined) throw new UsageError(`--controls: unknown control "${unknown}" (known: ${CONTROL_NAMES.join(', ')})`);
        }
        options = {
          ...common,
          ...(controls ? { controls } : {}),
          ...(values['pca-k'] !== undefined ? { pcaK: numberList('pca-k', values['pca-k'], (x) => Number.isInteger(x) && x >= 1, 'positive integers') } : {}),
          ...(values['random-weights-seed'] !== undefined ? { randomWeightsSeed: intOption('random-weights-seed', values['random-weights-seed'], 1, 0) } : {}),
        };
        break;
      }
    }

    const { progress, onProgress } = progressReporter(io);
    const controller = new AbortController();
    const onSignal = (): void => controller.abort(new Error('interrupted'));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const outcome = await runExperiment(name, {
        dataset,
        model: values.model ?? base.model ?? GLOVE_MODEL_ID,
        outDir: values.out ?? 'spacetime-probe-run',
        device,
        token: parseToken(values.token),
        batchSize: intOption('batch-size', values['batch-size'], 32),
        cacheDir: values['no-cache'] ? false : values['cache-dir'],
        skipInvalid: values['skip-invalid'],
        ...yearRangeOption(values['year-range']),
        keepActivations: values['keep-activations'],
      }, options, { signal: controller.signal, onProgress, log: (line) => { progress.finish(); io.stderr.write(`${line}\n`); } });
      progress.finish();
      const { result } = outcome;
      if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
      else {
        io.stdout.write(`${result.experiment} · ${result.dataset} · ${result.model} · ${result.entities} entities · split ${result.split.method} ${result.split.train}/${result.split.test}\n`);
        io.stdout.write(formatExperiment(result));
      }
      io.stderr.write(`experiment: ${path.resolve(outcome.file)}\n`);
      return 0;
    } catch (error) {
      if (error instanceof ExperimentInputError) throw new InputError(error.message);
      throw error;
    } finally {
      progress.finish();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

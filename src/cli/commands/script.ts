/**
 * `spacetime-probe script`: write a Python extraction script (Hugging Face + accelerate, nnsight/NDIF or
 * TransformerLens) for a dataset, to run on a GPU cluster; its output folder is probed here like our own
 * (src/core/scripts/extractionScript.ts, docs/activations.md).
 */
import * as path from 'node:path';
import type { CliCommand } from '../command';
import { UsageError, parseCommandArgs } from '../command';
import { loadDataset } from '../../core/datasets/load';
import { renderEntityPrompt } from '../../core/activations/extract';
import { DEFAULT_PROMPT } from '../../core/experiments/run';
import {
  buildExtractionBundle, SCRIPT_DTYPES, SCRIPT_ENGINES, scriptPromptsFor, writeExtractionBundle, type ScriptDtype, type ScriptEngine,
} from '../../core/scripts/extractionScript';
import { parseToken, yearRangeOption } from './probeCommands';

const USAGE = `usage: spacetime-probe script --engine hf|nnsight|transformer-lens --model ID|FOLDER --dataset FILE --out DIR [options]

Writes DIR/extract_activations.py, DIR/requirements.txt and DIR/prompts.jsonl: a self-contained Python
extraction for a GPU cluster (Hugging Face transformers with accelerate's device_map="auto", nnsight locally
or on NDIF, or TransformerLens). Run there as
    pip install -r requirements.txt && python extract_activations.py --out activations/
it writes an activation folder in our format (manifest.json + one .npy per layer, resumable after a crash)
with the same prompt, token and BOS rules as \`spacetime-probe extract\`; probe it here with
    spacetime-probe probe --activations activations/ --dataset FILE --out results/

options:
  --engine E           hf (default), nnsight or transformer-lens
  --model ID|FOLDER    Hub id (org/name) or a model folder as the cluster sees it (recorded in manifest.json)
  --dataset FILE       CSV or JSONL dataset, or builtin:<name>
  --prompt TEMPLATE    prompt template with {entity} (default "${DEFAULT_PROMPT}")
  --token T            entity-last (default) or prompt-last
  --dtype D            float16 (default), bfloat16 or float32: the model's dtype and the layer files'
  --remote             nnsight only: run the trace on NDIF (remote=True)
  --skip-invalid       skip invalid dataset rows with warnings instead of stopping
  --year-range MIN:MAX plausible years of a time dataset
  --out DIR            where the three files go (created)
`;

export const scriptCommand: CliCommand = {
  name: 'script',
  summary: 'write a Python extraction script (hf/accelerate, nnsight/NDIF, TransformerLens) for a GPU cluster',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs('script', args, {
      engine: { type: 'string' }, model: { type: 'string' }, dataset: { type: 'string' }, prompt: { type: 'string' }, token: { type: 'string' },
      dtype: { type: 'string' }, remote: { type: 'boolean', default: false }, out: { type: 'string' },
      'skip-invalid': { type: 'boolean', default: false }, 'year-range': { type: 'string' },
    });
    if (positionals.length > 0) throw new UsageError(`script: unexpected argument "${positionals[0]}"`);
    const engine = (values.engine ?? 'hf') as ScriptEngine;
    if (!SCRIPT_ENGINES.includes(engine)) throw new UsageError(`--engine must be one of ${SCRIPT_ENGINES.join(', ')}, got "${values.engine}"`);
    const dtype = (values.dtype ?? 'float16') as ScriptDtype;
    if (!SCRIPT_DTYPES.includes(dtype)) throw new UsageError(`--dtype must be one of ${SCRIPT_DTYPES.join(', ')}, got "${values.dtype}"`);
    if (values.remote && engine !== 'nnsight') throw new UsageError('--remote runs the trace on NDIF: it needs --engine nnsight');
    for (const name of ['model', 'dataset', 'out'] as const) if (!values[name]) throw new UsageError(`--${name} is required`);
    const template = values.prompt ?? DEFAULT_PROMPT;
    renderEntityPrompt(template, 'x');
    const token = parseToken(values.token);
    const datasetSpec = values.dataset!;
    const dataset = loadDataset(datasetSpec, { skipInvalid: values['skip-invalid'], ...yearRangeOption(values['year-range']) });
    for (const problem of dataset.problems) io.stderr.write(`${problem.file}:${problem.line}: ${problem.severity}: ${problem.message}\n`);
    const bundle = buildExtractionBundle(scriptPromptsFor(dataset.entities, template, renderEntityPrompt), {
      engine, model: values.model!, dataset: datasetSpec, prompt: template, token, dtype, remote: values.remote,
    });
    const files = writeExtractionBundle(values.out!, bundle);
    for (const file of files) io.stdout.write(`${file}\n`);
    io.stderr.write(`${dataset.entities.length} prompts; on the cluster: pip install -r requirements.txt && python ${path.basename(files[0])} --out activations/\n`);
    return 0;
  },
};

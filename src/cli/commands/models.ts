/**
 * `spacetime-probe models`: list built-in, cached (Hub) and local models; download from the Hugging Face Hub;
 * show the suggested models; report GloVe vocabulary coverage of a dataset.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliCommand, CliIo } from '../command';
import { InputError, UsageError, parseCommandArgs } from '../command';
import { formatTable, ProgressLine } from '../format';
import { loadDataset } from '../../core/datasets/load';
import { SUGGESTED_MODELS, weightMemory } from '../../core/model/hub/catalog';
import { GLOVE_MODEL_ID, GloveModel, resolveGloveDir } from '../../core/model/glove/glove';
import { downloadHubModel, SAFETENSORS_VARIANT, type HubProgress } from '../../core/model/hub/hub';
import { hubCacheDir, listCachedHubModels } from '../../core/model/hub/hubCache';
import {
  hasCheckpoint, listModelVariants, MODEL_FORMATS, parseTransformerConfig, readJsonFile, resolveModelFiles, type ModelFormat, type ModelVariantFile,
} from '../../core/model/modelFolder';

const USAGE = `usage: spacetime-probe models [list] [PATH...] [--json] [--cache-dir DIR]
       spacetime-probe models download <org/name> [--revision REV] [--format auto|safetensors|onnx]
                                       [--variant fp32|fp16|q8|<suffix>]
                                       [--token-file FILE] [--cache-dir DIR] [--json]
       spacetime-probe models suggested [--json]
       spacetime-probe models coverage <dataset> [--json]

list        the built-in model (${GLOVE_MODEL_ID}), every model in the Hugging Face Hub cache, and the model
            folders or .onnx files given as PATH, with size, layers (probe layers = transformer blocks + 1;
            1 for GloVe) and hidden size. Cached models are used as hf:<org/name>[@revision].
download    fetch a model's config, tokenizer and weights from the Hub into the shared Hub cache: with --format
            auto (default) its safetensors checkpoint when it has one, else its fp32 ONNX export; --format onnx
            with --variant for an export (graph + external data). Files go into the shared
            Hub cache (the huggingface_hub layout: models downloaded by Python tools are reused). Interrupted
            downloads resume; every file is checked against the size and hash the Hub reports.
            Token for gated/private repos: $HF_TOKEN or --token-file (never printed). Proxies: HTTPS_PROXY,
            HTTP_PROXY, NO_PROXY. Mirror: $HF_ENDPOINT. Cache: --cache-dir, $HF_HUB_CACHE or $HF_HOME/hub.
suggested   small models with single-graph ONNX exports that run on a laptop CPU.
coverage    how many entities of a dataset the GloVe vocabulary covers (all tokens known / some / none);
            entities with no known token are listed: the built-in model skips them.
`;

function formatSize(bytes: number | undefined): string {
  if (bytes === undefined) return '?';
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}

interface ListedModel {
  readonly id: string;
  readonly source: 'built-in' | 'hub-cache' | 'local';
  readonly path?: string;
  readonly bytes?: number;
  readonly layers?: number;
  readonly hiddenSize?: number;
  readonly architecture?: string;
  readonly note?: string;
  /** The exports in the folder that `--variant` names, with their files (Hub cache and local folders). */
  readonly variants?: readonly ModelVariantFile[];
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function listBuiltin(): ListedModel {
  try {
    const { dir, manifest } = resolveGloveDir({ convertIfMissing: false });
    return {
      id: GLOVE_MODEL_ID, source: 'built-in', path: dir, bytes: manifest.model.size + manifest.vocab.size, layers: 1,
      hiddenSize: manifest.dims, architecture: 'glove', note: `GloVe 6B, ${manifest.rows.toLocaleString('en-US')} words, ${manifest.variant}`,
    };
  } catch {
    return { id: GLOVE_MODEL_ID, source: 'built-in', architecture: 'glove', layers: 1, hiddenSize: 100, note: 'not built yet (npm run build)' };
  }
}

function listLocal(spec: string): ListedModel {
  if (hasCheckpoint(path.resolve(spec))) {
    const folder = path.resolve(spec);
    const config = parseTransformerConfig(readJsonFile(path.join(folder, 'config.json')));
    const bytes = fs.readdirSync(folder).filter((name) => name.endsWith('.safetensors')).reduce((sum, name) => sum + fileSize(path.join(folder, name)), 0);
    return {
      id: folder, source: 'local', path: folder, bytes, layers: config.numHiddenLayers === undefined ? undefined : config.numHiddenLayers + 1,
      hiddenSize: config.hiddenSize, architecture: config.modelType, note: 'safetensors',
    };
  }
  let files;
  try {
    files = resolveModelFiles(spec);
  } catch (error) {
    throw new InputError(`models: ${(error as Error).message}`);
  }
  const folder = path.dirname(files.modelPath);
  const base = path.basename(files.modelPath);
  const data = fs.readdirSync(folder).filter((name) => name !== base && (name.startsWith(`${base}_data`) || name.startsWith(`${base}.data`)));
  const bytes = fileSize(files.modelPath) + data.reduce((sum, name) => sum + fileSize(path.join(folder, name)), 0);
  const blocks = files.config.numHiddenLayers;
  const variants = fs.statSync(spec).isDirectory() ? listModelVariants(path.resolve(spec)) : [];
  return {
    id: path.resolve(spec), source: 'local', path: files.modelPath, bytes, layers: blocks === undefined ? undefined : blocks + 1,
    hiddenSize: files.config.hiddenSize, architecture: files.config.modelType,
    ...(variants.length > 0 ? { note: `${files.variant}; variants ${variants.map((variant) => variant.variant).join(', ')}`, variants } : { note: files.variant }),
  };
}

async function runList(paths: readonly string[], json: boolean, cacheDir: string | undefined, io: CliIo): Promise<number> {
  const hubDir = cacheDir ?? hubCacheDir();
  const models: ListedModel[] = [listBuiltin()];
  for (const cached of listCachedHubModels(hubDir)) {
    const revision = cached.refs.includes('main') ? '' : `@${cached.refs[0] ?? cached.commit}`;
    models.push({
      id: `hf:${cached.repoId}${revision}`, source: 'hub-cache', path: cached.dir, bytes: cached.bytes,
      layers: cached.numHiddenLayers === undefined ? undefined : cached.numHiddenLayers + 1, hiddenSize: cached.hiddenSize,
      architecture: cached.architecture,
      note: `${cached.commit.slice(0, 10)}; ${[...(cached.safetensors ? ['safetensors'] : []),
        ...(cached.variants.length > 0 ? [`variants ${cached.variants.map((variant) => variant.variant).join(', ')}`] : [])].join('; ')}`,
      variants: cached.variants,
    });
  }
  for (const spec of paths) models.push(listLocal(spec));
  if (json) {
    io.stdout.write(`${JSON.stringify({ hubCache: hubDir, models }, null, 2)}\n`);
    return 0;
  }
  io.stdout.write(formatTable(['model', 'source', 'size', 'layers', 'hidden', 'architecture', 'notes'],
    models.map((model) => [model.id, model.source, formatSize(model.bytes), model.layers?.toString() ?? '?',
      model.hiddenSize?.toString() ?? '?', model.architecture ?? '?', model.note ?? '']),
    ['left', 'left', 'right', 'right', 'right']));
  io.stdout.write(`Hub cache: ${hubDir}\n`);
  return 0;
}

function readToken(tokenFile: string | undefined): string | undefined {
  if (tokenFile !== undefined) {
    let token: string;
    try {
      token = fs.readFileSync(tokenFile, 'utf8').trim();
    } catch (error) {
      throw new InputError(`models download: cannot read --token-file ${tokenFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (token === '') throw new InputError(`models download: --token-file ${tokenFile} is empty`);
    return token;
  }
  const fromEnv = process.env.HF_TOKEN?.trim();
  return fromEnv ? fromEnv : undefined;
}

async function runDownload(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('models download', args, {
    revision: { type: 'string', default: 'main' },
    variant: { type: 'string' },
    format: { type: 'string', default: 'auto' },
    'token-file': { type: 'string' },
    'cache-dir': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('models download takes one model id (org/name), e.g. models download Xenova/gpt2');
  const repoId = positionals[0].replace(/^hf:/, '');
  if (!MODEL_FORMATS.includes(values.format as ModelFormat)) throw new UsageError(`--format must be one of ${MODEL_FORMATS.join(', ')}, got "${values.format}"`);
  const variant = values.format === 'safetensors' ? SAFETENSORS_VARIANT
    : values.variant ?? (values.format === 'onnx' ? 'fp32' : 'auto');
  const progress = new ProgressLine(io);
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  try {
    const result = await downloadHubModel(repoId, {
      revision: values.revision, variant, cacheDir: values['cache-dir'], token: readToken(values['token-file']),
      signal: controller.signal,
      log: (line) => { progress.finish(); io.stderr.write(`${line}\n`); },
      onProgress: (update: HubProgress) => {
        const rate = update.bytesPerSecond > 0 ? `, ${formatSize(update.bytesPerSecond)}/s` : '';
        const label = update.phase === 'resolving' ? `resolving ${repoId}@${values.revision}`
          : update.phase === 'done' ? 'done'
            : `${update.phase === 'cached' ? 'cached' : 'downloading'} ${update.file} ${formatSize(update.fileBytes)}/${formatSize(update.fileTotal)}${rate}`;
        progress.update(update.phase === 'downloading' ? `file:${update.file}` : `${update.phase}:${update.file}`, label, update.bytes, update.total);
      },
    });
    progress.finish();
    if (values.json) {
      io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      const fresh = result.files.filter((file) => !file.cached).length;
      io.stdout.write(`${repoId}@${result.revision} (${result.commit.slice(0, 12)}), ${result.variant}: ${result.files.length} files, ` +
        `${fresh} downloaded (${formatSize(result.downloadedBytes)}), ${result.files.length - fresh} already cached\n` +
        `  ${result.dir}\n  use it as: hf:${repoId}${result.revision === 'main' ? '' : `@${result.revision}`}\n`);
    }
    return 0;
  } catch (error) {
    progress.finish();
    if (controller.signal.aborted) {
      io.stderr.write('models download: interrupted; run the same command again to resume\n');
      return 130;
    }
    throw error;
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
}

function runSuggested(json: boolean, io: CliIo): number {
  if (json) {
    io.stdout.write(`${JSON.stringify(SUGGESTED_MODELS, null, 2)}\n`);
    return 0;
  }
  io.stdout.write(formatTable(['model', 'name', 'layers', 'hidden', 'download', 'memory CPU / GPU', 'licence'],
    SUGGESTED_MODELS.map((model) => {
      const memory = weightMemory(model);
      return [model.repoId, model.label, String(model.blocks + 1), String(model.hiddenSize),
        Object.entries(model.variants).map(([variant, bytes]) => `${variant} ${formatSize(bytes)}`).join(', '),
        memory ? `${formatSize(memory.cpu)} / ${formatSize(memory.gpu)}` : '', `${model.gated ? 'gated; ' : ''}${model.licence}`];
    }),
    ['left', 'left', 'right', 'right']));
  io.stdout.write('Memory: float32 weights on CPU, float16 on a GPU (a batch\'s activations come on top).\n' +
    'Download with: spacetime-probe models download <model> [--format onnx --variant fp16|q8]; use as hf:<model>\n');
  return 0;
}

async function runCoverage(args: readonly string[], json: boolean, io: CliIo): Promise<number> {
  if (args.length !== 1) throw new UsageError('models coverage takes one dataset (a CSV/JSONL file or builtin:<name>)');
  const dataset = loadDataset(args[0]);
  const model = await GloveModel.load();
  try {
    const names = dataset.entities.map((entity) => entity.name);
    const coverage = model.vocabulary.coverage(names, model.foldAccents);
    const skipped = coverage.noneKnownIndices.map((index) => ({ line: dataset.entities[index].line, name: names[index] }));
    if (json) {
      io.stdout.write(`${JSON.stringify({ dataset: args[0], total: coverage.total, allKnown: coverage.allKnown,
        partlyKnown: coverage.partlyKnown, noneKnown: coverage.noneKnown, skipped }, null, 2)}\n`);
      return 0;
    }
    const percent = (count: number) => `${((100 * count) / Math.max(1, coverage.total)).toFixed(1)}%`;
    io.stdout.write(`${args[0]}: ${coverage.total} entities — every token in the GloVe vocabulary: ${coverage.allKnown} (${percent(coverage.allKnown)}), ` +
      `some tokens (mean of the known ones): ${coverage.partlyKnown} (${percent(coverage.partlyKnown)}), ` +
      `no known token (skipped): ${coverage.noneKnown} (${percent(coverage.noneKnown)})\n`);
    for (const entry of skipped.slice(0, 20)) io.stdout.write(`  line ${entry.line}: ${entry.name}\n`);
    if (skipped.length > 20) io.stdout.write(`  … ${skipped.length - 20} more (--json lists all)\n`);
    return 0;
  } finally {
    await model.dispose();
  }
}

export const modelsCommand: CliCommand = {
  name: 'models',
  summary: 'list built-in, cached and local models; download from the Hugging Face Hub; GloVe coverage',
  usage: USAGE,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const [first, ...rest] = args;
    if (first === 'download') return runDownload(rest, io);
    const sub = first === 'list' || first === 'suggested' || first === 'coverage' ? first : 'list';
    const remaining = sub === first ? rest : args;
    const { values, positionals } = parseCommandArgs(`models ${sub}`, remaining, {
      json: { type: 'boolean', default: false },
      'cache-dir': { type: 'string' },
    });
    if (sub === 'suggested') {
      if (positionals.length > 0) throw new UsageError(`models suggested: unexpected argument "${positionals[0]}"`);
      return runSuggested(values.json, io);
    }
    if (sub === 'coverage') return runCoverage(positionals, values.json, io);
    return runList(positionals, values.json, values['cache-dir'], io);
  },
};

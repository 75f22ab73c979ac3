/** `spacetime-probe cache info|clear`: the activation cache (sizes per model and prompt template; delete). */
import type { CliCommand, CliIo } from '../command';
import { UsageError, parseCommandArgs } from '../command';
import { formatTable } from '../format';
import { ActivationCache, defaultCacheDir, formatBytes } from '../../core/activations/cache';

const USAGE = `usage: spacetime-probe cache info [--json] [--cache-dir DIR]
       spacetime-probe cache clear [--fingerprint HASH] [--cache-dir DIR]

The activation cache keeps every entity's per-layer vectors, keyed by model fingerprint (content hash of
graph/weights and tokenizer), prompt template and entity text, so re-running after editing a dataset only
extracts the changed rows. Default folder: $SPACETIME_PROBE_CACHE_DIR or ${defaultCacheDir()}.
Least recently used chunks are evicted beyond the size cap (10 GiB unless the run sets another).

info    size, records and last use per (model, template)
clear   delete everything, or only the namespaces of one model fingerprint
`;

export const cacheCommand: CliCommand = {
  name: 'cache',
  summary: 'show or clear the activation cache',
  usage: USAGE,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const [sub, ...rest] = args;
    if (sub !== 'info' && sub !== 'clear') throw new UsageError('cache takes a subcommand: info or clear');
    const { values, positionals } = parseCommandArgs(`cache ${sub}`, rest, {
      json: { type: 'boolean', default: false },
      'cache-dir': { type: 'string' },
      fingerprint: { type: 'string' },
    });
    if (positionals.length > 0) throw new UsageError(`cache ${sub}: unexpected argument "${positionals[0]}"`);
    const cache = new ActivationCache({ dir: values['cache-dir'] });
    if (sub === 'clear') {
      const cleared = await cache.clear(values.fingerprint);
      io.stdout.write(`cleared ${cleared.namespaces} namespace(s), ${formatBytes(cleared.bytes)} from ${cache.dir}\n`);
      return 0;
    }
    const info = await cache.info();
    if (values.json) {
      io.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      return 0;
    }
    io.stdout.write(`${info.dir}: ${formatBytes(info.bytes)} in ${info.namespaces.length} namespace(s)\n`);
    if (info.namespaces.length > 0) {
      io.stdout.write(formatTable(['model', 'template', 'layers×hidden', 'dtype', 'records', 'size', 'last used', 'fingerprint'],
        info.namespaces.map((namespace) => [namespace.modelId ?? '?', JSON.stringify(namespace.template ?? '?'),
          `${namespace.numLayers ?? '?'}×${namespace.hiddenSize ?? '?'}`, namespace.dtype ?? '?', String(namespace.records),
          formatBytes(namespace.bytes), namespace.lastUsed?.replace('T', ' ').slice(0, 19) ?? '-', (namespace.fingerprint ?? '?').slice(0, 16)]),
        ['left', 'left', 'right', 'left', 'right', 'right']));
    }
    return 0;
  },
};

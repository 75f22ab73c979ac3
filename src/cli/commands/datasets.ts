/** `spacetime-probe datasets`: the built-in datasets (name, kind, rows, licence, source), as a table or JSON. */
import type { CliCommand, CliIo } from '../command';
import { InputError, UsageError, parseCommandArgs } from '../command';
import { formatTable } from '../format';
import { BuiltinDatasetError, listBuiltinDatasets, type BuiltinDatasetInfo } from '../../core/datasets/builtin';

const USAGE = `usage: spacetime-probe datasets [--json]

Lists the built-in datasets. Give builtin:<name> (e.g. builtin:world_places) wherever a dataset
path is accepted. Sources, versions, licences and known biases: DATASETS.md.

options:
  --json   machine-readable output: a JSON array with name, reference, title, kind, rows, testRows,
           licence, source, description, blockKind, columns, sha256 and path
`;

function tableRow(info: BuiltinDatasetInfo): string[] {
  return [info.reference, info.kind, info.rows.toLocaleString('en-US'), info.licence, info.source];
}

export const datasetsCommand: CliCommand = {
  name: 'datasets',
  summary: 'list the built-in datasets (builtin:<name>) with kind, rows, licence and source',
  usage: USAGE,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs('datasets', args, { json: { type: 'boolean', default: false } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (datasets takes only --json)`);
    let list: readonly BuiltinDatasetInfo[];
    try {
      list = listBuiltinDatasets();
    } catch (error) {
      if (error instanceof BuiltinDatasetError) throw new InputError(error.message);
      throw error;
    }
    if (values.json) {
      io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    } else {
      io.stdout.write(formatTable(['name', 'kind', 'rows', 'licence', 'source'], list.map(tableRow)));
    }
    return 0;
  },
};

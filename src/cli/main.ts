/**
 * Entry point of the headless `spacetime-probe` CLI: dispatches to one command per file in ./commands.
 * Errors in input become exit code 2 with a message and no stack trace; unexpected failures exit 1.
 */
import type { CliCommand, CliIo } from './command';
import { InputError, UsageError } from './command';
import { DatasetError } from '../core/datasets/load';
import { escapingIo } from './format';
import { describeSystemError } from './systemErrors';

/**
 * Errors the core raises for bad input rather than bugs (matched by name so the CLI need not import every
 * module that defines one): printed without a stack trace, exit code 2.
 */
const INPUT_ERRORS = new Set([
  'ModelLoadError', 'HubError', 'NetworkError', 'RidgeInputError', 'NpyFormatError', 'ExtractionError', 'ManifestError',
  'BuiltinDatasetError', 'ActivationMismatchError', 'DeviceUnavailableError', 'MlpInputError', 'ExperimentInputError',
  'ExperimentFileError', 'FolderRaceError',
]);

const commands: CliCommand[] = [];

/** Commands register here (kept as a plain list so `--help` shows them in a stable order). */
export function registerCommand(command: CliCommand): void {
  commands.push(command);
}

const VERSION = '0.1.0';

function helpText(): string {
  const width = Math.max(...commands.map((command) => command.name.length), 8);
  return [
    'spacetime-probe — probe language models for representations of space and time',
    '',
    'usage: spacetime-probe <command> [options]   (spacetime-probe <command> --help for details)',
    '',
    'commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
  ].join('\n');
}

export async function main(argv: readonly string[], rawIo: CliIo): Promise<number> {
  // Everything printed has its control characters escaped: messages echo dataset fields, headers, file names.
  const io = escapingIo(rawIo);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(helpText());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    io.stderr.write(`spacetime-probe: unknown command "${name}"\n\n${helpText()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${command.usage.trimEnd()}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`spacetime-probe ${name}: ${error.message}\n`);
      return 2;
    }
    if (error instanceof InputError) {
      io.stderr.write(`spacetime-probe ${name}: ${error.message}\n`);
      for (const line of error.details) io.stderr.write(`  ${line}\n`);
      return 2;
    }
    if (error instanceof DatasetError) {
      io.stderr.write(`spacetime-probe ${name}: ${error.message}\n`);
      for (const line of error.lines()) io.stderr.write(`  ${line}\n`);
      return 2;
    }
    if (error instanceof Error && INPUT_ERRORS.has(error.name)) {
      // Problems with the user's input (model folder, activation folder, network): message only, no stack.
      io.stderr.write(`spacetime-probe ${name}: ${error.message}\n`);
      return 2;
    }
    if (error instanceof Error && (error.name === 'AbortError' || error.message === 'interrupted')) {
      io.stderr.write(`spacetime-probe ${name}: interrupted; no output was written or changed (partial files were removed; ` +
        'activations already computed stay in the activation cache for the next run, unless --no-cache)\n');
      return 130;
    }
    const system = describeSystemError(error);
    if (system !== undefined) {
      // The user's disk or paths (read-only, full, a file in the way…), not a bug.
      io.stderr.write(`spacetime-probe ${name}: ${system}\n`);
      return 2;
    }
    io.stderr.write(`spacetime-probe ${name}: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
}

/**
 * The CLI's command contract. Each subcommand lives in src/cli/commands/<name>.ts and is listed in main.ts.
 * Commands write results to stdout, progress and diagnostics to stderr, and return an exit code.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** True when stderr is a terminal (progress bars redraw in place only then). */
  readonly interactive: boolean;
}

export interface CliCommand {
  readonly name: string;
  /** One line for `spacetime-probe --help`. */
  readonly summary: string;
  /** Full usage text for `spacetime-probe <name> --help`. */
  readonly usage: string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Bad invocation or bad input: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Bad input data (dataset, model folder…): printed without a stack trace, exit code 2. */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(message: string, readonly details: readonly string[] = []) {
    super(message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with strict checking; turns its errors into UsageError naming the command. */
export function parseCommandArgs<T extends Options>(command: string, args: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message}`);
  }
}

/** Parse an integer option, with a clear message when it is not one. */
export function intOption(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${value}"`);
  return parsed;
}

/** Every CLI command, in the order `--help` lists them. Add new commands here. */
import type { CliCommand } from '../command';

export const allCommands: CliCommand[] = [];

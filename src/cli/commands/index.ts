/** Every CLI command, in the order `--help` lists them. Add new commands here. */
import type { CliCommand } from '../command';
import { datasetsCommand } from './datasets';

export const allCommands: CliCommand[] = [datasetsCommand];

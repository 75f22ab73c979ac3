/** Every CLI command, in the order `--help` lists them. Add new commands here. */
import type { CliCommand } from '../command';
import { datasetsCommand } from './datasets';
import { extractCommand, probeCommand, runCommand } from './probeCommands';
import { experimentCommand } from './experiment';
import { modelsCommand } from './models';
import { cacheCommand } from './cache';
import { devicesCommand } from './devices';
import { scriptCommand } from './script';

export const allCommands: CliCommand[] = [runCommand, extractCommand, probeCommand, datasetsCommand, modelsCommand, cacheCommand, experimentCommand, scriptCommand, devicesCommand];

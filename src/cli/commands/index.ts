import type { Command } from 'commander';
import type { CliRuntime } from '../cli-runtime.ts';
import { registerConfigCommand } from './config.command.ts';
import { registerCustomersCommand } from './customers.command.ts';
import { registerMigrateCommand } from './migrate.command.ts';
import { registerProjectsCommand } from './projects.command.ts';
import { registerRunsCommand } from './runs.command.ts';
import { registerServeCommand } from './serve.command.ts';
import { registerSyncCommand } from './sync.command.ts';
import { registerViabilityCommand } from './viability.command.ts';

export type CommandRegistration = (program: Command, cli: CliRuntime) => void;

/** Every `mapsync` sub-command; each file owns one. */
export const commandRegistrations: CommandRegistration[] = [
  registerServeCommand,
  registerMigrateCommand,
  registerConfigCommand,
  registerSyncCommand,
  registerRunsCommand,
  registerProjectsCommand,
  registerCustomersCommand,
  registerViabilityCommand,
];

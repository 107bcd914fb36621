import type { Command } from 'commander';
import type { CliRuntime } from '../cli-runtime.ts';
import { registerConfigCommand } from './config.command.ts';
import { registerMigrateCommand } from './migrate.command.ts';
import { registerServeCommand } from './serve.command.ts';

export type CommandRegistration = (program: Command, cli: CliRuntime) => void;

/** Every `mapsync` sub-command; each file owns one. */
export const commandRegistrations: CommandRegistration[] = [
  registerServeCommand,
  registerMigrateCommand,
  registerConfigCommand,
];

import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/config-error.ts';
import { DatabaseUnavailableError } from '../db/postgis-check.ts';
import { ServiceStartError } from '../service/service.ts';
import { EXIT, UsageError, type CliRuntime } from './cli-runtime.ts';
import { commandRegistrations } from './commands/index.ts';

/** The `mapsync` command tree, writing to the runtime's streams; commands record their exit code on `cli`. */
export function createProgram(cli: CliRuntime): Command {
  const program = new Command('mapsync')
    .description('Keeps an ISP ERP in step with its fibre-network mapping platform, in PostGIS')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => cli.stdout.write(text),
      writeErr: (text) => cli.stderr.write(text),
    });
  for (const register of commandRegistrations) register(program, cli);
  return program;
}

/** Runs `mapsync <args>` and returns the exit code. argv is process.argv-shaped. */
export async function main(argv: string[], runtime: Partial<CliRuntime> = {}): Promise<number> {
  const cli: CliRuntime = {
    stdout: runtime.stdout ?? process.stdout,
    stderr: runtime.stderr ?? process.stderr,
    env: runtime.env ?? process.env,
    exitCode: EXIT.ok,
  };
  const program = createProgram(cli);

  try {
    await program.parseAsync(argv);
    return cli.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof ConfigError || error instanceof UsageError || error instanceof ServiceStartError) {
      cli.stderr.write(`${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof DatabaseUnavailableError) {
      cli.stderr.write(`${error.message}\n`);
      return EXIT.runFailed;
    }
    cli.stderr.write(`mapsync: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.runFailed;
  }
}

import pino from 'pino';
import { defaultConfigDirectory, loadConfig } from '../config/config.loader.ts';
import type { IntegrationConfig, MapsyncConfig } from '../config/config.schema.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { UsageError, type CliRuntime } from './cli-runtime.ts';

/** Logs go to stderr, so stdout stays the command's output (JSON with --json). */
export function cliLogger(cli: CliRuntime): Logger {
  return createLogger({
    level: cli.env.LOG_LEVEL ?? 'warn',
    destination: cli.stderr as unknown as pino.DestinationStream,
  });
}

/**
 * Tells a person at a terminal which database a command works on when DATABASE_URL is unset:
 * the embedded one lives in a folder relative to where the command runs, easy to miss.
 */
export function embeddedDatabaseNotice(cli: CliRuntime): { onEmbedded: (dataDir: string) => void } {
  return {
    onEmbedded: (dataDir) =>
      cli.stderr.write(`mapsync: DATABASE_URL is unset; using the embedded database in ${dataDir} (MAPSYNC_DATA_DIR moves it)\n`),
  };
}

/** The config (ConfigError → exit 2) and one integration of it (unknown id → exit 2). */
export function loadIntegration(
  cli: CliRuntime,
  integrationId: string,
  directory?: string,
): { config: MapsyncConfig; integration: IntegrationConfig } {
  const { config } = loadConfig(directory ?? defaultConfigDirectory(cli.env), cli.env);
  const integration = config.integrations.find((candidate) => candidate.id === integrationId);
  if (!integration) {
    const known = config.integrations.map((candidate) => candidate.id);
    throw new UsageError(
      `unknown integration "${integrationId}"; configured: ${known.length > 0 ? known.join(', ') : '(none: `mapsync sync demo` runs the demo integration)'}`,
    );
  }
  return { config, integration };
}

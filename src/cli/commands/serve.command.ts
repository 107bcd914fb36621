import type { Command } from 'commander';
import type { CliRuntime } from '../cli-runtime.ts';

export function registerServeCommand(program: Command, cli: CliRuntime): void {
  program
    .command('serve')
    .description('HTTP API, dashboard, scheduler and pusher (what `npm start` runs)')
    .option('-p, --port <port>', 'port to listen on (env PORT, default 8080)')
    .option('--host <host>', 'address to listen on (env HOST, default 127.0.0.1)')
    .action(async (options: { port?: string; host?: string }) => {
      // Loaded when the command runs: `mapsync --help` and the other commands start without them.
      const [{ createLogger }, { startService }, { integerFromEnv }] = await Promise.all([
        import('../../observability/logger.ts'),
        import('../../service/service.ts'),
        import('../../config/environment.ts'),
      ]);
      const logger = createLogger();
      const service = await startService({
        env: cli.env,
        logger,
        port: options.port === undefined ? undefined : integerFromEnv({ PORT: options.port }, 'PORT', { min: 0, max: 65_535, fallback: 8080 }),
        host: options.host,
      });
      await new Promise<void>((resolve) => {
        const shutdown = (signal: NodeJS.Signals) => {
          logger.info({ signal }, 'shutting down');
          process.off('SIGINT', shutdown);
          process.off('SIGTERM', shutdown);
          service.stop().then(resolve, (error) => {
            logger.error({ err: error }, 'unclean shutdown');
            cli.exitCode = 1;
            resolve();
          });
        };
        process.on('SIGINT', shutdown);
        process.on('SIGTERM', shutdown);
      });
    });
}

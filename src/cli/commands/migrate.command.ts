import type { Command } from 'commander';
import { println, type CliRuntime } from '../cli-runtime.ts';

export function registerMigrateCommand(program: Command, cli: CliRuntime): void {
  program
    .command('migrate')
    .description('apply database migrations (DATABASE_URL, or the embedded database)')
    .option('--down', 'revert every migration (drops mapsync tables and their data)')
    .action(async (options: { down?: boolean }) => {
      // Loaded when the command runs: `mapsync --help` and the other commands start without them.
      const [{ openDatabase }, { migrateLatest, migrateRollbackAll }, { createLogger }, { embeddedDatabaseNotice }] = await Promise.all([
        import('../../db/database.ts'),
        import('../../db/migrator.ts'),
        import('../../observability/logger.ts'),
        import('../cli-integration.ts'),
      ]);
      const database = await openDatabase(createLogger({ level: 'warn' }), cli.env, embeddedDatabaseNotice(cli));
      try {
        const names = options.down ? await migrateRollbackAll(database.knex) : await migrateLatest(database.knex);
        const verb = options.down ? 'reverted' : 'applied';
        println(cli.stdout, names.length === 0 ? 'Database is up to date.' : `${names.length} migration(s) ${verb}:`);
        for (const name of names) println(cli.stdout, `  ${name}`);
      } finally {
        await database.close();
      }
    });
}

import { hostname } from 'node:os';
import type { Command } from 'commander';
import { EXIT, printJson, println, type CliRuntime } from '../cli-runtime.ts';
import { progressDisplay } from '../progress/progress-display.ts';
import { formatRun } from '../progress/run-summary.ts';

/** Loaded when a sync runs: `mapsync --help` and the other commands start without them. */
async function syncModules() {
  const [customers, database, migrator, runPresenter, adapters, platformCa, engine, runs, cliIntegration, cliDemo] = await Promise.all([
    import('../../customers/customers.service.ts'),
    import('../../db/database.ts'),
    import('../../db/migrator.ts'),
    import('../../http/presenters/run.presenter.ts'),
    import('../../platforms/adapter-factory.ts'),
    import('../../service/platform-ca.ts'),
    import('../../sync/sync-engine.ts'),
    import('../../sync/sync-runs.repository.ts'),
    import('../cli-integration.ts'),
    import('../cli-demo.ts'),
  ]);
  return { ...customers, ...database, ...migrator, ...runPresenter, ...adapters, ...platformCa, ...engine, ...runs, ...cliIntegration, ...cliDemo };
}

interface SyncOptions {
  full?: boolean;
  force?: boolean;
  json?: boolean;
  dir?: string;
}

export function registerSyncCommand(program: Command, cli: CliRuntime): void {
  program
    .command('sync')
    .description('run one sync of an integration now, in this process')
    .argument('<integration>', 'integration id from config/; "demo" when config/ has none (embedded database only, unless MAPSYNC_DEMO=1)')
    .option('--full', 're-read and rewrite everything, even unchanged elements')
    .option('--force', 'merge even when the run would remove more than the mass-removal guard allows, or replace a network synced from another source')
    .option('--json', 'print the run record as JSON on stdout (progress still goes to stderr)')
    .option('-d, --dir <folder>', 'config folder (env MAPSYNC_CONFIG_DIR, default ./config)')
    .addHelpText('after', '\nExit status: 0 the run succeeded, 1 it failed, 2 usage or configuration error.')
    .action(async (integrationId: string, options: SyncOptions) => {
      const {
        upsertCustomers,
        openDatabase,
        migrateLatest,
        presentRun,
        createPlatformAdapter,
        platformCaFromEnv,
        executeRun,
        ensureIntegrations,
        queueRun,
        RunAlreadyActiveError,
        cliLogger,
        embeddedDatabaseNotice,
        loadIntegrationOrDemo,
      } = await syncModules();
      const logger = cliLogger(cli);
      const { config, integration, demo } = await loadIntegrationOrDemo(cli, integrationId, options.dir, logger);
      let database: Awaited<ReturnType<typeof openDatabase>>;
      try {
        database = await openDatabase(logger, cli.env, embeddedDatabaseNotice(cli));
      } catch (error) {
        await demo?.close();
        throw error;
      }
      const adapter = createPlatformAdapter(integration, { logger, ca: demo?.ca ?? platformCaFromEnv(cli.env) });
      const abort = new AbortController();
      const onSignal = () => abort.abort(new Error('interrupted'));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        if (cli.env.MAPSYNC_AUTO_MIGRATE !== '0') await migrateLatest(database.knex);
        await ensureIntegrations(database.knex, config.integrations);
        if (demo) await upsertCustomers(database.knex, demo.erpContracts);
        let runId: string;
        try {
          runId = (await queueRun(database.knex, { integrationId: integration.id, trigger: 'cli', options: { full: options.full === true, force: options.force === true } })).id;
        } catch (error) {
          if (!(error instanceof RunAlreadyActiveError)) throw error;
          println(cli.stderr, `a sync of ${integration.id} is already queued or running (run ${error.runId}); try again when it ends`);
          cli.exitCode = EXIT.runFailed;
          if (options.json) printJson(cli, { error: 'run_active', runId: error.runId });
          return;
        }
        const display = progressDisplay(cli.stderr, `sync ${integration.id}`);
        const run = await executeRun(
          {
            knex: database.knex,
            logger,
            integrations: new Map(config.integrations.map((i) => [i.id, i])),
            adapterFor: () => adapter,
            owner: `${hostname()}:${process.pid}`,
          },
          runId,
          { onProgress: (progress) => display.update(progress), signal: abort.signal },
        );
        display.finish();
        const view = presentRun(run);
        if (options.json) printJson(cli, view);
        else for (const line of formatRun(view)) println(cli.stdout, line);
        if (!options.json && view.status === 'succeeded') println(cli.stdout, `  issues: mapsync runs show ${view.id}`);
        cli.exitCode = view.status === 'succeeded' ? EXIT.ok : EXIT.runFailed;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await adapter.close?.();
        await database.close();
        await demo?.close();
      }
    });
}

import type { Command } from 'commander';
import type { Knex } from 'knex';
import { EXIT, printJson, println, UsageError, type CliRuntime } from '../cli-runtime.ts';
import { formatIssues, formatRun } from '../progress/run-summary.ts';

/** Loaded when a runs command runs: `mapsync --help` and the other commands start without them. */
async function runsModules() {
  const [{ openDatabase }, { loadRunReport }, { presentRun }, { cancelRun, getRun, isUuid, listRuns }, { cliLogger, embeddedDatabaseNotice }] = await Promise.all([
    import('../../db/database.ts'),
    import('../../http/presenters/run-report.ts'),
    import('../../http/presenters/run.presenter.ts'),
    import('../../sync/sync-runs.repository.ts'),
    import('../cli-integration.ts'),
  ]);
  return { openDatabase, loadRunReport, presentRun, cancelRun, getRun, isUuid, listRuns, cliLogger, embeddedDatabaseNotice };
}

/** Configured (config/, when it loads) or registered in the database by an earlier run. */
async function knownIntegration(cli: CliRuntime, knex: Knex, integrationId: string): Promise<boolean> {
  const [{ defaultConfigDirectory, loadConfig }, { isKnownIntegration }] = await Promise.all([
    import('../../config/config.loader.ts'),
    import('../../sync/known-integrations.ts'),
  ]);
  let configured: string[] = [];
  try {
    configured = loadConfig(defaultConfigDirectory(cli.env), cli.env).config.integrations.map((integration) => integration.id);
  } catch {
    // The history is read without a valid config: the database alone says what is known.
  }
  return isKnownIntegration(knex, configured, integrationId);
}

export function registerRunsCommand(program: Command, cli: CliRuntime): void {
  const runs = program
    .command('runs')
    .description('sync run history, newest first; `runs show <runId>` for one run and its issues')
    .option('-i, --integration <id>', 'only runs of this integration')
    .option('-n, --limit <count>', 'how many runs (default 20, max 1000)', '20')
    .option('--json', 'print JSON')
    .action(async (options: { integration?: string; limit: string; json?: boolean }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000');
      const { openDatabase, listRuns, presentRun, cliLogger, embeddedDatabaseNotice } = await runsModules();
      const database = await openDatabase(cliLogger(cli), cli.env, embeddedDatabaseNotice(cli));
      try {
        const list = (await listRuns(database.knex, { ...(options.integration ? { integrationId: options.integration } : {}), limit })).map(presentRun);
        if (options.integration && list.length === 0 && !(await knownIntegration(cli, database.knex, options.integration))) {
          throw new UsageError(`unknown integration "${options.integration}": not in config/ and never synced`);
        }
        if (options.json) return printJson(cli, { runs: list });
        if (list.length === 0) return println(cli.stdout, 'No sync runs yet.');
        println(cli.stdout, `${'queued (UTC)'.padEnd(24)} ${'integration'.padEnd(16)} ${'trigger'.padEnd(9)} ${'status'.padEnd(10)} ${'seconds'.padStart(8)}  run id`);
        for (const run of list) {
          const seconds = run.durationMs === null ? '-' : (run.durationMs / 1000).toFixed(1);
          println(cli.stdout, `${String(run.queuedAt).padEnd(24)} ${run.integrationId.padEnd(16)} ${run.trigger.padEnd(9)} ${run.status.padEnd(10)} ${seconds.padStart(8)}  ${run.id}`);
        }
      } finally {
        await database.close();
      }
    });

  runs
    .command('show')
    .description("one run: status, counts per kind, and its issues (rejected elements, unlinked customers), each with why")
    .argument('<runId>', 'run id (UUID)')
    .option('--json', 'print JSON (every issue unless --issues is given)')
    .option('--issues <count>', 'how many issues to list (default 50; with --json: all)')
    .option('--kind <kind>', 'only issues of this element kind (e.g. customers, poles)')
    .option('--code <code>', 'only issues with this code (e.g. unmatched, bad_coordinates)')
    .action(async (runId: string, showOptions: { json?: boolean; issues?: string; kind?: string; code?: string }) => {
      // `--json` after `show` is parsed by `runs` itself, which has the same option.
      const { openDatabase, loadRunReport, presentRun, getRun, isUuid, cliLogger, embeddedDatabaseNotice } = await runsModules();
      const options = { ...showOptions, json: showOptions.json === true || runs.opts<{ json?: boolean }>().json === true };
      // So is `--limit`, which would otherwise be ignored without a word.
      if (runs.getOptionValueSource('limit') === 'cli') throw new UsageError('`runs show` takes --issues <count>, not --limit');
      if (runs.getOptionValueSource('integration') === 'cli') throw new UsageError('`runs show` takes no --integration: a run id names one run');
      if (!isUuid(runId)) throw new UsageError(`"${runId}" is not a run id (a UUID, as \`mapsync runs\` lists)`);
      const limit = options.issues === undefined ? (options.json ? 1_000_000 : 50) : Number(options.issues);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--issues must be a whole number of at least 1');
      const database = await openDatabase(cliLogger(cli), cli.env, embeddedDatabaseNotice(cli));
      try {
        const run = await getRun(database.knex, runId);
        if (!run) throw new UsageError(`no sync run ${runId}`);
        const report = await loadRunReport(database.knex, runId, {
          limit,
          offset: 0,
          ...(options.kind ? { kind: options.kind } : {}),
          ...(options.code ? { code: options.code } : {}),
        });
        const view = presentRun(run);
        if (options.json) return printJson(cli, { run: view, summary: report.summary, issues: report.issues });
        const pruned = report.summary.issuesPrunedAt ? [`  issues pruned at ${report.summary.issuesPrunedAt} (sync.issueRetentionDays / issueRetentionRuns)`] : [];
        for (const line of [...formatRun(view), ...pruned, ...formatIssues(report.issues, report.summary.byCode, report.page.total)]) {
          println(cli.stdout, line);
        }
      } finally {
        await database.close();
      }
    });

  runs
    .command('cancel')
    .description('cancel a queued or running run: it fails with "cancelled by operator"; a running one stops within seconds and commits nothing')
    .argument('<runId>', 'run id (UUID)')
    .option('--json', 'print JSON')
    .action(async (runId: string, cancelOptions: { json?: boolean }) => {
      const { openDatabase, presentRun, cancelRun, isUuid, cliLogger, embeddedDatabaseNotice } = await runsModules();
      const json = cancelOptions.json === true || runs.opts<{ json?: boolean }>().json === true;
      if (!isUuid(runId)) throw new UsageError(`"${runId}" is not a run id (a UUID, as \`mapsync runs\` lists)`);
      const database = await openDatabase(cliLogger(cli), cli.env, embeddedDatabaseNotice(cli));
      try {
        const result = await cancelRun(database.knex, runId);
        if (result.outcome === 'not_found') throw new UsageError(`no sync run ${runId}`);
        const view = presentRun(result.run);
        if (result.outcome === 'already_finished') {
          cli.exitCode = EXIT.runFailed;
          if (json) return printJson(cli, { cancelled: false, run: view });
          return println(cli.stderr, `sync run ${runId} already finished (${view.status}); there is nothing to cancel`);
        }
        if (json) return printJson(cli, { cancelled: true, run: view });
        println(
          cli.stdout,
          result.wasRunning
            ? `cancelled sync run ${runId} (${view.integrationId}); it stops at its next checkpoint and commits nothing`
            : `cancelled sync run ${runId} (${view.integrationId}) before it started`,
        );
      } finally {
        await database.close();
      }
    });
}

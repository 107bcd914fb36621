/**
 * The sync engine: one run of one integration, all or nothing.
 *
 *   lock      pg_try_advisory_lock on the run's own session (RunConnection); held to the end
 *   pulling   project resolved (link: the platform folder and sub-folders read; create: a project in
 *             mapsync only; nothing is ever written to the platform), then poles, boxes, the equipment of the
 *             containers (boxes, and poles that may carry some) and customers are streamed page
 *             by page into temporary staging tables; adapter rejections become issues
 *   validating set-wise in staging: orphan equipment, auto boxes for poles carrying equipment,
 *             the pole of each box (platform link, else nearest within attachRadiusMeters),
 *             containers and customers kept for synced equipment
 *   linking   decideLink for every kept customer, in batches
 *   merging   one transaction: mass-removal guard, set-wise upsert by content hash, soft
 *             delete, bindings reconciled, run recorded as succeeded in the same commit
 *
 * `full` (--full): read the whole equipment (diagram and port occupancy) of every box and
 * pole, and rewrite every row even when its content hash is unchanged (repairs hand edits of
 * the tables, and applies new normalisation rules to every row). A normal run skips poles that
 * carried no equipment at their last check, and reads only the port occupancy of a known,
 * unchanged container, reusing its stored equipment while the occupancy agrees with it (see
 * pull.ts); each container is read in full at least once a week.
 */
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IntegrationConfig } from '../config/config.schema.ts';
import { PlatformRequestTally } from '../platforms/http/request-tally.ts';
import { loadPositionRule } from '../domain/positions.ts';
import type { PlatformAdapter } from '../platforms/platform-adapter.ts';
import { storableProjects } from '../platforms/record-validation.ts';
import { reconcileBindingsAfterSync } from '../push/binding-reconciliation.ts';
import { erpFingerprint, linkCustomers, recordLinkIssues } from './customer-linker.ts';
import { analyzeBulkChanges, mergeStaging, planRemovals, recordEquipmentReads, recordPoleChecks, removedPortsWithBindings, type MergeParams } from './merge.ts';
import { boundHeapGrowth } from './heap-growth.ts';
import { pruneRunIssues } from './issue-retention.ts';
import { resolveProject, scopeOf } from './project-resolver.ts';
import { planGuardedRemovals, removalGuardViolation } from './removal-guard.ts';
import { pullIntoStaging } from './pull.ts';
import { recordPortCountSummaries } from './port-count-summaries.ts';
import { incrementalAdapter } from './incremental-listing.ts';
import { resolveStaging } from './resolve.ts';
import { RunConnection } from './run-connection.ts';
import { RunIssuesWriter } from './run-issues.writer.ts';
import { TRY_LOCK_SQL, UNLOCK_SQL } from './run-lock.ts';
import { RunProgressTracker } from './run-progress.ts';
import { COUNT_KINDS, selectionOf, type CountKind } from './selection.ts';
import { createStaging, dropStaging, prepareRunSession, stagingTables } from './staging.ts';
import { networkSourceChange, networkSourceOf, type NetworkSource } from './network-source.ts';
import type { SyncContext } from './sync-context.ts';
import {
  DEFAULT_STALE_AFTER_MS,
  failActiveRun,
  finishRun,
  getRun,
  heartbeat,
  markRunning,
  reapStaleRuns,
  type KindCounts,
  type RunProgress,
  type RunRecord,
} from './sync-runs.repository.ts';

export interface ExecuteRunHooks {
  onProgress?(progress: RunProgress): void;
  signal?: AbortSignal;
}

export const HEARTBEAT_EVERY_MS = 5000;
const MINUTE_MS = 60_000;

/**
 * Test hook: pause this long inside the merge transaction, after every write and before the
 * commit, so a test can kill the process mid-merge. Unset in production.
 */
const PAUSE_IN_MERGE_ENV = 'MAPSYNC_SYNC_PAUSE_IN_MERGE_MS';

/** A failure of the run itself (not of the program): recorded on the run. */
class RunFailure extends Error {}

function emptyCounts(): Record<string, KindCounts> {
  return Object.fromEntries(COUNT_KINDS.map((kind) => [kind, { created: 0, updated: 0, unchanged: 0, removed: 0, rejected: 0 }]));
}

/**
 * Runs a queued sync run to its end and records the outcome. Once the run has started,
 * whatever goes wrong (platform down, guard, lock held elsewhere, bad data, a bug) is
 * recorded and returned as a `failed` run; only misuse (an unknown run id) throws.
 * A run that is no longer queued is returned as it is.
 */
export async function executeRun(ctx: SyncContext, runId: string, hooks: ExecuteRunHooks = {}): Promise<RunRecord> {
  boundHeapGrowth();
  const owner = ctx.owner ?? `${os.hostname()}:${process.pid}`;
  // Only running runs: a queued one may be waiting for a free worker, this very run included.
  await reapStaleRuns(ctx.knex, { staleAfterMs: DEFAULT_STALE_AFTER_MS, onlyRunning: true });
  const queued = await getRun(ctx.knex, runId);
  if (!queued) throw new Error(`sync run ${runId} does not exist`);
  if (queued.status !== 'queued') return queued;

  const log = ctx.logger.child({ runId, integration: queued.integrationId });
  const integration = ctx.integrations.get(queued.integrationId);
  if (!integration) {
    await finishRun(ctx.knex, runId, {
      status: 'failed',
      counts: {},
      progress: null,
      error: `integration "${queued.integrationId}" is not in the configuration`,
    });
    return (await getRun(ctx.knex, runId)) as RunRecord;
  }

  let db: RunConnection;
  try {
    db = await RunConnection.open(ctx.knex);
  } catch (error) {
    await finishRun(ctx.knex, runId, { status: 'failed', counts: {}, progress: null, error: `cannot open a database connection for the run: ${messageOf(error)}` });
    return (await getRun(ctx.knex, runId)) as RunRecord;
  }

  let locked = false;
  let stopHeartbeat: (() => Promise<void>) | null = null;
  const tables = stagingTables(runId);
  let adapter: PlatformAdapter | null = null;
  try {
    const [lock] = await db.query<{ locked: boolean }>(TRY_LOCK_SQL, [integration.id]);
    locked = lock?.locked === true;
    if (!locked) {
      const error = `another sync of integration "${integration.id}" is running in another process (its lock is held); this run was not started`;
      log.warn({ phase: 'lock' }, error);
      await finishRun(ctx.knex, runId, { status: 'failed', counts: {}, progress: null, error });
      return (await getRun(ctx.knex, runId)) as RunRecord;
    }
    const running = await markRunning(ctx.knex, runId, owner);
    if (!running) return (await getRun(ctx.knex, runId)) as RunRecord;

    const progress = new RunProgressTracker(ctx.logger, { runId, integration: integration.id }, hooks.onProgress);
    const watch = watchRun(ctx, {
      runId,
      progress,
      log,
      stallMs: integration.runs.stallMinutes * MINUTE_MS,
      deadlineMs: integration.runs.deadlineMinutes * MINUTE_MS,
      outer: hooks.signal,
      interrupt: () => db.cancelStatement(ctx.knex),
    });
    stopHeartbeat = watch.stop;
    const tally = new PlatformRequestTally();
    const started = Date.now();
    const stopTicking = progress.startTicking();
    try {
      adapter = ctx.adapterFor(integration);
      // The run's own view of the adapter: its calls are counted in the run and broken off
      // when it is stopped; the pusher, which shares the adapter, is neither.
      const runAdapter = adapter.forRun?.({ signal: watch.signal, tally }) ?? adapter;
      const counts = await runSync(ctx, db, { runId, integration, adapter: runAdapter, options: running.options, progress, signal: watch.signal, tables, tally }).finally(
        stopTicking,
      );
      await stopHeartbeat();
      stopHeartbeat = null;
      log.info({ phase: 'done', counts, ms: Date.now() - started }, 'sync succeeded');
    } catch (error) {
      await stopHeartbeat?.();
      stopHeartbeat = null;
      // Stopped from outside (stall, deadline, operator, shutdown): that is the reason, not
      // whatever the interrupted step threw.
      const message = watch.signal.aborted
        ? messageOf(watch.signal.reason)
        : connectionLost(error)
          ? `database connection lost while ${progress.current.phase} (${messageOf(error)})`
          : messageOf(error);
      log.error({ phase: progress.current.phase, err: { message, ...(error instanceof RunFailure || watch.signal.aborted ? {} : { stack: (error as Error)?.stack }) } }, 'sync failed');
      const counts = emptyCounts();
      for (const [kind, entry] of Object.entries(progress.current.kinds)) if (counts[kind]) (counts[kind] as KindCounts).rejected = entry.rejected;
      // A no-op when the run was already ended (reaped, stalled, cancelled): its reason stays.
      await finishRun(ctx.knex, runId, { status: 'failed', counts, progress: progress.current, error: message, platformRequests: tally.toJSON() });
    }
    await pruneRunIssues(ctx.knex, integration.id, { days: integration.sync.issueRetentionDays, runs: integration.sync.issueRetentionRuns }).catch((error: unknown) =>
      log.warn({ err: { message: messageOf(error) } }, 'could not prune the issues of old runs'),
    );
    return (await getRun(ctx.knex, runId)) as RunRecord;
  } finally {
    await stopHeartbeat?.();
    try {
      await dropStaging(db, tables);
      if (locked) await db.query(UNLOCK_SQL, [integration.id]);
    } catch (error) {
      log.warn({ err: { message: messageOf(error) } }, 'could not clean up the run session (it is closed anyway)');
    }
    await db.close();
    await adapter?.close?.().catch(() => undefined);
  }
}

interface RunInput {
  runId: string;
  integration: IntegrationConfig;
  adapter: PlatformAdapter;
  options: { full: boolean; force: boolean };
  progress: RunProgressTracker;
  signal: AbortSignal | undefined;
  tables: ReturnType<typeof stagingTables>;
  /** The run's platform requests (recorded on the run). */
  tally: PlatformRequestTally;
}

async function runSync(ctx: SyncContext, db: RunConnection, input: RunInput): Promise<Record<string, KindCounts>> {
  const { integration, progress, tables } = input;
  const selection = selectionOf(integration.elements);
  const issues = new RunIssuesWriter(db, input.runId, integration.id);

  progress.phase('pulling', 'resolving the project');
  // Project names are platform text too: stored, they must be storable.
  const projectReader = Object.assign(Object.create(input.adapter) as PlatformAdapter, {
    listProjects: async () => storableProjects(await input.adapter.listProjects()),
  });
  const project = await resolveProject(ctx.knex, integration, projectReader);
  // Read from another platform, account or project, the whole stored network would look gone.
  const source = networkSourceOf(integration, project);
  const [stored] = await ctx.knex('integrations').where({ id: integration.id }).select<{ network_source: NetworkSource | null }[]>('network_source');
  const sourceChange = networkSourceChange(integration.id, stored?.network_source ?? null, source);
  if (sourceChange && !input.options.force) throw new RunFailure(sourceChange);
  if (sourceChange) ctx.logger.warn({ runId: input.runId, integration: integration.id, from: stored?.network_source, to: source }, 'source changed: the stored network is replaced (forced)');
  progress.detail('preparing the staging tables');
  await prepareRunSession(db);
  const scope = scopeOf(integration, project);
  // A customer listing that ignores the project answers the whole account: of it, only the
  // customers on the project's ports are kept (resolve.ts), so nothing outside is stored or reported.
  const customersBounded = scope.projectExternalIds.length === 0 || input.adapter.customersFollowScope !== false;
  await createStaging(db, tables, { poles: selection.poles, boxes: selection.boxes, customers: selection.customers && customersBounded });
  const positions = await loadPositionRule(integration.area);
  // On a platform that filters on update time, only what changed is read (incremental-listing.ts).
  const adapter = incrementalAdapter(input.adapter, {
    knex: ctx.knex,
    integrationId: integration.id,
    runId: input.runId,
    full: input.options.full,
    scope,
    onListed: (kind, how) => ctx.logger.info({ runId: input.runId, integration: integration.id, kind, ...how }, 'listing read'),
  });
  await pullIntoStaging({
    db,
    integrationId: integration.id,
    full: input.options.full,
    adapter,
    scope,
    selection,
    tables,
    issues,
    progress,
    positions,
    requests: input.tally,
    batchOccupancy: integration.sync.occupancyReads === 'batch',
    ...(input.signal ? { signal: input.signal } : {}),
  });

  progress.phase('validating');
  await resolveStaging(db, tables, { selection, attachRadiusMeters: integration.sync.attachRadiusMeters, issues, progress });

  progress.phase('linking');
  const fingerprint = await erpFingerprint(db);
  const previousFingerprint = await linkCustomers(
    {
      integrationId: integration.id,
      runId: input.runId,
      full: input.options.full,
      tables,
      issues,
      progress,
      platformCarriesDocuments: input.adapter.customersCarryDocuments !== false,
    },
    fingerprint,
  );
  await db.query(`ANALYZE ${tables.links}`);
  await issues.flush();
  if (input.signal?.aborted) throw new RunFailure('the run was cancelled');

  progress.phase('merging');
  const params: MergeParams = {
    integrationId: integration.id,
    runId: input.runId,
    projectId: project.id,
    full: input.options.full,
    selection,
    tables,
  };
  const counts = emptyCounts();
  for (const [kind, entry] of Object.entries(progress.current.kinds)) if (counts[kind]) (counts[kind] as KindCounts).rejected = entry.rejected;

  await db.transaction(async (trx) => {
    const plans = await planRemovals(db, params);
    const guarded = await planGuardedRemovals(db, integration.id, tables);
    const violation = removalGuardViolation(guarded, { percent: integration.sync.removalGuardPercent, minCount: integration.sync.removalGuardMinCount });
    if (violation && !input.options.force) throw new RunFailure(violation);
    if (violation) ctx.logger.warn({ runId: input.runId, integration: integration.id, plans: guarded }, 'mass-removal guard overridden by force');

    const merged = await mergeStaging(db, params, plans);
    await recordLinkIssues(db, { runId: input.runId, integrationId: integration.id, tables });
    await db.execute('UPDATE integrations SET network_source = $2::jsonb WHERE id = $1', [integration.id, JSON.stringify(source)]);
    for (const kind of Object.keys(merged) as CountKind[]) Object.assign(counts[kind] as KindCounts, merged[kind]);
    if (selection.serviceSplitters || selection.distributionSplitters) {
      await recordPoleChecks(db, params);
      await recordEquipmentReads(db, params);
      await recordPortCountSummaries(db, params);
    }
    if (previousFingerprint !== fingerprint) {
      await db.execute(
        `INSERT INTO sync_link_state (integration_id, erp_fingerprint) VALUES ($1, $2)
         ON CONFLICT (integration_id) DO UPDATE SET erp_fingerprint = EXCLUDED.erp_fingerprint, updated_at = now()`,
        [integration.id, fingerprint],
      );
    }

    const bindings = await reconcileBindingsAfterSync(trx, integration.id, { runId: input.runId, stagedCustomers: tables.customers });
    for (const issue of bindings.issues) await issues.add(issue);
    for (const removed of await removedPortsWithBindings(db, integration.id)) {
      await issues.add({
        kind: 'ports',
        externalId: removed.port,
        code: 'removed_port_with_binding',
        reason: `port ${removed.port} is gone from the platform but binding ${removed.binding} (service ${removed.serviceId}) is confirmed on it; the binding is kept: move it to another port or cancel it`,
      });
    }
    await issues.flush();

    const pause = Number(process.env[PAUSE_IN_MERGE_ENV] ?? 0);
    if (pause > 0) {
      process.stderr.write(`sync paused inside the merge transaction (${PAUSE_IN_MERGE_ENV})\n`);
      await sleep(pause);
    }
    if (input.signal?.aborted) throw new RunFailure(messageOf(input.signal.reason));
    progress.phase('done');
    // The run may have been reaped or cancelled while it merged: then nothing is committed
    // unseen, the transaction rolls back and the run stays failed with its reason.
    const stillOurs = await finishRun(trx, input.runId, { status: 'succeeded', counts, error: null, progress: progress.current, platformRequests: input.tally.toJSON() });
    if (!stillOurs) throw new RunFailure('the run was ended (reaped or cancelled) while it merged; its merge was rolled back');
  });
  // After the commit: the run has succeeded whatever happens here.
  await analyzeBulkChanges(db, counts).catch((error: unknown) =>
    ctx.logger.warn({ runId: input.runId, err: { message: messageOf(error) } }, 'could not refresh the planner statistics after the sync'),
  );
  return counts;
}

interface RunWatchInput {
  runId: string;
  progress: RunProgressTracker;
  log: SyncContext['logger'];
  /** No progress for this long: the run is stalled. */
  stallMs: number;
  /** From the start of the run. */
  deadlineMs: number;
  /** The host's own stop (service shutdown). */
  outer: AbortSignal | undefined;
  /** Breaks off the statement the run may be waiting on. */
  interrupt: () => Promise<void>;
}

/**
 * Watches a running run from the application's pool, every few seconds, never overlapping
 * itself. While the run moves it writes the heartbeat (and the progress). It stops the run
 * (aborts its signal, breaks off its statement) and fails it in the table with the reason
 * when:
 *   - its progress has not moved for `stallMs` (runs.stallMinutes): the heartbeat follows
 *     progress, not a bare timer, so a live but stalled run no longer holds the
 *     one-active-run slot for ever;
 *   - it has run for `deadlineMs` (runs.deadlineMinutes);
 *   - its row is no longer `running` (cancelled by an operator, or reaped).
 */
function watchRun(ctx: SyncContext, input: RunWatchInput): { signal: AbortSignal; stop: () => Promise<void> } {
  const { runId, progress, log } = input;
  const controller = new AbortController();
  // Every platform call in flight listens to it (up to the concurrency cap, and more while
  // adapters read ahead): not a leak.
  setMaxListeners(0, controller.signal);
  const startedAt = Date.now();
  let inFlight: Promise<void> | null = null;
  const minutes = (ms: number) => `${Math.round((ms / MINUTE_MS) * 100) / 100} min`;

  const stopRun = async (reason: string, alreadyEnded: boolean) => {
    if (controller.signal.aborted) return;
    controller.abort(new RunFailure(reason));
    log.warn({ phase: progress.current.phase, reason }, 'sync run stopped');
    if (!alreadyEnded) await failActiveRun(ctx.knex, runId, reason);
    await input.interrupt().catch(() => undefined);
  };
  const onOuterAbort = () => {
    if (controller.signal.aborted) return;
    const reason: unknown = input.outer!.reason;
    // abort() without a reason gives a bare AbortError ("This operation was aborted").
    controller.abort(reason instanceof Error && reason.name !== 'AbortError' ? reason : new RunFailure('the run was cancelled'));
  };
  if (input.outer?.aborted) onOuterAbort();
  input.outer?.addEventListener('abort', onOuterAbort, { once: true });

  const check = async () => {
    if (controller.signal.aborted) return;
    const now = Date.now();
    const phase = progress.current.phase;
    if (now - startedAt >= input.deadlineMs) {
      return stopRun(`deadline: the run was still ${phase} after ${minutes(input.deadlineMs)} (runs.deadlineMinutes); stopped, previous state kept`, false);
    }
    if (now - progress.movedAt >= input.stallMs) {
      return stopRun(`stalled: no progress for ${minutes(now - progress.movedAt)} while ${phase} (runs.stallMinutes is ${minutes(input.stallMs)}); stopped, previous state kept`, false);
    }
    if (!(await heartbeat(ctx.knex, runId, progress.current))) {
      const row = await getRun(ctx.knex, runId);
      // Its own merge committed while this beat waited on the row: nothing to stop.
      if (row?.status === 'succeeded') return;
      return stopRun(row?.error ?? `the run is ${row?.status ?? 'gone'}`, true);
    }
  };
  const beat = () => {
    if (inFlight) return;
    inFlight = check()
      .catch((error: unknown) => log.warn({ err: { message: messageOf(error) } }, 'heartbeat failed'))
      .finally(() => {
        inFlight = null;
      });
  };
  // Often enough to notice a stall or a deadline within a quarter of it (tests use seconds).
  const every = Math.max(50, Math.min(HEARTBEAT_EVERY_MS, input.stallMs / 4, input.deadlineMs / 4));
  const timer = setInterval(beat, every);
  timer.unref();
  return {
    signal: controller.signal,
    async stop() {
      clearInterval(timer);
      input.outer?.removeEventListener('abort', onOuterAbort);
      await inFlight;
    },
  };
}

/**
 * The run's database session died under it (killed by an admin, server restart, network
 * cut): pg reports it with codes of class 08 and 57P0x, or as a client "not queryable".
 */
function connectionLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (code.startsWith('08') || /^57P0[1-3]$/.test(code) || code === 'ECONNRESET' || code === 'EPIPE')) return true;
  return /Client has encountered a connection error|Connection terminated|terminating connection due to administrator command|server closed the connection unexpectedly/i.test(
    messageOf(error),
  );
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

import { hostname } from 'node:os';
import type { Knex } from 'knex';
import { executeRun } from '../sync/sync-engine.ts';
import { handBackStoppedRuns, keepWaitingRunsAlive, rerunRunsOfDeadProcesses } from '../sync/fleet-queue.repository.ts';
import { DEFAULT_STALE_AFTER_MS, reapStaleRuns, type RunRecord } from '../sync/sync-runs.repository.ts';
import type { AppContext } from './app-context.ts';
import type { BackgroundWorker } from './background-worker.ts';

/** The error of a run broken off because its process is stopping. */
const SHUTTING_DOWN = 'mapsync is shutting down';

export interface RunWorkerOptions {
  /** How often queued runs are looked for without a wake() (default 5 s). */
  pollMs?: number;
  /** How often runs left by a dead process are reaped and re-run (default 15 s). */
  reapEveryMs?: number;
  /** A running run whose heartbeat is older than this is dead (default: the sync engine's). */
  staleAfterMs?: number;
  /** Integrations run at the same time by this process (default: config `runs.concurrency`). */
  concurrency?: number;
  /** Process identity written to the runs (default host:pid). */
  owner?: string;
}

/**
 * Claims a queued run for this process. The UPDATE … FOR UPDATE SKIP LOCKED makes the
 * claim safe between processes sharing the database: two pollers never get the same
 * row, and a row claimed by a process that died before starting it (owner set, run still
 * queued, heartbeat old) can be claimed again. Runs queued by the CLI are executed by
 * the CLI process itself, so they are only taken over once abandoned.
 */
export async function claimQueuedRun(
  knex: Knex,
  options: { owner: string; integrationIds: string[]; busyIntegrationIds: string[]; staleAfterMs: number },
): Promise<{ id: string; integrationId: string } | null> {
  if (options.integrationIds.length === 0) return null;
  const staleSeconds = Math.max(1, Math.round(options.staleAfterMs / 1000));
  const result = await knex.raw<{ rows: { id: string; integration_id: string }[] }>(
    `UPDATE sync_runs SET owner = :owner, heartbeat_at = now()
      WHERE id = (
        SELECT id FROM sync_runs
         WHERE status = 'queued'
           AND integration_id = ANY(:integrationIds)
           AND NOT (integration_id = ANY(:busy))
           AND (owner IS NULL OR heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => :staleSeconds))
           AND (trigger <> 'cli' OR queued_at < now() - make_interval(secs => :staleSeconds))
         ORDER BY queued_at
         LIMIT 1
         FOR UPDATE SKIP LOCKED)
        AND status = 'queued'
      RETURNING id, integration_id`,
    {
      owner: options.owner,
      integrationIds: options.integrationIds,
      busy: options.busyIntegrationIds,
      staleSeconds,
    },
  );
  const row = result.rows[0];
  return row ? { id: row.id, integrationId: row.integration_id } : null;
}

/**
 * Executes queued sync runs inside `mapsync serve`: polls (and wakes on demand), claims
 * runs safely across processes, at most `concurrency` at once (config `runs.concurrency`),
 * runs them through the sync engine (which holds the per-integration advisory lock), and
 * reaps and re-runs the runs of dead processes. Every process of a fleet on one database
 * runs one; see README "Running a fleet".
 */
export function createRunWorker(ctx: AppContext, options: RunWorkerOptions = {}): BackgroundWorker {
  const pollMs = options.pollMs ?? 5_000;
  const reapEveryMs = options.reapEveryMs ?? 15_000;
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const concurrency = options.concurrency ?? ctx.config.runs.concurrency;
  const owner = options.owner ?? `${hostname()}:${process.pid}`;
  const logger = ctx.logger.child({ component: 'run-worker' });

  const active = new Map<string, { integrationId: string; abort: AbortController; done: Promise<void> }>();
  ctx.metrics.runConcurrency.set(concurrency);
  ctx.metrics.runsInProgress.set(0);
  let stopping = false;
  let pollTimer: NodeJS.Timeout | null = null;
  let reapTimer: NodeJS.Timeout | null = null;
  let polling: Promise<void> | null = null;
  let pollAgain = false;

  function schedulePoll(delay: number) {
    if (stopping) return;
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = setTimeout(() => void poll(), delay);
    pollTimer.unref();
  }

  function poll(): Promise<void> {
    if (stopping) return Promise.resolve();
    if (polling) {
      pollAgain = true;
      return polling;
    }
    polling = (async () => {
      try {
        do {
          pollAgain = false;
          while (!stopping && active.size < concurrency) {
            const claimed = await claimQueuedRun(ctx.knex, {
              owner,
              integrationIds: [...ctx.integrations.keys()],
              busyIntegrationIds: [...active.values()].map((run) => run.integrationId),
              staleAfterMs,
            });
            if (!claimed) break;
            start(claimed.id, claimed.integrationId);
          }
        } while (pollAgain && !stopping);
      } catch (error) {
        logger.error({ err: error }, 'could not look for queued runs');
      } finally {
        polling = null;
        schedulePoll(pollMs);
      }
    })();
    return polling;
  }

  function start(runId: string, integrationId: string) {
    const abort = new AbortController();
    const runLogger = logger.child({ runId, integration: integrationId });
    runLogger.info('sync run starting');
    // The engine logs its own progress as structured lines (phase, per-kind counts), with the run id.
    const done = executeRun(
      { knex: ctx.knex, logger, integrations: ctx.integrations, adapterFor: ctx.adapterFor, owner },
      runId,
      { signal: abort.signal },
    )
      .then((run: RunRecord) => {
        const seconds = run.startedAt && run.finishedAt ? (new Date(run.finishedAt).getTime() - new Date(run.startedAt).getTime()) / 1000 : null;
        ctx.metrics.syncRuns.inc({ integration: integrationId, status: run.status });
        if (seconds !== null) ctx.metrics.syncDuration.observe({ integration: integrationId }, seconds);
        recordPlatformRequests(ctx.metrics, integrationId, run.platformRequests);
        const log = run.status === 'succeeded' ? runLogger.info.bind(runLogger) : runLogger.warn.bind(runLogger);
        log({ status: run.status, counts: run.counts, error: run.error ?? undefined, seconds }, `sync run ${run.status}`);
      })
      .catch((error: unknown) => runLogger.error({ err: error }, 'sync run could not be executed'))
      .finally(() => {
        active.delete(runId);
        ctx.metrics.runsInProgress.set(active.size);
        if (!stopping) void poll();
      });
    active.set(runId, { integrationId, abort, done });
    ctx.metrics.runsInProgress.set(active.size);
  }

  let reaping: Promise<void> | null = null;
  function reap(): Promise<void> {
    reaping ??= reapOnce().finally(() => (reaping = null));
    return reaping;
  }

  /**
   * The fleet's housekeeping, done by every live process: end the runs of dead processes,
   * re-run them here or elsewhere (whoever claims first), and keep the runs that wait for a
   * free worker from looking abandoned.
   */
  async function reapOnce() {
    const integrationIds = [...ctx.integrations.keys()];
    try {
      const reaped = await reapStaleRuns(ctx.knex, { staleAfterMs });
      if (reaped.length > 0) logger.warn({ reaped }, 'reaped runs left by a dead process');
      const reruns = await rerunRunsOfDeadProcesses(ctx.knex, { integrationIds });
      for (const rerun of reruns) {
        logger.warn({ runId: rerun.id, retryOf: rerun.retryOf, integration: rerun.integrationId, attempt: rerun.attempt }, 'queued again: the process running it died');
      }
      if (reruns.length > 0) void poll();
      await keepWaitingRunsAlive(ctx.knex, { integrationIds, olderThanMs: Math.max(reapEveryMs, 60_000) });
    } catch (error) {
      logger.error({ err: error }, 'could not reap or re-run the runs of dead processes');
    }
  }

  return {
    name: 'run-worker',
    wakes: 'runs',
    async start() {
      logger.info({ owner, concurrency }, 'run worker started');
      await reap();
      reapTimer = setInterval(() => void reap(), reapEveryMs);
      reapTimer.unref();
      void poll();
    },
    wake() {
      void poll();
    },
    async stop() {
      stopping = true;
      if (pollTimer) clearTimeout(pollTimer);
      if (reapTimer) clearInterval(reapTimer);
      await Promise.all([polling, reaping]);
      // A run is all or nothing, so aborting leaves the previous state intact; it is not
      // worth holding up a shutdown for a sync that may take minutes.
      const interrupted = [...active.keys()];
      for (const run of active.values()) run.abort.abort(new Error(SHUTTING_DOWN));
      await Promise.allSettled([...active.values()].map((run) => run.done));
      try {
        const handedBack = await handBackStoppedRuns(ctx.knex, interrupted, SHUTTING_DOWN);
        if (handedBack.length > 0) logger.info({ runs: handedBack }, 'runs broken off by the shutdown are left for a live process to run again');
      } catch (error) {
        logger.warn({ err: error }, 'could not hand the runs broken off by the shutdown back to the fleet');
      }
    },
  };
}

/** A finished run's platform requests, into the counters of the service's metrics. */
function recordPlatformRequests(metrics: AppContext['metrics'], integration: string, requests: RunRecord['platformRequests']): void {
  if (!requests) return;
  for (const [family, n] of Object.entries(requests.byFamily)) metrics.syncPlatformRequests.inc({ integration, family }, n);
  // inc(0) still makes the series, so a dashboard shows 0 rather than no data.
  metrics.syncPlatformRetries.inc({ integration }, requests.retries);
  metrics.syncPlatformRateLimited.inc({ integration }, requests.rateLimited);
  if (requests.occupancyReads) metrics.syncOccupancyReads.inc({ integration, mode: requests.occupancyReads });
}

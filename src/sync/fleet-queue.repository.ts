/**
 * The run queue as a fleet of `mapsync serve` processes shares it, PostgreSQL being the
 * coordinator: what a live process does for the runs of a dead one, and for the runs that
 * wait for a free worker. Claiming is in service/run-worker.ts; the one-active-run index,
 * the per-slot index and the sync lock keep every integration to one run at a time.
 */
import type { Knex } from 'knex';
import { RUN_MAX_ATTEMPTS } from './sync-runs.repository.ts';

export interface Rerun {
  /** The new, queued run. */
  id: string;
  /** The run whose process died. */
  retryOf: string;
  integrationId: string;
  attempt: number;
}

/**
 * Queues a re-run of every run that was ended because its process died (`reaped_at`, it had
 * started), when it is still the integration's latest run and has attempts left
 * (RUN_MAX_ATTEMPTS). The re-run keeps the trigger, options and slot, with `retry_of` and
 * `attempt` + 1. Runs of the CLI are not re-run: their operator saw the command die.
 *
 * Safe from any number of processes at once: a run is re-run once (unique `retry_of`), and
 * never beside another active run of its integration (one-active index); both conflicts
 * are skipped, not raised. Only `integrationIds` (configured here) are considered.
 */
export async function rerunRunsOfDeadProcesses(
  knex: Knex,
  options: { integrationIds: string[]; maxAttempts?: number },
): Promise<Rerun[]> {
  if (options.integrationIds.length === 0) return [];
  const result = await knex.raw<{ rows: { id: string; retry_of: string; integration_id: string; attempt: number }[] }>(
    `INSERT INTO sync_runs (integration_id, trigger, status, options, scheduled_for, retry_of, attempt)
     SELECT d.integration_id, d.trigger, 'queued', d.options, d.scheduled_for, d.id, d.attempt + 1
       FROM sync_runs d
      WHERE d.status = 'failed'
        AND d.reaped_at IS NOT NULL
        AND d.started_at IS NOT NULL
        AND d.trigger <> 'cli'
        AND d.attempt < :maxAttempts
        AND d.integration_id = ANY(:integrationIds)
        AND NOT EXISTS (SELECT 1 FROM sync_runs later
                         WHERE later.integration_id = d.integration_id AND later.id <> d.id AND later.queued_at >= d.queued_at)
     ORDER BY d.queued_at
     ON CONFLICT DO NOTHING
     RETURNING id, retry_of, integration_id, attempt`,
    { maxAttempts: options.maxAttempts ?? RUN_MAX_ATTEMPTS, integrationIds: options.integrationIds },
  );
  return result.rows.map((row) => ({ id: row.id, retryOf: row.retry_of, integrationId: row.integration_id, attempt: Number(row.attempt) }));
}

/**
 * Marks the queued runs this live process could run as still wanted (their heartbeat), so a
 * run waiting for a free worker in a busy fleet is not reaped as abandoned
 * (DEFAULT_QUEUED_STALE_AFTER_MS is for runs nobody is left to start). Claimed runs and
 * CLI runs (their own process starts them) are left alone. Returns how many were touched.
 */
export async function keepWaitingRunsAlive(knex: Knex, options: { integrationIds: string[]; olderThanMs: number }): Promise<number> {
  if (options.integrationIds.length === 0) return 0;
  const result = await knex.raw(
    `UPDATE sync_runs SET heartbeat_at = now()
      WHERE status = 'queued' AND owner IS NULL AND trigger <> 'cli'
        AND integration_id = ANY(:integrationIds)
        AND coalesce(heartbeat_at, queued_at) < now() - make_interval(secs => :seconds)`,
    { integrationIds: options.integrationIds, seconds: Math.max(options.olderThanMs, 0) / 1000 },
  );
  return result.rowCount ?? 0;
}

/**
 * Hands the runs a stopping process broke off back to the fleet: those that ended `failed`
 * with `reason` are marked as ended by their process (`reaped_at`), so a live process re-runs
 * them like the runs of a dead one (a rolling deploy does not lose a nightly run). Returns
 * the ids handed back.
 */
export async function handBackStoppedRuns(knex: Knex, runIds: string[], reason: string): Promise<string[]> {
  if (runIds.length === 0) return [];
  const rows = (await knex('sync_runs')
    .whereIn('id', runIds)
    .where({ status: 'failed', error: reason })
    .whereNotNull('started_at')
    .whereNull('reaped_at')
    .update({ reaped_at: knex.fn.now() })
    .returning('id')) as { id: string }[];
  return rows.map((row) => row.id);
}

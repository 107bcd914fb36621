import type { Knex } from 'knex';
import type { IntegrationConfig } from '../config/config.schema.ts';
import type { PlatformRequestCounts } from '../platforms/http/request-tally.ts';
import { lockHeldSql } from './run-lock.ts';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed';
export type RunTrigger = 'schedule' | 'catch_up' | 'manual' | 'cli';
export type RunPhase = 'pulling' | 'validating' | 'merging' | 'linking' | 'done';

export interface KindCounts {
  created: number;
  updated: number;
  unchanged: number;
  removed: number;
  rejected: number;
}

export interface RunProgress {
  phase: RunPhase;
  kinds: Record<string, { fetched: number; rejected: number }>;
  message?: string;
}

export interface RunOptions {
  full: boolean;
  force: boolean;
}

/** A sync run as the API, the CLI and the scheduler see it. Times are ISO 8601 UTC. */
export interface RunRecord {
  id: string;
  integrationId: string;
  trigger: RunTrigger;
  status: RunStatus;
  options: RunOptions;
  counts: Record<string, KindCounts>;
  progress: RunProgress | null;
  error: string | null;
  owner: string | null;
  queuedAt: string;
  startedAt: string | null;
  heartbeatAt: string | null;
  finishedAt: string | null;
  scheduledFor: string | null;
  /** What the run asked of the platform; null while it runs, and for runs recorded before it was counted. */
  platformRequests: PlatformRequestCounts | null;
  /** The run this one re-runs because the process running that one died; null for a first run. */
  retryOf: string | null;
  /** 1 for a first run, one more for each re-run after a dead process (at most RUN_MAX_ATTEMPTS). */
  attempt: number;
}

export type { PlatformRequestCounts };

export interface RunIssue {
  kind: string;
  externalId: string | null;
  code: string;
  reason: string;
}

/** Raised by queueRun when the integration already has a queued or running run. */
export class RunAlreadyActiveError extends Error {
  constructor(readonly runId: string) {
    super(`a sync run is already queued or running for this integration (run ${runId})`);
    this.name = 'RunAlreadyActiveError';
  }
}

/** Raised by queueRun when a timer's slot was already queued (by this or another process). */
export class SlotAlreadyQueuedError extends Error {
  constructor(readonly runId: string) {
    super(`this schedule slot was already queued (run ${runId})`);
    this.name = 'SlotAlreadyQueuedError';
  }
}

/**
 * How many times a run is started in all: a run whose process dies is re-run by a live one,
 * but one that kills every process that takes it (out of memory on a huge network) must not
 * take the whole fleet down one process after another.
 */
export const RUN_MAX_ATTEMPTS = 3;

/** How long a running run may go without a heartbeat before it is taken as dead. */
export const DEFAULT_STALE_AFTER_MS = 2 * 60_000;
/**
 * A queued run nobody started (or claimed, see heartbeat_at) for this long belongs to a process
 * that died before starting it.
 */
export const DEFAULT_QUEUED_STALE_AFTER_MS = 30 * 60_000;

interface RunRow {
  id: string;
  integration_id: string;
  trigger: RunTrigger;
  status: RunStatus;
  options: Partial<RunOptions> | null;
  counts: Record<string, KindCounts> | null;
  progress: RunProgress | null;
  error: string | null;
  owner: string | null;
  queued_at: Date;
  started_at: Date | null;
  heartbeat_at: Date | null;
  finished_at: Date | null;
  scheduled_for: Date | null;
  platform_requests?: PlatformRequestCounts | null;
  retry_of?: string | null;
  attempt?: number | null;
}

const iso = (value: Date | null): string | null => (value ? new Date(value).toISOString() : null);

export function toRunRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    integrationId: row.integration_id,
    trigger: row.trigger,
    status: row.status,
    options: { full: row.options?.full === true, force: row.options?.force === true },
    counts: row.counts ?? {},
    progress: row.progress ?? null,
    error: row.error,
    owner: row.owner,
    queuedAt: new Date(row.queued_at).toISOString(),
    startedAt: iso(row.started_at),
    heartbeatAt: iso(row.heartbeat_at),
    finishedAt: iso(row.finished_at),
    scheduledFor: iso(row.scheduled_for),
    platformRequests: row.platform_requests ?? null,
    retryOf: row.retry_of ?? null,
    attempt: Number(row.attempt ?? 1),
  };
}

/**
 * Queues a run, one active (queued or running) per integration across processes; throws
 * RunAlreadyActiveError naming the active one. With `scheduleSlot` (a timer's slot) the run
 * is queued at most once per slot and integration, however many processes fire for it and
 * however late: SlotAlreadyQueuedError names the run that has it.
 */
export async function queueRun(
  knex: Knex,
  input: { integrationId: string; trigger: RunTrigger; options?: { full?: boolean; force?: boolean }; scheduledFor?: Date; scheduleSlot?: Date },
): Promise<RunRecord> {
  // ON CONFLICT: safe across processes, and no error is raised (an error would also cost the
  // embedded database's session its state). A slot run may meet either unique index.
  const conflict = input.scheduleSlot ? 'ON CONFLICT DO NOTHING' : `ON CONFLICT (integration_id) WHERE status IN ('queued', 'running') DO NOTHING`;
  const insert = async (): Promise<RunRecord | null> => {
    const result = await knex.raw(
      `INSERT INTO sync_runs (integration_id, trigger, status, options, scheduled_for, schedule_slot)
       VALUES (?, ?, 'queued', ?::jsonb, ?, ?)
       ${conflict}
       RETURNING *`,
      [
        input.integrationId,
        input.trigger,
        JSON.stringify({ full: input.options?.full === true, force: input.options?.force === true }),
        input.scheduledFor ?? input.scheduleSlot ?? null,
        input.scheduleSlot ?? null,
      ],
    );
    const row = (result.rows as RunRow[])[0];
    return row ? toRunRecord(row) : null;
  };
  const slotTaken = async (): Promise<void> => {
    if (!input.scheduleSlot) return;
    const taken = (await knex('sync_runs').where({ integration_id: input.integrationId, schedule_slot: input.scheduleSlot }).first('id')) as
      | { id: string }
      | undefined;
    if (taken) throw new SlotAlreadyQueuedError(taken.id);
  };
  const queued = await insert();
  if (queued) return queued;
  await slotTaken();
  // The active run may belong to a process that died: reap it and try once more.
  await reapStaleRuns(knex, { staleAfterMs: DEFAULT_STALE_AFTER_MS });
  const retried = await insert();
  if (retried) return retried;
  await slotTaken();
  const active = (await knex('sync_runs')
    .where({ integration_id: input.integrationId })
    .whereIn('status', ['queued', 'running'])
    .first('id')) as { id: string } | undefined;
  throw new RunAlreadyActiveError(active?.id ?? 'unknown');
}

export async function getRun(knex: Knex, runId: string): Promise<RunRecord | null> {
  if (!isUuid(runId)) return null;
  const row = (await knex('sync_runs').where({ id: runId }).first()) as RunRow | undefined;
  return row ? toRunRecord(row) : null;
}

export async function listRuns(
  knex: Knex,
  query: { integrationId?: string; limit?: number; before?: string | Date } = {},
): Promise<RunRecord[]> {
  const builder = knex('sync_runs').orderBy([
    { column: 'queued_at', order: 'desc' },
    { column: 'id', order: 'desc' },
  ]);
  if (query.integrationId) builder.where({ integration_id: query.integrationId });
  if (query.before) builder.where('queued_at', '<', new Date(query.before));
  builder.limit(Math.min(Math.max(query.limit ?? 50, 1), 1000));
  return ((await builder) as RunRow[]).map(toRunRecord);
}

export async function runIssues(knex: Knex, runId: string): Promise<RunIssue[]> {
  if (!isUuid(runId)) return [];
  const rows = (await knex('sync_issues')
    .where({ run_id: runId })
    .orderBy('id')
    .select('kind', 'external_id', 'code', 'reason')) as { kind: string; external_id: string | null; code: string; reason: string }[];
  return rows.map((row) => ({ kind: row.kind, externalId: row.external_id, code: row.code, reason: row.reason }));
}

/**
 * Fails runs whose process is gone: running with an old heartbeat, running while no session
 * holds the integration's sync lock (the lock dies with its connection), or queued for so
 * long that nobody is going to start them. Returns the reaped run ids.
 */
export async function reapStaleRuns(
  knex: Knex,
  options: { staleAfterMs: number; queuedStaleAfterMs?: number; onlyRunning?: boolean },
): Promise<string[]> {
  const staleSeconds = Math.max(options.staleAfterMs, 0) / 1000;
  const queuedSeconds = Math.max(options.queuedStaleAfterMs ?? DEFAULT_QUEUED_STALE_AFTER_MS, 0) / 1000;
  const result = await knex.raw(
    `UPDATE sync_runs r
        SET status = 'failed',
            finished_at = now(),
            reaped_at = now(),
            progress = NULL,
            error = CASE
              WHEN r.status = 'queued' THEN 'reaped: queued but never started (the process that queued it is gone)'
              WHEN NOT ${lockHeldSql('r.integration_id')} THEN 'reaped: the process running it is gone (its sync lock was released)'
              ELSE 'reaped: no heartbeat since ' || to_char(r.heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            END
      WHERE (r.status = 'running'
             AND (r.heartbeat_at IS NULL OR r.heartbeat_at < now() - make_interval(secs => ?)
                  OR NOT ${lockHeldSql('r.integration_id')}))
         OR (NOT ?::bool AND r.status = 'queued' AND coalesce(r.heartbeat_at, r.queued_at) < now() - make_interval(secs => ?))
      RETURNING r.id`,
    [staleSeconds, options.onlyRunning === true, queuedSeconds],
  );
  return (result.rows as { id: string }[]).map((row) => row.id);
}

/** Upserts the integrations rows from config; rows are only rewritten when they differ. */
export async function ensureIntegrations(knex: Knex, integrations: IntegrationConfig[]): Promise<void> {
  if (integrations.length === 0) return;
  await knex.raw(
    `INSERT INTO integrations (id, platform, api_url)
     SELECT * FROM unnest(?::text[], ?::text[], ?::text[])
     ON CONFLICT (id) DO UPDATE SET platform = EXCLUDED.platform, api_url = EXCLUDED.api_url, updated_at = now()
     WHERE integrations.platform IS DISTINCT FROM EXCLUDED.platform OR integrations.api_url IS DISTINCT FROM EXCLUDED.api_url`,
    [
      pgArray(integrations.map((i) => i.id)),
      pgArray(integrations.map((i) => i.platform)),
      pgArray(integrations.map((i) => i.apiUrl)),
    ],
  );
}

/** knex expands a JS array binding into a list; a text[] literal keeps it one parameter. */
function pgArray(values: string[]): string {
  return `{${values.map((v) => `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

// ---------------------------------------------------------------------------------------
// Used by the run itself
// ---------------------------------------------------------------------------------------

/** queued → running, only if still queued; null when someone else took or reaped it. */
export async function markRunning(knex: Knex, runId: string, owner: string): Promise<RunRecord | null> {
  const rows = (await knex('sync_runs')
    .where({ id: runId, status: 'queued' })
    .update({ status: 'running', started_at: knex.fn.now(), heartbeat_at: knex.fn.now(), owner })
    .returning('*')) as RunRow[];
  return rows[0] ? toRunRecord(rows[0]) : null;
}

/**
 * Records that the run is alive and where it is. Returns false when the row is no longer
 * `running` (reaped, cancelled): the run must then stop and commit nothing.
 */
export async function heartbeat(knex: Knex, runId: string, progress: RunProgress | null): Promise<boolean> {
  const updated = await knex('sync_runs')
    .where({ id: runId, status: 'running' })
    .update({ heartbeat_at: knex.fn.now(), progress: progress ? JSON.stringify(progress) : null });
  return updated > 0;
}

/**
 * Records the outcome of a run that is still queued or running. Returns false (and writes
 * nothing) when the run already ended meanwhile, e.g. reaped or cancelled: inside the merge
 * transaction the caller must then roll back. The UPDATE locks the row, so a reaper that
 * comes later waits for the commit and then finds the run finished.
 */
export async function finishRun(
  knex: Knex,
  runId: string,
  outcome: {
    status: 'succeeded' | 'failed';
    counts: Record<string, KindCounts>;
    error: string | null;
    progress: RunProgress | null;
    platformRequests?: PlatformRequestCounts;
  },
): Promise<boolean> {
  const updated = await knex('sync_runs')
    .where({ id: runId })
    .whereIn('status', ['queued', 'running'])
    .update({
      status: outcome.status,
      counts: JSON.stringify(outcome.counts),
      error: outcome.error,
      progress: outcome.progress ? JSON.stringify(outcome.progress) : null,
      ...(outcome.platformRequests ? { platform_requests: JSON.stringify(outcome.platformRequests) } : {}),
      heartbeat_at: knex.fn.now(),
      finished_at: knex.fn.now(),
    });
  return updated > 0;
}

/** Fails a queued or running run with a reason (stall, deadline, operator); false when it had already ended. */
export async function failActiveRun(knex: Knex, runId: string, reason: string): Promise<boolean> {
  if (!isUuid(runId)) return false;
  const updated = await knex('sync_runs')
    .where({ id: runId })
    .whereIn('status', ['queued', 'running'])
    .update({ status: 'failed', error: reason, finished_at: knex.fn.now() });
  return updated > 0;
}

export const CANCELLED_BY_OPERATOR = 'cancelled by operator';

export type CancelOutcome =
  | { outcome: 'cancelled'; run: RunRecord; wasRunning: boolean }
  | { outcome: 'already_finished'; run: RunRecord }
  | { outcome: 'not_found' };

/**
 * Cancels a queued or running run: it becomes `failed` with the reason "cancelled by
 * operator" at once, which frees the integration's one-active-run slot. A running run
 * notices at its next heartbeat (a few seconds) and stops; its merge, if it reaches one,
 * is rolled back (see finishRun), so the previous state stays whole.
 */
export async function cancelRun(knex: Knex, runId: string): Promise<CancelOutcome> {
  const before = await getRun(knex, runId);
  if (!before) return { outcome: 'not_found' };
  const cancelled = await failActiveRun(knex, runId, CANCELLED_BY_OPERATOR);
  const after = (await getRun(knex, runId)) as RunRecord;
  if (!cancelled) return { outcome: 'already_finished', run: after };
  return { outcome: 'cancelled', run: after, wasRunning: before.status === 'running' };
}

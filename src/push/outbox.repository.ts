import type { Knex } from 'knex';
import type { PushPayload } from './push-payload.ts';
import { pusherSessionGoneSql } from './pusher-session.ts';

export type OutboxAction = 'bind' | 'unbind';
export type OutboxStatus = 'pending' | 'in_progress' | 'done' | 'failed' | 'cancelled';
export const OUTBOX_STATUSES: readonly OutboxStatus[] = ['pending', 'in_progress', 'done', 'failed', 'cancelled'];

export interface OutboxRow {
  id: number;
  integration_id: string;
  binding_id: number;
  action: OutboxAction;
  payload: PushPayload | Record<string, never>;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  last_status: number | null;
  locked_by: string | null;
  /** Advisory-lock key of the claiming pusher's session (owner liveness), null without one. */
  locked_session: number | null;
  locked_at: Date | null;
  done_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

type Db = Knex | Knex.Transaction;

/** Queues a push; a second one for the same binding and action is a no-op. Returns the row id either way. */
export async function enqueuePush(
  trx: Db,
  row: { integrationId: string; bindingId: number; action: OutboxAction; payload: PushPayload | Record<string, never> },
): Promise<{ id: number; created: boolean }> {
  const inserted = await trx('push_outbox')
    .insert({
      integration_id: row.integrationId,
      binding_id: row.bindingId,
      action: row.action,
      payload: JSON.stringify(row.payload),
    })
    .onConflict(['binding_id', 'action'])
    .ignore()
    .returning('id');
  if (inserted.length > 0) return { id: (inserted[0] as { id: number }).id, created: true };
  const existing = await trx('push_outbox').where({ binding_id: row.bindingId, action: row.action }).first('id');
  return { id: (existing as { id: number }).id, created: false };
}

/**
 * Takes up to `limit` due rows for this owner: pending ones whose time has come, and rows
 * left in_progress by a process that died (its session is gone, or the lease ran out). SKIP LOCKED lets several
 * processes claim side by side without waiting on or taking each other's rows.
 */
export async function claimDuePushes(
  knex: Db,
  options: { owner: string; integrationIds: string[]; limit: number; leaseMs: number; session?: number | null },
): Promise<OutboxRow[]> {
  if (options.limit <= 0 || options.integrationIds.length === 0) return [];
  // A row whose claiming pusher's session is gone (process dead) is due at once; see pusher-session.ts.
  const result = await knex.raw(
    `WITH due AS (
       SELECT id FROM push_outbox
        WHERE integration_id = ANY(?::text[])
          AND ((status = 'pending' AND next_attempt_at <= now())
            OR (status = 'in_progress' AND (locked_at < now() - make_interval(secs => ?) OR ${pusherSessionGoneSql('locked_session')})))
        ORDER BY next_attempt_at, id
        LIMIT ?
        FOR UPDATE SKIP LOCKED
     )
     UPDATE push_outbox o
        SET status = 'in_progress', locked_by = ?, locked_session = ?, locked_at = now(), attempts = o.attempts + 1, updated_at = now()
       FROM due
      WHERE o.id = due.id
     RETURNING o.*`,
    [options.integrationIds, options.leaseMs / 1000, options.limit, options.owner, options.session ?? null],
  );
  return (result.rows as OutboxRow[]).sort((a, b) => a.id - b.id);
}

/** The earliest time a pending row of these integrations becomes due, or null when none waits. */
export async function nextDueAt(knex: Db, integrationIds: string[]): Promise<Date | null> {
  if (integrationIds.length === 0) return null;
  const row = await knex('push_outbox')
    .where('status', 'pending')
    .whereIn('integration_id', integrationIds)
    .min({ at: 'next_attempt_at' })
    .first();
  return (row?.at as Date | null | undefined) ?? null;
}

/** Only the owner of the claim finishes it; a row reclaimed by another process is left to that one. */
function owned(knex: Db, id: number, owner: string) {
  return knex('push_outbox').where({ id, locked_by: owner, status: 'in_progress' });
}

export async function markPushDone(knex: Db, id: number, owner: string, payload: PushPayload | null): Promise<boolean> {
  const changed = await owned(knex, id, owner).update({
    status: 'done',
    done_at: knex.fn.now(),
    last_error: null,
    last_status: null,
    locked_by: null,
    locked_at: null,
    updated_at: knex.fn.now(),
    ...(payload ? { payload: JSON.stringify(payload) } : {}),
  });
  return changed > 0;
}

export async function reschedulePush(
  knex: Db,
  id: number,
  owner: string,
  retry: { delayMs: number; error: string; status: number | null; countAttempt?: boolean },
): Promise<boolean> {
  const changed = await owned(knex, id, owner).update({
    status: 'pending',
    next_attempt_at: knex.raw(`now() + make_interval(secs => ?)`, [retry.delayMs / 1000]),
    last_error: retry.error,
    last_status: retry.status,
    locked_by: null,
    locked_at: null,
    updated_at: knex.fn.now(),
    ...(retry.countAttempt === false ? { attempts: knex.raw('GREATEST(attempts - 1, 0)') } : {}),
  });
  return changed > 0;
}

export async function parkPush(knex: Db, id: number, owner: string, failure: { error: string; status: number | null }): Promise<boolean> {
  const changed = await owned(knex, id, owner).update({
    status: 'failed',
    last_error: failure.error,
    last_status: failure.status,
    locked_by: null,
    locked_at: null,
    updated_at: knex.fn.now(),
  });
  return changed > 0;
}

export async function cancelClaimedPush(knex: Db, id: number, owner: string, reason: string): Promise<boolean> {
  const changed = await owned(knex, id, owner).update({
    status: 'cancelled',
    last_error: reason,
    locked_by: null,
    locked_at: null,
    updated_at: knex.fn.now(),
  });
  return changed > 0;
}

export async function getPush(knex: Db, id: number): Promise<OutboxRow | null> {
  return ((await knex('push_outbox').where({ id }).first()) as OutboxRow | undefined) ?? null;
}

export async function pushesOfBinding(knex: Db, bindingId: number): Promise<OutboxRow[]> {
  return (await knex('push_outbox').where({ binding_id: bindingId }).orderBy('id')) as OutboxRow[];
}

export async function listPushes(
  knex: Db,
  filter: { status?: OutboxStatus; integrationId?: string; limit: number; afterId?: number },
): Promise<OutboxRow[]> {
  const query = knex('push_outbox').orderBy('id').limit(filter.limit);
  if (filter.status) query.where('status', filter.status);
  if (filter.integrationId) query.where('integration_id', filter.integrationId);
  if (filter.afterId !== undefined) query.where('id', '>', filter.afterId);
  return (await query) as OutboxRow[];
}

/** Puts a parked (or waiting) row back in line now, with a fresh attempt count. */
export async function retryPush(knex: Db, id: number): Promise<OutboxRow | null> {
  const rows = await knex('push_outbox')
    .where({ id })
    .whereIn('status', ['failed', 'pending'])
    .update({ status: 'pending', attempts: 0, next_attempt_at: knex.fn.now(), updated_at: knex.fn.now() })
    .returning('*');
  return (rows[0] as OutboxRow | undefined) ?? null;
}

export async function countPendingPushes(knex: Db): Promise<number> {
  const row = await knex('push_outbox').whereIn('status', ['pending', 'in_progress']).count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

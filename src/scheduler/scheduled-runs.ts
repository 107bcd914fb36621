import type { Knex } from 'knex';
import type { IntegrationConfig } from '../config/config.schema.ts';
import { DEFAULT_STALE_AFTER_MS, queueRun, reapStaleRuns, RunAlreadyActiveError, SlotAlreadyQueuedError } from '../sync/sync-runs.repository.ts';
import { previousRunAt } from './cron-time.ts';

export type SlotOutcome =
  | { outcome: 'queued'; runId: string; slot: Date }
  | { outcome: 'already_queued_for_slot'; runId: string; slot: Date }
  | { outcome: 'ran_since_slot'; runId: string; slot: Date }
  /** The integration was first seen after the slot: a fresh install has missed nothing. */
  | { outcome: 'registered_after_slot'; slot: Date }
  | { outcome: 'active'; runId: string; slot: Date }
  | { outcome: 'no_slot' };

/**
 * Queues the run for one schedule slot, once across processes: every process of a fleet
 * fires for the slot, and one insert wins on the per-slot unique index (schedule_slot), even
 * when the run it queued has already finished by the time a late timer fires. A slot that a
 * catch-up run already took at boot is not queued again either.
 */
export async function queueScheduledRun(knex: Knex, integration: IntegrationConfig, slot: Date): Promise<SlotOutcome> {
  const existing = await knex('sync_runs')
    .where({ integration_id: integration.id, scheduled_for: slot })
    .first<{ id: string } | undefined>('id');
  if (existing) return { outcome: 'already_queued_for_slot', runId: existing.id, slot };
  return queueForSlot(knex, integration, 'schedule', slot);
}

/**
 * At boot: when the last slot of the integration's schedule passed without a run that
 * brought the network up to date, queue one `catch_up` run for that slot. Nothing is
 * queued when a run queued at or after the slot (any trigger, or scheduled for that slot
 * or a later one) succeeded or is still queued or running, or when the integration was
 * first registered after the slot (a fresh install has missed nothing). A failed or
 * reaped run does not count: a deploy at 04:05 that killed the 04:00 run must not leave
 * the network a day stale (issue 12).
 */
export async function catchUpMissedRun(knex: Knex, integration: IntegrationConfig, now: Date): Promise<SlotOutcome> {
  const slot = previousRunAt(integration.schedule, integration.timezone, now);
  if (!slot) return { outcome: 'no_slot' };
  const registered = await knex('integrations').where({ id: integration.id }).first<{ created_at: Date } | undefined>('created_at');
  if (registered && new Date(registered.created_at) > slot) return { outcome: 'registered_after_slot', slot };
  // A run left `running` by the process that died in the deploy is no run at all.
  await reapStaleRuns(knex, { staleAfterMs: DEFAULT_STALE_AFTER_MS, onlyRunning: true });
  const since = await knex('sync_runs')
    .where({ integration_id: integration.id })
    .andWhere((q) => q.where('queued_at', '>=', slot).orWhere('scheduled_for', '>=', slot))
    .whereIn('status', ['succeeded', 'queued', 'running'])
    .orderBy('queued_at', 'desc')
    .first<{ id: string } | undefined>('id');
  if (since) return { outcome: 'ran_since_slot', runId: since.id, slot };
  return queueForSlot(knex, integration, 'catch_up', slot);
}

async function queueForSlot(
  knex: Knex,
  integration: IntegrationConfig,
  trigger: 'schedule' | 'catch_up',
  slot: Date,
): Promise<SlotOutcome> {
  try {
    const run = await queueRun(knex, {
      integrationId: integration.id,
      trigger,
      options: { full: false, force: false },
      scheduledFor: slot,
      ...(trigger === 'schedule' ? { scheduleSlot: slot } : {}),
    });
    return { outcome: 'queued', runId: run.id, slot };
  } catch (error) {
    if (error instanceof SlotAlreadyQueuedError) return { outcome: 'already_queued_for_slot', runId: error.runId, slot };
    if (error instanceof RunAlreadyActiveError) return { outcome: 'active', runId: error.runId, slot };
    throw error;
  }
}

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { integrationSchema, type IntegrationConfig, type MapsyncConfig } from '../../src/config/config.schema.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { catchUpMissedRun, queueScheduledRun } from '../../src/scheduler/scheduled-runs.ts';
import { createScheduler } from '../../src/scheduler/scheduler.ts';
import type { AppContext } from '../../src/service/app-context.ts';
import { ensureIntegrations } from '../../src/sync/sync-runs.repository.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

const integration: IntegrationConfig = integrationSchema.parse({
  id: 'campinas',
  platform: 'geogrid',
  apiUrl: 'https://geogrid.example.com/acme',
  token: 'secret',
  project: { link: 'Centro' },
});

function contextFor(knex: TestDatabase['knex'], integrations: IntegrationConfig[], scheduler: MapsyncConfig['scheduler']) {
  let wakes = 0;
  const ctx: AppContext = {
    knex,
    logger: silentLogger(),
    metrics: createMetrics(),
    config: { integrations, scheduler },
    integrations: new Map(integrations.map((i) => [i.id, i])),
    demo: false,
    adapterFor: () => {
      throw new Error('the scheduler never calls the platform');
    },
    wake: { runs: () => void wakes++, pushes: () => undefined },
  };
  return { ctx, wakes: () => wakes };
}

describe('scheduler', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db.destroy());
  beforeEach(async () => {
    await db.knex('sync_runs').del();
    await db.knex('integrations').del();
    await ensureIntegrations(db.knex, [integration]);
    // Registered long ago, so its past slots were due while mapsync existed.
    await db.knex('integrations').update({ created_at: new Date('2026-01-01T00:00:00Z') });
  });

  const runs = () => db.knex('sync_runs').orderBy('queued_at').select('id', 'trigger', 'status', 'scheduled_for', 'queued_at');
  const finishAll = () => db.knex('sync_runs').whereIn('status', ['queued', 'running']).update({ status: 'succeeded', finished_at: db.knex.fn.now() });

  test('a slot missed while down is caught up once, for that slot', async () => {
    // Last run two days before; the 04:00 São Paulo slot of 2026-11-24 (07:00Z) passed while down.
    await db.knex('sync_runs').insert({
      integration_id: integration.id, trigger: 'schedule', status: 'succeeded',
      queued_at: new Date('2026-11-22T07:00:00Z'), scheduled_for: new Date('2026-11-22T07:00:00Z'),
    });
    const now = new Date('2026-11-24T09:30:00Z');
    const first = await catchUpMissedRun(db.knex, integration, now);
    assert.equal(first.outcome, 'queued');
    assert.ok('slot' in first);
    assert.equal(first.slot.toISOString(), '2026-11-24T07:00:00.000Z');
    const afterFirst = await runs();
    assert.equal(afterFirst.length, 2);
    assert.equal(afterFirst[1]!.trigger, 'catch_up');
    assert.equal(new Date(afterFirst[1]!.scheduled_for).toISOString(), '2026-11-24T07:00:00.000Z');

    // A second boot (the catch-up run finished meanwhile) queues nothing.
    await finishAll();
    const second = await catchUpMissedRun(db.knex, integration, new Date('2026-11-24T10:00:00Z'));
    assert.equal(second.outcome, 'ran_since_slot');
    assert.equal((await runs()).length, 2);
  });

  test('no catch-up when any run was queued since the slot, or none was due', async () => {
    await db.knex('sync_runs').insert({
      integration_id: integration.id, trigger: 'manual', status: 'succeeded', queued_at: new Date('2026-11-24T08:00:00Z'),
    });
    assert.equal((await catchUpMissedRun(db.knex, integration, new Date('2026-11-24T09:30:00Z'))).outcome, 'ran_since_slot');
    // A fresh install: the integration appeared after the last slot.
    await db.knex('integrations').update({ created_at: new Date('2026-11-24T09:00:00Z') });
    await db.knex('sync_runs').del();
    assert.equal((await catchUpMissedRun(db.knex, integration, new Date('2026-11-24T09:30:00Z'))).outcome, 'ran_since_slot');
    assert.equal((await runs()).length, 0);
  });

  test('a slot is queued once even when a second process fires after the first run ended', async () => {
    const slot = new Date('2026-11-24T07:00:00Z');
    const first = await queueScheduledRun(db.knex, integration, slot);
    assert.equal(first.outcome, 'queued');
    const whileActive = await queueScheduledRun(db.knex, integration, slot);
    assert.equal(whileActive.outcome, 'already_queued_for_slot');
    await finishAll();
    const late = await queueScheduledRun(db.knex, integration, slot);
    assert.equal(late.outcome, 'already_queued_for_slot');
    assert.equal((await runs()).length, 1);
  });

  test('catch-up at start follows scheduler.catchUpMissedRuns', async () => {
    const now = () => new Date('2026-11-24T09:30:00Z');
    const off = contextFor(db.knex, [integration], { enabled: true, catchUpMissedRuns: false });
    const withoutCatchUp = createScheduler(off.ctx, { now });
    await withoutCatchUp.start();
    await withoutCatchUp.stop();
    assert.equal((await runs()).length, 0);

    const on = contextFor(db.knex, [integration], { enabled: true, catchUpMissedRuns: true });
    const scheduler = createScheduler(on.ctx, { now });
    await scheduler.start();
    await scheduler.stop();
    const queued = await runs();
    assert.equal(queued.length, 1);
    assert.equal(queued[0]!.trigger, 'catch_up');
    assert.equal(on.wakes(), 1, 'the run worker is woken');
    assert.equal(scheduler.nextRun(integration.id)?.toISOString(), '2026-11-25T07:00:00.000Z');
  });

  test('tasks fire on their cron in their zone, queue one run per slot, and are gone after stop', async () => {
    const everyOtherSecond = { ...integration, schedule: '*/2 * * * * *', timezone: 'America/New_York' };
    const { ctx, wakes } = contextFor(db.knex, [everyOtherSecond], { enabled: true, catchUpMissedRuns: false });
    const scheduler = createScheduler(ctx);
    const waitForRuns = async (count: number) => {
      const deadline = Date.now() + 6_000;
      // Each queued run is finished at once, as a run worker would, so the next slot can queue.
      while ((await runs()).length < count && Date.now() < deadline) {
        await finishAll();
        await new Promise((r) => setTimeout(r, 50));
      }
      await finishAll();
      return runs();
    };
    await scheduler.start();
    let queued;
    try {
      queued = await waitForRuns(2);
    } finally {
      await scheduler.stop();
    }
    assert.equal(queued.length, 2);
    const slots = queued.map((run) => new Date(run.scheduled_for).getTime());
    for (const run of queued) assert.equal(run.trigger, 'schedule');
    for (const slot of slots) assert.equal(slot % 2000, 0, 'a whole even second, as the expression says');
    assert.notEqual(slots[0], slots[1], 'one run per slot');
    assert.ok(wakes() >= 2);
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal((await runs()).length, 2, 'no task fires after stop');
  });

  test('a disabled scheduler creates no task and no next run', async () => {
    const { ctx } = contextFor(db.knex, [integration], { enabled: false, catchUpMissedRuns: true });
    const scheduler = createScheduler(ctx, { now: () => new Date('2026-11-24T09:30:00Z') });
    await scheduler.start();
    await scheduler.stop();
    assert.equal((await runs()).length, 0);
    assert.equal(scheduler.nextRun(integration.id), null);
  });
});

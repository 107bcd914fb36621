import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { integrationSchema, type IntegrationConfig, type MapsyncConfig } from '../../src/config/config.schema.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { catchUpMissedRun, queueScheduledRun } from '../../src/scheduler/scheduled-runs.ts';
import { createScheduler } from '../../src/scheduler/scheduler.ts';
import { presentIntegration } from '../../src/http/presenters/integration.presenter.ts';
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
    config: { integrations, scheduler, runs: { concurrency: 2 } },
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
    assert.equal((await catchUpMissedRun(db.knex, integration, new Date('2026-11-24T09:30:00Z'))).outcome, 'registered_after_slot');
    assert.equal((await runs()).length, 0);
  });

  test('catch-up: only a succeeded or still-active run since the slot counts as ran', async () => {
    // The 04:00 São Paulo slot of 2026-11-24 is 07:00Z; a deploy at 04:05 boots at 07:05Z.
    const slot = new Date('2026-11-24T07:00:00Z');
    const boot = new Date('2026-11-24T07:05:00Z');
    const cases: Array<{ status: string; error?: string; heartbeat?: Date; expected: string }> = [
      { status: 'failed', error: 'platform answered 503', expected: 'queued' },
      { status: 'failed', error: 'reaped: the process running it is gone (its sync lock was released)', expected: 'queued' },
      { status: 'failed', error: 'cancelled by operator', expected: 'queued' },
      // Left `running` by the process the deploy killed: no lock is held, so it is reaped, then caught up.
      { status: 'running', heartbeat: new Date(), expected: 'queued' },
      { status: 'succeeded', expected: 'ran_since_slot' },
      { status: 'queued', expected: 'ran_since_slot' },
    ];
    for (const c of cases) {
      await db.knex('sync_runs').del();
      const [row] = await db.knex('sync_runs').insert({
        integration_id: integration.id, trigger: 'schedule', status: c.status, error: c.error ?? null,
        queued_at: slot, scheduled_for: slot,
        ...(c.status === 'running' ? { started_at: slot, heartbeat_at: c.heartbeat, owner: 'gone:1' } : {}),
        ...(c.status === 'failed' || c.status === 'succeeded' ? { finished_at: new Date('2026-11-24T07:04:00Z') } : {}),
      }).returning('id');
      const result = await catchUpMissedRun(db.knex, integration, boot);
      assert.equal(result.outcome, c.expected, `${c.status} ${c.error ?? ''}`);
      if (c.expected === 'queued') {
        assert.ok('slot' in result && result.slot.toISOString() === slot.toISOString());
        const rows = await runs();
        assert.equal(rows.length, 2);
        assert.equal(rows.find((r) => r.id !== row.id)!.trigger, 'catch_up');
        assert.equal(rows.find((r) => r.id === row.id)!.status, 'failed');
      } else {
        assert.equal((await runs()).length, 1);
      }
    }
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

  test("one integration's schedule that can not run leaves the others scheduled, and shows on that integration", async () => {
    // Built past the config schema, which refuses both schedules: as if a check had been missed.
    const first = { ...integration, id: 'aaa-first' };
    const never = { ...integration, id: 'bbb-never', schedule: '0 4 30W 2 *' };
    const broken = { ...integration, id: 'ccc-broken', schedule: '0 4 L-2 * *' };
    const last = { ...integration, id: 'ddd-last', schedule: '30 3 * * *' };
    const all = [first, never, broken, last];
    await ensureIntegrations(db.knex, all);
    const { ctx } = contextFor(db.knex, all, { enabled: true, catchUpMissedRuns: true });
    const now = () => new Date('2026-11-24T05:00:00Z');
    const scheduler = createScheduler(ctx, { now });
    await scheduler.start();
    try {
      assert.equal(scheduler.nextRun(first.id)?.toISOString(), '2026-11-24T07:00:00.000Z');
      assert.equal(scheduler.nextRun(last.id)?.toISOString(), '2026-11-24T06:30:00.000Z');
      assert.equal(scheduler.nextRun(never.id), null);
      assert.equal(scheduler.nextRun(broken.id), null);
      assert.match(scheduler.scheduleError(never.id) ?? '', /never fires in the next 5 years/);
      assert.match(scheduler.scheduleError(broken.id) ?? '', /not a valid cron expression/);
      assert.equal(scheduler.scheduleError(first.id), null);

      // The API shows the same: no next run for the broken ones, with the reason.
      for (const item of all) {
        const view = await presentIntegration(db.knex, ctx.config, item, now());
        const expected = scheduler.nextRun(item.id)?.toISOString() ?? null;
        assert.equal(view.schedule.nextRunAt, expected, item.id);
        assert.equal(view.schedule.scheduled, expected !== null, item.id);
        assert.equal(view.schedule.error === null, scheduler.scheduleError(item.id) === null, item.id);
      }
      assert.match((await presentIntegration(db.knex, ctx.config, never, now())).schedule.error ?? '', /^schedule "0 4 30W 2 \*" never fires/);
    } finally {
      await scheduler.stop();
    }
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

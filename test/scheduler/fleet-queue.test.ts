import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema, integrationSchema } from '../../src/config/config.schema.ts';
import { queueScheduledRun } from '../../src/scheduler/scheduled-runs.ts';
import { keepWaitingRunsAlive, rerunRunsOfDeadProcesses } from '../../src/sync/fleet-queue.repository.ts';
import {
  ensureIntegrations,
  getRun,
  queueRun,
  reapStaleRuns,
  RUN_MAX_ATTEMPTS,
  SlotAlreadyQueuedError,
} from '../../src/sync/sync-runs.repository.ts';
import { createTestDatabase, NEEDS_REAL_POSTGRES, type TestDatabase } from '../helpers/test-database.ts';

const integration = (id: string) =>
  integrationSchema.parse({ id, platform: 'geogrid', apiUrl: `https://${id}.example.com`, token: 't', project: { link: id } });

describe('the run queue shared by a fleet', () => {
  let db: TestDatabase;
  const ids = ['a', 'b', 'c'];
  before(async () => {
    db = await createTestDatabase();
    await ensureIntegrations(db.knex, ids.map(integration));
  });
  after(async () => db?.destroy());
  beforeEach(async () => db.knex('sync_runs').del());

  const finishAll = () => db.knex('sync_runs').whereIn('status', ['queued', 'running']).update({ status: 'succeeded', finished_at: db.knex.fn.now() });

  /** A run of `integrationId` whose process died while it ran, as the reaper leaves it. */
  const deadRun = async (integrationId: string, extra: Record<string, unknown> = {}) => {
    const [row] = await db
      .knex('sync_runs')
      .insert({
        integration_id: integrationId, trigger: 'schedule', status: 'failed', options: { full: true, force: false },
        queued_at: db.knex.raw(`now() - interval '10 minutes'`), started_at: db.knex.raw(`now() - interval '9 minutes'`),
        finished_at: db.knex.fn.now(), reaped_at: db.knex.fn.now(), owner: 'gone:1',
        scheduled_for: new Date('2026-11-24T07:00:00Z'), schedule_slot: new Date('2026-11-24T07:00:00Z'),
        error: 'reaped: the process running it is gone (its sync lock was released)',
        ...extra,
      })
      .returning('id');
    return row.id as string;
  };

  test('a slot is queued once by a fleet firing at once, and not again by a timer firing after its run ended', async () => {
    const slot = new Date('2026-11-24T07:00:00Z');
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => queueScheduledRun(db.knex, integration('a'), slot)));
    assert.equal(outcomes.filter((o) => o.outcome === 'queued').length, 1, JSON.stringify(outcomes.map((o) => o.outcome)));
    await finishAll();
    // A timer so late that it skipped the look-up still meets the per-slot index.
    await assert.rejects(queueRun(db.knex, { integrationId: 'a', trigger: 'schedule', scheduleSlot: slot }), SlotAlreadyQueuedError);
    assert.equal((await queueScheduledRun(db.knex, integration('a'), slot)).outcome, 'already_queued_for_slot');
    assert.equal(await db.knex('sync_runs').where({ integration_id: 'a' }).count<{ n: string }[]>({ n: '*' }).then((r) => Number(r[0]!.n)), 1);
    // The next slot is a new run.
    assert.equal((await queueScheduledRun(db.knex, integration('a'), new Date('2026-11-25T07:00:00Z'))).outcome, 'queued');
  });

  test('the reaper stamps reaped_at on the runs of dead processes', async () => {
    const [row] = await db
      .knex('sync_runs')
      .insert({ integration_id: 'a', trigger: 'manual', status: 'running', started_at: db.knex.fn.now(), heartbeat_at: db.knex.fn.now(), owner: 'gone:1' })
      .returning('id');
    assert.deepEqual(await reapStaleRuns(db.knex, { staleAfterMs: 60_000 }), [row.id]);
    const reaped = await db.knex('sync_runs').where({ id: row.id }).first();
    assert.equal(reaped.status, 'failed');
    assert.ok(reaped.reaped_at instanceof Date);
  });

  test('a run whose process died is re-run once, with its trigger, options and slot', async () => {
    const dead = await deadRun('a');
    const results = await Promise.all(Array.from({ length: 6 }, () => rerunRunsOfDeadProcesses(db.knex, { integrationIds: ids })));
    const reruns = results.flat();
    assert.equal(reruns.length, 1, 'one process wins the re-run');
    assert.deepEqual({ ...reruns[0], id: undefined }, { id: undefined, retryOf: dead, integrationId: 'a', attempt: 2 });
    const rerun = await getRun(db.knex, reruns[0]!.id);
    assert.equal(rerun?.status, 'queued');
    assert.equal(rerun?.trigger, 'schedule');
    assert.deepEqual(rerun?.options, { full: true, force: false });
    assert.equal(rerun?.scheduledFor, '2026-11-24T07:00:00.000Z');
    assert.equal(rerun?.retryOf, dead);
    assert.equal(rerun?.attempt, 2);
    // Ended (even by dying again) it is not re-run a second time through its first run.
    await finishAll();
    assert.deepEqual(await rerunRunsOfDeadProcesses(db.knex, { integrationIds: ids }), []);
  });

  test('not re-run: CLI runs, runs out of attempts, runs already followed by another, integrations configured elsewhere', async () => {
    await deadRun('a', { trigger: 'cli', schedule_slot: null });
    await deadRun('b', { attempt: RUN_MAX_ATTEMPTS });
    await deadRun('c');
    await db.knex('sync_runs').insert({ integration_id: 'c', trigger: 'manual', status: 'succeeded', finished_at: db.knex.fn.now() });
    assert.deepEqual(await rerunRunsOfDeadProcesses(db.knex, { integrationIds: ids }), []);

    await db.knex('sync_runs').del();
    await deadRun('a');
    assert.deepEqual(await rerunRunsOfDeadProcesses(db.knex, { integrationIds: ['b', 'c'] }), []);
    // A run that was never started (reaped while queued) is no lost work either.
    await db.knex('sync_runs').update({ started_at: null });
    assert.deepEqual(await rerunRunsOfDeadProcesses(db.knex, { integrationIds: ids }), []);
  });

  test('a run waiting for a free worker is kept alive while a process could run it; an abandoned one is still reaped', async () => {
    const old = db.knex.raw(`now() - interval '2 hours'`);
    const [waiting] = await db.knex('sync_runs').insert({ integration_id: 'a', trigger: 'schedule', status: 'queued', queued_at: old }).returning('id');
    const [cli] = await db.knex('sync_runs').insert({ integration_id: 'b', trigger: 'cli', status: 'queued', queued_at: old }).returning('id');
    const [elsewhere] = await db.knex('sync_runs').insert({ integration_id: 'c', trigger: 'manual', status: 'queued', queued_at: old }).returning('id');
    assert.equal(await keepWaitingRunsAlive(db.knex, { integrationIds: ['a', 'b'], olderThanMs: 60_000 }), 1);
    assert.equal(await keepWaitingRunsAlive(db.knex, { integrationIds: ['a', 'b'], olderThanMs: 60_000 }), 0, 'touched once a minute, not on every call');
    const reaped = await reapStaleRuns(db.knex, { staleAfterMs: 60_000 });
    assert.deepEqual(reaped.sort(), [cli.id, elsewhere.id].sort());
    assert.equal((await getRun(db.knex, waiting.id))?.status, 'queued');
  });

  test('concurrent re-runs and a manual trigger never leave two active runs of an integration', { skip: NEEDS_REAL_POSTGRES }, async () => {
    await deadRun('a');
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 4 }, () => rerunRunsOfDeadProcesses(db.knex, { integrationIds: ids })),
      queueRun(db.knex, { integrationId: 'a', trigger: 'manual' }),
    ]);
    assert.ok(outcomes.every((o) => o.status === 'fulfilled' || o.reason?.name === 'RunAlreadyActiveError'), JSON.stringify(outcomes));
    const active = await db.knex('sync_runs').where({ integration_id: 'a' }).whereIn('status', ['queued', 'running']).pluck('id');
    assert.equal(active.length, 1);
  });
});

describe('config runs.concurrency', () => {
  test('defaults to 2 runs per process', () => {
    assert.deepEqual(configSchema.parse({}).runs, { concurrency: 2 });
  });

  test('a value that is not a whole number from 1 to 64 is refused with the reason', () => {
    const problem = (value: unknown) => {
      const result = configSchema.safeParse({ runs: { concurrency: value } });
      assert.equal(result.success, false, String(value));
      return result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    };
    assert.match(problem(0), /^runs\.concurrency: must be at least 1/);
    assert.match(problem(2.5), /^runs\.concurrency: must be a whole number of runs from 1 to 64/);
    assert.match(problem('4'), /^runs\.concurrency: must be a whole number of runs from 1 to 64/);
    assert.match(problem(65), /^runs\.concurrency: must be at most 64: each run holds a database connection of its own/);
    assert.equal(configSchema.safeParse({ runs: { concurency: 2 } }).success, false, 'a misspelt key is an error, not ignored');
  });
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { previousRunAt } from '../../src/scheduler/cron-time.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestService, TEST_INTEGRATION_ID } from '../helpers/test-service.ts';

// Unique per test process: sync locks are per integration id across the whole database.
const ID = TEST_INTEGRATION_ID;

let db: TestDatabase;
let simulator: RunningSimulator;
before(async () => {
  db = await createTestDatabase();
  simulator = await startSimulator({ size: 200, seed: 9, https: true, limits: { requestsPerMinute: 100_000, concurrency: 20 } });
});
after(async () => {
  await simulator?.close();
  await db?.destroy();
});

const boot = () =>
  startTestService({ db, sharedSimulator: simulator, scheduler: { enabled: true, catchUpMissedRuns: true } });

async function waitForNoActiveRun(timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while ((await db.knex('sync_runs').whereIn('status', ['queued', 'running'])).length > 0) {
    if (Date.now() > deadline) throw new Error('a run is still active');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('a run missed while the service was down is caught up once at boot, and not again on the next boot', async () => {
  // First boot of a fresh install: nothing was missed.
  const first = await boot();
  await first.stop();
  assert.equal((await db.knex('sync_runs')).length, 0, 'a fresh install catches up nothing');

  // The service then was down for two days: its last run was before the last 04:00 slot.
  const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
  await db.knex('integrations').where({ id: ID }).update({ created_at: new Date(Date.now() - 10 * 86_400_000) });
  await db.knex('sync_runs').insert({
    integration_id: ID, trigger: 'schedule', status: 'succeeded',
    queued_at: twoDaysAgo, started_at: twoDaysAgo, finished_at: twoDaysAgo, scheduled_for: twoDaysAgo,
  });

  const second = await boot();
  try {
    await waitForNoActiveRun();
  } finally {
    await second.stop();
  }
  const caughtUp = await db.knex('sync_runs').where({ trigger: 'catch_up' });
  assert.equal(caughtUp.length, 1);
  const expectedSlot = previousRunAt('0 4 * * *', 'America/Sao_Paulo', new Date())!;
  assert.equal(new Date(caughtUp[0].scheduled_for).toISOString(), expectedSlot.toISOString());
  assert.match(expectedSlot.toISOString(), /T07:00:00\.000Z$/);
  assert.equal(caughtUp[0].status, 'succeeded', caughtUp[0].error);

  const third = await boot();
  await third.stop();
  assert.equal((await db.knex('sync_runs').where({ trigger: 'catch_up' })).length, 1, 'not caught up twice');
  assert.equal((await db.knex('sync_runs')).length, 2);
});

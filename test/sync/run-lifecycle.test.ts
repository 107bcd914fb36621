import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { NEEDS_REAL_POSTGRES, createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { SYNC_LOCK_NAMESPACE } from '../../src/sync/run-lock.ts';
import {
  RunAlreadyActiveError,
  getRun,
  listRuns,
  queueRun,
  reapStaleRuns,
  runIssues,
} from '../../src/sync/sync-runs.repository.ts';
import { executeRun } from '../../src/sync/sync-engine.ts';
import { FakePlatform } from './fixtures/fake-platform.ts';
import { sampleNetwork } from './fixtures/sample-network.ts';
import { createHarness, integrationConfig } from './fixtures/sync-harness.ts';
import { killRunMidMerge } from './fixtures/killed-mid-merge.ts';

describe('sync runs: queueing, locking, reaping', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.destroy();
  });

  test('only one queued or running run per integration', async () => {
    await createHarness(db.knex, () => new FakePlatform(sampleNetwork()), integrationConfig({ id: 'one-active' }));
    const first = await queueRun(db.knex, { integrationId: 'one-active', trigger: 'manual', options: { full: true } });
    assert.deepEqual(first.options, { full: true, force: false });
    await assert.rejects(
      queueRun(db.knex, { integrationId: 'one-active', trigger: 'schedule' }),
      (error: unknown) => error instanceof RunAlreadyActiveError && error.runId === first.id,
    );
    const listed = await listRuns(db.knex, { integrationId: 'one-active' });
    assert.deepEqual(listed.map((r) => r.id), [first.id]);
  });

  test("a dead process's run is reaped: old heartbeat, or no session holding its lock; a live one is not", async () => {
    await createHarness(db.knex, () => new FakePlatform(sampleNetwork()), integrationConfig({ id: 'reap-old' }));
    await createHarness(db.knex, () => new FakePlatform(sampleNetwork()), integrationConfig({ id: 'reap-nolock' }));
    await createHarness(db.knex, () => new FakePlatform(sampleNetwork()), integrationConfig({ id: 'reap-live' }));
    const insertRunning = async (integrationId: string, heartbeatAgo: string) => {
      const [row] = await db
        .knex('sync_runs')
        .insert({ integration_id: integrationId, trigger: 'schedule', status: 'running', started_at: db.knex.raw(`now() - interval '${heartbeatAgo}'`), heartbeat_at: db.knex.raw(`now() - interval '${heartbeatAgo}'`), owner: 'gone:1' })
        .returning('id');
      return row.id as string;
    };
    const old = await insertRunning('reap-old', '10 minutes');
    const noLock = await insertRunning('reap-nolock', '1 second');
    const live = await insertRunning('reap-live', '1 second');
    // The live run's lock is held by a session.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query(`SELECT pg_advisory_lock(${SYNC_LOCK_NAMESPACE}, hashtext($1))`, [`${db.schema}/reap-live`]);
    try {
      const reaped = await reapStaleRuns(db.knex, { staleAfterMs: 60_000 });
      assert.deepEqual(reaped.sort(), [old, noLock].sort());
      assert.match((await getRun(db.knex, old))?.error ?? '', /reaped/);
      assert.equal((await getRun(db.knex, noLock))?.status, 'failed');
      assert.match((await getRun(db.knex, noLock))?.error ?? '', /lock was released/);
      assert.equal((await getRun(db.knex, live))?.status, 'running');
    } finally {
      await holder.query(`SELECT pg_advisory_unlock(${SYNC_LOCK_NAMESPACE}, hashtext($1))`, [`${db.schema}/reap-live`]);
      await holder.end();
    }
    // Queueing again reaps the dead run instead of being blocked by it forever.
    const next = await queueRun(db.knex, { integrationId: 'reap-live', trigger: 'manual' });
    assert.equal(next.status, 'queued');
    assert.equal((await getRun(db.knex, live))?.status, 'failed');
  });

  test('a queued run nobody started for long is reaped when the next one is queued; executing never reaps queued runs', async () => {
    await createHarness(db.knex, () => new FakePlatform(sampleNetwork()), integrationConfig({ id: 'reap-queued' }));
    const [row] = await db
      .knex('sync_runs')
      .insert({ integration_id: 'reap-queued', trigger: 'schedule', status: 'queued', queued_at: db.knex.raw(`now() - interval '2 hours'`) })
      .returning('id');
    assert.deepEqual(await reapStaleRuns(db.knex, { staleAfterMs: 60_000, onlyRunning: true }), []);
    // A worker that claimed it recently (heartbeat) keeps it alive.
    await db.knex('sync_runs').where({ id: row.id }).update({ heartbeat_at: db.knex.fn.now(), owner: 'worker:1' });
    assert.deepEqual(await reapStaleRuns(db.knex, { staleAfterMs: 60_000 }), []);
    await db.knex('sync_runs').where({ id: row.id }).update({ heartbeat_at: db.knex.raw(`now() - interval '2 hours'`) });
    const next = await queueRun(db.knex, { integrationId: 'reap-queued', trigger: 'manual' });
    assert.notEqual(next.id, row.id);
    const dead = await getRun(db.knex, row.id);
    assert.equal(dead?.status, 'failed');
    assert.match(dead?.error ?? '', /queued but never started/);
  });

  test('the advisory lock refuses a second concurrent run of an integration', { skip: NEEDS_REAL_POSTGRES }, async () => {
    const h = await createHarness(db.knex, () => new FakePlatform(sampleNetwork()), integrationConfig({ id: 'locked' }));
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query(`SELECT pg_advisory_lock(${SYNC_LOCK_NAMESPACE}, hashtext($1))`, [`${db.schema}/locked`]);
      const run = await h.sync();
      assert.equal(run.status, 'failed');
      assert.match(run.error ?? '', /another sync of integration "locked" is running in another process/);
      assert.deepEqual(await db.knex('poles').where({ integration_id: 'locked' }).pluck('id'), []);
    } finally {
      await other.end();
    }
    assert.equal((await h.sync()).status, 'succeeded');
  });

  test('a removed port with a confirmed binding keeps the binding and raises an issue', async () => {
    const network = sampleNetwork();
    const h = await createHarness(db.knex, () => new FakePlatform(network), integrationConfig({ id: 'bound' }));
    assert.equal((await h.sync()).status, 'succeeded');
    const [erp] = await db.knex('erp_customers').insert({ document: '39053344705', name: 'Bia', person_type: 'person' }).returning('id');
    const [contract] = await db.knex('service_contracts').insert({ service_id: '7001', erp_customer_id: erp.id, status: 'active' }).returning('id');
    const port = await db.knex('ports').where({ integration_id: 'bound', external_id: 'S4-p3' }).first();
    const [binding] = await db
      .knex('bindings')
      .insert({ integration_id: 'bound', service_contract_id: contract.id, port_id: port.id, status: 'confirmed', confirmed_at: db.knex.fn.now() })
      .returning('id');

    network.equipment.delete('B3');
    const run = await h.sync({ force: true });
    assert.equal(run.status, 'succeeded', run.error ?? '');
    assert.equal(run.counts.ports?.removed, 8);
    const issues = await runIssues(db.knex, run.id);
    const issue = issues.find((i) => i.code === 'removed_port_with_binding');
    assert.equal(issue?.externalId, 'S4-p3');
    assert.match(issue?.reason ?? '', /binding .* is kept/);
    const kept = await db.knex('bindings').where({ id: binding.id }).first();
    assert.equal(kept.status, 'confirmed');
    assert.notEqual((await db.knex('ports').where({ id: port.id }).first()).removed_at, null);
  });

  test('a run killed (SIGKILL) in the middle of the merge leaves the previous state, and the next run succeeds', { skip: NEEDS_REAL_POSTGRES, timeout: 60_000 }, async () => {
    const h = await createHarness(db.knex, () => new FakePlatform(sampleNetwork()), integrationConfig({ id: 'killed', elements: ['service_splitters', 'poles', 'customers'] }));
    assert.equal((await h.sync()).status, 'succeeded');
    const snapshot = async () => {
      const out: Record<string, unknown[]> = {};
      for (const table of ['poles', 'boxes', 'splitters', 'ports', 'platform_customers']) out[table] = await db.knex(table).where({ integration_id: 'killed' }).orderBy('id').select('*');
      return out;
    };
    const before = await snapshot();

    const killed = await killRunMidMerge(db, 'killed', { NETWORK_VARIANT: 'changed' });
    assert.equal(killed.statusWhenKilled, 'running');
    assert.equal(killed.signal, 'SIGKILL');

    assert.deepEqual(await snapshot(), before, 'the merge was rolled back with the dead session');
    // The session's lock went with it; the next run reaps the dead one and succeeds.
    const next = await queueRun(db.knex, { integrationId: 'killed', trigger: 'cli' });
    const dead = await getRun(db.knex, killed.runId);
    assert.equal(dead?.status, 'failed');
    assert.match(dead?.error ?? '', /reaped/);
    const done = await executeRun(h.ctx, next.id);
    assert.equal(done.status, 'succeeded', done.error ?? '');
  });
});

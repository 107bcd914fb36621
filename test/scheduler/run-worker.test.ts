import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { integrationSchema } from '../../src/config/config.schema.ts';
import { claimQueuedRun } from '../../src/service/run-worker.ts';
import { ensureIntegrations } from '../../src/sync/sync-runs.repository.ts';
import { createTestDatabase, NEEDS_REAL_POSTGRES, type TestDatabase } from '../helpers/test-database.ts';
import { waitForRunEnd } from '../helpers/run-waiting.ts';
import { startTestService, TEST_INTEGRATION_ID } from '../helpers/test-service.ts';

// Unique per test process: sync locks are per integration id across the whole database.
const ID = TEST_INTEGRATION_ID;

const integration = (id: string) =>
  integrationSchema.parse({ id, platform: 'geogrid', apiUrl: `https://${id}.example.com`, token: 't', project: { link: id } });

describe('run worker: claiming queued runs', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    await ensureIntegrations(db.knex, [integration('a'), integration('b'), integration('c')]);
  });
  after(async () => db?.destroy());
  beforeEach(async () => db.knex('sync_runs').del());

  const claim = (owner: string, busy: string[] = [], staleAfterMs = 60_000) =>
    claimQueuedRun(db.knex, { owner, integrationIds: ['a', 'b', 'c'], busyIntegrationIds: busy, staleAfterMs });

  test('each queued run is claimed by one owner only, oldest first', async () => {
    await db.knex('sync_runs').insert([
      { integration_id: 'a', trigger: 'manual', status: 'queued', queued_at: new Date(Date.now() - 2000) },
      { integration_id: 'b', trigger: 'schedule', status: 'queued', queued_at: new Date(Date.now() - 1000) },
    ]);
    const first = await claim('host:1');
    const second = await claim('host:2');
    assert.equal(first?.integrationId, 'a');
    assert.equal(second?.integrationId, 'b');
    assert.equal(await claim('host:3'), null);
    const owners = await db.knex('sync_runs').orderBy('queued_at').pluck('owner');
    assert.deepEqual(owners, ['host:1', 'host:2']);
  });

  test('skips integrations busy here, unknown ones, and fresh CLI runs; takes over runs of a dead claimer', async () => {
    await db.knex('sync_runs').insert([
      { integration_id: 'a', trigger: 'manual', status: 'queued' },
      { integration_id: 'b', trigger: 'cli', status: 'queued' },
      { integration_id: 'c', trigger: 'manual', status: 'queued', owner: 'dead:1', heartbeat_at: new Date(Date.now() - 3_600_000) },
    ]);
    assert.equal(
      (await claimQueuedRun(db.knex, { owner: 'x', integrationIds: ['b'], busyIntegrationIds: [], staleAfterMs: 60_000 })),
      null,
      'a CLI run belongs to the CLI process',
    );
    const taken = await claim('host:9', ['a']);
    assert.equal(taken?.integrationId, 'c', 'the run claimed by a dead process is taken over');
    assert.equal(await claim('host:9', ['a', 'c']), null);
    await db.knex('sync_runs').where({ integration_id: 'b' }).update({ queued_at: new Date(Date.now() - 3_600_000) });
    assert.equal((await claim('host:9', ['a', 'c']))?.integrationId, 'b', 'an abandoned CLI run is taken over');
  });

  test('concurrent claimers never get the same run', { skip: NEEDS_REAL_POSTGRES }, async () => {
    await db.knex('sync_runs').insert(['a', 'b', 'c'].map((id) => ({ integration_id: id, trigger: 'manual', status: 'queued' })));
    const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => claim(`host:${i}`)));
    const won = claims.filter((c) => c !== null).map((c) => c!.id);
    assert.equal(won.length, 3);
    assert.equal(new Set(won).size, 3);
  });
});

test('stopping the service aborts the run in hand cleanly and leaves nothing running', async () => {
  // A slow platform, so the run is still pulling when the service stops.
  const svc = await startTestService({ simulator: { size: 300, seed: 4, faults: { latencyMs: 150 } } });
  let stopped = false;
  try {
    const queued = await svc.request('POST', `/v1/integrations/${ID}/sync`);
    assert.equal(queued.status, 202);
    const deadline = Date.now() + 10_000;
    while ((await svc.request('GET', `/v1/sync-runs/${queued.body.runId}`)).body.status !== 'running') {
      if (Date.now() > deadline) throw new Error('the run never started');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const started = Date.now();
    await svc.service.stop();
    stopped = true;
    assert.ok(Date.now() - started < 10_000, 'stop does not wait for the whole sync');
    const row = await svc.db.knex('sync_runs').where({ id: queued.body.runId }).first();
    assert.equal(row.status, 'failed');
    assert.match(row.error, /cancel|abort|shutting/i);
    assert.ok(row.reaped_at, 'handed back to the fleet: a live process runs it again');
    assert.equal(await svc.db.knex('poles').count<{ count: number }[]>({ count: '*' }).then((r) => Number(r[0]!.count)), 0, 'nothing merged');
  } finally {
    if (!stopped) await svc.service.stop();
    await svc.simulator.close();
    await svc.db.destroy();
    rmSync(svc.configDir, { recursive: true, force: true });
  }
});

test('a queued run is picked up at once when woken, without waiting for the poll', async () => {
  const svc = await startTestService({ simulator: { size: 200, seed: 2 } });
  try {
    const queued = await svc.request('POST', `/v1/integrations/${ID}/sync`);
    const started = Date.now();
    const run = await waitForRunEnd(svc, queued.body.runId);
    assert.equal(run.status, 'succeeded', run.error);
    // The poll interval is 5 s; a woken worker starts the run well before.
    assert.ok(new Date(run.startedAt).getTime() - new Date(run.queuedAt).getTime() < 2_000);
    assert.ok(Date.now() - started < 5_000);
  } finally {
    await svc.stop();
  }
});

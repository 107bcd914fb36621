import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { lockHeldSql } from '../../src/sync/run-lock.ts';
import { NEEDS_REAL_POSTGRES } from '../helpers/test-database.ts';
import { waitForRunEnd } from '../helpers/run-waiting.ts';
import { startTestService, type TestService, TEST_INTEGRATION_ID } from '../helpers/test-service.ts';

/**
 * A run always ends: a stalled one, one past its deadline, one an operator cancels, one
 * reaped while it merges. Each ends `failed` with a reason that says which, frees the
 * integration for the next run, and leaves the previous network state whole. Real
 * PostgreSQL, the simulator over HTTPS, the whole service in-process.
 */
const ID = TEST_INTEGRATION_ID;

let simulator: RunningSimulator;
before(async () => {
  simulator = await startSimulator({ size: 300, seed: 21, https: true, limits: { requestsPerMinute: 100_000, concurrency: 20 } });
});
after(async () => simulator?.close());

function boot(runs: { stallMinutes?: number; deadlineMinutes?: number }, http: Record<string, number> = {}) {
  simulator.setFaults({});
  return startTestService({
    sharedSimulator: simulator,
    integration: { runs, http: { concurrency: 5, requestsPerMinute: 100_000, timeoutMs: 120_000, retries: 0, ...http } },
  });
}

async function trigger(svc: TestService, body?: unknown): Promise<string> {
  const queued = await svc.request('POST', `/v1/integrations/${ID}/sync`, body);
  assert.equal(queued.status, 202, JSON.stringify(queued.body));
  return queued.body.runId as string;
}

async function waitForStatus(svc: TestService, runId: string, status: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await svc.request('GET', `/v1/sync-runs/${runId}`);
    if (body.status === status) return body;
    if (Date.now() > deadline) throw new Error(`run ${runId} is ${body.status}, not ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Until the run worker holds no run (the service's own view, not the table's). */
async function waitForQuiet(svc: TestService, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const held = await svc.db.knex.raw(`SELECT ${lockHeldSql("'" + ID + "'")} AS held`);
    if (!held.rows[0].held) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('a sync still holds its lock');
}

const networkState = async (svc: TestService) => {
  const [row] = await svc.db.knex('poles').where({ integration_id: ID }).select(
    svc.db.knex.raw('count(*)::int AS count'),
    svc.db.knex.raw('max(updated_at) AS updated'),
    svc.db.knex.raw('count(removed_at)::int AS removed'),
  );
  return { count: row.count, updated: row.updated ? new Date(row.updated).toISOString() : null, removed: row.removed };
};

describe('a stalled run ends', () => {
  test('a live run whose progress stops is stopped and failed with the reason; the next trigger is accepted and runs', async () => {
    const svc = await boot({ stallMinutes: 0.1 }); // 6 s: short, yet longer than any page takes on a busy machine
    try {
      // Every answer now takes a minute: the run is alive (its process and lock are fine) but moves no more.
      simulator.setFaults({ latencyMs: 60_000 });
      const started = Date.now();
      const runId = await trigger(svc);
      const ended = await waitForRunEnd(svc, runId, 30_000);
      const seconds = (Date.now() - started) / 1000;
      assert.equal(ended.status, 'failed');
      assert.match(ended.error, /^stalled: no progress for [\d.]+ min while pulling \(runs\.stallMinutes is 0\.1 min\)/);
      assert.ok(seconds < 25, `ended after ${seconds} s`);

      // The slot is free, and the new run is not stuck behind the old one's request in flight.
      simulator.setFaults({});
      const next = await waitForRunEnd(svc, await trigger(svc), 30_000);
      assert.equal(next.status, 'succeeded', next.error);
      assert.ok((await networkState(svc)).count > 0);
    } finally {
      simulator.setFaults({});
      await svc.stop();
    }
  });

  test('a run still going at its deadline is stopped, though it moves', async () => {
    const svc = await boot({ stallMinutes: 10, deadlineMinutes: 0.05 }); // 3 s
    try {
      // Slow but moving: every page takes 400 ms, more than the deadline allows in all.
      simulator.setFaults({ latencyMs: 400 });
      const runId = await trigger(svc);
      const ended = await waitForRunEnd(svc, runId, 30_000);
      assert.equal(ended.status, 'failed');
      assert.match(ended.error, /^deadline: the run was still \w+ after 0\.05 min \(runs\.deadlineMinutes\)/);
      assert.deepEqual(await networkState(svc), { count: 0, updated: null, removed: 0 }, 'nothing was merged');
    } finally {
      simulator.setFaults({});
      await svc.stop();
    }
  });

  test('a response body that drips in fails its attempt at the timeout instead of holding the run', async () => {
    const svc = await boot({ stallMinutes: 10 }, { timeoutMs: 1000, retries: 1 });
    try {
      // Each answer drips 16 bytes every 200 ms: seconds per page, never idle for a second.
      simulator.setFaults({ drip: { rate: 1, everyMs: 200, chunkBytes: 16 } });
      const started = Date.now();
      const ended = await waitForRunEnd(svc, await trigger(svc), 30_000);
      assert.equal(ended.status, 'failed');
      assert.match(ended.error, /no answer before the timeout/);
      assert.ok(Date.now() - started < 10_000, 'two attempts of about a second each');
      assert.ok(simulator.stats.injectedDrips >= 2);
    } finally {
      simulator.setFaults({});
      await svc.stop();
    }
  });
});

describe('cancel: POST /v1/sync-runs/:id/cancel', () => {
  let svc: TestService;
  before(async () => {
    svc = await boot({});
  });
  after(async () => {
    simulator.setFaults({});
    await svc?.stop();
  });

  test('a queued run: failed "cancelled by operator", never started, and the integration is free', async () => {
    // A run queued by a CLI process is left to that process for a while: it stays queued here.
    const [row] = await svc.db.knex('sync_runs').insert({ integration_id: ID, trigger: 'cli', status: 'queued' }).returning('id');
    const refused = await svc.request('POST', `/v1/integrations/${ID}/sync`);
    assert.equal(refused.status, 409);

    const cancelled = await svc.request('POST', `/v1/sync-runs/${row.id}/cancel`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.status, 'failed');
    assert.equal(cancelled.body.error, 'cancelled by operator');
    assert.equal(cancelled.body.startedAt, null);

    const again = await svc.request('POST', `/v1/sync-runs/${row.id}/cancel`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'run_finished');

    const next = await waitForRunEnd(svc, await trigger(svc));
    assert.equal(next.status, 'succeeded', next.error);
  });

  test('a running run: it stops, commits nothing, keeps its reason, and a new run can start at once', async () => {
    const before = await networkState(svc);
    assert.ok(before.count > 0, 'a first sync stored the network');
    simulator.setFaults({ latencyMs: 300 });
    // --full would rewrite every row (updated_at) if it reached its merge.
    const runId = await trigger(svc, { full: true });
    await waitForStatus(svc, runId, 'running');
    await new Promise((resolve) => setTimeout(resolve, 500));

    const cancelled = await svc.request('POST', `/v1/sync-runs/${runId}/cancel`);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'failed');
    assert.equal(cancelled.body.error, 'cancelled by operator');
    // The slot is free at once (no 409 until a restart).
    simulator.setFaults({});
    const nextId = await trigger(svc);

    const ended = await waitForRunEnd(svc, runId);
    assert.equal(ended.error, 'cancelled by operator', 'the reason is not overwritten when the run unwinds');
    const next = await waitForRunEnd(svc, nextId);
    assert.equal(next.status, 'succeeded', next.error);
    const afterwards = await networkState(svc);
    assert.equal(afterwards.count, before.count);
    assert.equal(afterwards.removed, before.removed);
  });

  test('400 for a malformed id, 404 for an unknown run, 401 without token', async () => {
    assert.equal((await svc.request('POST', '/v1/sync-runs/nope/cancel')).status, 400);
    assert.equal((await svc.request('POST', `/v1/sync-runs/${randomUUID()}/cancel`)).status, 404);
    assert.equal((await svc.request('POST', `/v1/sync-runs/${randomUUID()}/cancel`, undefined, { token: null })).status, 401);
  });

  test('the route is in the OpenAPI document', async () => {
    const doc = await svc.request('GET', '/openapi.json');
    assert.ok(doc.body.paths['/v1/sync-runs/{runId}/cancel']?.post, Object.keys(doc.body.paths).join(', '));
  });
});

describe('a run reaped while it merges', () => {
  test("does not commit its merge: the transaction rolls back and the run stays failed with the reaper's reason", { skip: NEEDS_REAL_POSTGRES }, async () => {
    const svc = await boot({});
    // Long enough for a heartbeat to show the merge phase (heartbeats come every 5 s).
    process.env.MAPSYNC_SYNC_PAUSE_IN_MERGE_MS = '8000';
    try {
      const runId = await trigger(svc);
      const deadline = Date.now() + 30_000;
      for (;;) {
        const { body } = await svc.request('GET', `/v1/sync-runs/${runId}`);
        if (body.progress?.phase === 'merging' || (body.status !== 'running' && body.status !== 'queued')) break;
        if (Date.now() > deadline) throw new Error('the run never reached its merge');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // As a reaper in another process would, while the merge transaction is open and paused.
      const reaped = await svc.db.knex('sync_runs').where({ id: runId, status: 'running' })
        .update({ status: 'failed', finished_at: svc.db.knex.fn.now(), error: 'reaped: no heartbeat since 2026-11-30T04:00:00Z' });
      assert.equal(reaped, 1, 'reaped while running');
      const ended = await waitForRunEnd(svc, runId);
      assert.equal(ended.status, 'failed');
      assert.equal(ended.error, 'reaped: no heartbeat since 2026-11-30T04:00:00Z');
      // Wait for the run to unwind in the worker before looking at the tables.
      await waitForQuiet(svc);
      assert.deepEqual(await networkState(svc), { count: 0, updated: null, removed: 0 }, 'the merge was rolled back');
      // Its customer issues were written with its merge, so they went with it: its report
      // lists none, while the next run, reading the same customers, lists its own.
      const customerIssues = async (id: string) => Number((await svc.db.knex('sync_issues').where({ run_id: id, kind: 'customers' }).count({ n: '*' }))[0]!.n);
      assert.equal(await customerIssues(runId), 0, 'a run that never committed lists no customer issues');
      delete process.env.MAPSYNC_SYNC_PAUSE_IN_MERGE_MS;
      const nextId = await trigger(svc);
      const next = await waitForRunEnd(svc, nextId);
      assert.equal(next.status, 'succeeded', next.error);
      assert.ok((await customerIssues(nextId)) > 0, 'the simulator has customers to report');
    } finally {
      delete process.env.MAPSYNC_SYNC_PAUSE_IN_MERGE_MS;
      await svc.stop();
    }
  });
});

/**
 * A run whose database session is killed fails saying so, and in which phase.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SYNC_LOCK_NAMESPACE } from '../../src/sync/run-lock.ts';
import { waitForRunEnd } from '../helpers/run-waiting.ts';
import { NEEDS_REAL_POSTGRES } from '../helpers/test-database.ts';
import { startTestService, type TestService } from '../helpers/test-service.ts';
import { waitFor } from '../push/helpers/push-fixtures.ts';

describe('a sync whose database session is killed', { skip: NEEDS_REAL_POSTGRES }, () => {
  let svc: TestService;
  before(async () => {
    // A slow platform keeps the run in its pulling phase long enough to kill its session.
    svc = await startTestService({ simulator: { size: 300, seed: 7, faults: { latencyMs: 150 } } });
  });
  after(async () => svc?.stop());

  test('fails with "database connection lost while pulling"', { timeout: 60_000 }, async () => {
    const queued = await svc.request('POST', `/v1/integrations/${svc.integrationId}/sync`);
    assert.equal(queued.status, 202);
    // The run's own session is the one holding its sync lock.
    const pid = await waitFor('the run to hold its lock', async () => {
      const { rows } = await svc.db.knex.raw(
        `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = ${SYNC_LOCK_NAMESPACE}::oid
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND objid = hashtext(current_schema() || '/' || ?)::oid`,
        [svc.integrationId],
      );
      return (rows[0]?.pid as number | undefined) ?? null;
    });
    await svc.db.knex.raw('SELECT pg_terminate_backend(?)', [pid]);
    const run = await waitForRunEnd(svc, queued.body.runId, 45_000);
    assert.equal(run.status, 'failed');
    assert.match(run.error, /^database connection lost while pulling \(/);
  });
});

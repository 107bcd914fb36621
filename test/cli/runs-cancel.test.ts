import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { waitForRunEnd } from '../helpers/run-waiting.ts';
import { startTestService, type TestService, TEST_INTEGRATION_ID } from '../helpers/test-service.ts';
import { mapsync } from '../helpers/cli-runner.ts';

const ID = TEST_INTEGRATION_ID;


describe('mapsync runs cancel <runId>', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({ simulator: { size: 300, seed: 5 } });
  });
  after(async () => {
    svc?.simulator.setFaults({});
    await svc?.stop();
  });

  test('a queued run: exit 0, failed "cancelled by operator"; a second cancel exits 1', async () => {
    const [row] = await svc.db.knex('sync_runs').insert({ integration_id: ID, trigger: 'cli', status: 'queued' }).returning('id');
    const first = await mapsync(['runs', 'cancel', row.id], svc.env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`cancelled sync run ${row.id} \\(${ID}\\) before it started`));
    const stored = await svc.db.knex('sync_runs').where({ id: row.id }).first();
    assert.equal(stored.status, 'failed');
    assert.equal(stored.error, 'cancelled by operator');

    const second = await mapsync(['runs', 'cancel', row.id, '--json'], svc.env);
    assert.equal(second.code, 1);
    const parsed = JSON.parse(second.stdout);
    assert.equal(parsed.cancelled, false);
    assert.equal(parsed.run.status, 'failed');
  });

  test('a running run stops and commits nothing', async () => {
    svc.simulator.setFaults({ latencyMs: 300 });
    const queued = await svc.request('POST', `/v1/integrations/${ID}/sync`);
    assert.equal(queued.status, 202);
    const runId = queued.body.runId as string;
    for (let i = 0; i < 200 && (await svc.request('GET', `/v1/sync-runs/${runId}`)).body.status !== 'running'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const result = await mapsync(['runs', 'cancel', runId, '--json'], svc.env);
    assert.equal(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout);
    assert.equal(parsed.cancelled, true);
    assert.equal(parsed.run.error, 'cancelled by operator');
    svc.simulator.setFaults({});
    const ended = await waitForRunEnd(svc, runId);
    assert.equal(ended.status, 'failed');
    assert.equal(ended.error, 'cancelled by operator');
    assert.equal((await svc.db.knex('poles').where({ integration_id: ID })).length, 0, 'nothing merged');
  });

  test('exit 2 for a malformed or unknown run id', async () => {
    const malformed = await mapsync(['runs', 'cancel', 'not-a-run'], svc.env);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /is not a run id/);
    const unknown = await mapsync(['runs', 'cancel', randomUUID()], svc.env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no sync run/);
  });
});

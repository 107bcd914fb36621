import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { nextRunAt } from '../../src/scheduler/cron-time.ts';
import { waitForRunEnd } from '../helpers/run-waiting.ts';
import { startTestService, type TestService, TEST_INTEGRATION_ID } from '../helpers/test-service.ts';

// Unique per test process: sync locks are per integration id across the whole database.
const ID = TEST_INTEGRATION_ID;

describe('sync API: integrations, trigger, runs, report', () => {
  let svc: TestService;
  let firstRun: any;

  before(async () => {
    svc = await startTestService({
      // Scheduler on (no slot is due during the test), so next runs are computed.
      scheduler: { enabled: true, catchUpMissedRuns: true },
      simulator: { size: 300, seed: 11, faults: { malformedRate: 0.05 } },
    });
    const queued = await svc.request('POST', `/v1/integrations/${ID}/sync`);
    assert.equal(queued.status, 202);
    firstRun = await waitForRunEnd(svc, queued.body.runId);
  });
  after(async () => svc?.stop());

  describe('POST /v1/integrations/:id/sync', () => {
    test('202 with the run id; the run worker executes it to the end', async () => {
      assert.equal(firstRun.status, 'succeeded', firstRun.error);
      assert.equal(firstRun.trigger, 'manual');
      assert.deepEqual(firstRun.options, { full: false, force: false });
      for (const kind of ['poles', 'boxes', 'splitters', 'customers']) {
        assert.ok(firstRun.counts[kind], `counts for ${kind}`);
        assert.deepEqual(Object.keys(firstRun.counts[kind]).sort(), ['created', 'rejected', 'removed', 'unchanged', 'updated']);
      }
      assert.ok(firstRun.counts.poles.created > 0);
    });

    test('20 concurrent triggers start exactly one run; the other 19 get 409 with its id', async () => {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => svc.request('POST', `/v1/integrations/${ID}/sync`, i % 2 ? { full: true } : undefined)),
      );
      const accepted = answers.filter((a) => a.status === 202);
      const conflicts = answers.filter((a) => a.status === 409);
      assert.equal(accepted.length, 1, JSON.stringify(answers.map((a) => a.status)));
      assert.equal(conflicts.length, 19);
      const runId = accepted[0]!.body.runId;
      assert.deepEqual(accepted[0]!.body, { runId, status: 'queued' });
      for (const conflict of conflicts) {
        assert.equal(conflict.body.runId, runId);
        assert.equal(conflict.body.error, 'run_active');
      }
      const run = await waitForRunEnd(svc, runId);
      assert.equal(run.status, 'succeeded', run.error);
      const rows = await svc.db.knex('sync_runs').where({ integration_id: ID }).count<{ count: number }[]>({ count: '*' });
      assert.equal(Number(rows[0]!.count), 2, 'the first run and this one, nothing else');
    });

    test('options are recorded: full and force', async () => {
      const queued = await svc.request('POST', `/v1/integrations/${ID}/sync`, { full: true, force: true });
      assert.equal(queued.status, 202);
      assert.equal(queued.headers.get('location'), `/v1/sync-runs/${queued.body.runId}`);
      const run = await waitForRunEnd(svc, queued.body.runId);
      assert.deepEqual(run.options, { full: true, force: true });
    });

    test('an empty JSON body means no options', async () => {
      const queued = await svc.request('POST', `/v1/integrations/${ID}/sync`, '');
      assert.equal(queued.status, 202, JSON.stringify(queued.body));
      await waitForRunEnd(svc, queued.body.runId);
    });

    test('404 for an unknown integration', async () => {
      const answer = await svc.request('POST', '/v1/integrations/nope/sync');
      assert.equal(answer.status, 404);
      assert.equal(answer.body.error, 'not_found');
    });

    test('400 for bad options, unknown keys and broken JSON', async () => {
      for (const body of [{ full: 'yes' }, { bogus: true }, '{"full": tru', '[1,2]']) {
        const answer = await svc.request('POST', `/v1/integrations/${ID}/sync`, body);
        assert.equal(answer.status, 400, `${JSON.stringify(body)} -> ${answer.status} ${JSON.stringify(answer.body)}`);
        assert.ok(answer.body.message, 'says what is wrong');
      }
    });

    test('401 without or with a wrong token', async () => {
      assert.equal((await svc.request('POST', `/v1/integrations/${ID}/sync`, undefined, { token: null })).status, 401);
      assert.equal((await svc.request('POST', `/v1/integrations/${ID}/sync`, undefined, { token: 'wrong' })).status, 401);
      const active = await svc.db.knex('sync_runs').whereIn('status', ['queued', 'running']);
      assert.equal(active.length, 0, 'nothing was queued');
    });
  });

  describe('GET /v1/integrations and /v1/integrations/:id', () => {
    test('lists the configured integrations with last run and next run, never the token', async () => {
      const answer = await svc.request('GET', '/v1/integrations');
      assert.equal(answer.status, 200);
      assert.equal(answer.body.integrations.length, 1);
      const [integration] = answer.body.integrations;
      assert.equal(integration.id, ID);
      assert.equal(integration.platform, 'simulator');
      assert.ok(!JSON.stringify(answer.body).includes(svc.simulator.token), 'the platform token is not exposed');
      assert.ok(!('token' in integration));
      assert.equal(integration.schedule.cron, '0 4 * * *');
      assert.equal(integration.schedule.timezone, 'America/Sao_Paulo');
      assert.ok(integration.lastRun?.id);
    });

    test('one integration: project, last run, next run in its zone', async () => {
      const answer = await svc.request('GET', `/v1/integrations/${ID}`);
      assert.equal(answer.status, 200);
      const body = answer.body;
      assert.equal(body.project.mode, 'link');
      assert.equal(body.project.name, 'Centro');
      assert.equal(typeof body.project.id, 'number');
      assert.ok(body.project.externalId);
      const latest = await svc.db.knex('sync_runs').orderBy('queued_at', 'desc').first('id');
      assert.equal(body.lastRun.id, latest.id);
      assert.equal(body.schedule.scheduled, true);
      assert.equal(body.schedule.nextRunAt, nextRunAt('0 4 * * *', 'America/Sao_Paulo', new Date())!.toISOString());
      assert.match(body.schedule.nextRunAt, /T07:00:00\.000Z$/, '04:00 in São Paulo is 07:00 UTC');
      assert.ok(!JSON.stringify(body).includes(svc.simulator.token));
    });

    test('404 for an unknown integration, 400 for a malformed id, 401 without token', async () => {
      assert.equal((await svc.request('GET', '/v1/integrations/nope')).status, 404);
      const malformed = await svc.request('GET', '/v1/integrations/Not%20An%20Id');
      assert.equal(malformed.status, 400);
      assert.match(malformed.body.message, /id/);
      assert.equal((await svc.request('GET', '/v1/integrations?color=red')).status, 400);
      assert.equal((await svc.request('GET', `/v1/integrations/${ID}?color=red`)).status, 400);
      assert.equal((await svc.request('GET', '/v1/integrations', undefined, { token: null })).status, 401);
      assert.equal((await svc.request('GET', `/v1/integrations/${ID}`, undefined, { token: 'wrong' })).status, 401);
    });
  });

  describe('GET /v1/sync-runs/:runId', () => {
    test('status, trigger, times and counts per kind', async () => {
      const answer = await svc.request('GET', `/v1/sync-runs/${firstRun.id}`);
      assert.equal(answer.status, 200);
      const run = answer.body;
      assert.equal(run.id, firstRun.id);
      assert.equal(run.integrationId, ID);
      for (const key of ['queuedAt', 'startedAt', 'finishedAt', 'heartbeatAt']) assert.match(run[key], /^\d{4}-\d\d-\d\dT.*Z$/, key);
      assert.ok(new Date(run.finishedAt) >= new Date(run.startedAt));
      assert.equal(typeof run.durationMs, 'number');
    });

    test('400 for a malformed id, 404 for an unknown one, 401 without token', async () => {
      const malformed = await svc.request('GET', '/v1/sync-runs/not-a-uuid');
      assert.equal(malformed.status, 400);
      assert.match(malformed.body.message, /runId/);
      assert.equal((await svc.request('GET', `/v1/sync-runs/${randomUUID()}`)).status, 404);
      assert.equal((await svc.request('GET', `/v1/sync-runs/${firstRun.id}`, undefined, { token: null })).status, 401);
    });

    test('the run list, newest first, filtered by integration', async () => {
      const answer = await svc.request('GET', `/v1/sync-runs?integration=${ID}&limit=2`);
      assert.equal(answer.status, 200);
      assert.equal(answer.body.runs.length, 2);
      assert.ok(new Date(answer.body.runs[0].queuedAt) >= new Date(answer.body.runs[1].queuedAt));
      assert.equal((await svc.request('GET', '/v1/sync-runs?integration=other')).body.runs.length, 0);
      assert.equal((await svc.request('GET', '/v1/sync-runs?limit=abc')).status, 400);
      assert.equal((await svc.request('GET', '/v1/sync-runs?limit=0')).status, 400);
      assert.equal((await svc.request('GET', '/v1/sync-runs?before=yesterday')).status, 400);
      assert.equal((await svc.request('GET', '/v1/sync-runs', undefined, { token: null })).status, 401);
    });
  });

  describe('GET /v1/sync-runs/:runId/report', () => {
    test("lists the run's issues with code and reason, paged, with totals", async () => {
      const malformed = svc.simulator.malformedRecords().length;
      assert.ok(malformed > 0, 'the simulator served malformed records');
      const answer = await svc.request('GET', `/v1/sync-runs/${firstRun.id}/report?limit=2`);
      assert.equal(answer.status, 200);
      const report = answer.body;
      assert.equal(report.run.id, firstRun.id);
      assert.ok(report.summary.total > 0);
      assert.equal(report.issues.length, Math.min(2, report.summary.total));
      for (const issue of report.issues) {
        assert.ok(issue.code && issue.reason && issue.kind, JSON.stringify(issue));
      }
      assert.equal(report.page.total, report.summary.total);
      const all = (await svc.request('GET', `/v1/sync-runs/${firstRun.id}/report?limit=1000`)).body;
      assert.equal(all.issues.length, report.summary.total);
      assert.equal(all.page.nextOffset, null);
      assert.deepEqual(report.issues, all.issues.slice(0, 2));
      if (report.summary.total > 2) {
        assert.equal(report.page.nextOffset, 2);
        const next = await svc.request('GET', `/v1/sync-runs/${firstRun.id}/report?limit=2&offset=2`);
        assert.deepEqual(next.body.issues, all.issues.slice(2, 4));
      }
      const rejected = Object.values(firstRun.counts as Record<string, { rejected: number }>).reduce((sum, c) => sum + c.rejected, 0);
      assert.ok(rejected > 0, 'rejections are counted on the run');
      const codes = Object.keys(report.summary.byCode);
      const filtered = await svc.request('GET', `/v1/sync-runs/${firstRun.id}/report?code=${codes[0]}`);
      assert.equal(filtered.body.page.total, report.summary.byCode[codes[0]!]);
    });

    test('400 for a malformed id or paging, 404 for an unknown run, 401 without token', async () => {
      assert.equal((await svc.request('GET', '/v1/sync-runs/123/report')).status, 400);
      assert.equal((await svc.request('GET', `/v1/sync-runs/${firstRun.id}/report?limit=0`)).status, 400);
      assert.equal((await svc.request('GET', `/v1/sync-runs/${firstRun.id}/report?offset=-1`)).status, 400);
      assert.equal((await svc.request('GET', `/v1/sync-runs/${firstRun.id}/report?color=red`)).status, 400);
      assert.equal((await svc.request('GET', `/v1/sync-runs/${randomUUID()}/report`)).status, 404);
      assert.equal((await svc.request('GET', `/v1/sync-runs/${firstRun.id}/report`, undefined, { token: null })).status, 401);
    });
  });
});

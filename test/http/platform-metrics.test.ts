import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointFamily } from '../../src/platforms/http/platform-http-client.ts';
import { waitForRunEnd } from '../helpers/run-waiting.ts';
import { startTestService, type TestService, TEST_INTEGRATION_ID } from '../helpers/test-service.ts';

const ID = TEST_INTEGRATION_ID;

describe('endpoint families (metric label)', () => {
  const CASES: Array<[string, string]> = [
    ['GET /pastas', 'GET /pastas'],
    ['GET /itensRede', 'GET /itensRede'],
    ['GET /diagrama/equipamentos/123', 'GET /diagrama/equipamentos/:id'],
    ['GET /equipamentos/itemRede/98765/portas', 'GET /equipamentos/itemRede/:id/portas'],
    ['GET /clientes/integrado/mapsync-SC-0042', 'GET /clientes/integrado/:id'],
    ['PUT /clientes/77', 'PUT /clientes/:id'],
    ['DELETE /integracao/atender/10/20', 'DELETE /integracao/atender/:id/:id'],
    ['POST /integracao/atender', 'POST /integracao/atender'],
  ];
  for (const [endpoint, family] of CASES) {
    test(`${endpoint} → ${family}`, () => assert.equal(endpointFamily(endpoint), family));
  }
});

describe('mapsync_platform_requests_total and mapsync_platform_retries_total', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({
      integration: { http: { concurrency: 5, requestsPerMinute: 100_000, timeoutMs: 10_000, retries: 6 } },
      simulator: { size: 300, seed: 13, faults: { errorRate: 0.1 } },
    });
  });
  after(async () => svc?.stop());

  test('every attempt is counted by integration, endpoint family and status; retries apart', async () => {
    const queued = await svc.request('POST', `/v1/integrations/${ID}/sync`);
    const run = await waitForRunEnd(svc, queued.body.runId);
    assert.equal(run.status, 'succeeded', run.error);

    const metrics = await svc.request('GET', '/metrics');
    assert.equal(metrics.status, 200);
    const text = String(metrics.body);
    const samples = (name: string) =>
      [...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\d+)$`, 'gm'))].map((m) => ({
        labels: Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]])),
        value: Number(m[2]),
      }));
    const requests = samples('mapsync_platform_requests_total').filter((s) => s.labels.integration === ID);
    const retries = samples('mapsync_platform_retries_total').filter((s) => s.labels.integration === ID);

    const stats = svc.simulator.stats;
    const total = requests.reduce((sum, s) => sum + s.value, 0);
    assert.equal(total, stats.requests, 'one count per request the platform saw');
    const failed = requests.filter((s) => s.labels.status === '500').reduce((sum, s) => sum + s.value, 0);
    assert.equal(failed, stats.injectedErrors);
    assert.ok(failed > 0, 'the simulator answered some 500s');
    // The run succeeded, so every 500 was retried.
    assert.equal(retries.reduce((sum, s) => sum + s.value, 0), failed);

    const families = new Set(requests.map((s) => s.labels.endpoint));
    assert.ok(families.has('GET /itensRede'), [...families].join(', '));
    for (const family of families) assert.doesNotMatch(family!, /\/\d/, `ids are folded: ${family}`);
    assert.ok(requests.every((s) => /^(\d{3}|timeout|network_error)$/.test(s.labels.status!)));
  });

  test("the run's own requests are in its record (GET /v1/sync-runs/:id) and in the sync metrics, by the adapter's families", async () => {
    const before = svc.simulator.stats.requests;
    const beforeErrors = svc.simulator.stats.injectedErrors;
    const queued = await svc.request('POST', `/v1/integrations/${ID}/sync`);
    await waitForRunEnd(svc, queued.body.runId);
    const { body: run } = await svc.request('GET', `/v1/sync-runs/${queued.body.runId}`);
    assert.equal(run.status, 'succeeded', run.error);
    const counted = run.platformRequests;
    // Nothing else calls the platform meanwhile (the pusher has nothing to push).
    assert.equal(counted.requests, svc.simulator.stats.requests - before);
    assert.equal(counted.retries, svc.simulator.stats.injectedErrors - beforeErrors, 'every 500 was retried once more');
    assert.equal(counted.rateLimited, 0);
    assert.equal(Object.values(counted.byFamily as Record<string, number>).reduce((a, b) => a + b, 0), counted.requests);
    for (const family of ['pastas', 'postes', 'caixas', 'portas', 'clientes']) assert.ok(counted.byFamily[family] > 0, `${family}: ${JSON.stringify(counted.byFamily)}`);
    assert.ok(['batch', 'per_item'].includes(counted.occupancyReads), counted.occupancyReads);

    const { body: list } = await svc.request('GET', `/v1/sync-runs?integration=${ID}`);
    const allRuns = (list.runs as Array<{ platformRequests: { requests: number } | null }>).reduce((sum, r) => sum + (r.platformRequests?.requests ?? 0), 0);
    // The worker adds a run to the counters just after the run's record is written.
    let text = '';
    let synced = -1;
    for (let tries = 0; tries < 100 && synced !== allRuns; tries += 1) {
      if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      text = String((await svc.request('GET', '/metrics')).body);
      synced = [...text.matchAll(/^mapsync_sync_platform_requests_total\{([^}]*)\} (\d+)$/gm)]
        .filter((m) => m[1]!.includes(`integration="${ID}"`))
        .reduce((sum, m) => sum + Number(m[2]), 0);
    }
    assert.equal(synced, allRuns, 'the counter adds up the runs');
    assert.match(text, new RegExp(`^mapsync_sync_platform_retries_total\\{integration="${ID}"\\} \\d+$`, 'm'));
    assert.match(text, new RegExp(`^mapsync_sync_platform_rate_limited_total\\{integration="${ID}"\\} 0$`, 'm'));
  });
});

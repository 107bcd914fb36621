import assert from 'node:assert/strict';
import { seedErpContracts } from '../../bench/erp-seed.ts';
import { erpContractsFor } from '../../src/simulator/network-generator.ts';
import { waitForRunEnd } from './run-waiting.ts';
import { startTestService, type TestService, type TestServiceOptions } from './test-service.ts';

/**
 * A service whose network is synced from its simulator, with the ERP side (customers and
 * contracts matching the simulated network) loaded first, so customers are linked.
 */
export async function startSyncedService(options: TestServiceOptions = {}): Promise<TestService> {
  const svc = await startTestService(options);
  try {
    await seedErpContracts(svc.db.knex, erpContractsFor(svc.simulator.network));
    const queued = await svc.request('POST', `/v1/integrations/${svc.integrationId}/sync`);
    const run = await waitForRunEnd(svc, queued.body.runId, 120_000);
    assert.equal(run.status, 'succeeded', `the first sync: ${JSON.stringify(run)}`);
    return svc;
  } catch (error) {
    await svc.stop();
    throw error;
  }
}

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunRecord } from '../../src/sync/sync-runs.repository.ts';
import type { Harness } from './fixtures/sync-harness.ts';
import { startSimulatedSync, type SimulatedSync } from './fixtures/simulated-sync.ts';

/**
 * `platformRequests.occupancyReads` on the run record with the default `sync.occupancyReads:
 * per_item` (batch reads: sync-batch-occupancy.test.ts): `per_item` whenever the run read port
 * occupancy one container at a time, by diagram or by occupancy read; null when it read none.
 */
describe('how a run read port occupancy, on its record', () => {
  let h: Harness;
  let setup: SimulatedSync | undefined;

  before(async () => {
    setup = await startSimulatedSync({ id: 'occreads', seed: 29, size: 400 });
    ({ h } = setup);
  });
  after(async () => setup?.close());

  async function syncOk(options: { full?: boolean; force?: boolean } = {}): Promise<RunRecord> {
    const run = await h.sync(options);
    assert.equal(run.status, 'succeeded', run.error ?? '');
    return run;
  }

  test('a first run reads every diagram, ports included: per_item', async () => {
    const first = await syncOk();
    assert.ok((first.platformRequests?.byFamily.portas ?? 0) > 0, JSON.stringify(first.platformRequests));
    assert.equal(first.platformRequests?.occupancyReads, 'per_item');
  });

  test('a nightly run reads known containers one occupancy read each: per_item', async () => {
    const again = await syncOk();
    assert.ok((again.platformRequests?.byFamily.portas ?? 0) > 0, JSON.stringify(again.platformRequests));
    assert.equal(again.platformRequests?.occupancyReads, 'per_item');
  });

  test('a run that syncs no service splitters reads no occupancy: null', async () => {
    await h.setIntegration({ ...h.integration, elements: ['poles', 'customers'] });
    // Its splitters leave the selection: past the mass-removal guard.
    const run = await syncOk({ force: true });
    assert.equal(run.platformRequests?.byFamily.portas ?? 0, 0, JSON.stringify(run.platformRequests));
    assert.equal(run.platformRequests?.occupancyReads, null);
  });
});

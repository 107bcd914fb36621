import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForRunEnd } from '../helpers/run-waiting.ts';
import { startTestService, type TestService } from '../helpers/test-service.ts';
import { cpfFor, waitFor } from './helpers/push-fixtures.ts';

/** The whole loop on a network stored by a real sync: bind a synced port, push, sync again. */
describe('push end to end: sync → bind → confirm → push → sync', () => {
  let service: TestService;

  const sync = async () => {
    const queued = await service.request('POST', `/v1/integrations/${service.integrationId}/sync`);
    assert.equal(queued.status, 202);
    const run = await waitForRunEnd(service, queued.body.runId);
    assert.equal(run.status, 'succeeded', run.error);
  };

  before(async () => {
    service = await startTestService({ simulator: { size: 300, seed: 23 } });
    await sync();
  });
  after(async () => service?.stop());

  test('a synced free service port is bound, pushed, and seen in sync by the next run', async () => {
    const knex = service.db.knex;
    const free = await knex('ports as p')
      .join('splitters as s', 's.id', 'p.splitter_id')
      .where({ 's.role': 'service', 'p.available': true })
      .whereNull('p.platform_customer_external_id')
      .whereNull('p.removed_at')
      .orderBy('p.id')
      .first('p.id', 'p.external_id');
    assert.ok(free, 'the sync stored a free service port');
    const distribution = await knex('ports as p').join('splitters as s', 's.id', 'p.splitter_id').where('s.role', 'distribution').first('p.id');

    const upsert = await service.request('POST', '/v1/customers', { items: [{ serviceId: '880001', document: cpfFor(777), name: 'Cliente Ponta a Ponta', status: 'active' }] });
    assert.equal(upsert.body.created, 1);
    if (distribution) {
      const refused = await service.request('POST', '/v1/bindings', { serviceId: '880001', portId: distribution.id });
      assert.equal(refused.status, 422);
      assert.equal(refused.body.error, 'not_a_service_port');
    }
    const created = await service.request('POST', '/v1/bindings', { serviceId: '880001', portId: free.id });
    assert.equal(created.status, 201);
    await service.request('POST', `/v1/bindings/${created.body.id}/confirm`);
    const pushed = await waitFor('the push', async () => {
      const view = await service.request('GET', `/v1/bindings/${created.body.id}`);
      return view.body.syncState === 'pushed' ? view.body : null;
    });
    const simPort = service.simulator.network.ports.get(Number(free.external_id))!;
    assert.equal(String(simPort.customerId), pushed.platformCustomerExternalId);

    await sync();
    const after = await service.request('GET', `/v1/bindings/${created.body.id}`);
    assert.equal(after.body.syncState, 'in_sync', 'the sync found the pushed customer on the port');
    const port = await knex('ports').where({ id: free.id }).first('platform_customer_external_id', 'available');
    assert.equal(port.platform_customer_external_id, pushed.platformCustomerExternalId);
    const onPlatform = await knex('platform_customers').where({ integration_id: service.integrationId, external_id: pushed.platformCustomerExternalId }).first('link_status', 'document');
    assert.equal(onPlatform?.link_status, 'linked', 'the pushed record links back to its contract');
    assert.equal(onPlatform?.document, cpfFor(777));
    assert.equal(service.simulator.writes.customersCreated.length, 1);
  });
});

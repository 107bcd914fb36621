import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitForRunEnd } from '../helpers/run-waiting.ts';
import { startTestService, type TestService } from '../helpers/test-service.ts';

/** Issue 12: a binding the ERP import makes right is accepted at once, not after the next sync. */
describe('POST /v1/customers re-links, so POST /v1/bindings is accepted without a sync', () => {
  let service: TestService;
  before(async () => {
    service = await startTestService({ integration: { elements: ['service_splitters', 'customers'] }, simulator: { size: 200, seed: 41 } });
    const queued = await service.request('POST', `/v1/integrations/${service.integrationId}/sync`);
    assert.equal(queued.status, 202);
    const run = await waitForRunEnd(service, queued.body.runId);
    assert.equal(run.status, 'succeeded', run.error);
  });
  after(async () => service?.stop());

  /** Synced service ports whose customer has a valid document the ERP does not know yet. */
  async function portsWithUnmatchedCustomers() {
    return service.db
      .knex('ports as p')
      .join('splitters as s', 's.id', 'p.splitter_id')
      .join('platform_customers as pc', function () {
        this.on('pc.integration_id', '=', 'p.integration_id').andOn('pc.external_id', '=', 'p.platform_customer_external_id');
      })
      .where({ 's.role': 'service', 'pc.link_status': 'unmatched' })
      .whereLike('pc.link_reason', '%document_not_found%')
      .whereNull('p.removed_at')
      .whereNull('pc.removed_at')
      .orderBy('p.id')
      .select('p.id as port_id', 'pc.external_id', 'pc.document');
  }

  async function linkOf(externalId: string) {
    return service.db
      .knex('platform_customers as pc')
      .leftJoin('service_contracts as sc', 'sc.id', 'pc.service_contract_id')
      .where({ 'pc.integration_id': service.integrationId, 'pc.external_id': externalId })
      .first('pc.link_status', 'sc.service_id');
  }

  test('import after a sync → the link appears → the binding is accepted', async () => {
    const [first, second] = await portsWithUnmatchedCustomers();
    assert.ok(first && second, 'the sync stored ports with unmatched customers who have valid documents');

    // A new contract for the customer on the first port.
    const upsert = await service.request('POST', '/v1/customers', { items: [{ serviceId: '990001', document: first.document, name: 'Cliente Novo', status: 'active' }] });
    assert.equal(upsert.status, 200, JSON.stringify(upsert.body));
    const linked = await linkOf(first.external_id);
    assert.equal(linked.link_status, 'linked_by_document', 'linked right after the import, no sync in between');
    assert.equal(linked.service_id, '990001');
    const accepted = await service.request('POST', '/v1/bindings', { serviceId: '990001', portId: first.port_id });
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
    assert.equal(accepted.body.syncState, 'in_sync', 'the platform already shows this contract on the port');

    // A contract the ERP first had under a mistyped document: refused, then corrected and accepted.
    await service.request('POST', '/v1/customers', { items: [{ serviceId: '990002', document: '111.444.777-35', name: 'Cliente Corrigido', status: 'active' }] });
    const refused = await service.request('POST', '/v1/bindings', { serviceId: '990002', portId: second.port_id });
    assert.equal(refused.status, 409, 'the port shows a platform customer not linked to this contract');
    assert.equal(refused.body.error, 'port_taken');
    await service.request('POST', '/v1/customers', { items: [{ serviceId: '990002', document: second.document, name: 'Cliente Corrigido', status: 'active' }] });
    assert.equal((await linkOf(second.external_id)).service_id, '990002');
    const now = await service.request('POST', '/v1/bindings', { serviceId: '990002', portId: second.port_id });
    assert.equal(now.status, 201, JSON.stringify(now.body));
  });
});

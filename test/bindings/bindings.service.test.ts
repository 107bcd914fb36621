import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BindingError } from '../../src/bindings/binding-error.ts';
import { cancelBinding, confirmBinding, createBinding } from '../../src/bindings/bindings.service.ts';
import { upsertCustomers } from '../../src/customers/customers.service.ts';
import { reconcileBindingsAfterSync } from '../../src/push/binding-reconciliation.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { cpfFor, seedIntegration } from '../push/helpers/push-fixtures.ts';

const INTEGRATION = 'geo';
const push = { settingsFor: (id: string) => (id === INTEGRATION ? { enabled: true, fields: ['name', 'document', 'serviceId'] } : null) };

describe('bindings', () => {
  let db: TestDatabase;
  let serviceSplitter: number;
  let distributionSplitter: number;
  let portNumber = 0;

  before(async () => {
    db = await createTestDatabase();
    await seedIntegration(db.knex, INTEGRATION);
    const splitter = (externalId: string, role: string, removed = false) =>
      db.knex('splitters')
        .insert({ integration_id: INTEGRATION, external_id: externalId, content_hash: 'x', container_external_id: 'C1', role, ratio_in: 1, ratio_out: 8, removed_at: removed ? db.knex.fn.now() : null })
        .returning('id')
        .then((rows) => (rows[0] as { id: number }).id);
    serviceSplitter = await splitter('S1', 'service');
    distributionSplitter = await splitter('D1', 'distribution');
    await upsertCustomers(
      db.knex,
      ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'].map((id, i) => ({ serviceId: id, document: cpfFor(900 + i), name: `Cliente ${id}`, status: 'active' })),
    );
    await upsertCustomers(db.knex, [{ serviceId: 'OFF', document: cpfFor(990), name: 'Suspenso', status: 'suspended' }]);
  });
  after(async () => db?.destroy());

  async function port(options: { splitter?: number; removed?: boolean; available?: boolean; customer?: string | null } = {}) {
    portNumber += 1;
    const [row] = await db.knex('ports')
      .insert({
        integration_id: INTEGRATION,
        external_id: `P${portNumber}`,
        content_hash: 'x',
        splitter_id: options.splitter ?? serviceSplitter,
        number: portNumber,
        available: options.available ?? true,
        platform_customer_external_id: options.customer ?? null,
        removed_at: options.removed ? db.knex.fn.now() : null,
      })
      .returning(['id', 'external_id']);
    return row as { id: number; external_id: string };
  }

  async function refusal(promise: Promise<unknown>): Promise<BindingError> {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof BindingError, `a BindingError, got ${String(error)}`);
      return error;
    }
    assert.fail('expected a refusal');
  }

  test('creates a pending binding, by mapsync port id or by the platform port id', async () => {
    const p = await port();
    const { binding, created } = await createBinding(db.knex, { serviceId: 'A', port: { portId: p.id } });
    assert.equal(created, true);
    assert.equal(binding.status, 'pending');
    assert.equal(binding.syncState, 'not_pushed');
    assert.equal(binding.portExternalId, p.external_id);
    assert.equal(binding.integrationId, INTEGRATION);
    const again = await createBinding(db.knex, { serviceId: 'A', port: { integrationId: INTEGRATION, portExternalId: p.external_id } });
    assert.equal(again.created, false, 'the same contract and port again is the same binding');
    assert.equal(again.binding.id, binding.id);
  });

  test('refuses with a code: unknown or inactive contract, unknown, removed or distribution port, taken port', async () => {
    const free = await port();
    assert.deepEqual(pick(await refusal(createBinding(db.knex, { serviceId: 'NOPE', port: { portId: free.id } }))), [404, 'contract_not_found']);
    assert.deepEqual(pick(await refusal(createBinding(db.knex, { serviceId: 'OFF', port: { portId: free.id } }))), [422, 'contract_not_active']);
    assert.deepEqual(pick(await refusal(createBinding(db.knex, { serviceId: 'B', port: { portId: 999_999 } }))), [404, 'port_not_found']);
    assert.deepEqual(
      pick(await refusal(createBinding(db.knex, { serviceId: 'B', port: { integrationId: 'other', portExternalId: free.external_id } }))),
      [404, 'port_not_found'],
    );
    const removed = await port({ removed: true });
    assert.deepEqual(pick(await refusal(createBinding(db.knex, { serviceId: 'B', port: { portId: removed.id } }))), [422, 'port_removed']);
    const distribution = await port({ splitter: distributionSplitter });
    assert.deepEqual(pick(await refusal(createBinding(db.knex, { serviceId: 'B', port: { portId: distribution.id } }))), [422, 'not_a_service_port']);
    const occupied = await port({ customer: '7001', available: false });
    const taken = await refusal(createBinding(db.knex, { serviceId: 'B', port: { portId: occupied.id } }));
    assert.deepEqual(pick(taken), [409, 'port_taken']);
    assert.match(taken.message, /platform shows another customer/);
    const reserved = await port({ available: false });
    assert.deepEqual(pick(await refusal(createBinding(db.knex, { serviceId: 'B', port: { portId: reserved.id } }))), [409, 'port_unavailable']);

    const { binding } = await createBinding(db.knex, { serviceId: 'B', port: { portId: free.id } });
    const second = await refusal(createBinding(db.knex, { serviceId: 'C', port: { portId: free.id } }));
    assert.deepEqual(pick(second), [409, 'port_taken']);
    assert.equal(second.details.bindingId, binding.id);
    const other = await port();
    assert.deepEqual(pick(await refusal(createBinding(db.knex, { serviceId: 'B', port: { portId: other.id } }))), [409, 'contract_already_bound']);
  });

  test('a port the platform already shows with this customer is accepted, in sync', async () => {
    const p = await port({ customer: '7100', available: false });
    const contract = await db.knex('service_contracts').where({ service_id: 'D' }).first('id');
    await db.knex('platform_customers').insert({ integration_id: INTEGRATION, external_id: '7100', content_hash: 'x', link_status: 'linked', service_contract_id: contract.id, port_external_id: p.external_id });
    const { binding } = await createBinding(db.knex, { serviceId: 'D', port: { portId: p.id } });
    assert.equal(binding.syncState, 'in_sync');
    assert.equal(binding.platformCustomerExternalId, '7100');
  });

  test('confirm writes one outbox row with the minimal payload; confirming again is a no-op; cancelled cannot be confirmed', async () => {
    const p = await port();
    const { binding } = await createBinding(db.knex, { serviceId: 'E', port: { portId: p.id } });
    const first = await confirmBinding(db.knex, binding.id, push);
    assert.equal(first.queued, true);
    assert.equal(first.binding.status, 'confirmed');
    assert.equal(first.binding.syncState, 'queued');
    assert.equal(first.binding.pushes.length, 1);
    const row = await db.knex('push_outbox').where({ binding_id: binding.id }).first();
    assert.deepEqual(Object.keys(row.payload.customer).sort(), ['document', 'name', 'personType', 'serviceId']);
    assert.equal(row.payload.customer.document, cpfFor(904));
    assert.equal(row.payload.port.externalId, p.external_id);
    assert.match(first.binding.pushes[0]!.payload ? JSON.stringify(first.binding.pushes[0]!.payload) : '', /\*\*\*/, 'the API shows the document masked');

    const second = await confirmBinding(db.knex, binding.id, push);
    assert.equal(second.queued, false);
    assert.deepEqual(second.binding, first.binding);

    await cancelBinding(db.knex, binding.id, push);
    assert.deepEqual(pick(await refusal(confirmBinding(db.knex, binding.id, push))), [409, 'binding_cancelled']);
    assert.deepEqual(pick(await refusal(confirmBinding(db.knex, 987_654, push))), [404, 'binding_not_found']);
    assert.deepEqual(pick(await refusal(cancelBinding(db.knex, 987_654, push))), [404, 'binding_not_found']);
  });

  test('a confirmation is refused when the port was removed since the binding was made', async () => {
    const p = await port();
    const { binding } = await createBinding(db.knex, { serviceId: 'F', port: { portId: p.id } });
    await db.knex('ports').where({ id: p.id }).update({ removed_at: db.knex.fn.now() });
    assert.deepEqual(pick(await refusal(confirmBinding(db.knex, binding.id, push))), [422, 'port_removed']);
    assert.equal((await db.knex('push_outbox').where({ binding_id: binding.id })).length, 0, 'nothing queued');
  });

  test('with push disabled a confirmation queues nothing', async () => {
    const p = await port();
    const { binding } = await createBinding(db.knex, { serviceId: 'G', port: { portId: p.id } });
    const { queued, binding: after } = await confirmBinding(db.knex, binding.id, { settingsFor: () => ({ enabled: false, fields: [] }) });
    assert.equal(queued, false);
    assert.equal(after.status, 'confirmed');
    assert.equal(after.syncState, 'not_pushed');
  });

  test('reconcileBindingsAfterSync marks a binding in_sync once the platform shows its customer on the port', async () => {
    const p = await port();
    const { binding } = await createBinding(db.knex, { serviceId: 'H', port: { portId: p.id } });
    await confirmBinding(db.knex, binding.id, push);
    assert.equal((await db.knex.transaction((trx) => reconcileBindingsAfterSync(trx, INTEGRATION))).inSync, 0);

    // What a sync stores after the push: the customer (found by its integration code) on the port.
    await db.knex('platform_customers').insert({ integration_id: INTEGRATION, external_id: '7200', content_hash: 'x', link_status: 'unmatched', integration_code: 'H', port_external_id: p.external_id });
    await db.knex('ports').where({ id: p.id }).update({ platform_customer_external_id: '7200', available: false });
    assert.equal((await db.knex.transaction((trx) => reconcileBindingsAfterSync(trx, INTEGRATION))).inSync, 1);
    const after = await db.knex('bindings').where({ id: binding.id }).first();
    assert.equal(after.sync_state, 'in_sync');
    assert.equal(after.platform_customer_external_id, '7200');
    assert.deepEqual(await reconcileBindingsAfterSync(db.knex, INTEGRATION), { inSync: 0, followed: 0, demoted: 0, requeued: 0, issues: [] }, 'nothing changes the second time');
    assert.equal((await reconcileBindingsAfterSync(db.knex, 'other')).inSync, 0);
  });
});

function pick(error: BindingError): [number, string] {
  return [error.status, error.code];
}

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { confirmBinding, createBinding } from '../../src/bindings/bindings.service.ts';
import type { IntegrationConfig } from '../../src/config/config.schema.ts';
import { PlatformError } from '../../src/platforms/http/platform-error.ts';
import { CustomerCreationUnsupportedError, type BindRequest, type CustomerPayload, type PlatformAdapter, type RemoteCustomer } from '../../src/platforms/platform-adapter.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { pusherFor, seedContracts, seedFreeServicePorts, seedIntegration, simulatorIntegration, type SeededPort, type TestContract } from './helpers/push-fixtures.ts';

const INTEGRATION = 'bind-new';

type Fault = 'none' | 'timeout_after_write' | 'timeout_after_customer' | 'timeout_before_write' | 'code_taken';

/**
 * A platform that creates a customer only together with its tie to a port, as OZmap does (a
 * property with a nested client): `createCustomer` refuses, `bindNewCustomer` creates and binds
 * through the simulator's real routes, and a fault can make the answer unclear.
 */
function createOnlyBound(base: PlatformAdapter, faults: Fault[], calls: { bindNew: number; create: number; find: number }): PlatformAdapter {
  const timeout = () =>
    new PlatformError({ platform: 'simulator', endpoint: 'POST /properties', status: null, platformMessage: null, retryable: true, code: 'ETIMEDOUT' });
  return Object.assign(Object.create(base) as PlatformAdapter, {
    async createCustomer(): Promise<RemoteCustomer> {
      calls.create += 1;
      throw new CustomerCreationUnsupportedError('simulator');
    },
    async findCustomerByIntegrationCode(code: string) {
      calls.find += 1;
      return base.findCustomerByIntegrationCode(code);
    },
    async bindNewCustomer(payload: CustomerPayload, request: Omit<BindRequest, 'customerExternalId'>): Promise<RemoteCustomer> {
      calls.bindNew += 1;
      const fault = faults.shift() ?? 'none';
      if (fault === 'timeout_before_write') throw timeout();
      if (fault === 'code_taken') {
        await base.createCustomer(payload);
        throw new PlatformError({ platform: 'simulator', endpoint: 'POST /properties', status: 409, platformMessage: 'code in use', retryable: false, fieldErrors: { code: 'already in use' } });
      }
      const created = await base.createCustomer(payload);
      if (fault === 'timeout_after_customer') throw timeout();
      await base.bind({ ...request, customerExternalId: created.externalId });
      if (fault === 'timeout_after_write') throw timeout();
      return created;
    },
  });
}

describe('pusher on a platform that creates a customer only with its binding (bindNewCustomer)', () => {
  let db: TestDatabase;
  let sim: RunningSimulator;
  let integration: IntegrationConfig;
  let ports: SeededPort[];
  let nextPort = 0;

  before(async () => {
    db = await createTestDatabase();
    sim = await startSimulator({ size: 600, seed: 23, https: true, limits: { concurrency: 10, requestsPerMinute: 100_000 } });
    integration = simulatorIntegration(INTEGRATION, sim);
    await seedIntegration(db.knex, INTEGRATION, sim.url);
    ports = await seedFreeServicePorts(db.knex, INTEGRATION, sim, 12);
  });
  after(async () => {
    await sim?.close();
    await db?.destroy();
  });

  const settings = () => ({ settingsFor: (id: string) => (id === INTEGRATION ? { enabled: true, fields: integration.push.fields } : null) });
  const created = (serviceId: string) =>
    sim.writes.customersCreated.filter((w) => (w.body as { dados: { codigoIntegracao?: string } }).dados.codigoIntegracao === serviceId);
  const binds = (port: SeededPort) => sim.writes.binds.filter((w) => String((w.body as { idPorta: unknown }).idPorta) === port.externalId);

  async function deliver(prefix: string, faults: Fault[]) {
    const [contract] = (await seedContracts(db.knex, 1, { prefix })) as [TestContract];
    const port = ports[nextPort++]!;
    const { binding } = await createBinding(db.knex, { serviceId: contract.serviceId, port: { portId: port.id } });
    await confirmBinding(db.knex, binding.id, settings());
    const calls = { bindNew: 0, create: 0, find: 0 };
    const { pusher, close } = pusherFor(db.knex, sim, integration, { wrapAdapter: (adapter) => createOnlyBound(adapter, faults, calls) });
    const tallies = [];
    try {
      for (let i = 0; i < 5; i += 1) {
        tallies.push(await pusher.drain());
        const row = await db.knex('push_outbox').where({ binding_id: binding.id, action: 'bind' }).first();
        if (row.status === 'done' || row.status === 'failed') break;
        await db.knex('push_outbox').where({ id: row.id }).update({ next_attempt_at: db.knex.fn.now() });
      }
    } finally {
      await close();
    }
    const row = await db.knex('push_outbox').where({ binding_id: binding.id, action: 'bind' }).first();
    const after = await db.knex('bindings').where({ id: binding.id }).first();
    return { contract, port, calls, row, binding: after, tallies };
  }

  test('a new customer is created tied to its port in one write: createCustomer and bind are never called', async () => {
    const { contract, port, calls, row, binding } = await deliver('NEW', []);
    assert.equal(row.status, 'done');
    assert.deepEqual(calls, { bindNew: 1, create: 0, find: 1 });
    assert.equal(created(contract.serviceId).length, 1);
    assert.equal(binds(port).length, 1, 'the one bind is the one bindNewCustomer made');
    const customerId = sim.network.ports.get(Number(port.externalId))!.customerId;
    assert.equal(binding.platform_customer_external_id, String(customerId));
    assert.equal(binding.sync_state, 'pushed');
  });

  test('a customer the code finds is updated and bound, never created again', async () => {
    const [contract] = (await seedContracts(db.knex, 1, { prefix: 'KNOWN' })) as [TestContract];
    const adapter = pusherFor(db.knex, sim, integration).adapter;
    await adapter.createCustomer({ name: contract.name, document: contract.document, personType: 'person', serviceId: contract.serviceId });
    await adapter.close?.();
    const port = ports[nextPort++]!;
    const { binding } = await createBinding(db.knex, { serviceId: contract.serviceId, port: { portId: port.id } });
    await confirmBinding(db.knex, binding.id, settings());
    const calls = { bindNew: 0, create: 0, find: 0 };
    const { pusher, close } = pusherFor(db.knex, sim, integration, { wrapAdapter: (a) => createOnlyBound(a, [], calls) });
    try {
      assert.equal((await pusher.drain()).delivered, 1);
    } finally {
      await close();
    }
    assert.equal(calls.bindNew, 0);
    assert.equal(created(contract.serviceId).length, 1);
    assert.equal(binds(port).length, 1);
    assert.equal(sim.writes.customersUpdated.filter((w) => String(w.id) === String(sim.network.ports.get(Number(port.externalId))!.customerId)).length, 1);
  });

  test('a timeout after the write went through: the customer is found by code in the same attempt, and not bound twice', async () => {
    const { contract, port, calls, row } = await deliver('UNCLEAR', ['timeout_after_write']);
    assert.equal(row.status, 'done');
    assert.equal(row.attempts, 1, 'settled in the attempt that met the unclear answer');
    assert.equal(calls.bindNew, 1);
    assert.equal(calls.find, 2, 'looked up by code before creating, and again after the unclear answer');
    assert.equal(created(contract.serviceId).length, 1, 'no twin');
    assert.equal(binds(port).length, 1, 'no second tie');
  });

  test('a timeout after the customer was created but before its tie: found by code, then bound', async () => {
    const { contract, port, row } = await deliver('HALF', ['timeout_after_customer']);
    assert.equal(row.status, 'done');
    assert.equal(created(contract.serviceId).length, 1, 'no twin');
    assert.equal(binds(port).length, 1);
    assert.equal(sim.network.ports.get(Number(port.externalId))!.customerId, created(contract.serviceId)[0]!.id, 'the port shows the one customer');
  });

  test('a timeout before anything was written: retried later with backoff, exactly one customer', async () => {
    const { contract, port, calls, row, tallies } = await deliver('LOST', ['timeout_before_write', 'timeout_before_write']);
    assert.equal(row.status, 'done');
    assert.equal(row.attempts, 3);
    assert.equal(tallies[0]!.retry, 1);
    assert.equal(calls.bindNew, 3);
    assert.equal(created(contract.serviceId).length, 1);
    assert.equal(binds(port).length, 1);
  });

  test('a refusal naming the code (created meanwhile by someone else): that customer is updated and bound', async () => {
    const { contract, port, row } = await deliver('TAKEN', ['code_taken']);
    assert.equal(row.status, 'done');
    assert.equal(created(contract.serviceId).length, 1);
    assert.equal(binds(port).length, 1);
  });
});

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { cancelBinding, confirmBinding, createBinding } from '../../src/bindings/bindings.service.ts';
import { upsertCustomers } from '../../src/customers/customers.service.ts';
import { createKnex } from '../../src/db/knex-factory.ts';
import type { IntegrationConfig } from '../../src/config/config.schema.ts';
import { retryPush } from '../../src/push/outbox.repository.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { createTestDatabase, isEmbeddedTestDatabase, NEEDS_REAL_POSTGRES, testDatabaseUrl, type TestDatabase } from '../helpers/test-database.ts';
import {
  pusherFor,
  seedContracts,
  seedFreeServicePorts,
  seedIntegration,
  simulatorIntegration,
  cpfFor,
  waitFor,
  type SeededPort,
  type TestContract,
} from './helpers/push-fixtures.ts';

const INTEGRATION = 'sim';

/** GeoGrid specifics of the push; what every platform shares is in push-platforms.test.ts. */
describe('pusher against the simulator over HTTPS', () => {
  let db: TestDatabase;
  let sim: RunningSimulator;
  let integration: IntegrationConfig;
  let ports: SeededPort[];
  let nextPort = 0;
  const push = () => ({ settingsFor: (id: string) => (id === INTEGRATION ? { enabled: true, fields: integration.push.fields } : null) });

  before(async () => {
    db = await createTestDatabase();
    sim = await startSimulator({ size: 3000, seed: 11, https: true, limits: { concurrency: 10, requestsPerMinute: 100_000 } });
    integration = simulatorIntegration(INTEGRATION, sim);
    await seedIntegration(db.knex, INTEGRATION, sim.url);
    ports = await seedFreeServicePorts(db.knex, INTEGRATION, sim, 330);
  });
  after(async () => {
    await sim?.close();
    await db?.destroy();
  });

  const takePorts = (n: number) => {
    const taken = ports.slice(nextPort, nextPort + n);
    nextPort += n;
    assert.equal(taken.length, n, 'enough seeded ports');
    return taken;
  };

  async function confirmed(contract: TestContract, port: SeededPort, settings = push()) {
    const { binding } = await createBinding(db.knex, { serviceId: contract.serviceId, port: { portId: port.id } });
    return (await confirmBinding(db.knex, binding.id, settings)).binding;
  }

  const created = (serviceId: string) =>
    sim.writes.customersCreated.filter((w) => (w.body as { dados: { codigoIntegracao?: string } }).dados.codigoIntegracao === serviceId);
  const binds = (port: SeededPort) => sim.writes.binds.filter((w) => String((w.body as { idPorta: unknown }).idPorta) === port.externalId);
  const outboxOf = (bindingId: number) => db.knex('push_outbox').where({ binding_id: bindingId, action: 'bind' }).first();

  test('a pusher that dies after creating the customer: the next one finds it by integration code', async () => {
    const [contract] = await seedContracts(db.knex, 1, { prefix: 'CRASH' });
    const [port] = takePorts(1);
    const binding = await confirmed(contract!, port!);

    const dying = pusherFor(db.knex, sim, integration, {
      leaseMs: 60_000,
      wrapAdapter: (adapter) =>
        Object.assign(Object.create(adapter) as typeof adapter, {
          async createCustomer(payload: Parameters<typeof adapter.createCustomer>[0]) {
            await adapter.createCustomer(payload);
            // The process dies here: the answer is lost and the row is never marked.
            return new Promise<never>(() => {});
          },
        }),
    });
    void dying.pusher.drain();
    await waitFor('the customer to be created', async () => created(contract!.serviceId).length === 1);
    const stuck = await outboxOf(binding.id);
    assert.equal(stuck.status, 'in_progress');
    assert.equal(stuck.locked_by, dying.pusher.owner);

    // The process is gone (no more lease renewals); another one comes after the lease ran out.
    await dying.close();
    await db.knex('push_outbox').where({ id: stuck.id }).update({ locked_at: db.knex.raw(`now() - interval '2 minutes'`) });
    let createCalls = 0;
    const next = pusherFor(db.knex, sim, integration, {
      leaseMs: 60_000,
      wrapAdapter: (adapter) =>
        Object.assign(Object.create(adapter) as typeof adapter, {
          createCustomer(payload: Parameters<typeof adapter.createCustomer>[0]) {
            createCalls += 1;
            return adapter.createCustomer(payload);
          },
        }),
    });
    try {
      const tally = await next.pusher.drain();
      assert.equal(tally.delivered, 1);
      assert.equal(createCalls, 0, 'no second create was even tried');
    } finally {
      await next.close();
    }
    assert.equal(created(contract!.serviceId).length, 1, 'still exactly one customer');
    assert.equal(binds(port!).length, 1, 'one bind');
    const row = await outboxOf(binding.id);
    assert.equal(row.status, 'done');
    assert.equal(row.attempts, 2);
    const updates = sim.writes.customersUpdated.filter((w) => (w.body as { dados: { codigoIntegracao?: string } }).dados.codigoIntegracao === contract!.serviceId);
    assert.equal(updates.length, 1, 'the found customer was updated, not created again');
  });

  test('a live but slow pusher keeps its rows: the lease is renewed while it works', async () => {
    const [contract] = await seedContracts(db.knex, 1, { prefix: 'SLOW' });
    const [port] = takePorts(1);
    const binding = await confirmed(contract!, port!);
    const slow = pusherFor(db.knex, sim, integration, {
      leaseMs: 300,
      wrapAdapter: (adapter) =>
        Object.assign(Object.create(adapter) as typeof adapter, {
          async bind(request: Parameters<typeof adapter.bind>[0]) {
            await new Promise((resolve) => setTimeout(resolve, 1_000));
            return adapter.bind(request);
          },
        }),
    });
    const other = pusherFor(db.knex, sim, integration, { leaseMs: 300 });
    try {
      const slowRun = slow.pusher.drain();
      await waitFor('the slow pusher to be binding', async () => created(contract!.serviceId).length === 1);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal((await other.pusher.drain()).delivered, 0, 'nothing to take over');
      assert.equal((await slowRun).delivered, 1);
    } finally {
      await slow.close();
      await other.close();
    }
    assert.equal((await outboxOf(binding.id)).attempts, 1);
    assert.equal(binds(port!).length, 1);
  });

  test('an attempt that fails after the create: the retry finds the customer instead of creating a twin', async () => {
    const [contract] = await seedContracts(db.knex, 1, { prefix: 'LOST' });
    const [port] = takePorts(1);
    const binding = await confirmed(contract!, port!);
    let failures = 1;
    let createCalls = 0;
    const { pusher, close } = pusherFor(db.knex, sim, integration, {
      // Long enough that the first drain cannot claim the row again before it returns.
      backoff: { baseMs: 400, maxMs: 400 },
      wrapAdapter: (adapter) =>
        Object.assign(Object.create(adapter) as typeof adapter, {
          async createCustomer(payload: Parameters<typeof adapter.createCustomer>[0]) {
            createCalls += 1;
            const customer = await adapter.createCustomer(payload);
            if (failures-- > 0) throw new Error('connection reset while reading the answer');
            return customer;
          },
        }),
    });
    try {
      assert.equal((await pusher.drain()).retry, 1);
      await waitFor('the backoff', async () => (await outboxOf(binding.id)).next_attempt_at <= new Date());
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal((await pusher.drain()).delivered, 1);
    } finally {
      await close();
    }
    assert.equal(createCalls, 1, 'the retry looked the customer up instead of trying to create it');
    assert.equal(created(contract!.serviceId).length, 1);
    assert.equal(binds(port!).length, 1);
  });

  test('a bind answered 500 although it was applied is taken as done, not repeated', async () => {
    const [contract] = await seedContracts(db.knex, 1, { prefix: 'B500' });
    const [port] = takePorts(1);
    const binding = await confirmed(contract!, port!);
    sim.failBindsAfterSuccess(1);
    const { pusher, close } = pusherFor(db.knex, sim, integration);
    try {
      assert.equal((await pusher.drain()).delivered, 1);
    } finally {
      await close();
    }
    const bound = binds(port!);
    assert.equal(bound.length, 1, 'one bind call');
    assert.equal(bound[0]!.status, 500);
    assert.equal((await outboxOf(binding.id)).status, 'done');
    assert.notEqual(sim.network.ports.get(Number(port!.externalId))!.customerId, null);
  });

  test('confirming twice queues one push and delivers once', async () => {
    const [contract] = await seedContracts(db.knex, 1, { prefix: 'TWICE' });
    const [port] = takePorts(1);
    const { binding } = await createBinding(db.knex, { serviceId: contract!.serviceId, port: { portId: port!.id } });
    const first = await confirmBinding(db.knex, binding.id, push());
    const [second, third] = await Promise.all([confirmBinding(db.knex, binding.id, push()), confirmBinding(db.knex, binding.id, push())]);
    assert.equal(first.queued, true);
    assert.equal(second.queued, false);
    assert.equal(third.queued, false);
    assert.equal(second.binding.confirmedAt, first.binding.confirmedAt);
    assert.equal((await db.knex('push_outbox').where({ binding_id: binding.id })).length, 1);
    const { pusher, close } = pusherFor(db.knex, sim, integration);
    try {
      assert.equal((await pusher.drain()).delivered, 1);
      await confirmBinding(db.knex, binding.id, push());
      assert.equal((await pusher.drain()).delivered, 0);
    } finally {
      await close();
    }
    assert.equal(created(contract!.serviceId).length, 1);
    assert.equal(binds(port!).length, 1);
  });

  test('two pushers on separate database pools racing: each push delivered once', { skip: NEEDS_REAL_POSTGRES }, async () => {
    const contracts = await seedContracts(db.knex, 30, { prefix: 'RACE' });
    const racePorts = takePorts(30);
    for (const [i, contract] of contracts.entries()) await confirmed(contract, racePorts[i]!);
    const otherPool: Knex = createKnex({ url: testDatabaseUrl(), schema: db.schema, embedded: isEmbeddedTestDatabase });
    const a = pusherFor(db.knex, sim, integration, { capacity: 4 });
    const b = pusherFor(otherPool, sim, integration, { capacity: 4 });
    try {
      const [ta, tb] = await Promise.all([a.pusher.drain(), b.pusher.drain()]);
      assert.equal(ta.delivered + tb.delivered, 30);
      assert.ok(ta.delivered > 0 && tb.delivered > 0, `both took work (${ta.delivered} + ${tb.delivered})`);
    } finally {
      await a.close();
      await b.close();
      await otherPool.destroy();
    }
    for (const [i, contract] of contracts.entries()) {
      assert.equal(created(contract.serviceId).length, 1, `${contract.serviceId} created once`);
      assert.equal(binds(racePorts[i]!).length, 1, `${contract.serviceId} bound once`);
    }
  });

  test('a 4xx is parked with the platform message; a retry after fixing the data succeeds', async () => {
    const withState = simulatorIntegration(INTEGRATION, sim, { push: { fields: ['state'] } });
    const settings = { settingsFor: () => ({ enabled: true, fields: withState.push.fields }) };
    const [contract] = await seedContracts(db.knex, 1, { prefix: 'BADUF', extra: { state: 'Sao Paulo' } });
    const [port] = takePorts(1);
    const binding = await confirmed(contract!, port!, settings);
    const { pusher, close } = pusherFor(db.knex, sim, withState);
    try {
      assert.equal((await pusher.drain()).parked, 1);
      const parked = await outboxOf(binding.id);
      assert.equal(parked.status, 'failed');
      assert.equal(parked.last_status, 400);
      assert.match(parked.last_error, /UF deve ter 2 letras/);
      assert.doesNotMatch(parked.last_error, new RegExp(contract!.document));
      assert.equal((await db.knex('bindings').where({ id: binding.id }).first()).sync_state, 'failed');
      assert.equal(created(contract!.serviceId).length, 0);

      assert.equal((await pusher.drain()).parked, 0, 'a parked push is not tried again on its own');

      const fixed = await upsertCustomers(db.knex, [{ ...contract, status: 'active', state: 'SP' }]);
      assert.equal(fixed.updated, 1);
      assert.ok(await retryPush(db.knex, parked.id));
      assert.equal((await pusher.drain()).delivered, 1);
    } finally {
      await close();
    }
    const [write] = created(contract!.serviceId);
    assert.equal((write!.body as { dados: { estado: string } }).dados.estado, 'SP');
    assert.equal(binds(port!).length, 1);
    assert.equal((await outboxOf(binding.id)).status, 'done');
  });

  test('local is the box position, not the house; a port taken on the platform (409) is parked with its message', async () => {
    const [house, late] = await seedContracts(db.knex, 2, { prefix: 'LOCAL' });
    const [port, takenPort] = takePorts(2);
    await confirmed(house!, port!);
    // Someone else takes the second port on the platform after the last sync.
    sim.addCustomerOnPort(takenPort!.sim.id, { nome: 'Vizinho', cpfCnpj: cpfFor(4321) });
    const b2 = await confirmed(late!, takenPort!);
    const { pusher, close } = pusherFor(db.knex, sim, integration);
    try {
      const tally = await pusher.drain();
      assert.equal(tally.delivered, 1);
      assert.equal(tally.parked, 1);
    } finally {
      await close();
    }
    const box = sim.network.boxes.get(port!.sim.containerId) ?? sim.network.poles.get(port!.sim.containerId)!;
    const body = binds(port!)[0]!.body as { local: { latitude: number; longitude: number } };
    assert.deepEqual(body.local, { latitude: box.lat, longitude: box.lon }, 'the box position (the contract is at -22.9, -47.06)');
    assert.equal(binds(port!)[0]!.status, 200);

    assert.equal(binds(takenPort!).at(-1)!.status, 409);
    const parked = await outboxOf(b2.id);
    assert.equal(parked.status, 'failed');
    assert.equal(parked.last_status, 409);
    assert.match(parked.last_error, /A porta já está em uso por outro cliente/);
    assert.equal((await db.knex('bindings').where({ id: b2.id }).first()).sync_state, 'failed');
    assert.notEqual(sim.network.ports.get(takenPort!.sim.id)!.customerId, null);
  });

  test('cancelling: an undelivered bind is withdrawn; a delivered one is unbound on the platform', async () => {
    const [early, late] = await seedContracts(db.knex, 2, { prefix: 'CANCEL' });
    const [p1, p2] = takePorts(2);
    const b1 = await confirmed(early!, p1!);
    const cancelled = await cancelBinding(db.knex, b1.id, push());
    assert.equal(cancelled.unbindQueued, false);
    assert.equal(cancelled.binding.status, 'cancelled');
    assert.equal((await outboxOf(b1.id)).status, 'cancelled');

    const b2 = await confirmed(late!, p2!);
    const { pusher, close } = pusherFor(db.knex, sim, integration);
    try {
      assert.equal((await pusher.drain()).delivered, 1);
      assert.notEqual(sim.network.ports.get(Number(p2!.externalId))!.customerId, null);
      const { unbindQueued, binding } = await cancelBinding(db.knex, b2.id, push());
      assert.equal(unbindQueued, true);
      assert.equal(binding.pushes.map((p) => p.action).join(), 'bind,unbind');
      assert.equal((await cancelBinding(db.knex, b2.id, push())).unbindQueued, false, 'cancelling twice is a no-op');
      assert.equal((await pusher.drain()).delivered, 1);
    } finally {
      await close();
    }
    assert.equal(created(early!.serviceId).length, 0, 'nothing written for the withdrawn one');
    assert.equal(sim.network.ports.get(Number(p2!.externalId))!.customerId, null, 'unbound on the platform');
    assert.equal(sim.writes.unbinds.filter((u) => u.portId === p2!.externalId).length, 1);
  });

  test('200 confirmations with the rate limit enforced: all delivered, no 429', async () => {
    const count = 200;
    sim.setLimits({ concurrency: 5, requestsPerMinute: 100_000 });
    const limited = simulatorIntegration(INTEGRATION, sim, { http: { concurrency: 5, requestsPerMinute: 60_000, timeoutMs: 5_000, retries: 1 } });
    const contracts = await seedContracts(db.knex, count, { prefix: 'BULK' });
    const bulkPorts = takePorts(count);
    for (const [i, contract] of contracts.entries()) await confirmed(contract, bulkPorts[i]!);
    sim.resetStats();
    const { pusher, close } = pusherFor(db.knex, sim, limited);
    const startedAt = performance.now();
    try {
      pusher.start();
      await waitFor(
        'all pushes delivered',
        async () => Number((await db.knex('push_outbox').where('status', 'done').whereIn('binding_id', db.knex('bindings as b').join('service_contracts as s', 's.id', 'b.service_contract_id').where('s.service_id', 'like', 'BULK%').select('b.id')).count({ n: '*' }).first())!.n) === count,
        60_000,
      );
    } finally {
      await close();
      sim.setLimits({ concurrency: 10, requestsPerMinute: 100_000 });
    }
    const seconds = (performance.now() - startedAt) / 1000;
    assert.equal(sim.stats.rateLimited, 0, 'no 429 from the platform');
    assert.ok(sim.stats.maxInFlight <= 5);
    for (const [i, contract] of contracts.entries()) {
      assert.equal(created(contract.serviceId).length, 1);
      assert.equal(binds(bulkPorts[i]!).length, 1);
    }
    console.log(`# ${count} pushes in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(0)}/s), ${sim.stats.requests} platform requests`);
  });
});

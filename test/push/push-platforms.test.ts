import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cancelBinding, confirmBinding, createBinding } from '../../src/bindings/bindings.service.ts';
import type { IntegrationConfig } from '../../src/config/config.schema.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { PLATFORMS } from '../helpers/platforms.ts';
import { pusherFor, seedContracts, seedFreeServicePorts, seedIntegration, simulatorIntegration, waitFor, type SeededPort, type TestContract } from './helpers/push-fixtures.ts';

/** The push on each platform's simulator over HTTPS, through the platform's real adapter. */
for (const platform of PLATFORMS) {
  describe(`push to the ${platform.name} simulator`, () => {
    const INTEGRATION = `push-${platform.name}`;
    let db: TestDatabase;
    let sim: RunningSimulator;
    let integration: IntegrationConfig;
    let ports: SeededPort[];
    let nextPort = 0;
    const settings = (fields = integration.push.fields) => ({ settingsFor: (id: string) => (id === INTEGRATION ? { enabled: true, fields } : null) });

    before(async () => {
      db = await createTestDatabase();
      sim = await startSimulator({ size: 1500, seed: 11, https: true, limits: { concurrency: 10, requestsPerMinute: 100_000 }, ...platform.simulator });
      integration = simulatorIntegration(INTEGRATION, sim, {}, platform);
      await seedIntegration(db.knex, INTEGRATION, sim.url, platform.configPlatform);
      ports = await seedFreeServicePorts(db.knex, INTEGRATION, sim, 10, platform);
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
    async function confirmed(contract: TestContract, port: SeededPort, s = settings()) {
      const { binding } = await createBinding(db.knex, { serviceId: contract.serviceId, port: { portId: port.id } });
      return (await confirmBinding(db.knex, binding.id, s)).binding;
    }
    const outboxOf = (bindingId: number, action = 'bind') => db.knex('push_outbox').where({ binding_id: bindingId, action }).first();
    const onPort = (port: SeededPort) => sim.network.ports.get(port.sim.id)!.customerId;

    test('the platform down for the first attempts: once it is back, exactly one customer and one tie to the port', async () => {
      const [contract] = (await seedContracts(db.knex, 1, { prefix: 'DOWN' })) as [TestContract];
      const [port] = takePorts(1) as [SeededPort];
      const binding = await confirmed(contract, port);
      sim.setDown(7);
      const { pusher, close } = pusherFor(db.knex, sim, integration);
      try {
        pusher.start();
        const row = await waitFor('the push to be delivered', async () => {
          const r = await outboxOf(binding.id);
          return r.status === 'done' ? r : null;
        });
        assert.ok(row.attempts > 1, `took several attempts (${row.attempts})`);
      } finally {
        await close();
      }
      assert.ok(sim.stats.downAnswers >= 7);
      assert.equal(platform.customersCreated(sim, contract.serviceId).length, 1, 'one customer created');
      assert.equal(platform.bindsTo(sim, port.sim), 1, 'one tie to the port');
      const customerId = onPort(port);
      assert.notEqual(customerId, null);
      const after = await db.knex('bindings').where({ id: binding.id }).first();
      assert.equal(after.sync_state, 'pushed');
      assert.equal(after.platform_customer_external_id, platform.customerId(customerId!));
    });

    test('a 500 after the platform made the tie (the answer lost): exactly one customer and one tie', async () => {
      const [contract] = (await seedContracts(db.knex, 1, { prefix: 'LOST' })) as [TestContract];
      const [port] = takePorts(1) as [SeededPort];
      const binding = await confirmed(contract, port);
      sim.failBindsAfterSuccess(1);
      const { pusher, close } = pusherFor(db.knex, sim, integration);
      try {
        for (let i = 0; i < 4 && (await outboxOf(binding.id)).status !== 'done'; i += 1) {
          await pusher.drain();
          await db.knex('push_outbox').where({ binding_id: binding.id, status: 'pending' }).update({ next_attempt_at: db.knex.fn.now() });
        }
      } finally {
        await close();
      }
      assert.equal((await outboxOf(binding.id)).status, 'done');
      const holders = [...sim.network.customers.values()].filter((c) => c.codigoIntegracao === contract.serviceId);
      assert.equal(holders.length, 1, 'one customer with the code on the platform: no twin');
      assert.equal(onPort(port), holders[0]!.id, 'the port shows it');
      assert.ok(platform.bindsTo(sim, port.sim) <= 1, 'no second tie made');
      assert.equal((await db.knex('bindings').where({ id: binding.id }).first()).platform_customer_external_id, platform.customerId(holders[0]!.id));
    });

    test('the customer record carries the whitelisted fields and nothing else', async () => {
      const extra = { email: 'cliente@example.com', phone: '19 99999-0000', address: 'Rua A, 1', city: 'Campinas', state: 'SP', zipCode: '13000-000' };
      const [minimal, withEmail] = (await seedContracts(db.knex, 2, { prefix: 'FIELDS', extra })) as [TestContract, TestContract];
      const [p1, p2] = takePorts(2) as [SeededPort, SeededPort];
      const binding1 = await confirmed(minimal, p1);
      const emailIntegration = simulatorIntegration(INTEGRATION, sim, { push: { fields: ['email'] } }, platform);
      const binding2 = await confirmed(withEmail, p2, settings(emailIntegration.push.fields));
      const { pusher, close } = pusherFor(db.knex, sim, integration);
      const second = pusherFor(db.knex, sim, emailIntegration);
      try {
        // Each binding goes out through a pusher configured like its integration.
        const held = await outboxOf(binding2.id);
        await db.knex('push_outbox').where({ id: held.id }).update({ next_attempt_at: db.knex.raw(`now() + interval '1 hour'`) });
        assert.equal((await pusher.drain()).delivered, 1);
        await db.knex('push_outbox').where({ id: held.id }).update({ next_attempt_at: db.knex.fn.now() });
        assert.equal((await second.pusher.drain()).delivered, 1);
      } finally {
        await close();
        await second.close();
      }
      assert.equal((await outboxOf(binding1.id)).status, 'done');
      const [first] = platform.customersCreated(sim, minimal.serviceId);
      assert.ok(first, 'created with its integration code');
      assert.deepEqual(Object.keys(first.fields).sort(), platform.whitelistFields([]));
      assert.ok(Object.values(first.fields).includes(minimal.name));
      assert.ok(Object.values(first.fields).some((value) => typeof value === 'string' && new RegExp(`\\b${minimal.serviceId}\\b`).test(value) && value !== minimal.serviceId), 'the service id in the observation');
      const [withExtra] = platform.customersCreated(sim, withEmail.serviceId);
      assert.deepEqual(Object.keys(withExtra!.fields).sort(), platform.whitelistFields(['email']));
      if (platform.writesExtras) assert.ok(Object.values(withExtra!.fields).includes(extra.email));
      for (const written of platform.customersWritten(sim)) {
        for (const value of Object.values(written.fields)) assert.ok(!String(value).includes(extra.phone) && !String(value).includes(extra.address), 'no field outside the whitelist');
      }
    });

    test('cancelling a delivered binding unbinds the customer from the port', async () => {
      const [contract] = (await seedContracts(db.knex, 1, { prefix: 'CANCEL' })) as [TestContract];
      const [port] = takePorts(1) as [SeededPort];
      const binding = await confirmed(contract, port);
      const { pusher, close } = pusherFor(db.knex, sim, integration);
      try {
        assert.equal((await pusher.drain()).delivered, 1);
        assert.notEqual(onPort(port), null);
        const { unbindQueued } = await cancelBinding(db.knex, binding.id, settings());
        assert.equal(unbindQueued, true);
        assert.equal((await pusher.drain()).delivered, 1);
      } finally {
        await close();
      }
      assert.equal((await outboxOf(binding.id, 'unbind')).status, 'done');
      assert.equal(onPort(port), null, 'the port is free on the platform');
      assert.equal(platform.customersCreated(sim, contract.serviceId).length, 1);
    });
  });
}

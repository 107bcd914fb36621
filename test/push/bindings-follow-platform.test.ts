import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BindingError } from '../../src/bindings/binding-error.ts';
import { cancelBinding, confirmBinding, createBinding } from '../../src/bindings/bindings.service.ts';
import type { IntegrationConfig } from '../../src/config/config.schema.ts';
import { upsertCustomers } from '../../src/customers/customers.service.ts';
import { createPlatformAdapter } from '../../src/platforms/adapter-factory.ts';
import { retryPush } from '../../src/push/outbox.repository.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { runIssues, type RunRecord } from '../../src/sync/sync-runs.repository.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { createHarness, type Harness } from '../sync/fixtures/sync-harness.ts';
import { pusherFor, seedContracts, simulatorIntegration, type TestContract, type TestPusher } from './helpers/push-fixtures.ts';

const INTEGRATION = 'follow';

interface FreePort {
  id: number;
  external_id: string;
  number: number;
  splitter_external_id: string;
}

/**
 * Bindings against what the platform shows night after night: a real sync (simulator over
 * HTTPS, real PostgreSQL), the pusher, and hand edits made on the platform in between.
 */
describe('bindings follow the platform', () => {
  let db: TestDatabase;
  let sim: RunningSimulator;
  let integration: IntegrationConfig;
  let h: Harness;
  let tp: TestPusher;
  let contracts: TestContract[];
  let nextContract = 0;
  const usedPorts = new Set<number>();
  const push = { settingsFor: (id: string) => (id === INTEGRATION ? { enabled: true, fields: integration.push.fields } : null) };

  before(async () => {
    db = await createTestDatabase();
    sim = await startSimulator({ size: 1200, seed: 31, https: true, limits: { concurrency: 20, requestsPerMinute: 100_000 } });
    integration = simulatorIntegration(INTEGRATION, sim);
    h = await createHarness(db.knex, () => createPlatformAdapter(integration, { ca: sim.ca ?? undefined }), integration);
    tp = pusherFor(db.knex, sim, integration);
    contracts = await seedContracts(db.knex, 30, { prefix: 'FW' });
    await syncOk();
  });
  after(async () => {
    await tp?.close();
    await sim?.close();
    await db?.destroy();
  });

  async function syncOk(options: { full?: boolean } = {}): Promise<RunRecord> {
    const run = await h.sync(options);
    assert.equal(run.status, 'succeeded', run.error ?? '');
    return run;
  }

  const contract = () => {
    const next = contracts[nextContract++];
    assert.ok(next, 'enough contracts');
    return next;
  };

  /** A synced free service port the simulator shows free too, on a splitter no other test uses. */
  async function freePort(): Promise<FreePort> {
    const rows = (await db.knex('ports as p')
      .join('splitters as s', 's.id', 'p.splitter_id')
      .join('boxes as b', 'b.id', 's.box_id')
      .where({ 'p.integration_id': INTEGRATION, 's.role': 'service', 'p.available': true })
      // Planned items (modoProjeto) are never bindable.
      .where({ 'p.planned': false, 's.planned': false, 'b.planned': false })
      .whereNull('p.platform_customer_external_id')
      .whereNull('p.removed_at')
      .whereNull('s.removed_at')
      .orderBy('p.id')
      .select('p.id', 'p.external_id', 'p.number', 's.external_id as splitter_external_id')) as FreePort[];
    const usedSplitters = new Set(rows.filter((r) => usedPorts.has(r.id)).map((r) => r.splitter_external_id));
    const port = rows.find((r) => !usedPorts.has(r.id) && !usedSplitters.has(r.splitter_external_id) && sim.network.ports.get(Number(r.external_id))?.customerId === null);
    assert.ok(port, 'a free port');
    usedPorts.add(port.id);
    return port;
  }

  const binding = (id: number) => db.knex('bindings').where({ id }).first();
  const bindPush = (bindingId: number) => db.knex('push_outbox').where({ binding_id: bindingId, action: 'bind' }).first();
  const bindingIssues = async (run: RunRecord) => (await runIssues(db.knex, run.id)).filter((i) => i.kind === 'bindings');
  const simPort = (port: FreePort) => sim.network.ports.get(Number(port.external_id))!;

  /** Bound, confirmed, pushed, and seen in sync by a sync. */
  async function bindAndDeliver(port: FreePort, c = contract()) {
    const { binding: created } = await createBinding(db.knex, { serviceId: c.serviceId, port: { portId: port.id } });
    await confirmBinding(db.knex, created.id, push);
    await tp.pusher.drain();
    await syncOk();
    const row = await binding(created.id);
    assert.equal(row.sync_state, 'in_sync', 'the sync saw the pushed customer on the port');
    return { id: created.id as number, customer: row.platform_customer_external_id as string, contract: c };
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

  test('a customer moved to another port on the platform: the binding follows it, and both ports bind as the platform shows them', async () => {
    const from = await freePort();
    const to = await freePort();
    const bound = await bindAndDeliver(from);
    sim.moveCustomerToPort(Number(bound.customer), Number(to.external_id));

    const run = await syncOk();
    const row = await binding(bound.id);
    assert.equal(row.port_id, to.id, 'the binding moved with its customer');
    assert.equal(row.status, 'confirmed');
    assert.equal(row.sync_state, 'in_sync');
    const issues = await bindingIssues(run);
    assert.deepEqual(issues.map((i) => [i.code, i.externalId]), [['binding_followed_customer', to.external_id]]);
    assert.match(issues[0]!.reason, new RegExp(`port ${from.number} \\(id ${from.external_id}\\).* shows nobody`));
    assert.match(issues[0]!.reason, new RegExp(`now on port ${to.number} \\(id ${to.external_id}\\)`));

    // Binding the contract to its new port is what already is; the old port is free for another.
    const again = await createBinding(db.knex, { serviceId: bound.contract.serviceId, port: { portId: to.id } });
    assert.equal(again.created, false);
    assert.equal(again.binding.id, bound.id);
    const other = await createBinding(db.knex, { serviceId: contract().serviceId, port: { portId: from.id } });
    assert.equal(other.created, true);
    await cancelBinding(db.knex, other.binding.id, push);

    const quiet = await syncOk();
    assert.deepEqual(await bindingIssues(quiet), [], 'nothing more to say the next night');
    assert.equal((await binding(bound.id)).sync_state, 'in_sync');
  });

  test('a customer deleted on the platform by hand: the binding is kept, demoted and reported; retrying its push binds it again', async () => {
    const port = await freePort();
    const bound = await bindAndDeliver(port);
    sim.deleteCustomer(Number(bound.customer));
    const bindsBefore = sim.writes.binds.length;

    const run = await syncOk();
    const row = await binding(bound.id);
    assert.equal(row.status, 'confirmed', 'never lost');
    assert.equal(row.port_id, port.id);
    assert.equal(row.sync_state, 'failed');
    const parked = await bindPush(bound.id);
    assert.equal(parked.status, 'failed');
    assert.match(parked.last_error, /^platform_diverged: /);
    const issues = await bindingIssues(run);
    assert.deepEqual(issues.map((i) => [i.code, i.externalId]), [['binding_customer_deleted', port.external_id]]);
    assert.match(issues[0]!.reason, new RegExp(`port ${port.number} \\(id ${port.external_id}\\).* shows nobody`));
    assert.match(issues[0]!.reason, new RegExp(`customer ${bound.customer} is no longer on the platform`));
    assert.match(issues[0]!.reason, new RegExp(`/v1/pushes/${parked.id}/retry`));

    await tp.pusher.drain();
    assert.equal(sim.writes.binds.length, bindsBefore, 'nothing is pushed again by itself');
    const taken = await refusal(createBinding(db.knex, { serviceId: contract().serviceId, port: { portId: port.id } }));
    assert.equal(taken.code, 'port_taken');
    assert.match(taken.message, /not on the platform/);

    assert.ok(await retryPush(db.knex, parked.id));
    await tp.pusher.drain();
    assert.notEqual(simPort(port).customerId, null, 'bound again on the platform');
    const back = await syncOk();
    assert.deepEqual(await bindingIssues(back), []);
    assert.equal((await binding(bound.id)).sync_state, 'in_sync');
    assert.equal((await bindPush(bound.id)).status, 'done');
  });

  test('a customer unbound by hand, and another customer put on a port by hand: demoted and reported, never pushed back', async () => {
    const unboundPort = await freePort();
    const unbound = await bindAndDeliver(unboundPort);
    const takenPort = await freePort();
    const taken = await bindAndDeliver(takenPort);
    sim.unbindPort(Number(unboundPort.external_id));
    sim.unbindPort(Number(takenPort.external_id));
    const intruder = sim.addCustomerOnPort(Number(takenPort.external_id), { nome: 'Cliente Posto a Mao', cpfCnpj: null });
    const bindsBefore = sim.writes.binds.length;

    const run = await syncOk();
    const issues = await bindingIssues(run);
    assert.deepEqual(issues.map((i) => [i.code, i.externalId]).sort(), [
      ['binding_port_taken_on_platform', takenPort.external_id],
      ['binding_unbound_on_platform', unboundPort.external_id],
    ].sort());
    const byCode = new Map(issues.map((i) => [i.code, i.reason]));
    assert.match(byCode.get('binding_unbound_on_platform')!, new RegExp(`shows nobody.*customer ${unbound.customer} is on no synced service port`));
    assert.match(byCode.get('binding_port_taken_on_platform')!, new RegExp(`shows customer ${intruder.id}, not binding ${taken.id}`));
    for (const id of [unbound.id, taken.id]) {
      const row = await binding(id);
      assert.equal(row.status, 'confirmed');
      assert.equal(row.sync_state, 'failed');
    }
    await tp.pusher.drain();
    assert.equal(sim.writes.binds.length, bindsBefore);
    assert.equal(simPort(takenPort).customerId, intruder.id, 'the hand edit stands');

    // Demoted once: the next night repeats nothing.
    assert.deepEqual(await bindingIssues(await syncOk()), []);
  });

  test('a splitter replaced by a new one, its customer re-patched there: the binding follows off the removed port', async () => {
    const from = await freePort();
    const bound = await bindAndDeliver(from);
    const old = sim.network.splitters.get(Number(from.splitter_external_id))!;
    const replacement = sim.addSplitter(old.containerId, { service: true, ratioOut: 8 });
    sim.moveCustomerToPort(Number(bound.customer), replacement.ports[2]!.id);
    sim.removeSplitter(old.id);

    const run = await syncOk({ full: true });
    const row = await binding(bound.id);
    const target = await db.knex('ports').where({ integration_id: INTEGRATION, external_id: String(replacement.ports[2]!.id) }).first('id', 'number');
    assert.equal(row.port_id, target.id);
    assert.equal(row.sync_state, 'in_sync');
    const issues = (await runIssues(db.knex, run.id)).filter((i) => i.kind === 'bindings' || i.code === 'removed_port_with_binding');
    assert.deepEqual(issues.map((i) => i.code), ['binding_followed_customer'], 'no removed_port_with_binding: the binding left the removed port');
    assert.match(issues[0]!.reason, new RegExp(`port ${from.number} \\(id ${from.external_id}\\).* is gone from the platform; .*now on port 3 `));
  });

  test('a customer moved onto a port another binding holds: not followed, demoted, and the holder named', async () => {
    const from = await freePort();
    const to = await freePort();
    const bound = await bindAndDeliver(from);
    const holder = await createBinding(db.knex, { serviceId: contract().serviceId, port: { portId: to.id } });
    sim.moveCustomerToPort(Number(bound.customer), Number(to.external_id));

    const run = await syncOk();
    const row = await binding(bound.id);
    assert.equal(row.port_id, from.id);
    assert.equal(row.sync_state, 'failed');
    const issues = await bindingIssues(run);
    assert.deepEqual(issues.map((i) => i.code), ['binding_customer_moved']);
    assert.match(issues[0]!.reason, new RegExp(`now on port ${to.number} \\(id ${to.external_id}\\).*which binding ${holder.binding.id} holds`));
    assert.equal((await binding(holder.binding.id)).port_id, to.id);
  });

  test('a customer moved onto a planned port (modoProjeto): not followed, since a planned port is never bindable', async () => {
    const from = await freePort();
    const planned = (await db.knex('ports as p')
      .join('splitters as s', 's.id', 'p.splitter_id')
      .join('boxes as b', 'b.id', 's.box_id')
      .where({ 'p.integration_id': INTEGRATION, 's.role': 'service' })
      .whereNull('p.platform_customer_external_id')
      .whereNull('p.removed_at')
      .whereRaw('(p.planned OR s.planned OR b.planned)')
      .orderBy('p.id')
      .first('p.id', 'p.external_id', 'p.number')) as { id: number; external_id: string; number: number } | undefined;
    assert.ok(planned, 'the simulated network has a planned service port');
    const bound = await bindAndDeliver(from);
    sim.moveCustomerToPort(Number(bound.customer), Number(planned.external_id));

    const run = await syncOk();
    const row = await binding(bound.id);
    assert.equal(row.port_id, from.id);
    assert.equal(row.sync_state, 'failed');
    const issues = await bindingIssues(run);
    assert.deepEqual(issues.map((i) => i.code), ['binding_customer_moved']);
    assert.match(issues[0]!.reason, /still being designed on the platform \(planned\)/);
  });

  test('a binding changed while the sync was reading (a push delivered meanwhile) is left to the next run', async () => {
    const port = await freePort();
    const bound = await bindAndDeliver(port);
    sim.unbindPort(Number(port.external_id));
    // As if the pusher had delivered it after the run began reading the platform.
    await db.knex('bindings').where({ id: bound.id }).update({ updated_at: db.knex.raw(`now() + interval '1 hour'`) });
    const run = await syncOk();
    assert.deepEqual(await bindingIssues(run), []);
    assert.equal((await binding(bound.id)).sync_state, 'in_sync');

    await db.knex('bindings').where({ id: bound.id }).update({ updated_at: db.knex.raw(`now() - interval '1 hour'`) });
    const next = await syncOk();
    assert.deepEqual((await bindingIssues(next)).map((i) => i.code), ['binding_unbound_on_platform']);
  });

  test('a push parked because its splitter stopped being a service splitter is queued again by the sync that sees it back', async () => {
    const port = await freePort();
    const c = contract();
    const { binding: created } = await createBinding(db.knex, { serviceId: c.serviceId, port: { portId: port.id } });
    await confirmBinding(db.knex, created.id, push);
    const splitterId = Number(port.splitter_external_id);

    sim.setSplitterService(splitterId, false);
    await syncOk();
    assert.notEqual((await db.knex('ports').where({ id: port.id }).first()).removed_at, null, 'the port is gone with its service splitter');
    await tp.pusher.drain();
    const parked = await bindPush(created.id);
    assert.equal(parked.status, 'failed');
    assert.match(parked.last_error, /^port_removed: /);
    assert.equal(simPort(port).customerId, null);

    sim.setSplitterService(splitterId, true);
    const run = await syncOk();
    const requeued = await bindPush(created.id);
    assert.equal(requeued.status, 'pending');
    assert.equal(requeued.attempts, 0);
    assert.equal((await binding(created.id)).sync_state, 'queued');
    const issues = await bindingIssues(run);
    assert.deepEqual(issues.map((i) => [i.code, i.externalId]), [['push_requeued', port.external_id]]);
    assert.match(issues[0]!.reason, /is back on the platform.*parked as "port_removed: /);

    await tp.pusher.drain();
    assert.notEqual(simPort(port).customerId, null, 'delivered');
    await syncOk();
    assert.equal((await binding(created.id)).sync_state, 'in_sync');
  });
});

describe('a contract whose status changes in the ERP after its binding was confirmed', () => {
  let db: TestDatabase;
  let sim: RunningSimulator;
  let integration: IntegrationConfig;
  let h: Harness;
  let tp: TestPusher;
  let contracts: TestContract[];
  let nextContract = 0;
  const push = { settingsFor: (id: string) => (id === INTEGRATION ? { enabled: true, fields: integration.push.fields } : null) };

  before(async () => {
    db = await createTestDatabase();
    sim = await startSimulator({ size: 600, seed: 32, https: true, limits: { concurrency: 20, requestsPerMinute: 100_000 } });
    integration = simulatorIntegration(INTEGRATION, sim);
    h = await createHarness(db.knex, () => createPlatformAdapter(integration, { ca: sim.ca ?? undefined }), integration);
    tp = pusherFor(db.knex, sim, integration);
    contracts = await seedContracts(db.knex, 10, { prefix: 'ST' });
    const run = await h.sync();
    assert.equal(run.status, 'succeeded', run.error ?? '');
  });
  after(async () => {
    await tp?.close();
    await sim?.close();
    await db?.destroy();
  });

  let portCursor = 0;
  async function freePort(): Promise<{ id: number; external_id: string }> {
    const rows = (await db.knex('ports as p')
      .join('splitters as s', 's.id', 'p.splitter_id')
      .join('boxes as b', 'b.id', 's.box_id')
      .where({ 'p.integration_id': INTEGRATION, 's.role': 'service', 'p.available': true })
      // Planned items (modoProjeto) are never bindable.
      .where({ 'p.planned': false, 's.planned': false, 'b.planned': false })
      .whereNull('p.platform_customer_external_id')
      .whereNull('p.removed_at')
      .orderBy('p.id')
      .select('p.id', 'p.external_id')) as { id: number; external_id: string }[];
    const port = rows[portCursor++];
    assert.ok(port);
    return port;
  }
  const contract = () => contracts[nextContract++]!;
  const importStatus = async (c: TestContract, status: string) => {
    const result = await upsertCustomers(db.knex, [{ ...c, status }]);
    assert.deepEqual(result.errors, []);
  };
  async function confirmed(c: TestContract) {
    const port = await freePort();
    const { binding } = await createBinding(db.knex, { serviceId: c.serviceId, port: { portId: port.id } });
    await confirmBinding(db.knex, binding.id, push);
    return { id: binding.id, port };
  }
  const pushes = (bindingId: number) => db.knex('push_outbox').where({ binding_id: bindingId }).orderBy('id').select('action', 'status', 'last_error');

  test('cancelled by an import after delivery: the binding is cancelled and the customer unbound on the platform', async () => {
    const c = contract();
    const { id, port } = await confirmed(c);
    await tp.pusher.drain();
    assert.notEqual(sim.network.ports.get(Number(port.external_id))!.customerId, null);

    await importStatus(c, 'cancelled');
    const row = await db.knex('bindings').where({ id }).first();
    assert.equal(row.status, 'cancelled');
    assert.deepEqual((await pushes(id)).map((p) => [p.action, p.status]), [
      ['bind', 'done'],
      ['unbind', 'pending'],
    ]);
    await tp.pusher.drain();
    assert.equal(sim.network.ports.get(Number(port.external_id))!.customerId, null, 'unbound on the platform');
  });

  test('cancelled before delivery, by a path that bypassed the import: the pusher re-checks, pushes nothing and cancels the binding', async () => {
    const c = contract();
    const { id, port } = await confirmed(c);
    await db.knex('service_contracts').where({ service_id: c.serviceId }).update({ status: 'cancelled' });
    const binds = sim.writes.binds.length;
    const outcome = await tp.pusher.drain();
    assert.equal(outcome.cancelled, 1);
    assert.equal(sim.writes.binds.length, binds, 'nothing pushed');
    assert.equal(sim.network.ports.get(Number(port.external_id))!.customerId, null);
    assert.equal((await db.knex('bindings').where({ id }).first()).status, 'cancelled');
    assert.deepEqual((await pushes(id)).map((p) => [p.action, p.status]), [['bind', 'cancelled']], 'never reached the platform: no unbind');
    assert.match((await pushes(id))[0]!.last_error, /was cancelled in the ERP before delivery/);
  });

  test('suspended before delivery: the push waits (parked), the binding is kept, and goes out once the contract is active again', async () => {
    const c = contract();
    const { id, port } = await confirmed(c);
    await importStatus(c, 'suspended');
    assert.equal((await db.knex('bindings').where({ id }).first()).status, 'confirmed');
    await tp.pusher.drain();
    const [parked] = await pushes(id);
    assert.equal(parked!.status, 'failed');
    assert.match(parked!.last_error, /^contract_not_active: service contract \S+ is suspended/);
    assert.equal(sim.network.ports.get(Number(port.external_id))!.customerId, null);

    await importStatus(c, 'active');
    assert.equal((await pushes(id))[0]!.status, 'pending');
    await tp.pusher.drain();
    assert.equal((await pushes(id))[0]!.status, 'done');
    assert.notEqual(sim.network.ports.get(Number(port.external_id))!.customerId, null);
    assert.equal((await db.knex('bindings').where({ id }).first()).status, 'confirmed');
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPlatformAdapter } from '../../src/platforms/adapter-factory.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { removalGuardViolation, type GuardedRemoval } from '../../src/sync/removal-guard.ts';
import { simulatorIntegration } from '../push/helpers/push-fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { FakePlatform, emptyNetwork, pole, type FakeNetwork } from './fixtures/fake-platform.ts';
import { LAT, LON, sampleNetwork } from './fixtures/sample-network.ts';
import { createHarness, integrationConfig, nonZero } from './fixtures/sync-harness.ts';

describe('mass-removal guard: the verdict', () => {
  const defaults = { percent: 30, minCount: 10 };
  const plan = (existing: number, vanishing: number, kind: GuardedRemoval['kind'] = 'poles'): GuardedRemoval[] => [{ kind, existing, vanishing }];
  // [case, plans, settings, trips]
  const corpus: [string, GuardedRemoval[], { percent: number; minCount: number }, boolean][] = [
    ['1 of 2 poles (50%, but one)', plan(2, 1), defaults, false],
    ['1 of 3 customers', plan(3, 1, 'customers'), defaults, false],
    ['2 of 2 poles: an empty list', plan(2, 2), defaults, true],
    ['5 of 5 poles: an empty list', plan(5, 5), defaults, true],
    ['1 of 1 pole: too small to tell', plan(1, 1), defaults, false],
    ['10 of 20: at the minimum count, not over it', plan(20, 10), defaults, false],
    ['11 of 20: over both', plan(20, 11), defaults, true],
    ['11 of 100: many, but 11%', plan(100, 11), defaults, false],
    ['30 of 100: exactly the share, not over it', plan(100, 30), defaults, false],
    ['31 of 100', plan(100, 31), defaults, true],
    ['3 of 5 with minCount 2', plan(5, 3), { percent: 30, minCount: 2 }, true],
    ['3 of 5 with minCount 3', plan(5, 3), { percent: 30, minCount: 3 }, false],
    ['1 of 3 with minCount 0', plan(3, 1), { percent: 30, minCount: 0 }, true],
    ['nothing stored', plan(0, 0), defaults, false],
    ['nothing vanishing', plan(1000, 0), { percent: 0, minCount: 0 }, false],
  ];
  for (const [name, plans, settings, trips] of corpus) {
    test(name, () => {
      const verdict = removalGuardViolation(plans, settings);
      assert.equal(verdict !== null, trips, verdict ?? 'no violation');
      if (verdict) assert.match(verdict, /mass-removal guard: this run would remove .*--force/);
    });
  }
  test('the verdict names every kind over the limit, with both settings', () => {
    const verdict = removalGuardViolation([...plan(40, 20), ...plan(300, 200, 'ports'), ...plan(50, 1, 'customers')], defaults);
    assert.match(verdict ?? '', /remove 20 of 40 poles \(50\.0%\), 200 of 300 ports \(66\.7%\), more than the 30% \(sync\.removalGuardPercent\) and more than 10 \(sync\.removalGuardMinCount\)/);
  });
});

describe('mass-removal guard in a sync (real PostgreSQL)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db?.destroy());

  test('removing 1 of 2 poles is merged; removing both (an empty list) fails the run until forced', async () => {
    const n: FakeNetwork = emptyNetwork();
    n.poles = [pole('P1', LON, LAT), pole('P2', LON + 0.001, LAT)];
    const h = await createHarness(db.knex, () => new FakePlatform(n), integrationConfig({ id: 'two-poles', elements: ['poles'] }));
    assert.equal((await h.sync()).status, 'succeeded');

    n.poles = [pole('P1', LON, LAT)];
    const one = await h.sync();
    assert.equal(one.status, 'succeeded', one.error ?? '');
    assert.deepEqual(nonZero(one.counts).poles, { unchanged: 1, removed: 1 });

    n.poles = [pole('P1', LON, LAT), pole('P2', LON + 0.001, LAT)];
    assert.equal((await h.sync()).status, 'succeeded');
    n.poles = [];
    const empty = await h.sync();
    assert.equal(empty.status, 'failed');
    assert.match(empty.error ?? '', /would remove 2 of 2 poles \(100\.0%\)/);
    assert.equal((await h.sync({ force: true })).status, 'succeeded');
  });

  test('a customer that only leaves its port is never counted; one deleted from the platform is', async () => {
    // Service splitters only: customers are stored while they are on a synced port.
    const n = sampleNetwork();
    const platform = new FakePlatform(n);
    const h = await createHarness(db.knex, () => platform, integrationConfig({ id: 'left-port', sync: { removalGuardMinCount: 0 } }));
    const first = await h.sync();
    assert.equal(first.status, 'succeeded', first.error ?? '');
    assert.equal(first.counts.customers?.created, 3);

    // C2 leaves its port on S1 (1 of 3 customers, 33%) but stays on the platform.
    const s1 = n.equipment.get('B1')!.find((s) => s.externalId === 'S1')!;
    s1.ports[1] = { ...s1.ports[1]!, available: true, customer: null };
    const left = await h.sync({ full: true });
    assert.equal(left.status, 'succeeded', left.error ?? '');
    assert.equal(left.counts.customers?.removed, 1, 'no longer stored, since it is on no synced port');

    // C1 is deleted from the platform: a real loss (1 of 2, over minCount 0).
    s1.ports[0] = { ...s1.ports[0]!, available: true, customer: null };
    n.customers = n.customers.filter((c) => c.externalId !== 'C1');
    const deleted = await h.sync({ full: true });
    assert.equal(deleted.status, 'failed');
    assert.match(deleted.error ?? '', /would remove 1 of 2 customers \(50\.0%\)/);
  });

  test('the ports of a splitter still listed but no longer a service splitter are not counted', async () => {
    const n = sampleNetwork();
    const platform = new FakePlatform(n);
    const h = await createHarness(db.knex, () => platform, integrationConfig({ id: 'reflag', sync: { removalGuardMinCount: 0 } }));
    assert.equal((await h.sync()).status, 'succeeded');
    // S1 (8 of 24 ports, with C1 and C2) is flagged distribution: listed, no longer synced.
    const list = n.equipment.get('B1')!;
    list[0] = { ...list[0]!, role: 'distribution', ports: [] };
    const run = await h.sync({ full: true });
    assert.equal(run.status, 'succeeded', run.error ?? '');
    assert.equal(run.counts.ports?.removed, 8);
    assert.equal(run.counts.splitters?.removed, 1);
  });

  test('a third of the boxes going (an auto box whose pole is still listed) is no loss; removeGuardMinCount is honoured', async () => {
    const n = sampleNetwork();
    const h = await createHarness(db.knex, () => new FakePlatform(n), integrationConfig({ id: 'auto-box' }));
    assert.equal((await h.sync()).status, 'succeeded');
    n.equipment.delete('P4');
    const run = await h.sync({ full: true });
    assert.equal(run.status, 'succeeded', run.error ?? '');
    assert.equal(run.counts.boxes?.removed, 1);

    const m = sampleNetwork();
    const h2 = await createHarness(db.knex, () => new FakePlatform(m), integrationConfig({ id: 'min-count', elements: ['poles'], sync: { removalGuardMinCount: 2 } }));
    assert.equal((await h2.sync()).status, 'succeeded');
    m.poles = m.poles.slice(0, 2);
    const over = await h2.sync();
    assert.equal(over.status, 'failed', '3 of 5 poles, more than 2');
    await h2.setIntegration(integrationConfig({ id: 'min-count', elements: ['poles'], sync: { removalGuardMinCount: 3 } }));
    const within = await h2.sync();
    assert.equal(within.status, 'succeeded', within.error ?? '');
    assert.equal(within.counts.poles?.removed, 3);
  });
});

describe('mass-removal guard against the simulator (real HTTP, real PostgreSQL)', () => {
  let db: TestDatabase;
  let sim: RunningSimulator;
  before(async () => {
    db = await createTestDatabase();
    sim = await startSimulator({ size: 300, seed: 41, https: true, limits: { concurrency: 20, requestsPerMinute: 100_000 } });
  });
  after(async () => {
    await sim?.close();
    await db?.destroy();
  });

  test('customers leaving their ports (more than the share) are merged; as many deleted from the platform fail the run', async () => {
    // minCount 0: the share alone decides, so only what is counted matters.
    const integration = simulatorIntegration('sim-guard', sim, { sync: { removalGuardMinCount: 0 } });
    const h = await createHarness(db.knex, () => createPlatformAdapter(integration, { ca: sim.ca ?? undefined }), integration);
    const first = await h.sync();
    assert.equal(first.status, 'succeeded', first.error ?? '');
    const stored = first.counts.customers?.created ?? 0;
    assert.ok(stored >= 6, `customers on ports: ${stored}`);

    const onPorts = [...sim.network.ports.values()].filter((p) => p.customerId !== null);
    const leaving = onPorts.slice(0, Math.ceil(stored * 0.4));
    for (const port of leaving) sim.unbindPort(port.id);
    const left = await h.sync();
    assert.equal(left.status, 'succeeded', left.error ?? '');
    assert.equal(left.counts.customers?.removed, leaving.length, 'no longer stored: on no synced port');

    const live = stored - leaving.length;
    const deleting = onPorts.slice(leaving.length, leaving.length + Math.ceil(live * 0.4));
    for (const port of deleting) sim.deleteCustomer(port.customerId!);
    const deleted = await h.sync();
    assert.equal(deleted.status, 'failed');
    assert.match(deleted.error ?? '', new RegExp(`would remove ${deleting.length} of ${live} customers`));
  });
});

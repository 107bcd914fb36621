import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPlatformAdapter } from '../../src/platforms/adapter-factory.ts';
import { erpContractsFor } from '../../src/simulator/network-generator.ts';
import { countWrites, startSimulator, type RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { seedErpContracts } from '../../bench/erp-seed.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { createHarness, integrationConfig, nonZero, type Harness } from './fixtures/sync-harness.ts';

/**
 * The platform is read-only for the sync (DESIGN.md, project rule). Every kind of sync runs
 * against the simulator over HTTPS through the real GeoGrid adapter, and the simulator, which
 * records every write it receives, must have recorded none. The same network has planned
 * items, reserved ports and ports served in both shapes (flat and nested), so the stored
 * network is checked against the simulator's own model too.
 */
describe('every kind of sync writes nothing to the platform', () => {
  let db: TestDatabase;
  let sim: RunningSimulator;
  const harnesses = new Map<string, Harness>();

  const ELEMENTS = ['service_splitters', 'poles', 'boxes', 'distribution_splitters', 'customers'];
  const harness = async (id: string, overrides: Record<string, unknown>) => {
    const integration = integrationConfig({
      id,
      apiUrl: sim.url,
      token: sim.token,
      elements: ELEMENTS,
      http: { concurrency: 20, requestsPerMinute: 100_000, timeoutMs: 10_000, retries: 2 },
      ...overrides,
    });
    const h = await createHarness(db.knex, () => createPlatformAdapter(integration, { ca: sim.ca ?? undefined }), integration);
    harnesses.set(id, h);
    return h;
  };
  const assertNoWrites = (when: string) => {
    assert.equal(countWrites(sim.writes), 0, `${when}: ${JSON.stringify(sim.writes)}`);
    assert.equal(sim.stats.writeRequests, 0, `${when}: write requests ${JSON.stringify(sim.stats.byRoute)}`);
  };

  before(async () => {
    db = await createTestDatabase();
    sim = await startSimulator({ seed: 31, size: 2500, https: true, limits: { concurrency: 50, requestsPerMinute: 100_000 } });
    await seedErpContracts(db.knex, erpContractsFor(sim.network));
  });
  after(async () => {
    await sim?.close();
    await db?.destroy();
  });

  test('linked project: first sync, re-sync and --full', async () => {
    const h = await harness('ro-link', { project: { link: 'Campinas' } });
    const first = await h.sync();
    assert.equal(first.status, 'succeeded', first.error ?? '');
    assert.ok((first.counts.ports?.created ?? 0) > 0);
    assertNoWrites('first sync');

    const again = await h.sync();
    assert.equal(again.status, 'succeeded', again.error ?? '');
    for (const [kind, c] of Object.entries(again.counts)) assert.equal(c.created + c.updated + c.removed, 0, `${kind}: ${JSON.stringify(nonZero(again.counts))}`);
    assertNoWrites('re-sync');

    const full = await h.sync({ full: true });
    assert.equal(full.status, 'succeeded', full.error ?? '');
    assertNoWrites('--full');
  });

  test('created project: a project in mapsync only, holding the whole account; nothing is created on the platform', async () => {
    const foldersBefore = sim.network.folders.length;
    const h = await harness('ro-create', { project: { create: 'Rede Nova' } });
    assert.equal((await h.sync()).status, 'succeeded');
    assert.equal((await h.sync()).status, 'succeeded');
    assert.equal(sim.network.folders.length, foldersBefore);
    const project = await db.knex('projects').where({ integration_id: 'ro-create' }).first();
    assert.equal(project.external_id, null);
    assert.equal(project.mode, 'create');
    const poles = await db.knex('poles').where({ integration_id: 'ro-create' }).whereNull('removed_at').count<{ n: string }[]>('* as n');
    assert.equal(Number(poles[0]!.n), sim.network.poles.size);
    assertNoWrites('created project');
  });

  test('linked sub-folder, and scope narrowing it: only those folders are read', async () => {
    const centro = sim.network.folders.find((f) => f.nome === 'Centro')!;
    const h = await harness('ro-centro', { project: { link: 'Centro' } });
    assert.equal((await h.sync()).status, 'succeeded');
    assert.equal((await h.sync({ full: true })).status, 'succeeded');
    const folders = await db.knex('poles').where({ integration_id: 'ro-centro' }).whereNull('removed_at').distinct('project_external_id').pluck('project_external_id');
    assert.deepEqual(folders, [String(centro.id)]);
    const expected = [...sim.network.poles.values()].filter((p) => p.folderId === centro.id).length;
    const stored = await db.knex('poles').where({ integration_id: 'ro-centro' }).whereNull('removed_at').count<{ n: string }[]>('* as n');
    assert.equal(Number(stored[0]!.n), expected);

    const narrowed = await harness('ro-scope', { project: { link: 'Campinas' }, scope: { folders: [String(centro.id)] } });
    assert.equal((await narrowed.sync()).status, 'succeeded');
    const outside = await harness('ro-outside', { project: { link: 'Cambuí' }, scope: { folders: [String(centro.id)] } });
    const refused = await outside.sync();
    assert.equal(refused.status, 'failed');
    assert.match(refused.error ?? '', /scope\.folders .* not inside the linked project "Cambuí"/);
    assertNoWrites('linked sub-folder');
  });

  test('planned items, reserved ports and both port shapes are stored as the platform has them', async () => {
    const integration = 'ro-link';
    const boxes = await db.knex('boxes').where({ integration_id: integration, auto: false }).whereNull('removed_at').select('external_id', 'planned');
    const plannedBoxes = new Set(boxes.filter((b) => b.planned).map((b) => b.external_id));
    const simPlanned = [...sim.network.boxes.values()].filter((b) => b.planned).map((b) => String(b.id));
    assert.ok(simPlanned.length > 0, 'the simulator generates planned boxes');
    assert.deepEqual([...plannedBoxes].sort(), simPlanned.sort());
    // An auto box (equipment mounted on a pole) is as planned as its pole.
    const autoBoxes = await db.knex('boxes').where({ integration_id: integration, auto: true }).whereNull('removed_at').select('external_id', 'planned');
    assert.ok(autoBoxes.length > 0);
    for (const box of autoBoxes) {
      const pole = sim.network.poles.get(Number(String(box.external_id).replace('auto:pole:', '')))!;
      assert.equal(box.planned, pole.planned === true, `auto box ${box.external_id}`);
    }
    const poles = await db.knex('poles').where({ integration_id: integration, planned: true }).pluck('external_id');
    assert.deepEqual(poles.sort(), [...sim.network.poles.values()].filter((p) => p.planned).map((p) => String(p.id)).sort());

    const ports = await db
      .knex('ports as p')
      .join('splitters as s', 's.id', 'p.splitter_id')
      .where('p.integration_id', integration)
      .whereNull('p.removed_at')
      .select('p.external_id', 'p.available', 'p.planned', 'p.platform_customer_external_id as customer', 's.planned as splitter_planned');
    const wrong: string[] = [];
    let reserved = 0;
    let planned = 0;
    /** Taken ports the platform listed nested in their equipment (the example shape). */
    let nested = 0;
    for (const row of ports) {
      const port = sim.network.ports.get(Number(row.external_id))!;
      const splitter = sim.network.splitters.get(port.splitterId)!;
      const free = !port.reserved && port.customerId === null;
      if (port.reserved) reserved += 1;
      if (splitter.planned) planned += 1;
      if (port.customerId !== null && sim.portShapeOf(port.containerId) === 'nested') nested += 1;
      if (row.available !== free) wrong.push(`port ${row.external_id}: available ${row.available}, reserved ${port.reserved}, customer ${port.customerId}`);
      if (row.customer !== (port.customerId === null ? null : String(port.customerId))) wrong.push(`port ${row.external_id}: customer ${row.customer} ≠ ${port.customerId}`);
      if (row.planned !== (splitter.planned === true)) wrong.push(`port ${row.external_id}: planned ${row.planned} ≠ ${splitter.planned === true}`);
      if (row.splitter_planned !== (splitter.planned === true)) wrong.push(`splitter ${splitter.id}: planned ${row.splitter_planned}`);
    }
    assert.deepEqual(wrong.slice(0, 10), []);
    assert.ok(reserved > 0 && planned > 0 && nested > 0, JSON.stringify({ reserved, planned, nested }));
    assert.equal(ports.length, [...sim.network.splitters.values()].filter((s) => s.service).reduce((n, s) => n + s.ports.length, 0));
    // No equipment id was ever stored as a port id.
    const equipmentIds = new Set([...sim.network.splitters.keys()].map(String));
    assert.ok(!ports.some((row) => equipmentIds.has(row.external_id)));
    assertNoWrites('all syncs');
  });
});

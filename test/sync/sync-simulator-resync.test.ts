import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestDatabase } from '../helpers/test-database.ts';
import type { SimSplitter } from '../../src/simulator/network-generator.ts';
import type { RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { EQUIPMENT_RECHECK_DAYS } from '../../src/sync/pull.ts';
import type { RunRecord } from '../../src/sync/sync-runs.repository.ts';
import { nonZero, type Harness } from './fixtures/sync-harness.ts';
import { startSimulatedSync, type SimulatedSync } from './fixtures/simulated-sync.ts';

const DIAGRAM = 'GET /diagrama/equipamentos/:id';
const OCCUPANCY = 'GET /equipamentos/itemRede/:id/portas';

/**
 * A normal (not --full) re-sync reads the port occupancy of known containers instead of their
 * whole equipment: these prove that it still catches every change that matters each night.
 */
describe('re-sync against the simulator: what a normal run skips and still catches', () => {
  let db: TestDatabase;
  let sim: RunningSimulator;
  let h: Harness;
  const used = new Set<number>();

  let setup: SimulatedSync | undefined;

  before(async () => {
    setup = await startSimulatedSync({ id: 'resync', seed: 11 });
    ({ db, sim, h } = setup);
  });
  after(async () => {
    await setup?.close();
  });

  async function syncOk(options: { full?: boolean } = {}): Promise<RunRecord> {
    const run = await h.sync(options);
    assert.equal(run.status, 'succeeded', run.error ?? '');
    return run;
  }

  /** Whether the container is in today's slice of full rereads (then a change proves nothing). */
  async function dueToday(id: number): Promise<boolean> {
    const result = await db.knex.raw<{ rows: { slice: number }[] }>(`SELECT (hashtext(?) & 2147483647) % ${EQUIPMENT_RECHECK_DAYS} AS slice`, [String(id)]);
    return result.rows[0]?.slice === Math.floor(Date.now() / 86_400_000) % EQUIPMENT_RECHECK_DAYS;
  }

  /** A box not due today, not used by an earlier test, whose equipment passes the check. */
  async function pickBox(check: (splitters: SimSplitter[], id: number) => boolean): Promise<number> {
    for (const box of sim.network.boxes.values()) {
      if (used.has(box.id) || !check(sim.network.splittersByContainer.get(box.id) ?? [], box.id)) continue;
      if (await dueToday(box.id)) continue;
      used.add(box.id);
      return box.id;
    }
    throw new Error('no box fits');
  }

  async function diagramReadBy(runId: string, kind: 'box' | 'pole', id: number): Promise<boolean> {
    const row = await db.knex('sync_equipment_reads').where({ integration_id: 'resync', container_kind: kind, container_external_id: String(id) }).first();
    return row?.read_run_id === runId;
  }

  test('a re-sync on unchanged data writes nothing and makes far fewer requests; --full reads everything', async () => {
    sim.resetStats();
    await syncOk();
    const first = { ...sim.stats.byRoute };
    const firstTotal = sim.stats.requests;

    sim.resetStats();
    const second = await syncOk();
    const again = { ...sim.stats.byRoute };
    for (const [kind, c] of Object.entries(second.counts)) assert.equal(c.created + c.updated + c.removed, 0, `${kind}: ${JSON.stringify(c)}`);
    // Diagrams: only today's slice (about a seventh) of the known containers.
    assert.ok((again[DIAGRAM] ?? 0) * 3 < (first[DIAGRAM] ?? 0), JSON.stringify({ first, again }));
    assert.ok((again[OCCUPANCY] ?? 0) <= (first[OCCUPANCY] ?? 0), JSON.stringify({ first, again }));
    assert.ok(sim.stats.requests * 2 < firstTotal, JSON.stringify({ firstTotal, again: sim.stats.requests }));

    sim.resetStats();
    const full = await syncOk({ full: true });
    assert.equal(sim.stats.byRoute[DIAGRAM], first[DIAGRAM]);
    assert.equal(sim.stats.byRoute[OCCUPANCY], first[OCCUPANCY]);
    for (const [kind, c] of Object.entries(full.counts)) assert.equal(c.created + c.removed, 0, `${kind}: ${JSON.stringify(c)}`);
  });

  test('a customer newly bound to a port, and one unbound, are picked up from the occupancy alone', async () => {
    const boxId = await pickBox((splitters) => splitters.some((s) => s.service && s.ports.some((p) => p.customerId === null && !p.reserved) && s.ports.some((p) => p.customerId !== null)));
    const splitter = (sim.network.splittersByContainer.get(boxId) ?? []).find((s) => s.service && s.ports.some((p) => p.customerId === null && !p.reserved) && s.ports.some((p) => p.customerId !== null))!;
    const free = splitter.ports.find((p) => p.customerId === null && !p.reserved)!;
    const taken = splitter.ports.find((p) => p.customerId !== null)!;
    const customer = sim.addCustomerOnPort(free.id, { nome: 'Cliente Novo da Silva', cpfCnpj: null });
    sim.unbindPort(taken.id);

    const run = await syncOk();
    assert.equal(await diagramReadBy(run.id, 'box', boxId), false, 'the box diagram was not needed');
    assert.deepEqual(nonZero(run.counts).ports, { updated: 2, unchanged: nonZero(run.counts).ports?.unchanged });
    const bound = await db.knex('ports').where({ integration_id: 'resync', external_id: String(free.id) }).first();
    assert.equal(bound.platform_customer_external_id, String(customer.id));
    assert.equal(bound.available, false);
    const unbound = await db.knex('ports').where({ integration_id: 'resync', external_id: String(taken.id) }).first();
    assert.equal(unbound.platform_customer_external_id, null);
    assert.equal(unbound.available, true);
    const stored = await db.knex('platform_customers').where({ integration_id: 'resync', external_id: String(customer.id) }).first();
    assert.equal(stored.port_external_id, String(free.id));
  });

  test('a service splitter added to a box, one removed, and one no longer flagged service are picked up', async () => {
    const addTo = await pickBox((splitters) => splitters.some((s) => s.service));
    const added = sim.addSplitter(addTo, { service: true, ratioOut: 8 });
    const removeFrom = await pickBox((splitters) => splitters.some((s) => s.service));
    const removed = (sim.network.splittersByContainer.get(removeFrom) ?? []).find((s) => s.service)!;
    sim.removeSplitter(removed.id);
    const flagIn = await pickBox((splitters) => splitters.some((s) => s.service));
    const flagged = (sim.network.splittersByContainer.get(flagIn) ?? []).find((s) => s.service)!;
    sim.setSplitterService(flagged.id, false);

    const run = await syncOk();
    assert.equal(run.counts.splitters?.created, 1, JSON.stringify(nonZero(run.counts)));
    assert.equal(run.counts.splitters?.removed, 1, JSON.stringify(nonZero(run.counts)));
    assert.equal(run.counts.splitters?.updated, 1, JSON.stringify(nonZero(run.counts)));
    assert.equal(run.counts.ports?.created, added.ports.length, JSON.stringify(nonZero(run.counts)));
    // Ports are stored for service splitters only.
    assert.equal(run.counts.ports?.removed, removed.ports.length + flagged.ports.length, JSON.stringify(nonZero(run.counts)));
    for (const id of [addTo, removeFrom, flagIn]) assert.equal(await diagramReadBy(run.id, 'box', id), true, `box ${id} read in full`);

    const row = (id: number) => db.knex('splitters').where({ integration_id: 'resync', external_id: String(id) }).first();
    assert.equal((await row(added.id)).removed_at, null);
    assert.notEqual((await row(removed.id)).removed_at, null);
    assert.equal((await row(flagged.id)).role, 'distribution');

    // And back: a distribution splitter flagged service shows new service ports.
    sim.setSplitterService(flagged.id, true);
    const back = await syncOk();
    assert.equal((await row(flagged.id)).role, 'service');
    assert.equal(back.counts.ports?.updated, flagged.ports.length, JSON.stringify(nonZero(back.counts)));
  });

  test('a service splitter added to an empty terminal box is picked up', async () => {
    const boxId = await pickBox((splitters, id) => sim.network.boxes.get(id)?.item === 'terminal' && splitters.length > 0);
    for (const s of [...(sim.network.splittersByContainer.get(boxId) ?? [])]) sim.removeSplitter(s.id);
    await syncOk({ full: true });
    const added = sim.addSplitter(boxId, { service: true, ratioOut: 8 });
    const customer = sim.addCustomerOnPort(added.ports[2]!.id, { nome: 'Cliente da Caixa Nova', cpfCnpj: null });
    const run = await syncOk();
    assert.equal(run.counts.splitters?.created, 1, JSON.stringify(nonZero(run.counts)));
    const port = await db.knex('ports').where({ integration_id: 'resync', external_id: String(added.ports[2]!.id) }).first();
    assert.equal(port.platform_customer_external_id, String(customer.id));
  });

  test('a box moved is read in full and updated', async () => {
    const boxId = await pickBox((splitters) => splitters.some((s) => s.service));
    const box = sim.network.boxes.get(boxId)!;
    const lat = box.lat + 0.0002;
    sim.moveElement(boxId, lat, box.lon);
    const run = await syncOk();
    assert.equal(run.counts.boxes?.updated, 1, JSON.stringify(nonZero(run.counts)));
    assert.equal(await diagramReadBy(run.id, 'box', boxId), true);
    const stored = await db.knex('boxes').where({ integration_id: 'resync', external_id: String(boxId) }).select(db.knex.raw('ST_Y(geom) AS lat')).first();
    assert.ok(Math.abs(Number(stored.lat) - lat) < 1e-6, `${stored.lat} vs ${lat}`);
    for (const kind of ['splitters', 'ports'] as const) assert.equal(run.counts[kind]?.created ?? 0, 0);
  });

  test('a distribution splitter added to a box without service equipment waits for its weekly recheck (or --full)', async () => {
    const boxId = await pickBox((splitters, id) => sim.network.boxes.get(id)?.item === 'caixa' && splitters.length > 0 && splitters.every((s) => !s.service));
    const added = sim.addSplitter(boxId, { service: false, ratioOut: 4 });

    const skipped = await syncOk();
    assert.equal(skipped.counts.splitters?.created, 0, 'not read: no customer can sit on it');
    // Its last full read is now more than a week old: the next run reads it.
    await db.knex('sync_equipment_reads')
      .where({ integration_id: 'resync', container_kind: 'box', container_external_id: String(boxId) })
      .update({ read_at: db.knex.raw(`now() - interval '${EQUIPMENT_RECHECK_DAYS + 1} days'`) });
    const rechecked = await syncOk();
    assert.equal(rechecked.counts.splitters?.created, 1, JSON.stringify(nonZero(rechecked.counts)));
    const row = await db.knex('splitters').where({ integration_id: 'resync', external_id: String(added.id) }).first();
    assert.equal(row.role, 'distribution');

    sim.removeSplitter(added.id);
    const full = await syncOk({ full: true });
    assert.equal(full.counts.splitters?.removed, 1, JSON.stringify(nonZero(full.counts)));
  });
});

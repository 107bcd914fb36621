import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SimSplitter } from '../../src/simulator/network-generator.ts';
import type { RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { EQUIPMENT_RECHECK_DAYS } from '../../src/sync/pull.ts';
import type { RunRecord } from '../../src/sync/sync-runs.repository.ts';
import type { TestDatabase } from '../helpers/test-database.ts';
import type { Harness } from './fixtures/sync-harness.ts';
import { startSimulatedSync, type SimulatedSync } from './fixtures/simulated-sync.ts';

const OCCUPANCY = 'GET /equipamentos/itemRede/:id/portas';
const BATCH = 'GET /equipamentos/itemRede/portas';

/**
 * `sync.occupancyReads: batch`: the port counts of many containers per request
 * (`GET /equipamentos/itemRede/portas?itensRede[]=…`), one read per container only where a
 * count changed, and one read per container when the platform refuses the batch read.
 */
describe('batch occupancy reads against the simulator', () => {
  let db: TestDatabase;
  let sim: RunningSimulator;
  let h: Harness;
  let setup: SimulatedSync | undefined;
  const used = new Set<number>();

  before(async () => {
    setup = await startSimulatedSync({ id: 'batch', seed: 17 });
    ({ db, sim, h } = setup);
    await h.setIntegration({ ...h.integration, sync: { ...h.integration.sync, occupancyReads: 'batch' } });
  });
  after(async () => setup?.close());

  async function syncOk(options: { full?: boolean } = {}): Promise<RunRecord> {
    sim.resetStats();
    const run = await h.sync(options);
    assert.equal(run.status, 'succeeded', run.error ?? '');
    return run;
  }

  async function dueToday(id: number): Promise<boolean> {
    const result = await db.knex.raw<{ rows: { slice: number }[] }>(`SELECT (hashtext(?) & 2147483647) % ${EQUIPMENT_RECHECK_DAYS} AS slice`, [String(id)]);
    return result.rows[0]?.slice === Math.floor(Date.now() / 86_400_000) % EQUIPMENT_RECHECK_DAYS;
  }

  async function pickBox(check: (splitters: SimSplitter[], id: number) => boolean): Promise<number> {
    for (const box of sim.network.boxes.values()) {
      if (used.has(box.id) || !check(sim.network.splittersByContainer.get(box.id) ?? [], box.id)) continue;
      if (await dueToday(box.id)) continue;
      used.add(box.id);
      return box.id;
    }
    throw new Error('no box fits');
  }

  const port = (id: number) => db.knex('ports').where({ integration_id: 'batch', external_id: String(id) }).first();
  const splitter = (id: number) => db.knex('splitters').where({ integration_id: 'batch', external_id: String(id) }).first();

  test('unchanged: no occupancy read per container, nothing written, and the run says batch', async () => {
    const first = await syncOk();
    assert.equal(first.platformRequests?.occupancyReads, 'batch');
    const firstOccupancy = sim.stats.byRoute[OCCUPANCY] ?? 0;
    assert.ok(firstOccupancy > 0);
    // The first sync reads the diagram of the containers holding equipment, not of every bare pole.
    const holders = [...sim.network.splittersByContainer.values()].filter((list) => list.length > 0).length;
    const firstDiagrams = sim.stats.byRoute['GET /diagrama/equipamentos/:id'] ?? 0;
    assert.ok(firstDiagrams <= sim.network.boxes.size + holders, `${firstDiagrams} diagrams, ${holders} holders`);
    assert.ok(firstDiagrams < sim.network.boxes.size + sim.network.poles.size / 2);
    const again = await syncOk();
    for (const [kind, c] of Object.entries(again.counts)) assert.equal(c.created + c.updated + c.removed, 0, `${kind}: ${JSON.stringify(c)}`);
    assert.equal(again.platformRequests?.occupancyReads, 'batch');
    const routes = sim.stats.byRoute;
    // Only today's slice of the weekly full reads reads ports one container at a time.
    assert.ok((routes[OCCUPANCY] ?? 0) * 3 < firstOccupancy, JSON.stringify(routes));
    const containers = sim.network.boxes.size;
    assert.ok((routes[BATCH] ?? 0) > 0 && (routes[BATCH] ?? 0) <= Math.ceil(sim.network.poles.size / 50) + Math.ceil(containers / 50) + 2, JSON.stringify(routes));
    assert.equal(again.platformRequests?.byFamily.portasLote, routes[BATCH]);
  });

  test('what changes a count is picked up the same night; what keeps every count waits for the weekly full read', async () => {
    await syncOk({ full: true });
    const servicePorts = (id: number) => (sim.network.splittersByContainer.get(id) ?? []).flatMap((s) => (s.service ? s.ports : []));
    const bindIn = await pickBox((splitters) => splitters.some((s) => s.service && s.ports.some((p) => p.customerId === null && !p.reserved)));
    const free = servicePorts(bindIn).find((p) => p.customerId === null && !p.reserved)!;
    const customer = sim.addCustomerOnPort(free.id, { nome: 'Cliente do Lote', cpfCnpj: null });
    const unbindIn = await pickBox((splitters) => splitters.some((s) => s.service && s.ports.some((p) => p.customerId !== null)));
    const taken = servicePorts(unbindIn).find((p) => p.customerId !== null)!;
    sim.unbindPort(taken.id);
    const addTo = await pickBox((splitters) => splitters.some((s) => s.service));
    const added = sim.addSplitter(addTo, { service: true, ratioOut: 8 });
    const removeFrom = await pickBox((splitters) => splitters.some((s) => s.service));
    const removed = (sim.network.splittersByContainer.get(removeFrom) ?? []).find((s) => s.service)!;
    sim.removeSplitter(removed.id);
    // Without the batch read, this waits for the splice box's weekly full read.
    const splice = await pickBox((splitters, id) => sim.network.boxes.get(id)?.item === 'caixa' && splitters.length > 0 && splitters.every((s) => !s.service));
    const distribution = sim.addSplitter(splice, { service: false, ratioOut: 4 });
    // Every count kept: one customer leaves a splitter and another arrives on it.
    const swappable = (s: SimSplitter) => s.service && s.ports.some((p) => p.customerId === null && !p.reserved) && s.ports.some((p) => p.customerId !== null);
    const swapIn = await pickBox((splitters) => splitters.some(swappable));
    const swapSplitter = (sim.network.splittersByContainer.get(swapIn) ?? []).find(swappable)!;
    const swapFree = swapSplitter.ports.find((p) => p.customerId === null && !p.reserved)!;
    const swapTaken = swapSplitter.ports.find((p) => p.customerId !== null)!;
    sim.unbindPort(swapTaken.id);
    const newcomer = sim.addCustomerOnPort(swapFree.id, { nome: 'Cliente da Troca', cpfCnpj: null });

    const run = await syncOk();
    assert.equal(run.platformRequests?.occupancyReads, 'batch');
    assert.equal((await port(free.id)).platform_customer_external_id, String(customer.id));
    assert.equal((await port(free.id)).available, false);
    assert.equal((await port(taken.id)).platform_customer_external_id, null);
    assert.equal((await port(taken.id)).available, true);
    assert.equal((await splitter(added.id))?.removed_at, null);
    assert.notEqual((await splitter(removed.id)).removed_at, null);
    assert.equal((await splitter(distribution.id))?.role, 'distribution', 'the splice box was read in full the same night');
    assert.equal((await port(swapFree.id)).platform_customer_external_id, null, 'the swap keeps every count: not seen yet');

    // The container's weekly full read sees it.
    await db.knex('sync_equipment_reads')
      .where({ integration_id: 'batch', container_kind: 'box', container_external_id: String(swapIn) })
      .update({ read_at: db.knex.raw(`now() - interval '${EQUIPMENT_RECHECK_DAYS + 1} days'`) });
    await syncOk();
    assert.equal((await port(swapFree.id)).platform_customer_external_id, String(newcomer.id));
    assert.equal((await port(swapTaken.id)).platform_customer_external_id, null);
  });

  test('bare poles due for their weekly recheck are checked in batches: still bare, no read of their own; one that gained equipment is read', async () => {
    await syncOk();
    const bare = [...sim.network.poles.keys()].filter((id) => !(sim.network.splittersByContainer.get(id)?.length));
    const [equipped, ...others] = bare;
    const added = sim.addSplitter(equipped!, { service: false, ratioOut: 8 });
    // Every check a week old: every bare pole is due.
    await db.knex('sync_pole_checks').where({ integration_id: 'batch' }).update({ checked_at: db.knex.raw(`now() - interval '8 days'`) });
    const run = await syncOk();
    assert.equal((await splitter(added.id))?.role, 'distribution');
    const diagrams = sim.stats.byRoute['GET /diagrama/equipamentos/:id'] ?? 0;
    assert.ok(diagrams < others.length / 4, `${diagrams} diagram reads for ${others.length} bare poles: ${JSON.stringify(sim.stats.byRoute)}`);
    const renewed = await db.knex('sync_pole_checks').where({ integration_id: 'batch' }).whereIn('pole_external_id', others.map(String)).where('checked_at', '>', db.knex.raw(`now() - interval '1 hour'`)).count().first();
    assert.equal(Number(renewed?.count), others.length, 'their checks are renewed');
    assert.equal(run.counts.poles?.updated ?? 0, 0);
    // And the next night, nothing is due.
    sim.resetStats();
    await syncOk();
    assert.ok((sim.stats.byRoute['GET /diagrama/equipamentos/:id'] ?? 0) < others.length / 4);
    // --full reads every pole.
    await syncOk({ full: true });
    assert.ok((sim.stats.byRoute['GET /diagrama/equipamentos/:id'] ?? 0) >= sim.network.poles.size);
  });

  test('a platform that refuses the batch read is asked once; the run reads one container at a time, exact, and says so', async () => {
    sim.setBatchReads(false);
    try {
      const boxId = await pickBox((splitters) => splitters.some((s) => s.service && s.ports.some((p) => p.customerId === null && !p.reserved) && s.ports.some((p) => p.customerId !== null)));
      const target = (sim.network.splittersByContainer.get(boxId) ?? []).find((s) => s.service && s.ports.some((p) => p.customerId === null && !p.reserved) && s.ports.some((p) => p.customerId !== null))!;
      const free = target.ports.find((p) => p.customerId === null && !p.reserved)!;
      const taken = target.ports.find((p) => p.customerId !== null)!;
      sim.unbindPort(taken.id);
      const customer = sim.addCustomerOnPort(free.id, { nome: 'Cliente Sem Lote', cpfCnpj: null });

      const run = await syncOk();
      assert.equal(run.platformRequests?.occupancyReads, 'per_item');
      assert.equal(sim.stats.byRoute[BATCH], 1, 'asked once');
      assert.ok((sim.stats.byRoute[OCCUPANCY] ?? 0) > 10, JSON.stringify(sim.stats.byRoute));
      assert.equal((await port(free.id)).platform_customer_external_id, String(customer.id), 'a swap is seen the same night');
      assert.equal((await port(taken.id)).platform_customer_external_id, null);
      assert.equal(await db.knex('sync_port_count_summaries').where({ integration_id: 'batch' }).count().first().then((r) => Number(r?.count)), 0, 'no summary outlives the ports it described');
    } finally {
      sim.setBatchReads(true);
    }
    // Answered again: the next run reads every container's occupancy once, and stores summaries.
    const back = await syncOk();
    assert.equal(back.platformRequests?.occupancyReads, 'batch');
    assert.ok(Number((await db.knex('sync_port_count_summaries').where({ integration_id: 'batch' }).count().first())?.count) > 0);
  });
});

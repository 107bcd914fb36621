import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestDatabase } from '../helpers/test-database.ts';
import { confirmBinding, createBinding } from '../../src/bindings/bindings.service.ts';
import type { SimSplitter } from '../../src/simulator/network-generator.ts';
import { NetworkMutations } from '../../src/simulator/network-mutations.ts';
import type { RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { EQUIPMENT_RECHECK_DAYS } from '../../src/sync/pull.ts';
import type { RunRecord } from '../../src/sync/sync-runs.repository.ts';
import { nonZero, type Harness } from './fixtures/sync-harness.ts';
import { startSimulatedSync, type SimulatedSync } from './fixtures/simulated-sync.ts';

const NO_PUSH = { settingsFor: () => null };

/**
 * Platform changes a normal (not --full) run must see the same night, as a --full run would:
 * equipment moved between containers keeps its ids, its ports, their customers and the
 * bindings on them; positions, names, labels and ratios changed on the platform are stored.
 */
function changesSuite(name: string, options: { listing: boolean }) {
  describe(name, () => {
    let db: TestDatabase;
    let sim: RunningSimulator;
    let h: Harness;
    let change: NetworkMutations;
    const used = new Set<number>();
    let setup: SimulatedSync | undefined;
    const integration = options.listing ? 'moves' : 'moves-nolist';

    before(async () => {
      setup = await startSimulatedSync({
        id: integration,
        seed: 29,
        size: 1500,
        ...(options.listing ? {} : { adapt: (adapter) => Object.assign(adapter, { serviceEquipmentHolders: async () => null }) }),
      });
      ({ db, sim, h } = setup);
      change = new NetworkMutations(sim);
      await syncOk({ full: true });
    });
    after(async () => {
      await setup?.close();
    });

    async function syncOk(opts: { full?: boolean } = {}): Promise<RunRecord> {
      const run = await h.sync({ ...opts, force: true });
      assert.equal(run.status, 'succeeded', run.error ?? '');
      return run;
    }

    /** Whether the container is in today's slice of full rereads (then a change proves nothing). */
    async function dueToday(id: number): Promise<boolean> {
      const result = await db.knex.raw<{ rows: { slice: number }[] }>(`SELECT (hashtext(?) & 2147483647) % ${EQUIPMENT_RECHECK_DAYS} AS slice`, [String(id)]);
      return result.rows[0]?.slice === Math.floor(Date.now() / 86_400_000) % EQUIPMENT_RECHECK_DAYS;
    }

    async function pick<T extends { id: number }>(items: Iterable<T>, check: (item: T, splitters: SimSplitter[]) => boolean): Promise<T> {
      for (const item of items) {
        if (used.has(item.id) || !check(item, sim.network.splittersByContainer.get(item.id) ?? [])) continue;
        if (await dueToday(item.id)) continue;
        used.add(item.id);
        return item;
      }
      throw new Error('nothing fits');
    }

    const terminalWithService = (box: { id: number }, splitters: SimSplitter[]) =>
      sim.network.boxes.get(box.id)?.item === 'terminal' && splitters.length === 1 && splitters[0]!.service;

    /** A service splitter in a terminal box, one of whose customers is linked to a contract, bound and confirmed here. */
    async function boundSplitter(): Promise<{ splitter: SimSplitter; portId: number; customerId: number; binding: number }> {
      for (;;) {
        const box = await pick(sim.network.boxes.values(), terminalWithService);
        const splitter = sim.network.splittersByContainer.get(box.id)![0]!;
        for (const port of splitter.ports) {
          if (port.customerId === null) continue;
          const row = await db.knex('ports as p')
            .join('platform_customers as pc', function joinCustomer() {
              this.on('pc.external_id', '=', 'p.platform_customer_external_id').andOn('pc.integration_id', '=', 'p.integration_id');
            })
            .join('service_contracts as sc', 'sc.id', 'pc.service_contract_id')
            .where({ 'p.integration_id': integration, 'p.external_id': String(port.id) })
            .whereNull('p.removed_at')
            .first('p.id', 'sc.service_id');
          if (!row) continue;
          const { binding } = await createBinding(db.knex, { serviceId: row.service_id, port: { portId: row.id } });
          await confirmBinding(db.knex, binding.id, NO_PUSH);
          return { splitter, portId: port.id, customerId: port.customerId, binding: binding.id };
        }
      }
    }

    async function splitterRow(id: number) {
      return db.knex('splitters as s')
        .join('boxes as b', 'b.id', 's.box_id')
        .where({ 's.integration_id': integration, 's.external_id': String(id) })
        .first('s.name', 's.ratio_out', 's.container_external_id', 's.removed_at', 'b.external_id as box');
    }

    async function portRow(id: number) {
      return db.knex('ports').where({ integration_id: integration, external_id: String(id) }).first('number', 'label', 'removed_at', 'platform_customer_external_id');
    }

    async function bindingRow(id: number) {
      return db.knex('bindings').where({ id }).first('status', 'sync_state');
    }

    /** The move kept everything: the splitter sits in its new box, its ports and customer and binding are as before. */
    async function assertMovedIntact(
      run: RunRecord,
      moved: { splitter: SimSplitter; portId: number; customerId: number; binding: number },
      where: { container: number; box: string },
    ) {
      assert.equal(run.counts.splitters?.removed, 0, JSON.stringify(nonZero(run.counts)));
      assert.equal(run.counts.ports?.removed, 0, JSON.stringify(nonZero(run.counts)));
      const row = await splitterRow(moved.splitter.id);
      assert.equal(row.removed_at, null);
      assert.equal(row.container_external_id, String(where.container));
      assert.equal(row.box, where.box);
      for (const port of moved.splitter.ports) assert.equal((await portRow(port.id)).removed_at, null, `port ${port.id} kept`);
      assert.equal((await portRow(moved.portId)).platform_customer_external_id, String(moved.customerId));
      assert.deepEqual(await bindingRow(moved.binding), { status: 'confirmed', sync_state: 'in_sync' });
      const customer = await db.knex('platform_customers').where({ integration_id: integration, external_id: String(moved.customerId) }).first('port_external_id');
      assert.equal(customer.port_external_id, String(moved.portId));
      const parked = await db.knex('sync_issues').where({ run_id: run.id, code: 'removed_port_with_binding' });
      assert.deepEqual(parked, []);
    }

    test('with nothing changed, a normal run reads no diagram: the extra checks cost one listing and nothing per container', async () => {
      await syncOk();
      sim.resetStats();
      const run = await syncOk();
      for (const [kind, c] of Object.entries(run.counts)) assert.equal(c.created + c.updated + c.removed, 0, `${kind}: ${JSON.stringify(c)}`);
      const routes = sim.stats.byRoute;
      assert.equal(routes['GET /diagrama/equipamentos/:id'] ?? 0, 0, JSON.stringify(routes));
      const holders = [...sim.network.splittersByContainer.values()].filter((list) => list.some((s) => s.service)).length;
      assert.ok((routes['GET /equipamentos/itemRede/:id/portas'] ?? 0) >= holders, JSON.stringify(routes));
      assert.equal(routes['GET /viabilidade/raio'] ?? 0, options.listing ? 1 : 0, JSON.stringify(routes));
    });

    if (options.listing) {
      test('a splitter moved from one box to another keeps its ports, their customer and a confirmed binding in_sync', async () => {
        const moved = await boundSplitter();
        await syncOk();
        assert.deepEqual(await bindingRow(moved.binding), { status: 'confirmed', sync_state: 'in_sync' });
        const target = await pick(sim.network.boxes.values(), terminalWithService);
        change.moveSplitter(moved.splitter.id, target.id);

        const run = await syncOk();
        await assertMovedIntact(run, moved, { container: target.id, box: String(target.id) });
        assert.equal(run.counts.splitters?.updated, 1, JSON.stringify(nonZero(run.counts)));
        const again = await syncOk();
        for (const kind of ['splitters', 'ports'] as const) assert.equal(again.counts[kind]!.created + again.counts[kind]!.updated + again.counts[kind]!.removed, 0, kind);
      });

      test('a splitter moved into a splice box is found there the same night', async () => {
        const moved = await boundSplitter();
        await syncOk();
        const splice = await pick(sim.network.boxes.values(), (box, splitters) => box.item === 'caixa' && splitters.length > 0 && splitters.every((s) => !s.service));
        change.moveSplitter(moved.splitter.id, splice.id);
        const run = await syncOk();
        await assertMovedIntact(run, moved, { container: splice.id, box: String(splice.id) });
      });

      test('a splitter moved onto a bare pole is found there, in the pole\'s own box', async () => {
        const moved = await boundSplitter();
        await syncOk();
        const pole = await pick(sim.network.poles.values(), (_pole, splitters) => splitters.length === 0);
        change.moveSplitter(moved.splitter.id, pole.id);
        const run = await syncOk();
        await assertMovedIntact(run, moved, { container: pole.id, box: `auto:pole:${pole.id}` });
        assert.equal(run.counts.boxes?.created, 1, JSON.stringify(nonZero(run.counts)));
      });

      test('a field of the item listing that is not stored (status) changed: that container is read in full, and only it', async () => {
        const splice = await pick(sim.network.boxes.values(), (box, splitters) => box.item === 'caixa' && splitters.length > 0 && splitters.every((s) => !s.service));
        const quiet = await pick(sim.network.boxes.values(), (box, splitters) => box.item === 'caixa' && splitters.length > 0 && splitters.every((s) => !s.service));
        // Changes that no read of a normal run sees by themselves: distribution equipment in splice boxes.
        const added = sim.addSplitter(splice.id, { service: false, ratioOut: 4 });
        const unseen = sim.addSplitter(quiet.id, { service: false, ratioOut: 4 });
        change.setItemStatus(splice.id, 'Em manutenção');
        const run = await syncOk();
        const read = async (id: number) =>
          (await db.knex('sync_equipment_reads').where({ integration_id: integration, container_kind: 'box', container_external_id: String(id) }).first('read_run_id'))?.read_run_id === run.id;
        assert.equal(await read(splice.id), true, 'the box whose status changed was read in full');
        assert.equal(await read(quiet.id), false);
        assert.equal((await splitterRow(added.id))?.removed_at, null);
        assert.equal(await splitterRow(unseen.id), undefined, 'a distribution splitter added to a splice box waits for its weekly recheck');
        sim.removeSplitter(unseen.id);
      });

      test('a service splitter deleted on the platform is removed by a normal run: the listing confirms it is nowhere', async () => {
        const box = await pick(sim.network.boxes.values(), terminalWithService);
        const splitter = sim.network.splittersByContainer.get(box.id)![0]!;
        sim.removeSplitter(splitter.id);
        const run = await syncOk();
        assert.equal(run.counts.splitters?.removed, 1, JSON.stringify(nonZero(run.counts)));
        assert.notEqual((await splitterRow(splitter.id)).removed_at, null);
      });
    } else {
      test('without the listing, a service splitter that vanished is kept (and reported) until a --full run settles it', async () => {
        const moved = await boundSplitter();
        const deletedBox = await pick(sim.network.boxes.values(), terminalWithService);
        const deleted = sim.network.splittersByContainer.get(deletedBox.id)![0]!;
        await syncOk();
        const from = moved.splitter.containerId;
        const splice = await pick(sim.network.boxes.values(), (box, splitters) => box.item === 'caixa' && splitters.length > 0 && splitters.every((s) => !s.service));
        change.moveSplitter(moved.splitter.id, splice.id);
        sim.removeSplitter(deleted.id);
        // Another customer of the moved splitter moves to a port this run reads: it is there, not on the kept port.
        const left = moved.splitter.ports.find((p) => p.customerId !== null && p.id !== moved.portId)!;
        const leaving = left.customerId!;
        const newBox = await pick(sim.network.boxes.values(), (box, splitters) => terminalWithService(box, splitters) && splitters[0]!.ports.some((p) => p.customerId === null && !p.reserved));
        const newPort = sim.network.splittersByContainer.get(newBox.id)![0]!.ports.find((p) => p.customerId === null && !p.reserved)!;
        change.bindCustomer(newPort.id, leaving);

        const run = await syncOk();
        const customer = await db.knex('platform_customers').where({ integration_id: integration, external_id: String(leaving) }).first('port_external_id');
        assert.equal(customer.port_external_id, String(newPort.id));
        assert.equal((await portRow(left.id)).platform_customer_external_id, null);
        assert.equal(run.counts.splitters?.removed, 0, JSON.stringify(nonZero(run.counts)));
        assert.equal(run.counts.ports?.removed, 0, JSON.stringify(nonZero(run.counts)));
        assert.equal((await splitterRow(moved.splitter.id)).container_external_id, String(from), 'kept where it was');
        assert.equal((await splitterRow(deleted.id)).removed_at, null);
        assert.deepEqual(await bindingRow(moved.binding), { status: 'confirmed', sync_state: 'in_sync' });
        const reported = await db.knex('sync_issues').where({ run_id: run.id, code: 'splitter_not_found' }).orderBy('external_id').pluck('external_id');
        assert.deepEqual(reported, [String(moved.splitter.id), String(deleted.id)].sort());

        const full = await syncOk({ full: true });
        assert.equal(full.counts.splitters?.removed, 1, JSON.stringify(nonZero(full.counts)));
        assert.notEqual((await splitterRow(deleted.id)).removed_at, null);
        const row = await splitterRow(moved.splitter.id);
        assert.equal(row.removed_at, null);
        assert.equal(row.box, String(splice.id));
        for (const port of moved.splitter.ports) assert.equal((await portRow(port.id)).removed_at, null, `port ${port.id} kept`);
        assert.deepEqual(await bindingRow(moved.binding), { status: 'confirmed', sync_state: 'in_sync' });
      });
    }

    test('a port renumbered, a label cleared and one set, a splitter renamed and re-rated: stored by a normal run', async () => {
      const renumbered = await pick(sim.network.boxes.values(), terminalWithService);
      const renumberedPort = sim.network.splittersByContainer.get(renumbered.id)![0]!.ports[1]!;
      change.renumberPort(renumberedPort.id, 12);

      const labelled = await pick(sim.network.boxes.values(), (box, splitters) => terminalWithService(box, splitters) && splitters[0]!.ports.some((p) => p.label !== null) && splitters[0]!.ports.some((p) => p.label === null));
      const cleared = sim.network.splittersByContainer.get(labelled.id)![0]!.ports.find((p) => p.label !== null)!;
      const set = sim.network.splittersByContainer.get(labelled.id)![0]!.ports.find((p) => p.label === null)!;
      change.setPortLabel(cleared.id, null);
      change.setPortLabel(set.id, 'RESERVA TECNICA');

      const renamedBox = await pick(sim.network.boxes.values(), terminalWithService);
      const renamed = sim.network.splittersByContainer.get(renamedBox.id)![0]!;
      change.renameSplitter(renamed.id, 'SPL-AT-RENOMEADO');

      const grownBox = await pick(sim.network.boxes.values(), (box, splitters) => terminalWithService(box, splitters) && splitters[0]!.ratioOut === 8);
      const grown = sim.network.splittersByContainer.get(grownBox.id)![0]!;
      change.changeRatio(grown.id, 16);
      const shrunkBox = await pick(sim.network.boxes.values(), (box, splitters) => terminalWithService(box, splitters) && splitters[0]!.ratioOut === 16);
      const shrunk = sim.network.splittersByContainer.get(shrunkBox.id)![0]!;
      const shrunkPorts = shrunk.ports.map((p) => p.id);
      change.changeRatio(shrunk.id, 8);

      const run = await syncOk();
      assert.equal((await portRow(renumberedPort.id)).number, 12);
      assert.equal((await portRow(cleared.id)).label, null);
      assert.equal((await portRow(set.id)).label, 'RESERVA TECNICA');
      assert.equal((await splitterRow(renamed.id)).name, 'SPL-AT-RENOMEADO');
      assert.equal((await splitterRow(grown.id)).ratio_out, 16);
      assert.equal((await splitterRow(shrunk.id)).ratio_out, 8);
      const live = async (splitter: SimSplitter) =>
        Number(
          (
            await db.knex('ports as p')
              .join('splitters as s', 's.id', 'p.splitter_id')
              .where({ 's.integration_id': integration, 's.external_id': String(splitter.id) })
              .whereNull('p.removed_at')
              .count({ n: '*' })
              .first()
          )?.n,
        );
      assert.equal(await live(grown), 16);
      assert.equal(await live(shrunk), 8);
      for (const id of shrunkPorts.slice(8)) assert.notEqual((await portRow(id)).removed_at, null, `port ${id} of the 1x16 is gone`);
      assert.equal(run.counts.splitters?.updated, 3, JSON.stringify(nonZero(run.counts)));
      assert.equal(run.counts.ports?.created, 8, JSON.stringify(nonZero(run.counts)));
      assert.equal(run.counts.ports?.removed, 8, JSON.stringify(nonZero(run.counts)));
    });
  });
}

changesSuite('platform changes seen by a normal run (the platform lists where service equipment is)', { listing: true });
changesSuite('platform changes seen by a normal run (the platform cannot list where service equipment is)', { listing: false });

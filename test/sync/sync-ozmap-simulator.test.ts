import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestDatabase } from '../helpers/test-database.ts';
import type { RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { objectIdOf } from '../../src/simulator/ozmap/ozmap-ids.ts';
import type { RunRecord } from '../../src/sync/sync-runs.repository.ts';
import { nonZero, type Harness } from './fixtures/sync-harness.ts';
import { startSimulatedSync, type SimulatedSync } from './fixtures/simulated-sync.ts';
import { PLATFORMS, type PlatformUnderTest } from '../helpers/platforms.ts';

const OZMAP: PlatformUnderTest = PLATFORMS.find((p) => p.name === 'ozmap') ?? { ...PLATFORMS[0]!, name: 'ozmap', configPlatform: 'ozmap', simulator: { platform: 'ozmap' } };

/**
 * The OZmap path end to end: the simulator serving OZmap v2 over HTTPS, the OZmap adapter
 * signed in with a login, and the sync engine storing what it reads. Then the incremental
 * reads: a re-sync on unchanged data asks only for counts and changes, and an edit and a
 * removal made on the platform are both seen.
 */
describe('sync from the OZmap simulator', () => {
  const ID = 'ozsim';
  let db: TestDatabase;
  let sim: RunningSimulator;
  let h: Harness;
  let setup: SimulatedSync | undefined;
  let first: RunRecord;
  let firstRequests = 0;

  before(async () => {
    setup = await startSimulatedSync({ id: ID, seed: 21, size: 1500, platform: OZMAP, login: true });
    ({ db, sim, h } = setup);
    sim.resetStats();
    first = await h.sync();
    firstRequests = sim.stats.requests;
  });
  after(async () => {
    await setup?.close();
  });

  const campinas = () => new Set(sim.network.folders.filter((f) => f.nome === 'Campinas' || f.nomePai === 'Campinas').map((f) => f.id));

  /** Records the run listed from the platform (the rest it took from the listing cache). */
  async function listedBy(runId: string): Promise<number> {
    const [row] = await db.knex('sync_listing_cache').where({ integration_id: ID, listed_run_id: runId }).count<{ count: string }[]>('* as count');
    return Number(row!.count);
  }

  async function syncOk(options: { full?: boolean } = {}): Promise<RunRecord> {
    const run = await h.sync(options);
    assert.equal(run.status, 'succeeded', run.error ?? '');
    return run;
  }

  test('the first sync stores the network: service and distribution roles, boxes on their poles, planned boxes', async () => {
    assert.equal(first.status, 'succeeded', first.error ?? '');
    const folders = campinas();
    const simSplitters = [...sim.network.splitters.values()].filter((s) => {
      const container = sim.network.boxes.get(s.containerId) ?? sim.network.poles.get(s.containerId);
      return container && folders.has(container.folderId);
    });
    const stored = await db.knex('splitters').where({ integration_id: ID }).whereNull('removed_at').select('external_id', 'role', 'container_external_id');
    const byId = new Map(stored.map((s: { external_id: string; role: string }) => [s.external_id, s.role]));
    let compared = 0;
    for (const splitter of simSplitters) {
      const role = byId.get(objectIdOf('splitter', splitter.id));
      if (role === undefined) continue; // e.g. a splitter in a box rejected for its coordinates
      assert.equal(role, splitter.service ? 'service' : 'distribution', `splitter ${splitter.id}`);
      compared += 1;
    }
    assert.ok(compared > simSplitters.length * 0.9, `${compared} of ${simSplitters.length} splitters stored`);

    const boxes = await db.knex('boxes as b').leftJoin('poles as p', 'p.id', 'b.pole_id').where({ 'b.integration_id': ID, 'b.auto': false }).select('b.external_id', 'b.pole_link', 'p.external_id as pole', 'b.planned', 'b.kind');
    const simBox = (externalId: string) => [...sim.network.boxes.values()].find((b) => objectIdOf('box', b.id) === externalId);
    let onPlatformPole = 0;
    for (const box of boxes) {
      const source = simBox(box.external_id);
      // A pole-mounted splitter's box is made by the simulator's OZmap wire, not in its network.
      if (!source) continue;
      assert.equal(box.planned, Boolean(source.planned), `box ${source.id} planned`);
      assert.equal(box.kind, source.item === 'terminal' ? 'cto' : 'splice');
      if (source.poleId !== null && box.pole_link === 'platform') {
        assert.equal(box.pole, objectIdOf('pole', source.poleId));
        onPlatformPole += 1;
      }
    }
    assert.ok(onPlatformPole > 0, 'boxes are attached to the pole OZmap names');
  });

  test('customers are bound to the ports their properties connect them to', async () => {
    const ports = await db.knex('ports').where({ integration_id: ID }).whereNull('removed_at').whereNotNull('platform_customer_external_id').select('external_id', 'platform_customer_external_id', 'available');
    assert.ok(ports.length > 10, `${ports.length} bound ports`);
    for (const port of ports.slice(0, 200)) {
      const [splitterId, number] = [port.external_id.slice(0, port.external_id.lastIndexOf(':')), Number(port.external_id.slice(port.external_id.lastIndexOf(':') + 1))];
      const splitter = [...sim.network.splitters.values()].find((s) => objectIdOf('splitter', s.id) === splitterId)!;
      const simPort = splitter.ports.find((p) => p.number === number)!;
      assert.equal(port.platform_customer_external_id, objectIdOf('client', simPort.customerId!));
      assert.equal(port.available, false);
    }
    const customers = await db.knex('platform_customers').where({ integration_id: ID }).whereNotNull('port_external_id').count<{ count: string }[]>('* as count');
    assert.ok(Number(customers[0]!.count) > 10);
    // No document on OZmap: linking goes by the observation and the code, never by a document.
    const outcomes = await db.knex('platform_customers').where({ integration_id: ID }).distinct().pluck('link_status');
    assert.ok(outcomes.includes('linked'), JSON.stringify(outcomes));
    assert.ok(!outcomes.includes('linked_by_document'), JSON.stringify(outcomes));
  });

  test('a re-sync on unchanged data writes nothing and asks only for counts and changes', async () => {
    sim.resetStats();
    const again = await syncOk();
    for (const [kind, c] of Object.entries(again.counts)) assert.equal(c.created + c.updated + c.removed, 0, `${kind}: ${JSON.stringify(c)}`);
    // Per kind (poles, boxes, customers, splitters, ties): one count and one (empty) page of
    // changes; the login and the projects. No record was listed again.
    assert.deepEqual(sim.stats.byRoute, { 'POST /users/login': 1, 'GET /projects': 1, 'GET /poles': 2, 'GET /boxes': 2, 'GET /splitters': 2, 'GET /properties': 4 });
    assert.equal(await listedBy(again.id), 0);
    assert.ok(firstRequests >= sim.stats.requests);
  });

  test('an edit and a removal on the platform are both seen, reading only changes and ids', async () => {
    const folders = campinas();
    const inCampinas = (containerId: number) => {
      const container = sim.network.boxes.get(containerId) ?? sim.network.poles.get(containerId);
      return container !== undefined && folders.has(container.folderId) && !container.planned;
    };
    const service = [...sim.network.splitters.values()].filter((s) => s.service && !s.planned && inCampinas(s.containerId));
    const removed = service.find((s) => s.containerKind === 'box')!;
    const unbindFrom = service.find((s) => s !== removed && s.ports.some((p) => p.customerId !== null))!;
    const taken = unbindFrom.ports.find((p) => p.customerId !== null)!;
    sim.removeSplitter(removed.id);
    sim.unbindPort(taken.id);

    sim.resetStats();
    const run = await syncOk();
    assert.equal(run.counts.splitters?.removed, 1, JSON.stringify(nonZero(run.counts)));
    const stored = await db.knex('splitters').where({ integration_id: ID, external_id: objectIdOf('splitter', removed.id) }).first();
    assert.ok(stored.removed_at !== null, 'the removed splitter is marked removed');
    const port = await db.knex('ports').where({ integration_id: ID, external_id: `${objectIdOf('splitter', unbindFrom.id)}:${taken.number}` }).first();
    assert.equal(port.platform_customer_external_id, null);
    assert.equal(port.available, true);
    // The changed records only (the unbound client's tie is gone, its splitter changed), and the
    // ids of the kinds whose counts disagreed.
    assert.ok((await listedBy(run.id)) <= 3, `${await listedBy(run.id)} records listed`);
    assert.ok(sim.stats.requests <= 18, JSON.stringify(sim.stats.byRoute));

    sim.resetStats();
    const full = await syncOk({ full: true });
    for (const [kind, c] of Object.entries(full.counts)) assert.equal(c.created + c.removed, 0, `--full finds what the incremental run found: ${kind} ${JSON.stringify(c)}`);
  });
});

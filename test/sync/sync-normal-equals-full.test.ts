import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Knex } from 'knex';
import { seedErpContracts } from '../../bench/erp-seed.ts';
import { createPlatformAdapter } from '../../src/platforms/adapter-factory.ts';
import { erpContractsFor } from '../../src/simulator/network-generator.ts';
import { NetworkMutations } from '../../src/simulator/network-mutations.ts';
import { SeededRandom } from '../../src/simulator/seeded-random.ts';
import type { RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { createHarness, type Harness } from './fixtures/sync-harness.ts';
import { startSimulatedSync, type SimulatedSync } from './fixtures/simulated-sync.ts';

/**
 * The incremental read must never be less true than a full one. Random sequences of platform
 * changes are applied to a small simulated network; after each normal run, the stored network
 * must equal what a --full run stores into an empty schema.
 *
 * MAPSYNC_PROPERTY_STEPS sets how many changes (default 200, for CI; a run follows every 3 to 7); MAPSYNC_PROPERTY_SEED
 * the seed (default fixed). A failure prints the seed and the changes that led to it.
 */
const STEPS = Number(process.env.MAPSYNC_PROPERTY_STEPS ?? 200);
const SEED = Number(process.env.MAPSYNC_PROPERTY_SEED ?? 20_261_130);
const INTEGRATION = 'prop';

/** What a sync stores that must not depend on how it read the platform: no ids of our own, no times. */
const SNAPSHOT_SQL: Record<string, string> = {
  poles: `SELECT external_id, project_external_id, name, observation, selected, ST_AsText(geom) AS geom
            FROM poles WHERE integration_id = ? AND removed_at IS NULL ORDER BY external_id`,
  boxes: `SELECT b.external_id, b.project_external_id, b.name, b.kind, b.auto, p.external_id AS pole, b.pole_link, b.selected, ST_AsText(b.geom) AS geom
            FROM boxes b LEFT JOIN poles p ON p.id = b.pole_id
           WHERE b.integration_id = ? AND b.removed_at IS NULL ORDER BY b.external_id`,
  splitters: `SELECT s.external_id, b.external_id AS box, s.container_external_id, s.name, s.role, s.ratio_in, s.ratio_out
                FROM splitters s LEFT JOIN boxes b ON b.id = s.box_id
               WHERE s.integration_id = ? AND s.removed_at IS NULL ORDER BY s.external_id`,
  ports: `SELECT p.external_id, s.external_id AS splitter, p.number, p.label, p.available, p.platform_customer_external_id
            FROM ports p LEFT JOIN splitters s ON s.id = p.splitter_id
           WHERE p.integration_id = ? AND p.removed_at IS NULL ORDER BY p.external_id`,
  customers: `SELECT c.external_id, c.name, c.observation, c.integration_code, c.port_external_id, c.link_status, sc.service_id, ST_AsText(c.geom) AS geom
                FROM platform_customers c LEFT JOIN service_contracts sc ON sc.id = c.service_contract_id
               WHERE c.integration_id = ? AND c.removed_at IS NULL ORDER BY c.external_id`,
};

type Snapshot = Record<string, string[]>;

async function snapshot(knex: Knex): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const [table, sql] of Object.entries(SNAPSHOT_SQL)) {
    const result = await knex.raw<{ rows: Record<string, unknown>[] }>(sql, [INTEGRATION]);
    out[table] = result.rows.map((row) => JSON.stringify(row));
  }
  return out;
}

/** Rows only one side holds, per table: a readable account of a difference. */
function differences(normal: Snapshot, full: Snapshot): string[] {
  const lines: string[] = [];
  for (const table of Object.keys(SNAPSHOT_SQL)) {
    const a = new Set(normal[table]);
    const b = new Set(full[table]);
    for (const row of a) if (!b.has(row)) lines.push(`${table}: normal run has   ${row}`);
    for (const row of b) if (!a.has(row)) lines.push(`${table}: --full run has   ${row}`);
  }
  return lines;
}

/** Network tables and run bookkeeping: emptied before each --full reference run. */
const EMPTIED = ['ports', 'splitters', 'boxes', 'poles', 'platform_customers', 'bindings', 'push_outbox', 'sync_pole_checks', 'sync_equipment_reads', 'sync_link_state', 'sync_issues', 'sync_runs'];

describe('a normal run stores what a --full run into an empty schema stores, whatever the platform changed', () => {
  let setup: SimulatedSync | undefined;
  let sim: RunningSimulator;
  let normal: Harness;
  let reference: TestDatabase | undefined;
  let full: Harness;

  before(async () => {
    setup = await startSimulatedSync({ id: INTEGRATION, seed: SEED % 1000, size: 320, elements: ['service_splitters', 'poles', 'boxes', 'customers'] });
    ({ sim, h: normal } = setup);
    reference = await createTestDatabase();
    await seedErpContracts(reference.knex, erpContractsFor(sim.network));
    const integration = normal.integration;
    full = await createHarness(reference.knex, () => createPlatformAdapter(integration, { ca: sim.ca ?? undefined }), integration);
  });
  after(async () => {
    await setup?.close();
    await reference?.destroy();
  });

  test(`${STEPS} random platform changes (seed ${SEED})`, async () => {
    const random = new SeededRandom(SEED);
    const change = new NetworkMutations(sim);
    const ops = platformChanges(sim, change, random);
    const log: string[] = [];
    const first = await normal.sync({ full: true, force: true });
    assert.equal(first.status, 'succeeded', first.error ?? '');

    let step = 0;
    let runs = 0;
    while (step < STEPS) {
      const batch = random.int(3, 7);
      for (let i = 0; i < batch && step < STEPS; i += 1) {
        const op = random.pick(ops);
        const done = op();
        if (done === null) continue;
        step += 1;
        log.push(`${step}. ${done}`);
      }
      const run = await normal.sync({ force: true });
      assert.equal(run.status, 'succeeded', run.error ?? '');
      await reference!.knex.raw(`TRUNCATE ${EMPTIED.join(', ')} CASCADE`);
      const reread = await full.sync({ full: true, force: true });
      assert.equal(reread.status, 'succeeded', reread.error ?? '');
      runs += 1;
      const diff = differences(await snapshot(setup!.db.knex), await snapshot(reference!.knex));
      if (diff.length > 0) {
        assert.fail(
          `after run ${runs} (seed ${SEED}), the normal run differs from a --full read:\n${diff.slice(0, 30).join('\n')}\n` +
            `changes so far (last 25):\n${log.slice(-25).join('\n')}`,
        );
      }
    }
    assert.ok(runs > 0);
  });
});

/**
 * The changes people make on the platform, each a function that applies one at random and
 * says what it did, or returns null when the network has nothing it applies to.
 */
function platformChanges(sim: RunningSimulator, change: NetworkMutations, random: SeededRandom): Array<() => string | null> {
  const network = sim.network;
  const some = <T>(items: Iterable<T>, fits: (item: T) => boolean = () => true): T | null => {
    const list = [...items].filter(fits);
    return list.length === 0 ? null : random.pick(list);
  };
  const containers = () => [...[...network.boxes.values()].map((b) => b.id), ...[...network.poles.values()].map((p) => p.id)];
  let names = 0;
  return [
    () => {
      const port = some(network.ports.values(), (p) => p.customerId === null && !p.reserved && network.splitters.get(p.splitterId)?.service === true);
      if (!port) return null;
      const waiting = random.chance(0.5) ? some(network.customers.values(), (c) => c.portId === null) : null;
      if (waiting) {
        change.bindCustomer(port.id, waiting.id);
        return `bind customer ${waiting.id} to port ${port.id}`;
      }
      const added = sim.addCustomerOnPort(port.id, { nome: `Cliente Novo ${(names += 1)}`, cpfCnpj: null });
      return `bind new customer ${added.id} to port ${port.id}`;
    },
    () => {
      const port = some(network.ports.values(), (p) => p.customerId !== null);
      if (!port) return null;
      sim.unbindPort(port.id);
      return `unbind port ${port.id}`;
    },
    () => {
      const splitter = some(network.splitters.values());
      const to = some(containers(), (id) => id !== splitter?.containerId);
      if (!splitter || to === null) return null;
      change.moveSplitter(splitter.id, to);
      return `move splitter ${splitter.id} (${splitter.service ? 'service' : 'distribution'}) to ${network.boxes.has(to) ? `box ${to} (${network.boxes.get(to)!.item})` : `pole ${to}`}`;
    },
    () => {
      const port = some(network.ports.values());
      if (!port) return null;
      const number = random.int(1, 20);
      change.renumberPort(port.id, number);
      return `renumber port ${port.id} to ${number}`;
    },
    () => {
      const splitter = some(network.splitters.values());
      if (!splitter) return null;
      const name = `SPL-R${(names += 1)}`;
      change.renameSplitter(splitter.id, name);
      return `rename splitter ${splitter.id} to ${name}`;
    },
    () => {
      const port = some(network.ports.values());
      if (!port) return null;
      const label = random.chance(0.5) ? null : `L${(names += 1)}`;
      change.setPortLabel(port.id, label);
      return `label port ${port.id} ${label === null ? '(cleared)' : label}`;
    },
    () => {
      const splitter = some(network.splitters.values());
      if (!splitter) return null;
      sim.setSplitterService(splitter.id, !splitter.service);
      return `flag splitter ${splitter.id} ${splitter.service ? 'service' : 'distribution'}`;
    },
    () => {
      const splitter = some(network.splitters.values());
      if (!splitter) return null;
      const ratio = random.pick([2, 4, 8, 16]);
      change.changeRatio(splitter.id, ratio);
      return `re-rate splitter ${splitter.id} to 1x${ratio}`;
    },
    () => {
      const item = random.chance(0.5) ? some(network.boxes.values()) : some(network.poles.values());
      if (!item) return null;
      const lat = Math.round((item.lat + (random.next() - 0.5) * 0.0006) * 1e7) / 1e7;
      const lon = Math.round((item.lon + (random.next() - 0.5) * 0.0006) * 1e7) / 1e7;
      sim.moveElement(item.id, lat, lon);
      return `move ${network.boxes.has(item.id) ? 'box' : 'pole'} ${item.id}`;
    },
    () => {
      const box = some(network.boxes.values());
      if (!box) return null;
      sim.deleteElement(box.id);
      const again = change.addBox({ item: box.item, lat: box.lat, lon: box.lon, poleId: box.poleId !== null && network.poles.has(box.poleId) ? box.poleId : null, folderId: box.folderId });
      const service = box.item === 'terminal' || random.chance(0.3);
      const splitter = sim.addSplitter(again.id, { service, ratioOut: random.pick([4, 8]) });
      return `delete box ${box.id} and draw it again as box ${again.id} with splitter ${splitter.id}`;
    },
    () => {
      const splitter = some(network.splitters.values());
      if (!splitter) return null;
      sim.removeSplitter(splitter.id);
      const again = sim.addSplitter(splitter.containerId, { service: splitter.service, ratioOut: splitter.ratioOut });
      return `delete splitter ${splitter.id} and draw it again as ${again.id}`;
    },
    () => {
      const to = some(containers());
      if (to === null) return null;
      const added = sim.addSplitter(to, { service: random.chance(0.6), ratioOut: random.pick([4, 8]) });
      return `add splitter ${added.id} (${added.service ? 'service' : 'distribution'}) to ${network.boxes.has(to) ? 'box' : 'pole'} ${to}`;
    },
  ];
}

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NEEDS_REAL_POSTGRES } from '../helpers/test-database.ts';
import { PLATFORMS } from '../helpers/platforms.ts';
import { folderName } from '../../src/simulator/network-generator.ts';
import { runIssues } from '../../src/sync/sync-runs.repository.ts';
import { startSimulatedSync, type SimulatedSync } from './fixtures/simulated-sync.ts';

const geogrid = PLATFORMS.find((p) => p.name === 'geogrid')!;

/**
 * GeoGrid's `GET /clientes` has no folder filter and lists the whole account: a run linked to one
 * folder must still store, and report on, only the customers bound to that folder's ports.
 */
describe('a GeoGrid run linked to one folder of several', { skip: NEEDS_REAL_POSTGRES }, () => {
  let setup: SimulatedSync | undefined;
  before(async () => {
    setup = await startSimulatedSync({ id: 'scope-geogrid', seed: 11, size: 1500, platform: geogrid, project: folderName(0) });
  });
  after(async () => {
    await setup?.close();
  });

  test('stores only the customers on the linked folder’s ports, and reports issues only for them', async () => {
    const { sim, h, db } = setup!;
    const network = sim.network;
    const linked = network.folders.find((f) => f.nome === folderName(0))!;
    const folderOfContainer = new Map<number, number>();
    for (const pole of network.poles.values()) folderOfContainer.set(pole.id, pole.folderId);
    for (const box of network.boxes.values()) folderOfContainer.set(box.id, box.folderId);
    const inFolder = new Set<string>();
    const elsewhere = new Set<string>();
    for (const splitter of [...network.splittersByContainer.values()].flat()) {
      for (const port of splitter.ports) {
        if (port.customerId === null) continue;
        (folderOfContainer.get(splitter.containerId) === linked.id ? inFolder : elsewhere).add(geogrid.customerId(port.customerId));
      }
    }
    assert.ok(inFolder.size > 0 && elsewhere.size > 0, 'the simulated account has bound customers in the linked folder and in others');
    assert.ok(network.customers.size > inFolder.size);

    const run = await h.sync();
    assert.equal(run.status, 'succeeded', run.error ?? '');
    const stored = new Set(
      (await db.knex('platform_customers').where({ integration_id: 'scope-geogrid' }).whereNull('removed_at').select('external_id')).map((r: { external_id: string }) => r.external_id),
    );
    const outside = [...stored].filter((id) => !inFolder.has(id));
    assert.deepEqual(outside, [], 'no customer outside the linked folder is stored');
    const missing = [...inFolder].filter((id) => !stored.has(id) && !elsewhere.has(id));
    assert.ok(missing.length <= inFolder.size * 0.02, `the linked folder's customers are stored (${missing.length} of ${inFolder.size} missing)`);
    const positioned = await db.knex('platform_customers').where({ integration_id: 'scope-geogrid' }).whereNull('removed_at').whereNull('geom').count<{ n: string }[]>('* as n');
    assert.equal(Number(positioned[0]!.n), 0, 'every stored customer has the position of its box');

    const customerIssues = (await runIssues(db.knex, run.id)).filter((i) => i.kind === 'customers');
    const strays = customerIssues.filter((i) => i.externalId !== null && !stored.has(i.externalId));
    assert.deepEqual(strays, [], 'issues are reported only for the stored customers');
  });

  test('linked to another folder, the next run is refused with the way out, and replaces the network when forced', async () => {
    const { h, db } = setup!;
    const customers = () => db.knex('platform_customers').where({ integration_id: 'scope-geogrid' }).whereNull('removed_at').orderBy('external_id').pluck('external_id');
    const before = await customers();
    assert.ok(before.length > 0);
    await h.setIntegration({ ...h.integration, project: { link: folderName(1) } });
    const refused = await h.sync();
    assert.equal(refused.status, 'failed');
    assert.match(refused.error ?? '', /changed source since its stored network was synced \(project\)/);
    assert.match(refused.error ?? '', /--force/);
    assert.doesNotMatch(refused.error ?? '', /mass-removal guard/);
    assert.deepEqual(await customers(), before, 'a refused run changes nothing');

    const forced = await h.sync({ force: true });
    assert.equal(forced.status, 'succeeded', forced.error ?? '');
    const after = await customers();
    assert.ok(after.length > 0);
    assert.deepEqual(after.filter((id: string) => before.includes(id)), [], 'the other folder’s customers replace the first one’s');
    const again = await h.sync();
    assert.equal(again.status, 'succeeded', again.error ?? '');
  });
});

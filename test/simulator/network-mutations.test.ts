import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GeogridAdapter } from '../../src/platforms/geogrid/geogrid.adapter.ts';
import { NetworkMutations } from '../../src/simulator/network-mutations.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.server.ts';

/** Platform changes applied to the simulator show in what the GeoGrid adapter reads back. */
describe('simulator: network changes over time, read back through the adapter', () => {
  let sim: RunningSimulator;
  let adapter: GeogridAdapter;
  let change: NetworkMutations;

  before(async () => {
    sim = await startSimulator({ seed: 5, size: 800, limits: { concurrency: 20, requestsPerMinute: 100_000 } });
    adapter = new GeogridAdapter({ apiUrl: sim.url, token: sim.token, http: { concurrency: 10, requestsPerMinute: 100_000 } });
    change = new NetworkMutations(sim);
  });
  after(async () => {
    await adapter.close();
    await sim.close();
  });

  const serviceBox = () => [...sim.network.boxes.values()].find((b) => (sim.network.splittersByContainer.get(b.id) ?? []).some((s) => s.service))!;
  const barePole = () => [...sim.network.poles.values()].find((p) => !sim.network.splittersByContainer.has(p.id))!;

  async function diagram(id: number, kind: 'box' | 'pole') {
    const out = [];
    for await (const page of adapter.splitters([{ externalId: String(id), kind }])) out.push(...page.items);
    return out;
  }

  async function occupancy(id: number, kind: 'box' | 'pole') {
    for await (const batch of adapter.portOccupancy([{ externalId: String(id), kind }])) return batch[0]!.ports;
    throw new Error('no answer');
  }

  test('a splitter moved onto a bare pole keeps its id and its ports, and leaves its box', async () => {
    const box = serviceBox();
    const splitter = sim.network.splittersByContainer.get(box.id)!.find((s) => s.service)!;
    const pole = barePole();
    change.moveSplitter(splitter.id, pole.id);
    assert.equal((await diagram(box.id, 'box')).some((s) => s.externalId === String(splitter.id)), false);
    const [moved] = await diagram(pole.id, 'pole');
    assert.equal(moved?.externalId, String(splitter.id));
    assert.equal(moved?.containerKind, 'pole');
    assert.deepEqual(moved?.ports.map((p) => p.externalId), splitter.ports.map((p) => String(p.id)));
    assert.ok(splitter.ports.every((p) => p.containerId === pole.id));
  });

  test('renumbered ports, labels set and cleared, and a renamed splitter show in the occupancy read alone', async () => {
    const box = serviceBox();
    const splitter = sim.network.splittersByContainer.get(box.id)!.find((s) => s.service)!;
    const [first, second] = splitter.ports;
    change.renumberPort(first!.id, 42);
    change.setPortLabel(first!.id, 'NOVO');
    change.setPortLabel(second!.id, null);
    change.renameSplitter(splitter.id, 'SPL-XYZ');
    const ports = (await occupancy(box.id, 'box'))!;
    const one = ports.find((p) => p.portExternalId === String(first!.id))!;
    const two = ports.find((p) => p.portExternalId === String(second!.id))!;
    assert.deepEqual([one.number, one.label, one.splitterName, one.splitterExternalId], [42, 'NOVO', 'SPL-XYZ', String(splitter.id)]);
    assert.equal(two.label, null, 'a cleared label reads as empty, not as unknown');
  });

  test('a ratio change adds ports with new ids or takes the last ones away with their customers', async () => {
    const splitter = [...sim.network.splitters.values()].find((s) => s.service && s.ratioOut === 8 && s.ports.some((p) => p.customerId !== null))!;
    const before = splitter.ports.map((p) => p.id);
    change.changeRatio(splitter.id, 16);
    assert.equal(splitter.ports.length, 16);
    assert.deepEqual(splitter.ports.slice(0, 8).map((p) => p.id), before);
    assert.deepEqual(new Set(splitter.ports.map((p) => p.number)).size, 16);
    const customers = splitter.ports.filter((p) => p.customerId !== null).map((p) => p.customerId!);
    change.changeRatio(splitter.id, 2);
    assert.equal(splitter.ports.length, 2);
    for (const id of before.slice(2)) assert.equal(sim.network.ports.has(id), false);
    for (const customerId of customers) {
      const customer = sim.network.customers.get(customerId)!;
      assert.ok(customer.portId === null || splitter.ports.some((p) => p.id === customer.portId), `customer ${customerId} is on no removed port`);
    }
  });

  test('a status change shows in the item listing, and so in the item digest', async () => {
    const box = serviceBox();
    const digest = async () => {
      for await (const page of adapter.boxes({ projectExternalIds: [] })) {
        const found = page.items.find((b) => b.externalId === String(box.id));
        if (found) return found.listedDigest;
      }
      return undefined;
    };
    const beforeDigest = await digest();
    change.setItemStatus(box.id, 'Em manutenção');
    assert.notEqual(await digest(), beforeDigest);
  });

  test('GET /viabilidade/raio lists the items holding service equipment within the radius, and only those', async () => {
    const holders = new Set([...sim.network.splitters.values()].filter((s) => s.service).map((s) => String(s.containerId)));
    const all = await adapter.serviceEquipmentHolders({ lat: -22.9056, lon: -47.0608, radiusMeters: 50_000 });
    assert.deepEqual(new Set(all), holders);
    const none = await adapter.serviceEquipmentHolders({ lat: 0, lon: 0, radiusMeters: 10 });
    assert.deepEqual(none, []);
    const pole = barePole();
    const added = sim.addSplitter(pole.id, { service: true, ratioOut: 4 });
    assert.ok((await adapter.serviceEquipmentHolders({ lat: pole.lat, lon: pole.lon, radiusMeters: 1 }))?.includes(String(pole.id)));
    sim.setSplitterService(added.id, false);
    assert.equal((await adapter.serviceEquipmentHolders({ lat: pole.lat, lon: pole.lon, radiusMeters: 1 }))?.includes(String(pole.id)), false);
    const refused = await fetch(`${sim.url}/api/v3/viabilidade/raio?latitude=-22.9`, { headers: { 'api-key': sim.token } });
    assert.equal(refused.status, 400);
  });
});

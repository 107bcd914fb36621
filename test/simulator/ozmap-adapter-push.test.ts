import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { OzmapAdapter } from '../../src/platforms/ozmap/ozmap.adapter.ts';
import type { SimPort } from '../../src/simulator/network-generator.ts';
import { objectIdOf } from '../../src/simulator/ozmap/ozmap-ids.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.server.ts';

/**
 * mapsync's OZmap adapter writing to the OZmap simulator over HTTPS: the push path (a client
 * created inside a property, looked up by code, tied to another port, untied) and a login
 * token that expires, as the simulator records and checks them.
 */

let sim: RunningSimulator;
const fast = { concurrency: 5, requestsPerMinute: 100_000, retryBaseDelayMs: 5, timeoutMs: 5000 };

before(async () => {
  sim = await startSimulator({ platform: 'ozmap', seed: 9, size: 2500, https: true, limits: { concurrency: 20, requestsPerMinute: 100_000 } });
});
after(async () => {
  await sim.close();
});

const adapterWith = (credentials: { token: string } | { login: string; password: string }) =>
  new OzmapAdapter({ apiUrl: sim.url, credentials, ca: sim.ca!, http: fast });

function freePorts(count: number): SimPort[] {
  const ports: SimPort[] = [];
  for (const splitter of sim.network.splitters.values()) {
    const box = sim.network.boxes.get(splitter.containerId);
    if (!splitter.service || splitter.planned || !box || box.planned) continue;
    for (const port of splitter.ports) if (port.customerId === null && !port.reserved && ports.length < count) ports.push(port);
  }
  return ports;
}

const portId = (port: SimPort) => `${objectIdOf('splitter', port.splitterId)}:${port.number}`;
const request = (port: SimPort) => ({ containerExternalId: objectIdOf('box', port.containerId), portExternalId: portId(port), lon: null, lat: null });
const payload = { name: 'Ana Lima', document: '52998224725', personType: 'person' as const, serviceId: 'S-7001' };

test('a new client goes inside a property on the port; found by code; tied to another port and untied', async () => {
  const adapter = adapterWith({ token: sim.token });
  try {
    const [first, second] = freePorts(2) as [SimPort, SimPort];
    assert.equal(await adapter.findCustomerByIntegrationCode('S-7001'), null);
    const created = await adapter.bindNewCustomer(payload, request(first));
    const customer = sim.network.customers.get(first.customerId!)!;
    assert.equal(created.externalId, objectIdOf('client', customer.id));
    assert.equal(customer.codigoIntegracao, 'S-7001');
    assert.equal(sim.writes.propertiesCreated.at(-1)?.status, 201);
    assert.equal((await adapter.findCustomerByIntegrationCode('S-7001'))?.externalId, created.externalId);
    assert.equal(await adapter.portCustomer(objectIdOf('box', first.containerId), portId(first)), created.externalId);

    await adapter.bind({ ...request(second), customerExternalId: created.externalId });
    assert.equal(first.customerId, null);
    assert.equal(second.customerId, customer.id);
    assert.equal(sim.writes.propertiesUpdated.at(-1)?.status, 200);

    await adapter.unbind(portId(second), created.externalId);
    assert.equal(second.customerId, null);
    assert.equal(await adapter.portCustomer(objectIdOf('box', second.containerId), portId(second)), null);

    await adapter.updateCustomer(created.externalId, { ...payload, name: 'Ana L. Lima' });
    assert.equal(customer.nome, 'Ana L. Lima');
    const refused = [...sim.writes.propertiesCreated, ...sim.writes.propertiesUpdated, ...sim.writes.ftthClientsUpdated].filter((w) => w.status >= 400);
    assert.deepEqual(refused, [], 'every write the adapter sent was accepted');
  } finally {
    await adapter.close();
  }
});

test('a taken port is a conflict the adapter reports, and nothing is created', async () => {
  const adapter = adapterWith({ token: sim.token });
  try {
    const taken = [...sim.network.ports.values()].find((p) => p.customerId !== null && sim.network.boxes.has(p.containerId))!;
    const clients = sim.network.customers.size;
    await assert.rejects(adapter.bindNewCustomer({ ...payload, serviceId: 'S-7002' }, request(taken)), (error: { status?: number }) => error.status === 409);
    assert.equal(sim.network.customers.size, clients);
  } finally {
    await adapter.close();
  }
});

test('login and password: the adapter renews an expired token and goes on', async () => {
  sim.setLoginTokenRequests(3);
  const adapter = adapterWith({ login: sim.credentials!.login, password: sim.credentials!.password });
  try {
    const before = sim.stats.byRoute['POST /users/login'] ?? 0;
    for (let i = 0; i < 7; i += 1) assert.ok((await adapter.listProjects()).length >= 5);
    assert.ok((sim.stats.byRoute['POST /users/login'] ?? 0) - before >= 2, 'logged in again when the token expired');
  } finally {
    sim.setLoginTokenRequests(null);
    await adapter.close();
  }
});

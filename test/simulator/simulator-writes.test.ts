import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { GeogridAdapter } from '../../src/platforms/geogrid/geogrid.adapter.ts';
import { PlatformError } from '../../src/platforms/http/platform-error.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.server.ts';

let sim: RunningSimulator;
let adapter: GeogridAdapter;
const fast = { concurrency: 5, requestsPerMinute: 100_000, retryBaseDelayMs: 5, timeoutMs: 2000 };

before(async () => {
  sim = await startSimulator({ seed: 5, size: 2000, limits: { concurrency: 20, requestsPerMinute: 100_000 } });
  adapter = new GeogridAdapter({ apiUrl: sim.url, token: sim.token, http: fast });
});
after(async () => {
  await adapter.close();
  await sim.close();
});

const payload = { name: 'Maria Souza', document: '52998224725', personType: 'person' as const, serviceId: 'S-9001' };

function freePort() {
  for (const splitter of sim.network.splitters.values()) {
    if (!splitter.service || splitter.planned || containerOf(splitter.containerId).planned) continue;
    const port = splitter.ports.find((p) => p.customerId === null && !p.reserved);
    if (port) return port;
  }
  throw new Error('no free port');
}

function containerOf(id: number) {
  const container = sim.network.boxes.get(id) ?? sim.network.poles.get(id);
  if (!container) throw new Error(`no container ${id}`);
  return container;
}

test('a wrong api-key gets 401 as a permanent PlatformError', async () => {
  const stranger = new GeogridAdapter({ apiUrl: sim.url, token: 'wrong-token-xyz', http: fast });
  try {
    await assert.rejects(stranger.listProjects(), (error: unknown) => error instanceof PlatformError && error.status === 401);
  } finally {
    await stranger.close();
  }
});

test('customers: create (recorded with its exact body), duplicate integration code refused, lookup, update', async () => {
  const created = await adapter.createCustomer(payload);
  assert.equal(created.integrationCode, 'S-9001');
  const write = sim.writes.customersCreated.at(-1)!;
  assert.deepEqual(write.body, {
    dados: { nome: 'Maria Souza', cpfCnpj: '52998224725', tipo: 'F', observacao: 'id_cliente_servico: S-9001', codigoIntegracao: 'S-9001' },
  });
  await assert.rejects(adapter.createCustomer(payload), (error: unknown) => {
    assert.ok(error instanceof PlatformError);
    assert.equal(error.status, 400);
    assert.match(error.message, /Código de integração já está cadastrado/);
    return true;
  });
  assert.equal((await adapter.findCustomerByIntegrationCode('S-9001'))?.externalId, created.externalId);
  assert.equal(await adapter.findCustomerByIntegrationCode('nao-existe'), null);
  const updated = await adapter.updateCustomer(created.externalId, { ...payload, name: 'Maria S. Souza' });
  assert.equal(updated.name, 'Maria S. Souza');
  assert.equal(sim.network.customers.get(Number(created.externalId))?.nome, 'Maria S. Souza');
});

test('field validation answers in Portuguese keyed by field', async () => {
  await assert.rejects(
    adapter.createCustomer({ ...payload, serviceId: 'S-9002', extra: { state: 'São Paulo' } }),
    /estado: UF deve ter 2 letras/,
  );
});

test('bind shows the customer on the port; unbind frees it; a reserved port is refused', async () => {
  const customer = await adapter.createCustomer({ ...payload, serviceId: 'S-9100' });
  const port = freePort();
  const box = containerOf(port.containerId);
  await adapter.bind({ containerExternalId: String(port.containerId), portExternalId: String(port.id), customerExternalId: customer.externalId, lat: box.lat, lon: box.lon });
  assert.equal(await adapter.portCustomer(String(port.containerId), String(port.id)), customer.externalId);
  assert.deepEqual(sim.writes.binds.at(-1)?.body, { idPorta: port.id, idCliente: Number(customer.externalId), local: { latitude: box.lat, longitude: box.lon } });

  await adapter.unbind(String(port.id), customer.externalId);
  assert.equal(await adapter.portCustomer(String(port.containerId), String(port.id)), null);

  const reserved = freePort();
  sim.reservePort(reserved.id);
  await assert.rejects(
    adapter.bind({ containerExternalId: String(reserved.containerId), portExternalId: String(reserved.id), customerExternalId: customer.externalId, lat: null, lon: null }),
    (error: unknown) => error instanceof PlatformError && error.permanent && error.hasField('portaReservada'),
  );
});

test('bind refusals: a port taken by another customer is 409; local away from the box; planned equipment', async () => {
  const customer = await adapter.createCustomer({ ...payload, serviceId: 'S-9150' });
  const other = await adapter.createCustomer({ ...payload, serviceId: 'S-9151' });
  const bindAt = (port: { id: number; containerId: number }, customerId: string, lat: number | null, lon: number | null) =>
    adapter.bind({ containerExternalId: String(port.containerId), portExternalId: String(port.id), customerExternalId: customerId, lat, lon });

  const taken = freePort();
  const box = containerOf(taken.containerId);
  await bindAt(taken, other.externalId, box.lat, box.lon);
  await assert.rejects(bindAt(taken, customer.externalId, box.lat, box.lon), (error: unknown) => {
    assert.ok(error instanceof PlatformError);
    assert.equal(error.status, 409);
    assert.ok(error.permanent);
    assert.match(error.message, /já está em uso/);
    return true;
  });

  // `local` is checked against the box: 1.5 m away binds, about 3 m away is refused.
  const metre = 1 / 111_320;
  const near = freePort();
  const nearBox = containerOf(near.containerId);
  await bindAt(near, customer.externalId, nearBox.lat + 1.5 * metre, nearBox.lon);
  await adapter.unbind(String(near.id), customer.externalId);
  await assert.rejects(
    bindAt(near, customer.externalId, nearBox.lat + 3 * metre, nearBox.lon),
    (error: unknown) => error instanceof PlatformError && error.status === 400 && error.hasField('local'),
  );
  assert.equal(sim.network.ports.get(near.id)?.customerId, null);

  const planned = [...sim.network.splitters.values()].find((s) => s.service && (s.planned || containerOf(s.containerId).planned));
  assert.ok(planned, 'the simulated network has planned service equipment');
  const plannedPort = planned.ports.find((p) => !p.reserved)!;
  assert.equal(plannedPort.customerId, null, 'nothing is served from planned equipment');
  await assert.rejects(
    bindAt(plannedPort, customer.externalId, null, null),
    (error: unknown) => error instanceof PlatformError && error.status === 400 && error.hasField('modoProjeto'),
  );
});

test('a bind answered 500 after it succeeded is recognised by re-reading the port', async () => {
  const customer = await adapter.createCustomer({ ...payload, serviceId: 'S-9200' });
  const port = freePort();
  sim.failBindsAfterSuccess(1);
  const bindsBefore = sim.writes.binds.length;
  await adapter.bind({ containerExternalId: String(port.containerId), portExternalId: String(port.id), customerExternalId: customer.externalId, lat: null, lon: null });
  assert.equal(sim.writes.binds.length, bindsBefore + 1, 'the POST was sent once, not retried');
  assert.equal(sim.writes.binds.at(-1)?.status, 500);
  assert.equal(port.customerId, Number(customer.externalId));
});

test('a simulator that is down for a few requests is ridden out by retries of GETs', async () => {
  sim.setDown(2, '503');
  const projects = await adapter.listProjects();
  assert.ok(projects.length >= 5);
  sim.setDown(2, 'reset');
  assert.ok((await adapter.listProjects()).length >= 5);
  assert.equal(sim.stats.downAnswers >= 4, true);
});

test('mutations: hidden poles, removed equipment, moved and deleted elements, edited customers', async () => {
  const pole = [...sim.network.splittersByContainer.entries()].find(([id]) => sim.network.poles.has(id));
  assert.ok(pole, 'the network has a pole carrying equipment');
  const [poleId] = pole;
  sim.removeEquipmentFromPole(poleId);
  const after = [];
  for await (const page of adapter.splitters([{ externalId: String(poleId), kind: 'pole' }])) after.push(...page.items);
  assert.deepEqual(after, []);

  const box = sim.network.boxes.values().next().value!;
  sim.moveElement(box.id, -22.91, -47.07);
  sim.deleteElement([...sim.network.poles.keys()][3]!);
  const boxes = [];
  for await (const page of adapter.boxes({ projectExternalIds: [] })) boxes.push(...page.items);
  assert.deepEqual(
    boxes.filter((b) => b.externalId === String(box.id)).map((b) => [b.lat, b.lon]),
    [[-22.91, -47.07]],
  );

  const customer = sim.network.customers.values().next().value!;
  sim.setCustomerDocument(customer.id, '  000.111.222-33 ');
  sim.setCustomerObservation(customer.id, '<p>id_cliente_servico: 777</p>');
  const added = sim.addCustomerOnPort(freePort().id, { nome: 'Novo Cliente', cpfCnpj: '12.ABC.345/01DE-35' });
  const customers = [];
  for await (const page of adapter.customers({ projectExternalIds: [] })) customers.push(...page.items);
  const edited = customers.find((c) => c.externalId === String(customer.id))!;
  assert.equal(edited.rawDocument, '000.111.222-33');
  assert.equal(edited.observation, '<p>id_cliente_servico: 777</p>');
  assert.ok(customers.some((c) => c.externalId === String(added.id)));

  sim.hideAllPoles();
  const poles = [];
  for await (const page of adapter.poles({ projectExternalIds: [] })) poles.push(...page.items);
  assert.equal(poles.length, 0);
  sim.hideAllPoles(false);
});

test('admin endpoints under /__sim/ expose stats, writes and accept faults', async () => {
  const stats = (await (await fetch(`${sim.origin}/__sim/stats`)).json()) as { requests: number };
  assert.ok(stats.requests > 0);
  const writes = (await (await fetch(`${sim.origin}/__sim/writes`)).json()) as { customersCreated: unknown[] };
  assert.equal(writes.customersCreated.length, sim.writes.customersCreated.length);
  const response = await fetch(`${sim.origin}/__sim/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 0.5 }) });
  assert.equal(response.status, 200);
  assert.equal(sim.faults.errorRate, 0.5);
  sim.setFaults({});
  const contracts = (await (await fetch(`${sim.origin}/__sim/erp-contracts`)).json()) as unknown[];
  assert.ok(contracts.length > 0);
});

test('https mode: trusted with the generated certificate, refused without it', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'sim-ca-'));
  const caFile = path.join(dir, 'ca.pem');
  const secure = await startSimulator({ seed: 2, size: 300, https: true, caFile });
  const ca = await readFile(caFile, 'utf8');
  assert.match(ca, /BEGIN CERTIFICATE/);
  assert.ok(secure.url.startsWith('https://127.0.0.1:'));
  const trusting = new GeogridAdapter({ apiUrl: secure.url, token: secure.token, ca, http: fast });
  const localhost = new GeogridAdapter({ apiUrl: secure.url.replace('127.0.0.1', 'localhost'), token: secure.token, ca, http: fast });
  const distrusting = new GeogridAdapter({ apiUrl: secure.url, token: secure.token, http: { ...fast, retries: 0 } });
  try {
    assert.ok((await trusting.listProjects()).length >= 5);
    assert.ok((await localhost.listProjects()).length >= 5);
    await assert.rejects(distrusting.listProjects(), (error: unknown) => error instanceof PlatformError && error.status === null);
  } finally {
    await trusting.close();
    await localhost.close();
    await distrusting.close();
    await secure.close();
  }
});

import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, test } from 'node:test';
import { NetworkMutations } from '../../src/simulator/network-mutations.ts';
import { numericIdOf, objectIdOf } from '../../src/simulator/ozmap/ozmap-ids.ts';
import { ozmapBoxes } from '../../src/simulator/ozmap/ozmap-records.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.server.ts';

// The official SDK drives the simulator: what it sends is what the simulator must serve.
// Its logger would start an HTTP server and log every body at debug level unless told not to.
process.env.OZLOGGER_HTTP = 'false';
process.env.OZLOGGER_LEVEL = 'error';

type Sdk = any; // eslint-disable-line @typescript-eslint/no-explicit-any
let sim: RunningSimulator;
let OZMapSDK: new (url: string, options: Record<string, unknown>) => Sdk;

function sdkFor(options: Record<string, unknown>): Sdk {
  const sdk = new OZMapSDK(sim.url, options);
  // The simulator's certificate is self-signed: trust it as the CA, as mapsync's client does.
  sdk.apiInstance.client.defaults.httpsAgent = new https.Agent({ ca: sim.ca! });
  return sdk;
}

before(async () => {
  sim = await startSimulator({ platform: 'ozmap', seed: 3, size: 3000, https: true, limits: { concurrency: 20, requestsPerMinute: 100_000 } });
  OZMapSDK = ((await import('@ozmap/ozmap-sdk')) as unknown as { default: typeof OZMapSDK }).default;
});
after(async () => {
  await sim.close();
});

const folderNamed = (name: string) => sim.network.folders.find((f) => f.nome === name)!;

test('projects: name, identifier, area polygon and box hierarchy levels, found by name', async () => {
  const sdk = sdkFor({ apiKey: sim.token });
  const page = await sdk.project.find({ page: 1, limit: 10, filter: [{ property: 'name', operator: '=', value: 'Centro' }] });
  assert.equal(page.total, 1);
  const [project] = page.rows;
  assert.equal(project.id, objectIdOf('project', folderNamed('Centro').id));
  assert.equal(project.area.type, 'Polygon');
  assert.ok(project.area.coordinates[0].length >= 5);
  assert.equal(project.hierarchyLevels.box, 3, 'the CTO level');
  assert.deepEqual(project.hierarchyLevels.boxes.find((level: { name: string }) => level.name === 'CTO'), { id: 3, name: 'CTO' });
  assert.ok(typeof project.createdAt === 'string' && !Number.isNaN(Date.parse(project.updatedAt)));
});

test('poles within a project are exactly the poles drawn in its area, paged with page/limit', async () => {
  const sdk = sdkFor({ apiKey: sim.token });
  const centro = folderNamed('Centro');
  const expected = new Set([...sim.network.poles.values()].filter((p) => p.folderId === centro.id).map((p) => objectIdOf('pole', p.id)));
  const filter = [{ property: 'coords', operator: 'within', value: { model: 'project', id: objectIdOf('project', centro.id) } }];
  const seen = new Set<string>();
  for (let page = 1; ; page += 1) {
    const answer = await sdk.pole.find({ page, limit: 40, filter });
    assert.equal(answer.total, expected.size);
    assert.equal(answer.start, (page - 1) * 40);
    assert.equal(answer.count, answer.rows.length);
    for (const pole of answer.rows) {
      assert.deepEqual(pole.coords, [pole.lng, pole.lat]);
      assert.equal(pole.project, undefined);
      seen.add(pole.id);
    }
    if (!answer.hasNextPage) {
      assert.equal(answer.nextUrl, null);
      break;
    }
    assert.match(answer.nextUrl, new RegExp(`page=${page + 1}`));
  }
  assert.deepEqual(seen, expected);
});

test('boxes by project and hierarchy level; splitters populated with their type; findById', async () => {
  const sdk = sdkFor({ apiKey: sim.token });
  const centro = folderNamed('Centro');
  const ctos = await sdk.box.find({
    page: 1,
    limit: 1000,
    filter: [
      { property: 'project', operator: '=', value: objectIdOf('project', centro.id) },
      { property: 'hierarchyLevel', operator: '=', value: 3 },
    ],
  });
  const terminals = [...ozmapBoxes(sim.network).values()].filter((b) => b.folderId === centro.id && b.level === 3);
  assert.equal(ctos.total, terminals.length);
  assert.ok(terminals.some((t) => sim.network.poles.has(t.id)), 'splitters hung on a pole are served in a box on it');
  const planned = ctos.rows.filter((b: { implanted: boolean }) => !b.implanted);
  assert.deepEqual(new Set(planned.map((b: { id: string }) => numericIdOf('box', b.id))), new Set(terminals.filter((t) => t.planned).map((t) => t.id)));
  const box = ctos.rows.find((b: { implanted: boolean; pole?: string }) => b.implanted && b.pole);
  assert.equal(numericIdOf('pole', box.pole), ozmapBoxes(sim.network).get(numericIdOf('box', box.id)!)!.poleId);
  const onPole = [...sim.network.splitters.values()].find((s) => s.containerKind === 'pole')!;
  const served = await sdk.splitter.findById(objectIdOf('splitter', onPole.id));
  const holder = await sdk.box.findById(served.parent);
  assert.equal(holder.pole, objectIdOf('pole', onPole.containerId));

  const splitters = await sdk.splitter.find({ page: 1, limit: 50, populate: ['splitterType'], filter: [{ property: 'parent', operator: '=', value: box.id }] });
  const model = sim.network.splittersByContainer.get(numericIdOf('box', box.id)!)!;
  assert.equal(splitters.total, model.length);
  const splitter = splitters.rows[0];
  const modelSplitter = sim.network.splitters.get(numericIdOf('splitter', splitter.id)!)!;
  assert.equal(splitter.splitterType.isDrop, modelSplitter.service);
  assert.deepEqual(splitter.ratio, { input: 1, output: modelSplitter.ratioOut });
  assert.deepEqual(
    splitter.ports.map((p: { index: number; blocked: boolean }) => [p.index, p.blocked]),
    modelSplitter.ports.map((p) => [p.number, p.reserved]),
  );
  for (const port of modelSplitter.ports) {
    assert.equal(splitter.connectables.output[port.number - 1] !== null, port.customerId !== null, `port ${port.number}`);
  }

  const byId = await sdk.splitter.findById(splitter.id);
  assert.equal(byId.splitterType, objectIdOf('splitterType', modelSplitter.ratioOut * 2 + (modelSplitter.service ? 1 : 0)));
  assert.equal(await sdk.box.findById(objectIdOf('box', 1)), null);
});

test('properties tie clients to splitter ports (1-based); clients are found by code', async () => {
  const sdk = sdkFor({ apiKey: sim.token });
  const customer = [...sim.network.customers.values()].find((c) => c.portId !== null)!;
  const port = sim.network.ports.get(customer.portId!)!;
  const properties = await sdk.property.find({ page: 1, limit: 5, populate: 'client', filter: [{ property: 'client', operator: '=', value: objectIdOf('client', customer.id) }] });
  assert.equal(properties.total, 1);
  const [property] = properties.rows;
  assert.equal(property.client.name, customer.nome);
  assert.deepEqual(property.connections.map((c: { id: string; kind: string; port: number }) => [c.id, c.kind, c.port]), [[objectIdOf('splitter', port.splitterId), 'Splitter', port.number]]);

  const byCode = await sdk.ftthClient.find({ page: 1, limit: 2, filter: [{ property: 'code', operator: '=', value: property.client.code }] });
  assert.equal(byCode.total, 1);
  assert.equal(byCode.rows[0].id, objectIdOf('client', customer.id));
  const select = await sdk.ftthClient.find({ page: 1, limit: 1, select: 'code' });
  assert.deepEqual(Object.keys(select.rows[0]).sort(), ['_id', 'code', 'id']);
});

test('updatedAt > the last read returns only what changed since, including mutations over time', async () => {
  const sdk = sdkFor({ apiKey: sim.token });
  const newest = async (sdkRoute: Sdk) => (await sdkRoute.find({ page: 1, limit: 1, sorter: [{ property: 'updatedAt', direction: -1 }] })).rows[0].updatedAt as string;
  const sinceSplitters = await newest(sdk.splitter);
  const sinceClients = await newest(sdk.ftthClient);
  const changedAfter = (since: string) => [{ property: 'updatedAt', operator: '>', value: since }];
  assert.equal((await sdk.splitter.find({ page: 1, limit: 10, filter: changedAfter(sinceSplitters) })).total, 0);

  const splitter = [...sim.network.splitters.values()].find((s) => s.service)!;
  new NetworkMutations(sim).renameSplitter(splitter.id, 'SPL-RENOMEADO');
  const customer = [...sim.network.customers.values()][5]!;
  sim.setCustomerObservation(customer.id, 'ID: 777');

  const splitters = await sdk.splitter.find({ page: 1, limit: 10, filter: changedAfter(sinceSplitters) });
  assert.deepEqual(splitters.rows.map((s: { id: string }) => s.id), [objectIdOf('splitter', splitter.id)]);
  assert.ok(Date.parse(splitters.rows[0].updatedAt) > Date.parse(splitters.rows[0].createdAt));
  const clients = await sdk.ftthClient.find({ page: 1, limit: 10, filter: changedAfter(sinceClients) });
  assert.deepEqual(clients.rows.map((c: { id: string; observation: string }) => [c.id, c.observation]), [[objectIdOf('client', customer.id), 'ID: 777']]);
});

test('a property created with a nested client binds it to the port; the write is recorded', async () => {
  const sdk = sdkFor({ apiKey: sim.token });
  const splitter = [...sim.network.splitters.values()].find(
    (s) => s.service && !s.planned && s.containerKind === 'box' && !sim.network.boxes.get(s.containerId)!.planned && s.ports.some((p) => p.customerId === null && !p.reserved),
  )!;
  const port = splitter.ports.find((p) => p.customerId === null && !p.reserved)!;
  const box = sim.network.boxes.get(splitter.containerId)!;
  const created = await sdk.property.create({
    project: objectIdOf('project', box.folderId),
    box: objectIdOf('box', box.id),
    coords: [box.lon, box.lat],
    client: { code: 'S-SDK-1', name: 'Maria Souza', observation: 'ID: 4242' },
    connector: objectIdOf('splitter', splitter.id),
    port: port.number,
    auto_connect: true,
    force: false,
  });
  assert.equal(created.connections[0].port, port.number);
  const customer = sim.network.customers.get(port.customerId!)!;
  assert.equal(customer.codigoIntegracao, 'S-SDK-1');
  assert.equal(customer.portId, port.id);
  const write = sim.writes.propertiesCreated.at(-1)!;
  assert.equal(write.status, 201);
  assert.equal(write.id, created.id);
  assert.deepEqual((write.body as { client: unknown }).client, { code: 'S-SDK-1', name: 'Maria Souza', observation: 'ID: 4242', implanted: false });

  await sdk.ftthClient.updateById(objectIdOf('client', customer.id), { name: 'Maria S. Souza' });
  assert.equal(customer.nome, 'Maria S. Souza');
  await assert.rejects(
    sdk.property.create({ project: objectIdOf('project', box.folderId), client: { code: 'S-SDK-2' }, connector: objectIdOf('splitter', splitter.id), port: port.number }),
    (error: { status: number; data: { message: string } }) => error.status === 409 && /já atende outro cliente/.test(error.data.message),
  );
});

test('login and password: the token replaces the key; an expired token gets 401 until a new login', async () => {
  const wrong = sdkFor({ login: 'mapsync', password: 'wrong' });
  await assert.rejects(wrong.project.find({ page: 1, limit: 1 }), (error: { status: number }) => error.status === 401);

  sim.setLoginTokenRequests(2);
  try {
    const sdk = sdkFor({ login: sim.credentials!.login, password: sim.credentials!.password });
    const logins = () => sim.stats.byRoute['POST /users/login'] ?? 0;
    const before = logins();
    // No token yet: 401, login, the same call again with the token (1 of its 2 requests).
    assert.equal((await sdk.project.find({ page: 1, limit: 1 })).count, 1);
    assert.equal((await sdk.project.find({ page: 1, limit: 1 })).count, 1);
    assert.equal(logins() - before, 1);
    // The token is spent: 401, and the SDK logs in again, but its retry re-sends the expired
    // token (its headers were copied before the login), so the call fails; the next one works.
    await assert.rejects(sdk.project.find({ page: 1, limit: 1 }), (error: { status: number }) => error.status === 401);
    assert.equal(logins() - before, 2);
    assert.equal((await sdk.project.find({ page: 1, limit: 1 })).count, 1);
  } finally {
    sim.setLoginTokenRequests(null);
  }
});

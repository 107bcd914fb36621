import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import type { SimSplitter } from '../../src/simulator/network-generator.ts';
import { numericIdOf, objectIdOf } from '../../src/simulator/ozmap/ozmap-ids.ts';
import { ozmapBoxes } from '../../src/simulator/ozmap/ozmap-records.ts';
import { countWrites, startSimulator, type RunningSimulator } from '../../src/simulator/simulator.server.ts';

let sim: RunningSimulator;

before(async () => {
  sim = await startSimulator({ platform: 'ozmap', seed: 7, size: 2500, limits: { concurrency: 20, requestsPerMinute: 100_000 } });
});
after(async () => {
  await sim.close();
});

interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One API call; a GET may carry a JSON body, as the OZmap SDK sends filters. */
function call(method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: sim.token }): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(`${sim.url}/api/v2/${path}`, { method, headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
    });
    request.on('error', reject);
    request.end(payload);
  });
}

const usable = (s: SimSplitter) => s.service && !s.planned && s.containerKind === 'box' && !sim.network.boxes.get(s.containerId)!.planned;

function freePort(skip = 0) {
  const free = [...sim.network.splitters.values()].filter(usable).flatMap((s) => s.ports.filter((p) => p.customerId === null && !p.reserved));
  const port = free[skip]!;
  const splitter = sim.network.splitters.get(port.splitterId)!;
  return { port, splitter, box: sim.network.boxes.get(splitter.containerId)! };
}

const propertyBody = (spot: ReturnType<typeof freePort>, client: unknown) => ({
  project: objectIdOf('project', spot.box.folderId),
  box: objectIdOf('box', spot.box.id),
  connector: objectIdOf('splitter', spot.splitter.id),
  port: spot.port.number,
  auto_connect: true,
  client,
});

test('credentials: the raw API key; "Bearer", a wrong key or none get 401', async () => {
  assert.equal((await call('GET', 'projects')).status, 200);
  assert.equal((await call('GET', 'projects', undefined, { authorization: `Bearer ${sim.token}` })).status, 401);
  assert.equal((await call('GET', 'projects', undefined, { authorization: 'other' })).status, 401);
  const none = await call('GET', 'projects', undefined, {});
  assert.equal(none.status, 401);
  assert.equal(typeof none.body.message, 'string');
});

test('filters in a GET body or in the filter query parameter give the same rows; operators', async () => {
  const filter = [{ property: 'hierarchyLevel', operator: 'in', value: [2] }, { property: 'implanted', operator: '=', value: true }];
  const inBody = await call('GET', 'boxes?limit=1000', { filter });
  const inQuery = await call('GET', `boxes?limit=1000&filter=${encodeURIComponent(JSON.stringify(filter))}`);
  assert.equal(inBody.status, 200);
  assert.deepEqual(inQuery.body, inBody.body);
  const boxes = [...ozmapBoxes(sim.network).values()];
  assert.equal(inBody.body.total, boxes.filter((b) => b.level === 2 && !b.planned).length);

  const notin = await call('GET', 'boxes?limit=1', { filter: [{ property: 'hierarchyLevel', operator: 'notin', value: [2] }] });
  assert.equal(notin.body.total, boxes.filter((b) => b.level !== 2).length);
  const withPole = await call('GET', 'boxes?limit=1', { filter: [{ property: 'pole', operator: 'exists', value: true }] });
  assert.equal(withPole.body.total, boxes.filter((b) => b.poleId !== null).length);
  const drop = await call('GET', 'splitters?limit=1', { filter: [{ property: 'isDrop', operator: '!=', value: true }] });
  assert.equal(drop.body.total, [...sim.network.splitters.values()].filter((s) => !s.service).length);
  const ratio = await call('GET', 'splitters?limit=1', { filter: [{ property: 'ratio.output', operator: '>=', value: 16 }] });
  assert.equal(ratio.body.total, [...sim.network.splitters.values()].filter((s) => s.ratioOut >= 16).length);
  const sorted = await call('GET', 'poles?limit=5&select=name', { sort: [{ property: 'name', direction: -1 }] });
  const names = sorted.body.rows.map((p: { name: string }) => p.name);
  assert.deepEqual(names, [...names].sort().reverse());

  for (const bad of [
    { filter: [{ property: 'name', operator: 'matches', value: 'x' }] },
    { filter: [{ property: 'coords', operator: 'within', value: { model: 'project', id: objectIdOf('project', 1) } }] },
    { filter: { property: 'name' } },
  ]) {
    const answer = await call('GET', 'poles', bad);
    assert.equal(answer.status, 400, JSON.stringify(bad));
    assert.equal(typeof answer.body.message, 'string');
  }
  assert.equal((await call('GET', 'poles?limit=5000')).status, 400);
  assert.equal((await call('GET', 'poles?page=0')).status, 400);
  assert.equal(countWrites(sim.writes), 0, 'reads write nothing');
});

test('a property with an existing client takes a free port; taken, blocked and planned ports are refused', async () => {
  const client = [...sim.network.customers.values()].find((c) => c.portId === null && c.scenario !== null)!;
  const spot = freePort(0);
  const created = await call('POST', 'properties', propertyBody(spot, objectIdOf('client', client.id)));
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.client, objectIdOf('client', client.id));
  assert.deepEqual(created.body.connections.map((c: { id: string; port: number }) => [c.id, c.port]), [[objectIdOf('splitter', spot.splitter.id), spot.port.number]]);
  assert.deepEqual(created.body.coords, [spot.box.lon, spot.box.lat], 'no coords: the box position');
  assert.equal(spot.port.customerId, client.id);
  assert.deepEqual(sim.writes.propertiesCreated.at(-1), { id: created.body.id, body: propertyBody(spot, objectIdOf('client', client.id)), status: 201 });

  const twin = await call('POST', 'properties', propertyBody(freePort(1), objectIdOf('client', client.id)));
  assert.equal(twin.status, 409, 'one property per client');
  const taken = await call('POST', 'properties', propertyBody(spot, { code: 'NEW-1', name: 'Outra Pessoa' }));
  assert.equal(taken.status, 409);
  assert.match(taken.body.message, /já atende outro cliente/);

  const reserved = [...sim.network.splitters.values()].filter(usable).flatMap((s) => s.ports).find((p) => p.reserved)!;
  const reservedSplitter = sim.network.splitters.get(reserved.splitterId)!;
  const blocked = await call('POST', 'properties', propertyBody({ port: reserved, splitter: reservedSplitter, box: sim.network.boxes.get(reservedSplitter.containerId)! }, { code: 'NEW-2' }));
  assert.equal(blocked.status, 409);
  assert.match(blocked.body.message, /bloqueada/);

  const planned = [...sim.network.splitters.values()].find((s) => s.service && s.planned && s.containerKind === 'box')!;
  const refused = await call('POST', 'properties', propertyBody({ port: planned.ports[0]!, splitter: planned, box: sim.network.boxes.get(planned.containerId)! }, { code: 'NEW-3' }));
  assert.equal(refused.status, 400);
  assert.match(refused.body.message, /não está implantado/);
  assert.equal(sim.network.customers.size, [...sim.network.customers.values()].length);
  assert.ok(![...sim.network.customers.values()].some((c) => c.codigoIntegracao?.startsWith('NEW-')), 'a refused property creates no client');
});

test('bad bodies get 400 with a message naming the field', async () => {
  const spot = freePort(2);
  const cases: Array<[unknown, RegExp]> = [
    [{ ...propertyBody(spot, { code: 'X' }), color: 'red' }, /color|Unrecognized|unrecognized/],
    [{ ...propertyBody(spot, { code: 'X' }), port: 0 }, /port/],
    [{ ...propertyBody(spot, { code: 'X' }), port: 1.5 }, /port/],
    [{ ...propertyBody(spot, { code: 'X' }), project: 'Centro' }, /project/],
    [{ ...propertyBody(spot, { code: 'X' }), coords: [-22.9, -147.06] }, /coords/],
    [{ ...propertyBody(spot, { code: 'X' }), port: spot.splitter.ratioOut + 1 }, /port/],
    [{ ...propertyBody(spot, { code: 'X' }), connector: objectIdOf('splitter', 1) }, /connector/],
    [{ ...propertyBody(spot, { code: 'X', onu: { vlan: 10 } }) }, /onu/],
    [{ project: objectIdOf('project', spot.box.folderId), client: { code: 'X' } }, /coords/],
  ];
  for (const [body, message] of cases) {
    const answer = await call('POST', 'properties', body);
    assert.equal(answer.status, 400, JSON.stringify(body));
    assert.match(answer.body.message, message);
  }
  const clientId = objectIdOf('client', [...sim.network.customers.values()][0]!.id);
  assert.equal((await call('PATCH', `ftth-clients/${clientId}`, { status: 5 })).status, 400);
  assert.equal((await call('PATCH', `ftth-clients/${clientId}`, { document: '52998224725' })).status, 400);
  assert.equal((await call('PATCH', `ftth-clients/${objectIdOf('client', 1)}`, { name: 'x' })).status, 404);
  assert.equal(spot.port.customerId, null, 'nothing applied');
});

test('client update by code; a code owned by another client is a conflict', async () => {
  const [a, b] = [...sim.network.customers.values()].slice(10, 12);
  const updated = await call('PATCH', `ftth-clients/${objectIdOf('client', a!.id)}`, { code: 'S-100', observation: 'ID: 100', onu: { user_PPPoE: 'maria' } });
  assert.equal(updated.status, 200);
  assert.equal(updated.body.code, 'S-100');
  assert.equal(updated.body.onu.user_PPPoE, 'maria');
  assert.equal(a!.observacao, 'ID: 100');
  const byCode = await call('GET', 'ftth-clients', { filter: [{ property: 'code', operator: '=', value: 'S-100' }] });
  assert.deepEqual(byCode.body.rows.map((c: { id: string }) => c.id), [objectIdOf('client', a!.id)]);
  const clash = await call('PATCH', `ftth-clients/${objectIdOf('client', b!.id)}`, { code: 'S-100' });
  assert.equal(clash.status, 409);
  assert.deepEqual(
    sim.writes.ftthClientsUpdated.slice(-2).map((w) => w.status),
    [200, 409],
  );
});

test('patching a property moves or drops its connection; deleting it frees the port and keeps the client', async () => {
  const first = freePort(3);
  const created = await call('POST', 'properties', { ...propertyBody(first, { code: 'S-200', name: 'João Lima' }), coords: [first.box.lon + 0.0002, first.box.lat] });
  assert.equal(created.status, 201);
  const customerId = numericIdOf('client', created.body.client)!;
  const second = freePort(4);
  const moved = await call('PATCH', `properties/${created.body.id}`, { connector: objectIdOf('splitter', second.splitter.id), port: second.port.number, box: objectIdOf('box', second.box.id), auto_connect: true });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  assert.equal(first.port.customerId, null);
  assert.equal(second.port.customerId, customerId);
  assert.deepEqual(moved.body.connections.map((c: { port: number }) => c.port), [second.port.number]);

  const dropped = await call('PATCH', `properties/${created.body.id}`, { connector: null });
  assert.deepEqual(dropped.body.connections, []);
  assert.equal(second.port.customerId, null);
  await call('PATCH', `properties/${created.body.id}`, { connector: objectIdOf('splitter', second.splitter.id), port: second.port.number });

  const deleted = await call('DELETE', `properties/${created.body.id}`);
  assert.equal(deleted.status, 200);
  assert.equal(second.port.customerId, null);
  assert.equal((await call('GET', `properties/${created.body.id}`)).status, 404);
  assert.equal((await call('GET', `ftth-clients/${created.body.client}`)).status, 200);
  assert.equal((await call('DELETE', `properties/${created.body.id}`)).status, 404);
  assert.deepEqual(sim.writes.propertiesDeleted.slice(-2).map((w) => w.status), [200, 404]);
  assert.deepEqual(sim.writes.propertiesUpdated.slice(-3).map((w) => w.status), [200, 200, 200]);
});

test('a bind that fails after success: applied, then answered 500', async () => {
  const spot = freePort(5);
  sim.failBindsAfterSuccess(1);
  const answer = await call('POST', 'properties', propertyBody(spot, { code: 'S-300' }));
  assert.equal(answer.status, 500);
  assert.ok(spot.port.customerId !== null);
  const again = await call('GET', 'ftth-clients', { filter: [{ property: 'code', operator: '=', value: 'S-300' }] });
  assert.equal(again.body.total, 1, 'the client is there: a retry must find it by code, not create a twin');
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.server.ts';

let sim: RunningSimulator;

before(async () => {
  sim = await startSimulator({ platform: 'ozmap', seed: 11, size: 2000, limits: { concurrency: 20, requestsPerMinute: 100_000 } });
});
after(async () => {
  await sim.close();
});

const get = (path: string, init: RequestInit = {}) => fetch(`${sim.url}/api/v2/${path}`, { headers: { authorization: sim.token }, ...init });

test('500s and down for N requests, in OZmap words', async () => {
  sim.setFaults({ errorRate: 1 });
  const failed = await get('projects');
  assert.equal(failed.status, 500);
  assert.equal(typeof (await failed.json()).message, 'string');
  sim.setFaults({});
  sim.setDown(2);
  assert.equal((await get('projects')).status, 503);
  const down = await get('projects');
  assert.equal(down.status, 503);
  assert.equal(down.headers.get('retry-after'), '1');
  assert.equal((await get('projects')).status, 200);
});

test('429 with Retry-After past the request budget', async () => {
  sim.setLimits({ requestsPerMinute: 3, windowMs: 60_000 });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const answer = await get('poles?limit=1');
      statuses.push(answer.status);
      if (answer.status === 429) assert.ok(Number(answer.headers.get('retry-after')) >= 1);
    }
    assert.ok(statuses.includes(429), statuses.join(','));
  } finally {
    sim.setLimits({ requestsPerMinute: 100_000, windowMs: 60_000 });
  }
});

test('malformed records are stable per record and listed; the rest stay whole', async () => {
  sim.setFaults({ malformedRate: 0.2 });
  try {
    const first = (await (await get('poles?limit=1000')).json()).rows as unknown[];
    const second = (await (await get('poles?limit=1000')).json()).rows as unknown[];
    assert.deepEqual(first, second);
    const whole = (row: unknown) => {
      const record = row as { id?: unknown; coords?: unknown } | null;
      return record !== null && typeof record === 'object' && typeof record.id === 'string' && Array.isArray(record.coords) && typeof record.coords[0] === 'number';
    };
    const bad = first.filter((row) => !whole(row));
    const listed = sim.malformedRecords().filter((r) => r.kind === 'pole');
    assert.equal(bad.length, listed.length);
    assert.ok(bad.length > 0 && bad.length < first.length / 2);
    assert.deepEqual(new Set(listed.map((r) => r.variant)), new Set(['not_an_object', 'text', 'bad_coordinates', 'missing_id']));
    const clients = (await (await get('ftth-clients?limit=1000')).json()).rows as unknown[];
    assert.ok(clients.some((row) => row === null || typeof row === 'string'));
    // A property carries its client: the same customers are malformed in both listings.
    const malformedCustomers = new Set(sim.malformedRecords().filter((r) => r.kind === 'customer').map((r) => r.id));
    const properties = (await (await get('properties?limit=1000')).json()).rows as unknown[];
    const readable = properties.filter((row) => row !== null && typeof row === 'object' && 'id' in row).length;
    const onPorts = [...sim.network.customers.values()].filter((c) => c.portId !== null);
    assert.equal(readable, onPorts.filter((c) => !malformedCustomers.has(c.id)).length);
  } finally {
    sim.setFaults({});
  }
});

test('latency and hangs', async () => {
  sim.setFaults({ hangRate: 1 });
  await assert.rejects(get('projects', { signal: AbortSignal.timeout(300) }), /abort|timeout/i);
  assert.ok(sim.stats.injectedHangs >= 1);
  sim.setFaults({ latencyMs: 50 });
  const answer = await get('projects');
  assert.equal(answer.status, 200);
  sim.setFaults({});
});

test('hidden poles: the pole listing is empty until they come back', async () => {
  const total = async () => (await (await get('poles?limit=1')).json()).total as number;
  assert.equal(await total(), sim.network.poles.size);
  sim.hideAllPoles(true);
  assert.equal(await total(), 0);
  sim.hideAllPoles(false);
  assert.equal(await total(), sim.network.poles.size);
});

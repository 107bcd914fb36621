import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, describe, test } from 'node:test';
import nock from 'nock';
import { PlatformError } from '../../src/platforms/http/platform-error.ts';
import { PlatformRequestTally } from '../../src/platforms/http/request-tally.ts';
import { OzmapAdapter, type OzmapCredentials } from '../../src/platforms/ozmap/ozmap.adapter.ts';
import { CustomerCreationUnsupportedError, type CustomerPayload } from '../../src/platforms/platform-adapter.ts';
import { ID_ORDER, customerPatchBody, filters, newClientBody, portExternalId, propertyBindBody, propertyCreateBody } from '../../src/platforms/ozmap/ozmap.wire.ts';

/**
 * The OZmap adapter over HTTP (nock): paging it writes itself, login and its renewal, the
 * redaction of credentials, and, with the official SDK as the oracle, that each request it
 * sends (method, path, query, JSON body) is the one the SDK sends for the same call.
 */

const HOST = 'https://acme.ozmap.test';
const API = '/api/v2';
const KEY = 'oz-api-key-0123456789';
const PROJECT = '6553a1f0c2e4b9a1d0000001';
const BOX = '65b0000000000000000000b1';
const SPLITTER = '65c0000000000000000000s1';
const CLIENT = '65e0000000000000000000c1';
const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../fixtures/ozmap/${name}`, import.meta.url), 'utf8'));

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  authorization: string | null;
}

/** Answers every request with `reply` and records what was asked. */
function platform(reply: (seen: Seen, all: Seen[]) => [number, unknown]): Seen[] {
  const all: Seen[] = [];
  for (const method of ['GET', 'POST', 'PATCH', 'DELETE']) {
    nock(HOST)
      .persist()
      .intercept(/.*/, method)
      .reply(function (uri, body) {
        const url = new URL(uri, HOST);
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        const header = this.req.headers.authorization;
        const seen: Seen = {
          method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          body: text === '' || text === undefined ? undefined : JSON.parse(text),
          authorization: typeof header === 'string' ? header : null,
        };
        all.push(seen);
        return reply(seen, all);
      });
  }
  return all;
}

const adapters: OzmapAdapter[] = [];
function adapter(options: { pageSize?: number; credentials?: OzmapCredentials; containerChunk?: number } = {}): OzmapAdapter {
  const a = new OzmapAdapter({
    apiUrl: `${HOST}/`,
    credentials: options.credentials ?? { token: KEY },
    adapter: 'http',
    pageSize: options.pageSize ?? 500,
    containerChunk: options.containerChunk ?? 100,
    http: { requestsPerMinute: 60_000, retryBaseDelayMs: 5, timeoutMs: 2000, retries: 1 },
  });
  adapters.push(a);
  return a;
}

async function collect<T>(pages: AsyncIterable<{ items: T[]; rejected: unknown[]; changes?: { created: number } }>) {
  const items: T[] = [];
  const rejected: unknown[] = [];
  const changes: ({ created: number } | undefined)[] = [];
  for await (const page of pages) {
    items.push(...page.items);
    rejected.push(...page.rejected);
    changes.push(page.changes);
  }
  return { items, rejected, changes };
}

const page = (rows: unknown[], total = rows.length) => ({ total, count: rows.length, start: 0, limit: 500, rows, hasNextPage: false, nextUrl: null });

const PAYLOAD: CustomerPayload = { name: 'Maria da Silva', document: '12345678909', personType: 'person', serviceId: '20417' };

before(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
after(async () => {
  for (const a of adapters) await a.close();
  nock.enableNetConnect();
});

describe('ozmap adapter: paging and filters', () => {
  test('pages with page/limit itself, filter and sort as a JSON body on the GET, until the total', async () => {
    const rows = Array.from({ length: 5 }, (_, i) => ({ id: `p${i}`, name: `P${i}`, coords: [-47.06, -22.9 - i / 1000], createdAt: '2025-01-01T00:00:00Z' }));
    const seen = platform((s) => {
      const n = Number(s.query.page);
      return [200, { ...page(rows.slice((n - 1) * 2, n * 2), 5), hasNextPage: n < 3 }];
    });
    const { items } = await collect(adapter({ pageSize: 2 }).poles({ projectExternalIds: [PROJECT] }));
    assert.equal(items.length, 5);
    assert.deepEqual(seen.map((s) => [s.method, s.path, s.query.page, s.query.limit]), [
      ['GET', `${API}/poles`, '1', '2'],
      ['GET', `${API}/poles`, '2', '2'],
      ['GET', `${API}/poles`, '3', '2'],
    ]);
    assert.deepEqual(seen[0]!.body, { filter: [{ property: 'coords', operator: 'within', value: { model: 'project', id: PROJECT } }], sort: ID_ORDER });
    assert.equal(seen[0]!.authorization, KEY, 'the API key goes raw, with no Bearer');
  });

  test('a server that ignores `page` is read once, never for ever', async () => {
    const seen = platform(() => [200, { rows: [{ id: 'a', coords: [-47, -22] }, { id: 'b', coords: [-47, -22] }], total: null, hasNextPage: true }]);
    const { items } = await collect(adapter({ pageSize: 2 }).poles({ projectExternalIds: [] }));
    assert.equal(items.length, 2);
    assert.equal(seen.length, 2);
    assert.deepEqual(seen[0]!.body, { sort: ID_ORDER });
  });

  test('an unreadable page fails the listing with the endpoint', async () => {
    platform(() => [200, fixture('unreadable-page.json')]);
    await assert.rejects(collect(adapter().boxes({ projectExternalIds: [PROJECT] })), /unexpected shape for GET \/boxes/);
  });

  test('changedSince: updatedAt > the time, as OZmap ERP integrations poll; each page says how many it created', async () => {
    const since = new Date('2025-03-01T00:00:00.000Z');
    const seen = platform(() => [200, fixture('poles.json')]);
    const { items, changes } = await collect(adapter().poles({ projectExternalIds: [PROJECT] }, { changedSince: since }));
    assert.equal(items.length, 2);
    assert.deepEqual(changes, [{ created: 3 }]);
    assert.deepEqual((seen[0]!.body as { filter: unknown[] }).filter, [
      { property: 'coords', operator: 'within', value: { model: 'project', id: PROJECT } },
      { property: 'updatedAt', operator: '>', value: '2025-03-01T00:00:00.000Z' },
    ]);
  });

  test('boxes: the CTO level read once per project; splitters of boxes by chunks, customers on ports from properties', async () => {
    const seen = platform((s) => {
      if (s.path === `${API}/projects/${PROJECT}`) return [200, fixture('project.json')];
      if (s.path === `${API}/boxes`) return [200, fixture('boxes.json')];
      if (s.path === `${API}/splitters`) return [200, fixture('splitters.json')];
      if (s.path === `${API}/properties`) return [200, fixture('properties.json')];
      return [404, {}];
    });
    const a = adapter({ containerChunk: 2 });
    const boxes = await collect(a.boxes({ projectExternalIds: [PROJECT] }));
    assert.deepEqual(boxes.items.map((b) => b.kind), ['cto', 'splice', 'cto', 'cto']);
    const splitters = await collect(
      a.splitters([
        { externalId: BOX, kind: 'box' },
        { externalId: 'pole-1', kind: 'pole' },
        { externalId: '65b0000000000000000000b2', kind: 'box' },
        { externalId: '65b0000000000000000000b3', kind: 'box' },
      ]),
    );
    const reads = seen.filter((s) => s.path !== `${API}/boxes` && !s.path.startsWith(`${API}/projects`));
    const service = [SPLITTER, '65c0000000000000000000s3'];
    assert.deepEqual(reads.map((s) => [s.path, JSON.stringify((s.body as { filter: { value: unknown }[] }).filter[0]!.value), s.query.populate]), [
      [`${API}/splitters`, JSON.stringify([BOX, 'pole-1']), 'splitterType parent'],
      [`${API}/properties`, JSON.stringify(service), 'client'],
      // The fixture answers the same splitters again: repeats, so no service splitter to read ties for.
      [`${API}/splitters`, JSON.stringify(['65b0000000000000000000b2', '65b0000000000000000000b3']), 'splitterType parent'],
    ]);
    assert.equal(seen.filter((s) => s.path.startsWith(`${API}/projects`)).length, 1);
    const port2 = splitters.items.flatMap((s) => s.ports).find((p) => p.externalId === portExternalId(SPLITTER, 2));
    assert.equal(port2?.customer?.externalId, CLIENT);
  });

  test('change tracking: a count is one limit=1 request; ids are read with select', async () => {
    const seen = platform((s) => (s.query.limit === '1' ? [200, page([{ _id: 'x' }], 4242)] : [200, page([{ _id: 'a' }, { _id: 'b' }, { client: 'c9' }])]));
    const a = adapter();
    assert.equal(await a.changeTracking.count('boxes', { projectExternalIds: [PROJECT] }), 4242);
    assert.deepEqual(seen[0]!.query, { page: '1', limit: '1', select: '_id' });
    const ids: string[] = [];
    for await (const chunk of a.changeTracking.ids('customers', { projectExternalIds: [PROJECT] })) ids.push(...chunk);
    assert.deepEqual(ids, ['c9']);
    assert.deepEqual([seen[1]!.path, seen[1]!.query.select], [`${API}/properties`, 'client']);
  });
});

describe('ozmap adapter: authentication', () => {
  test('login: posts users/login?type=API, then sends the token it got; a 401 renews it once per call, never in a loop', async () => {
    let logins = 0;
    const seen = platform((s) => {
      if (s.path === `${API}/users/login`) {
        logins += 1;
        return [200, { authorization: `login-token-${logins}` }];
      }
      // The first token expires after one call; the second one is refused for good.
      if (s.authorization === 'login-token-1' && seen.filter((x) => x.path === `${API}/projects`).length === 1) return [200, fixture('projects.json')];
      return [401, { message: 'token expired' }];
    });
    const a = adapter({ credentials: { login: 'mapsync', password: 'pw-very-secret-1' } });
    const projects = await a.listProjects();
    assert.deepEqual(projects.map((p) => [p.name, p.parentName]), [['Centro', null], ['Centro - Expansão', 'Centro']]);
    assert.deepEqual(seen[0], { method: 'POST', path: `${API}/users/login`, query: { type: 'API' }, body: { login: 'mapsync', password: 'pw-very-secret-1' }, authorization: null });
    const error = await a.listProjects().then(
      () => assert.fail('a refused renewed token is an error'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof PlatformError && error.status === 401);
    assert.equal(logins, 2, 'one renewal for the failed call, no loop');
    assert.deepEqual(seen.slice(2).map((s) => [s.path, s.authorization]), [
      [`${API}/projects`, 'login-token-1'],
      [`${API}/users/login`, 'login-token-1'],
      [`${API}/projects`, 'login-token-2'],
    ]);
  });

  test('an adapter made for a run counts its requests by OZmap route and shares the login', async () => {
    let logins = 0;
    platform((s) => {
      if (s.path === `${API}/users/login`) return [200, { authorization: `t-${++logins}` }];
      if (s.path === `${API}/projects/${PROJECT}`) return [200, fixture('project.json')];
      return [200, s.path === `${API}/boxes` ? fixture('boxes.json') : page([])];
    });
    const base = adapter({ credentials: { login: 'u', password: 'pw-very-secret-4' } });
    await base.listProjects();
    const tally = new PlatformRequestTally();
    const run = base.forRun({ tally });
    await collect(run.boxes({ projectExternalIds: [PROJECT] }));
    await run.findCustomerByIntegrationCode('1');
    await run.changeTracking!.count('poles', { projectExternalIds: [PROJECT] });
    assert.equal(logins, 1);
    assert.deepEqual(tally.toJSON().byFamily, { boxes: 1, 'ftth-clients': 1, poles: 1, projects: 1 });
    const without = Object.create(base) as OzmapAdapter;
    Object.defineProperty(without, 'changeTracking', { value: undefined });
    assert.equal(without.forRun({ tally }).changeTracking, undefined, 'a capability taken away stays away');
  });

  test('concurrent calls share one login', async () => {
    let logins = 0;
    platform((s) => {
      if (s.path === `${API}/users/login`) return [200, { authorization: `t-${++logins}` }];
      return [200, page([])];
    });
    const a = adapter({ credentials: { login: 'u', password: 'pw-very-secret-2' } });
    await Promise.all([a.listProjects(), a.listProjects(), a.findCustomerByIntegrationCode('1')]);
    assert.equal(logins, 1);
  });

  test('an API key refused is an error at once: no login, no re-send', async () => {
    const seen = platform(() => [401, { message: `invalid key ${KEY}` }]);
    const error = await adapter()
      .listProjects()
      .catch((e: unknown) => e);
    assert.ok(error instanceof PlatformError && error.status === 401);
    assert.equal(seen.length, 1);
    assert.ok(!error.message.includes(KEY), 'the key is redacted from the error');
  });

  test('the password and the login token never show in an error', async () => {
    platform((s) => {
      if (s.path === `${API}/users/login`) return [200, { authorization: 'login-token-secret-9' }];
      return [500, { message: 'failed for pw-very-secret-3 with login-token-secret-9' }];
    });
    const error = await adapter({ credentials: { login: 'u', password: 'pw-very-secret-3' } })
      .listProjects()
      .catch((e: unknown) => e);
    assert.ok(error instanceof PlatformError);
    assert.ok(!error.message.includes('pw-very-secret-3') && !error.message.includes('login-token-secret-9'), error.message);
  });
});

describe('ozmap adapter: writes', () => {
  test('createCustomer refuses clearly: OZmap creates a client only inside a property', async () => {
    await assert.rejects(adapter().createCustomer(PAYLOAD), CustomerCreationUnsupportedError);
  });

  test('bind patches the client property: box, connector (splitter), 1-based port, coords [lng, lat], auto_connect', async () => {
    const seen = platform((s) => {
      if (s.method === 'GET' && s.path === `${API}/boxes/${BOX}`) return [200, { id: BOX, project: PROJECT, coords: [-47.061, -22.901] }];
      if (s.method === 'GET' && s.path === `${API}/properties`) return [200, page([fixture('properties.json').rows![0 as never]])];
      return [200, {}];
    });
    await adapter().bind({ containerExternalId: BOX, portExternalId: portExternalId(SPLITTER, 5), customerExternalId: CLIENT, lon: -47.0615, lat: -22.9012 });
    const patch = seen.find((s) => s.method === 'PATCH');
    assert.deepEqual(patch, {
      method: 'PATCH',
      path: `${API}/properties/65d0000000000000000000r1`,
      query: {},
      body: { box: BOX, coords: [-47.0615, -22.9012], connector: SPLITTER, port: 5, auto_connect: true },
      authorization: KEY,
    });
    assert.deepEqual((seen.find((s) => s.method === 'GET' && s.path === `${API}/properties`)!.body as { filter: unknown }).filter, [filters.client(CLIENT)]);
  });

  test('bind creates a property for a client that has none; unbind unties only the tie on that port', async () => {
    const seen = platform((s) => {
      if (s.method === 'GET' && s.path === `${API}/boxes/${BOX}`) return [200, { id: BOX, project: { id: PROJECT }, coords: [-47.061, -22.901] }];
      if (s.method === 'GET' && s.path === `${API}/properties`) return [200, page([])];
      return [201, { id: 'new-property', client: CLIENT }];
    });
    await adapter().bind({ containerExternalId: BOX, portExternalId: portExternalId(SPLITTER, 3), customerExternalId: CLIENT, lon: null, lat: null });
    assert.deepEqual(seen.find((s) => s.method === 'POST')?.body, {
      project: PROJECT,
      box: BOX,
      coords: [-47.061, -22.901],
      client: CLIENT,
      connector: SPLITTER,
      port: 3,
      auto_connect: true,
    });

    nock.cleanAll();
    const unbinding = platform((s) => (s.method === 'GET' ? [200, fixture('properties.json')] : [200, {}]));
    await adapter().unbind(portExternalId(SPLITTER, 2), CLIENT);
    await adapter().unbind(portExternalId(SPLITTER, 7), CLIENT);
    assert.deepEqual(unbinding.filter((s) => s.method === 'PATCH').map((s) => [s.path, s.body]), [[`${API}/properties/65d0000000000000000000r1`, { connector: null }]]);
  });

  test('portCustomer re-reads the properties of the box', async () => {
    platform(() => [200, fixture('properties.json')]);
    assert.equal(await adapter().portCustomer(BOX, portExternalId(SPLITTER, 2)), CLIENT);
    assert.equal(await adapter().portCustomer(BOX, portExternalId(SPLITTER, 1)), null);
    await assert.rejects(adapter().portCustomer(BOX, '91'), /not an OZmap port id/);
  });

  test('bindNewCustomer: the client nested in a new property; its id from the answer, else found by code', async () => {
    const seen = platform((s) => {
      if (s.method === 'GET' && s.path === `${API}/boxes/${BOX}`) return [200, { id: BOX, project: PROJECT, coords: [-47.061, -22.901] }];
      if (s.method === 'GET' && s.path === `${API}/ftth-clients`) return [200, fixture('ftth-clients-by-code.json')];
      return [201, { id: 'new-property' }];
    });
    const created = await adapter().bindNewCustomer(PAYLOAD, { containerExternalId: BOX, portExternalId: portExternalId(SPLITTER, 6), lon: null, lat: null });
    assert.equal(created.externalId, CLIENT);
    assert.deepEqual(seen.find((s) => s.method === 'POST')?.body, {
      project: PROJECT,
      box: BOX,
      coords: [-47.061, -22.901],
      client: { name: 'Maria da Silva', code: '20417', observation: 'id_cliente_servico: 20417', implanted: false },
      connector: SPLITTER,
      port: 6,
      auto_connect: true,
    });
    assert.ok(!JSON.stringify(seen).includes('12345678909'), 'no document is sent: OZmap clients have none');
  });

  test('updateCustomer patches name, code (service id) and observation only', async () => {
    const seen = platform(() => [200, {}]);
    const updated = await adapter().updateCustomer(CLIENT, { ...PAYLOAD, extra: { email: 'm@x.test' } });
    assert.deepEqual(seen.map((s) => [s.method, s.path, s.body]), [
      ['PATCH', `${API}/ftth-clients/${CLIENT}`, { name: 'Maria da Silva', code: '20417', observation: 'id_cliente_servico: 20417' }],
    ]);
    assert.equal(updated.integrationCode, '20417');
  });
});

/**
 * The SDK as the oracle: the same call made through `@ozmap/ozmap-sdk` and through the adapter
 * must reach the platform as the same request. The SDK is imported with its logger server off
 * and its log level raised (it would log every body, customer data included).
 */
describe('ozmap adapter: conformance with the official SDK', () => {
  type Sdk = Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>>;
  let sdk: Sdk;
  before(async () => {
    process.env.OZLOGGER_HTTP = 'false';
    process.env.OZLOGGER_LEVEL = 'error';
    const module = (await import('@ozmap/ozmap-sdk')) as unknown as { default: { default?: unknown } };
    const OZMapSDK = (module.default.default ?? module.default) as new (url: string, options: { apiKey: string }) => Sdk;
    sdk = new OZMapSDK(HOST, { apiKey: KEY });
  });

  const strip = (s: Seen) => ({ method: s.method, path: s.path, query: s.query, body: s.body ?? {}, authorization: s.authorization });

  async function both(viaSdk: () => Promise<unknown>, viaAdapter: () => Promise<unknown>, reply: (s: Seen) => [number, unknown], pick: (s: Seen) => boolean = () => true) {
    const seenSdk = platform(reply);
    await viaSdk();
    nock.cleanAll();
    const seenAdapter = platform(reply);
    await viaAdapter();
    nock.cleanAll();
    return { sdk: seenSdk.filter(pick).map(strip), adapter: seenAdapter.filter(pick).map(strip) };
  }

  test('poles within the project area: same query and body', async () => {
    const filter = [filters.withinProject(PROJECT)];
    const r = await both(
      () => sdk.pole!.find!({ page: 1, limit: 500, filter, sorter: ID_ORDER }),
      () => collect(adapter().poles({ projectExternalIds: [PROJECT] })),
      () => [200, page([])],
    );
    assert.deepEqual(r.adapter, r.sdk);
  });

  test('splitters with their type populated, by project: same request', async () => {
    const r = await both(
      () => sdk.splitter!.find!({ page: 1, limit: 500, filter: [filters.project(PROJECT)], sorter: ID_ORDER, populate: 'splitterType parent' }),
      () => collect(adapter().changeTracking.splitters({ projectExternalIds: [PROJECT] })),
      () => [200, page([])],
    );
    assert.deepEqual(r.adapter, r.sdk);
  });

  test('a client by code: same request', async () => {
    const r = await both(
      () => sdk.ftthClient!.find!({ page: 1, limit: 2, filter: [filters.code('20417')] }),
      () => adapter().findCustomerByIntegrationCode('20417'),
      () => [200, page([])],
    );
    assert.deepEqual(r.adapter, r.sdk);
  });

  test('a client update: the SDK accepts the whitelisted body and sends what the adapter sends', async () => {
    const r = await both(
      () => sdk.ftthClient!.updateById!(CLIENT, customerPatchBody(PAYLOAD)),
      () => adapter().updateCustomer(CLIENT, PAYLOAD),
      () => [200, {}],
    );
    assert.deepEqual(r.adapter, r.sdk);
  });

  const target = { project: PROJECT, box: BOX, splitter: SPLITTER, port: 6, coords: [-47.061, -22.901] as [number, number] };
  const boxReply = (s: Seen): [number, unknown] => {
    if (s.method === 'GET' && s.path === `${API}/boxes/${BOX}`) return [200, { id: BOX, project: PROJECT, coords: [-47.061, -22.901] }];
    if (s.method === 'GET') return [200, page([{ id: 'prop-1', client: CLIENT, connections: [{ id: SPLITTER, kind: 'Splitter', port: 2 }] }])];
    return [201, { id: 'prop-1', client: CLIENT }];
  };

  test('a property with a new client nested: the SDK schema (defaults included) gives the adapter body', async () => {
    const r = await both(
      () => sdk.property!.create!(propertyCreateBody(target, newClientBody(PAYLOAD))),
      () => adapter().bindNewCustomer(PAYLOAD, { containerExternalId: BOX, portExternalId: portExternalId(SPLITTER, 6), lon: null, lat: null }),
      boxReply,
      (s) => s.method === 'POST',
    );
    assert.deepEqual(r.adapter, r.sdk);
  });

  test('a property tied to another port, and untied: same PATCH bodies', async () => {
    const bound = await both(
      () => sdk.property!.updateById!('prop-1', propertyBindBody(target)),
      () => adapter().bind({ containerExternalId: BOX, portExternalId: portExternalId(SPLITTER, 6), customerExternalId: CLIENT, lon: null, lat: null }),
      boxReply,
      (s) => s.method === 'PATCH',
    );
    assert.deepEqual(bound.adapter, bound.sdk);
    const unbound = await both(
      () => sdk.property!.updateById!('prop-1', { connector: null }),
      () => adapter().unbind(portExternalId(SPLITTER, 2), CLIENT),
      boxReply,
      (s) => s.method === 'PATCH',
    );
    assert.deepEqual(unbound.adapter, unbound.sdk);
  });
});

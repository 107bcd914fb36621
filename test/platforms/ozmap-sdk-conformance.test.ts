import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { OzmapAdapter } from '../../src/platforms/ozmap/ozmap.adapter.ts';
import type { CustomerPayload } from '../../src/platforms/platform-adapter.ts';
import { objectIdOf, ozmapPortId } from '../../src/simulator/ozmap/ozmap-ids.ts';
import { startSimulator, type RecordedRequest, type RunningSimulator } from '../../src/simulator/simulator.server.ts';

/**
 * Conformance with the official SDK (`@ozmap/ozmap-sdk`, a devDependency) as the oracle: every
 * request mapsync's OZmap adapter sends to the simulator is sent again through the SDK's own
 * method for it, and the simulator's recordings of both must be the same request: method, path,
 * query (page, limit, select, populate) and JSON body (the GET's filter and sort, a client patch,
 * a property create or patch). The SDK validates write bodies with its zod schemas, so a body
 * the SDK would change or refuse fails here too. Its `findAll` is never used (it can loop).
 */

// The SDK starts a logger HTTP server at import and logs bodies at debug level unless told not to.
process.env.OZLOGGER_HTTP = 'false';
process.env.OZLOGGER_LEVEL = 'error';

type Proxy = Record<string, (...args: unknown[]) => Promise<unknown>>;
type Sdk = Record<string, Proxy> & { apiInstance: { client: { defaults: { httpsAgent?: unknown } } } };

/** The SDK collection behind each OZmap route. */
const COLLECTION: Record<string, string> = {
  projects: 'project',
  poles: 'pole',
  boxes: 'box',
  splitters: 'splitter',
  'splitter-types': 'splitterType',
  'ftth-clients': 'ftthClient',
  properties: 'property',
};

describe('OZmap adapter requests conform to the official SDK (against the simulator over HTTPS)', () => {
  let sim: RunningSimulator;
  let sdk: Sdk;
  let adapter: OzmapAdapter;

  before(async () => {
    sim = await startSimulator({ platform: 'ozmap', seed: 5, size: 600, https: true, limits: { concurrency: 20, requestsPerMinute: 100_000 } });
    const OZMapSDK = ((await import('@ozmap/ozmap-sdk')) as unknown as { default: new (url: string, options: { apiKey: string }) => Sdk }).default;
    sdk = new OZMapSDK(sim.url, { apiKey: sim.token });
    // The simulator's certificate is self-signed: the SDK trusts it as mapsync's client does.
    sdk.apiInstance.client.defaults.httpsAgent = new https.Agent({ ca: sim.ca! });
    adapter = new OzmapAdapter({ apiUrl: sim.url, credentials: { token: sim.token }, ca: sim.ca!, pageSize: 50, http: { concurrency: 1, requestsPerMinute: 100_000, retries: 0 } });
  });
  after(async () => {
    await adapter?.close();
    await sim?.close();
  });

  /** The requests `run` makes, as the simulator received them. */
  async function recorded(run: () => Promise<unknown>): Promise<RecordedRequest[]> {
    sim.recordRequests(true);
    await run();
    const requests = sim.recordedRequests.map((r) => structuredClone(r));
    sim.recordRequests(false);
    return requests;
  }

  /** The same request sent through the SDK's method for it. */
  async function viaSdk(request: RecordedRequest): Promise<void> {
    const [route, id] = request.path.split('/').filter(Boolean) as [string, string | undefined];
    const proxy = sdk[COLLECTION[route]!];
    assert.ok(proxy, `the SDK has a collection for ${route}`);
    const query = Object.fromEntries(request.query);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const call = async () => {
      if (request.method === 'GET' && !id) {
        return proxy.find!({
          page: query.page === undefined ? undefined : Number(query.page),
          limit: query.limit === undefined ? undefined : Number(query.limit),
          select: query.select,
          populate: query.populate,
          filter: body.filter,
          sorter: body.sort,
        });
      }
      if (request.method === 'GET') return proxy.findById!(id, { select: query.select, populate: query.populate });
      if (request.method === 'PATCH') return proxy.updateById!(id, request.body);
      if (request.method === 'POST') return proxy.create!(request.body);
      if (request.method === 'DELETE') return proxy.deleteById!(id);
      throw new Error(`no SDK call for ${request.method} ${request.path}`);
    };
    // The answer does not matter (a second create may be refused): the request is what is compared.
    await call().catch((error: unknown) => {
      if (error instanceof Error && /ZodError|invalid_type|Required/.test(`${error.name} ${error.message}`)) throw error;
    });
  }

  /** Runs `run` through the adapter, replays each of its requests through the SDK, and compares. */
  async function conforms(what: string, run: () => Promise<unknown>): Promise<RecordedRequest[]> {
    const fromAdapter = await recorded(run);
    assert.ok(fromAdapter.length > 0, `${what}: the adapter sent something`);
    const fromSdk = await recorded(async () => {
      for (const request of fromAdapter) await viaSdk(request);
    });
    const normal = (r: RecordedRequest) => ({ method: r.method, path: r.path, query: [...r.query].sort(([a], [b]) => a.localeCompare(b)), body: r.body ?? {} });
    assert.deepEqual(fromAdapter.map(normal), fromSdk.map(normal), `${what}: the adapter's requests are the SDK's`);
    return fromAdapter;
  }

  const drain = async (pages: AsyncIterable<unknown>) => {
    for await (const _ of pages) void _;
  };

  const centro = () => sim.network.folders.find((f) => f.nome === 'Centro')!;
  const scope = () => ({ projectExternalIds: [objectIdOf('project', centro().id)] });

  test('projects, poles within the project, boxes, splitters and their ties, customers: the listings', async () => {
    await conforms('projects', () => adapter.listProjects());
    const poles = await conforms('poles', () => drain(adapter.poles(scope())));
    assert.ok(poles.some((r) => JSON.stringify(r.body).includes('within')), 'poles are filtered by the project area');
    await conforms('boxes', () => drain(adapter.boxes(scope())));
    const boxes = [...sim.network.boxes.values()].filter((b) => b.folderId === centro().id).slice(0, 30);
    await conforms('splitters of boxes, with the customer on each port', () => drain(adapter.splitters(boxes.map((b) => ({ externalId: objectIdOf('box', b.id), kind: 'box' as const })))));
    await conforms('customers', () => drain(adapter.customers(scope())));
  });

  test('incremental reads: counts, ids and the changes since a time', async () => {
    const tracking = adapter.changeTracking;
    for (const kind of ['poles', 'boxes', 'customers', 'splitters', 'portTies'] as const) {
      await conforms(`count of ${kind}`, () => tracking.count(kind, scope()));
      await conforms(`ids of ${kind}`, () => drain(tracking.ids(kind, scope())));
    }
    const since = new Date(Date.now() - 60_000);
    await conforms('poles changed since', () => drain(adapter.poles(scope(), { changedSince: since })));
    await conforms('splitters changed since', () => drain(tracking.splitters(scope(), { changedSince: since })));
    await conforms('port ties changed since', () => drain(tracking.portTies(scope(), { changedSince: since })));
  });

  test('the push: a look-up by code, a client patch, a property with a new client, a re-tie and an untie', async () => {
    const splitter = [...sim.network.splitters.values()].find(
      (s) => s.service && s.containerKind === 'box' && !s.planned && s.ports.filter((p) => p.customerId === null && !p.reserved).length >= 2,
    )!;
    const [free, other] = splitter.ports.filter((p) => p.customerId === null && !p.reserved) as [(typeof splitter.ports)[number], (typeof splitter.ports)[number]];
    const box = sim.network.boxes.get(splitter.containerId)!;
    const payload: CustomerPayload = { name: 'Maria Souza', document: '52998224725', personType: 'person', serviceId: '770001' };
    const request = { containerExternalId: objectIdOf('box', box.id), portExternalId: ozmapPortId(splitter.id, free.number), lat: box.lat, lon: box.lon };

    await conforms('look-up by code', () => adapter.findCustomerByIntegrationCode(payload.serviceId));
    const created = await conforms('a client created in a new property', () => adapter.bindNewCustomer(payload, request));
    const post = created.find((r) => r.method === 'POST' && r.path === '/properties');
    assert.ok(post, 'a property create');
    assert.equal(JSON.stringify(post.body).includes(payload.document), false, 'no document leaves mapsync for OZmap');
    const customer = await adapter.findCustomerByIntegrationCode(payload.serviceId);
    assert.ok(customer);
    await conforms('a client patch', () => adapter.updateCustomer(customer.externalId, { ...payload, name: 'Maria S. Souza' }));
    await conforms('the port read back', () => adapter.portCustomer(request.containerExternalId, request.portExternalId));
    const moved = await conforms('a re-tie to another port', () => adapter.bind({ ...request, portExternalId: ozmapPortId(splitter.id, other.number), customerExternalId: customer.externalId }));
    assert.ok(moved.some((r) => r.method === 'PATCH' && r.path.startsWith('/properties/')), 'the property is patched, not a second one made');
    await conforms('an untie', () => adapter.unbind(ozmapPortId(splitter.id, other.number), customer.externalId));
  });
});

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import nock from 'nock';
import { PlatformError } from '../../src/platforms/http/platform-error.ts';
import { PlatformHttpClient, type PlatformHttpClientOptions, type RequestInfo } from '../../src/platforms/http/platform-http-client.ts';
import { PlatformRequestTally } from '../../src/platforms/http/request-tally.ts';

const BASE = 'http://geogrid.test/acme/api/v3';

const clients: PlatformHttpClient[] = [];
function client(overrides: Partial<PlatformHttpClientOptions> = {}): PlatformHttpClient {
  const c = new PlatformHttpClient({
    platform: 'geogrid',
    baseURL: BASE,
    headers: { 'api-key': 'super-secret-token-123' },
    adapter: 'http',
    requestsPerMinute: 60_000,
    retryBaseDelayMs: 5,
    timeoutMs: 2000,
    ...overrides,
  });
  clients.push(c);
  return c;
}

before(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
after(async () => {
  nock.enableNetConnect();
  for (const c of clients) await c.close();
});

test('a scoped view counts its attempts by the family the caller names, retries and 429s apart; the client itself counts nothing in the tally', async () => {
  const scope = nock('http://geogrid.test')
    .get('/acme/api/v3/itensRede')
    .query(true)
    .reply(429, {}, { 'Retry-After': '0' })
    .get('/acme/api/v3/itensRede')
    .query(true)
    .reply(200, { registros: [] })
    .get('/acme/api/v3/diagrama/equipamentos/77')
    .reply(503, 'erro')
    .get('/acme/api/v3/diagrama/equipamentos/77')
    .reply(200, [])
    .get('/acme/api/v3/equipamentos/itemRede/77/portas')
    .reply(200, { registros: [] })
    .get('/acme/api/v3/clientes/integrado/X-1')
    .reply(404, { naoEncontrado: true });
  const tally = new PlatformRequestTally();
  const seen: RequestInfo[] = [];
  const c = client({ onRequest: (info) => seen.push(info) });
  const run = c.withScope({ tally });

  await run.get('/itensRede', { params: { 'item[]': ['poste'] }, family: 'postes' });
  await run.get('/diagrama/equipamentos/77', { family: 'equipamentos' });
  await run.get('/equipamentos/itemRede/77/portas');
  // The pusher's call, on the same client: not the run's.
  await c.get('/clientes/integrado/X-1', { acceptStatus: [404], family: 'cliente' });

  assert.deepEqual(tally.toJSON(), {
    requests: 5,
    retries: 2,
    rateLimited: 1,
    timeouts: 0,
    byFamily: { 'GET /equipamentos/itemRede/:id/portas': 1, equipamentos: 2, postes: 2 },
    occupancyReads: null,
  });
  // The view shares the client: one limiter, one set of counters.
  assert.equal(c.stats.requests, 6);
  assert.equal(run.limiter, c.limiter);
  assert.deepEqual(
    seen.map((info) => [info.family, info.attempt]),
    [
      ['postes', 1],
      ['postes', 2],
      ['equipamentos', 1],
      ['equipamentos', 2],
      ['GET /equipamentos/itemRede/:id/portas', 1],
      ['cliente', 1],
    ],
  );
  scope.done();
});

test('a timed-out attempt is counted as one', async () => {
  nock('http://geogrid.test').get('/acme/api/v3/pastas').delay(500).reply(200, {}).get('/acme/api/v3/pastas').reply(200, { registros: [] });
  const tally = new PlatformRequestTally();
  await client({ timeoutMs: 100 }).withScope({ tally }).get('/pastas', { family: 'pastas' });
  assert.equal(tally.timeouts, 1);
  assert.equal(tally.retries, 1);
  assert.deepEqual(tally.toJSON().byFamily, { pastas: 2 });
});

test("the scope's signal breaks off the attempt in flight, and no retry follows", async () => {
  const scope = nock('http://geogrid.test').get('/acme/api/v3/pastas').delay(5000).reply(200, {});
  const stop = new AbortController();
  const tally = new PlatformRequestTally();
  const c = client({ timeoutMs: 10_000, retries: 4 });
  const run = c.withScope({ signal: stop.signal, tally });
  const started = performance.now();
  const call = run.get('/pastas');
  setTimeout(() => stop.abort(new Error('stalled')), 50);
  await assert.rejects(call, (error: unknown) => error instanceof PlatformError && error.retryable === false);
  assert.ok(performance.now() - started < 4000, 'broken off, not waited out');
  assert.equal(tally.requests, 1);
  assert.equal(c.limiter.active, 0, 'its slot is free');
  // Once stopped, a call through the view is refused before it is sent.
  await assert.rejects(run.get('/pastas'), PlatformError);
  assert.equal(tally.requests, 1);
  // The client itself, for the pusher, goes on.
  nock.cleanAll();
  nock('http://geogrid.test').get('/acme/api/v3/pastas').reply(200, { registros: [] });
  assert.equal((await c.get('/pastas')).status, 200);
  assert.ok(scope);
});

test('one abort listener per caller signal, however many attempts it carries', async () => {
  nock('http://geogrid.test').get('/acme/api/v3/pastas').times(20).reply(200, {});
  const stop = new AbortController();
  let added = 0;
  const original = stop.signal.addEventListener.bind(stop.signal);
  stop.signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
    added += 1;
    return original(...args);
  }) as AbortSignal['addEventListener'];
  const run = client().withScope({ signal: stop.signal });
  await Promise.all(Array.from({ length: 20 }, () => run.get('/pastas')));
  assert.equal(added, 1);
});

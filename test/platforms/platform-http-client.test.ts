import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, test } from 'node:test';
import nock from 'nock';
import { PlatformError } from '../../src/platforms/http/platform-error.ts';
import { PlatformHttpClient, retryAfterMs, type PlatformHttpClientOptions } from '../../src/platforms/http/platform-http-client.ts';

const BASE = 'http://geogrid.test/acme/api/v3';
const TOKEN = 'super-secret-token-123';

const clients: PlatformHttpClient[] = [];
function client(overrides: Partial<PlatformHttpClientOptions> = {}): PlatformHttpClient {
  const c = new PlatformHttpClient({
    platform: 'geogrid',
    baseURL: BASE,
    headers: { 'api-key': TOKEN },
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
afterEach(() => {
  nock.cleanAll();
});
after(async () => {
  nock.enableNetConnect();
  for (const c of clients) await c.close();
});

test('sends the api-key header and Accept: application/json', async () => {
  const scope = nock('http://geogrid.test', { reqheaders: { 'api-key': TOKEN, accept: /application\/json/ } })
    .get('/acme/api/v3/pastas')
    .reply(200, { registros: [], totalRegistros: '0' });
  const response = await client().get('/pastas');
  assert.deepEqual(response.data, { registros: [], totalRegistros: '0' });
  scope.done();
});

test('array query parameters are sent as item[]=a&item[]=b', async () => {
  const scope = nock('http://geogrid.test')
    .get('/acme/api/v3/itensRede')
    .query((q) => JSON.stringify(q['item[]']) === JSON.stringify(['terminal', 'caixa']) && q.pagina === '1')
    .reply(200, { registros: [] });
  await client().get('/itensRede', { params: { 'item[]': ['terminal', 'caixa'], pagina: 1 } });
  scope.done();
});

test('429 with Retry-After in seconds pauses, then retries and succeeds', async () => {
  const scope = nock('http://geogrid.test')
    .get('/acme/api/v3/pastas')
    .reply(429, { mensagem: 'Muitas requisições' }, { 'Retry-After': '1' })
    .get('/acme/api/v3/pastas')
    .reply(200, { ok: true });
  const c = client();
  const started = Date.now();
  const response = await c.get('/pastas');
  const elapsed = Date.now() - started;
  assert.deepEqual(response.data, { ok: true });
  assert.ok(elapsed >= 950, `waited ${elapsed} ms, expected about 1000 ms`);
  assert.equal(c.stats.rateLimited, 1);
  assert.equal(c.stats.retries, 1);
  assert.equal(c.stats.requests, 2);
  scope.done();
});

test('Retry-After as an HTTP date is understood', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:03 GMT', now), 3000);
  assert.equal(retryAfterMs('2', now), 2000);
  assert.equal(retryAfterMs('garbage', now), null);
});

test('5xx on a GET is retried with backoff', async () => {
  const scope = nock('http://geogrid.test')
    .get('/acme/api/v3/pastas')
    .reply(500, 'erro')
    .get('/acme/api/v3/pastas')
    .reply(503, 'erro')
    .get('/acme/api/v3/pastas')
    .reply(200, { registros: [] });
  const lines: string[] = [];
  const logger = {
    debug: (obj: object, msg?: string) => lines.push(JSON.stringify(obj) + (msg ?? '')),
    warn: (obj: object, msg?: string) => lines.push(JSON.stringify(obj) + (msg ?? '')),
  };
  const c = client({ logger });
  await c.get('/pastas');
  assert.equal(c.stats.retries, 2);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /"endpoint":"GET \/pastas"/);
  assert.equal(lines.join('\n').includes(TOKEN), false);
  scope.done();
});

test('gives up after the retries with an error naming platform, endpoint and status', async () => {
  nock('http://geogrid.test').get('/acme/api/v3/pastas').times(3).reply(502, { mensagem: 'Bad gateway' });
  const c = client({ retries: 2 });
  await assert.rejects(c.get('/pastas'), (error: unknown) => {
    assert.ok(error instanceof PlatformError);
    assert.equal(error.platform, 'geogrid');
    assert.equal(error.endpoint, 'GET /pastas');
    assert.equal(error.status, 502);
    assert.equal(error.retryable, true);
    assert.match(error.message, /geogrid GET \/pastas failed \(HTTP 502\): Bad gateway/);
    return true;
  });
  assert.equal(c.stats.requests, 3);
});

test('a POST answered 500 is not retried', async () => {
  const scope = nock('http://geogrid.test').post('/acme/api/v3/clientes').reply(500, { mensagem: 'Erro interno' });
  const c = client();
  await assert.rejects(c.post('/clientes', { dados: { nome: 'x' } }), (error: unknown) => {
    assert.ok(error instanceof PlatformError);
    assert.equal(error.status, 500);
    return true;
  });
  assert.equal(c.stats.requests, 1);
  assert.equal(c.stats.retries, 0);
  scope.done();
});

test('Portuguese field errors surface in the message and as fieldErrors', async () => {
  nock('http://geogrid.test')
    .post('/acme/api/v3/clientes')
    .reply(400, { tipo: 'Tipo de cliente é obrigatório', estado: 'UF deve ter 2 letras' });
  await assert.rejects(client().post('/clientes', { dados: {} }), (error: unknown) => {
    assert.ok(error instanceof PlatformError);
    assert.match(error.message, /tipo: Tipo de cliente é obrigatório; estado: UF deve ter 2 letras/);
    assert.equal(error.permanent, true);
    assert.equal(error.retryable, false);
    assert.equal(error.hasField('estado'), true);
    return true;
  });
});

test('the token never appears in an error, its JSON or its properties', async () => {
  nock('http://geogrid.test').get('/acme/api/v3/clientes/1').reply(401, { mensagem: `chave ${TOKEN} inválida` });
  const error = await client().get('/clientes/1').catch((e: unknown) => e);
  assert.ok(error instanceof PlatformError);
  const everything = `${error.message} ${error.stack} ${JSON.stringify(error)} ${JSON.stringify(Object.entries(error))}`;
  assert.equal(everything.includes(TOKEN), false);
  assert.match(error.message, /\[redacted\]/);
});

test('a hung call ends with a timeout on every attempt, then a clear error', async () => {
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer(() => {
    /* never answers */
  });
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  nock.enableNetConnect('127.0.0.1');
  try {
    const c = client({ baseURL: `http://127.0.0.1:${port}/api/v3`, timeoutMs: 150, retries: 2 });
    const started = Date.now();
    const error = await c.get('/pastas').catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    assert.ok(error instanceof PlatformError);
    assert.equal(error.status, null);
    assert.equal(error.retryable, true);
    assert.match(error.message, /no answer before the timeout/);
    assert.equal(c.stats.timeouts, 3);
    assert.ok(elapsed >= 450 && elapsed < 3000, `took ${elapsed} ms`);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
    nock.disableNetConnect();
  }
});

test('the concurrency cap and the per-minute spacing hold, including across retries', async () => {
  let active = 0;
  let maxActive = 0;
  const starts: number[] = [];
  let failedOnce = false;
  const server = http.createServer((req, res) => {
    active += 1;
    maxActive = Math.max(maxActive, active);
    starts.push(performance.now());
    setTimeout(() => {
      active -= 1;
      if (!failedOnce) {
        failedOnce = true;
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    }, 100);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  nock.enableNetConnect('127.0.0.1');
  try {
    const sent: number[] = [];
    const c = client({
      baseURL: `http://127.0.0.1:${port}`,
      concurrency: 3,
      requestsPerMinute: 3000,
      onRequest: () => sent.push(performance.now()),
    });
    await Promise.all(Array.from({ length: 20 }, () => c.get('/x')));
    assert.equal(maxActive, 3);
    assert.equal(c.stats.maxInFlight, 3);
    assert.equal(starts.length, 21);
    // Spacing is checked where the client sends (the server sees the same starts plus
    // event-loop and socket jitter, which the limiter's small margin absorbs).
    assert.equal(sent.length, 21);
    // The limiter spaces starts at 20 ms or more; each timestamp is taken a few async hops
    // later, so one gap can look shorter by that jitter, but the starts as a whole keep the pace.
    const gaps = sent.slice(1).map((t, i) => t - sent[i]!);
    const average = (sent[sent.length - 1]! - sent[0]!) / gaps.length;
    assert.ok(average >= 19.9, `average gap ${average.toFixed(2)} ms, spacing is 20 ms`);
    assert.ok(Math.min(...gaps) >= 10, `smallest gap ${Math.min(...gaps).toFixed(2)} ms: two starts came together`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    nock.disableNetConnect();
  }
});

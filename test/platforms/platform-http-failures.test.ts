import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import nock from 'nock';
import { generate } from 'selfsigned';
import { PlatformError } from '../../src/platforms/http/platform-error.ts';
import { PlatformHttpClient, type PlatformHttpClientOptions } from '../../src/platforms/http/platform-http-client.ts';

/**
 * Which failures the platform client retries (they may pass) and which it gives up on at
 * once (they never will): one row per failure, with the attempts expected for `retries: 3`.
 */
const RETRIES = 3;

const clients: PlatformHttpClient[] = [];
function client(overrides: Partial<PlatformHttpClientOptions> = {}): PlatformHttpClient {
  const c = new PlatformHttpClient({
    platform: 'geogrid',
    baseURL: 'http://geogrid.test/acme/api/v3',
    headers: { 'api-key': 'super-secret-token-123' },
    adapter: 'http',
    requestsPerMinute: 60_000,
    retryBaseDelayMs: 1,
    maxRetryDelayMs: 5,
    timeoutMs: 2000,
    retries: RETRIES,
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

type Failure = { status: number } | { code: string };
const CORPUS: Array<[name: string, failure: Failure, attempts: number]> = [
  // never passes by itself: one attempt
  ['400 bad request', { status: 400 }, 1],
  ['401 bad token', { status: 401 }, 1],
  ['403 forbidden', { status: 403 }, 1],
  ['404 not found', { status: 404 }, 1],
  ['409 conflict', { status: 409 }, 1],
  ['422 invalid fields', { status: 422 }, 1],
  ['certificate expired', { code: 'CERT_HAS_EXPIRED' }, 1],
  ['certificate not yet valid', { code: 'CERT_NOT_YET_VALID' }, 1],
  ['self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 1],
  ['self-signed certificate in the chain', { code: 'SELF_SIGNED_CERT_IN_CHAIN' }, 1],
  ['unknown CA', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 1],
  ['issuer not found', { code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' }, 1],
  ['certificate for another host', { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 1],
  // may pass on a later attempt: retried
  ['408 request timeout', { status: 408 }, RETRIES + 1],
  ['429 rate limited', { status: 429 }, RETRIES + 1],
  ['500 internal error', { status: 500 }, RETRIES + 1],
  ['502 bad gateway', { status: 502 }, RETRIES + 1],
  ['503 unavailable', { status: 503 }, RETRIES + 1],
  ['connection reset', { code: 'ECONNRESET' }, RETRIES + 1],
  ['connection refused', { code: 'ECONNREFUSED' }, RETRIES + 1],
  ['DNS for a moment', { code: 'EAI_AGAIN' }, RETRIES + 1],
  ['host not found (resolvers fail for a moment too)', { code: 'ENOTFOUND' }, RETRIES + 1],
];

describe('retried or not, by failure class', () => {
  for (const [name, failure, attempts] of CORPUS) {
    test(`${name}: ${attempts} attempt(s)`, async () => {
      let seen = 0;
      const interceptor = nock('http://geogrid.test').get('/acme/api/v3/pastas').times(RETRIES + 1);
      if ('status' in failure) {
        interceptor.reply(() => {
          seen += 1;
          return [failure.status, { mensagem: `falha ${failure.status}` }, failure.status === 429 ? { 'retry-after': '0' } : {}];
        });
      } else {
        interceptor.replyWithError(Object.assign(new Error(`simulated ${failure.code}`), { code: failure.code }));
      }
      let sent = 0;
      const c = client({ onRequest: () => void (sent += 1) });
      const error = await c.get('/pastas').catch((e: unknown) => e);
      assert.ok(error instanceof PlatformError, String(error));
      assert.equal(sent, attempts);
      if ('status' in failure) assert.equal(seen, attempts);
      assert.equal(error.retryable, attempts > 1);
      assert.equal(c.stats.retries, attempts - 1);
    });
  }
});

async function withHttps(
  cert: { key: string; cert: string },
  work: (port: number, handshakes: () => number) => Promise<void>,
): Promise<void> {
  let handshakes = 0;
  const sockets = new Set<Socket>();
  const server = https.createServer({ key: cert.key, cert: cert.cert }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  server.on('connection', (socket: Socket) => {
    handshakes += 1;
    sockets.add(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  nock.enableNetConnect('127.0.0.1');
  try {
    await work((server.address() as AddressInfo).port, () => handshakes);
  } finally {
    nock.disableNetConnect();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

const certificate = async (altName: string, notAfterDate: Date, notBeforeDate?: Date) => {
  const generated = await generate([{ name: 'commonName', value: altName }], {
    keySize: 2048,
    notAfterDate,
    ...(notBeforeDate ? { notBeforeDate } : {}),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: altName }] },
    ],
  });
  return { key: generated.private, cert: generated.cert };
};

describe('real TLS failures are not retried', () => {
  const inAMonth = new Date(Date.now() + 30 * 86_400_000);
  test('a certificate nobody trusts: one connection, a clear error', async () => {
    const cert = await certificate('127.0.0.1', inAMonth);
    await withHttps(cert, async (port, handshakes) => {
      const c = client({ baseURL: `https://127.0.0.1:${port}/api/v3`, adapter: undefined });
      const error = await c.get('/pastas').catch((e: unknown) => e);
      assert.ok(error instanceof PlatformError);
      assert.equal(error.retryable, false);
      assert.match(error.message, /certificate/i);
      assert.equal(handshakes(), 1);
      assert.equal(c.stats.retries, 0);
    });
  });

  test('a trusted certificate for another host name: one connection', async () => {
    const cert = await certificate('geogrid.example.com', inAMonth);
    await withHttps(cert, async (port, handshakes) => {
      const c = client({ baseURL: `https://127.0.0.1:${port}/api/v3`, adapter: undefined, ca: cert.cert });
      const error = await c.get('/pastas').catch((e: unknown) => e);
      assert.ok(error instanceof PlatformError);
      assert.equal(error.retryable, false);
      assert.equal(handshakes(), 1);
    });
  });

  test('an expired certificate: one connection', async () => {
    const cert = await certificate('127.0.0.1', new Date(Date.now() - 86_400_000), new Date(Date.now() - 10 * 86_400_000));
    await withHttps(cert, async (port, handshakes) => {
      const c = client({ baseURL: `https://127.0.0.1:${port}/api/v3`, adapter: undefined, ca: cert.cert });
      const error = await c.get('/pastas').catch((e: unknown) => e);
      assert.ok(error instanceof PlatformError);
      assert.equal(error.retryable, false);
      assert.equal(handshakes(), 1);
    });
  });
});

describe('a response body that drips in', () => {
  async function withDrippingServer(work: (port: number, served: () => number) => Promise<void>) {
    let served = 0;
    const sockets = new Set<Socket>();
    const body = Buffer.from(JSON.stringify({ registros: Array.from({ length: 40 }, (_, i) => ({ id: i, nome: `poste ${i}` })) }));
    const server = http.createServer((_req, res) => {
      served += 1;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.flushHeaders();
      let at = 0;
      // 16 bytes every 100 ms: ~8 s for the whole body, never idle long enough for an idle timeout.
      const timer = setInterval(() => {
        if (res.destroyed || at >= body.length) {
          clearInterval(timer);
          if (!res.destroyed) res.end();
          return;
        }
        res.write(body.subarray(at, at + 16));
        at += 16;
      }, 100 * (body.length > 1280 ? 1280 / body.length : 1));
      res.on('close', () => clearInterval(timer));
    });
    server.on('connection', (socket: Socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    nock.enableNetConnect('127.0.0.1');
    try {
      await work((server.address() as AddressInfo).port, () => served);
    } finally {
      nock.disableNetConnect();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  test('timeoutMs=1000 ends each attempt after about a second, not after 8 s', async () => {
    await withDrippingServer(async (port, served) => {
      const c = client({ baseURL: `http://127.0.0.1:${port}/api/v3`, timeoutMs: 1000, retries: 1 });
      const started = Date.now();
      const error = await c.get('/pastas').catch((e: unknown) => e);
      const elapsed = Date.now() - started;
      assert.ok(error instanceof PlatformError, String(error));
      assert.equal(error.status, null);
      assert.equal(error.retryable, true);
      assert.match(error.message, /no answer before the timeout/);
      assert.equal(served(), 2, 'a timeout is retried');
      assert.equal(c.stats.timeouts, 2);
      assert.ok(elapsed >= 1900 && elapsed < 4000, `took ${elapsed} ms`);
    });
  });

  test('a body that arrives within the limit is read whole', async () => {
    await withDrippingServer(async (port) => {
      const c = client({ baseURL: `http://127.0.0.1:${port}/api/v3`, timeoutMs: 15_000, retries: 0 });
      const response = await c.get<{ registros: unknown[] }>('/pastas');
      assert.equal(response.data.registros.length, 40);
    });
  });
});

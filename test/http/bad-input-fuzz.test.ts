/**
 * Bad input gets a 4xx naming the field, never a 5xx. A table of known cases first, then
 * a property-based fuzz (fast-check) that drives every operation of the OpenAPI document
 * with generated bad values against a real service on the test database.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startTestService, type TestService } from '../helpers/test-service.ts';
import { waitForRunEnd } from '../helpers/run-waiting.ts';
import { cpfFor } from '../push/helpers/push-fixtures.ts';

interface RawResponse {
  status: number;
  text: string;
}

async function raw(svc: TestService, method: string, urlPath: string, body?: string, contentType?: string): Promise<RawResponse> {
  const headers: Record<string, string> = { authorization: `Bearer ${svc.apiToken}` };
  if (contentType) headers['content-type'] = contentType;
  const response = await fetch(`${svc.url}${urlPath}`, { method, headers, body });
  return { status: response.status, text: await response.text() };
}

describe('bad input never gives a 5xx', () => {
  let svc: TestService;
  let runId: string;
  let bindingId: number;
  let portId: number;

  before(async () => {
    svc = await startTestService();
    const queued = await svc.request('POST', `/v1/integrations/${svc.integrationId}/sync`);
    runId = queued.body.runId;
    assert.equal((await waitForRunEnd(svc, runId)).status, 'succeeded');
    const port = await svc.db
      .knex('ports as p')
      .join('splitters as s', 's.id', 'p.splitter_id')
      .where({ 's.role': 'service', 'p.available': true })
      .whereNull('p.removed_at')
      .first('p.id');
    portId = Number(port.id);
    await svc.request('POST', '/v1/customers', { items: [{ serviceId: 'F1', document: cpfFor(1), name: 'Ana' }] });
    const binding = await svc.request('POST', '/v1/bindings', { serviceId: 'F1', portId });
    assert.equal(binding.status, 201, JSON.stringify(binding.body));
    bindingId = binding.body.id;
  });
  after(async () => svc?.stop());

  // [method, path, body or undefined, expected status, text the message must contain (the field)]
  const cases = (): [string, string, string | undefined, number, string][] => [
    ['GET', '/v1/pushes/99999999999999999999', undefined, 400, 'params/id'],
    ['POST', '/v1/pushes/99999999999999999999/retry', undefined, 400, 'params/id'],
    ['DELETE', '/v1/bindings/99999999999999999999', undefined, 400, 'params/id'],
    ['GET', '/v1/bindings/9223372036854775808', undefined, 400, 'params/id'],
    ['GET', `/v1/sync-runs/${runId}/report?offset=9223372036854775807`, undefined, 400, 'querystring/offset'],
    ['GET', '/v1/pushes?after=99999999999999999999', undefined, 400, 'querystring/after'],
    ['POST', '/v1/bindings', '{"serviceId":"10000","portId":99999999999999999999}', 400, 'body/portId'],
    // Numbers JavaScript reads as Infinity (Ajv would take them for integers within any maximum).
    ['GET', `/v1/sync-runs/${runId}/report?limit=1e400`, undefined, 400, 'querystring/limit'],
    ['GET', `/v1/sync-runs/${runId}/report?offset=-Infinity`, undefined, 400, 'querystring/offset'],
    ['POST', '/v1/bindings', '{"serviceId":"10000","portId":1e400}', 400, 'body/portId'],
    ['GET', '/v1/sync-runs?integration=%00', undefined, 400, 'querystring/integration'],
    ['GET', `/v1/sync-runs/${runId}/report?kind=%00`, undefined, 400, 'querystring/kind'],
    ['GET', `/v1/sync-runs/${runId}/report?code=a%00b`, undefined, 400, 'querystring/code'],
    // Invalid UTF-8 in a URL decodes to U+FFFD, which is storable text: a plain answer.
    ['GET', '/v1/pushes?integration=%ED%A0%80', undefined, 200, ''],
    ['POST', '/v1/bindings', '{"serviceId":"10\\u0000","portId":1}', 400, 'body/serviceId'],
    ['POST', '/v1/bindings', '{"serviceId":"\\ud800","portId":1}', 400, 'body/serviceId'],
    ['POST', '/v1/bindings', '{"serviceId":"x","integrationId":"a\\u0000","portExternalId":"1"}', 400, 'body/integrationId'],
    ['GET', '/v1/projects/%00/network.geojson', undefined, 400, 'params/id'],
    ['GET', `/v1/projects/${svc?.integrationId}/network.geojson?kinds=%00`, undefined, 400, 'querystring/kinds'],
    ['POST', `/v1/bindings/${bindingId}/confirm`, '', 200, ''],
    ['POST', '/v1/bindings', '{"serviceId":"1","portId":1,"__proto__":{"x":1}}', 400, ''],
    ['POST', '/v1/bindings', '{"serviceId":', 400, ''],
  ];

  test('the examples of each class give 400 naming the field (table)', async () => {
    for (const [method, urlPath, body, expected, field] of cases()) {
      const response = await raw(svc, method, urlPath, body, body === undefined ? undefined : 'application/json');
      assert.equal(response.status, expected, `${method} ${urlPath} ${body ?? ''}: ${response.text}`);
      if (field) assert.ok(response.text.includes(field), `${method} ${urlPath}: the message names ${field}: ${response.text}`);
    }
  });

  test('POST …/confirm with content-type application/json and an empty body is accepted', async () => {
    const response = await raw(svc, 'POST', `/v1/bindings/${bindingId}/confirm`, '', 'application/json');
    assert.equal(response.status, 200, response.text);
    assert.equal(JSON.parse(response.text).status, 'confirmed');
  });

  test('POST /v1/customers saves the good items and reports the bad ones, one error each', async () => {
    const response = await svc.request('POST', '/v1/customers', {
      items: [
        { serviceId: 'G1', document: cpfFor(11), name: 'Good one' },
        { serviceId: 'G2', document: cpfFor(12), name: 'Nul\u0000name' },
        { serviceId: 'G3\u0000', document: cpfFor(13), name: 'Bad id' },
        { serviceId: 'G4', document: cpfFor(14), name: 'Lone \ud800 half', city: 'x' },
        { serviceId: 'G5', document: cpfFor(15), name: 'Good two', address: 'Rua \ud83d\ude00 1' },
      ],
    });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.created, 2);
    assert.deepEqual(
      response.body.errors.map((e: { index: number; field: string; serviceId: string | null }) => [e.index, e.field, e.serviceId]),
      [
        [1, 'name', 'G2'],
        [2, 'serviceId', null],
        [3, 'name', 'G4'],
      ],
    );
    const saved = await svc.db.knex('service_contracts').whereIn('service_id', ['G1', 'G5']).pluck('service_id');
    assert.deepEqual(saved.sort(), ['G1', 'G5']);
  });

  test('a 500 never shows SQL or internals: generic message and the request id', async () => {
    // A broken table makes any push listing fail inside PostgreSQL (not a data exception).
    await svc.db.knex.raw('ALTER TABLE push_outbox RENAME COLUMN integration_id TO integration_id_x');
    try {
      const response = await raw(svc, 'GET', '/v1/pushes?integration=x');
      assert.equal(response.status, 500);
      const body = JSON.parse(response.text);
      assert.equal(body.error, 'internal_error');
      assert.ok(body.requestId, 'carries the request id');
      assert.doesNotMatch(response.text, /select|push_outbox|integration_id|column/i);
    } finally {
      await svc.db.knex.raw('ALTER TABLE push_outbox RENAME COLUMN integration_id_x TO integration_id');
    }
  });

  test('fuzz: every OpenAPI operation with generated bad values, no 5xx', { timeout: 120_000 }, async () => {
    const doc = (await svc.request('GET', '/openapi.json')).body as OpenApiDocument;
    const operations = operationsOf(doc);
    assert.ok(operations.length >= 12, `the document lists ${operations.length} operations`);
    const goodIds = fc.constantFrom(String(bindingId), svc.integrationId, '1');
    const exercised = new Map<string, number>();
    const failures: string[] = [];
    const started = Date.now();

    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...operations), fc.context(), requestParts(), goodIds, async (operation, context, parts, goodId) => {
        const request = buildRequest(operation, parts, { id: goodId, runId });
        exercised.set(operation.key, (exercised.get(operation.key) ?? 0) + 1);
        const response = await raw(svc, operation.method, request.url, request.body, request.contentType);
        context.log(`${operation.method} ${request.url} ${request.contentType ?? ''} ${request.body ?? ''} → ${response.status} ${response.text.slice(0, 200)}`);
        if (response.status >= 500) failures.push(`${operation.method} ${request.url} ${request.body ?? ''} → ${response.status} ${response.text}`);
        return response.status < 500;
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 2500), seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined },
    );
    assert.deepEqual(failures, []);
    for (const operation of operations) assert.ok((exercised.get(operation.key) ?? 0) > 20, `${operation.key} was driven`);
    assert.ok(Date.now() - started < 60_000, `the fuzz took ${Date.now() - started} ms`);
  });
});

interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  schema?: { type?: string | string[] };
}
interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
}
type OpenApiDocument = { paths: Record<string, Record<string, OpenApiOperation>> };

interface Operation {
  key: string;
  method: string;
  path: string;
  pathParams: string[];
  queryParams: string[];
  bodyProperties: string[] | null;
}

function operationsOf(doc: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const parameters = operation.parameters ?? [];
      const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
      operations.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: parameters.filter((p) => p.in === 'query').map((p) => p.name),
        bodyProperties: bodySchema ? Object.keys(bodySchema.properties ?? {}) : method === 'post' ? [] : null,
      });
    }
  }
  return operations;
}

/** Values that have broken services before: out of range, not numbers, bad text, odd JSON. */
const BAD_SCALARS = [
  '99999999999999999999', '9223372036854775807', '9223372036854775808', '-9223372036854775809', '-1', '0', '1.5', '1e400',
  'NaN', 'Infinity', '0x10', '', ' ', '%00', 'a%00b', '%ED%A0%80', '%F0%9F', '%FF', '%C0%80', '%25', "'", '"', '\\',
  "1' OR '1'='1", '1;DROP TABLE x', '../../etc/passwd', '%2e%2e%2f', 'true', 'null', '[]', '{}',
];
const BAD_JSON_VALUES: unknown[] = [
  99999999999999999999, 9223372036854775807, -9223372036854775809, -1, 0, 1.5, 1e308, -0,
  '', ' ', '\u0000', 'a\u0000b', '\ud800', 'x\udc00y', '\ud83d\ude00', 'x'.repeat(5000), '1e400', "'", null, true, false,
  [], [null], {}, { a: '\u0000' }, [1, 2, 3], '99999999999999999999',
];

interface Parts {
  pathValues: string[];
  useGoodPath: boolean[];
  query: [string, string][];
  bodyMode: 'object' | 'raw' | 'none' | 'array';
  bodyValues: unknown[];
  rawBody: string;
  contentType: string | undefined;
}

function requestParts(): fc.Arbitrary<Parts> {
  // Every scalar is URL text as sent: the constants are pre-encoded on purpose, generated strings are encoded.
  const scalar = fc.oneof(
    fc.constantFrom(...BAD_SCALARS),
    fc.string({ maxLength: 12, unit: 'binary' }).map(encodeURIComponent),
    fc.bigInt().map(String),
  );
  const jsonValue = fc.oneof(
    fc.constantFrom(...BAD_JSON_VALUES),
    fc.string({ maxLength: 20, unit: 'binary' }),
    fc.integer(),
    fc.double(),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => Number(n)),
  );
  return fc.record({
    pathValues: fc.array(scalar, { minLength: 3, maxLength: 3 }),
    useGoodPath: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    query: fc.array(
      fc.tuple(fc.oneof(fc.constantFrom('limit', 'offset', 'after', 'kind', 'code', 'status', 'integration', 'before', 'kinds', 'token'), fc.constant('%00')), scalar),
      { maxLength: 3 },
    ),
    bodyMode: fc.constantFrom('object', 'object', 'raw', 'none', 'array'),
    bodyValues: fc.array(jsonValue, { minLength: 5, maxLength: 5 }),
    rawBody: fc.oneof(
      fc.constantFrom('', ' ', '{', 'null', '[]', '"\\u0000"', '{"a":', '\u0000', '{"serviceId":"\\ud800"}', '9'.repeat(400)),
      fc.json(),
    ),
    contentType: fc.constantFrom('application/json', 'application/json', 'text/plain', undefined, 'application/json; charset=latin1'),
  }) as fc.Arbitrary<Parts>;
}

function buildRequest(operation: Operation, parts: Parts, good: Record<string, string>): { url: string; body?: string; contentType?: string } {
  let url = operation.path;
  operation.pathParams.forEach((name, i) => {
    // A good value lets the bad query or body reach the handler and the database.
    const value = parts.useGoodPath[i % 3] && good[name] ? good[name] : parts.pathValues[i % 3]!;
    url = url.replace(`{${name}}`, value === '' ? '%00' : value);
  });
  const query = parts.query.map(([key, value]) => `${key}=${value}`);
  if (operation.queryParams.length > 0 && parts.query.length === 0) query.push(`${operation.queryParams[0]}=${parts.pathValues[0]}`);
  if (query.length > 0) url += `?${query.join('&')}`;
  if (operation.method === 'GET' || operation.method === 'DELETE' || parts.bodyMode === 'none') return { url };
  if (parts.bodyMode === 'raw') return { url, body: parts.rawBody, contentType: parts.contentType };
  const keys = operation.bodyProperties && operation.bodyProperties.length > 0 ? operation.bodyProperties : ['serviceId', 'document', 'name', 'full'];
  const object: Record<string, unknown> = {};
  keys.forEach((key, i) => {
    if (i < parts.bodyValues.length) object[key] = parts.bodyValues[i];
  });
  const payload =
    parts.bodyMode === 'array' ? [object, { ...object, serviceId: 'X' }] : operation.path === '/v1/customers' ? { items: [object] } : object;
  return { url, body: JSON.stringify(payload), contentType: 'application/json' };
}

/**
 * The OpenAPI document and the README's route table describe the same API, and every
 * operation says what it answers on success.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../helpers/child-process.ts';
import { startTestService, type TestService } from '../helpers/test-service.ts';

/** Routes outside the OpenAPI document on purpose: health, metrics, the document itself, the dashboard. */
const UNDOCUMENTED = new Set(['GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /', 'GET /openapi.json']);

/** `METHOD /path` of every route named in README's "HTTP API" table, `:id` written `{id}`. */
function readmeRoutes(readme: string): Set<string> {
  const section = readme.split(/^## /m).find((part) => part.startsWith('HTTP API'));
  assert.ok(section, 'README has an "HTTP API" section');
  const routes = new Set<string>();
  for (const line of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const firstCell = line.split('|')[1]!;
    for (const match of firstCell.matchAll(/`(GET|POST|PUT|PATCH|DELETE) ([^`?\s]+)[^`]*`/g)) {
      routes.add(`${match[1]} ${match[2]!.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return routes;
}

describe('OpenAPI document', () => {
  let svc: TestService;
  let doc: { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> };
  before(async () => {
    svc = await startTestService();
    doc = (await svc.request('GET', '/openapi.json', undefined, { token: null })).body;
  });
  after(async () => svc?.stop());

  const operations = () =>
    Object.entries(doc.paths).flatMap(([p, methods]) => Object.entries(methods).map(([method, op]) => ({ key: `${method.toUpperCase()} ${p}`, op })));

  test('every operation lists a 2xx response', () => {
    const without = operations().filter(({ op }) => !Object.keys(op.responses ?? {}).some((code) => /^2\d\d$/.test(code)));
    assert.deepEqual(without.map((o) => o.key), []);
  });

  test('network.geojson is declared application/geo+json, as served', async () => {
    const op = doc.paths['/v1/projects/{id}/network.geojson']!.get!;
    assert.deepEqual(Object.keys(op.responses['200']!.content ?? {}), ['application/geo+json']);
    const served = await svc.request('GET', `/v1/projects/${svc.integrationId}/network.geojson?kinds=poles`);
    assert.equal(served.status, 200);
    assert.match(served.headers.get('content-type') ?? '', /^application\/geo\+json/);
  });

  test("README's route table and the OpenAPI document list the same routes", () => {
    const readme = readmeRoutes(readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8'));
    const documented = new Set(operations().map((o) => o.key));
    const inReadmeOnly = [...readme].filter((route) => !documented.has(route) && !UNDOCUMENTED.has(route));
    const inOpenApiOnly = [...documented].filter((route) => !readme.has(route));
    assert.deepEqual({ inReadmeOnly, inOpenApiOnly }, { inReadmeOnly: [], inOpenApiOnly: [] });
    assert.ok(readme.has('GET /v1/sync-runs'));
  });

  test('bearer authentication (table): [authorization header, path] → status', async () => {
    const cases: [string | null, string, number][] = [
      [null, '/v1/integrations', 401],
      ['', '/v1/integrations', 401],
      [`Bearer ${svc.apiToken}`, '/v1/integrations', 200],
      [`bearer ${svc.apiToken}`, '/v1/integrations', 200],
      [`Bearer   ${svc.apiToken}  `, '/v1/integrations', 200],
      [`Basic ${svc.apiToken}`, '/v1/integrations', 401],
      [`Bearer ${svc.apiToken}x`, '/v1/integrations', 401],
      [`Bearer ${svc.apiToken.slice(0, -1)}`, '/v1/integrations', 401],
      ['Bearer', '/v1/integrations', 401],
      [null, '/v1/pushes/1', 401],
      [null, '/healthz', 200],
      [null, '/readyz', 200],
      [null, '/metrics', 200],
      [null, '/openapi.json', 200],
      [null, '/', 200],
      [null, '/dashboard/app.js', 200],
    ];
    for (const [authorization, urlPath, expected] of cases) {
      const response = await fetch(`${svc.url}${urlPath}`, { headers: authorization === null ? {} : { authorization } });
      assert.equal(response.status, expected, `${authorization} ${urlPath}`);
      if (expected === 401) {
        assert.equal(response.headers.get('www-authenticate'), 'Bearer');
        assert.deepEqual(await response.json(), { error: 'unauthorized', message: 'Send Authorization: Bearer <MAPSYNC_API_TOKEN>' });
      }
    }
  });
});

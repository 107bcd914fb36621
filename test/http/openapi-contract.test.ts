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
});

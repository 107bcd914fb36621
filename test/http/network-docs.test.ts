import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForRunEnd } from '../helpers/run-waiting.ts';
import { startTestService, type TestService, TEST_INTEGRATION_ID } from '../helpers/test-service.ts';

// Unique per test process: sync locks are per integration id across the whole database.
const ID = TEST_INTEGRATION_ID;

describe('network GeoJSON, OpenAPI document and dashboard', () => {
  let svc: TestService;
  let projectId: number;

  before(async () => {
    svc = await startTestService({ simulator: { size: 300, seed: 5 } });
    const queued = await svc.request('POST', `/v1/integrations/${ID}/sync`);
    const run = await waitForRunEnd(svc, queued.body.runId);
    assert.equal(run.status, 'succeeded', run.error);
    projectId = (await svc.request('GET', `/v1/integrations/${ID}`)).body.project.id;
  });
  after(async () => svc?.stop());

  describe('GET /v1/projects/:id/network.geojson', () => {
    test('a FeatureCollection of every kind from PostGIS, by integration id', async () => {
      const answer = await svc.request('GET', `/v1/projects/${ID}/network.geojson`);
      assert.equal(answer.status, 200);
      assert.match(answer.headers.get('content-type')!, /application\/geo\+json/);
      const collection = answer.body;
      assert.equal(collection.type, 'FeatureCollection');
      const byKind = new Map<string, number>();
      for (const feature of collection.features) {
        assert.equal(feature.type, 'Feature');
        assert.equal(feature.geometry.type, 'Point');
        const [lon, lat] = feature.geometry.coordinates;
        assert.ok(lon > -48 && lon < -46 && lat > -24 && lat < -22, 'around Campinas');
        byKind.set(feature.properties.kind, (byKind.get(feature.properties.kind) ?? 0) + 1);
        assert.ok(!('document' in feature.properties), 'customer documents stay out of the map');
      }
      const poles = await svc.db.knex('poles').where({ integration_id: ID }).whereNull('removed_at').count<{ count: number }[]>({ count: '*' });
      assert.equal(byKind.get('pole'), Number(poles[0]!.count));
      for (const kind of ['pole', 'box', 'splitter', 'customer']) assert.ok((byKind.get(kind) ?? 0) > 0, `has ${kind}s`);
    });

    test('the mapsync project id gives the same collection; kinds filters; removed rows are left out', async () => {
      const byProject = await svc.request('GET', `/v1/projects/${projectId}/network.geojson?kinds=poles,boxes`);
      assert.equal(byProject.status, 200);
      const kinds = new Set(byProject.body.features.map((f: any) => f.properties.kind));
      assert.deepEqual([...kinds].sort(), ['box', 'pole']);
      const removed = await svc.db.knex('poles').where({ integration_id: ID }).orderBy('id').first('id');
      await svc.db.knex('poles').where({ id: removed.id }).update({ removed_at: new Date() });
      try {
        const poles = await svc.request('GET', `/v1/projects/${ID}/network.geojson?kinds=poles`);
        assert.equal(poles.body.features.length, byProject.body.features.filter((f: any) => f.properties.kind === 'pole').length - 1);
        assert.ok(!poles.body.features.some((f: any) => f.id === `pole:${removed.id}` || f.properties.rowId === Number(removed.id)));
      } finally {
        await svc.db.knex('poles').where({ id: removed.id }).update({ removed_at: null });
      }
    });

    test('400 for unknown kinds or parameters, 404 for an unknown project, 401 without token', async () => {
      const bad = await svc.request('GET', `/v1/projects/${ID}/network.geojson?kinds=poles,ducts`);
      assert.equal(bad.status, 400);
      assert.match(bad.body.message, /ducts/);
      assert.equal((await svc.request('GET', `/v1/projects/${ID}/network.geojson?box=1,2,3,4`)).status, 400);
      assert.equal((await svc.request('GET', '/v1/projects/Bad%20Id/network.geojson')).status, 400);
      assert.equal((await svc.request('GET', '/v1/projects/nope/network.geojson')).status, 404);
      assert.equal((await svc.request('GET', '/v1/projects/999999/network.geojson')).status, 404);
      assert.equal((await svc.request('GET', `/v1/projects/${ID}/network.geojson`, undefined, { token: null })).status, 401);
    });
  });

  describe('GET /openapi.json', () => {
    test('documents the API routes with their schemas, publicly', async () => {
      const answer = await svc.request('GET', '/openapi.json', undefined, { token: null });
      assert.equal(answer.status, 200);
      const doc = answer.body;
      assert.match(doc.openapi, /^3\./);
      for (const path of ['/v1/integrations', '/v1/integrations/{id}', '/v1/integrations/{id}/sync', '/v1/sync-runs/{runId}', '/v1/sync-runs/{runId}/report', '/v1/projects/{id}/network.geojson']) {
        assert.ok(doc.paths[path], `documents ${path}`);
      }
      assert.ok(doc.paths['/v1/integrations/{id}/sync'].post.responses['409']);
      assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer' });
      assert.ok(!doc.paths['/healthz'], 'internal routes are hidden');
    });

    test('404 for an unknown document path (401 first: everything else needs a token)', async () => {
      assert.equal((await svc.request('GET', '/openapi.yaml')).status, 404);
      assert.equal((await svc.request('GET', '/openapi.yaml', undefined, { token: null })).status, 401);
    });

    test('an unknown route, a malformed or an over-long URL answer in the API error shape', async () => {
      const unknown = await svc.request('GET', '/v1/nothing-here?x=1');
      assert.equal(unknown.status, 404);
      assert.deepEqual(unknown.body, { error: 'not_found', message: 'no route GET /v1/nothing-here; the routes are listed at /openapi.json' });
      const malformed = await svc.request('GET', '/v1/integrations/%E0%A4%A');
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.error, 'bad_request');
      const long = await svc.request('GET', `/v1/integrations/${'a'.repeat(300)}`);
      assert.ok(long.status === 400 || long.status === 414, String(long.status));
      assert.equal(long.body.error, 'bad_request');
      assert.match(long.body.message, /max param length/);
    });
  });

  describe('GET / (dashboard)', () => {
    test('serves the page, its scripts and MapLibre from the package without a token', async () => {
      const page = await svc.request('GET', '/', undefined, { token: null });
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type')!, /text\/html/);
      assert.match(page.body, /<div id="map">/);
      assert.ok(!page.body.includes('mapsync-demo'), 'no demo hint outside demo mode');
      for (const file of ['/dashboard/app.js', '/dashboard/style.css', '/dashboard/map.js', '/dashboard/map.css', '/dashboard/vendor/maplibre/maplibre-gl.js', '/dashboard/vendor/maplibre/maplibre-gl.css']) {
        const answer = await svc.request('GET', file, undefined, { token: null });
        assert.equal(answer.status, 200, file);
      }
    });

    test('404 for files that are not part of it, including path tricks', async () => {
      for (const file of ['/dashboard/nope.js', '/dashboard/../../package.json', '/dashboard/%2e%2e/%2e%2e/package.json', '/dashboard/vendor/maplibre/../../../../package.json']) {
        const answer = await svc.request('GET', file, undefined, { token: null });
        assert.ok(answer.status === 404 || answer.status === 401, `${file} -> ${answer.status}`);
        assert.ok(!String(JSON.stringify(answer.body)).includes('"dependencies"'));
      }
    });
  });
});

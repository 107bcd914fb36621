import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { VectorTile } from '@mapbox/vector-tile';
import Pbf from 'pbf';
import { buildTile, postgisEncodesMvt } from '../../src/map/tiles.repository.ts';
import { startSyncedService } from '../helpers/synced-network.ts';
import type { TestService } from '../helpers/test-service.ts';

/** XYZ tile holding a point (Web Mercator). */
export function tileOf(lon: number, lat: number, z: number): { z: number; x: number; y: number } {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const rad = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n);
  return { z, x, y };
}

async function fetchTile(svc: TestService, z: number, x: number, y: number, headers: Record<string, string> = {}) {
  const response = await fetch(`${svc.url}/v1/tiles/${z}/${x}/${y}.mvt?integration=${svc.integrationId}`, {
    headers: { authorization: `Bearer ${svc.apiToken}`, ...headers },
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { response, bytes, tile: bytes.length > 0 ? new VectorTile(new Pbf(bytes)) : null };
}

function features(tile: VectorTile | null, layer: string) {
  const found = tile?.layers[layer];
  if (!found) return [];
  return Array.from({ length: found.length }, (_, i) => found.feature(i));
}

describe('vector tiles of the network', () => {
  let svc: TestService;
  let box: { id: number; lon: number; lat: number; name: string };

  before(async () => {
    svc = await startSyncedService({ simulator: { size: 600, seed: 11 } });
    const row = (
      await svc.db.knex.raw(
        `SELECT b.id, b.name, ST_X(b.geom) AS lon, ST_Y(b.geom) AS lat FROM boxes b
          WHERE b.integration_id = ? AND b.removed_at IS NULL AND NOT b.planned AND b.kind = 'cto'
            AND EXISTS (SELECT 1 FROM splitters s WHERE s.box_id = b.id AND s.role = 'service')
          ORDER BY b.id LIMIT 1`,
        [svc.integrationId],
      )
    ).rows[0];
    box = { id: Number(row.id), lon: Number(row.lon), lat: Number(row.lat), name: row.name };
  });
  after(async () => svc?.stop());

  test('a close-up tile has every layer, boxes with their port counts, customers with their link status', async () => {
    const { z, x, y } = tileOf(box.lon, box.lat, 17);
    const { response, tile } = await fetchTile(svc, z, x, y);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/vnd.mapbox-vector-tile');
    assert.match(response.headers.get('cache-control') ?? '', /no-cache/);
    const boxes = features(tile, 'boxes');
    const ours = boxes.find((f) => f.id === box.id);
    assert.ok(ours, `box ${box.id} in its z17 tile (has ${boxes.map((f) => f.id).join(',')})`);
    const expected = (
      await svc.db.knex.raw(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE p.available AND NOT p.planned AND NOT s.planned AND p.platform_customer_external_id IS NULL)::int AS free
           FROM ports p JOIN splitters s ON s.id = p.splitter_id WHERE s.box_id = ? AND s.role = 'service' AND p.removed_at IS NULL AND s.removed_at IS NULL`,
        [box.id],
      )
    ).rows[0];
    assert.equal(ours.properties.servicePorts, expected.total);
    assert.equal(ours.properties.freePorts, expected.free);
    assert.equal(ours.properties.planned, false);
    assert.equal(ours.properties.name, box.name);
    assert.ok(features(tile, 'splitters').some((f) => f.properties.boxId === box.id), 'the box’s splitters are in the tile');
    const customers = features(tile, 'customers');
    for (const customer of customers) {
      assert.match(String(customer.properties.linkStatus), /^(linked|linked_by_document|document_mismatch|ambiguous|unmatched)$/);
    }
    assert.ok(features(tile, 'poles').length > 0, 'poles are in the tile');
  });

  test('without ST_AsMVT (PostGIS built without protobuf-c) the same tile is encoded in code: same layers, features, ids and properties', async () => {
    assert.equal(await postgisEncodesMvt(svc.db.knex), true, 'this PostGIS builds MVT itself');
    for (const z of [12, 14, 16, 17]) {
      const { x, y } = tileOf(box.lon, box.lat, z);
      const decode = (bytes: Buffer) => (bytes.length > 0 ? new VectorTile(new Pbf(bytes)) : null);
      const byPostgis = decode(await buildTile(svc.db.knex, svc.integrationId, { z, x, y }, { encoder: 'postgis' }));
      const byNode = decode(await buildTile(svc.db.knex, svc.integrationId, { z, x, y }, { encoder: 'node' }));
      assert.deepEqual(Object.keys(byNode?.layers ?? {}), Object.keys(byPostgis?.layers ?? {}), `layers at z${z}`);
      assert.ok(Object.keys(byNode?.layers ?? {}).length >= 3, `z${z} has layers`);
      for (const name of Object.keys(byPostgis!.layers)) {
        assert.equal(byNode!.layers[name]!.extent, 4096);
        const shape = (tile: VectorTile) =>
          features(tile, name)
            .map((f) => ({ id: f.id, type: f.type, properties: f.properties, at: f.loadGeometry()[0]![0]! }))
            .sort((a, b) => (a.id ?? 0) - (b.id ?? 0) || a.at.x - b.at.x || a.at.y - b.at.y);
        const expected = shape(byPostgis!);
        const actual = shape(byNode!);
        assert.equal(actual.length, expected.length, `${name} at z${z}`);
        expected.forEach((want, i) => {
          const got = actual[i]!;
          assert.deepEqual({ id: got.id, type: got.type, properties: got.properties }, { id: want.id, type: want.type, properties: want.properties }, `${name} at z${z}`);
          // Rounding of a half unit may differ by one unit of the 4096 grid.
          assert.ok(Math.abs(got.at.x - want.at.x) <= 1 && Math.abs(got.at.y - want.at.y) <= 1, `${name} at z${z}: ${JSON.stringify(got.at)} vs ${JSON.stringify(want.at)}`);
        });
      }
    }
  });

  test('planned items travel with their flag', async () => {
    const planned = (
      await svc.db.knex.raw(`SELECT id, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM boxes WHERE integration_id = ? AND planned AND removed_at IS NULL LIMIT 1`, [
        svc.integrationId,
      ])
    ).rows[0];
    assert.ok(planned, 'the simulated network has a planned box');
    const { z, x, y } = tileOf(Number(planned.lon), Number(planned.lat), 16);
    const { tile } = await fetchTile(svc, z, x, y);
    const feature = features(tile, 'boxes').find((f) => f.id === Number(planned.id));
    assert.ok(feature);
    assert.equal(feature.properties.planned, true);
    assert.equal(feature.properties.freePorts, 0, 'a planned box offers no port');
  });

  test('low zooms are clustered with counts that add up to the network', async () => {
    const { z, x, y } = tileOf(box.lon, box.lat, 10);
    const { tile } = await fetchTile(svc, z, x, y);
    const poles = features(tile, 'poles');
    assert.ok(poles.length > 0);
    assert.ok(poles.every((f) => f.properties.cluster === true && Number(f.properties.count) >= 1));
    const total = (await svc.db.knex.raw(`SELECT count(*)::int AS n FROM poles WHERE integration_id = ? AND removed_at IS NULL`, [svc.integrationId])).rows[0].n;
    assert.equal(poles.reduce((sum, f) => sum + Number(f.properties.count), 0), total, 'every pole is in one cluster of the z10 tile');
    assert.equal(features(tile, 'splitters').length, 0, 'no splitters at z10');
    const customers = features(tile, 'customers');
    const customerTotal = (
      await svc.db.knex.raw(`SELECT count(*)::int AS n FROM platform_customers WHERE integration_id = ? AND removed_at IS NULL AND geom IS NOT NULL`, [svc.integrationId])
    ).rows[0].n;
    assert.equal(customers.reduce((sum, f) => sum + Number(f.properties.linked) + Number(f.properties.unlinked), 0), customerTotal);
  });

  test('the ETag answers 304 until the network changes', async () => {
    const { z, x, y } = tileOf(box.lon, box.lat, 15);
    const first = await fetchTile(svc, z, x, y);
    const etag = first.response.headers.get('etag');
    assert.ok(etag);
    const again = await fetchTile(svc, z, x, y, { 'if-none-match': etag });
    assert.equal(again.response.status, 304);
    assert.equal(again.bytes.length, 0);
    // Without the ETag: the same bytes, from the tile cache this time.
    const cached = await fetchTile(svc, z, x, y);
    assert.equal(cached.response.headers.get('x-tile-cache'), 'hit');
    assert.deepEqual(cached.bytes, first.bytes);
    // A link made between runs (an import re-links customers) changes what the tiles show.
    await svc.db.knex('platform_customers').where({ integration_id: svc.integrationId }).limit(1).update({ updated_at: svc.db.knex.raw("now() + interval '1 second'") });
    const changed = await fetchTile(svc, z, x, y, { 'if-none-match': etag });
    assert.equal(changed.response.status, 200);
    assert.notEqual(changed.response.headers.get('etag'), etag);
    assert.equal(changed.response.headers.get('x-tile-cache'), 'miss', 'a tile of the old network is not served for the new one');
  });

  test('the TileJSON gives the tile URL with the network version, and the bounds of the network', async () => {
    const { status, body } = await svc.request('GET', `/v1/tiles.json?integration=${svc.integrationId}`);
    assert.equal(status, 200);
    assert.equal(body.tilejson, '3.0.0');
    assert.deepEqual(body.tiles, [`/v1/tiles/{z}/{x}/{y}.mvt?integration=${svc.integrationId}&v=${body.version}`]);
    const [west, south, east, north] = body.bounds;
    assert.ok(west <= box.lon && box.lon <= east && south <= box.lat && box.lat <= north);
    assert.deepEqual(body.vector_layers.map((layer: { id: string }) => layer.id), ['poles', 'boxes', 'splitters', 'customers']);
    await svc.db.knex('platform_customers').where({ integration_id: svc.integrationId }).limit(1).update({ updated_at: svc.db.knex.raw("now() + interval '2 seconds'") });
    const after = await svc.request('GET', `/v1/tiles.json?integration=${svc.integrationId}`);
    assert.notEqual(after.body.version, body.version);
    assert.equal((await svc.request('GET', '/v1/tiles.json?integration=nope')).status, 404);
  });

  test('a bad tile address or integration is a clear 400 or 404, and the token is required', async () => {
    for (const [path, message] of [
      ['/v1/tiles/23/0/0.mvt', /z must be a whole number from 0 to 22/],
      ['/v1/tiles/2/4/0.mvt', /x must be a whole number from 0 to 3 at zoom 2/],
      ['/v1/tiles/2/0/-1.mvt', /y must be a whole number/],
      ['/v1/tiles/a/0/0.mvt', /z must be a whole number/],
    ] as const) {
      const response = await svc.request('GET', `${path}?integration=${svc.integrationId}`);
      assert.equal(response.status, 400, path);
      assert.match(response.body.message, message);
    }
    assert.equal((await svc.request('GET', '/v1/tiles/1/0/0.mvt')).status, 400);
    assert.equal((await svc.request('GET', '/v1/tiles/1/0/0.mvt?integration=nope')).status, 404);
    assert.equal((await svc.request('GET', `/v1/tiles/1/0/0.mvt?integration=${svc.integrationId}`, undefined, { token: null })).status, 401);
  });

  test('the tile query finds its rows through the GiST index', async () => {
    const { z, x, y } = tileOf(box.lon, box.lat, 14);
    const plan = await svc.db.knex.transaction(async (trx) => {
      await trx.raw('SET LOCAL enable_seqscan = off');
      return (
        await trx.raw(
          `EXPLAIN SELECT id FROM boxes WHERE integration_id = ? AND removed_at IS NULL AND geom && ST_Transform(ST_TileEnvelope(?, ?, ?), 4326)`,
          [svc.integrationId, z, x, y],
        )
      ).rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
    });
    assert.match(plan, /boxes_geom_gist/);
  });
});

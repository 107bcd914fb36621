/**
 * GET /v1/projects/:id/network.geojson as QGIS and scripts use it: streamed in batches,
 * filtered by bbox, paged by keyset, with feature ids unique across kinds, so GDAL converts
 * it to a GeoPackage.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { streamedBody } from '../../src/http/streamed-body.ts';
import { networkGeoJsonChunks, NETWORK_LAYERS, type NetworkGeoJsonQuery } from '../../src/network/network-geojson.ts';
import { waitForRunEnd } from '../helpers/run-waiting.ts';
import { startTestService, type TestService, TEST_INTEGRATION_ID } from '../helpers/test-service.ts';

const ID = TEST_INTEGRATION_ID;
const onCi = process.env.CI === 'true' || process.env.CI === '1';
const gdalInstalled = spawnSync('ogr2ogr', ['--version'], { encoding: 'utf8' }).status === 0;
const GDAL_SKIP = gdalInstalled || onCi ? false : 'skipped: ogr2ogr is not installed (apt-get install gdal-bin)';

function run(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function readAll(chunks: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const chunk of chunks) text += chunk;
  return text;
}

describe('network GeoJSON: streamed, bbox, paged, GDAL-ready', () => {
  let svc: TestService;
  let all: any;
  const get = (query = '') => svc.request('GET', `/v1/projects/${ID}/network.geojson${query}`);

  before(async () => {
    svc = await startTestService({ simulator: { size: 300, seed: 11 } });
    const queued = await svc.request('POST', `/v1/integrations/${ID}/sync`);
    const run = await waitForRunEnd(svc, queued.body.runId);
    assert.equal(run.status, 'succeeded', run.error);
    all = (await get()).body;
  });
  after(async () => svc?.stop());

  test('feature ids are "kind:rowId", unique across kinds, in the feature and its properties', async () => {
    const ids = all.features.map((f: any) => f.id);
    assert.equal(new Set(ids).size, ids.length, 'no id repeats');
    const rowIdsByKind = new Map<string, Set<number>>();
    for (const feature of all.features) {
      const { kind, id, rowId, externalId } = feature.properties;
      assert.equal(feature.id, `${kind}:${rowId}`);
      assert.equal(id, feature.id);
      assert.ok(Number.isSafeInteger(rowId) && rowId > 0);
      assert.equal(typeof externalId, 'string');
      rowIdsByKind.set(kind, (rowIdsByKind.get(kind) ?? new Set()).add(rowId));
    }
    // Row ids do repeat between kinds (each table has its own sequence): that is what the prefix is for.
    const poles = rowIdsByKind.get('pole')!;
    assert.ok([...rowIdsByKind.get('box')!].some((rowId) => poles.has(rowId)), 'a box shares a row id with a pole');
    assert.equal(all.numberReturned, all.features.length);
    assert.equal(all.links, undefined, 'the whole network: no next page');
  });

  test('the body is streamed (chunked, no Content-Length) and typed application/geo+json', async () => {
    const response = await fetch(`${svc.url}/v1/projects/${ID}/network.geojson`, { headers: { authorization: `Bearer ${svc.apiToken}` } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('transfer-encoding'), 'chunked');
    assert.equal(response.headers.get('content-length'), null);
    assert.match(response.headers.get('content-type')!, /^application\/geo\+json/);
    assert.equal((await response.json()).features.length, all.features.length);
    const head = await fetch(`${svc.url}/v1/projects/${ID}/network.geojson`, { method: 'HEAD', headers: { authorization: `Bearer ${svc.apiToken}` } });
    assert.equal(head.status, 200);
    assert.match(head.headers.get('content-type')!, /^application\/geo\+json/);
    assert.equal(await head.text(), '');
  });

  test('ogr2ogr converts the output to a GeoPackage with every feature, from a file and from the URL', { skip: GDAL_SKIP }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mapsync-gpkg-'));
    const url = `${svc.url}/v1/projects/${ID}/network.geojson`;
    try {
      const source = path.join(dir, 'network.geojson');
      const response = await fetch(url, { headers: { authorization: `Bearer ${svc.apiToken}` } });
      writeFileSync(source, await response.text());
      // The service answers from this process: GDAL runs asynchronously so the event loop stays free to serve it.
      const sources: [string, string, string[]][] = [
        ['file', source, []],
        ['url', url, ['--config', 'GDAL_HTTP_HEADERS', `Authorization: Bearer ${svc.apiToken}`]],
      ];
      for (const [name, input, options] of sources) {
        const target = path.join(dir, `${name}.gpkg`);
        const convert = await run('ogr2ogr', ['-f', 'GPKG', ...options, target, input, '-nln', 'network']);
        assert.equal(convert.code, 0, `ogr2ogr from the ${name} failed: ${convert.stderr}`);
        assert.doesNotMatch(convert.stderr, /ERROR/);
        const count = await run('ogrinfo', ['-q', target, '-sql', 'SELECT count(*) AS n, count(DISTINCT id) AS ids FROM network']);
        assert.equal(count.code, 0, count.stderr);
        assert.match(count.stdout, new RegExp(`n \\(Integer\\) = ${all.features.length}\\b`), name);
        assert.match(count.stdout, new RegExp(`ids \\(Integer\\) = ${all.features.length}\\b`), name);
        const fields = await run('ogrinfo', ['-so', target, 'network']);
        assert.match(fields.stdout, /FID Column = fid/, 'GDAL numbers the features itself; the ids stay a text field');
        assert.match(fields.stdout, /^id: String/m);
        assert.match(fields.stdout, /^rowId: Integer/m);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bbox keeps the features inside the box, as PostGIS counts them', async () => {
    // The south-west quarter of the network's extent.
    const xs = all.features.map((f: any) => f.geometry.coordinates[0]);
    const ys = all.features.map((f: any) => f.geometry.coordinates[1]);
    const [minX, minY] = [Math.min(...xs), Math.min(...ys)];
    const box = [minX, minY, (minX + Math.max(...xs)) / 2, (minY + Math.max(...ys)) / 2];
    const inside = await get(`?bbox=${box.join(',')}`);
    assert.equal(inside.status, 200);
    assert.deepEqual(inside.body.mapsync.bbox, box);
    assert.ok(inside.body.features.length > 0);
    for (const feature of inside.body.features) {
      const [x, y] = feature.geometry.coordinates;
      assert.ok(x >= box[0]! && x <= box[2]! && y >= box[1]! && y <= box[3]!, `${feature.id} lies inside`);
    }
    const expected = all.features.filter((f: any) => {
      const [x, y] = f.geometry.coordinates;
      return x >= box[0]! && x <= box[2]! && y >= box[1]! && y <= box[3]!;
    });
    assert.equal(inside.body.features.length, expected.length);
    assert.ok(inside.body.features.length < all.features.length, 'the box leaves some out');
    const counted = await svc.db.knex.raw<{ rows: { n: string }[] }>(
      'SELECT count(*) AS n FROM poles WHERE integration_id = ? AND removed_at IS NULL AND geom && ST_MakeEnvelope(?, ?, ?, ?, 4326)',
      [ID, ...box],
    );
    assert.equal(inside.body.features.filter((f: any) => f.properties.kind === 'pole').length, Number(counted.rows[0]!.n));
  });

  test('bad bbox, limit or after: 400 naming the parameter and the expected form', async () => {
    const cases: [string, RegExp][] = [
      ['?bbox=1,2,3', /bbox: expected minLon,minLat,maxLon,maxLat/],
      ['?bbox=a,b,c,d', /bbox: expected/],
      ['?bbox=1,2,3,4,5', /bbox: expected/],
      ['?bbox=-47,-22,-48,-21', /minLon is east of maxLon/],
      ['?bbox=-47,-21,-46,-22', /minLat is north of maxLat/],
      ['?bbox=-181,-22,-46,-21', /longitudes lie between -180 and 180/],
      ['?bbox=-47,-91,-46,-21', /latitudes lie between -90 and 90/],
      ['?bbox=Infinity,1,2,3', /bbox: expected/],
      ['?limit=0', /limit/],
      ['?limit=abc', /limit/],
      ['?after=pole', /after: expected a feature id/],
      ['?after=pole:0', /after: expected a feature id/],
      ['?after=duct:12', /after: expected a feature id/],
      ['?kinds=poles&after=box:12', /not of the kinds asked for/],
    ];
    for (const [query, message] of cases) {
      const answer = await get(query);
      assert.equal(answer.status, 400, query);
      assert.match(answer.body.message, message, query);
    }
  });

  test('limit pages by keyset; following the next links gives every feature once, in order', async () => {
    const seen: string[] = [];
    let url: string | null = `/v1/projects/${ID}/network.geojson?limit=70`;
    let pages = 0;
    while (url) {
      const page: { status: number; body: any } = await svc.request('GET', url);
      assert.equal(page.status, 200, url);
      assert.ok(page.body.features.length <= 70);
      assert.equal(page.body.numberReturned, page.body.features.length);
      seen.push(...page.body.features.map((f: any) => f.id));
      const next = (page.body.links ?? []).find((link: any) => link.rel === 'next');
      if (next) {
        assert.equal(page.body.features.length, 70, 'only a full page has a next one');
        const href = new URL(next.href);
        assert.equal(href.origin, svc.url);
        assert.equal(href.searchParams.get('after'), page.body.features.at(-1).id);
        assert.equal(href.searchParams.get('limit'), '70');
        url = `${href.pathname}${href.search}`;
      } else {
        url = null;
      }
      pages += 1;
    }
    assert.deepEqual(seen, all.features.map((f: any) => f.id));
    assert.equal(pages, Math.ceil(all.features.length / 70));
  });

  test('a page that ends exactly at the last feature has no next link', async () => {
    const answer = await get(`?limit=${all.features.length}`);
    assert.equal(answer.body.features.length, all.features.length);
    assert.equal(answer.body.links, undefined);
    const last = await get(`?after=${all.features.at(-1).id}`);
    assert.deepEqual(last.body.features, []);
  });

  test('the next link keeps kinds and bbox', async () => {
    const pole = all.features.find((f: any) => f.properties.kind === 'pole');
    const [lon, lat] = pole.geometry.coordinates;
    const bbox = [lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05].join(',');
    const full = (await get(`?kinds=boxes,poles&bbox=${bbox}`)).body.features.map((f: any) => f.id);
    assert.ok(full.length > 4);
    assert.equal(full[0].split(':')[0], 'box', 'kinds order the layers');
    const first = await get(`?kinds=boxes,poles&bbox=${bbox}&limit=3`);
    const href = new URL(first.body.links[0].href);
    assert.equal(href.searchParams.get('kinds'), 'boxes,poles');
    assert.equal(href.searchParams.get('bbox'), bbox);
    const second = await svc.request('GET', `${href.pathname}${href.search}`);
    assert.deepEqual([...first.body.features, ...second.body.features].map((f: any) => f.id), full.slice(0, 6));
  });

  describe('the feature writer', () => {
    const query = (): NetworkGeoJsonQuery => ({ integrationId: ID, projectId: null, layers: [...NETWORK_LAYERS] });

    test('small batches write the same collection as one batch', async () => {
      const whole = JSON.parse(await readAll(networkGeoJsonChunks(svc.db.knex, query(), () => '')));
      const batched = JSON.parse(await readAll(networkGeoJsonChunks(svc.db.knex, query(), () => '', { batchRows: 7 })));
      assert.deepEqual(batched.features, whole.features);
      assert.equal(whole.features.length, all.features.length);
      const paged = JSON.parse(await readAll(networkGeoJsonChunks(svc.db.knex, { ...query(), limit: 30 }, (after) => `next?after=${after}`, { batchRows: 7 })));
      assert.deepEqual(paged.features, whole.features.slice(0, 30));
      assert.equal(paged.links[0].href, `next?after=${whole.features[29].id}`);
    });

    test('a reader that stops reading stops the queries (backpressure), and closing ends them', async () => {
      let queries = 0;
      const counting = {
        raw: (...args: Parameters<Knex['raw']>) => svc.db.knex.raw(...args),
        transaction: (work: (trx: Knex.Transaction) => Promise<unknown>) => ((queries += 1), svc.db.knex.transaction(work)),
      } as unknown as Knex;
      // A buffer smaller than a batch, as 64 KB is at scale.
      const body = streamedBody(networkGeoJsonChunks(counting, query(), () => '', { batchRows: 5 }), { highWaterMark: 512 });
      const batches = Math.ceil(all.features.length / 5);
      body.pause();
      body.read(0);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.ok(queries > 0, 'it started');
      assert.ok(queries < batches / 2, `${queries} of ${batches} batches read while nobody reads`);
      const paused = queries;
      body.destroy();
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.ok(queries <= paused + 1, 'no more batches after the reader went away');
    });
  });
});

/**
 * Map benchmark: vector tiles, viability and the GeoJSON endpoint on one synced network,
 * through the real HTTP routes (fastify inject: routing, auth, validation and the SQL, with no
 * socket in between).
 *
 * Part of `npm run bench` (bench/run.ts calls benchMap on each size's synced schema); alone,
 * `BENCH_MAP_SCHEMA=bench_1000000 npm run bench:map` measures a schema kept with BENCH_KEEP=1.
 *
 * - Tiles: the z14 tile holding the most elements (poles, boxes, customers) and its eight
 *   neighbours, in rounds; p50/p95/max over all of them.
 * - Viability: random points (seeded) over the boxes' extent, default radius.
 * - GeoJSON: the whole network, once, as a client such as QGIS asks for it.
 */
import { pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { integrationSchema } from '../src/config/config.schema.ts';
import { createKnex } from '../src/db/knex-factory.ts';
import { buildHttpServer } from '../src/http/http-server.ts';
import { createLogger } from '../src/observability/logger.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import type { AppContext } from '../src/service/app-context.ts';
import { SeededRandom } from '../src/simulator/seeded-random.ts';

export interface Timing {
  samples: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

export interface MapBenchResult {
  elements: { poles: number; boxes: number; customers: number };
  densestTile: { z: number; x: number; y: number; elements: number; bytes: number };
  /** Built by PostGIS on every request (the tile cache off). */
  tile: Timing;
  /** Served again from the in-memory tile cache. */
  tileCached: Timing;
  viability: Timing & { radiusMetres: number; meanBoxes: number };
  geojson: { ms: number; mb: number; features: number | null; status: number };
}

function timing(values: number[]): Timing {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const round = (n: number) => Math.round(n * 10) / 10;
  return { samples: values.length, p50Ms: round(at(0.5)), p95Ms: round(at(0.95)), maxMs: round(sorted.at(-1)!) };
}

/** The z14 tile (XYZ) with the most poles, boxes and customers in it. */
async function densestTile(knex: Knex, integrationId: string, z: number): Promise<{ x: number; y: number; elements: number }> {
  const result = await knex.raw<{ rows: { x: number; y: number; n: number }[] }>(
    `SELECT floor((ST_X(geom) + 180) / 360 * 2 ^ :z)::int AS x,
            floor((1 - ln(tan(radians(ST_Y(geom))) + 1 / cos(radians(ST_Y(geom)))) / pi()) / 2 * 2 ^ :z)::int AS y,
            count(*)::int AS n
       FROM (SELECT geom FROM poles WHERE integration_id = :id AND removed_at IS NULL
             UNION ALL SELECT geom FROM boxes WHERE integration_id = :id AND removed_at IS NULL
             UNION ALL SELECT geom FROM platform_customers WHERE integration_id = :id AND removed_at IS NULL AND geom IS NOT NULL) g
      GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 1`,
    { z, id: integrationId },
  );
  const row = result.rows[0];
  if (!row) throw new Error(`integration ${integrationId} has no network to draw`);
  return { x: row.x, y: row.y, elements: row.n };
}

export async function benchMap(options: { dbUrl: string; schema: string; integrationId: string; log?: (message: string) => void }): Promise<MapBenchResult> {
  const log = options.log ?? (() => undefined);
  const knex = createKnex({ url: options.dbUrl, schema: options.schema });
  const integration = integrationSchema.parse({
    id: options.integrationId,
    platform: 'simulator',
    apiUrl: 'https://simulator.invalid/panel',
    token: 'unused',
    project: { link: 'Campinas' },
  });
  const ctx = {
    knex,
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics(),
    config: { integrations: [integration], scheduler: { enabled: false, catchUpMissedRuns: false } },
    integrations: new Map([[integration.id, integration]]),
    demo: false,
    adapterFor: () => {
      throw new Error('the map benchmark makes no platform call');
    },
    wake: { runs: () => undefined, pushes: () => undefined },
  } as unknown as AppContext;
  // Tiles are measured as built (the in-memory tile cache off), then as served again from it.
  const withCache = async (mb: string) => {
    const before = process.env.MAPSYNC_TILE_CACHE_MB;
    process.env.MAPSYNC_TILE_CACHE_MB = mb;
    try {
      return await buildHttpServer(ctx, { apiToken: 'bench' });
    } finally {
      if (before === undefined) delete process.env.MAPSYNC_TILE_CACHE_MB;
      else process.env.MAPSYNC_TILE_CACHE_MB = before;
    }
  };
  const app = await withCache('0');
  const cachedApp = await withCache('64');
  const headers = { authorization: 'Bearer bench' };
  const id = encodeURIComponent(options.integrationId);
  try {
    const counts = (
      await knex.raw(
        `SELECT (SELECT count(*) FROM poles WHERE integration_id = :id AND removed_at IS NULL)::int AS poles,
                (SELECT count(*) FROM boxes WHERE integration_id = :id AND removed_at IS NULL)::int AS boxes,
                (SELECT count(*) FROM platform_customers WHERE integration_id = :id AND removed_at IS NULL)::int AS customers`,
        { id: options.integrationId },
      )
    ).rows[0] as MapBenchResult['elements'];
    await knex.raw('ANALYZE');

    const z = 14;
    const dense = await densestTile(knex, options.integrationId, z);
    log(`map: densest z${z} tile ${dense.x}/${dense.y} holds ${dense.elements} elements`);
    const tiles: [number, number][] = [];
    for (let dx = -1; dx <= 1; dx += 1) for (let dy = -1; dy <= 1; dy += 1) tiles.push([dense.x + dx, dense.y + dy]);
    const fetchTile = async ([x, y]: [number, number], server = app) => {
      const started = performance.now();
      const response = await server.inject({ method: 'GET', url: `/v1/tiles/${z}/${x}/${y}.mvt?integration=${id}`, headers });
      if (response.statusCode !== 200) throw new Error(`tile ${z}/${x}/${y}: HTTP ${response.statusCode} ${response.body.slice(0, 300)}`);
      return { ms: performance.now() - started, bytes: response.rawPayload.length };
    };
    for (const tile of tiles) await fetchTile(tile); // warm the caches once
    const tileMs: number[] = [];
    for (let round = 0; round < 6; round += 1) for (const tile of tiles) tileMs.push((await fetchTile(tile)).ms);
    const bytes = (await fetchTile([dense.x, dense.y])).bytes;
    const tile = timing(tileMs);
    log(`map: z${z} tiles p50 ${tile.p50Ms} ms, p95 ${tile.p95Ms} ms (${tile.samples} tiles; the densest is ${Math.round(bytes / 1024)} KiB)`);
    for (const tile of tiles) await fetchTile(tile, cachedApp);
    const cachedMs: number[] = [];
    for (let round = 0; round < 6; round += 1) for (const tile of tiles) cachedMs.push((await fetchTile(tile, cachedApp)).ms);
    const tileCached = timing(cachedMs);
    log(`map: the same tiles from the tile cache p50 ${tileCached.p50Ms} ms, p95 ${tileCached.p95Ms} ms`);

    const extent = (await knex.raw(`SELECT ST_XMin(e) AS w, ST_YMin(e) AS s, ST_XMax(e) AS e, ST_YMax(e) AS n FROM (SELECT ST_Extent(geom) AS e FROM boxes WHERE integration_id = ?) x`, [options.integrationId]))
      .rows[0] as { w: number; s: number; e: number; n: number };
    const random = new SeededRandom(42);
    const viabilityMs: number[] = [];
    let found = 0;
    const points = 200;
    for (let i = 0; i < points + 20; i += 1) {
      const lon = extent.w + random.next() * (extent.e - extent.w);
      const lat = extent.s + random.next() * (extent.n - extent.s);
      const started = performance.now();
      const response = await app.inject({ method: 'GET', url: `/v1/viability?integration=${id}&lat=${lat.toFixed(7)}&lon=${lon.toFixed(7)}`, headers });
      const ms = performance.now() - started;
      if (response.statusCode !== 200) throw new Error(`viability: HTTP ${response.statusCode} ${response.body.slice(0, 300)}`);
      if (i < 20) continue; // warm-up
      viabilityMs.push(ms);
      found += (JSON.parse(response.body) as { boxes: unknown[] }).boxes.length;
    }
    const viability = { ...timing(viabilityMs), radiusMetres: 300, meanBoxes: Math.round((found / points) * 10) / 10 };
    log(`map: viability p50 ${viability.p50Ms} ms, p95 ${viability.p95Ms} ms (${points} points, ${viability.meanBoxes} boxes each on average)`);

    const started = performance.now();
    const geo = await app.inject({ method: 'GET', url: `/v1/projects/${id}/network.geojson`, headers });
    const geojsonMs = Math.round(performance.now() - started);
    let features: number | null = null;
    try {
      features = (JSON.parse(geo.body) as { features: unknown[] }).features.length;
    } catch {
      features = null;
    }
    const geojson = { ms: geojsonMs, mb: Math.round((geo.rawPayload.length / 1024 ** 2) * 10) / 10, features, status: geo.statusCode };
    log(`map: the whole network as GeoJSON: ${geojson.ms} ms, ${geojson.mb} MB, ${features ?? '?'} features (HTTP ${geo.statusCode})`);
    return { elements: counts, densestTile: { z, x: dense.x, y: dense.y, elements: dense.elements, bytes }, tile, tileCached, viability, geojson };
  } finally {
    await app.close();
    await cachedApp.close();
    await knex.destroy();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const schema = process.env.BENCH_MAP_SCHEMA;
  if (!schema) throw new Error('BENCH_MAP_SCHEMA is required: a schema kept by `BENCH_KEEP=1 npm run bench` (e.g. bench_1000000)');
  const dbUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const result = await benchMap({ dbUrl, schema, integrationId: process.env.BENCH_MAP_INTEGRATION ?? 'bench', log: (m) => process.stderr.write(`[bench] ${m}\n`) });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

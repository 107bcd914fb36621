/**
 * Cost of GET /v1/projects/:id/network.geojson on a large network: `npm run bench:geojson`.
 *
 * Seeds a schema of BENCH_DATABASE_URL (else TEST_DATABASE_URL) straight in SQL with
 * GEOJSON_POLES poles (default 600k), a CTO on every 10th pole with one 1x8 service
 * splitter, and a customer on every 4th port; then asks a server process (bench/geojson-server-child.ts)
 * for the whole network, a bbox of about 1% of it, and one page of 1000, reading each body
 * as fast as it comes. Reported per request: time to first byte, total time, body size, and the
 * server's peak RSS and event-loop delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution).
 * GEOJSON_ROUTE_MODULE runs another version of the route for comparison.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createKnex } from '../src/db/knex-factory.ts';
import { migrateLatest } from '../src/db/migrator.ts';

const dbUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const poles = Number(process.env.GEOJSON_POLES ?? 600_000);
const schema = process.env.GEOJSON_SCHEMA ?? `bench_geojson_${poles}`;
const log = (message: string) => process.stderr.write(`[bench:geojson] ${message}\n`);

async function seed(): Promise<void> {
  const admin = createKnex({ url: dbUrl });
  const exists = await admin.raw<{ rows: unknown[] }>('SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', [schema]);
  await admin.destroy();
  const knex = createKnex({ url: dbUrl, schema });
  try {
    if (exists.rows.length > 0 && process.env.GEOJSON_RESEED !== '1') {
      const count = await knex('poles').count<{ n: string }[]>({ n: '*' });
      if (Number(count[0]!.n) === poles) {
        log(`reusing schema ${schema}`);
        return;
      }
    }
    await knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await knex.raw('CREATE SCHEMA ??', [schema]);
    await migrateLatest(knex);
    const started = performance.now();
    await knex('integrations').insert({ id: 'bench', platform: 'simulator', api_url: 'https://127.0.0.1/bench' });
    // A square grid around Campinas, ~25 m apart.
    await knex.raw(
      `INSERT INTO poles (integration_id, external_id, content_hash, name, geom)
       SELECT 'bench', 'p' || g, 'h', 'POSTE-' || g,
              ST_SetSRID(ST_MakePoint(-47.06 + (g % 1000) * 0.00025, -22.90 + (g / 1000) * 0.00025), 4326)
         FROM generate_series(1, ?) g`,
      [poles],
    );
    await knex.raw(
      `INSERT INTO boxes (integration_id, external_id, content_hash, name, kind, pole_id, pole_link, geom)
       SELECT 'bench', 'b' || id, 'h', 'CTO-' || id, 'cto', id, 'platform', geom FROM poles WHERE id % 10 = 0`,
    );
    await knex.raw(
      `INSERT INTO splitters (integration_id, external_id, content_hash, box_id, container_external_id, name, role, ratio_in, ratio_out)
       SELECT 'bench', 's' || id, 'h', id, 'b' || id, '1x8', 'service', 1, 8 FROM boxes`,
    );
    await knex.raw(
      `INSERT INTO ports (integration_id, external_id, content_hash, splitter_id, number, available, platform_customer_external_id)
       SELECT 'bench', 'o' || s.id || '-' || n, 'h', s.id, n, n % 4 <> 0, CASE WHEN n % 4 = 0 THEN 'c' || s.id || '-' || n END
         FROM splitters s CROSS JOIN generate_series(1, 8) n`,
    );
    await knex.raw(
      `INSERT INTO platform_customers (integration_id, external_id, content_hash, name, port_external_id, link_status, geom)
       SELECT 'bench', p.platform_customer_external_id, 'h', 'Cliente ' || p.id, p.external_id, 'unmatched', b.geom
         FROM ports p JOIN splitters s ON s.id = p.splitter_id JOIN boxes b ON b.id = s.box_id
        WHERE p.platform_customer_external_id IS NOT NULL`,
    );
    await knex.raw('ANALYZE');
    log(`seeded ${poles} poles in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await knex.destroy();
  }
}

interface Served {
  url: string;
  stop(): Promise<void>;
}

async function startServer(): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/geojson-server-child.ts'], {
    env: { ...process.env, DATABASE_URL: dbUrl, DATABASE_SCHEMA: schema },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve((JSON.parse(out.slice(0, out.indexOf('\n'))) as { url: string }).url);
    });
    child.on('exit', (code) => reject(new Error(`the server exited (${code})`)));
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

function getJson(url: string): Promise<any> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

/** Reads the body as it comes, keeping only its size and its last bytes. */
function timedGet(url: string): Promise<{ status: number; ttfbMs: number; totalMs: number; bytes: number; tail: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    http.get(url, (res) => {
      let ttfbMs = -1;
      let bytes = 0;
      let tail = '';
      res.on('data', (chunk: Buffer) => {
        if (ttfbMs < 0) ttfbMs = performance.now() - started;
        bytes += chunk.length;
        tail = (tail + chunk.toString('latin1')).slice(-300);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ttfbMs, totalMs: performance.now() - started, bytes, tail }));
    }).on('error', reject);
  });
}

await seed();
const server = await startServer();
const results: Record<string, unknown>[] = [];
try {
  const base = `${server.url}/v1/projects/bench/network.geojson`;
  // ~1% of the grid: 100 x 60 poles of the 1000-wide grid.
  const bbox = [-47.06, -22.9, -47.06 + 100 * 0.00025, -22.9 + (poles / 1000 / 10) * 0.00025].join(',');
  for (const [name, url] of [
    ['whole network', base],
    ['bbox (~1%)', `${base}?bbox=${bbox}`],
    ['one page, limit=1000', `${base}?limit=1000`],
  ] as const) {
    await getJson(`${server.url}/__reset`);
    const answer = await timedGet(url);
    const stats = await getJson(`${server.url}/__stats`);
    const features = /"numberReturned":(\d+)/.exec(answer.tail)?.[1];
    const row = {
      request: name,
      status: answer.status,
      features: features === undefined ? null : Number(features),
      bodyMb: +(answer.bytes / 2 ** 20).toFixed(1),
      ttfbMs: Math.round(answer.ttfbMs),
      totalMs: Math.round(answer.totalMs),
      serverMaxRssMb: stats.maxRssMb,
      eventLoopMaxMs: Math.round(stats.eventLoop.maxMs),
      eventLoopP99Ms: Math.round(stats.eventLoop.p99Ms),
    };
    results.push(row);
    log(JSON.stringify(row));
  }
} finally {
  await server.stop();
}
process.stdout.write(`${JSON.stringify({ poles, route: process.env.GEOJSON_ROUTE_MODULE ?? 'current', results }, null, 2)}\n`);

/**
 * Sync benchmark: `npm run bench` (BENCH_SIZES=10000,100000 for a quick run; BENCH_PLATFORM=ozmap
 * for the OZmap path, whose normal re-sync reads only what changed).
 *
 * For each size: the GeoGrid simulator runs in a child process; the sync runs in another
 * child process (its peak RSS is its own); the database is BENCH_DATABASE_URL, else
 * TEST_DATABASE_URL, else the local PostgreSQL. Measured: the first sync into an empty
 * schema, a no-change re-sync, a `--full` re-sync, and as a baseline the time ogr2ogr takes
 * to load the same elements from GeoJSON into PostGIS.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKnex } from '../src/db/knex-factory.ts';
import { migrateLatest } from '../src/db/migrator.ts';
import { erpContractsFor, generateNetwork } from '../src/simulator/network-generator.ts';
import { seedErpContracts } from './erp-seed.ts';
import { writeNetworkGeoJson } from './network-geojson.ts';
import { benchMap, type MapBenchResult } from './map.bench.ts';
import { platformMinimum, requestFigures, requestLine, requestTable, type RequestFigures } from './request-budget.ts';
import { benchOzmapSync, ozmapSizes, ozmapTable, type OzmapBenchResult } from './ozmap-sync.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sizes = (process.env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map((s) => Number(s.trim())).filter((n) => n > 0);
const dbUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const seed = Number(process.env.BENCH_SEED ?? 1);
/** The platform the simulator imitates and the sync reads: `geogrid` (default) or `ozmap`. */
const platform = process.env.BENCH_PLATFORM === 'ozmap' ? 'ozmap' : 'geogrid';

interface ChildResult {
  status: string;
  error: string | null;
  counts: Record<string, Record<string, number>>;
  ms: number;
  phases: Record<string, number>;
  maxRssMb: number;
  /** CPU time (user + system) of the sync process: steadier than wall time on a shared machine. */
  cpuMs?: number;
  memory?: Record<string, { rssMb: number; heapUsedMb: number; externalMb: number }>;
  requests?: number;
  platformRequests?: { byFamily: Record<string, number>; occupancyReads: string | null } | null;
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function ogr2ogrVersion(): string | null {
  const result = spawnSync('ogr2ogr', ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

async function startSimulatorProcess(size: number, caFile: string, args: string[] = []): Promise<{ url: string; origin: string; counts: Record<string, number>; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/simulator/main.ts', '--platform', platform, '--seed', String(seed), '--size', String(size), '--port', '0', '--https', '--ca-file', caFile, '--rpm', '1000000000', '--concurrency', '10000', ...args],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const newline = out.indexOf('\n');
      if (newline >= 0) resolve(out.slice(0, newline));
    });
    child.on('exit', (code) => reject(new Error(`the simulator exited (${code}) before it was ready`)));
  });
  const ready = JSON.parse(line) as { url: string; origin: string; counts: Record<string, number> };
  return {
    ...ready,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

function simAdmin(origin: string, ca: string, method: 'GET' | 'POST', route: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${origin}/__sim/${route}`, { method, ca, headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(JSON.parse(body || '{}') as Record<string, unknown>));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

async function runSyncChild(env: Record<string, string>): Promise<ChildResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/sync-child.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const line = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`the sync child failed (exit ${code}): ${out.slice(-2000)}`);
  return JSON.parse(line) as ChildResult;
}

/** GDAL appends options to a URI-style connection string; keyword form keeps them apart. */
function libpqKeywords(url: string): string {
  const u = new URL(url);
  const parts = [`host=${u.hostname}`, `port=${u.port || '5432'}`, `dbname=${decodeURIComponent(u.pathname.slice(1)) || 'postgres'}`];
  if (u.username) parts.push(`user=${decodeURIComponent(u.username)}`);
  if (u.password) parts.push(`password=${decodeURIComponent(u.password)}`);
  return parts.join(' ');
}

function total(counts: ChildResult['counts'], key: string): number {
  return Object.values(counts).reduce((sum, c) => sum + (c[key] ?? 0), 0);
}

async function machine(): Promise<Record<string, string>> {
  const knex = createKnex({ url: dbUrl });
  try {
    await knex.raw('CREATE EXTENSION IF NOT EXISTS postgis');
    const pg = (await knex.raw('SELECT version() AS v, postgis_full_version() AS p')).rows[0] as { v: string; p: string };
    return {
      cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
      nproc: spawnSync('nproc', { encoding: 'utf8' }).stdout.trim(),
      memory: `${Math.round(os.totalmem() / 1024 ** 3)} GiB`,
      node: process.version,
      postgres: pg.v.split(' on ')[0] ?? pg.v,
      postgis: (/POSTGIS="([^"]+)"/.exec(pg.p)?.[1]) ?? 'unknown',
      ogr2ogr: ogr2ogrVersion() ?? 'not installed',
    };
  } finally {
    await knex.destroy();
  }
}

async function benchSize(size: number, ogr: boolean): Promise<Record<string, unknown>> {
  const work = mkdtempSync(path.join(os.tmpdir(), `mapsync-bench-${size}-`));
  const caFile = path.join(work, 'ca.pem');
  const schema = `bench_${size}`;
  log(`size ${size}: starting the simulator`);
  const sim = await startSimulatorProcess(size, caFile);
  const ca = readFileSync(caFile, 'utf8');
  const admin = createKnex({ url: dbUrl });
  try {
    await admin.raw('CREATE EXTENSION IF NOT EXISTS postgis');
    await admin.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.raw(`CREATE SCHEMA ${schema}`);
    const knex = createKnex({ url: dbUrl, schema });
    await migrateLatest(knex);
    log(`size ${size}: seeding the ERP side`);
    const network = generateNetwork({ seed, size });
    await seedErpContracts(knex, erpContractsFor(network));
    await knex.destroy();

    const env = { DATABASE_URL: dbUrl, DATABASE_SCHEMA: schema, SIM_URL: sim.url, SIM_TOKEN: 'sim-token', SIM_CA_FILE: caFile, SIM_PLATFORM: platform };
    const minimum = platformMinimum(network);
    const requestRows: Record<string, RequestFigures> = {};
    const measured = async (label: string, full: boolean, floor = full ? minimum.perContainer : minimum.batch): Promise<ChildResult> => {
      await simAdmin(sim.origin, ca, 'POST', 'reset-stats');
      log(`size ${size}: ${label}`);
      const result = await runSyncChild({ ...env, BENCH_FULL: full ? '1' : '0' });
      if (result.status !== 'succeeded') throw new Error(`${label} failed: ${result.error}`);
      result.requests = Number((await simAdmin(sim.origin, ca, 'GET', 'stats')).requests);
      log(`size ${size}: ${label}: ${result.ms} ms (CPU ${result.cpuMs} ms), ${result.requests} requests, peak RSS ${result.maxRssMb} MB, phases ${JSON.stringify(result.phases)}, memory ${JSON.stringify(result.memory)}`);
      requestRows[label] = requestFigures(result.requests, floor);
      log(`size ${size}: ${label}: ${requestLine(requestRows[label])}; by family ${JSON.stringify(result.platformRequests?.byFamily ?? {})}`);
      return result;
    };
    // Loaded right before the first sync, so that both meet the same load of a shared machine.
    let ogrMs: number | null = null;
    let features = 0;
    let geojsonMb = 0;
    if (ogr) {
      const file = path.join(work, 'network.geojson');
      features = await writeNetworkGeoJson(network, file);
      geojsonMb = Math.round(statSync(file).size / 1024 ** 2);
      log(`size ${size}: ogr2ogr baseline (${features} features, ${geojsonMb} MB of GeoJSON)`);
      const started = performance.now();
      const result = spawnSync(
        'ogr2ogr',
        ['-f', 'PostgreSQL', `PG:${libpqKeywords(dbUrl)}`, file, '-nln', `${schema}.ogr_elements`, '-overwrite', '-lco', 'GEOMETRY_NAME=geom', '-lco', 'SPATIAL_INDEX=GIST', '--config', 'PG_USE_COPY', 'YES', '-gt', '65536'],
        { encoding: 'utf8' },
      );
      ogrMs = Math.round(performance.now() - started);
      if (result.status !== 0) throw new Error(`ogr2ogr failed: ${result.stderr}`);
      log(`size ${size}: ogr2ogr baseline: ${ogrMs} ms`);
    }

    const first = await measured('first sync (empty database)', false, minimum.perContainer);
    const again = await measured('no-change re-sync', false);
    // The nightly case: every read is a day older, so the day's slice of the weekly recheck is due.
    const aged = createKnex({ url: dbUrl, schema });
    await aged('sync_pole_checks').update({ checked_at: aged.raw("checked_at - interval '24 hours'") });
    await aged('sync_equipment_reads').update({ read_at: aged.raw("read_at - interval '24 hours'") });
    await aged.destroy();
    const nightly = await measured('next-night no-change re-sync (with the weekly-recheck slice)', false);
    const full = await measured('re-sync with --full', true);
    // Tiles, viability and GeoJSON on the network just synced (bench/map.bench.ts).
    const map: MapBenchResult = await benchMap({ dbUrl, schema, integrationId: 'bench', log: (message) => log(`size ${size}: ${message}`) });

    const elements = total(first.counts, 'created');
    // What the database path costs, beside a plain load of the same elements.
    const dbPhasesMs = (first.phases.validating ?? 0) + (first.phases.linking ?? 0) + (first.phases.merging ?? 0);
    return {
      size,
      platformElements: sim.counts.total,
      stored: elements,
      rejected: total(first.counts, 'rejected'),
      first: { ms: first.ms, perSecond: Math.round((elements / first.ms) * 1000), rssMb: first.maxRssMb, requests: first.requests, phases: first.phases, memory: first.memory },
      resync: { ms: again.ms, rssMb: again.maxRssMb, requests: again.requests, unchanged: total(again.counts, 'unchanged'), written: total(again.counts, 'created') + total(again.counts, 'updated') + total(again.counts, 'removed'), phases: again.phases, memory: again.memory },
      nightlyResync: { ms: nightly.ms, rssMb: nightly.maxRssMb, requests: nightly.requests, written: total(nightly.counts, 'created') + total(nightly.counts, 'updated') + total(nightly.counts, 'removed'), phases: nightly.phases, memory: nightly.memory },
      fullResync: { ms: full.ms, requests: full.requests, rssMb: full.maxRssMb, updated: total(full.counts, 'updated'), phases: full.phases, memory: full.memory },
      speedupResync: Number((first.ms / again.ms).toFixed(2)),
      speedupNightly: Number((first.ms / nightly.ms).toFixed(2)),
      ogr2ogr: ogrMs === null ? null : { ms: ogrMs, features, geojsonMb },
      syncVsOgr: ogrMs === null ? null : Number((first.ms / ogrMs).toFixed(2)),
      map,
      platformMinimum: minimum,
      platformRequests: requestRows,
      dbPhasesMs,
      dbPhasesVsOgr: ogrMs === null ? null : Number((dbPhasesMs / ogrMs).toFixed(2)),
      peakRssMb: Math.max(first.maxRssMb, again.maxRssMb, nightly.maxRssMb, full.maxRssMb),
    };
  } finally {
    if (!process.env.BENCH_KEEP) await admin.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await admin.destroy();
    await sim.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

const ogr = ogr2ogrVersion() !== null;
if (!ogr) log('ogr2ogr is not installed: the baseline is skipped. Install it with `sudo apt-get install gdal-bin` (Debian/Ubuntu) or `brew install gdal`.');
const info = await machine();
log(`machine: ${JSON.stringify(info)}`);
const results = [];
for (const size of sizes) results.push(await benchSize(size, ogr));
// The OZmap path (bench/ozmap-sync.ts), through the same processes.
const ozmap: OzmapBenchResult[] = [];
// With BENCH_PLATFORM=ozmap the sizes above were OZmap's already.
for (const size of platform === 'ozmap' ? [] : ozmapSizes()) ozmap.push(await benchOzmapSync(size, { dbUrl, seed, log, startSimulator: startSimulatorProcess, simAdmin, runSyncChild }));

const resultsDir = path.join(root, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const file = path.join(resultsDir, `bench-${new Date().toISOString().replaceAll(':', '-').slice(0, 19)}.json`);
writeFileSync(file, `${JSON.stringify({ machine: info, seed, platform, results, ozmap }, null, 2)}\n`);

const rows = results.map((r: Record<string, any>) =>
  `| ${r.size.toLocaleString('en')} | ${r.stored.toLocaleString('en')} | ${(r.first.ms / 1000).toFixed(1)} s | ${r.first.perSecond.toLocaleString('en')} | ${r.first.rssMb} MB | ${(r.resync.ms / 1000).toFixed(1)} s (${r.speedupResync}×) | ${(r.nightlyResync.ms / 1000).toFixed(1)} s (${r.speedupNightly}×) | ${r.resync.rssMb} MB | ${(r.fullResync.ms / 1000).toFixed(1)} s | ${r.ogr2ogr ? `${(r.ogr2ogr.ms / 1000).toFixed(1)} s` : 'n/a'} | ${r.syncVsOgr ?? 'n/a'}× | ${(r.dbPhasesMs / 1000).toFixed(1)} s (${r.dbPhasesVsOgr ?? 'n/a'}×) | ${r.peakRssMb} MB |`,
);
process.stdout.write(
  [
    '| size | stored rows | first sync | rows/s | peak RSS | no-change re-sync | next-night re-sync | peak RSS | --full re-sync | ogr2ogr load | sync / ogr2ogr | validate + link + merge (/ ogr2ogr) | peak RSS of any sync |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    '| size | densest z14 tile (elements) | tile p50 / p95 | viability p50 / p95 | whole network as GeoJSON |',
    '|---:|---:|---:|---:|---:|',
    ...results.map((r: Record<string, any>) =>
      `| ${r.size.toLocaleString('en')} | ${r.map.densestTile.elements.toLocaleString('en')} | ${r.map.tile.p50Ms} / ${r.map.tile.p95Ms} ms | ${r.map.viability.p50Ms} / ${r.map.viability.p95Ms} ms | ${(r.map.geojson.ms / 1000).toFixed(1)} s, ${r.map.geojson.mb} MB |`,
    ),
    '',
    requestTable(results.flatMap((r: Record<string, any>) => Object.entries(r.platformRequests as Record<string, RequestFigures>).map(([sync, figures]) => ({ size: r.size, sync, figures })))),
    '',
    ...(ozmap.length > 0 ? [ozmapTable(ozmap), ''] : []),
    `results: ${path.relative(root, file)}`,
    '',
  ].join('\n'),
);

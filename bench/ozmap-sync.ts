/**
 * The OZmap path of `npm run bench` (sizes: BENCH_OZMAP_SIZES, default 10000,100000): the OZmap
 * simulator (`--platform ozmap`) serves the same generated network, and one sync runs at a time
 * in a child process through mapsync's OZmap adapter. Measured per sync: time, peak RSS and
 * platform requests, by OZmap route family. A no-change re-sync lists only what changed since
 * the last run (counts, then the changes: none), so its requests stay a handful whatever the size.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKnex } from '../src/db/knex-factory.ts';
import { migrateLatest } from '../src/db/migrator.ts';
import { erpContractsFor, generateNetwork } from '../src/simulator/network-generator.ts';
import { seedErpContracts } from './erp-seed.ts';

/** What one sync child reports (bench/sync-child.ts). */
export interface OzmapSyncResult {
  status: string;
  error: string | null;
  counts: Record<string, Record<string, number>>;
  ms: number;
  maxRssMb: number;
  cpuMs?: number;
  requests?: number;
  platformRequests?: { byFamily: Record<string, number> } | null;
}

/** The bench's process helpers (bench/run.ts), handed in so that both platforms run the same way. */
export interface OzmapBenchTools {
  dbUrl: string;
  seed: number;
  log(message: string): void;
  startSimulator(size: number, caFile: string, args: string[]): Promise<{ url: string; origin: string; counts: Record<string, number>; stop(): Promise<void> }>;
  simAdmin(origin: string, ca: string, method: 'GET' | 'POST', route: string): Promise<Record<string, unknown>>;
  runSyncChild(env: Record<string, string>): Promise<OzmapSyncResult>;
}

export interface OzmapSyncFigures {
  ms: number;
  rssMb: number;
  requests: number;
  byFamily: Record<string, number>;
  written: number;
}

export interface OzmapBenchResult {
  size: number;
  platformElements: number;
  stored: number;
  first: OzmapSyncFigures;
  resync: OzmapSyncFigures;
  fullResync: OzmapSyncFigures;
}

const sum = (counts: OzmapSyncResult['counts'], ...keys: string[]) =>
  Object.values(counts).reduce((total, c) => total + keys.reduce((s, k) => s + (c[k] ?? 0), 0), 0);

/** First sync, no-change re-sync and `--full` re-sync of one size on the OZmap simulator. */
export async function benchOzmapSync(size: number, tools: OzmapBenchTools): Promise<OzmapBenchResult> {
  const { dbUrl, seed, log } = tools;
  const work = mkdtempSync(path.join(os.tmpdir(), `mapsync-bench-ozmap-${size}-`));
  const caFile = path.join(work, 'ca.pem');
  const schema = `bench_ozmap_${size}`;
  log(`ozmap ${size}: starting the OZmap simulator`);
  const sim = await tools.startSimulator(size, caFile, ['--platform', 'ozmap']);
  const ca = readFileSync(caFile, 'utf8');
  const admin = createKnex({ url: dbUrl });
  try {
    await admin.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.raw(`CREATE SCHEMA ${schema}`);
    const knex = createKnex({ url: dbUrl, schema });
    await migrateLatest(knex);
    await seedErpContracts(knex, erpContractsFor(generateNetwork({ seed, size })));
    await knex.destroy();

    const env = { DATABASE_URL: dbUrl, DATABASE_SCHEMA: schema, SIM_URL: sim.url, SIM_TOKEN: 'sim-token', SIM_CA_FILE: caFile, SIM_PLATFORM: 'ozmap' };
    const measured = async (label: string, full: boolean): Promise<{ result: OzmapSyncResult; figures: OzmapSyncFigures }> => {
      await tools.simAdmin(sim.origin, ca, 'POST', 'reset-stats');
      log(`ozmap ${size}: ${label}`);
      const result = await tools.runSyncChild({ ...env, BENCH_FULL: full ? '1' : '0' });
      if (result.status !== 'succeeded') throw new Error(`ozmap ${label} failed: ${result.error}`);
      const requests = Number((await tools.simAdmin(sim.origin, ca, 'GET', 'stats')).requests);
      const figures = {
        ms: result.ms,
        rssMb: result.maxRssMb,
        requests,
        byFamily: result.platformRequests?.byFamily ?? {},
        written: sum(result.counts, 'created', 'updated', 'removed'),
      };
      log(`ozmap ${size}: ${label}: ${result.ms} ms, ${requests} requests ${JSON.stringify(figures.byFamily)}, ${figures.written} rows written, peak RSS ${result.maxRssMb} MB`);
      return { result, figures };
    };
    const first = await measured('first sync (empty database)', false);
    const resync = await measured('no-change re-sync (lists only what changed)', false);
    const fullResync = await measured('re-sync with --full', true);
    return { size, platformElements: sim.counts.total ?? 0, stored: sum(first.result.counts, 'created'), first: first.figures, resync: resync.figures, fullResync: fullResync.figures };
  } finally {
    if (!process.env.BENCH_KEEP) await admin.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await admin.destroy();
    await sim.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The OZmap rows of the report: time and requests per sync. */
export function ozmapTable(results: OzmapBenchResult[]): string {
  const cell = (f: OzmapSyncFigures) => `${(f.ms / 1000).toFixed(1)} s, ${f.requests.toLocaleString('en')} req`;
  return [
    '| OZmap size | stored rows | first sync | no-change re-sync (rows written) | --full re-sync | peak RSS |',
    '|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.size.toLocaleString('en')} | ${r.stored.toLocaleString('en')} | ${cell(r.first)} | ${cell(r.resync)} (${r.resync.written}) | ${cell(r.fullResync)} | ${Math.max(r.first.rssMb, r.resync.rssMb, r.fullResync.rssMb)} MB |`,
    ),
  ].join('\n');
}

/** Sizes of the OZmap path (BENCH_OZMAP_SIZES; empty to skip it). */
export function ozmapSizes(): number[] {
  return (process.env.BENCH_OZMAP_SIZES ?? '10000,100000')
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);
}

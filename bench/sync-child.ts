/**
 * One sync in a process of its own, so the benchmark measures its peak RSS alone.
 * env: DATABASE_URL, DATABASE_SCHEMA, SIM_URL, SIM_TOKEN, SIM_CA_FILE, SIM_PLATFORM (geogrid|ozmap), BENCH_FULL (1|0),
 *      BENCH_HTTP_CONCURRENCY, BENCH_RPM, BENCH_OCCUPANCY_READS (batch|per_item, default batch)
 * Prints one JSON line: {status, error, counts, platformRequests, ms, phases, maxRssMb, memory}. `memory`
 * is, per phase (and step of the pull), the highest RSS, V8 heap in use and memory outside the
 * heap (Buffers, pg) sampled every 100 ms, in MB: where the peak RSS comes from.
 */
import { readFileSync } from 'node:fs';
import { integrationSchema } from '../src/config/config.schema.ts';
import { createKnex } from '../src/db/knex-factory.ts';
import { createLogger } from '../src/observability/logger.ts';
import { createPlatformAdapter } from '../src/platforms/adapter-factory.ts';
import { executeRun } from '../src/sync/sync-engine.ts';
import { ensureIntegrations, queueRun } from '../src/sync/sync-runs.repository.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const integration = integrationSchema.parse({
  id: 'bench',
  // The GeoGrid simulator is configured as `simulator`; the OZmap one as OZmap itself.
  platform: process.env.SIM_PLATFORM === 'ozmap' ? 'ozmap' : 'simulator',
  apiUrl: env('SIM_URL'),
  token: env('SIM_TOKEN'),
  project: { link: 'Campinas' },
  elements: ['service_splitters', 'poles', 'boxes', 'distribution_splitters', 'customers'],
  http: { concurrency: Number(process.env.BENCH_HTTP_CONCURRENCY ?? 50), requestsPerMinute: 100_000, timeoutMs: 60_000, retries: 4 },
  sync: { occupancyReads: process.env.BENCH_OCCUPANCY_READS ?? 'batch' },
});
// The benchmark measures the engine, not a platform's budget: the per-minute cap may be lifted
// beyond what the config schema allows for a real platform.
integration.http.requestsPerMinute = Number(process.env.BENCH_RPM ?? 1_000_000_000);

const ca = readFileSync(env('SIM_CA_FILE'), 'utf8');
const knex = createKnex({ url: env('DATABASE_URL'), schema: env('DATABASE_SCHEMA') });
const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
await ensureIntegrations(knex, [integration]);
const started = performance.now();
const run = await queueRun(knex, { integrationId: integration.id, trigger: 'cli', options: { full: process.env.BENCH_FULL === '1' } });
const phases: Record<string, number> = {};
let phaseStart = performance.now();
let phase = 'pulling';
const memory: Record<string, { rssMb: number; heapUsedMb: number; externalMb: number }> = {};
// Within a phase, the step its progress message names ("pulling: reading poles").
let step = phase;
const MB = 1024 * 1024;
const sampleMemory = () => {
  const m = process.memoryUsage();
  const peak = (memory[step] ??= { rssMb: 0, heapUsedMb: 0, externalMb: 0 });
  peak.rssMb = Math.max(peak.rssMb, Math.round(m.rss / MB));
  peak.heapUsedMb = Math.max(peak.heapUsedMb, Math.round(m.heapUsed / MB));
  peak.externalMb = Math.max(peak.externalMb, Math.round(m.external / MB));
};
const sampler = setInterval(sampleMemory, 100);
const done = await executeRun(
  {
    knex,
    logger,
    integrations: new Map([[integration.id, integration]]),
    adapterFor: (i) => createPlatformAdapter(i, { ca }),
    owner: `bench:${process.pid}`,
  },
  run.id,
  {
    onProgress: (p) => {
      const now = p.message ? `${p.phase}: ${p.message.split(':')[0]}` : p.phase;
      if (now !== step) {
        sampleMemory();
        step = now;
      }
      if (p.phase === phase) return;
      phases[phase] = Math.round(performance.now() - phaseStart);
      phase = p.phase;
      phaseStart = performance.now();
    },
  },
);
const ms = Math.round(performance.now() - started);
clearInterval(sampler);
await knex.destroy();
process.stdout.write(
  `${JSON.stringify({ status: done.status, error: done.error, counts: done.counts, platformRequests: done.platformRequests, ms, phases, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), cpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000), memory })}\n`,
);

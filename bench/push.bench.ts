/**
 * Push benchmark: N confirmed bindings delivered to the GeoGrid simulator over HTTPS while
 * it enforces a per-minute budget and a concurrency cap (answering 429 beyond them).
 *
 *   node --import tsx bench/push.bench.ts
 *
 * Env:
 *   BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local PostgreSQL (a schema of its
 *     own is created and dropped)
 *   PUSH_BENCH_COUNT          confirmations (1000)
 *   PUSH_BENCH_PLATFORM_RPM   the simulator's budget (1500: fewer than the ~3000 requests
 *                             1000 pushes need, so the run spans more than one minute window)
 *   PUSH_BENCH_CLIENT_RPM     mapsync's configured budget (95% of the platform's)
 *   PUSH_BENCH_CONCURRENCY    requests in flight, both sides (5)
 * Prints one JSON line with the figures (also written to bench/results/push-<time>.json);
 * exits 1 when a push is missing or 429s piled up.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { confirmBinding, createBinding } from '../src/bindings/bindings.service.ts';
import { integrationSchema } from '../src/config/config.schema.ts';
import { upsertCustomers } from '../src/customers/customers.service.ts';
import { createKnex } from '../src/db/knex-factory.ts';
import { migrateLatest } from '../src/db/migrator.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { createPlatformAdapter } from '../src/platforms/adapter-factory.ts';
import { Pusher } from '../src/push/pusher.ts';
import { cpfCheckDigits } from '../src/simulator/simulated-documents.ts';
import { startSimulator } from '../src/simulator/simulator.server.ts';

const count = Number(process.env.PUSH_BENCH_COUNT ?? 1000);
const platformRpm = Number(process.env.PUSH_BENCH_PLATFORM_RPM ?? 1500);
const clientRpm = Number(process.env.PUSH_BENCH_CLIENT_RPM ?? Math.floor(platformRpm * 0.95));
const concurrency = Number(process.env.PUSH_BENCH_CONCURRENCY ?? 5);
const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const INTEGRATION = 'bench';

const schema = `bench_push_${randomBytes(4).toString('hex')}`;
const admin = createKnex({ url });
await admin.raw('CREATE EXTENSION IF NOT EXISTS postgis');
await admin.raw('CREATE SCHEMA ??', [schema]);
await admin.destroy();
const knex = createKnex({ url, schema });
const sim = await startSimulator({ size: Math.max(3000, count * 8), seed: 5, https: true, limits: { concurrency, requestsPerMinute: platformRpm } });

let exitCode = 0;
try {
  await migrateLatest(knex);
  await knex('integrations').insert({ id: INTEGRATION, platform: 'simulator', api_url: sim.url });

  // The network as a sync would have stored it: free service ports of service splitters.
  const free = [...sim.network.splitters.values()]
    .filter((s) => s.service)
    .flatMap((s) => s.ports.filter((p) => !p.reserved && p.customerId === null).map((p) => ({ port: p, splitter: s })))
    .slice(0, count);
  if (free.length < count) throw new Error(`only ${free.length} free service ports in the simulated network`);
  const splitterIds = new Map<number, number>();
  for (const { splitter } of free) {
    if (splitterIds.has(splitter.id)) continue;
    const [row] = await knex('splitters')
      .insert({ integration_id: INTEGRATION, external_id: String(splitter.id), content_hash: 'b', container_external_id: String(splitter.containerId), role: 'service', ratio_in: 1, ratio_out: splitter.ratioOut })
      .returning('id');
    splitterIds.set(splitter.id, (row as { id: number }).id);
  }
  const portRows = (await knex('ports')
    .insert(free.map(({ port }) => ({ integration_id: INTEGRATION, external_id: String(port.id), content_hash: 'b', splitter_id: splitterIds.get(port.splitterId)!, number: port.number, available: true })))
    .returning('id')) as { id: number }[];

  const contracts = Array.from({ length: count }, (_, i) => {
    const base = String(200_000_000 + i).slice(-9);
    return { serviceId: `BENCH${i}`, document: base + cpfCheckDigits(base), name: `Cliente ${i}`, status: 'active', lat: -22.9, lon: -47.06 };
  });
  let t = performance.now();
  for (let i = 0; i < contracts.length; i += 1000) await upsertCustomers(knex, contracts.slice(i, i + 1000));
  const upsertMs = performance.now() - t;

  const integration = integrationSchema.parse({
    id: INTEGRATION,
    platform: 'simulator',
    apiUrl: sim.url,
    token: sim.token,
    project: { link: 'Centro' },
    http: { concurrency, requestsPerMinute: clientRpm, timeoutMs: 15_000, retries: 4 },
  });
  const push = { settingsFor: () => ({ enabled: true, fields: integration.push.fields }) };
  t = performance.now();
  for (const [i, contract] of contracts.entries()) {
    const { binding } = await createBinding(knex, { serviceId: contract.serviceId, port: { portId: portRows[i]!.id } });
    await confirmBinding(knex, binding.id, push);
  }
  const confirmMs = performance.now() - t;

  const adapter = createPlatformAdapter(integration, { ca: sim.ca ?? undefined });
  const metrics = createMetrics();
  const pusher = new Pusher({ knex, logger: silentLogger(), metrics, integrations: new Map([[INTEGRATION, integration]]), adapterFor: () => adapter }, { pollMs: 500 });
  sim.resetStats();
  t = performance.now();
  pusher.start();
  for (;;) {
    const row = await knex('push_outbox').whereNot('status', 'done').count({ n: '*' }).first();
    if (Number(row!.n) === 0) break;
    const failed = await knex('push_outbox').where('status', 'failed').first('last_error');
    if (failed) throw new Error(`a push was parked: ${failed.last_error}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const deliverMs = performance.now() - t;
  await pusher.stop();
  await adapter.close?.();

  const created = new Set(sim.writes.customersCreated.map((w) => (w.body as { dados: { codigoIntegracao: string } }).dados.codigoIntegracao));
  const bound = sim.writes.binds.filter((b) => b.status === 200).length;
  const stats = sim.stats;
  const figures = {
    bench: 'push',
    confirmations: count,
    platformBudgetPerMinute: platformRpm,
    clientBudgetPerMinute: clientRpm,
    concurrency,
    upsertContractsMs: Math.round(upsertMs),
    createAndConfirmMs: Math.round(confirmMs),
    deliverSeconds: Number((deliverMs / 1000).toFixed(1)),
    pushesPerMinute: Math.round((count / deliverMs) * 60_000),
    platformRequests: stats.requests,
    platformRequestsPerMinute: Math.round((stats.requests / deliverMs) * 60_000),
    rateLimited429: stats.rateLimited,
    maxInFlight: stats.maxInFlight,
    customersCreated: sim.writes.customersCreated.length,
    distinctCustomers: created.size,
    binds: bound,
  };
  console.log(JSON.stringify(figures));
  const results = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(results, { recursive: true });
  writeFileSync(path.join(results, `push-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.json`), `${JSON.stringify(figures, null, 2)}\n`);
  if (created.size !== count || sim.writes.customersCreated.length !== count || bound !== count) exitCode = 1;
  if (stats.rateLimited > Math.max(3, count / 100)) exitCode = 1;
} finally {
  await sim.close();
  await knex.raw('DROP SCHEMA ?? CASCADE', [schema]).catch(() => undefined);
  await knex.destroy();
}
process.exitCode = exitCode;

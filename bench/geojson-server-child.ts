/**
 * The network GeoJSON route alone in a process of its own, so the benchmark reads this
 * process's peak RSS and event-loop delay only.
 * env: DATABASE_URL, DATABASE_SCHEMA, BENCH_INTEGRATION, GEOJSON_ROUTE_MODULE (optional: another
 *      version of network.routes.ts to compare with, e.g. one taken from an older commit).
 * Prints one JSON line {url} when listening. GET /__stats gives {maxRssMb, eventLoop: {maxMs,
 * p99Ms, meanMs}} since the last GET /__reset.
 */
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { createKnex } from '../src/db/knex-factory.ts';
import type { AppContext } from '../src/service/app-context.ts';

const knex = createKnex({ url: process.env.DATABASE_URL!, schema: process.env.DATABASE_SCHEMA! });
const integrationId = process.env.BENCH_INTEGRATION ?? 'bench';
const routeModule = process.env.GEOJSON_ROUTE_MODULE
  ? pathToFileURL(path.resolve(process.env.GEOJSON_ROUTE_MODULE)).href
  : new URL('../src/http/routes/network.routes.ts', import.meta.url).href;
const { networkRoutes } = (await import(routeModule)) as { networkRoutes: (app: unknown, ctx: AppContext) => Promise<void> };

const ctx = { knex, integrations: new Map([[integrationId, {}]]) } as unknown as AppContext;
const app = Fastify({ ajv: { customOptions: { removeAdditional: false } } });
await app.register(async (scope) => networkRoutes(scope, ctx));

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
let rssPeak = process.memoryUsage().rss;
const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
sampler.unref();

app.get('/__reset', async () => {
  delay.reset();
  rssPeak = process.memoryUsage().rss;
  return { ok: true };
});
app.get('/__stats', async () => ({
  maxRssMb: Math.round(Math.max(rssPeak, process.memoryUsage().rss) / 2 ** 20),
  eventLoop: { maxMs: delay.max / 1e6, p99Ms: delay.percentile(99) / 1e6, meanMs: delay.mean / 1e6 },
}));

const url = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.on('SIGTERM', () => void app.close().then(() => knex.destroy()).then(() => process.exit(0)));

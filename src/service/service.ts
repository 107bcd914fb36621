import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { defaultConfigDirectory, loadConfig, requireConfigDirectory } from '../config/config.loader.ts';
import type { IntegrationConfig, MapsyncConfig } from '../config/config.schema.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { migrateLatest } from '../db/migrator.ts';
import { buildHttpServer } from '../http/http-server.ts';
import type { Logger } from '../observability/logger.ts';
import { registerDatabaseMetrics } from '../observability/database-metrics.ts';
import { createMetrics } from '../observability/metrics.ts';
import { createPlatformAdapter } from '../platforms/adapter-factory.ts';
import { endpointFamily } from '../platforms/http/platform-http-client.ts';
import type { PlatformAdapter } from '../platforms/platform-adapter.ts';
import { upsertCustomers } from '../customers/customers.service.ts';
import { ensureIntegrations } from '../sync/sync-runs.repository.ts';
import type { AppContext } from './app-context.ts';
import type { BackgroundWorker } from './background-worker.ts';
import { apiTokenFromEnv, demoDecision, startDemo, type Demo } from './demo.ts';
import { platformCaFromEnv } from './platform-ca.ts';
import { workerFactories } from './workers.ts';
import { integerFromEnv } from '../config/environment.ts';

export interface ServiceOptions {
  env?: NodeJS.ProcessEnv;
  logger: Logger;
  port?: number;
  host?: string;
}

export interface RunningService {
  ctx: AppContext;
  http: FastifyInstance;
  url: string;
  apiToken: string;
  demo: Demo | null;
  stop(): Promise<void>;
}

export class ServiceStartError extends Error {}

/** config → database → integrations → HTTP API → workers (scheduler, runs, pusher). */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const env = options.env ?? process.env;
  const logger = options.logger;
  const configDirectory = defaultConfigDirectory(env);
  if (env.MAPSYNC_CONFIG_DIR) requireConfigDirectory(configDirectory);
  let config: MapsyncConfig = loadConfig(configDirectory, env).config;
  let demo: Demo | null = null;
  let configuredToken: string | null;
  try {
    configuredToken = apiTokenFromEnv(env);
  } catch (error) {
    throw new ServiceStartError((error as Error).message);
  }

  const decision = demoDecision(env, config.integrations.length);
  if (!configuredToken && !decision.demo) {
    throw new ServiceStartError(
      decision.reason === 'real_database'
        ? 'MAPSYNC_API_TOKEN is not set and no integration is configured: the demo runs only on the embedded database ' +
            '(DATABASE_URL unset) or with MAPSYNC_DEMO=1, never by itself on DATABASE_URL. Configure an integration in ' +
            `${configDirectory} and set MAPSYNC_API_TOKEN.`
        : 'MAPSYNC_API_TOKEN is not set: the API refuses to start without a token outside demo mode',
    );
  }
  if (decision.demo) {
    demo = await startDemo({ logger, env });
    config = { ...config, integrations: [demo.integration] };
  }
  const apiToken = configuredToken ?? 'demo';

  let database: Database | null = null;
  const workers: BackgroundWorker[] = [];
  let http: FastifyInstance | null = null;
  try {
    database = await openDatabase(logger, env);
    if (env.MAPSYNC_AUTO_MIGRATE !== '0') {
      const applied = await migrateLatest(database.knex);
      if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    }
    await ensureIntegrations(database.knex, config.integrations);
    if (demo) {
      const seeded = await upsertCustomers(database.knex, demo.erpContracts);
      logger.info({ demo: true, contracts: seeded.created + seeded.updated + seeded.unchanged }, 'demo ERP contracts loaded');
    }

    const platformCa = platformCaFromEnv(env);
    const adapters = new Map<string, PlatformAdapter>();
    const wakers = { runs: [] as (() => void)[], pushes: [] as (() => void)[] };
    const metrics = createMetrics();
    const ctx: AppContext = {
      knex: database.knex,
      logger,
      metrics,
      config,
      integrations: new Map(config.integrations.map((integration) => [integration.id, integration])),
      demo: demo !== null,
      adapterFor(integration: IntegrationConfig) {
        let adapter = adapters.get(integration.id);
        if (!adapter) {
          const labels = (endpoint: string) => ({ integration: integration.id, endpoint: endpointFamily(endpoint) });
          adapter = createPlatformAdapter(integration, {
            logger,
            ca: demo?.ca ?? platformCa,
            onRequest: (info) => {
              if (info.attempt > 1) metrics.platformRetries.inc(labels(info.endpoint));
            },
            onResponse: (info) =>
              metrics.platformRequests.inc({ ...labels(info.endpoint), status: info.status === null ? info.outcome : String(info.status) }),
          });
          adapters.set(integration.id, adapter);
        }
        return adapter;
      },
      wake: {
        runs: () => wakers.runs.forEach((wake) => wake()),
        pushes: () => wakers.pushes.forEach((wake) => wake()),
      },
    };

    registerDatabaseMetrics(ctx.metrics.registry, ctx.knex, logger);
    http = await buildHttpServer(ctx, { apiToken });
    const port = options.port ?? integerFromEnv(env, 'PORT', { min: 0, max: 65_535, fallback: 8080 });
    const host = options.host ?? env.HOST ?? '127.0.0.1';
    await http.listen({ port, host });
    const address = http.server.address();
    const url = `http://${host}:${typeof address === 'object' && address ? address.port : port}`;

    for (const factory of workerFactories) {
      const worker = factory(ctx);
      if (worker.wake && worker.wakes) wakers[worker.wakes].push(() => worker.wake!());
      await worker.start();
      workers.push(worker);
    }
    logger.info({ url, integrations: [...ctx.integrations.keys()], demo: demo !== null, owner: `${hostname()}:${process.pid}` }, 'mapsync is serving');

    const db = database;
    const server = http;
    let stopping: Promise<void> | null = null;
    return {
      ctx,
      http: server,
      url,
      apiToken,
      demo,
      stop() {
        stopping ??= (async () => {
          for (const worker of [...workers].reverse()) await worker.stop();
          await server.close();
          for (const adapter of adapters.values()) await adapter.close?.();
          await db.close();
          await demo?.close();
          logger.info('mapsync stopped');
        })();
        return stopping;
      },
    };
  } catch (error) {
    for (const worker of workers.reverse()) await worker.stop().catch(() => undefined);
    await http?.close().catch(() => undefined);
    await database?.close().catch(() => undefined);
    await demo?.close().catch(() => undefined);
    throw error;
  }
}

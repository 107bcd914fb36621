import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IntegrationConfig } from '../../src/config/config.schema.ts';
import { createLogger, type Logger } from '../../src/observability/logger.ts';
import type { AppContext } from '../../src/service/app-context.ts';
import { startService, type RunningService } from '../../src/service/service.ts';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/simulator/simulator.server.ts';
import { createTestDatabase, isEmbeddedTestDatabase, testDatabaseUrl, type TestDatabase } from './test-database.ts';

/**
 * Unique per test process: the sync lock is a database-wide advisory lock keyed by the
 * integration id, so two test files syncing "sim" in their own schemas would block each other.
 */
export const TEST_INTEGRATION_ID = `sim-${process.pid}`;

export interface TestServiceOptions {
  /** Merged over the default integration (id TEST_INTEGRATION_ID, the simulator, project "Centro"). */
  integration?: Partial<Record<keyof IntegrationConfig, unknown>>;
  /** More integrations, written as given (apiUrl/token default to the simulator's). */
  extraIntegrations?: Partial<Record<keyof IntegrationConfig, unknown>>[];
  /** config `scheduler` block; default `{ enabled: false }` so tests are not surprised by timers. */
  scheduler?: { enabled?: boolean; catchUpMissedRuns?: boolean };
  simulator?: SimulatorOptions;
  /** Reuse this database (schema) instead of creating one, e.g. to boot twice on the same data. */
  db?: TestDatabase;
  /** Reuse a running simulator (it is then not closed by stop()). */
  sharedSimulator?: RunningSimulator;
  env?: NodeJS.ProcessEnv;
  /** The service's logger (default: silent, or TEST_LOG_LEVEL to stdout). */
  logger?: Logger;
}

export interface TestResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface TestService {
  url: string;
  apiToken: string;
  ctx: AppContext;
  service: RunningService;
  simulator: RunningSimulator;
  db: TestDatabase;
  integrationId: string;
  configDir: string;
  /** The environment the service was started with (reuse it to run the CLI on the same data). */
  env: NodeJS.ProcessEnv;
  /** A real HTTP request with the bearer token (pass `{ token: null }` to send none). */
  request<T = any>(method: string, urlPath: string, body?: unknown, options?: { token?: string | null }): Promise<TestResponse<T>>;
  stop(): Promise<void>;
}

/**
 * The environment of a `mapsync serve` (in-process or a child) on the test database schema,
 * a config folder that reads the simulator's token from TEST_SIMULATOR_TOKEN, and its CA.
 */
export function serviceEnv(input: { schema: string; configDir: string; apiToken: string; caFile: string; simulatorToken: string }): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: testDatabaseUrl(),
    DATABASE_SCHEMA: input.schema,
    MAPSYNC_CONFIG_DIR: input.configDir,
    MAPSYNC_API_TOKEN: input.apiToken,
    MAPSYNC_PLATFORM_CA_FILE: input.caFile,
    MAPSYNC_DEMO: '0',
    TEST_SIMULATOR_TOKEN: input.simulatorToken,
    ...(isEmbeddedTestDatabase ? { DATABASE_POOL_MAX: '1' } : {}),
  };
}

/**
 * A whole `mapsync serve` in-process on a free port: a GeoGrid simulator over https, a
 * config folder of its own, and the test database schema.
 */
export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const ownDb = !options.db;
  const db = options.db ?? (await createTestDatabase());
  const configDir = mkdtempSync(path.join(tmpdir(), 'mapsync-test-'));
  const caFile = path.join(configDir, 'simulator-ca.pem');
  const simulator =
    options.sharedSimulator ?? (await startSimulator({ size: 300, seed: 7, https: true, caFile, limits: { requestsPerMinute: 100_000, concurrency: 20 }, ...options.simulator }));
  if (options.sharedSimulator?.ca) writeFileSync(caFile, options.sharedSimulator.ca);
  const integration = {
    id: TEST_INTEGRATION_ID,
    platform: 'simulator',
    apiUrl: simulator.url,
    token: '${TEST_SIMULATOR_TOKEN}',
    project: { link: 'Centro' },
    elements: ['service_splitters', 'poles', 'boxes', 'customers'],
    http: { concurrency: 5, requestsPerMinute: 100_000, timeoutMs: 10_000, retries: 1 },
    ...options.integration,
  };
  const extra = (options.extraIntegrations ?? []).map((item) => ({
    platform: 'simulator',
    apiUrl: simulator.url,
    token: '${TEST_SIMULATOR_TOKEN}',
    ...item,
  }));
  writeFileSync(
    path.join(configDir, 'mapsync.json'),
    JSON.stringify({ integrations: [integration, ...extra], scheduler: { enabled: false, ...options.scheduler } }, null, 2),
  );

  const apiToken = randomBytes(12).toString('hex');
  const env: NodeJS.ProcessEnv = { ...serviceEnv({ schema: db.schema, configDir, apiToken, caFile, simulatorToken: simulator.token }), ...options.env };
  let service: RunningService;
  try {
    service = await startService({
      env,
      logger: options.logger ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      port: 0,
      host: '127.0.0.1',
    });
  } catch (error) {
    if (!options.sharedSimulator) await simulator.close();
    if (ownDb) await db.destroy();
    rmSync(configDir, { recursive: true, force: true });
    throw error;
  }

  return {
    url: service.url,
    apiToken: service.apiToken,
    ctx: service.ctx,
    service,
    simulator,
    db,
    integrationId: String(integration.id),
    configDir,
    env,
    async request(method, urlPath, body, requestOptions = {}) {
      const token = requestOptions.token === undefined ? service.apiToken : requestOptions.token;
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${service.url}${urlPath}`, {
        method,
        headers,
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? null : JSON.parse(text);
      } catch {
        // not JSON (the dashboard page): keep the text
      }
      return { status: response.status, headers: response.headers, body: parsed as any };
    },
    async stop() {
      await service.stop();
      if (!options.sharedSimulator) await simulator.close();
      if (ownDb) await db.destroy();
      rmSync(configDir, { recursive: true, force: true });
    },
  };
}

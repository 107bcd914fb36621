import { randomBytes } from 'node:crypto';
import type { IntegrationConfig } from '../config/config.schema.ts';
import { integrationSchema } from '../config/config.schema.ts';
import type { Logger } from '../observability/logger.ts';
import { erpContractsFor, folderName, countNetwork, type ErpContract } from '../simulator/network-generator.ts';
import { startSimulator } from '../simulator/simulator.server.ts';

export const DEMO_INTEGRATION_ID = 'demo';
/**
 * The OZmap demo's integration: an id of its own, so that switching MAPSYNC_DEMO_PLATFORM on the
 * same database syncs into another integration instead of replacing the GeoGrid demo's network.
 */
export const DEMO_OZMAP_INTEGRATION_ID = 'demo-ozmap';

export { demoDecision, MIN_API_TOKEN_LENGTH, type DemoDecision } from './demo-rule.ts';
import { MIN_API_TOKEN_LENGTH } from './demo-rule.ts';
import { integerFromEnv } from '../config/environment.ts';

/**
 * The API token from MAPSYNC_API_TOKEN (trimmed), null when unset or empty.
 * @throws ApiTokenError when it is shorter than MIN_API_TOKEN_LENGTH characters.
 */
export function apiTokenFromEnv(env: NodeJS.ProcessEnv): string | null {
  const token = env.MAPSYNC_API_TOKEN?.trim();
  if (!token) return null;
  if (token.length < MIN_API_TOKEN_LENGTH) {
    throw new ApiTokenError(
      `MAPSYNC_API_TOKEN is ${token.length} character(s) long: use at least ${MIN_API_TOKEN_LENGTH} ` +
        '(e.g. `openssl rand -hex 32`)',
    );
  }
  return token;
}

export class ApiTokenError extends Error {
  override name = 'ApiTokenError';
}

export interface Demo {
  integration: IntegrationConfig;
  /** The simulator's certificate, trusted by the demo integration's HTTP client. */
  ca: string;
  /** The ERP side of the demo data, so customers can be linked. */
  erpContracts: ErpContract[];
  close(): Promise<void>;
}

/** The platforms the demo can imitate (`MAPSYNC_DEMO_PLATFORM`). */
export const DEMO_PLATFORMS = ['geogrid', 'ozmap'] as const;
export type DemoPlatform = (typeof DEMO_PLATFORMS)[number];

/**
 * The platform the demo runs on, from MAPSYNC_DEMO_PLATFORM (default `geogrid`).
 * @throws DemoPlatformError when it names another platform.
 */
export function demoPlatformFromEnv(env: NodeJS.ProcessEnv): DemoPlatform {
  const asked = env.MAPSYNC_DEMO_PLATFORM?.trim().toLowerCase();
  if (!asked) return 'geogrid';
  if ((DEMO_PLATFORMS as readonly string[]).includes(asked)) return asked as DemoPlatform;
  throw new DemoPlatformError(`MAPSYNC_DEMO_PLATFORM is "${env.MAPSYNC_DEMO_PLATFORM}": use one of ${DEMO_PLATFORMS.join(', ')}`);
}

export class DemoPlatformError extends Error {
  override name = 'DemoPlatformError';
}

/**
 * With no integration configured, mapsync runs one against its own simulator of a mapping
 * platform on loopback, over https, so the whole flow can be seen without an account:
 * GeoGrid by default, OZmap with MAPSYNC_DEMO_PLATFORM=ozmap.
 */
export async function startDemo(options: { logger: Logger; env: NodeJS.ProcessEnv }): Promise<Demo> {
  const size = integerFromEnv(options.env, 'MAPSYNC_DEMO_SIZE', { min: 1, max: 2_000_000, fallback: 3000 });
  const platform = demoPlatformFromEnv(options.env);
  const requestsPerMinute = 6000;
  const simulator = await startSimulator({
    seed: 1,
    size,
    https: true,
    platform,
    token: randomBytes(16).toString('hex'),
    limits: { concurrency: 5, requestsPerMinute },
  });
  try {
    const integration = integrationSchema.parse({
      id: platform === 'ozmap' ? DEMO_OZMAP_INTEGRATION_ID : DEMO_INTEGRATION_ID,
      // The GeoGrid demo keeps its historical platform name; OZmap runs the real OZmap adapter.
      platform: platform === 'ozmap' ? 'ozmap' : 'simulator',
      apiUrl: simulator.url,
      token: simulator.token,
      project: { link: folderName(0) },
      elements: ['service_splitters', 'poles', 'boxes', 'distribution_splitters', 'customers'],
      http: { concurrency: 5, requestsPerMinute, timeoutMs: 10_000 },
    });
    const platformName = platform === 'ozmap' ? 'OZmap' : 'GeoGrid';
    options.logger.warn(
      { demo: true, platform, simulator: simulator.url, network: countNetwork(simulator.network) },
      `DEMO MODE: no integration in config/, syncing from the built-in ${platformName} simulator (API token "demo" unless MAPSYNC_API_TOKEN is set)`,
    );
    return {
      integration,
      ca: simulator.ca ?? '',
      erpContracts: erpContractsFor(simulator.network),
      close: () => simulator.close(),
    };
  } catch (error) {
    // The simulator holds a listening socket: a demo that cannot start must not keep the process alive.
    await simulator.close();
    throw error;
  }
}

import { randomBytes } from 'node:crypto';
import type { IntegrationConfig } from '../config/config.schema.ts';
import { integrationSchema } from '../config/config.schema.ts';
import type { Logger } from '../observability/logger.ts';
import { erpContractsFor, folderName, countNetwork, type ErpContract } from '../simulator/network-generator.ts';
import { startSimulator } from '../simulator/simulator.server.ts';

export const DEMO_INTEGRATION_ID = 'demo';

export { demoDecision, MIN_API_TOKEN_LENGTH, type DemoDecision } from './demo-rule.ts';
import { MIN_API_TOKEN_LENGTH } from './demo-rule.ts';

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

/**
 * With no integration configured, mapsync runs one against its own GeoGrid-compatible
 * simulator on loopback, over https, so the whole flow can be seen without an account.
 */
export async function startDemo(options: { logger: Logger; env: NodeJS.ProcessEnv }): Promise<Demo> {
  const size = Number(options.env.MAPSYNC_DEMO_SIZE ?? 3000);
  const requestsPerMinute = 6000;
  const simulator = await startSimulator({
    seed: 1,
    size,
    https: true,
    token: randomBytes(16).toString('hex'),
    limits: { concurrency: 5, requestsPerMinute },
  });
  const integration = integrationSchema.parse({
    id: DEMO_INTEGRATION_ID,
    platform: 'simulator',
    apiUrl: simulator.url,
    token: simulator.token,
    project: { link: folderName(0) },
    elements: ['service_splitters', 'poles', 'boxes', 'distribution_splitters', 'customers'],
    http: { concurrency: 5, requestsPerMinute, timeoutMs: 10_000 },
  });
  options.logger.warn(
    { demo: true, simulator: simulator.url, network: countNetwork(simulator.network) },
    'DEMO MODE: no integration in config/, syncing from the built-in GeoGrid simulator (API token "demo" unless MAPSYNC_API_TOKEN is set)',
  );
  return {
    integration,
    ca: simulator.ca ?? '',
    erpContracts: erpContractsFor(simulator.network),
    close: () => simulator.close(),
  };
}

import { GeogridAdapter } from './geogrid/geogrid.adapter.ts';
import { OzmapAdapter, type OzmapCredentials } from './ozmap/ozmap.adapter.ts';
import type { PlatformHttpClientOptions, PlatformHttpLogger } from './http/platform-http-client.ts';
import type { PlatformAdapter } from './platform-adapter.ts';

export type PlatformName = 'geogrid' | 'ozmap' | 'simulator';

export interface AdapterIntegration {
  id: string;
  platform: PlatformName;
  apiUrl: string;
  /** GeoGrid, and OZmap with an API key. */
  token?: string | undefined;
  /** OZmap with a user: its login token replaces the API key. */
  login?: string | undefined;
  password?: string | undefined;
  http?: { concurrency?: number; requestsPerMinute?: number; timeoutMs?: number; retries?: number };
}

export interface AdapterFactoryOptions {
  logger?: PlatformHttpLogger;
  /** Extra trusted CA (PEM), e.g. the local simulator's certificate. */
  ca?: string | Buffer;
  /** Called for each attempt and each answer (metrics). */
  onRequest?: PlatformHttpClientOptions['onRequest'];
  onResponse?: PlatformHttpClientOptions['onResponse'];
}

export class UnsupportedPlatformError extends Error {
  constructor(platform: string, integrationId: string) {
    super(`integration "${integrationId}": platform "${platform}" is not supported (supported: geogrid, ozmap, simulator)`);
    this.name = 'UnsupportedPlatformError';
  }
}

/** Credentials the config check should have refused: a clear error all the same. */
export class MissingCredentialsError extends Error {
  constructor(integrationId: string, needed: string) {
    super(`integration "${integrationId}": no credentials for the platform (${needed})`);
    this.name = 'MissingCredentialsError';
  }
}

function ozmapCredentials(integration: AdapterIntegration): OzmapCredentials {
  if (integration.token) return { token: integration.token };
  if (integration.login && integration.password) return { login: integration.login, password: integration.password };
  throw new MissingCredentialsError(integration.id, 'token, or login and password');
}

/** The adapter for an integration. `simulator` speaks GeoGrid v3, so it uses the GeoGrid adapter. */
export function createPlatformAdapter(integration: AdapterIntegration, options: AdapterFactoryOptions = {}): PlatformAdapter {
  const common = {
    apiUrl: integration.apiUrl,
    platformName: integration.platform,
    ...(integration.http ? { http: integration.http } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
    ...(options.onResponse ? { onResponse: options.onResponse } : {}),
  };
  switch (integration.platform) {
    case 'ozmap':
      return new OzmapAdapter({ ...common, credentials: ozmapCredentials(integration) });
    case 'geogrid':
    case 'simulator':
      if (!integration.token) throw new MissingCredentialsError(integration.id, 'token');
      return new GeogridAdapter({ ...common, token: integration.token });
    default:
      throw new UnsupportedPlatformError(String((integration as { platform: unknown }).platform), integration.id);
  }
}

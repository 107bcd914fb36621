import { GeogridAdapter } from './geogrid/geogrid.adapter.ts';
import type { PlatformHttpClientOptions, PlatformHttpLogger } from './http/platform-http-client.ts';
import type { PlatformAdapter } from './platform-adapter.ts';

export type PlatformName = 'geogrid' | 'ozmap' | 'simulator';

export interface AdapterIntegration {
  id: string;
  platform: PlatformName;
  apiUrl: string;
  token: string;
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
    super(`integration "${integrationId}": platform "${platform}" is not supported yet (supported: geogrid, simulator)`);
    this.name = 'UnsupportedPlatformError';
  }
}

/** The adapter for an integration. `simulator` speaks GeoGrid v3, so it uses the GeoGrid adapter. */
export function createPlatformAdapter(integration: AdapterIntegration, options: AdapterFactoryOptions = {}): PlatformAdapter {
  switch (integration.platform) {
    case 'geogrid':
    case 'simulator':
      return new GeogridAdapter({
        apiUrl: integration.apiUrl,
        token: integration.token,
        platformName: integration.platform,
        ...(integration.http ? { http: integration.http } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.onRequest ? { onRequest: options.onRequest } : {}),
        ...(options.onResponse ? { onResponse: options.onResponse } : {}),
      });
    case 'ozmap':
      throw new UnsupportedPlatformError(integration.platform, integration.id);
    default:
      throw new UnsupportedPlatformError(String((integration as { platform: unknown }).platform), integration.id);
  }
}

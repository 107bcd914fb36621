import type { Knex } from 'knex';
import type { IntegrationConfig, MapsyncConfig } from '../config/config.schema.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { PlatformAdapter } from '../platforms/platform-adapter.ts';

/** What the HTTP routes, the scheduler, the run worker and the pusher share in one service. */
export interface AppContext {
  knex: Knex;
  logger: Logger;
  metrics: Metrics;
  config: MapsyncConfig;
  integrations: Map<string, IntegrationConfig>;
  /** True when no integration is configured and mapsync runs against its own simulator. */
  demo: boolean;
  adapterFor(integration: IntegrationConfig): PlatformAdapter;
  /** Nudges the background workers when there is new work, so they need not wait for their poll. */
  wake: { runs(): void; pushes(): void };
}

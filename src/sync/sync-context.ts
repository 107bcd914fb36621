import type { Knex } from 'knex';
import type pino from 'pino';
import type { IntegrationConfig } from '../config/config.schema.ts';
import type { PlatformAdapter } from '../platforms/platform-adapter.ts';

/** What a sync run needs from the process that hosts it (service, CLI, tests, benchmark). */
export interface SyncContext {
  knex: Knex;
  logger: pino.Logger;
  integrations: Map<string, IntegrationConfig>;
  adapterFor(integration: IntegrationConfig): PlatformAdapter;
  /** The process running the sync, `host:pid`; recorded on the run. */
  owner?: string;
}

/**
 * A pusher in a process of its own, as `mapsync serve` runs it, for tests that kill it.
 * Env: DATABASE_URL, DATABASE_SCHEMA, SIM_URL, SIM_TOKEN, SIM_CA_FILE, INTEGRATION_ID.
 */
import { readFileSync } from 'node:fs';
import { integrationSchema } from '../../../src/config/config.schema.ts';
import { createKnex } from '../../../src/db/knex-factory.ts';
import { silentLogger } from '../../../src/observability/logger.ts';
import { createPlatformAdapter } from '../../../src/platforms/adapter-factory.ts';
import { Pusher } from '../../../src/push/pusher.ts';

const env = process.env;
const knex = createKnex({ url: env.DATABASE_URL!, schema: env.DATABASE_SCHEMA });
const integration = integrationSchema.parse({
  id: env.INTEGRATION_ID,
  platform: 'simulator',
  apiUrl: env.SIM_URL,
  token: env.SIM_TOKEN,
  project: { link: 'Centro' },
  http: { concurrency: 5, requestsPerMinute: 100_000, timeoutMs: 60_000, retries: 0 },
});
const adapter = createPlatformAdapter(integration, { ca: readFileSync(env.SIM_CA_FILE!, 'utf8') });
const pusher = new Pusher(
  { knex, logger: silentLogger(), integrations: new Map([[integration.id, integration]]), adapterFor: () => adapter },
  { pollMs: 100, owner: `child:${process.pid}` },
);
pusher.start();
process.stdout.write('pusher started\n');

import type { Knex } from 'knex';

/**
 * Whether an integration id names an integration: configured now (`configured`, the ids in
 * config/), or registered in the database by an earlier run (`integrations`), whose runs and
 * bindings are still listed after it left the config. A filter naming neither is a mistake
 * to say (404, a usage error), not an empty list.
 */
export async function isKnownIntegration(knex: Knex, configured: Iterable<string>, integrationId: string): Promise<boolean> {
  for (const id of configured) if (id === integrationId) return true;
  return (await knex('integrations').where({ id: integrationId }).first('id')) !== undefined;
}

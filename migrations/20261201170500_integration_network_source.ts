import { transactional } from '../src/db/migration.ts';

/**
 * Where an integration's stored network was last synced from: `{platform, apiHost, project}`
 * (src/sync/network-source.ts). A run configured for another source is refused unless forced,
 * instead of removing the whole stored network as gone. Null until a run succeeds.
 */
export default transactional({
  async up(knex) {
    await knex.schema.alterTable('integrations', (t) => t.jsonb('network_source').nullable());
    await knex.raw(
      `COMMENT ON COLUMN integrations.network_source IS 'source of the stored network at the last successful run: {platform, apiHost, project}; null before one'`,
    );
  },
  async down(knex) {
    await knex.schema.alterTable('integrations', (t) => t.dropColumn('network_source'));
  },
});

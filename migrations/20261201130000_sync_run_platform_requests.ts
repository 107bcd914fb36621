import { transactional } from '../src/db/migration.ts';

/**
 * What each run asked of the platform: HTTP attempts by endpoint family, retries, 429
 * answers, timeouts, and whether port occupancy was read in batches or one container at a
 * time. Null for runs recorded before it was counted.
 */
export default transactional({
  async up(knex) {
    await knex.schema.alterTable('sync_runs', (t) => t.jsonb('platform_requests').nullable());
    await knex.raw(
      `COMMENT ON COLUMN sync_runs.platform_requests IS 'platform requests of the run: {requests, retries, rateLimited, timeouts, byFamily, occupancyReads}; null when not counted'`,
    );
  },
  async down(knex) {
    await knex.schema.alterTable('sync_runs', (t) => t.dropColumn('platform_requests'));
  },
});

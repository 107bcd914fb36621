import { transactional } from '../src/db/migration.ts';

/**
 * The run whose listing a `sync_listing_state` row records: a run that failed after its listing
 * (the mass-removal guard, an outage) may have dropped records from the cache that the merge
 * never removed, so the next run lists in full (src/sync/incremental-listing.ts).
 */
export default transactional({
  async up(knex) {
    await knex.schema.alterTable('sync_listing_state', (t) => {
      t.uuid('run_id');
    });
    await knex.raw(`COMMENT ON COLUMN sync_listing_state.run_id IS 'the run that made the listing; only a succeeded one lets the next run list by change'`);
  },
  async down(knex) {
    await knex.schema.alterTable('sync_listing_state', (t) => {
      t.dropColumn('run_id');
    });
  },
});

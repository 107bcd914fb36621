import { describeTable, transactional } from '../src/db/migration.ts';

/**
 * What a platform that filters on update time (OZmap) listed last, so a run can read only the
 * records changed since and still hand the sync a complete listing (src/sync/incremental-listing.ts).
 */
export default transactional({
  async up(knex) {
    await knex.schema.createTable('sync_listing_cache', (t) => {
      t.text('integration_id').notNullable().references('integrations.id').onDelete('CASCADE');
      t.text('kind').notNullable();
      t.text('external_id').notNullable();
      t.text('container_external_id');
      t.jsonb('record').notNullable();
      t.uuid('listed_run_id').notNullable();
      t.primary(['integration_id', 'kind', 'external_id']);
      t.index(['integration_id', 'kind', 'container_external_id'], 'sync_listing_cache_container_index');
    });
    await describeTable(knex, 'sync_listing_cache', 'Records a platform listed, as normalised by its adapter, kept between runs that list only what changed (sync bookkeeping)', {
      integration_id: 'integration the record belongs to',
      kind: 'poles, boxes, customers, splitters or portTies (customers tied to ports)',
      external_id: "the platform's id of the record",
      container_external_id: 'for a splitter, the box it sits in',
      record: 'the record as the adapter normalised it (PlatformPole, PlatformBox, …)',
      listed_run_id: 'the last run that listed the record',
    });
    await knex.schema.createTable('sync_listing_state', (t) => {
      t.text('integration_id').notNullable().references('integrations.id').onDelete('CASCADE');
      t.text('kind').notNullable();
      t.timestamp('listed_from', { useTz: true }).notNullable();
      t.timestamp('full_at', { useTz: true }).notNullable();
      t.bigInteger('total');
      t.primary(['integration_id', 'kind']);
    });
    await describeTable(knex, 'sync_listing_state', 'How far the listing cache of each kind is up to date (sync bookkeeping)', {
      integration_id: 'integration the listing belongs to',
      kind: 'as in sync_listing_cache',
      listed_from: 'when the last completed listing of the kind started (UTC): the cache holds every change up to then',
      full_at: 'when the last complete (not by change) listing of the kind started (UTC)',
      total: 'how many records of the kind the platform said it held when that listing started',
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('sync_listing_state');
    await knex.schema.dropTableIfExists('sync_listing_cache');
  },
});

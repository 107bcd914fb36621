import { describeTable, transactional } from '../src/db/migration.ts';

/**
 * Sync bookkeeping that lets a run that is not `--full` skip work (see src/sync/sync-engine.ts):
 * which poles carried equipment when last read, and what customer links were decided from.
 */
export default transactional({
  async up(knex) {
    await knex.schema.createTable('sync_pole_checks', (t) => {
      t.text('integration_id').notNullable().references('integrations.id').onDelete('CASCADE');
      t.text('pole_external_id').notNullable();
      t.text('content_hash').notNullable();
      t.boolean('carries_equipment').notNullable();
      t.uuid('checked_run_id').notNullable();
      t.timestamp('checked_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.primary(['integration_id', 'pole_external_id']);
    });
    await describeTable(knex, 'sync_pole_checks', "Whether each platform pole carried equipment when a sync last read its equipment (sync bookkeeping)", {
      integration_id: 'integration the pole belongs to',
      pole_external_id: "the platform's pole id",
      content_hash: 'hash of the pole as listed (name, observation, position) when its equipment was read',
      carries_equipment: 'true when the pole held equipment of any kind directly',
      checked_run_id: 'the run that read it',
      checked_at: 'when its equipment was read (UTC)',
    });

    // Linking is redone only for customers whose platform data changed, unless the ERP changed.
    await knex.schema.alterTable('platform_customers', (t) => t.text('link_input_hash').nullable());
    await knex.raw(
      `COMMENT ON COLUMN platform_customers.link_input_hash IS 'hash of what the link was decided from on the platform side (document as typed, observation); a run that is not --full reuses the link when it and the ERP are unchanged'`,
    );
    await knex.schema.createTable('sync_link_state', (t) => {
      t.text('integration_id').primary().references('integrations.id').onDelete('CASCADE');
      t.text('erp_fingerprint').notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
    await describeTable(knex, 'sync_link_state', 'The state of the ERP (service contracts and their documents) the last links of an integration were decided against (sync bookkeeping)', {
      integration_id: 'integration',
      erp_fingerprint: 'count and order-independent hash of every service contract (id, status, holder document)',
      updated_at: 'when it last changed (UTC)',
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('sync_link_state');
    await knex.schema.alterTable('platform_customers', (t) => t.dropColumn('link_input_hash'));
    await knex.schema.dropTableIfExists('sync_pole_checks');
  },
});

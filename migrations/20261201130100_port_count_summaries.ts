import { transactional } from '../src/db/migration.ts';

/**
 * The summary of each container's equipment and port counts as the platform's batch read
 * showed it, when the run that stored the container's ports read it. A later run whose batch
 * read shows the same summary reuses the stored ports instead of reading the container's
 * occupancy one request at a time.
 */
export default transactional({
  async up(knex) {
    await knex.schema.createTable('sync_port_count_summaries', (t) => {
      t.text('integration_id').notNullable().references('integrations.id').onDelete('CASCADE');
      t.text('container_kind').notNullable().checkIn(['box', 'pole']);
      t.text('container_external_id').notNullable();
      t.text('summary').notNullable();
      t.uuid('read_run_id').nullable();
      t.timestamp('read_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.primary(['integration_id', 'container_kind', 'container_external_id']);
    });
    await knex.raw(
      `COMMENT ON TABLE sync_port_count_summaries IS 'per container: digest of its equipment and port counts from the platform''s batch read, as of the run that stored its ports'`,
    );
  },
  async down(knex) {
    await knex.schema.dropTable('sync_port_count_summaries');
  },
});

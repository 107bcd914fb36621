import { describeTable, transactional } from '../src/db/migration.ts';

/**
 * Which containers' equipment a sync last read in full (the equipment diagram), so a run that
 * is not `--full` can read only the port occupancy of a container it already knows, or nothing
 * for one without service equipment (see src/sync/pull.ts).
 */
export default transactional({
  async up(knex) {
    await knex.schema.createTable('sync_equipment_reads', (t) => {
      t.text('integration_id').notNullable().references('integrations.id').onDelete('CASCADE');
      t.text('container_kind').notNullable().checkIn(['box', 'pole']);
      t.text('container_external_id').notNullable();
      t.text('content_hash').notNullable();
      t.boolean('service_equipment').notNullable();
      t.uuid('read_run_id').notNullable();
      t.timestamp('read_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.primary(['integration_id', 'container_kind', 'container_external_id']);
    });
    await describeTable(knex, 'sync_equipment_reads', 'Containers (boxes, poles) holding equipment, as of the last full read of their equipment diagram by a sync (sync bookkeeping)', {
      integration_id: 'integration the container belongs to',
      container_kind: 'box or pole',
      container_external_id: "the platform's id of the box or pole",
      content_hash: 'hash of the container as listed (and of the kinds the integration syncs) when its diagram was read',
      service_equipment: 'true when it held service splitters (whose port occupancy is then read every run)',
      read_run_id: 'the run that read the diagram',
      read_at: 'when the diagram was read (UTC)',
    });
    // The run joins stored equipment to its containers (box → splitters → ports).
    await knex.schema.alterTable('splitters', (t) => t.index(['box_id'], 'splitters_box_id_index'));
    await knex.schema.alterTable('ports', (t) => t.index(['splitter_id'], 'ports_splitter_id_index'));
  },
  async down(knex) {
    await knex.schema.alterTable('ports', (t) => t.dropIndex(['splitter_id'], 'ports_splitter_id_index'));
    await knex.schema.alterTable('splitters', (t) => t.dropIndex(['box_id'], 'splitters_box_id_index'));
    await knex.schema.dropTableIfExists('sync_equipment_reads');
  },
});

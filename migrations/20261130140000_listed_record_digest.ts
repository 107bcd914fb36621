import { transactional } from '../src/db/migration.ts';

/**
 * A digest of each container's whole listed record, kept with the bookkeeping of its last
 * equipment read: a field of the listing that mapsync does not store (GeoGrid `status`, a
 * box's `observacao`, …) changing on the platform then sends the container to a full read.
 * Null on rows written before: those are compared on their stored fields alone until their
 * next full read, so upgrading costs no extra reads.
 */
export default transactional({
  async up(knex) {
    await knex.schema.alterTable('sync_equipment_reads', (t) => t.text('listed_digest').nullable());
    await knex.schema.alterTable('sync_pole_checks', (t) => t.text('listed_digest').nullable());
    for (const table of ['sync_equipment_reads', 'sync_pole_checks']) {
      await knex.raw(
        `COMMENT ON COLUMN ${table}.listed_digest IS 'digest of the whole record the platform listed for the container when its equipment was read; null when not known'`,
      );
    }
  },
  async down(knex) {
    await knex.schema.alterTable('sync_pole_checks', (t) => t.dropColumn('listed_digest'));
    await knex.schema.alterTable('sync_equipment_reads', (t) => t.dropColumn('listed_digest'));
  },
});

import { transactional } from '../src/db/migration.ts';

/**
 * What the map's tiles show changes with a merge, a binding, or a link made between runs; the
 * tiles' ETag is the latest of the three (src/map/tiles.repository.ts networkVersion), each
 * found by one of these indexes instead of a scan. The tiles and viability themselves use
 * the existing GiST indexes on `geom` (EPSG:4326): their envelopes are transformed to 4326
 * in SQL, so no index on a transformed geometry is needed.
 */
const INDEXES: [string, string][] = [
  ['sync_runs_succeeded_idx', "sync_runs (integration_id, finished_at) WHERE status = 'succeeded'"],
  ['bindings_changed_idx', 'bindings (integration_id, updated_at)'],
  ['platform_customers_changed_idx', 'platform_customers (integration_id, updated_at)'],
];

export default transactional({
  async up(knex) {
    for (const [name, on] of INDEXES) await knex.raw(`CREATE INDEX IF NOT EXISTS ${name} ON ${on}`);
  },
  async down(knex) {
    for (const [name] of INDEXES.slice().reverse()) await knex.raw(`DROP INDEX IF EXISTS ${name}`);
  },
});

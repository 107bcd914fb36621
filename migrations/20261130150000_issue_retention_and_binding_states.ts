import { transactional } from '../src/db/migration.ts';

/**
 * Housekeeping: a run's issues are pruned once past the integration's retention
 * (sync.issueRetentionDays / sync.issueRetentionRuns), and the run remembers when, so its
 * report says the issues were pruned rather than that there were none. Also drops the second,
 * identical index on splitters(box_id) and on ports(splitter_id) (20261124062000 created
 * them again under knex's names); the initial schema's splitters_box_idx and
 * ports_splitter_idx stay. The comment of bindings.sync_state now says what `failed` covers
 * since syncs demote bindings the platform no longer shows.
 */
export default transactional({
  async up(knex) {
    await knex.schema.alterTable('sync_runs', (t) => t.timestamp('issues_pruned_at', { useTz: true }).nullable());
    await knex.raw(
      `COMMENT ON COLUMN sync_runs.issues_pruned_at IS 'when the run''s issues were deleted by the retention (sync.issueRetentionDays / sync.issueRetentionRuns); NULL while they are kept'`,
    );
    await knex.raw(
      `COMMENT ON COLUMN bindings.sync_state IS 'not_pushed, queued, pushed, in_sync (the platform shows it) or failed (its push is parked, or a sync found the platform no longer shows it: see the push''s last_error)'`,
    );
    await knex.raw('DROP INDEX IF EXISTS splitters_box_id_index');
    await knex.raw('DROP INDEX IF EXISTS ports_splitter_id_index');
  },
  async down(knex) {
    await knex.raw(`COMMENT ON COLUMN bindings.sync_state IS 'not_pushed, queued, pushed, in_sync (the platform shows it) or failed'`);
    await knex.raw('CREATE INDEX IF NOT EXISTS ports_splitter_id_index ON ports (splitter_id)');
    await knex.raw('CREATE INDEX IF NOT EXISTS splitters_box_id_index ON splitters (box_id)');
    await knex.schema.alterTable('sync_runs', (t) => t.dropColumn('issues_pruned_at'));
  },
});

import { transactional } from '../src/db/migration.ts';

/**
 * Several `mapsync serve` processes share one run queue (a fleet; PostgreSQL coordinates).
 * 1. `schedule_slot`: the schedule slot a timer queued the run for. Unique per integration,
 *    so when every process's timer fires for the same slot exactly one insert wins, even if
 *    that run already finished when a late timer fires. Older rows keep it NULL.
 * 2. `reaped_at`: when the run was ended because its process died (no heartbeat, or its sync
 *    lock released with the session). Such a run is re-run once by a live process.
 * 3. `retry_of` and `attempt`: the re-run points at the run it replaces; unique, so two
 *    live processes never both re-run it. `attempt` counts them, and caps a run that kills
 *    every process that takes it.
 */
export default transactional({
  async up(knex) {
    await knex.schema.alterTable('sync_runs', (t) => {
      t.timestamp('schedule_slot', { useTz: true }).nullable();
      t.timestamp('reaped_at', { useTz: true }).nullable();
      t.uuid('retry_of').nullable().references('sync_runs.id').onDelete('SET NULL');
      t.smallint('attempt').notNullable().defaultTo(1);
    });
    await knex.raw('CREATE UNIQUE INDEX sync_runs_one_per_slot ON sync_runs (integration_id, schedule_slot) WHERE schedule_slot IS NOT NULL');
    await knex.raw('CREATE UNIQUE INDEX sync_runs_one_retry ON sync_runs (retry_of) WHERE retry_of IS NOT NULL');
    await knex.raw(
      `COMMENT ON COLUMN sync_runs.schedule_slot IS 'the schedule slot a timer queued this run for; unique per integration, so a fleet of processes queues each slot once'`,
    );
    await knex.raw(`COMMENT ON COLUMN sync_runs.reaped_at IS 'when the run was ended because the process running it died; a live process then re-runs it'`);
    await knex.raw(`COMMENT ON COLUMN sync_runs.retry_of IS 'the run this one re-runs after its process died (at most one re-run per run)'`);
    await knex.raw(`COMMENT ON COLUMN sync_runs.attempt IS '1 for a first run; one more for each re-run after a dead process'`);
  },
  async down(knex) {
    await knex.raw('DROP INDEX IF EXISTS sync_runs_one_retry');
    await knex.raw('DROP INDEX IF EXISTS sync_runs_one_per_slot');
    await knex.schema.alterTable('sync_runs', (t) => {
      t.dropColumn('attempt');
      t.dropColumn('retry_of');
      t.dropColumn('reaped_at');
      t.dropColumn('schedule_slot');
    });
  },
});

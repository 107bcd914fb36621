import type { Knex } from 'knex';

export interface IssueRetention {
  /** `sync.issueRetentionDays`: a finished run's issues are kept this many days. */
  days: number;
  /** `sync.issueRetentionRuns`: when set, only the issues of the integration's last this many finished runs are kept. */
  runs?: number | undefined;
}

/** Runs whose issues are deleted in one statement: a run holds at most about one issue per customer. */
const RUNS_PER_BATCH = 20;

/**
 * Deletes the issues (`sync_issues`) of an integration's finished runs that are past the
 * retention: finished more than `days` ago, or (with `runs`) older than its last `runs`
 * finished runs. The runs themselves stay, with `issues_pruned_at` set, so their report says
 * the issues were pruned. Queued and running runs are never touched. Returns the runs pruned.
 */
export async function pruneRunIssues(knex: Knex, integrationId: string, retention: IssueRetention): Promise<string[]> {
  const expired = (
    await knex.raw(
      `WITH finished AS (
         SELECT id, finished_at, issues_pruned_at, row_number() OVER (ORDER BY finished_at DESC, id) AS recency
           FROM sync_runs
          WHERE integration_id = ? AND status IN ('succeeded', 'failed') AND finished_at IS NOT NULL
       )
       SELECT f.id FROM finished f
        WHERE f.issues_pruned_at IS NULL
          AND (f.finished_at < now() - make_interval(days => ?) OR (?::int IS NOT NULL AND f.recency > ?::int))
          AND EXISTS (SELECT 1 FROM sync_issues i WHERE i.run_id = f.id)
        ORDER BY f.finished_at`,
      [integrationId, retention.days, retention.runs ?? null, retention.runs ?? null],
    )
  ).rows as { id: string }[];
  const ids = expired.map((row) => row.id);
  for (let start = 0; start < ids.length; start += RUNS_PER_BATCH) {
    const batch = ids.slice(start, start + RUNS_PER_BATCH);
    await knex.transaction(async (trx) => {
      await trx('sync_issues').whereIn('run_id', batch).delete();
      await trx('sync_runs').whereIn('id', batch).update({ issues_pruned_at: trx.fn.now() });
    });
  }
  return ids;
}

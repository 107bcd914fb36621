import type { RunConnection } from './run-connection.ts';
import { AUTO_BOX_PREFIX, type CountKind } from './selection.ts';
import type { StagingTables } from './staging.ts';

/**
 * The mass-removal guard: a platform that answers with a short or empty list must never wipe
 * the stored network. It counts, per kind, the live rows the platform no longer lists at all;
 * an element still listed but no longer kept is not a loss and is never counted:
 *   - a customer that only left its port (customers not a synced kind);
 *   - a pole or box kept only as the container of equipment it no longer holds, and the auto
 *     box of a pole still listed;
 *   - the ports of a splitter still listed but no longer a synced service splitter.
 */

export interface GuardedRemoval {
  kind: CountKind;
  /** Live rows of the kind before the run. */
  existing: number;
  /** Of those, the ones the platform no longer lists (the run would mark them removed). */
  vanishing: number;
}

export interface RemovalGuardSettings {
  /** `sync.removalGuardPercent`: the share of a kind (0–100) a run may remove. */
  percent: number;
  /** `sync.removalGuardMinCount`: a run removing this many of a kind or fewer never trips the guard. */
  minCount: number;
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Per kind, how many live rows the platform no longer lists. Reads only; call before the merge. */
export async function planGuardedRemovals(db: RunConnection, integrationId: string, t: StagingTables): Promise<GuardedRemoval[]> {
  const integration = literal(integrationId);
  const live = (alias: string) => `${alias}.integration_id = ${integration} AND ${alias}.removed_at IS NULL`;
  const queries: Record<CountKind, string> = {
    poles: `SELECT count(*)::int AS existing, count(*) FILTER (WHERE s.external_id IS NULL)::int AS vanishing
              FROM poles t LEFT JOIN ${t.poles} s ON s.external_id = t.external_id WHERE ${live('t')}`,
    boxes: `SELECT count(*)::int AS existing, count(*) FILTER (WHERE s.external_id IS NULL AND pole.external_id IS NULL)::int AS vanishing
              FROM boxes t
              LEFT JOIN ${t.boxes} s ON s.external_id = t.external_id
              LEFT JOIN ${t.poles} pole ON t.auto AND ${literal(AUTO_BOX_PREFIX)} || pole.external_id = t.external_id
             WHERE ${live('t')}`,
    splitters: `SELECT count(*)::int AS existing, count(*) FILTER (WHERE s.external_id IS NULL)::int AS vanishing
                  FROM splitters t LEFT JOIN ${t.splitters} s ON s.external_id = t.external_id WHERE ${live('t')}`,
    ports: `SELECT count(*)::int AS existing,
                   count(*) FILTER (WHERE s.external_id IS NULL AND (listed.external_id IS NULL OR (listed.keep AND listed.role = 'service')))::int AS vanishing
              FROM ports t
              JOIN splitters spl ON spl.id = t.splitter_id
              LEFT JOIN ${t.ports} s ON s.external_id = t.external_id
              LEFT JOIN ${t.splitters} listed ON listed.external_id = spl.external_id
             WHERE ${live('t')}`,
    customers: `SELECT count(*)::int AS existing, count(*) FILTER (WHERE s.external_id IS NULL)::int AS vanishing
                  FROM platform_customers t LEFT JOIN ${t.customers} s ON s.external_id = t.external_id WHERE ${live('t')}`,
  };
  const plans: GuardedRemoval[] = [];
  for (const [kind, sql] of Object.entries(queries) as [CountKind, string][]) {
    const [row] = await db.query<{ existing: number; vanishing: number }>(sql);
    plans.push({ kind, existing: row?.existing ?? 0, vanishing: row?.vanishing ?? 0 });
  }
  return plans;
}

/**
 * The guard's verdict: null when the run may merge, else why not. A kind trips it when the run
 * would remove more than `percent` of it **and** more than `minCount` of it (DESIGN.md, sync
 * rules), or every one of at least two (an empty list from the platform, whatever the size).
 */
export function removalGuardViolation(plans: GuardedRemoval[], settings: RemovalGuardSettings): string | null {
  const over = plans.filter(
    (plan) =>
      plan.existing > 0 &&
      plan.vanishing * 100 > plan.existing * settings.percent &&
      (plan.vanishing > settings.minCount || (plan.vanishing === plan.existing && plan.existing >= 2)),
  );
  if (over.length === 0) return null;
  const parts = over.map((plan) => `${plan.vanishing} of ${plan.existing} ${plan.kind} (${((plan.vanishing * 100) / plan.existing).toFixed(1)}%)`);
  return (
    `mass-removal guard: this run would remove ${parts.join(', ')}, more than the ${settings.percent}% ` +
    `(sync.removalGuardPercent) and more than ${settings.minCount} (sync.removalGuardMinCount) allowed, ` +
    `or all of them. Nothing was merged. If the platform really lost these elements, ` +
    `run the sync again with --force (options.force) to accept the removal.`
  );
}

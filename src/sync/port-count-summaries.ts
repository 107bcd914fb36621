/**
 * Batch occupancy reads (config `sync.occupancyReads: batch`). GeoGrid answers the port counts of several containers in one request
 * (`PlatformAdapter.portCountSummaries`). A run reads them for every container whose equipment
 * it reads or reuses, about 50 containers per request, and compares each container's summary
 * with the one stored when its ports were last stored:
 *
 * - a container planned for an occupancy read ('occupancy') whose summary is unchanged keeps
 *   its stored ports, customers and availability without a request of its own: its stored
 *   service ports are staged as its occupancy, which the run then handles as if read;
 * - a container reusing its stored equipment without a read ('stored': splice boxes, poles
 *   with distribution equipment only) whose summary changed is read in full the same night;
 * - a pole never seen carrying equipment (new, or bare at its last check) that a normal run
 *   would read is checked by the batch read: shown holding nothing, it is not read one by one,
 *   and its check is written as a read's would be. Most poles are bare: reading each was most
 *   of a first sync's requests, and their weekly recheck most of a nightly run's;
 * - any other container is read as planned.
 *
 * What the counts cannot show (a customer leaving a box and another arriving at the same box
 * the same day, a customer moved between two ports of one box, a renamed splitter) is seen at
 * the container's weekly full read (EQUIPMENT_RECHECK_DAYS). A platform that refuses the
 * batch read (a 4xx, another shape) is asked once per run; the run then reads one container
 * at a time, as before, and the run record says which (`occupancyReads`).
 */
import type { MergeParams } from './merge.ts';
import type { PullContext } from './pull.ts';
import type { RunConnection } from './run-connection.ts';
import { AUTO_BOX_PREFIX } from './selection.ts';
import { POLE_CHECK_HASH_SQL } from './staging.ts';

/** Containers handed to the adapter per call (it splits them into requests of its own size). */
const SUMMARY_BATCH = 1000;

const CONTAINER_TABLES = (ctx: { tables: PullContext['tables'] }) =>
  [
    [ctx.tables.boxes, 'box'],
    [ctx.tables.poles, 'pole'],
  ] as const;

/**
 * SQL condition over a staged container row (`alias.external_id`): the batch read showed it
 * unchanged, so it needs no occupancy read of its own.
 */
export function reusedByPortCountsSql(portCounts: string, kind: 'box' | 'pole', alias: string): string {
  return `EXISTS (SELECT 1 FROM ${portCounts} s WHERE s.kind = '${kind}' AND s.external_id = ${alias}.external_id AND s.reused)`;
}

/**
 * Reads the summaries (when the adapter has the read and service splitters are synced), and
 * settles each container as the module comment says. Always creates the run's summary table.
 * Tells the run's tally how occupancy was read.
 */
export async function readPortCountSummaries(ctx: PullContext): Promise<void> {
  const t = ctx.tables.portCounts;
  await ctx.db.query(
    `CREATE TEMP TABLE IF NOT EXISTS ${t} (kind text NOT NULL, external_id text NOT NULL, summary text, reused boolean NOT NULL DEFAULT false, bare boolean NOT NULL DEFAULT false, PRIMARY KEY (kind, external_id))`,
  );
  const adapter = ctx.adapter;
  if (!ctx.batchOccupancy || !adapter.portCountSummaries || !adapter.portOccupancy || !ctx.selection.serviceSplitters) return;

  ctx.progress.detail('reading port counts in batches');
  for (const [table, kind] of CONTAINER_TABLES(ctx)) {
    let after = '';
    for (;;) {
      if (ctx.signal?.aborted) return;
      const rows = await ctx.db.query<{ external_id: string }>(
        `SELECT external_id FROM ${table} WHERE read_mode IS NOT NULL AND external_id > $1 ORDER BY external_id LIMIT ${SUMMARY_BATCH}`,
        [after],
      );
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.external_id;
      const ids = rows.map((row) => row.external_id);
      const summaries = await adapter.portCountSummaries(ids.map((externalId) => ({ externalId, kind })));
      if (summaries === null) {
        // Refused: nothing is settled from a partial read, every container is read as planned.
        await ctx.db.query(`DELETE FROM ${t}`);
        if (ctx.requests) ctx.requests.occupancyReads = 'per_item';
        ctx.progress.detail(null);
        return;
      }
      await ctx.db.query(`INSERT INTO ${t} (kind, external_id, summary) SELECT $1, id, s FROM unnest($2::text[], $3::text[]) AS x(id, s)`, [
        kind,
        ids,
        ids.map((id) => summaries.get(id) ?? null),
      ]);
      if (rows.length < SUMMARY_BATCH) break;
    }
  }
  if (ctx.requests) ctx.requests.occupancyReads = 'batch';
  await ctx.db.query(`ANALYZE ${t}`);

  for (const [table, kind] of CONTAINER_TABLES(ctx)) {
    const stored = `sync_port_count_summaries r ON r.integration_id = $1 AND r.container_kind = '${kind}' AND r.container_external_id = s.external_id`;
    await ctx.db.query(
      `UPDATE ${t} s SET reused = true
         FROM ${table} c
         JOIN sync_port_count_summaries r ON r.integration_id = $1 AND r.container_kind = '${kind}' AND r.container_external_id = c.external_id
        WHERE s.kind = '${kind}' AND c.external_id = s.external_id AND c.read_mode = 'occupancy' AND r.summary = s.summary`,
      [ctx.integrationId],
    );
    await ctx.db.query(
      `UPDATE ${table} c SET read_mode = 'diagram'
         FROM ${t} s JOIN ${stored}
        WHERE c.read_mode = 'stored' AND s.kind = '${kind}' AND s.external_id = c.external_id AND r.summary IS DISTINCT FROM s.summary`,
      [ctx.integrationId],
    );
    if (kind === 'pole' && !ctx.full) {
      // Shown holding nothing, never seen carrying equipment, not listed as holding service
      // equipment: no read of its own (a --full run reads every pole).
      await ctx.db.query(
        `WITH bare AS (
           UPDATE ${t} s SET bare = true
             FROM ${table} p
            WHERE s.kind = 'pole' AND s.external_id = p.external_id AND s.summary = '' AND p.read_mode = 'diagram'
              AND NOT EXISTS (SELECT 1 FROM sync_pole_checks c WHERE c.integration_id = $1 AND c.pole_external_id = p.external_id AND c.carries_equipment)
              AND NOT EXISTS (SELECT 1 FROM sync_equipment_reads r WHERE r.integration_id = $1 AND r.container_kind = 'pole' AND r.container_external_id = p.external_id)
              AND NOT EXISTS (SELECT 1 FROM ${ctx.tables.serviceHolders} h WHERE h.external_id = p.external_id)
           RETURNING s.external_id)
         UPDATE ${table} p SET read_mode = 'stored' FROM bare WHERE p.external_id = bare.external_id`,
        [ctx.integrationId],
      );
    }
    // The stored service ports of an unchanged container, as its occupancy.
    const boxOf = kind === 'box' ? 'c.external_id' : `'${AUTO_BOX_PREFIX}' || c.external_id`;
    await ctx.db.query(
      `INSERT INTO ${ctx.tables.occupancy}
              (container_kind, container_external_id, port_external_id, splitter_external_id, splitter_name, number, label, label_given, available, customer_external_id, customer_name)
       SELECT '${kind}', c.external_id, p.external_id, spl.external_id, spl.name, p.number, p.label, true, p.available, p.platform_customer_external_id, pc.name
         FROM ${t} s
         JOIN ${table} c ON c.external_id = s.external_id AND c.read_mode = 'occupancy'
         JOIN boxes bx ON bx.integration_id = $1 AND bx.removed_at IS NULL AND bx.external_id = ${boxOf}
         JOIN splitters spl ON spl.box_id = bx.id AND spl.removed_at IS NULL AND spl.role = 'service' AND spl.container_external_id = c.external_id
         JOIN ports p ON p.splitter_id = spl.id AND p.removed_at IS NULL
         LEFT JOIN platform_customers pc ON pc.integration_id = $1 AND pc.external_id = p.platform_customer_external_id AND pc.removed_at IS NULL
        WHERE s.kind = '${kind}' AND s.reused`,
      [ctx.integrationId],
    );
  }
  ctx.progress.detail(null);
}

/**
 * Inside the merge transaction: stores the summary of every container whose ports this run
 * read (or found unchanged), and forgets the others, so a stored summary always describes
 * the stored ports. A run without summaries (refused, or a platform without the read) leaves
 * none, and the next run reads every container's occupancy.
 */
export async function recordPortCountSummaries(db: RunConnection, p: MergeParams): Promise<void> {
  const t = p.tables.portCounts;
  await db.query(
    `CREATE TEMP TABLE IF NOT EXISTS ${t} (kind text NOT NULL, external_id text NOT NULL, summary text, reused boolean NOT NULL DEFAULT false, bare boolean NOT NULL DEFAULT false, PRIMARY KEY (kind, external_id))`,
  );
  // Bare poles confirmed by the batch read: their check is written as a diagram read's would be.
  await db.query(
    `INSERT INTO sync_pole_checks AS c (integration_id, pole_external_id, content_hash, listed_digest, carries_equipment, checked_run_id)
     SELECT $1, p.external_id, ${POLE_CHECK_HASH_SQL}, p.listed_digest, false, $2::uuid
       FROM ${t} s JOIN ${p.tables.poles} p ON p.external_id = s.external_id
      WHERE s.kind = 'pole' AND s.bare
     ON CONFLICT (integration_id, pole_external_id) DO UPDATE
        SET content_hash = EXCLUDED.content_hash, listed_digest = EXCLUDED.listed_digest, carries_equipment = false,
            checked_run_id = EXCLUDED.checked_run_id, checked_at = now()`,
    [p.integrationId, p.runId],
  );
  for (const [table, kind] of CONTAINER_TABLES(p)) {
    await db.query(
      `INSERT INTO sync_port_count_summaries AS r (integration_id, container_kind, container_external_id, summary, read_run_id)
       SELECT $1, '${kind}', s.external_id, s.summary, $2::uuid
         FROM ${t} s JOIN ${table} c ON c.external_id = s.external_id AND c.read_mode IN ('diagram', 'occupancy')
        WHERE s.kind = '${kind}' AND s.summary IS NOT NULL
       ON CONFLICT (integration_id, container_kind, container_external_id) DO UPDATE
          SET summary = EXCLUDED.summary, read_run_id = EXCLUDED.read_run_id, read_at = now()
        WHERE r.summary IS DISTINCT FROM EXCLUDED.summary`,
      [p.integrationId, p.runId],
    );
    // Kept: what was just written, and an unchanged summary of a container reused as stored.
    await db.query(
      `DELETE FROM sync_port_count_summaries r
        WHERE r.integration_id = $1 AND r.container_kind = '${kind}'
          AND NOT EXISTS (SELECT 1 FROM ${t} s JOIN ${table} c ON c.external_id = s.external_id
                           WHERE s.kind = '${kind}' AND s.external_id = r.container_external_id AND s.summary = r.summary
                             AND c.read_mode IN ('diagram', 'occupancy', 'stored'))`,
      [p.integrationId],
    );
  }
}

import type { RunConnection } from './run-connection.ts';
import { COUNT_KINDS, equipmentSelectionKey, type CountKind, type Selection } from './selection.ts';
import { equipmentReadHashSql, LINK_INPUT_HASH_SQL, POLE_CHECK_HASH_SQL, type StagingTables } from './staging.ts';
import type { KindCounts } from './sync-runs.repository.ts';

/**
 * The merge: staging → network tables, set-wise, inside the caller's transaction.
 *
 * Each table is written with three statements: UPDATE the rows whose content hash differs
 * (or that come back from removal), INSERT the new ones, and mark removed (soft delete) the
 * ones staging no longer holds. A row whose hash is unchanged is never written, so a run on
 * unchanged data writes nothing. The hash covers the row's normalised content, including
 * derived links (pole of a box, box of a splitter, linked contract), by platform id.
 */

/** Bump when the hashed content changes shape, so every row is rewritten once. */
const HASH_VERSION = 'v1';

interface TableSpec {
  kind: CountKind;
  table: string;
  stage: string;
  /** Joins from staging row `s` to what the columns need. */
  joins: string;
  /** Target column → SQL expression over `s` and the joins. */
  columns: Record<string, string>;
  /** What the content hash covers. */
  hash: string[];
}

export interface MergeParams {
  integrationId: string;
  runId: string;
  projectId: number;
  full: boolean;
  selection: Selection;
  tables: StagingTables;
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function specs(p: MergeParams): TableSpec[] {
  const t = p.tables;
  const integration = literal(p.integrationId);
  const project = String(Math.trunc(p.projectId));
  return [
    {
      kind: 'poles',
      table: 'poles',
      stage: t.poles,
      joins: '',
      columns: {
        project_id: project,
        project_external_id: 's.project_external_id',
        name: 's.name',
        observation: 's.observation',
        selected: String(p.selection.poles),
        planned: 's.planned',
        geom: 's.geom',
      },
      hash: [project, 's.project_external_id', 's.name', 's.observation', 's.lon', 's.lat', String(p.selection.poles), 's.planned'],
    },
    {
      kind: 'boxes',
      table: 'boxes',
      stage: t.boxes,
      joins: `LEFT JOIN poles pole ON pole.integration_id = ${integration} AND pole.external_id = s.pole_external_id`,
      columns: {
        project_id: project,
        project_external_id: 's.project_external_id',
        name: 's.name',
        kind: 's.kind',
        auto: 's.auto',
        pole_id: 'pole.id',
        pole_link: 's.pole_link',
        selected: String(p.selection.boxes),
        planned: 's.planned',
        geom: 's.geom',
      },
      hash: [project, 's.project_external_id', 's.name', 's.kind', 's.auto', 's.pole_external_id', 'pole.id', 's.pole_link', 's.lon', 's.lat', String(p.selection.boxes), 's.planned'],
    },
    {
      kind: 'splitters',
      table: 'splitters',
      stage: t.splitters,
      joins: `LEFT JOIN boxes box ON box.integration_id = ${integration} AND box.external_id = s.box_external_id`,
      columns: {
        box_id: 'box.id',
        container_external_id: 's.container_external_id',
        name: 's.name',
        role: 's.role',
        ratio_in: 's.ratio_in',
        ratio_out: 's.ratio_out',
        planned: 's.planned',
      },
      hash: ['s.box_external_id', 'box.id', 's.container_external_id', 's.container_kind', 's.name', 's.role', 's.ratio_in', 's.ratio_out', 's.planned'],
    },
    {
      kind: 'ports',
      table: 'ports',
      stage: t.ports,
      joins: `JOIN splitters spl ON spl.integration_id = ${integration} AND spl.external_id = s.splitter_external_id`,
      columns: {
        splitter_id: 'spl.id',
        number: 's.number',
        label: 's.label',
        available: 's.available',
        platform_customer_external_id: 's.customer_external_id',
        planned: 's.planned',
      },
      hash: ['s.splitter_external_id', 'spl.id', 's.number', 's.label', 's.available', 's.customer_external_id', 's.planned'],
    },
    {
      kind: 'customers',
      table: 'platform_customers',
      stage: t.customers,
      joins: `LEFT JOIN ${t.links} l ON l.external_id = s.external_id LEFT JOIN service_contracts sc ON sc.service_id = l.service_id`,
      columns: {
        name: 's.name',
        document: 'l.document',
        document_masked: 'l.document_masked',
        observation: 's.observation',
        integration_code: 's.integration_code',
        port_external_id: 's.port_external_id',
        link_status: `coalesce(l.link_status, 'unmatched')`,
        link_reason: 'l.link_reason',
        service_contract_id: 'sc.id',
        link_input_hash: LINK_INPUT_HASH_SQL,
        geom: 'CASE WHEN s.lon IS NULL OR s.lat IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) END',
      },
      hash: ['s.name', 'l.document', 'l.document_masked', 's.observation', 's.integration_code', 's.port_external_id', 'l.link_status', 'l.link_reason', 'sc.id', 's.lon', 's.lat', LINK_INPUT_HASH_SQL],
    },
  ];
}

function sourceSql(spec: TableSpec): string {
  const columns = Object.entries(spec.columns).map(([column, expr]) => `${expr} AS ${column}`);
  const hash = `md5(ROW(${literal(HASH_VERSION)}, ${spec.hash.join(', ')})::text) AS content_hash`;
  return `SELECT s.external_id, ${[...columns, hash].join(', ')} FROM ${spec.stage} s ${spec.joins} WHERE s.keep`;
}

export interface RemovalPlan {
  kind: CountKind;
  /** Rows of the kind stored for the integration, removed ones included. */
  stored: number;
  existing: number;
  removing: number;
}

/** How many live rows of each kind this run would mark removed. Reads only. */
export async function planRemovals(db: RunConnection, p: MergeParams): Promise<RemovalPlan[]> {
  const integration = literal(p.integrationId);
  const plans: RemovalPlan[] = [];
  for (const spec of specs(p)) {
    const [row] = await db.query<{ stored: number; existing: number; removing: number }>(
      // A join, not a NOT EXISTS per row: one hash join over the kind.
      `SELECT count(*)::int AS stored,
              count(*) FILTER (WHERE t.removed_at IS NULL)::int AS existing,
              count(*) FILTER (WHERE t.removed_at IS NULL AND s.external_id IS NULL)::int AS removing
         FROM ${spec.table} t
         LEFT JOIN ${spec.stage} s ON s.keep AND s.external_id = t.external_id
        WHERE t.integration_id = ${integration}`,
    );
    plans.push({ kind: spec.kind, stored: row?.stored ?? 0, existing: row?.existing ?? 0, removing: row?.removing ?? 0 });
  }
  return plans;
}

/** Writes staging into the network tables; the caller holds the transaction. */
export async function mergeStaging(db: RunConnection, p: MergeParams, removals: RemovalPlan[]): Promise<Record<CountKind, Omit<KindCounts, 'rejected'>>> {
  const integration = literal(p.integrationId);
  const run = literal(p.runId);
  const counts = {} as Record<CountKind, Omit<KindCounts, 'rejected'>>;
  for (const spec of specs(p)) {
    const source = sourceSql(spec);
    const columns = Object.keys(spec.columns);
    const insertSql = `INSERT INTO ${spec.table} (integration_id, external_id, content_hash, last_run_id, ${columns.join(', ')})
             SELECT ${integration}, src.external_id, src.content_hash, ${run}, ${columns.map((c) => `src.${c}`).join(', ')}
               FROM (${source}) src`;
    if (removals.find((r) => r.kind === spec.kind)?.stored === 0) {
      // Nothing of the kind stored yet (a first sync): every staged row is new, one pass.
      const created = await db.execute(insertSql);
      counts[spec.kind] = { created, updated: 0, unchanged: 0, removed: 0 };
      continue;
    }
    // One read pass first: on unchanged data nothing below runs. Parents are merged before
    // their children, so the links a child's hash covers are already resolved.
    const changedSql = `(t.content_hash <> src.content_hash OR t.removed_at IS NOT NULL OR ${p.full})`;
    const [plan] = await db.query<{ kept: number; fresh: number; changed: number }>(
      `SELECT count(*)::int AS kept,
              count(*) FILTER (WHERE t.id IS NULL)::int AS fresh,
              count(*) FILTER (WHERE t.id IS NOT NULL AND ${changedSql})::int AS changed
         FROM (${source}) src
         LEFT JOIN ${spec.table} t ON t.integration_id = ${integration} AND t.external_id = src.external_id`,
    );
    const updated =
      (plan?.changed ?? 0) === 0
        ? 0
        : await db.execute(
            `UPDATE ${spec.table} t
                SET ${columns.map((c) => `${c} = src.${c}`).join(', ')},
                    content_hash = src.content_hash, last_run_id = ${run}, updated_at = now(), removed_at = NULL
               FROM (${source}) src
              WHERE t.integration_id = ${integration} AND t.external_id = src.external_id AND ${changedSql}`,
          );
    const created =
      (plan?.fresh ?? 0) === 0
        ? 0
        : await db.execute(
            `${insertSql}
              WHERE NOT EXISTS (SELECT 1 FROM ${spec.table} t WHERE t.integration_id = ${integration} AND t.external_id = src.external_id)`,
          );
    counts[spec.kind] = { created, updated, unchanged: (plan?.kept ?? 0) - created - updated, removed: 0 };
  }
  // Removal runs children first, so nothing still live points at a removed parent in between.
  for (const spec of specs(p).reverse()) {
    const planned = removals.find((r) => r.kind === spec.kind);
    if (planned && planned.removing === 0) continue;
    counts[spec.kind].removed = await db.execute(
      `UPDATE ${spec.table} t SET removed_at = now(), updated_at = now(), last_run_id = ${run}
        WHERE t.integration_id = ${integration} AND t.removed_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM ${spec.stage} s WHERE s.keep AND s.external_id = t.external_id)`,
    );
  }
  return counts;
}

/** Removed ports that still carry a confirmed binding: the binding is kept, an admin must act. */
export async function removedPortsWithBindings(db: RunConnection, integrationId: string): Promise<{ port: string; binding: number; serviceId: string }[]> {
  return db.query<{ port: string; binding: number; serviceId: string }>(
    `SELECT p.external_id AS port, b.id AS binding, sc.service_id AS "serviceId"
       FROM bindings b
       JOIN ports p ON p.id = b.port_id
       JOIN service_contracts sc ON sc.id = b.service_contract_id
      WHERE b.integration_id = $1 AND b.status = 'confirmed' AND p.removed_at IS NOT NULL
      ORDER BY p.external_id`,
    [integrationId],
  );
}

/**
 * Remembers, for every pole whose equipment this run read, whether it carried any and when it
 * was read (the weekly recheck counts from there). Poles gone from the platform are forgotten.
 */
export async function recordPoleChecks(db: RunConnection, p: MergeParams): Promise<void> {
  const integration = literal(p.integrationId);
  const run = literal(p.runId);
  const t = p.tables;
  const checked = `SELECT p.external_id, ${POLE_CHECK_HASH_SQL} AS content_hash, p.listed_digest,
      EXISTS (SELECT 1 FROM ${t.splitters} s WHERE s.container_kind = 'pole' AND s.container_external_id = p.external_id) AS carries_equipment
    FROM ${t.poles} p WHERE p.read_mode = 'diagram'`;
  await db.execute(
    `UPDATE sync_pole_checks c
        SET content_hash = r.content_hash, listed_digest = r.listed_digest, carries_equipment = r.carries_equipment, checked_run_id = ${run}, checked_at = now()
       FROM (${checked}) r
      WHERE c.integration_id = ${integration} AND c.pole_external_id = r.external_id`,
  );
  await db.execute(
    `INSERT INTO sync_pole_checks (integration_id, pole_external_id, content_hash, listed_digest, carries_equipment, checked_run_id)
     SELECT ${integration}, r.external_id, r.content_hash, r.listed_digest, r.carries_equipment, ${run}
       FROM (${checked}) r
      WHERE NOT EXISTS (SELECT 1 FROM sync_pole_checks c WHERE c.integration_id = ${integration} AND c.pole_external_id = r.external_id)`,
  );
  await db.execute(
    `DELETE FROM sync_pole_checks c
      WHERE c.integration_id = ${integration}
        AND NOT EXISTS (SELECT 1 FROM ${t.poles} p WHERE p.external_id = c.pole_external_id)`,
  );
}

/**
 * Remembers, for every container whose equipment diagram this run read, that it was read and
 * whether it held service splitters. Poles read bare are left to sync_pole_checks (most poles
 * are bare); containers gone from the platform are forgotten.
 */
export async function recordEquipmentReads(db: RunConnection, p: MergeParams): Promise<void> {
  const integration = literal(p.integrationId);
  const run = literal(p.runId);
  const t = p.tables;
  const key = equipmentSelectionKey(p.selection);
  for (const [table, kind] of [
    [t.boxes, 'box'],
    [t.poles, 'pole'],
  ] as const) {
    const read = `SELECT c.external_id, ${equipmentReadHashSql(kind, key)} AS content_hash, c.listed_digest,
        bool_or(s.role = 'service') AS service_equipment, count(s.external_id) > 0 AS carries
      FROM ${table} c
      LEFT JOIN ${t.splitters} s ON s.container_kind = '${kind}' AND s.container_external_id = c.external_id
     WHERE c.read_mode = 'diagram' AND NOT (${kind === 'box' ? 'c.auto' : 'false'})
     GROUP BY c.external_id, c.listed_digest, ${equipmentReadHashSql(kind, key)}`;
    await db.execute(
      `INSERT INTO sync_equipment_reads AS r (integration_id, container_kind, container_external_id, content_hash, listed_digest, service_equipment, read_run_id)
       SELECT ${integration}, '${kind}', x.external_id, x.content_hash, x.listed_digest, coalesce(x.service_equipment, false), ${run}
         FROM (${read}) x WHERE ${kind === 'box' ? 'true' : 'x.carries'}
       ON CONFLICT (integration_id, container_kind, container_external_id) DO UPDATE
          SET content_hash = EXCLUDED.content_hash, listed_digest = EXCLUDED.listed_digest, service_equipment = EXCLUDED.service_equipment,
              read_run_id = EXCLUDED.read_run_id, read_at = now()`,
    );
    await db.execute(
      `DELETE FROM sync_equipment_reads r
        WHERE r.integration_id = ${integration} AND r.container_kind = '${kind}'
          AND (NOT EXISTS (SELECT 1 FROM ${table} c WHERE c.external_id = r.container_external_id AND NOT (${kind === 'box' ? 'c.auto' : 'false'}))
               OR (${kind === 'pole'} AND r.container_external_id IN (SELECT x.external_id FROM (${read}) x WHERE NOT x.carries)))`,
    );
  }
}

/**
 * Refreshes the planner statistics of the network tables a run changed in bulk (the first
 * sync, a large import): the next run joins its staging against them, and a plan made on a
 * table believed empty turns a hash join into a million index probes. Autovacuum would get
 * there too, but not before the next run if it comes soon, and not at all where it is off.
 */
export async function analyzeBulkChanges(db: RunConnection, counts: Record<CountKind, Omit<KindCounts, 'rejected'>>): Promise<string[]> {
  const tables = COUNT_KINDS.filter((kind) => {
    const c = counts[kind];
    const written = c.created + c.updated + c.removed;
    return written >= BULK_MIN_ROWS && written * 100 >= (c.created + c.updated + c.unchanged) * BULK_SHARE_PERCENT;
  }).flatMap((kind) => TABLES_OF[kind]);
  if (tables.length === 0) return tables;
  // The run session samples staging lightly; the stored tables get the server's own target.
  await db.query('RESET default_statistics_target');
  for (const table of tables) await db.query(`ANALYZE ${table}`);
  return tables;
}

const BULK_MIN_ROWS = 1000;
const BULK_SHARE_PERCENT = 10;
/** A kind's table, and the run bookkeeping written with it that the next run's planning joins. */
const TABLES_OF: Record<CountKind, string[]> = {
  poles: ['poles', 'sync_pole_checks'],
  boxes: ['boxes', 'sync_equipment_reads'],
  splitters: ['splitters'],
  ports: ['ports'],
  customers: ['platform_customers'],
};

import type { Page, PlatformPort, PlatformSplitter, Rejection } from '../domain/network.ts';
import type { PositionRule } from '../domain/positions.ts';
import type { PlatformRequestTally } from '../platforms/http/request-tally.ts';
import type { ContainerRef, PlatformAdapter, PlatformScope } from '../platforms/platform-adapter.ts';
import { cleanRecordText, screenPosition } from '../platforms/record-validation.ts';
import { readPortCountSummaries, reusedByPortCountsSql } from './port-count-summaries.ts';
import type { RunConnection } from './run-connection.ts';
import type { RunIssuesWriter } from './run-issues.writer.ts';
import type { RunProgressTracker } from './run-progress.ts';
import { AUTO_BOX_PREFIX, autoBoxExternalId, countKindOf, equipmentSelectionKey, readsCustomers, type Selection } from './selection.ts';
import {
  equipmentReadHashSql,
  keyStaging,
  StagingWriter,
  type ReadMode,
  type StagedOccupancy,
  type StagedPort,
  type StagedDuplicate,
  type StagedSplitter,
  type StagingTables,
  POLE_CHECK_HASH_SQL,
  sameListedDigestSql,
} from './staging.ts';

export interface PullContext {
  db: RunConnection;
  integrationId: string;
  /** Read the equipment of every pole, not only of those that may carry some. */
  full: boolean;
  adapter: PlatformAdapter;
  scope: PlatformScope;
  selection: Selection;
  tables: StagingTables;
  issues: RunIssuesWriter;
  progress: RunProgressTracker;
  /** Where a pole or box can plausibly be (Brazil, and the integration's `area`). */
  positions: PositionRule;
  signal?: AbortSignal;
  /** The run's platform requests: told how port occupancy was read. */
  requests?: PlatformRequestTally;
  /** Read port counts in batches where the platform allows (config `sync.occupancyReads: batch`). */
  batchOccupancy?: boolean;
}

/**
 * A run that is not --full re-reads the equipment of a pole that carried none at its last
 * check only once in this many days (a slice of the poles each day, by id), unless the pole
 * itself changed. How the other containers are read: see EQUIPMENT_RECHECK_DAYS.
 */
export const BARE_POLE_RECHECK_DAYS = 7;

/**
 * A run that is not --full reads the equipment diagram of a container it already knows (its
 * listed record unchanged since its diagram was read) only once in this many days (a slice
 * of the containers each day, by id, and any whose last read is older). In between it reads
 * the container's port occupancy alone when it held service splitters, and nothing when not.
 */
export const EQUIPMENT_RECHECK_DAYS = 7;

/**
 * The daily slice spreads the weekly rechecks over the week; a container whose equipment was
 * read less than this long ago already had its read for this cycle (a manual sync after the
 * nightly one does not read a seventh of the network again).
 */
export const RECHECK_MIN_AGE_HOURS = 20;

/** Containers handed to the adapter per batch; read from staging, never all held at once. */
const CONTAINER_BATCH = 1000;
/** Rows per write into staging. */
const STAGE_BATCH = 5000;

/**
 * Writes a batch to staging while the next one is being fetched: at most one write in flight,
 * so memory stays at two batches. A failed write surfaces at the next submit or drain.
 */
class OverlappedWriter {
  private pending: Promise<void> | null = null;

  async submit(work: () => Promise<void>): Promise<void> {
    await this.pending;
    const next = work();
    next.catch(() => undefined); // awaited at the next submit or drain
    this.pending = next;
  }

  async drain(): Promise<void> {
    const pending = this.pending;
    this.pending = null;
    await pending;
  }
}

export class RunAbortedError extends Error {
  constructor() {
    super('the run was cancelled');
    this.name = 'RunAbortedError';
  }
}

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new RunAbortedError();
}

/** Streams every kind the run needs from the platform into staging. Memory holds a page at a time. */
export async function pullIntoStaging(ctx: PullContext): Promise<void> {
  const staging = new StagingWriter(ctx.db, ctx.tables);
  await pullList(ctx, 'poles', ctx.adapter.poles(ctx.scope), (items) => staging.poles(items), (pole) => plausiblyPlaced(ctx, 'poles', pole));
  await pullList(ctx, 'boxes', ctx.adapter.boxes(ctx.scope), (items) => staging.boxes(items), (box) => plausiblyPlaced(ctx, 'boxes', box));
  await ctx.db.query(`ANALYZE ${ctx.tables.poles}`);
  await ctx.db.query(`ANALYZE ${ctx.tables.boxes}`);
  if (ctx.selection.serviceSplitters || ctx.selection.distributionSplitters) {
    await markPolesToRead(ctx);
    await planEquipmentReads(ctx);
    const listed = await readServiceEquipmentHolders(ctx);
    await ctx.db.query(`ANALYZE ${ctx.tables.poles}`);
    await ctx.db.query(`ANALYZE ${ctx.tables.boxes}`);
    await readPortCountSummaries(ctx);
    await pullOccupancy(ctx, staging);
    await pullEquipment(ctx, staging);
    await stageStoredEquipment(ctx);
    await keepServiceSplittersNotFound(ctx, listed);
  }
  if (readsCustomers(ctx.selection)) {
    await pullList(ctx, 'customers', ctx.adapter.customers(ctx.scope), (items) => staging.customers(items));
  }
  // Kinds this run did not stream are keyed all the same: later steps upsert into them.
  for (const table of [ctx.tables.poles, ctx.tables.boxes, ctx.tables.splitters, ctx.tables.ports, ctx.tables.customers]) await keyStaging(ctx.db, table);
}

async function pullList<T extends { externalId: string }>(
  ctx: PullContext,
  kind: 'poles' | 'boxes' | 'customers',
  pages: AsyncIterable<Page<T>>,
  stage: (items: T[]) => Promise<void>,
  /** False rejects the item (it has recorded why). */
  accept: (item: T) => Promise<boolean> = async () => true,
): Promise<void> {
  let batch: T[] = [];
  const writer = new OverlappedWriter();
  const flush = () => {
    const full = batch;
    batch = [];
    return writer.submit(() => stage(full));
  };
  ctx.progress.detail(`reading ${kind}`);
  for await (const page of pages) {
    checkAbort(ctx.signal);
    ctx.progress.fetched(kind, page.items.length);
    await recordRejections(ctx, page.rejected, kind === 'customers' ? 'customers' : 'other');
    for (const listed of page.items) {
      const item = await storableText(ctx, kind, listed.externalId, listed);
      if (item === null) continue;
      if (!(await accept(item))) continue;
      batch.push(item);
    }
    if (batch.length >= STAGE_BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  await writer.drain();
  await rejectDuplicates(ctx, kind, await keyStaging(ctx.db, ctx.tables[kind]));
  ctx.progress.detail(null);
}

/**
 * Every record from a platform passes here before staging: a text field holding a NUL or a
 * lone surrogate (which PostgreSQL cannot store) is cleaned and the record kept, with a
 * `text_cleaned` issue naming it; an id holding one rejects the record (`unstorable_text`),
 * since the cleaned id would name another element. Null when rejected.
 */
async function storableText<T>(ctx: PullContext, kind: string, externalId: string, item: T): Promise<T | null> {
  const { record, cleaned, badIds } = cleanRecordText(item);
  if (record === item) return item;
  const shownId = JSON.stringify(externalId);
  if (badIds.length > 0) {
    await reject(ctx, kind, externalId, 'unstorable_text', `${kind} ${shownId}: ${badIds.join(', ')} holds a NUL byte or a lone surrogate, which cannot be stored; the record was not read`);
    return null;
  }
  await noteCleaned(ctx, kind, externalId, cleaned);
  return record;
}

async function noteCleaned(ctx: PullContext, kind: string, externalId: string, cleaned: string[]): Promise<void> {
  await ctx.issues.add({
    kind,
    externalId,
    code: 'text_cleaned',
    reason: `${kind} ${JSON.stringify(externalId)}: ${cleaned.join(', ')} held a NUL byte or a lone surrogate; stored without the NUL, with U+FFFD for the surrogate`,
  });
}

async function plausiblyPlaced(ctx: PullContext, kind: 'poles' | 'boxes', item: { externalId: string; lat: number; lon: number }): Promise<boolean> {
  const rejection = screenPosition(ctx.positions, kind === 'poles' ? 'pole' : 'box', item.externalId, item.lat, item.lon);
  if (rejection === null) return true;
  await reject(ctx, kind, item.externalId, rejection.code, rejection.reason);
  return false;
}

/**
 * Customer records the equipment listing rejected, per run (`kind|id|code|reason` → how many).
 * On OZmap the ties of customers to ports and the customer listing are the same records
 * (properties): one unreadable record is reported once, not once per listing.
 */
const equipmentCustomerRejections = new WeakMap<PullContext, Map<string, number>>();

function rejectionKey(rejection: Rejection): string {
  return `${rejection.kind}|${rejection.externalId ?? ''}|${rejection.code}|${rejection.reason}`;
}

async function recordRejections(ctx: PullContext, rejected: Rejection[], source: 'equipment' | 'customers' | 'other' = 'other'): Promise<void> {
  for (const rejection of rejected) {
    if (rejection.kind === 'customer' && source !== 'other') {
      let seen = equipmentCustomerRejections.get(ctx);
      if (!seen) equipmentCustomerRejections.set(ctx, (seen = new Map()));
      const key = rejectionKey(rejection);
      const count = seen.get(key) ?? 0;
      if (source === 'equipment') seen.set(key, count + 1);
      else if (count > 0) {
        seen.set(key, count - 1);
        continue;
      }
    }
    const kind = countKindOf(rejection.kind);
    ctx.progress.rejected(kind, 1);
    await ctx.issues.add({ kind, externalId: rejection.externalId, code: rejection.code, reason: rejection.reason });
  }
}

async function rejectDuplicates(ctx: PullContext, kind: string, duplicates: StagedDuplicate[]): Promise<void> {
  for (const { externalId: id } of duplicates) {
    ctx.progress.rejected(kind, 1);
    await ctx.issues.add({ kind, externalId: id, code: 'duplicate_id', reason: `${kind} id ${id} was returned more than once; the first one was kept` });
  }
}

/**
 * Any pole may carry equipment, and reading it costs a call per pole: most poles carry none.
 * Poles read: all in a --full run; else those never checked, those that carried equipment,
 * those changed since their check (any field of the listing), and today's slice of the rest (unless read in the last
 * RECHECK_MIN_AGE_HOURS).
 */
async function markPolesToRead(ctx: PullContext): Promise<void> {
  if (ctx.full) {
    await ctx.db.query(`UPDATE ${ctx.tables.poles} SET equipment_read = true`);
    return;
  }
  const slice = Math.floor(Date.now() / 86_400_000) % BARE_POLE_RECHECK_DAYS;
  // A plain NOT EXISTS (no OR around it) so the planner can make it one hash anti-join.
  await ctx.db.query(
    `UPDATE ${ctx.tables.poles} p SET equipment_read = true
      WHERE NOT EXISTS (
              SELECT 1 FROM sync_pole_checks c
               WHERE c.integration_id = $2 AND c.pole_external_id = p.external_id
                 AND NOT c.carries_equipment AND c.content_hash = ${POLE_CHECK_HASH_SQL} AND ${sameListedDigestSql('c', 'p')}
                 AND c.checked_at >= now() - make_interval(days => ${BARE_POLE_RECHECK_DAYS})
                 AND NOT ((hashtext(p.external_id) & 2147483647) % ${BARE_POLE_RECHECK_DAYS} = $1
                          AND c.checked_at < now() - make_interval(hours => ${RECHECK_MIN_AGE_HOURS})))`,
    [slice, ctx.integrationId],
  );
}

/**
 * Sets how each container's equipment is read this run (staging `read_mode`). The diagram is
 * read in a --full run, for a container never read or whose listed record changed since (a
 * stored field, or any field of the listing by its digest, see sameListedDigestSql), for
 * today's slice (unless read in the last RECHECK_MIN_AGE_HOURS) and for any read more than
 * EQUIPMENT_RECHECK_DAYS ago, and for every
 * container when the platform cannot read the occupancy alone (or service splitters are not
 * synced). Otherwise the occupancy is read for a container that held service splitters and
 * for every box that is not a splice box (a service splitter may be added to a terminal box
 * any day, and a customer bound to it must show the next morning); splice boxes and poles
 * that held only distribution equipment reuse what is stored, like bare poles.
 */
async function planEquipmentReads(ctx: PullContext): Promise<void> {
  const slice = Math.floor(Date.now() / 86_400_000) % EQUIPMENT_RECHECK_DAYS;
  const occupancy = ctx.selection.serviceSplitters && typeof ctx.adapter.portOccupancy === 'function';
  for (const [table, kind, filter] of [
    [ctx.tables.boxes, 'box', 'true'],
    [ctx.tables.poles, 'pole', 'c.equipment_read'],
  ] as const) {
    const servesCustomers = kind === 'box' ? `(r.service_equipment OR c.kind <> 'splice')` : 'r.service_equipment';
    // A correlated lookup by primary key per container: one plan whatever the statistics say.
    await ctx.db.query(
      `UPDATE ${table} c SET read_mode =
         CASE WHEN $1::bool OR NOT $3::bool THEN 'diagram'
              ELSE coalesce((
                SELECT CASE WHEN r.content_hash <> ${equipmentReadHashSql(kind, equipmentSelectionKey(ctx.selection))}
                              OR NOT ${sameListedDigestSql('r', 'c')}
                              OR r.read_at < now() - make_interval(days => ${EQUIPMENT_RECHECK_DAYS})
                              OR ((hashtext(c.external_id) & 2147483647) % ${EQUIPMENT_RECHECK_DAYS} = $2
                                  AND r.read_at < now() - make_interval(hours => ${RECHECK_MIN_AGE_HOURS})) THEN 'diagram'
                            WHEN ${servesCustomers} THEN 'occupancy'
                            ELSE 'stored' END
                  FROM sync_equipment_reads r
                 WHERE r.integration_id = $4 AND r.container_kind = '${kind}' AND r.container_external_id = c.external_id), 'diagram') END
        WHERE ${filter}`,
      [ctx.full, slice, occupancy, ctx.integrationId],
    );
  }
}

/**
 * Where service equipment can appear without any read of a normal run seeing it: a splice box,
 * a pole that held only distribution equipment, a bare pole. Asks the platform once (a paged
 * listing over a circle around every staged container) which containers hold service
 * equipment, and sends to a diagram read each listed one that, as stored, holds none: a
 * service splitter moved, added or flagged there shows the same night. Returns whether the
 * platform answered; null from a --full run (it reads everything) or a platform without it.
 */
async function readServiceEquipmentHolders(ctx: PullContext): Promise<boolean | null> {
  if (ctx.full || !ctx.selection.serviceSplitters || !ctx.adapter.serviceEquipmentHolders) return null;
  const [area] = await ctx.db.query<{ lat: number | null; lon: number | null; radius: number | null }>(
    `WITH items AS (SELECT geom FROM ${ctx.tables.poles} UNION ALL SELECT geom FROM ${ctx.tables.boxes}),
          centre AS (SELECT ST_SetSRID(ST_MakePoint(avg(ST_X(geom)), avg(ST_Y(geom))), 4326) AS geom FROM items)
     SELECT ST_Y(c.geom) AS lat, ST_X(c.geom) AS lon,
            (SELECT max(ST_Distance(i.geom::geography, c.geom::geography)) FROM items i) AS radius
       FROM centre c`,
  );
  if (!area || area.lat === null || area.lon === null || area.radius === null) return null;
  // A margin over the farthest container: rounding on either side never leaves one out.
  const ids = await ctx.adapter.serviceEquipmentHolders({ lat: area.lat, lon: area.lon, radiusMeters: area.radius + 100 });
  if (ids === null) return false;
  for (let i = 0; i < ids.length; i += STAGE_BATCH) {
    await ctx.db.query(`INSERT INTO ${ctx.tables.serviceHolders} (external_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, [ids.slice(i, i + STAGE_BATCH)]);
  }
  await ctx.db.query(`ANALYZE ${ctx.tables.serviceHolders}`);
  for (const [table, kind] of [
    [ctx.tables.boxes, 'box'],
    [ctx.tables.poles, 'pole'],
  ] as const) {
    await ctx.db.query(
      `UPDATE ${table} c SET read_mode = 'diagram'${kind === 'pole' ? ', equipment_read = true' : ''}
        WHERE c.read_mode IS DISTINCT FROM 'diagram'
          AND c.external_id IN (SELECT external_id FROM ${ctx.tables.serviceHolders})
          AND NOT EXISTS (
                SELECT 1 FROM boxes bx
                  JOIN splitters spl ON spl.box_id = bx.id AND spl.removed_at IS NULL
                                    AND spl.role = 'service' AND spl.container_external_id = c.external_id
                 WHERE bx.integration_id = $1 AND bx.removed_at IS NULL
                   AND bx.external_id = ${kind === 'box' ? 'c.external_id' : `'${AUTO_BOX_PREFIX}' || c.external_id`})`,
      [ctx.integrationId],
    );
  }
  return true;
}

/**
 * A stored service splitter that no read of this run shows, though its container is still
 * listed, was moved, flagged distribution, or deleted. A --full run reads everything, so there
 * it is gone. A normal run can say so only when the platform's listing of service-equipment
 * holders was answered and complete (it names every container where a service splitter was
 * read this run): each listed container was read, so the splitter is nowhere. Otherwise it
 * is kept as stored, with its ports and customers, and the run reports it; a later run that
 * can see it settles it.
 */
async function keepServiceSplittersNotFound(ctx: PullContext, listed: boolean | null): Promise<void> {
  if (ctx.full || !ctx.selection.serviceSplitters) return;
  if (listed === true) {
    const [gap] = await ctx.db.query<{ missing: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${ctx.tables.splitters} s
                       WHERE s.role = 'service'
                         AND NOT EXISTS (SELECT 1 FROM ${ctx.tables.serviceHolders} h WHERE h.external_id = s.container_external_id)) AS missing`,
    );
    if (!gap?.missing) return;
  }
  const notFound = await ctx.db.query<{ external_id: string; container_external_id: string; container_kind: string }>(
    `INSERT INTO ${ctx.tables.splitters} (external_id, container_external_id, container_kind, box_external_id, name, role, ratio_in, ratio_out, keep, reused)
     SELECT spl.external_id, spl.container_external_id, CASE WHEN bx.auto THEN 'pole' ELSE 'box' END, bx.external_id,
            spl.name, spl.role, spl.ratio_in, spl.ratio_out, true, true
       FROM splitters spl
       JOIN boxes bx ON bx.id = spl.box_id AND bx.removed_at IS NULL
      WHERE spl.integration_id = $1 AND spl.removed_at IS NULL AND spl.role = 'service'
        AND NOT EXISTS (SELECT 1 FROM ${ctx.tables.splitters} s WHERE s.external_id = spl.external_id)
        AND CASE WHEN bx.auto THEN EXISTS (SELECT 1 FROM ${ctx.tables.poles} p WHERE p.external_id = spl.container_external_id)
                 ELSE EXISTS (SELECT 1 FROM ${ctx.tables.boxes} b WHERE b.external_id = spl.container_external_id) END
     ON CONFLICT (external_id) DO NOTHING
     RETURNING external_id, container_external_id, container_kind`,
    [ctx.integrationId],
  );
  if (notFound.length === 0) return;
  await ctx.db.query(
    `INSERT INTO ${ctx.tables.ports} (external_id, splitter_external_id, number, label, available, customer_external_id, customer_name, keep)
     SELECT p.external_id, spl.external_id, p.number, p.label, p.available,
            CASE WHEN seen.customer IS NULL THEN p.platform_customer_external_id END, CASE WHEN seen.customer IS NULL THEN pc.name END, true
       FROM splitters spl
       JOIN ports p ON p.splitter_id = spl.id AND p.removed_at IS NULL
       LEFT JOIN platform_customers pc ON pc.integration_id = $1 AND pc.external_id = p.platform_customer_external_id
       -- A customer this run saw on a port of its own is there now, not on the kept one.
       LEFT JOIN (SELECT DISTINCT o.customer_external_id AS customer FROM ${ctx.tables.ports} o WHERE o.customer_external_id IS NOT NULL) seen
              ON seen.customer = p.platform_customer_external_id
      WHERE spl.integration_id = $1 AND spl.external_id = ANY($2::text[])
     ON CONFLICT (external_id) DO NOTHING`,
    [ctx.integrationId, notFound.map((s) => s.external_id)],
  );
  const why = listed === null ? 'the platform cannot list where service equipment is' : listed ? 'the listing of service equipment was incomplete' : 'the platform did not answer the listing of service equipment';
  for (const splitter of notFound) {
    await ctx.issues.add({
      kind: 'splitters',
      externalId: splitter.external_id,
      code: 'splitter_not_found',
      reason:
        `service splitter ${splitter.external_id} no longer shows in ${splitter.container_kind} ${splitter.container_external_id} and ${why}, ` +
        `so it may have moved where this run did not read: it is kept as stored until a run finds it or a --full run confirms it is gone`,
    });
  }
}

/**
 * Reads the occupancy of the containers planned so, then sends to a diagram read every one
 * whose service ports disagree with what is stored: a port or equipment id new, vanished or
 * moved (both the container it left and the one it is in), a position, label or equipment
 * name that differs, a stored service splitter without ports, or the container gone. A
 * container that holds no service splitter and shows no service port agrees.
 */
async function pullOccupancy(ctx: PullContext, staging: StagingWriter): Promise<void> {
  if (!ctx.adapter.portOccupancy) return;
  // Containers the platform no longer knows, or whose ports show an unstorable id: read in full.
  const gone: { kind: 'box' | 'pole'; id: string }[] = [];
  let rows: StagedOccupancy[] = [];
  const writer = new OverlappedWriter();
  const flush = () => {
    const batch = rows;
    rows = [];
    return writer.submit(() => staging.occupancy(batch));
  };
  for await (const batch of ctx.adapter.portOccupancy(containersToRead(ctx, 'occupancy'))) {
    checkAbort(ctx.signal);
    if (ctx.requests && batch.length > 0) ctx.requests.occupancyReads ??= 'per_item';
    for (const { container, ports } of batch) {
      if (ports === null) {
        gone.push({ kind: container.kind, id: container.externalId });
        continue;
      }
      for (const listedPort of ports) {
        const { record: port, cleaned, badIds } = cleanRecordText(listedPort);
        if (badIds.length > 0) {
          // The diagram read rejects that port with an issue.
          gone.push({ kind: container.kind, id: container.externalId });
          break;
        }
        if (cleaned.length > 0) await noteCleaned(ctx, 'ports', port.portExternalId, cleaned);
        rows.push({
          containerKind: container.kind,
          containerExternalId: container.externalId,
          portExternalId: port.portExternalId,
          splitterExternalId: port.splitterExternalId,
          splitterName: port.splitterName ?? null,
          number: port.number ?? null,
          label: port.label ?? null,
          labelGiven: port.label !== undefined,
          available: port.available,
          customerExternalId: port.customer?.externalId ?? null,
          customerName: port.customer?.name ?? null,
        });
      }
    }
    if (rows.length >= STAGE_BATCH) await flush();
  }
  await flush();
  await writer.drain();
  ctx.progress.detail(null);
  // Joined port by port to the stored ports: indexed whatever the planner guesses.
  await ctx.db.query(`CREATE INDEX ON ${ctx.tables.occupancy} (port_external_id)`);
  await ctx.db.query(`ANALYZE ${ctx.tables.occupancy}`);

  for (const [table, kind] of [
    [ctx.tables.boxes, 'box'],
    [ctx.tables.poles, 'pole'],
  ] as const) {
    const goneHere = gone.filter((g) => g.kind === kind).map((g) => g.id);
    if (goneHere.length > 0) {
      await ctx.db.query(`UPDATE ${table} SET read_mode = 'diagram' WHERE external_id = ANY($1::text[])`, [goneHere]);
    }
    await ctx.db.query(
      `WITH known AS (
         SELECT c.external_id AS container, p.external_id AS port, spl.external_id AS splitter,
                spl.name AS splitter_name, p.number, p.label
           FROM ${table} c
           JOIN boxes bx ON bx.integration_id = $1 AND bx.removed_at IS NULL
                        AND bx.external_id = ${kind === 'box' ? 'c.external_id' : `'${AUTO_BOX_PREFIX}' || c.external_id`}
           JOIN splitters spl ON spl.box_id = bx.id AND spl.removed_at IS NULL
                             AND spl.role = 'service' AND spl.container_external_id = c.external_id
           LEFT JOIN ports p ON p.splitter_id = spl.id AND p.removed_at IS NULL
          WHERE c.read_mode = 'occupancy'
       ), seen AS (
         SELECT o.* FROM ${ctx.tables.occupancy} o WHERE o.container_kind = '${kind}'
       ), differing AS (
         -- A port that moved differs in both containers: the one it left and the one it is in.
         SELECT k.container AS was_in, s.container_external_id AS is_in
           FROM known k
           FULL JOIN seen s ON s.port_external_id = k.port
          WHERE k.port IS NULL OR s.port_external_id IS NULL
             OR k.container <> s.container_external_id
             OR (s.splitter_external_id IS NOT NULL AND s.splitter_external_id <> k.splitter)
             OR (s.splitter_name IS NOT NULL AND s.splitter_name IS DISTINCT FROM k.splitter_name)
             OR (s.number IS NOT NULL AND s.number <> k.number)
             OR (s.label_given AND s.label IS DISTINCT FROM k.label)
       )
       UPDATE ${table} c SET read_mode = 'diagram'
        WHERE c.read_mode = 'occupancy'
          AND c.external_id IN (SELECT was_in FROM differing WHERE was_in IS NOT NULL
                                UNION SELECT is_in FROM differing WHERE is_in IS NOT NULL)`,
      [ctx.integrationId],
    );
  }
}

/**
 * Stages, for the containers whose equipment was not read in full, the equipment stored at
 * the last run: every splitter, and the ports of service splitters with the customer and
 * availability the occupancy read just showed. Runs after the diagram reads, so an id a
 * diagram returned wins.
 */
async function stageStoredEquipment(ctx: PullContext): Promise<void> {
  const { selection } = ctx;
  for (const [table, kind] of [
    [ctx.tables.boxes, 'box'],
    [ctx.tables.poles, 'pole'],
  ] as const) {
    const boxOf = kind === 'box' ? 'c.external_id' : `'${AUTO_BOX_PREFIX}' || c.external_id`;
    await ctx.db.query(
      `INSERT INTO ${ctx.tables.splitters} (external_id, container_external_id, container_kind, box_external_id, name, role, ratio_in, ratio_out, keep, reused, planned)
       SELECT spl.external_id, c.external_id, '${kind}', bx.external_id, spl.name, spl.role, spl.ratio_in, spl.ratio_out,
              CASE WHEN spl.role = 'service' THEN $2::bool ELSE $3::bool END, true, spl.planned
         FROM ${table} c
         JOIN boxes bx ON bx.integration_id = $1 AND bx.removed_at IS NULL AND bx.external_id = ${boxOf}
         JOIN splitters spl ON spl.box_id = bx.id AND spl.removed_at IS NULL AND spl.container_external_id = c.external_id
        WHERE c.read_mode IN ('occupancy', 'stored')
       ON CONFLICT (external_id) DO NOTHING`,
      [ctx.integrationId, selection.serviceSplitters, selection.distributionSplitters],
    );
    if (!selection.serviceSplitters) continue;
    await ctx.db.query(`ANALYZE ${ctx.tables.splitters}`);
    // Driven from the occupancy rows: pullOccupancy has just checked that, for a container
    // still in 'occupancy' mode, they are exactly its stored service ports. A splitter staged
    // as reused was staged just above from this very container (a diagram read wins its id).
    await ctx.db.query(
      `INSERT INTO ${ctx.tables.ports} (external_id, splitter_external_id, number, label, available, customer_external_id, customer_name, keep, planned)
       SELECT p.external_id, spl.external_id, p.number, CASE WHEN o.label_given THEN o.label ELSE p.label END,
              coalesce(o.available, CASE WHEN o.customer_external_id IS NOT NULL THEN false END, p.available),
              o.customer_external_id, o.customer_name, true, p.planned
         FROM ${ctx.tables.occupancy} o
         JOIN ${table} c ON c.external_id = o.container_external_id AND c.read_mode = 'occupancy'
         JOIN ports p ON p.integration_id = $1 AND p.external_id = o.port_external_id AND p.removed_at IS NULL
         JOIN splitters spl ON spl.id = p.splitter_id AND spl.removed_at IS NULL
                           AND spl.role = 'service' AND spl.container_external_id = c.external_id
         JOIN boxes bx ON bx.id = spl.box_id AND bx.removed_at IS NULL AND bx.external_id = ${boxOf}
         JOIN ${ctx.tables.splitters} s ON s.external_id = spl.external_id AND s.reused
        WHERE o.container_kind = '${kind}'
       ON CONFLICT (external_id) DO NOTHING`,
      [ctx.integrationId],
    );
  }
}

/** Containers handed to the adapter at a time: small, so the progress counts them as they go. */
const HANDOFF_CHUNK = 20;

/**
 * The containers to read in the given mode, handed to the adapter a few at a time while the
 * progress says how many of how many have been handed over (an adapter asks for the next
 * ones once it has started reading the previous ones).
 */
async function* containersToRead(ctx: PullContext, mode: Exclude<ReadMode, 'stored'>): AsyncGenerator<ContainerRef[]> {
  const [row] = await ctx.db.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM ${ctx.tables.boxes} c WHERE ${readModeFilter(ctx, 'box', mode)}) + (SELECT count(*) FROM ${ctx.tables.poles} c WHERE ${readModeFilter(ctx, 'pole', mode)}) AS n`,
  );
  const total = Number(row?.n ?? 0);
  const what = mode === 'diagram' ? 'reading equipment' : 'reading port occupancy';
  let handed = 0;
  ctx.progress.detail(`${what}: 0 of ${total} containers`);
  for await (const batch of stagedContainers(ctx, mode)) {
    for (let i = 0; i < batch.length; i += HANDOFF_CHUNK) {
      const chunk = batch.slice(i, i + HANDOFF_CHUNK);
      yield chunk;
      handed += chunk.length;
      ctx.progress.detail(`${what}: ${handed} of ${total} containers`);
    }
  }
}

/** Staged containers (`c`) to read in the mode: for occupancy, not those the batch read showed unchanged. */
function readModeFilter(ctx: PullContext, kind: 'box' | 'pole', mode: Exclude<ReadMode, 'stored'>): string {
  const filter = `c.read_mode = '${mode}'`;
  return mode === 'occupancy' ? `${filter} AND NOT ${reusedByPortCountsSql(ctx.tables.portCounts, kind, 'c')}` : filter;
}

/** The containers to read in the given mode, from staging in id order, a batch at a time. */
async function* stagedContainers(ctx: PullContext, mode: Exclude<ReadMode, 'stored'>): AsyncGenerator<ContainerRef[]> {
  for (const [table, kind] of [
    [ctx.tables.boxes, 'box'],
    [ctx.tables.poles, 'pole'],
  ] as const) {
    let after = '';
    for (;;) {
      checkAbort(ctx.signal);
      const rows = await ctx.db.query<{ external_id: string }>(
        `SELECT external_id FROM ${table} c WHERE ${readModeFilter(ctx, kind, mode)} AND external_id > $1 ORDER BY external_id LIMIT ${CONTAINER_BATCH}`,
        [after],
      );
      if (rows.length === 0) break;
      after = (rows[rows.length - 1] as { external_id: string }).external_id;
      yield rows.map((row) => ({ externalId: row.external_id, kind }));
      if (rows.length < CONTAINER_BATCH) break;
    }
  }
}

async function pullEquipment(ctx: PullContext, staging: StagingWriter): Promise<void> {
  const { selection } = ctx;
  let splitters: StagedSplitter[] = [];
  let ports: StagedPort[] = [];
  const writer = new OverlappedWriter();
  const flush = () => {
    const [splitterBatch, portBatch] = [splitters, ports];
    splitters = [];
    ports = [];
    return writer.submit(() => staging.equipment(splitterBatch, portBatch));
  };

  for await (const page of ctx.adapter.splitters(containersToRead(ctx, 'diagram'))) {
    checkAbort(ctx.signal);
    await recordRejections(ctx, page.rejected, 'equipment');
    for (const listed of page.items) {
      ctx.progress.fetched('splitters', 1);
      const bare = await storableText(ctx, 'splitters', listed.externalId, { ...listed, ports: [] as PlatformPort[] });
      if (bare === null) continue;
      const splitter: PlatformSplitter = { ...bare, ports: listed.ports };
      const problem = splitterProblem(splitter);
      if (problem) {
        await reject(ctx, 'splitters', splitter.externalId, 'bad_value', problem);
        continue;
      }
      const keep = splitter.role === 'service' ? selection.serviceSplitters : selection.distributionSplitters;
      const boxExternalId = splitter.containerKind === 'pole' ? autoBoxExternalId(splitter.containerExternalId) : splitter.containerExternalId;
      const staged: StagedSplitter = { splitter, boxExternalId, keep };
      splitters.push(staged);
      // Ports are kept for service splitters: they are what customers are bound to.
      if (!keep || splitter.role !== 'service') continue;
      // A diagram read takes the container's port occupancy with it, one container at a time.
      if (ctx.requests) ctx.requests.occupancyReads ??= 'per_item';
      for (const listedPort of splitter.ports) {
        ctx.progress.fetched('ports', 1);
        const port = await storableText(ctx, 'ports', listedPort.externalId, listedPort);
        if (port === null) continue;
        const portProblem = portProblemOf(port);
        if (portProblem) {
          await reject(ctx, 'ports', port.externalId || null, 'bad_value', portProblem);
          continue;
        }
        ports.push({
          externalId: port.externalId,
          splitterExternalId: splitter.externalId,
          splitter: staged,
          number: port.number,
          label: port.label,
          available: port.available,
          customerExternalId: port.customer?.externalId ?? null,
          customerName: port.customer?.name ?? null,
          keep: true,
          planned: port.planned === true || splitter.planned === true,
        });
      }
    }
    if (splitters.length + ports.length >= STAGE_BATCH) await flush();
  }
  await flush();
  await writer.drain();
  const splitterDuplicates = await keyStaging(ctx.db, ctx.tables.splitters);
  if (splitterDuplicates.length > 0) {
    // The ports of a splitter not kept go with it, whatever their own ids.
    await ctx.db.query(`DELETE FROM ${ctx.tables.ports} WHERE splitter_arrival = ANY($1::int[])`, [splitterDuplicates.map((d) => d.arrival)]);
  }
  await rejectDuplicates(ctx, 'splitters', splitterDuplicates);
  await rejectDuplicates(ctx, 'ports', await keyStaging(ctx.db, ctx.tables.ports));
  ctx.progress.detail(null);
}

async function reject(ctx: PullContext, kind: string, externalId: string | null, code: string, reason: string): Promise<void> {
  ctx.progress.rejected(kind, 1);
  await ctx.issues.add({ kind, externalId, code, reason });
}

function splitterProblem(splitter: PlatformSplitter): string | null {
  if (!splitter.externalId) return 'splitter has no id';
  if (!Number.isInteger(splitter.ratioIn) || splitter.ratioIn < 1) return `splitter ${splitter.externalId} has no valid input port count (${String(splitter.ratioIn)})`;
  if (!Number.isInteger(splitter.ratioOut) || splitter.ratioOut < 1) return `splitter ${splitter.externalId} has no valid output port count (${String(splitter.ratioOut)})`;
  if (splitter.role !== 'service' && splitter.role !== 'distribution') return `splitter ${splitter.externalId} has an unknown role`;
  return null;
}

function portProblemOf(port: PlatformPort): string | null {
  if (!port.externalId) return 'port has no id';
  if (!Number.isInteger(port.number) || port.number < 1) return `port ${port.externalId} has no valid position (${String(port.number)})`;
  return null;
}

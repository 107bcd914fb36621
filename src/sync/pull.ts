import type { Page, PlatformPort, PlatformSplitter, Rejection } from '../domain/network.ts';
import type { ContainerRef, PlatformAdapter, PlatformScope } from '../platforms/platform-adapter.ts';
import type { RunConnection } from './run-connection.ts';
import type { RunIssuesWriter } from './run-issues.writer.ts';
import type { RunProgressTracker } from './run-progress.ts';
import { autoBoxExternalId, countKindOf, readsCustomers, type Selection } from './selection.ts';
import {
  stageBoxes,
  stageCustomers,
  stagePoles,
  stagePorts,
  stageSplitters,
  type StagedPort,
  type StagedSplitter,
  type StagingTables,
  POLE_CHECK_HASH_SQL,
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
  signal?: AbortSignal;
}

/**
 * A run that is not --full re-reads the equipment of a pole that carried none at its last
 * check only once in this many days (a slice of the poles each day, by id), unless the pole
 * itself changed. Boxes are always read.
 */
export const BARE_POLE_RECHECK_DAYS = 7;

/** Containers handed to the adapter per batch; read from staging, never all held at once. */
const CONTAINER_BATCH = 1000;
/** Rows per INSERT into staging. */
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
  await pullList(ctx, 'poles', ctx.adapter.poles(ctx.scope), (items) => stagePoles(ctx.db, ctx.tables.poles, items));
  await pullList(ctx, 'boxes', ctx.adapter.boxes(ctx.scope), (items) => stageBoxes(ctx.db, ctx.tables.boxes, items));
  await ctx.db.query(`ANALYZE ${ctx.tables.poles}`);
  await ctx.db.query(`ANALYZE ${ctx.tables.boxes}`);
  if (ctx.selection.serviceSplitters || ctx.selection.distributionSplitters) {
    await markPolesToRead(ctx);
    await pullEquipment(ctx);
  }
  if (readsCustomers(ctx.selection)) {
    await pullList(ctx, 'customers', ctx.adapter.customers(ctx.scope), (items) => stageCustomers(ctx.db, ctx.tables.customers, items));
  }
}

async function pullList<T extends { externalId: string }>(
  ctx: PullContext,
  kind: 'poles' | 'boxes' | 'customers',
  pages: AsyncIterable<Page<T>>,
  stage: (items: T[]) => Promise<string[]>,
): Promise<void> {
  let batch: T[] = [];
  const writer = new OverlappedWriter();
  const flush = () => {
    const full = batch;
    batch = [];
    return writer.submit(async () => rejectDuplicates(ctx, kind, await stage(full)));
  };
  for await (const page of pages) {
    checkAbort(ctx.signal);
    ctx.progress.fetched(kind, page.items.length);
    await recordRejections(ctx, page.rejected);
    batch.push(...page.items);
    if (batch.length >= STAGE_BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  await writer.drain();
}

async function recordRejections(ctx: PullContext, rejected: Rejection[]): Promise<void> {
  for (const rejection of rejected) {
    const kind = countKindOf(rejection.kind);
    ctx.progress.rejected(kind, 1);
    await ctx.issues.add({ kind, externalId: rejection.externalId, code: rejection.code, reason: rejection.reason });
  }
}

async function rejectDuplicates(ctx: PullContext, kind: string, ids: string[]): Promise<void> {
  for (const id of ids) {
    ctx.progress.rejected(kind, 1);
    await ctx.issues.add({ kind, externalId: id, code: 'duplicate_id', reason: `${kind} id ${id} was returned more than once; the first one was kept` });
  }
}

/**
 * Any pole may carry equipment, and reading it costs a call per pole: most poles carry none.
 * Poles read: all in a --full run; else those never checked, those that carried equipment,
 * those changed since their check, and today's slice of the rest.
 */
async function markPolesToRead(ctx: PullContext): Promise<void> {
  const slice = Math.floor(Date.now() / 86_400_000) % BARE_POLE_RECHECK_DAYS;
  await ctx.db.query(
    `UPDATE ${ctx.tables.poles} p SET equipment_read = true
      WHERE $1::bool
         OR (hashtext(p.external_id) & 2147483647) % ${BARE_POLE_RECHECK_DAYS} = $2
         OR NOT EXISTS (
              SELECT 1 FROM sync_pole_checks c
               WHERE c.integration_id = $3 AND c.pole_external_id = p.external_id
                 AND NOT c.carries_equipment AND c.content_hash = ${POLE_CHECK_HASH_SQL})`,
    [ctx.full, slice, ctx.integrationId],
  );
}

/** The boxes and the poles to read, from staging in id order, a batch at a time. */
async function* stagedContainers(ctx: PullContext): AsyncGenerator<ContainerRef[]> {
  for (const [table, kind, filter] of [
    [ctx.tables.boxes, 'box', 'true'],
    [ctx.tables.poles, 'pole', 'equipment_read'],
  ] as const) {
    let after = '';
    for (;;) {
      checkAbort(ctx.signal);
      const rows = await ctx.db.query<{ external_id: string }>(
        `SELECT external_id FROM ${table} WHERE ${filter} AND external_id > $1 ORDER BY external_id LIMIT ${CONTAINER_BATCH}`,
        [after],
      );
      if (rows.length === 0) break;
      after = (rows[rows.length - 1] as { external_id: string }).external_id;
      yield rows.map((row) => ({ externalId: row.external_id, kind }));
      if (rows.length < CONTAINER_BATCH) break;
    }
  }
}

async function pullEquipment(ctx: PullContext): Promise<void> {
  const { selection } = ctx;
  let splitters: StagedSplitter[] = [];
  let ports: StagedPort[] = [];
  const writer = new OverlappedWriter();
  const flush = () => {
    const [splitterBatch, portBatch] = [splitters, ports];
    splitters = [];
    ports = [];
    return writer.submit(async () => {
      await rejectDuplicates(ctx, 'splitters', await stageSplitters(ctx.db, ctx.tables.splitters, splitterBatch));
      await rejectDuplicates(ctx, 'ports', await stagePorts(ctx.db, ctx.tables.ports, portBatch));
    });
  };

  for await (const page of ctx.adapter.splitters(stagedContainers(ctx))) {
    checkAbort(ctx.signal);
    await recordRejections(ctx, page.rejected);
    for (const splitter of page.items) {
      ctx.progress.fetched('splitters', 1);
      const problem = splitterProblem(splitter);
      if (problem) {
        await reject(ctx, 'splitters', splitter.externalId, 'bad_value', problem);
        continue;
      }
      const keep = splitter.role === 'service' ? selection.serviceSplitters : selection.distributionSplitters;
      const boxExternalId = splitter.containerKind === 'pole' ? autoBoxExternalId(splitter.containerExternalId) : splitter.containerExternalId;
      splitters.push({ splitter, boxExternalId, keep });
      // Ports are kept for service splitters: they are what customers are bound to.
      if (!keep || splitter.role !== 'service') continue;
      for (const port of splitter.ports) {
        ctx.progress.fetched('ports', 1);
        const portProblem = portProblemOf(port);
        if (portProblem) {
          await reject(ctx, 'ports', port.externalId || null, 'bad_value', portProblem);
          continue;
        }
        ports.push({
          externalId: port.externalId,
          splitterExternalId: splitter.externalId,
          number: port.number,
          label: port.label,
          available: port.available,
          customerExternalId: port.customer?.externalId ?? null,
          customerName: port.customer?.name ?? null,
          keep: true,
        });
      }
    }
    if (splitters.length + ports.length >= STAGE_BATCH) await flush();
  }
  await flush();
  await writer.drain();
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

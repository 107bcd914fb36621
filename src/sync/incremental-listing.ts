import type { Knex } from 'knex';
import type { Page, PlatformBox, PlatformCustomer, PlatformPole, PlatformSplitter, Rejection } from '../domain/network.ts';
import {
  eachContainer,
  type ContainerOccupancy,
  type ContainerRef,
  type ListOptions,
  type PlatformAdapter,
  type PlatformScope,
  type PortTie,
  type TrackedKind,
} from '../platforms/platform-adapter.ts';
import { EQUIPMENT_RECHECK_DAYS } from './pull.ts';

/**
 * Incremental reads: on a platform that filters on update time (OZmap, as its own ERP
 * integrations poll "updated after"), a normal run lists only the records changed since the
 * last listing, and still hands the sync a complete listing. The adapter's listings are
 * wrapped here; pull, staging and merge see the same complete pages as ever.
 *
 * Per kind (poles, boxes, customers, and the equipment: splitters and the ties of customers
 * to ports), with the listing cache `sync_listing_cache` (the records as last listed):
 *   1. count: one `limit=1` request gives the platform's total now;
 *   2. list the records changed since the last listing's start (and the last successful run's
 *      start, whichever is older) minus CLOCK_SKEW_MARGIN_MS; each is staged and cached;
 *   3. removals are invisible in such a listing: when the total before, plus the records
 *      created since, minus the total now is not 0, every id is read (ids only), and the
 *      cached records whose id is gone are dropped: the merge then sees them removed, under
 *      the mass-removal guard like any removal;
 *   4. the cached records the listing did not show are unchanged: they are handed on as if listed.
 * A `--full` run, a kind never listed in full, a platform that gives no total, a kind not
 * listed in full for EQUIPMENT_RECHECK_DAYS (the weekly recheck), and the run after one that
 * failed once it had listed (its cache may lack records its merge never removed) list
 * everything, and the cache is rebuilt from that listing.
 *
 * Equipment is read as two flat listings of the scope (every splitter, every tie), and the
 * equipment and port occupancy of each container are answered from the cache: no read per
 * container. A platform without ChangeTracking is read as before.
 */

/** Listed from this much before the last listing started: the platform's clock may run behind ours. */
export const CLOCK_SKEW_MARGIN_MS = 10 * 60_000;
/** Cached records handed on per page. */
const RESTAGE_PAGE = 2000;

export interface IncrementalContext {
  knex: Knex;
  integrationId: string;
  runId: string;
  /** A --full run lists everything. */
  full: boolean;
  scope: PlatformScope;
  /** Told once per kind how it was read (for the run log). */
  onListed?(kind: TrackedKind, how: ListingOutcome): void;
}

export interface ListingOutcome {
  mode: 'full' | 'changes';
  /** Records the platform listed (changed ones, in a `changes` listing). */
  listed: number;
  /** Cached records handed on unchanged. */
  reused: number;
  /** Cached records found gone by their ids. */
  removed: number;
  /** Whether every id was read to find removals. */
  idsRead: boolean;
}

interface ListingState {
  listed_from: Date;
  full_at: Date;
  total: string | number | null;
  run_id: string | null;
}

/**
 * The adapter a run reads through: the same adapter when it has no ChangeTracking, else one
 * whose listings are completed from the cache as described above. Errors: the adapter's own.
 */
export function incrementalAdapter(adapter: PlatformAdapter, ctx: IncrementalContext): PlatformAdapter {
  const tracking = adapter.changeTracking;
  if (!tracking) return adapter;
  const listing = new TrackedListing(adapter, ctx);
  const view = Object.create(adapter) as PlatformAdapter;
  return Object.assign(view, {
    poles: (scope: PlatformScope) => listing.list<PlatformPole>('poles', (options) => adapter.poles(scope, options)),
    boxes: (scope: PlatformScope) => listing.list<PlatformBox>('boxes', (options) => adapter.boxes(scope, options)),
    customers: (scope: PlatformScope) => listing.list<PlatformCustomer>('customers', (options) => adapter.customers(scope, options)),
    splitters: (containers: AsyncIterable<ContainerRef[]> | ContainerRef[]) => listing.splitters(containers),
    portOccupancy: (containers: AsyncIterable<ContainerRef[]> | ContainerRef[]) => listing.portOccupancy(containers),
    // The whole scope's equipment is listed: every container holding service equipment is known.
    serviceEquipmentHolders: () => listing.serviceEquipmentHolders(),
  });
}

class TrackedListing {
  /** Loaded once per run, on the first equipment read: ties by port, and the listing's rejections. */
  private equipment: Promise<{ tiesByPort: Map<string, { externalId: string; name: string | null }>; rejected: Rejection[] }> | null = null;

  constructor(
    private readonly adapter: PlatformAdapter,
    private readonly ctx: IncrementalContext,
  ) {}

  /**
   * A complete listing of the kind: the pages the platform gives (all, or the changes), then
   * the cached records it did not list and that are not gone.
   */
  async *list<T extends { externalId: string }>(kind: TrackedKind, read: (options: ListOptions) => AsyncIterable<Page<T>>, containerOf?: (item: T) => string | null): AsyncGenerator<Page<T>> {
    const { knex, integrationId, runId } = this.ctx;
    const tracking = this.adapter.changeTracking!;
    const state = (await knex('sync_listing_state').where({ integration_id: integrationId, kind }).first()) as ListingState | undefined;
    const startedAt = new Date();
    const total = await tracking.count(kind, this.ctx.scope);
    let since = total === null ? undefined : await this.changedSince(state);
    let created = 0;
    let listed = 0;
    for await (const page of read(since ? { changedSince: since } : {})) {
      // An adapter that ignored changedSince listed everything.
      if (since && !page.changes) since = undefined;
      created += page.changes?.created ?? 0;
      listed += page.items.length;
      await this.cache(kind, page.items, page.rejected, containerOf);
      yield page;
    }

    let removed = 0;
    let idsRead = false;
    if (!since) {
      removed = await knex('sync_listing_cache').where({ integration_id: integrationId, kind }).whereNot('listed_run_id', runId).delete();
    } else if (Number(state!.total) + created - total! !== 0) {
      idsRead = true;
      const ids: string[] = [];
      for await (const chunk of tracking.ids(kind, this.ctx.scope)) ids.push(...chunk);
      removed = Number(
        (
          await knex.raw(
            `DELETE FROM sync_listing_cache WHERE integration_id = ? AND kind = ? AND listed_run_id <> ? AND NOT (external_id = ANY(?::text[]))`,
            [integrationId, kind, runId, ids],
          )
        ).rowCount ?? 0,
      );
    }

    let reused = 0;
    if (since) {
      for await (const items of this.cachedNotListed<T>(kind)) {
        reused += items.length;
        yield { items, rejected: [] };
      }
    }
    await knex('sync_listing_state')
      .insert({ integration_id: integrationId, kind, listed_from: startedAt, full_at: since ? state!.full_at : startedAt, total, run_id: runId })
      .onConflict(['integration_id', 'kind'])
      .merge(['listed_from', 'full_at', 'total', 'run_id']);
    this.ctx.onListed?.(kind, { mode: since ? 'changes' : 'full', listed, reused, removed, idsRead });
  }

  /** The equipment of the given boxes, from the cached listing of every splitter with the customer of each port. */
  async *splitters(containers: AsyncIterable<ContainerRef[]> | ContainerRef[]): AsyncGenerator<Page<PlatformSplitter>> {
    const { tiesByPort, rejected } = await this.loadEquipment();
    let first = true;
    for await (const chunk of chunks(containers)) {
      const items = await this.cachedSplitters(chunk, tiesByPort);
      yield { items, rejected: first ? rejected : [] };
      first = false;
    }
    if (first && rejected.length > 0) yield { items: [], rejected };
  }

  /** The service ports of the given containers, from the same cached listings. */
  async *portOccupancy(containers: AsyncIterable<ContainerRef[]> | ContainerRef[]): AsyncGenerator<ContainerOccupancy[]> {
    const { tiesByPort } = await this.loadEquipment();
    for await (const chunk of chunks(containers)) {
      const splitters = await this.cachedSplitters(chunk, tiesByPort);
      yield chunk.map((container) => ({
        container,
        ports: splitters
          .filter((s) => s.containerExternalId === container.externalId && s.containerKind === container.kind && s.role === 'service')
          .flatMap((s) =>
            s.ports.map((port) => ({
              portExternalId: port.externalId,
              splitterExternalId: s.externalId,
              splitterName: s.name,
              number: port.number,
              label: port.label,
              available: port.available,
              customer: port.customer,
            })),
          ),
      }));
    }
  }

  /** Every container of the scope holding a service splitter, from the cached listing of every splitter. */
  async serviceEquipmentHolders(): Promise<string[]> {
    await this.loadEquipment();
    return (await this.ctx.knex('sync_listing_cache')
      .where({ integration_id: this.ctx.integrationId, kind: 'splitters' })
      .whereRaw(`record->>'role' = 'service'`)
      .distinct()
      .pluck('container_external_id')) as string[];
  }

  private loadEquipment() {
    this.equipment ??= (async () => {
      const tracking = this.adapter.changeTracking!;
      const rejected: Rejection[] = [];
      const drain = async <T extends { externalId: string }>(pages: AsyncIterable<Page<T>>) => {
        for await (const page of pages) rejected.push(...page.rejected);
      };
      await drain(this.list<PlatformSplitter>('splitters', (options) => tracking.splitters(this.ctx.scope, options), (s) => s.containerExternalId));
      await drain(this.list<PortTie>('portTies', (options) => tracking.portTies(this.ctx.scope, options)));
      const tiesByPort = new Map<string, { externalId: string; name: string | null }>();
      for await (const ties of this.cachedAll<PortTie>('portTies')) {
        for (const tie of ties) {
          if (!tie.customer) continue;
          for (const port of tie.ports) {
            if (!tiesByPort.has(port)) tiesByPort.set(port, tie.customer);
            else if (tiesByPort.get(port)!.externalId !== tie.customer.externalId) {
              rejected.push({ kind: 'port', externalId: port, code: 'duplicate_id', reason: `port ${port} is tied to customer ${tiesByPort.get(port)!.externalId} and to customer ${tie.customer.externalId} (tie ${tie.externalId}); the first is kept` });
            }
          }
        }
      }
      return { tiesByPort, rejected };
    })();
    return this.equipment;
  }

  private async cachedSplitters(chunk: ContainerRef[], tiesByPort: Map<string, { externalId: string; name: string | null }>): Promise<PlatformSplitter[]> {
    if (chunk.length === 0) return [];
    const wanted = new Set(chunk.map((c) => `${c.kind}:${c.externalId}`));
    const rows = (await this.ctx.knex('sync_listing_cache')
      .where({ integration_id: this.ctx.integrationId, kind: 'splitters' })
      .whereIn('container_external_id', [...new Set(chunk.map((c) => c.externalId))])
      .orderBy('external_id')
      .select('record')) as { record: PlatformSplitter }[];
    const inChunk = rows.filter(({ record }) => wanted.has(`${record.containerKind}:${record.containerExternalId}`));
    return inChunk.map(({ record }) => ({
      ...record,
      ports: record.ports.map((port) => {
        const customer = tiesByPort.get(port.externalId);
        return customer ? { ...port, customer: { ...customer }, available: false } : port;
      }),
    }));
  }

  /** Since when to list: null for a complete listing (see the module comment). */
  private async changedSince(state: ListingState | undefined): Promise<Date | undefined> {
    if (this.ctx.full || !state || state.total === null || state.run_id === null) return undefined;
    const now = Date.now();
    if (now - new Date(state.full_at).getTime() >= EQUIPMENT_RECHECK_DAYS * 86_400_000) return undefined;
    // The run that listed last failed after its listing (the mass-removal guard, an outage): the
    // cache may lack records its merge never removed, so this run lists everything again.
    const listedBy = (await this.ctx.knex('sync_runs').where({ id: state.run_id }).first('status')) as { status: string } | undefined;
    if (listedBy?.status !== 'succeeded') return undefined;
    const lastSuccess = (await this.ctx.knex('sync_runs')
      .where({ integration_id: this.ctx.integrationId, status: 'succeeded' })
      .orderBy('started_at', 'desc')
      .first('started_at')) as { started_at: Date | null } | undefined;
    if (!lastSuccess?.started_at) return undefined;
    const from = Math.min(new Date(state.listed_from).getTime(), new Date(lastSuccess.started_at).getTime());
    return new Date(from - CLOCK_SKEW_MARGIN_MS);
  }

  private async cache<T extends { externalId: string }>(kind: TrackedKind, items: T[], rejected: Rejection[], containerOf?: (item: T) => string | null): Promise<void> {
    const { knex, integrationId, runId } = this.ctx;
    if (items.length > 0) {
      await knex.raw(
        `INSERT INTO sync_listing_cache (integration_id, kind, external_id, container_external_id, record, listed_run_id)
         SELECT ?, ?, t.id, t.container, t.record, ?::uuid
           FROM unnest(?::text[], ?::text[], ?::jsonb[]) AS t(id, container, record)
         ON CONFLICT (integration_id, kind, external_id) DO UPDATE
            SET container_external_id = EXCLUDED.container_external_id, record = EXCLUDED.record, listed_run_id = EXCLUDED.listed_run_id`,
        [
          integrationId,
          kind,
          runId,
          items.map((i) => i.externalId),
          items.map((i) => containerOf?.(i) ?? null) as string[],
          items.map((i) => JSON.stringify(i)),
        ],
      );
    }
    // A record rejected now is not handed on from the cache at the next run either.
    const gone = rejected.map((r) => r.externalId).filter((id): id is string => id !== null);
    if (gone.length > 0) {
      await knex('sync_listing_cache').where({ integration_id: integrationId, kind }).whereIn('external_id', gone).whereNot('listed_run_id', runId).delete();
    }
  }

  private async *cachedNotListed<T>(kind: TrackedKind): AsyncGenerator<T[]> {
    yield* this.cachedPages<T>(kind, true);
  }

  private async *cachedAll<T>(kind: TrackedKind): AsyncGenerator<T[]> {
    yield* this.cachedPages<T>(kind, false);
  }

  private async *cachedPages<T>(kind: TrackedKind, notListedNow: boolean): AsyncGenerator<T[]> {
    let after = '';
    for (;;) {
      let query = this.ctx.knex('sync_listing_cache').where({ integration_id: this.ctx.integrationId, kind }).where('external_id', '>', after);
      if (notListedNow) query = query.whereNot('listed_run_id', this.ctx.runId);
      const rows = (await query.orderBy('external_id').limit(RESTAGE_PAGE).select('external_id', 'record')) as { external_id: string; record: T }[];
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.external_id;
      yield rows.map((row) => row.record);
      if (rows.length < RESTAGE_PAGE) return;
    }
  }
}

/** Containers answered from the cache per query: the sync hands them over a few at a time. */
const CONTAINER_BATCH = 500;

async function* chunks(containers: AsyncIterable<ContainerRef[]> | ContainerRef[]): AsyncGenerator<ContainerRef[]> {
  let batch: ContainerRef[] = [];
  for await (const container of eachContainer(containers)) {
    batch.push(container);
    if (batch.length >= CONTAINER_BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Page, PlatformPole } from '../../src/domain/network.ts';
import type { ListOptions, PlatformAdapter, PlatformScope, TrackedKind } from '../../src/platforms/platform-adapter.ts';
import { CLOCK_SKEW_MARGIN_MS, incrementalAdapter, type ListingOutcome } from '../../src/sync/incremental-listing.ts';
import { EQUIPMENT_RECHECK_DAYS } from '../../src/sync/pull.ts';
import { ensureIntegrations, queueRun } from '../../src/sync/sync-runs.repository.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { integrationConfig } from './fixtures/sync-harness.ts';

/**
 * Incremental listings on real PostGIS, with a platform that filters on update time: what
 * each run asks for, what it hands the sync, and when it lists everything instead.
 */

const ID = 'incr';
const SCOPE: PlatformScope = { projectExternalIds: ['p'] };

interface Stored {
  id: string;
  createdAt: number;
  updatedAt: number;
}

/** A platform holding poles, answering `changedSince` unless told to ignore it. */
class FakePlatform {
  poles = new Map<string, Stored>();
  calls: string[] = [];
  ignoresSince = false;
  givesTotal = true;
  private last = 0;

  /** Creates or edits a pole at `at` (default now; never twice at the same millisecond). */
  put(id: string, at = Date.now()): void {
    const now = (this.last = Math.max(at, this.last + 1));
    const existing = this.poles.get(id);
    this.poles.set(id, { id, createdAt: existing?.createdAt ?? now, updatedAt: now });
  }

  adapter(): PlatformAdapter {
    const platform = this;
    const pole = (s: Stored): PlatformPole => ({ externalId: s.id, projectExternalId: 'p', name: `${s.id}@${s.updatedAt}`, lon: -47, lat: -22, observation: null });
    return {
      platform: 'fake',
      listProjects: async () => [],
      async *poles(_scope: PlatformScope, options: ListOptions = {}): AsyncIterable<Page<PlatformPole>> {
        const since = platform.ignoresSince ? undefined : options.changedSince?.getTime();
        platform.calls.push(since === undefined ? 'list poles' : 'list poles changed');
        const rows = [...platform.poles.values()].filter((s) => since === undefined || s.updatedAt > since);
        yield {
          items: rows.map(pole),
          rejected: [],
          ...(since === undefined ? {} : { changes: { created: rows.filter((s) => s.createdAt > since).length } }),
        };
      },
      boxes: async function* () {},
      splitters: async function* () {},
      customers: async function* () {},
      findCustomerByIntegrationCode: async () => null,
      createCustomer: async () => assert.fail('no writes'),
      updateCustomer: async () => assert.fail('no writes'),
      portCustomer: async () => null,
      bind: async () => undefined,
      unbind: async () => undefined,
      changeTracking: {
        count: async (kind: TrackedKind) => {
          platform.calls.push(`count ${kind}`);
          return platform.givesTotal ? platform.poles.size : null;
        },
        async *ids(kind: TrackedKind) {
          platform.calls.push(`ids ${kind}`);
          yield [...platform.poles.keys()];
        },
        splitters: async function* () {},
        portTies: async function* () {},
      },
    };
  }
}

describe('incremental listings', () => {
  let db: TestDatabase;
  let platform: FakePlatform;
  let outcome: ListingOutcome | null;

  before(async () => {
    db = await createTestDatabase();
    await ensureIntegrations(db.knex, [integrationConfig({ id: ID })]);
  });
  after(async () => {
    await db.destroy();
  });
  beforeEach(async () => {
    await db.knex('sync_listing_cache').delete();
    await db.knex('sync_listing_state').delete();
    await db.knex('sync_runs').delete();
    platform = new FakePlatform();
    // Drawn an hour ago: well before any listing and its clock-skew margin.
    for (const id of ['a', 'b', 'c', 'd']) platform.put(id, Date.now() - 3_600_000);
  });

  /** One run: lists the poles through the wrapper and ends the run with `status`. */
  async function run(options: { full?: boolean; status?: 'succeeded' | 'failed' } = {}): Promise<string[]> {
    const queued = await queueRun(db.knex, { integrationId: ID, trigger: 'manual' });
    await db.knex('sync_runs').where({ id: queued.id }).update({ status: 'running', started_at: db.knex.fn.now() });
    platform.calls = [];
    outcome = null;
    const adapter = incrementalAdapter(platform.adapter(), {
      knex: db.knex,
      integrationId: ID,
      runId: queued.id,
      full: options.full ?? false,
      scope: SCOPE,
      onListed: (_kind, how) => (outcome = how),
    });
    const names: string[] = [];
    for await (const page of adapter.poles(SCOPE)) names.push(...page.items.map((p) => p.name!));
    await db.knex('sync_runs').where({ id: queued.id }).update({ status: options.status ?? 'succeeded', finished_at: db.knex.fn.now() });
    return names.sort();
  }

  const ids = (names: string[]) => names.map((n) => n.split('@')[0]);

  test('the first run lists everything; the next lists only changes and hands on the rest unchanged', async () => {
    const first = await run();
    assert.deepEqual(ids(first), ['a', 'b', 'c', 'd']);
    assert.deepEqual(platform.calls, ['count poles', 'list poles']);
    assert.equal(outcome?.mode, 'full');

    const second = await run();
    assert.deepEqual(second, first, 'the same records, as last listed');
    assert.deepEqual(platform.calls, ['count poles', 'list poles changed']);
    assert.deepEqual(outcome, { mode: 'changes', listed: 0, reused: 4, removed: 0, idsRead: false });
  });

  test('an edit is listed, a creation is counted, and a removal is found by the count, then by the ids', async () => {
    await run();
    platform.put('b');
    platform.put('e');
    const edited = await run();
    assert.deepEqual(ids(edited), ['a', 'b', 'c', 'd', 'e']);
    assert.equal(edited.find((n) => n.startsWith('b@')), `b@${platform.poles.get('b')!.updatedAt}`, 'the edited record as it is now');
    assert.deepEqual(platform.calls, ['count poles', 'list poles changed'], 'the count agrees: no ids read');
    assert.deepEqual(outcome, { mode: 'changes', listed: 2, reused: 3, removed: 0, idsRead: false });

    platform.poles.delete('c');
    platform.put('f'); // created as one is removed: the count alone would balance
    const removed = await run();
    assert.deepEqual(ids(removed), ['a', 'b', 'd', 'e', 'f']);
    assert.deepEqual(platform.calls, ['count poles', 'list poles changed', 'ids poles']);
    // b and e again (changed within the clock-skew margin before the last listing), and f.
    assert.deepEqual(outcome, { mode: 'changes', listed: 3, reused: 2, removed: 1, idsRead: true });
  });

  test('after a run that failed once it had listed (the mass-removal guard), the next run lists everything', async () => {
    await run();
    const hidden = new Map(platform.poles);
    platform.poles.clear();
    assert.deepEqual(await run({ status: 'failed' }), []);
    for (const [id, pole] of hidden) platform.poles.set(id, pole);
    assert.deepEqual(ids(await run()), ['a', 'b', 'c', 'd'], 'the poles the platform shows again are back, unchanged as they are');
    assert.deepEqual(platform.calls, ['count poles', 'list poles']);
  });

  test('--full, the weekly recheck, a platform without a total, and one that ignores changedSince list everything', async () => {
    await run();
    await run({ full: true });
    assert.equal(outcome?.mode, 'full');

    await db.knex('sync_listing_state').update({ full_at: new Date(Date.now() - EQUIPMENT_RECHECK_DAYS * 86_400_000 - 1000) });
    await run();
    assert.equal(outcome?.mode, 'full', 'the weekly recheck');
    await run();
    assert.equal(outcome?.mode, 'changes');

    platform.givesTotal = false;
    await run();
    assert.deepEqual(platform.calls, ['count poles', 'list poles']);
    platform.givesTotal = true;

    await run();
    platform.ignoresSince = true;
    platform.poles.delete('a');
    assert.deepEqual(ids(await run()), ['b', 'c', 'd']);
    assert.deepEqual(outcome, { mode: 'full', listed: 3, reused: 0, removed: 1, idsRead: false });
  });

  test('changes are asked from before the last listing by the clock-skew margin', async () => {
    await run();
    const seen: Date[] = [];
    const adapter = platform.adapter();
    const queued = await queueRun(db.knex, { integrationId: ID, trigger: 'manual' });
    const state = await db.knex('sync_listing_state').where({ integration_id: ID, kind: 'poles' }).first();
    const wrapped = incrementalAdapter(
      {
        ...adapter,
        poles: (scope: PlatformScope, options?: ListOptions) => {
          if (options?.changedSince) seen.push(options.changedSince);
          return adapter.poles(scope, options);
        },
      },
      { knex: db.knex, integrationId: ID, runId: queued.id, full: false, scope: SCOPE },
    );
    for await (const _ of wrapped.poles(SCOPE));
    assert.equal(seen.length, 1);
    assert.ok(seen[0]!.getTime() <= new Date(state.listed_from).getTime() - CLOCK_SKEW_MARGIN_MS);
  });
});

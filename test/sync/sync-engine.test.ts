import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { getRun, runIssues } from '../../src/sync/sync-runs.repository.ts';
import { FakePlatform, addEquipment, box, customer, pole, splitter } from './fixtures/fake-platform.ts';
import { LAT, LON, sampleNetwork as network } from './fixtures/sample-network.ts';
import { createHarness, integrationConfig, nonZero } from './fixtures/sync-harness.ts';

describe('sync engine', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.destroy();
  });

  test('default kinds: service splitters with their ports, containers kept unselected, auto box, customers on ports', async () => {
    const platform = new FakePlatform(network());
    const h = await createHarness(db.knex, () => platform, integrationConfig({ id: 'defaults' }));
    const run = await h.sync();
    assert.equal(run.status, 'succeeded', run.error ?? '');
    assert.deepEqual(nonZero(run.counts), {
      poles: { created: 2 },
      boxes: { created: 3 },
      splitters: { created: 3 },
      ports: { created: 24 },
      customers: { created: 3 },
    });
    const poles = await db.knex('poles').where({ integration_id: 'defaults' }).orderBy('external_id').select('external_id', 'selected');
    assert.deepEqual(poles, [
      { external_id: 'P1', selected: false },
      { external_id: 'P4', selected: false },
    ]);
    const splitters = await db.knex('splitters').where({ integration_id: 'defaults' }).orderBy('external_id').pluck('external_id');
    assert.deepEqual(splitters, ['S1', 'S3', 'S4']);
    const customers = await db.knex('platform_customers').where({ integration_id: 'defaults' }).orderBy('external_id').pluck('external_id');
    assert.deepEqual(customers, ['C1', 'C2', 'C3']);
    const project = await db.knex('projects').where({ integration_id: 'defaults' }).first();
    assert.equal(project.external_id, '10');
    assert.equal(project.mode, 'link');
  });

  test('all kinds; a second run on unchanged data writes nothing', async () => {
    const platform = new FakePlatform(network());
    const h = await createHarness(
      db.knex,
      () => platform,
      integrationConfig({ id: 'all', elements: ['service_splitters', 'poles', 'boxes', 'distribution_splitters', 'customers'] }),
    );
    const first = await h.sync();
    assert.equal(first.status, 'succeeded', first.error ?? '');
    assert.deepEqual(nonZero(first.counts), {
      poles: { created: 5 },
      boxes: { created: 4 },
      splitters: { created: 4 },
      ports: { created: 24 },
      customers: { created: 4 },
    });
    const snapshot = async () => {
      const rows: Record<string, unknown[]> = {};
      for (const table of ['poles', 'boxes', 'splitters', 'ports', 'platform_customers']) {
        rows[table] = await db.knex(table).where({ integration_id: 'all' }).orderBy('id').select('id', 'external_id', 'updated_at', 'last_run_id', 'content_hash', 'removed_at');
      }
      // When each pole was last read is bookkeeping that every read refreshes; what was found is not.
      rows.poleChecks = await db.knex('sync_pole_checks').where({ integration_id: 'all' }).orderBy('pole_external_id').select('pole_external_id', 'content_hash', 'carries_equipment');
      rows.linkState = await db.knex('sync_link_state').where({ integration_id: 'all' }).select('*');
      rows.project = await db.knex('projects').where({ integration_id: 'all' }).select('*');
      return rows;
    };
    const before = await snapshot();

    const second = await h.sync();
    assert.equal(second.status, 'succeeded', second.error ?? '');
    assert.deepEqual(nonZero(second.counts), {
      poles: { unchanged: 5 },
      boxes: { unchanged: 4 },
      splitters: { unchanged: 4 },
      ports: { unchanged: 24 },
      customers: { unchanged: 4 },
    });
    assert.deepEqual(await snapshot(), before, 'no row was rewritten');

    // full: every row rewritten even though nothing changed.
    const full = await h.sync({ full: true });
    assert.equal(full.status, 'succeeded', full.error ?? '');
    assert.deepEqual(nonZero(full.counts).poles, { updated: 5 });
    assert.deepEqual(nonZero(full.counts).ports, { updated: 24 });
  });

  test('boxes hang on the platform pole, else the nearest pole within the radius, never beyond', async () => {
    const platform = new FakePlatform(network());
    const h = await createHarness(db.knex, () => platform, integrationConfig({ id: 'attach', elements: ['service_splitters', 'boxes', 'poles'] }));
    const run = await h.sync();
    assert.equal(run.status, 'succeeded', run.error ?? '');
    const boxes = await db
      .knex('boxes as b')
      .leftJoin('poles as p', 'p.id', 'b.pole_id')
      .where('b.integration_id', 'attach')
      .orderBy('b.external_id')
      .select('b.external_id', 'p.external_id as pole', 'b.pole_link', 'b.auto', 'b.kind');
    assert.deepEqual(boxes, [
      { external_id: 'B1', pole: 'P1', pole_link: 'platform', auto: false, kind: 'cto' },
      { external_id: 'B2', pole: 'P2', pole_link: 'nearest', auto: false, kind: 'splice' },
      { external_id: 'B3', pole: null, pole_link: null, auto: false, kind: 'cto' },
      { external_id: 'auto:pole:P4', pole: 'P4', pole_link: 'auto', auto: true, kind: 'cto' },
    ]);

    // A wider radius reaches P3 from B3 (10 m).
    await h.setIntegration(integrationConfig({ id: 'attach', elements: ['service_splitters', 'boxes', 'poles'], sync: { attachRadiusMeters: 12 } }));
    const wider = await h.sync();
    assert.equal(wider.status, 'succeeded', wider.error ?? '');
    assert.equal(wider.counts.boxes?.updated, 1);
    const b3 = await db.knex('boxes as b').join('poles as p', 'p.id', 'b.pole_id').where({ 'b.integration_id': 'attach', 'b.external_id': 'B3' }).first('p.external_id as pole', 'b.pole_link');
    assert.deepEqual(b3, { pole: 'P3', pole_link: 'nearest' });
  });

  test('auto boxes: created, stable over runs, removed when the pole no longer carries equipment', async () => {
    const n = network();
    const platform = new FakePlatform(n);
    const h = await createHarness(db.knex, () => platform, integrationConfig({ id: 'auto' }));
    assert.equal((await h.sync()).status, 'succeeded');
    const autoBox = await db.knex('boxes').where({ integration_id: 'auto', external_id: 'auto:pole:P4' }).first();
    assert.equal(autoBox.auto, true);
    const s3 = await db.knex('splitters').where({ integration_id: 'auto', external_id: 'S3' }).first();
    assert.equal(s3.box_id, autoBox.id);

    assert.equal((await h.sync()).status, 'succeeded');
    const again = await db.knex('boxes').where({ integration_id: 'auto', external_id: 'auto:pole:P4' }).first();
    assert.equal(again.id, autoBox.id, 'same row re-used');
    assert.equal(again.removed_at, null);

    n.equipment.delete('P4');
    // The pole is still listed: its auto box going is no loss to the mass-removal guard.
    const removed = await h.sync();
    assert.equal(removed.status, 'succeeded', removed.error ?? '');
    assert.equal(removed.counts.boxes?.removed, 1);
    const gone = await db.knex('boxes').where({ integration_id: 'auto', external_id: 'auto:pole:P4' }).first();
    assert.notEqual(gone.removed_at, null);
    assert.equal(gone.id, autoBox.id);
    const pole4 = await db.knex('poles').where({ integration_id: 'auto', external_id: 'P4' }).first();
    assert.notEqual(pole4.removed_at, null, 'the pole was only kept as the auto box container');

    // The equipment comes back: the same auto box row comes back. (The pole now counts as bare,
    // so a run that is not --full would only see it on the pole's recheck day.)
    addEquipment(n, splitter('S3', { id: 'P4', kind: 'pole' }, 'service', [null, 'C3']));
    const back = await h.sync({ full: true });
    assert.equal(back.status, 'succeeded', back.error ?? '');
    const restored = await db.knex('boxes').where({ integration_id: 'auto', external_id: 'auto:pole:P4' }).first();
    assert.equal(restored.id, autoBox.id);
    assert.equal(restored.removed_at, null);
  });

  test('rejected records become issues with codes and are counted', async () => {
    const n = network();
    n.rejected.poles.push({ kind: 'pole', externalId: 'PX', code: 'bad_coordinates', reason: 'coordinates are 0,0 (not placed on the map)' });
    n.rejected.customers.push({ kind: 'customer', externalId: null, code: 'missing_id', reason: 'customer has no id' });
    n.poles.push(pole('P1', LON, LAT, { name: 'again' })); // a repeated id, on another page
    addEquipment(n, { ...splitter('S9', { id: 'B1', kind: 'box' }, 'service'), ratioOut: 0 });
    const platform = new FakePlatform(n);
    const h = await createHarness(db.knex, () => platform, integrationConfig({ id: 'rejects' }));
    const run = await h.sync();
    assert.equal(run.status, 'succeeded', run.error ?? '');
    assert.equal(run.counts.poles?.rejected, 2);
    assert.equal(run.counts.splitters?.rejected, 1);
    assert.equal(run.counts.customers?.rejected, 1);
    const issues = await runIssues(db.knex, run.id);
    const codes = issues.filter((i) => i.code !== 'unmatched' && i.code !== 'document_mismatch' && i.code !== 'linked_by_document').map((i) => `${i.kind}:${i.externalId}:${i.code}`);
    assert.deepEqual(codes.sort(), ['customers:null:missing_id', 'poles:P1:duplicate_id', 'poles:PX:bad_coordinates', 'splitters:S9:bad_value'].sort());
  });

  test('an id returned twice keeps its first record, for every kind; a repeated splitter takes its own ports with it', async () => {
    const n = network();
    n.boxes.push(box('B1', LON + 0.003, LAT, { name: 'second B1' }));
    n.customers.push({ ...customer('C2', null, null), name: 'second C2' });
    // S1 again, in B3, with ports of its own ids: none of them may end up on the first S1.
    const again = splitter('S1', { id: 'B3', kind: 'box' }, 'service', ['C9'], 4);
    addEquipment(n, { ...again, ports: again.ports.map((p) => ({ ...p, externalId: `again-${p.externalId}` })) });
    // S4 (in B3, read after B1) lists a port id S1 already has.
    const s4 = n.equipment.get('B3')!.find((s) => s.externalId === 'S4')!;
    s4.ports[0] = { ...s4.ports[0]!, externalId: 'S1-p1', customer: { externalId: 'C3', name: 'x' } };
    const h = await createHarness(db.knex, () => new FakePlatform(n), integrationConfig({ id: 'repeats', elements: ['service_splitters', 'poles', 'boxes', 'customers'] }));
    const run = await h.sync();
    assert.equal(run.status, 'succeeded', run.error ?? '');
    const issues = await runIssues(db.knex, run.id);
    assert.deepEqual(
      issues.filter((i) => i.code === 'duplicate_id').map((i) => `${i.kind}:${i.externalId}`).sort(),
      ['boxes:B1', 'customers:C2', 'ports:S1-p1', 'splitters:S1'],
    );
    for (const kind of ['boxes', 'splitters', 'ports', 'customers'] as const) assert.equal(run.counts[kind]?.rejected, 1, kind);
    const b1 = await db.knex('boxes').where({ integration_id: 'repeats', external_id: 'B1' }).first();
    assert.equal(b1.name, 'CTOB1');
    const c2 = await db.knex('platform_customers').where({ integration_id: 'repeats', external_id: 'C2' }).first();
    assert.equal(c2.name, 'Cliente C2');
    const s1Ports = await db
      .knex('ports as p')
      .join('splitters as s', 's.id', 'p.splitter_id')
      .where({ 's.integration_id': 'repeats', 's.external_id': 'S1' })
      .orderBy('p.number')
      .select('p.external_id', 'p.platform_customer_external_id as customer');
    assert.equal(s1Ports.length, 8);
    assert.deepEqual(s1Ports.slice(0, 2), [
      { external_id: 'S1-p1', customer: 'C1' },
      { external_id: 'S1-p2', customer: 'C2' },
    ]);
    assert.equal(await db.knex('ports').where({ integration_id: 'repeats' }).where('external_id', 'like', 'again-%').first(), undefined);
    const s4Ports = await db.knex('ports as p').join('splitters as s', 's.id', 'p.splitter_id').where({ 's.integration_id': 'repeats', 's.external_id': 'S4' }).pluck('p.external_id');
    assert.equal(s4Ports.length, 7);
  });

  test('a platform that suddenly returns no poles fails the run by the guard and touches nothing; force merges', async () => {
    const n = network();
    const platform = new FakePlatform(n);
    const h = await createHarness(db.knex, () => platform, integrationConfig({ id: 'guard', elements: ['service_splitters', 'poles'] }));
    assert.equal((await h.sync()).status, 'succeeded');
    const before = await db.knex('poles').where({ integration_id: 'guard' }).orderBy('id').select('*');

    n.poles = [];
    const run = await h.sync();
    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', /would remove 5 of 5 poles \(100\.0%\).*--force/s);
    assert.deepEqual(await db.knex('poles').where({ integration_id: 'guard' }).orderBy('id').select('*'), before);
    const removedBoxes = await db.knex('boxes').where({ integration_id: 'guard' }).whereNotNull('removed_at').pluck('id');
    assert.deepEqual(removedBoxes, []);

    const forced = await h.sync({ force: true });
    assert.equal(forced.status, 'succeeded', forced.error ?? '');
    assert.equal(forced.counts.poles?.removed, 5);
    const live = await db.knex('poles').where({ integration_id: 'guard' }).whereNull('removed_at').count<{ count: number }[]>('* as count');
    assert.equal(Number(live[0]?.count), 0);
  });

  test('a platform failure fails the run with its message and keeps the previous state', async () => {
    const platform = new FakePlatform(network());
    const h = await createHarness(db.knex, () => platform, integrationConfig({ id: 'down' }));
    assert.equal((await h.sync()).status, 'succeeded');
    const before = await db.knex('splitters').where({ integration_id: 'down' }).orderBy('id').select('*');
    platform.failOn = 'splitters';
    const run = await h.sync();
    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', /diagrama\/equipamentos answered 500/);
    assert.notEqual(run.finishedAt, null);
    assert.deepEqual(await db.knex('splitters').where({ integration_id: 'down' }).orderBy('id').select('*'), before);
    platform.failOn = null;
    assert.equal((await h.sync()).status, 'succeeded');
  });

  test('a linked project that does not exist fails clearly; a created project exists in mapsync only', async () => {
    const platform = new FakePlatform(network());
    const missing = await createHarness(db.knex, () => platform, integrationConfig({ id: 'noproject', project: { link: 'Norte' } }));
    const run = await missing.sync();
    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', /project "Norte" \(project\.link\) does not exist/);

    const creating = await createHarness(db.knex, () => platform, integrationConfig({ id: 'creates', project: { create: 'Rede Nova' } }));
    const listedBefore = platform.calls.listProjects;
    assert.equal((await creating.sync()).status, 'succeeded');
    assert.equal((await creating.sync()).status, 'succeeded');
    // Not even looked up on the platform: the name belongs to mapsync.
    assert.equal(platform.calls.listProjects, listedBefore);
    assert.ok(!platform.network.projects.some((p) => p.name === 'Rede Nova'));
    const project = await db.knex('projects').where({ integration_id: 'creates' }).first();
    assert.equal(project.mode, 'create');
    assert.equal(project.name, 'Rede Nova');
    assert.equal(project.external_id, null);
    const poles = await db.knex('poles').where({ integration_id: 'creates' }).pluck('project_id');
    assert.ok(poles.length > 0 && poles.every((id) => Number(id) === Number(project.id)));
  });

  test('a cancelled run fails as cancelled and merges nothing', async () => {
    const platform = new FakePlatform(network());
    const h = await createHarness(db.knex, () => platform, integrationConfig({ id: 'cancelled' }));
    const { queueRun } = await import('../../src/sync/sync-runs.repository.ts');
    const { executeRun } = await import('../../src/sync/sync-engine.ts');
    const queued = await queueRun(db.knex, { integrationId: 'cancelled', trigger: 'manual' });
    const abort = new AbortController();
    abort.abort();
    const run = await executeRun(h.ctx, queued.id, { signal: abort.signal });
    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', /cancelled/);
    assert.deepEqual(await db.knex('poles').where({ integration_id: 'cancelled' }).pluck('id'), []);
  });

  test('progress is reported and the run record is complete', async () => {
    const platform = new FakePlatform(network());
    const h = await createHarness(db.knex, () => platform, integrationConfig({ id: 'progress' }));
    const { queueRun } = await import('../../src/sync/sync-runs.repository.ts');
    const { executeRun } = await import('../../src/sync/sync-engine.ts');
    const queued = await queueRun(db.knex, { integrationId: 'progress', trigger: 'cli' });
    assert.equal(queued.status, 'queued');
    const phases: string[] = [];
    const run = await executeRun(h.ctx, queued.id, { onProgress: (p) => phases.push(p.phase) });
    assert.equal(run.status, 'succeeded');
    assert.deepEqual([...new Set(phases)], ['pulling', 'validating', 'linking', 'merging', 'done']);
    const stored = await getRun(db.knex, queued.id);
    assert.equal(stored?.owner, 'test:1');
    assert.ok(stored?.startedAt && stored.finishedAt && stored.heartbeatAt);
    assert.equal(stored?.progress?.phase, 'done');
  });

  test('a run that is not --full skips reading bare poles until their recheck day; --full reads every pole', async () => {
    const n = network();
    const platform = new FakePlatform(n);
    const h = await createHarness(db.knex, () => platform, integrationConfig({ id: 'bare-poles' }));
    assert.equal((await h.sync()).status, 'succeeded');
    assert.equal(platform.calls.diagrams, 8, 'the first run reads 3 boxes and 5 poles');

    const slice = Math.floor(Date.now() / 86_400_000) % 7;
    const sliceOf = async (id: string) => Number((await db.knex.raw('SELECT (hashtext(?) & 2147483647) % 7 AS s', [id])).rows[0].s);
    const bare = ['P1', 'P2', 'P3', 'P5'];
    const dueToday: string[] = [];
    for (const id of bare) if ((await sliceOf(id)) === slice) dueToday.push(id);

    // Right after a run nothing more is due: the day's slice was read less than a day ago.
    platform.calls.diagrams = 0;
    assert.equal((await h.sync()).status, 'succeeded');
    assert.equal(platform.calls.diagrams, 3 + 1, 'boxes and the pole with equipment');

    // The next night, the bare poles of that day's slice are read again.
    await db.knex('sync_pole_checks').where({ integration_id: 'bare-poles' }).update({ checked_at: db.knex.raw("checked_at - interval '21 hours'") });
    platform.calls.diagrams = 0;
    assert.equal((await h.sync()).status, 'succeeded');
    assert.equal(platform.calls.diagrams, 3 + 1 + dueToday.length, 'boxes, the pole with equipment, and the bare poles due today');

    // Service equipment mounted on a bare pole that is not due: the platform lists the pole as
    // holding service equipment, so the normal run reads that pole (and no other bare one).
    const notDue = bare.find((id) => !dueToday.includes(id));
    if (notDue) {
      addEquipment(n, splitter('S7', { id: notDue, kind: 'pole' }, 'service'));
      platform.calls.diagrams = 0;
      const seen = await h.sync();
      assert.equal(seen.status, 'succeeded', seen.error ?? '');
      assert.equal(seen.counts.splitters?.created, 1);
      assert.equal(platform.calls.diagrams, 3 + 1 + 1, 'boxes, the pole with equipment, and the pole listed as holding service equipment');
      const autoBox = await db.knex('boxes').where({ integration_id: 'bare-poles', external_id: `auto:pole:${notDue}` }).first();
      assert.equal(autoBox?.auto, true);
      const full = await h.sync({ full: true });
      assert.equal(full.counts.splitters?.created, 0, 'the normal run had it already');
      // From now on that pole carries equipment, so every run reads it.
      platform.calls.diagrams = 0;
      assert.equal((await h.sync()).status, 'succeeded');
      assert.equal(platform.calls.diagrams, 3 + 2, 'boxes and the two poles with equipment');
    }

    // A pole that changed (moved) is read again even when not due.
    const moved = bare.find((id) => !dueToday.includes(id) && id !== notDue);
    if (moved) {
      n.poles = n.poles.map((p) => (p.externalId === moved ? { ...p, lat: p.lat + 0.00001 } : p));
      const before = platform.calls.diagrams;
      platform.calls.diagrams = 0;
      assert.equal((await h.sync()).status, 'succeeded');
      assert.ok(platform.calls.diagrams > 0 && before > 0);
      assert.equal(platform.calls.diagrams, before + 1);
    }
  });
});

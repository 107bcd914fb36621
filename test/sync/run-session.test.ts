import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { analyzeBulkChanges } from '../../src/sync/merge.ts';
import { RunConnection } from '../../src/sync/run-connection.ts';
import type { CountKind } from '../../src/sync/selection.ts';
import { prepareRunSession } from '../../src/sync/staging.ts';

type Counts = Record<CountKind, { created: number; updated: number; unchanged: number; removed: number }>;

function counts(overrides: Partial<Counts>): Counts {
  const none = { created: 0, updated: 0, unchanged: 0, removed: 0 };
  return { poles: none, boxes: none, splitters: none, ports: none, customers: none, ...overrides };
}

describe('the run session: planner settings and statistics', () => {
  let db: TestDatabase;
  let run: RunConnection;
  before(async () => {
    db = await createTestDatabase();
    // Only the run may analyze these tables during the test.
    for (const table of ['poles', 'sync_pole_checks', 'ports', 'platform_customers']) {
      await db.knex.raw(`ALTER TABLE ?? SET (autovacuum_enabled = false)`, [table]);
    }
    run = await RunConnection.open(db.knex);
  });
  after(async () => {
    await run?.close();
    await db?.destroy();
  });

  const setting = async (name: string) => (await run.query<{ v: string }>(`SELECT current_setting($1) AS v`, [name]))[0]?.v;
  const reltuples = async (table: string) =>
    Number((await run.query<{ n: number }>(`SELECT reltuples AS n FROM pg_class WHERE oid = to_regclass(current_schema() || '.' || $1)`, [table]))[0]?.n);

  test('staging is sampled lightly; work_mem is raised to 64MB but never lowered', async () => {
    await run.query(`SET work_mem = '4MB'`);
    await prepareRunSession(run);
    assert.equal(await setting('default_statistics_target'), '25');
    assert.equal(await setting('work_mem'), '64MB');

    await run.query(`SET work_mem = '256MB'`);
    await prepareRunSession(run);
    assert.equal(await setting('work_mem'), '256MB');
  });

  test('tables written in bulk are analyzed with the server target; lightly written ones are left to autovacuum', async () => {
    await prepareRunSession(run);
    const before = { poles: await reltuples('poles'), ports: await reltuples('ports') };
    assert.equal(before.poles, -1, 'a table never analyzed has no row estimate');
    assert.equal(before.ports, -1);

    const analyzed = await analyzeBulkChanges(
      run,
      counts({
        poles: { created: 5000, updated: 0, unchanged: 0, removed: 0 },
        // 10 of 100,010 written: under the 10% share.
        ports: { created: 0, updated: 10, unchanged: 100_000, removed: 0 },
        // 50% written, but under the 1000-row floor.
        customers: { created: 500, updated: 0, unchanged: 500, removed: 0 },
      }),
    );
    assert.deepEqual(analyzed, ['poles', 'sync_pole_checks']);
    assert.equal(await reltuples('poles'), 0, 'analyzed: the estimate is now the real (empty) size');
    assert.equal(await reltuples('ports'), -1);
    assert.equal(await reltuples('platform_customers'), -1);
    assert.notEqual(await setting('default_statistics_target'), '25');
  });

  test('a run that wrote nothing analyzes nothing', async () => {
    const analyzed = await analyzeBulkChanges(run, counts({ poles: { created: 0, updated: 0, unchanged: 150_000, removed: 0 } }));
    assert.deepEqual(analyzed, []);
  });
});

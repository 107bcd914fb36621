import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { migrateLatest, migrateRollbackAll, pendingMigrations } from '../../src/db/migrator.ts';

describe('migrations', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  after(async () => db.destroy());

  const tables = async () =>
    (
      await db.knex.raw(`SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1`, [db.schema])
    ).rows.map((r: { table_name: string }) => r.table_name);

  test('go up, down and up again on real PostGIS', async () => {
    assert.ok((await pendingMigrations(db.knex)).length > 0);
    await migrateLatest(db.knex);
    assert.deepEqual(await pendingMigrations(db.knex), []);
    const up = await tables();
    for (const t of ['poles', 'boxes', 'splitters', 'ports', 'platform_customers', 'erp_customers', 'service_contracts', 'bindings', 'push_outbox', 'sync_runs', 'sync_issues', 'projects', 'integrations']) {
      assert.ok(up.includes(t), `table ${t} exists`);
    }
    await migrateRollbackAll(db.knex);
    assert.deepEqual((await tables()).filter((t: string) => !t.startsWith('knex_')), []);
    await migrateLatest(db.knex);
    assert.deepEqual(await pendingMigrations(db.knex), []);
  });

  test('no table has two indexes alike (same table, method, columns and predicate)', async () => {
    const indexes = await db.knex.raw(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = ? ORDER BY indexname`, [db.schema]);
    const seen = new Map<string, string>();
    const duplicates: string[] = [];
    for (const row of indexes.rows as { tablename: string; indexname: string; indexdef: string }[]) {
      const shape = row.indexdef.replace(/^CREATE (UNIQUE )?INDEX \S+ ON /, (_m, unique: string | undefined) => `${unique ?? ''}ON `);
      const first = seen.get(shape);
      if (first) duplicates.push(`${row.tablename}: ${first} = ${row.indexname}`);
      else seen.set(shape, row.indexname);
    }
    assert.ok(seen.size > 10, 'indexes were read');
    assert.deepEqual(duplicates, []);
  });

  test('geometry columns are Point 4326 with GiST indexes', async () => {
    const geoms = await db.knex.raw(
      `SELECT f_table_name, type, srid FROM geometry_columns WHERE f_table_schema = ? ORDER BY 1`,
      [db.schema],
    );
    assert.ok(geoms.rows.length >= 4);
    for (const row of geoms.rows) {
      assert.equal(row.type, 'POINT');
      assert.equal(row.srid, 4326);
    }
    const gist = await db.knex.raw(
      `SELECT tablename FROM pg_indexes WHERE schemaname = ? AND indexdef ILIKE '%USING gist%'`,
      [db.schema],
    );
    const indexed = new Set(gist.rows.map((r: { tablename: string }) => r.tablename));
    for (const row of geoms.rows) assert.ok(indexed.has(row.f_table_name), `${row.f_table_name} has a GiST index`);
  });

  test('tables and columns carry comments for QGIS users', async () => {
    const missing = await db.knex.raw(
      `SELECT c.relname AS table_name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ? AND c.relkind = 'r' AND c.relname NOT LIKE 'knex_%'
          AND obj_description(c.oid, 'pg_class') IS NULL`,
      [db.schema],
    );
    assert.deepEqual(missing.rows, []);
    const geomComment = await db.knex.raw(
      `SELECT col_description(?::regclass, a.attnum) AS c FROM pg_attribute a WHERE a.attrelid = ?::regclass AND a.attname = 'geom'`,
      [`${db.schema}.poles`, `${db.schema}.poles`],
    );
    assert.match(geomComment.rows[0].c, /4326/);
  });

  test('the platform id is unique per integration', async () => {
    await db.knex('integrations').insert({ id: 'a', platform: 'simulator', api_url: 'https://x' });
    const pole = { integration_id: 'a', external_id: '1', content_hash: 'h', geom: db.knex.raw('ST_SetSRID(ST_MakePoint(-47, -22), 4326)') };
    await db.knex('poles').insert(pole);
    await assert.rejects(db.knex('poles').insert(pole), /unique/i);
  });
});

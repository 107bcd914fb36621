import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { demoRefusal } from '../../src/cli/cli-demo.ts';
import { DEMO_INTEGRATION_ID } from '../../src/service/demo.ts';
import { createTestDatabase, testDatabaseUrl, type TestDatabase } from '../helpers/test-database.ts';
import { mapsync } from '../helpers/cli-runner.ts';


describe('mapsync sync demo', () => {
  let db: TestDatabase;
  let emptyConfig: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    db = await createTestDatabase({ migrate: false });
    emptyConfig = mkdtempSync(path.join(tmpdir(), 'mapsync-no-config-'));
    env = { PATH: process.env.PATH, DATABASE_URL: testDatabaseUrl(), DATABASE_SCHEMA: db.schema, MAPSYNC_CONFIG_DIR: emptyConfig, MAPSYNC_DEMO_SIZE: '150' };
  });
  after(async () => {
    rmSync(emptyConfig, { recursive: true, force: true });
    await db?.destroy();
  });

  test('the rule: the demo runs with no integration configured, on the embedded database or when asked for', () => {
    const none = { integrations: [], scheduler: { enabled: true, catchUpMissedRuns: true }, runs: { concurrency: 2 } };
    const rows: [NodeJS.ProcessEnv, 'runs' | RegExp][] = [
      [{}, 'runs'],
      [{ MAPSYNC_DEMO: '1' }, 'runs'],
      [{ DATABASE_URL: 'postgres://db.example/erp', MAPSYNC_DEMO: '1' }, 'runs'],
      [{ DATABASE_URL: 'postgres://db.example/erp' }, /only on the embedded database, and DATABASE_URL is set/],
      [{ DATABASE_URL: 'postgres://db.example/erp', MAPSYNC_DEMO: 'yes' }, /MAPSYNC_DEMO=1/],
      [{ MAPSYNC_DEMO: '0' }, /disabled \(MAPSYNC_DEMO=0\)/],
    ];
    for (const [rowEnv, expected] of rows) {
      const refusal = demoRefusal(none, rowEnv);
      if (expected === 'runs') assert.equal(refusal, null, JSON.stringify(rowEnv));
      else assert.match(refusal ?? '', expected, JSON.stringify(rowEnv));
    }
  });

  test('with DATABASE_URL set, `sync demo` refuses (exit 2) and says how to ask for it; nothing is written', async () => {
    const result = await mapsync(['sync', DEMO_INTEGRATION_ID], env);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /cannot run the demo integration: .*DATABASE_URL is set.*MAPSYNC_DEMO=1/);
    const tables = await db.knex.raw(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = ?`, [db.schema]);
    assert.equal(tables.rows[0].n, 0, 'not even migrated');
  });

  test('MAPSYNC_DEMO=0 refuses too', async () => {
    const result = await mapsync(['sync', 'demo'], { ...env, MAPSYNC_DEMO: '0' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /MAPSYNC_DEMO=0/);
  });

  test('asked for with MAPSYNC_DEMO=1, `sync demo` runs the demo integration against its simulator (exit 0)', async () => {
    const result = await mapsync(['sync', 'demo', '--json'], { ...env, MAPSYNC_DEMO: '1' });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const run = JSON.parse(result.stdout);
    assert.equal(run.status, 'succeeded');
    assert.equal(run.integrationId, 'demo');
    assert.ok(run.counts.poles.created > 0);
    const linked = await db.knex('platform_customers').where({ integration_id: 'demo' }).whereIn('link_status', ['linked', 'linked_by_document']).count<{ n: string }[]>('* as n');
    assert.ok(Number(linked[0]?.n) > 0, 'the demo ERP contracts were loaded, so customers link');
  });

  test('switched to OZmap on the same database, `sync demo` syncs the OZmap demo into its own integration; the GeoGrid one is untouched', async () => {
    const poles = () => db.knex('poles').where({ integration_id: 'demo' }).whereNull('removed_at').count<{ n: string }[]>('* as n');
    const before = Number((await poles())[0]?.n);
    assert.ok(before > 0, 'the GeoGrid demo was synced first');
    const result = await mapsync(['sync', 'demo', '--json'], { ...env, MAPSYNC_DEMO: '1', MAPSYNC_DEMO_PLATFORM: 'ozmap' });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const run = JSON.parse(result.stdout);
    assert.equal(run.status, 'succeeded', run.error);
    assert.equal(run.integrationId, 'demo-ozmap');
    assert.equal(Number((await poles())[0]?.n), before);
    const wrong = await mapsync(['sync', 'demo-ozmap'], { ...env, MAPSYNC_DEMO: '1' });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /MAPSYNC_DEMO_PLATFORM=ozmap/);
  });

  test('with an integration configured, "demo" is just an unknown id', async () => {
    const config = mkdtempSync(path.join(tmpdir(), 'mapsync-config-'));
    try {
      writeFileSync(
        path.join(config, 'isp.yaml'),
        'integrations:\n  - id: isp\n    platform: geogrid\n    apiUrl: https://example.invalid\n    token: t\n    project: { link: Centro }\n',
      );
      const result = await mapsync(['sync', 'demo'], { ...env, MAPSYNC_CONFIG_DIR: config, MAPSYNC_DEMO: '1' });
      assert.equal(result.code, 2);
      assert.match(result.stderr, /unknown integration "demo"; configured: isp/);
    } finally {
      rmSync(config, { recursive: true, force: true });
    }
  });
});

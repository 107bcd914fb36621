/**
 * The demo never touches a real database by itself: it runs on the embedded database, or
 * when MAPSYNC_DEMO=1 asks for it. A named config folder must exist, and the API token
 * must be long enough.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { apiTokenFromEnv, demoDecision, MIN_API_TOKEN_LENGTH } from '../../src/service/demo.ts';
import { startService } from '../../src/service/service.ts';
import { createTestDatabase, testDatabaseUrl, type TestDatabase } from '../helpers/test-database.ts';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

describe('demo mode', () => {
  test('the rule (table): [env, configured integrations] → demo?', () => {
    const cases: [NodeJS.ProcessEnv, number, boolean, string][] = [
      [{}, 0, true, 'embedded'],
      [{ DATABASE_URL: 'postgres://db/prod' }, 0, false, 'real_database'],
      [{ DATABASE_URL: 'postgres://db/prod', MAPSYNC_DEMO: '1' }, 0, true, 'asked'],
      [{ DATABASE_URL: 'postgres://db/prod', MAPSYNC_DEMO: ' 1 ' }, 0, true, 'asked'],
      [{ MAPSYNC_DEMO: '0' }, 0, false, 'disabled'],
      [{ DATABASE_URL: 'postgres://db/prod', MAPSYNC_DEMO: '0' }, 0, false, 'disabled'],
      [{ MAPSYNC_DEMO: '1' }, 2, false, 'integrations_configured'],
      [{}, 1, false, 'integrations_configured'],
      [{ DATABASE_URL: 'postgres://db/prod', MAPSYNC_DEMO: 'yes' }, 0, false, 'real_database'],
    ];
    for (const [env, integrations, demo, reason] of cases) {
      assert.deepEqual(demoDecision(env, integrations), { demo, reason }, JSON.stringify({ env, integrations }));
    }
  });

  test('the API token: unset is null, short is refused with the minimum, long enough is kept (table)', () => {
    assert.equal(apiTokenFromEnv({}), null);
    assert.equal(apiTokenFromEnv({ MAPSYNC_API_TOKEN: '   ' }), null);
    assert.equal(apiTokenFromEnv({ MAPSYNC_API_TOKEN: ' 0123456789abcdef ' }), '0123456789abcdef');
    for (const short of ['x', '123456789012345']) {
      assert.throws(() => apiTokenFromEnv({ MAPSYNC_API_TOKEN: short }), new RegExp(`${short.length} character\\(s\\) long: use at least ${MIN_API_TOKEN_LENGTH}`));
    }
  });

  describe('serve on a real database', () => {
    let db: TestDatabase;
    let emptyConfig: string;
    const env = () => ({ DATABASE_URL: testDatabaseUrl(), DATABASE_SCHEMA: db.schema, MAPSYNC_CONFIG_DIR: emptyConfig, MAPSYNC_DEMO_SIZE: '40' });
    const contracts = async () => Number((await db.knex('service_contracts').count({ n: '*' }).first())?.n);

    before(async () => {
      db = await createTestDatabase();
      emptyConfig = mkdtempSync(path.join(tmpdir(), 'mapsync-demo-config-'));
    });
    after(async () => {
      await db?.destroy();
      rmSync(emptyConfig, { recursive: true, force: true });
    });

    test('no integration, DATABASE_URL set, no token: refuses to start and writes nothing', async () => {
      await assert.rejects(startService({ env: env(), logger: silentLogger(), port: 0 }), /demo runs only on the embedded database.*MAPSYNC_DEMO=1/s);
      assert.equal(await contracts(), 0);
    });

    test('a config folder that does not exist is an error, whatever else is set', async () => {
      const missing = path.join(emptyConfig, 'typo');
      for (const extra of [{}, { MAPSYNC_DEMO: '1' }, { MAPSYNC_API_TOKEN: 'a'.repeat(32) }]) {
        await assert.rejects(
          startService({ env: { ...env(), MAPSYNC_CONFIG_DIR: missing, ...extra }, logger: silentLogger(), port: 0 }),
          (error: Error) => error.message.includes(`the config folder ${missing} does not exist`),
        );
      }
      assert.equal(await contracts(), 0);
    });

    test('a 1-character token is refused with a clear message', async () => {
      await assert.rejects(
        startService({ env: { ...env(), MAPSYNC_API_TOKEN: 'x' }, logger: silentLogger(), port: 0 }),
        /MAPSYNC_API_TOKEN is 1 character\(s\) long: use at least 16/,
      );
    });

    test('MAPSYNC_DEMO=1 asks for the demo on that database explicitly', async () => {
      const service = await startService({ env: { ...env(), MAPSYNC_DEMO: '1' }, logger: silentLogger(), port: 0 });
      try {
        assert.ok(service.demo, 'demo mode');
        assert.equal(service.apiToken, 'demo');
        assert.ok((await contracts()) > 0, 'the demo ERP contracts are loaded');
      } finally {
        await service.stop();
      }
    });
  });

  describe('mapsync config check', () => {
    const run = async (args: string[], env: NodeJS.ProcessEnv) => {
      const stdout = new Capture();
      const stderr = new Capture();
      const code = await main(['node', 'mapsync', ...args], { stdout, stderr, env });
      return { code, out: stdout.text + stderr.text };
    };

    test('a folder that does not exist is an error (exit 2), by --dir or MAPSYNC_CONFIG_DIR', async () => {
      const missing = path.join(tmpdir(), `mapsync-missing-${process.pid}`);
      for (const [args, env] of [
        [['config', 'check', '--dir', missing], {}],
        [['config', 'check'], { MAPSYNC_CONFIG_DIR: missing }],
        [['config', 'check', '--json'], { MAPSYNC_CONFIG_DIR: missing }],
      ] as [string[], NodeJS.ProcessEnv][]) {
        const result = await run(args, env);
        assert.equal(result.code, 2, result.out);
        assert.match(result.out, /does not exist/);
        assert.doesNotMatch(result.out, /valid \(0 file/);
      }
    });

    test('an empty folder is valid and says whether serve would start the demo', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'mapsync-empty-config-'));
      try {
        const embedded = await run(['config', 'check', '--dir', dir], {});
        assert.equal(embedded.code, 0);
        assert.match(embedded.out, /would start in demo mode/);
        const real = await run(['config', 'check', '--dir', dir], { DATABASE_URL: 'postgres://db/prod' });
        assert.equal(real.code, 0);
        assert.match(real.out, /would not start the demo/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

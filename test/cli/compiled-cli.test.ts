import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { pendingMigrations } from '../../src/db/migrator.ts';
import { MAPSYNC_BIN, PROJECT_ROOT } from '../helpers/child-process.ts';
import { createTestDatabase, NEEDS_REAL_POSTGRES, testDatabaseUrl, type TestDatabase } from '../helpers/test-database.ts';

const run = promisify(execFile);

function newestChange(dir: string): number {
  return Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newestChange(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs)));
}

/** `npm install`/`npm ci` build dist/ (bin/build.js, run by `prepare`); these tests need that build, current. */
const stamp = path.join(PROJECT_ROOT, 'dist', '.build-stamp');
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const compiledIsCurrent = built > 0 && newestChange(path.join(PROJECT_ROOT, 'src')) <= built && newestChange(path.join(PROJECT_ROOT, 'migrations')) <= built;
const SKIP = compiledIsCurrent ? NEEDS_REAL_POSTGRES : 'dist/ is missing or older than src/ (`npm run build`)';

describe('the compiled CLI (dist/)', { skip: SKIP }, () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  after(async () => {
    await db?.destroy();
  });

  test('bin/mapsync.js runs it: --help without the tsx notice, and the dashboard files are there', async () => {
    const { stdout, stderr } = await run(process.execPath, [MAPSYNC_BIN, '--help'], { cwd: PROJECT_ROOT });
    assert.match(stdout, /Usage: mapsync/);
    assert.equal(stderr, '');
    for (const file of ['index.html', 'app.js', 'style.css']) assert.ok(existsSync(path.join(PROJECT_ROOT, 'dist/src/http/dashboard', file)), file);
  });

  test('its `migrate` applies the compiled migrations under the names the sources use', async () => {
    const env = { ...process.env, DATABASE_URL: testDatabaseUrl(), DATABASE_SCHEMA: db.schema };
    const { stdout } = await run(process.execPath, [MAPSYNC_BIN, 'migrate'], { cwd: PROJECT_ROOT, env });
    const applied = stdout.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim());
    assert.ok(applied.length > 0, stdout);
    assert.ok(applied.every((name) => name.endsWith('.ts')), stdout);
    // The sources (run through tsx here) see nothing left to apply.
    assert.deepEqual(await pendingMigrations(db.knex), []);
  });
});

/**
 * A failure to reach the database says what failed (unreachable, authentication, database
 * missing, PostGIS missing), with no stack trace, on a real PostgreSQL.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.ts';
import { openDatabase } from '../../src/db/database.ts';
import { createKnex } from '../../src/db/knex-factory.ts';
import { DatabaseUnavailableError, type DatabaseProblem } from '../../src/db/postgis-check.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { isEmbeddedTestDatabase, testDatabaseUrl } from '../helpers/test-database.ts';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

function urlWith(change: (url: URL) => void): string {
  const url = new URL(testDatabaseUrl());
  change(url);
  return url.toString();
}

describe('database connection diagnosis', { skip: isEmbeddedTestDatabase ? 'needs a real PostgreSQL server to misconfigure' : false }, () => {
  const suffix = randomBytes(4).toString('hex');

  // [what is wrong, DATABASE_URL, expected problem, text the message must contain]
  const cases = (): [string, string, DatabaseProblem, RegExp][] => [
    ['a port nothing listens on', urlWith((u) => (u.port = '1')), 'unreachable', /PostgreSQL is unreachable: cannot connect to .*:1 .*ECONNREFUSED/],
    ['a host that does not exist', urlWith((u) => (u.hostname = `no-such-host-${suffix}.invalid`)), 'unreachable', /unreachable.*(ENOTFOUND|EAI_AGAIN)/],
    ['a user that does not exist', urlWith((u) => (u.username = `nobody_${suffix}`)), 'authentication', new RegExp(`refused the login .*user "nobody_${suffix}"`)],
    ['a database that does not exist', urlWith((u) => (u.pathname = `/missing_${suffix}`)), 'database_missing', new RegExp(`"missing_${suffix}" .*does not exist`)],
  ];

  test('each cause is named (table)', async () => {
    for (const [what, url, problem, message] of cases()) {
      await assert.rejects(openDatabase(silentLogger(), { DATABASE_URL: url }), (error: unknown) => {
        assert.ok(error instanceof DatabaseUnavailableError, `${what}: ${String(error)}`);
        assert.equal(error.problem, problem, what);
        assert.match(error.message, message, what);
        assert.doesNotMatch(error.message, /PostGIS/, `${what} is not about PostGIS`);
        return true;
      });
    }
  });

  test('a database without PostGIS (and no right to create it) is named as such', async () => {
    const role = `mapsync_plain_${suffix}`;
    const database = `mapsync_plain_${suffix}`;
    const admin = createKnex({ url: testDatabaseUrl() });
    await admin.raw(`CREATE ROLE ${role} LOGIN NOSUPERUSER`);
    await admin.raw(`CREATE DATABASE ${database} OWNER ${role}`);
    try {
      const url = urlWith((u) => {
        u.username = role;
        u.pathname = `/${database}`;
      });
      await assert.rejects(openDatabase(silentLogger(), { DATABASE_URL: url }), (error: unknown) => {
        assert.ok(error instanceof DatabaseUnavailableError);
        assert.equal(error.problem, 'postgis_missing');
        assert.match(error.message, /PostGIS is not available/);
        return true;
      });
    } finally {
      await admin.raw(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.raw(`DROP ROLE IF EXISTS ${role}`);
      await admin.destroy();
    }
  });

  test('the CLI prints the cause without a stack trace (exit 1)', async () => {
    for (const [what, url, , message] of cases().slice(0, 1).concat(cases().slice(2))) {
      const stderr = new Capture();
      const code = await main(['node', 'mapsync', 'migrate'], { stdout: new Capture(), stderr, env: { DATABASE_URL: url, LOG_LEVEL: 'silent' } });
      assert.equal(code, 1, what);
      assert.match(stderr.text, message, what);
      assert.doesNotMatch(stderr.text, /\n\s+at /, `${what}: no stack trace`);
    }
  });
});

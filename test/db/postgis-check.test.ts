import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createKnex } from '../../src/db/knex-factory.ts';
import { ensurePostgis, PostgisMissingError } from '../../src/db/postgis-check.ts';
import { isEmbeddedTestDatabase, testDatabaseUrl } from '../helpers/test-database.ts';

describe('PostGIS check', () => {
  test('a database where PostGIS cannot be created stops mapsync with how to install it', {
    skip: isEmbeddedTestDatabase ? 'the embedded database always has PostGIS' : false,
  }, async () => {
    // A role that may not create the (untrusted) postgis extension, in a database without it.
    const suffix = randomBytes(4).toString('hex');
    const role = `mapsync_nopostgis_${suffix}`;
    const database = `mapsync_nopostgis_${suffix}`;
    const admin = createKnex({ url: testDatabaseUrl() });
    await admin.raw(`CREATE ROLE ${role} LOGIN NOSUPERUSER`);
    await admin.raw(`CREATE DATABASE ${database} OWNER ${role}`);
    const url = new URL(testDatabaseUrl());
    url.username = role;
    url.pathname = `/${database}`;
    const restricted = createKnex({ url: url.toString() });
    try {
      await assert.rejects(ensurePostgis(restricted), (error: unknown) => {
        assert.ok(error instanceof PostgisMissingError);
        assert.match(error.message, /PostGIS is not available/);
        assert.match(error.message, /apt-get install postgresql-15-postgis-3/);
        assert.match(error.message, /unset DATABASE_URL/);
        return true;
      });
    } finally {
      await restricted.destroy();
      await admin.raw(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.raw(`DROP ROLE IF EXISTS ${role}`);
      await admin.destroy();
    }
  });

  test('an existing PostGIS is found and its version reported', async () => {
    const knex = createKnex({ url: testDatabaseUrl(), embedded: isEmbeddedTestDatabase });
    try {
      assert.match(await ensurePostgis(knex), /^\d+\.\d+/);
    } finally {
      await knex.destroy();
    }
  });
});

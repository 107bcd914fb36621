import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { createKnex } from '../../src/db/knex-factory.ts';
import { migrateLatest } from '../../src/db/migrator.ts';

export interface TestDatabase {
  knex: Knex;
  url: string;
  /** The schema this test file owns; pass it as DATABASE_SCHEMA to child processes. */
  schema: string;
  embedded: boolean;
  destroy(): Promise<void>;
}

export const isEmbeddedTestDatabase = process.env.TEST_DATABASE_EMBEDDED === '1';

/** Why a test that needs several database sessions cannot run on the embedded database. */
export const NEEDS_REAL_POSTGRES = isEmbeddedTestDatabase
  ? 'needs several database sessions; the embedded database serves one (set TEST_DATABASE_URL to run it)'
  : false;

export function testDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is unset: run the suite with `npm test`, which provides a database');
  return url;
}

/**
 * A fresh, migrated schema of its own, so test files never see each other's rows.
 * Dropped again by destroy().
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const url = testDatabaseUrl();
  const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = createKnex({ url, embedded: isEmbeddedTestDatabase });
  await admin.raw('CREATE EXTENSION IF NOT EXISTS postgis');
  await admin.raw('CREATE SCHEMA ??', [schema]);
  await admin.destroy();

  const knex = createKnex({ url, schema, embedded: isEmbeddedTestDatabase });
  if (options.migrate !== false) await migrateLatest(knex);
  return {
    knex,
    url,
    schema,
    embedded: isEmbeddedTestDatabase,
    async destroy() {
      await knex.raw('DROP SCHEMA ?? CASCADE', [schema]);
      await knex.destroy();
    },
  };
}

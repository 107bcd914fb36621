import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import type { Migration } from './migration.ts';

const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');
const MIGRATION_FILE = /^\d{14}_[a-z0-9_]+\.ts$/;

/** Loads migrations from `migrations/`, named by timestamp, in order. */
class TimestampedMigrationSource implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    return readdirSync(MIGRATIONS_DIR).filter((name) => MIGRATION_FILE.test(name)).sort();
  }
  getMigrationName(name: string): string {
    return name;
  }
  async getMigration(name: string): Promise<Knex.Migration> {
    const module = (await import(pathToFileURL(path.join(MIGRATIONS_DIR, name)).href)) as { default: Migration };
    return module.default;
  }
}

const migrationConfig = (): Knex.MigratorConfig => ({
  migrationSource: new TimestampedMigrationSource(),
  tableName: 'knex_migrations',
});

export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest(migrationConfig())) as [number, string[]];
  return applied;
}

export async function migrateRollbackAll(knex: Knex): Promise<string[]> {
  const [, reverted] = (await knex.migrate.rollback(migrationConfig(), true)) as [number, string[]];
  return reverted;
}

/** Migrations on disk that the database has not applied yet. */
export async function pendingMigrations(knex: Knex): Promise<string[]> {
  const [, pending] = (await knex.migrate.list(migrationConfig())) as [unknown[], { file: string }[]];
  return pending.map((entry) => entry.file);
}

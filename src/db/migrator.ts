import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import type { Migration } from './migration.ts';

const HERE = fileURLToPath(import.meta.url);
const MIGRATIONS_DIR = path.resolve(path.dirname(HERE), '../../migrations');
/**
 * Compiled (dist/, see bin/build.js) the migrations are .js files in dist/migrations; they keep
 * the .ts names the database has recorded, so a database migrated either way stays in step.
 */
const COMPILED = HERE.endsWith('.js');
const MIGRATION_FILE = COMPILED ? /^\d{14}_[a-z0-9_]+\.js$/ : /^\d{14}_[a-z0-9_]+\.ts$/;

/** Loads migrations from `migrations/`, named by timestamp, in order. */
class TimestampedMigrationSource implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    return readdirSync(MIGRATIONS_DIR)
      .filter((file) => MIGRATION_FILE.test(file))
      .map((file) => file.replace(/\.js$/, '.ts'))
      .sort();
  }
  getMigrationName(name: string): string {
    return name;
  }
  async getMigration(name: string): Promise<Knex.Migration> {
    const file = COMPILED ? name.replace(/\.ts$/, '.js') : name;
    const module = (await import(pathToFileURL(path.join(MIGRATIONS_DIR, file)).href)) as { default: Migration };
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

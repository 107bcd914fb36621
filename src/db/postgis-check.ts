import type { Knex } from 'knex';

export class PostgisMissingError extends Error {
  constructor(cause: string) {
    super(
      `PostGIS is not available on this PostgreSQL server (${cause}).\n` +
        'Install it and restart mapsync. On Debian/Ubuntu: apt-get install postgresql-15-postgis-3 ' +
        '(match your PostgreSQL major version), then run `CREATE EXTENSION postgis;` as a superuser ' +
        'in the database, or unset DATABASE_URL to use the embedded database.',
    );
    this.name = 'PostgisMissingError';
  }
}

/** Makes sure PostGIS is installed in the database, creating the extension when allowed. */
export async function ensurePostgis(knex: Knex): Promise<string> {
  try {
    const existing = await knex.raw(`SELECT extversion FROM pg_extension WHERE extname = 'postgis'`);
    if (existing.rows.length > 0) return existing.rows[0].extversion as string;
    await knex.raw('CREATE EXTENSION IF NOT EXISTS postgis');
    const created = await knex.raw(`SELECT extversion FROM pg_extension WHERE extname = 'postgis'`);
    return created.rows[0].extversion as string;
  } catch (error) {
    throw new PostgisMissingError(error instanceof Error ? error.message.split('\n')[0]! : String(error));
  }
}

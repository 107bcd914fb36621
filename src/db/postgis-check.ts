import type { Knex } from 'knex';

export type DatabaseProblem = 'unreachable' | 'authentication' | 'database_missing' | 'postgis_missing';

/**
 * mapsync cannot use the database, for an expected reason an operator fixes (wrong
 * address, credentials, name, or no PostGIS): the message says which and how, and the
 * CLI prints it without a stack trace.
 */
export class DatabaseUnavailableError extends Error {
  constructor(
    readonly problem: DatabaseProblem,
    message: string,
  ) {
    super(message);
    this.name = 'DatabaseUnavailableError';
  }
}

export class PostgisMissingError extends DatabaseUnavailableError {
  constructor(cause: string) {
    super(
      'postgis_missing',
      `PostGIS is not available on this PostgreSQL server (${cause}).\n` +
        'Install it and restart mapsync. On Debian/Ubuntu: apt-get install postgresql-15-postgis-3 ' +
        '(match your PostgreSQL major version), then run `CREATE EXTENSION postgis;` as a superuser ' +
        'in the database, or unset DATABASE_URL to use the embedded database.',
    );
    this.name = 'PostgisMissingError';
  }
}

/** Network errors of the socket (Node) and the SQLSTATEs of PostgreSQL refusing a login. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);
const AUTHENTICATION_STATES = new Set(['28P01', '28000']);
const DATABASE_MISSING_STATE = '3D000';

function where(url: string | undefined): string {
  if (!url) return 'the database';
  try {
    const parsed = new URL(url);
    const name = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || '(default)';
    return `database "${name}" at ${parsed.hostname || 'localhost'}:${parsed.port || '5432'} as user "${decodeURIComponent(parsed.username) || '(default)'}"`;
  } catch {
    return 'the database';
  }
}

/**
 * What a failure to connect means, as a DatabaseUnavailableError naming the cause:
 * unreachable (refused, unknown host, timeout), authentication (wrong password, unknown
 * role, no pg_hba entry), or database missing. Null for any other error. The URL is shown
 * without its password.
 */
export function diagnoseConnectionError(error: unknown, url?: string): DatabaseUnavailableError | null {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  const target = where(url);
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) {
    return new DatabaseUnavailableError(
      'unreachable',
      `PostgreSQL is unreachable: cannot connect to ${target} (${code}). Check DATABASE_URL's host and port and that the server is running, or unset DATABASE_URL to use the embedded database.`,
    );
  }
  if (/timeout acquiring a connection|connection terminated unexpectedly|Connection terminated due to connection timeout/i.test(message)) {
    return new DatabaseUnavailableError('unreachable', `PostgreSQL is unreachable: ${target} did not answer (${message}).`);
  }
  if (typeof code === 'string' && AUTHENTICATION_STATES.has(code)) {
    return new DatabaseUnavailableError(
      'authentication',
      `PostgreSQL refused the login to ${target}: ${message}. Check the user name and password in DATABASE_URL (and pg_hba.conf).`,
    );
  }
  if (/password authentication failed|SASL|client password must be a string|no pg_hba\.conf entry/i.test(message)) {
    return new DatabaseUnavailableError('authentication', `PostgreSQL refused the login to ${target}: ${message}. Check DATABASE_URL.`);
  }
  if (code === DATABASE_MISSING_STATE) {
    return new DatabaseUnavailableError(
      'database_missing',
      `The ${target} does not exist: ${message}. Create it (createdb …) or fix the name in DATABASE_URL.`,
    );
  }
  return null;
}

/**
 * Makes sure PostGIS is installed in the database, creating the extension when allowed.
 * @throws DatabaseUnavailableError when the database cannot be reached or logged into or
 *   does not exist; PostgisMissingError when PostGIS is not there and cannot be created.
 */
export async function ensurePostgis(knex: Knex, url?: string): Promise<string> {
  let existing;
  try {
    existing = await knex.raw(`SELECT extversion FROM pg_extension WHERE extname = 'postgis'`);
  } catch (error) {
    throw diagnoseConnectionError(error, url) ?? error;
  }
  if (existing.rows.length > 0) return existing.rows[0].extversion as string;
  try {
    await knex.raw('CREATE EXTENSION IF NOT EXISTS postgis');
    const created = await knex.raw(`SELECT extversion FROM pg_extension WHERE extname = 'postgis'`);
    return created.rows[0].extversion as string;
  } catch (error) {
    throw diagnoseConnectionError(error, url) ?? new PostgisMissingError(error instanceof Error ? error.message.split('\n')[0]! : String(error));
  }
}

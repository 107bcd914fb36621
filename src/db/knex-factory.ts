import knexFactory, { type Knex } from 'knex';
import pg from 'pg';

// int8 and numeric come back as strings by default; counts and ids here fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface KnexOptions {
  url: string;
  /** The embedded database serves one session: a larger pool would interleave transactions. */
  embedded?: boolean;
  /** Extra schema placed first on the search path (tests isolate themselves this way). */
  schema?: string;
  poolMax?: number;
}

export function createKnex(options: KnexOptions): Knex {
  const poolMax = options.embedded ? 1 : (options.poolMax ?? 10);
  return knexFactory({
    client: 'pg',
    connection: options.url,
    searchPath: options.schema ? [options.schema, 'public'] : undefined,
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 60_000,
    log: {
      // A failed connection is thrown to the caller, which names the cause (postgis-check.ts); knex would print it with a stack first.
      warn(message: string) {
        if (!String(message).startsWith('Acquire connection error')) console.warn(message);
      },
    },
  });
}

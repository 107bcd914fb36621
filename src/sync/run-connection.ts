import { once } from 'node:events';
import knexFactory, { type Knex } from 'knex';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * The one database session a sync run works on, from its advisory lock to its merge.
 *
 * It is a connection of its own, outside the application's pool: the lock and the
 * staging tables (temporary, so a killed run leaves nothing behind) belong to the
 * session, and the pool would otherwise be starved for the whole run (the embedded
 * database's pool has a single connection). Hot statements go straight to the pg
 * client with $n parameters, so arrays stay one parameter.
 */
export class RunConnection {
  private constructor(
    readonly knex: Knex,
    private readonly client: pg.Client,
    private readonly backendPid: number | null,
    /**
     * Whether the server takes `COPY … FROM STDIN` on this session. The embedded database
     * (PGlite behind pglite-socket) does not: the copy sub-protocol desynchronises it and the
     * session is closed, so callers must not try it there and fall back to INSERTs.
     */
    readonly copies: boolean,
  ) {}

  static async open(root: Knex): Promise<RunConnection> {
    const config = root.client.config as Knex.Config;
    const knex = knexFactory({
      ...config,
      // The connection is held for the whole run and never handed back before it ends.
      pool: { min: 0, max: 1, idleTimeoutMillis: 2_147_483_647 },
    });
    try {
      const client = (await knex.client.acquireConnection()) as pg.Client;
      const session = await client.query<{ pid: number; embedded: boolean }>(`SELECT pg_backend_pid() AS pid, version() LIKE '%PGlite%' AS embedded`).then(
        (result) => result.rows[0],
        () => undefined,
      );
      return new RunConnection(knex, client, Number(session?.pid ?? 0) || null, session !== undefined && !session.embedded);
    } catch (error) {
      await knex.destroy();
      throw error;
    }
  }

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const result = await this.client.query(sql, params);
    return result.rows as T[];
  }

  /** Rows affected by a statement. */
  async execute(sql: string, params: unknown[] = []): Promise<number> {
    const result = await this.client.query(sql, params);
    return result.rowCount ?? 0;
  }

  /**
   * Streams `data` (COPY text format, whole lines) into `table (columns)` with one
   * `COPY … FROM STDIN`; returns the rows written. Only where `copies` is true. A bad line
   * fails the whole COPY (nothing of it is written) with the server's error.
   */
  async copyIn(table: string, columns: string[], data: string): Promise<number> {
    const stream = this.client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
    // once() rejects with the stream's error, should one come before the end.
    const finished = once(stream, 'finish');
    stream.end(data);
    await finished;
    return stream.rowCount;
  }

  /** A knex transaction on this very session (for code that takes a `Knex.Transaction`). */
  async transaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.knex.transaction(work, { connection: this.client });
  }

  /**
   * Breaks off the statement this session is running, from another session (`other`): a
   * stopped run must not wait on a statement for ever. Its transaction, if any, rolls back.
   */
  async cancelStatement(other: Knex): Promise<void> {
    if (this.backendPid === null) return;
    await other.raw('SELECT pg_cancel_backend(?)', [this.backendPid]);
  }

  async close(): Promise<void> {
    try {
      await this.knex.client.releaseConnection(this.client);
    } finally {
      await this.knex.destroy();
    }
  }
}

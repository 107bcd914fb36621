import knexFactory, { type Knex } from 'knex';
import type pg from 'pg';

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
      const pid = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').then(
        (result) => Number(result.rows[0]?.pid ?? 0) || null,
        () => null,
      );
      return new RunConnection(knex, client, pid);
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

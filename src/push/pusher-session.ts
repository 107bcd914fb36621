/**
 * Owner liveness for the push outbox. Each pusher holds a session-level advisory lock
 * (namespace PUSHER_LOCK_NAMESPACE, a random key) on a connection of its own for as long as
 * it runs, and stamps the key on the rows it claims (`push_outbox.locked_session`). When the
 * process dies, even by SIGKILL, PostgreSQL ends its session and releases the lock, so a
 * restarted service (or any other pusher) takes the rows over at once instead of waiting
 * out the lease. The lease stays as the fallback for a session PostgreSQL still believes
 * alive (a host that vanished without closing its TCP connections).
 */
import { randomInt } from 'node:crypto';
import type { Knex } from 'knex';
import { RunConnection } from '../sync/run-connection.ts';

export const PUSHER_LOCK_NAMESPACE = 0x4d505553; // "MPUS"

/** SQL condition: the pusher session stamped in `column` no longer holds its lock (it is gone). */
export function pusherSessionGoneSql(column: string): string {
  return `(${column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid = ${PUSHER_LOCK_NAMESPACE}::oid AND l.objid = ${column}::oid))`;
}

export class PusherSession {
  private constructor(
    readonly key: number,
    private readonly connection: RunConnection,
  ) {}

  /**
   * Opens the session and takes a free key. Returns null on a database that serves a single
   * session (the embedded one: pool of 1), where holding one would starve everything else;
   * there only one process runs anyway, and the lease applies.
   */
  static async open(root: Knex): Promise<PusherSession | null> {
    const poolMax = (root.client.config as Knex.Config).pool?.max;
    if (poolMax === 1) return null;
    const connection = await RunConnection.open(root);
    try {
      for (let attempt = 0; attempt < 20; attempt++) {
        const key = randomInt(1, 2 ** 31 - 1);
        const [row] = await connection.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [PUSHER_LOCK_NAMESPACE, key]);
        if (row?.locked) return new PusherSession(key, connection);
      }
      throw new Error('could not take a free pusher session key');
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  /** Releases the lock (ends the session): rows still stamped with it can be taken over. */
  async close(): Promise<void> {
    await this.connection.close();
  }
}

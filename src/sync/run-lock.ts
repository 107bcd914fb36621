/**
 * One sync per integration at a time, across processes: a session-level advisory lock held
 * by the run's own connection. Keyed (namespace, hash of schema and integration id) so that
 * SQL can tell, set-wise, whether a run's lock is still held by any session (see the
 * reaper), and so that deployments in different schemas of one database never block
 * each other (advisory locks are database-wide).
 */
export const SYNC_LOCK_NAMESPACE = 0x4d53594e; // "MSYN"

function lockKeySql(integrationIdSql: string): string {
  return `hashtext(current_schema() || '/' || ${integrationIdSql})`;
}

export const TRY_LOCK_SQL = `SELECT pg_try_advisory_lock(${SYNC_LOCK_NAMESPACE}, ${lockKeySql('$1')}) AS locked`;
export const UNLOCK_SQL = `SELECT pg_advisory_unlock(${SYNC_LOCK_NAMESPACE}, ${lockKeySql('$1')}) AS unlocked`;

/** SQL condition: some session holds the sync lock of `integrationIdSql`. */
export function lockHeldSql(integrationIdSql: string): string {
  return `EXISTS (SELECT 1 FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
      AND l.classid = ${SYNC_LOCK_NAMESPACE}::oid AND l.objid = ${lockKeySql(integrationIdSql)}::oid)`;
}

import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';

export class EmbeddedDatabaseBusyError extends Error {
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number,
  ) {
    super(
      `The embedded database in ${dataDir} is in use by process ${ownerPid} (e.g. a running \`mapsync serve\`). ` +
        'It serves one process at a time: use that process (its HTTP API), stop it first, or set DATABASE_URL to a PostgreSQL server.',
    );
    this.name = 'EmbeddedDatabaseBusyError';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims a data folder for this process. Two processes opening one PGlite folder corrupt
 * it, and a lock left by a killed process must not block the next start.
 * Returns the release function.
 *
 * Why not proper-lockfile: it tells a dead owner only by staleness (the lock's mtime not
 * refreshed by a timer for `stale` ms, at least 2 s), and records no pid. PGlite runs its
 * queries as WebAssembly on this thread, so a long merge stalls the event loop and the
 * refresh timer with it: a live owner's lock would be judged stale and a second process
 * would open the folder, the corruption this lock exists to prevent. And after a SIGKILL
 * the next start would have to wait out the stale window, where the pid check here takes
 * over at once and names the owner of a busy folder.
 */
export function claimDataDir(dataDir: string): () => void {
  const lockFile = `${dataDir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      const release = () => rmSync(lockFile, { force: true });
      process.once('exit', release);
      return () => {
        process.off('exit', release);
        release();
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockFile, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new EmbeddedDatabaseBusyError(dataDir, owner);
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`could not claim ${lockFile}`);
}

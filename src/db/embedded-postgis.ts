import { mkdirSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { postgis } from '@electric-sql/pglite-postgis';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { claimDataDir } from './embedded-lock.ts';

export interface EmbeddedPostgis {
  url: string;
  dataDir: string;
  close(): Promise<void>;
}

export interface EmbeddedPostgisOptions {
  /** Where the database files live; created when missing. */
  dataDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Connections the socket server accepts at once; queries are still served one at a time. */
  maxConnections?: number;
}

/**
 * Starts PostgreSQL + PostGIS in-process (PGlite) and serves it on loopback, so the
 * same `pg`/knex code runs against it and against a real server.
 */
export async function startEmbeddedPostgis(options: EmbeddedPostgisOptions): Promise<EmbeddedPostgis> {
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const release = claimDataDir(dataDir);
  let db: PGlite | null = null;
  let server: PGLiteSocketServer;
  try {
    // Only reached when no live process owns the folder: a postmaster.pid here was left by
    // a killed process, and PGlite would wait for it forever.
    const stalePid = path.join(dataDir, 'postmaster.pid');
    if (existsSync(stalePid)) rmSync(stalePid);

    db = await PGlite.create({ dataDir, extensions: { postgis } });
    await db.exec('CREATE EXTENSION IF NOT EXISTS postgis');
    server = new PGLiteSocketServer({
      db,
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      maxConnections: options.maxConnections ?? 8,
    });
    await server.start();
  } catch (error) {
    await db?.close().catch(() => undefined);
    release();
    throw error;
  }
  const pglite = db;
  const conn = server.getServerConn();

  let closed = false;
  return {
    url: `postgres://postgres@${conn}/postgres?sslmode=disable`,
    dataDir,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await server.stop();
        await pglite.close();
      } finally {
        release();
      }
    },
  };
}

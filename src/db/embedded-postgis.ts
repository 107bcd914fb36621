import { mkdirSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { postgis } from '@electric-sql/pglite-postgis';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

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
  // A lock file left by a killed process makes PGlite wait for it forever.
  const stalePid = path.join(dataDir, 'postmaster.pid');
  if (existsSync(stalePid)) rmSync(stalePid);

  const db = await PGlite.create({ dataDir, extensions: { postgis } });
  await db.exec('CREATE EXTENSION IF NOT EXISTS postgis');
  const server = new PGLiteSocketServer({
    db,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    maxConnections: options.maxConnections ?? 8,
  });
  await server.start();
  const conn = server.getServerConn();

  let closed = false;
  return {
    url: `postgres://postgres@${conn}/postgres?sslmode=disable`,
    dataDir,
    async close() {
      if (closed) return;
      closed = true;
      await server.stop();
      await db.close();
    },
  };
}

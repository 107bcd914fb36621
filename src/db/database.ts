import path from 'node:path';
import type { Knex } from 'knex';
import type { Logger } from '../observability/logger.ts';
import { startEmbeddedPostgis, type EmbeddedPostgis } from './embedded-postgis.ts';
import { createKnex } from './knex-factory.ts';
import { ensurePostgis } from './postgis-check.ts';
import { integerFromEnv } from '../config/environment.ts';

export interface Database {
  knex: Knex;
  url: string;
  /** Present when mapsync runs its own embedded PostGIS (DATABASE_URL unset). */
  embedded: EmbeddedPostgis | null;
  postgisVersion: string;
  close(): Promise<void>;
}

export function embeddedDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.MAPSYNC_DATA_DIR ?? '.data', 'pglite');
}

export interface OpenDatabaseOptions {
  /** Called with the data folder (absolute path) before the embedded PostGIS starts. */
  onEmbedded?: (dataDir: string) => void;
}

/**
 * DATABASE_URL selects a real PostgreSQL; without it an embedded PostGIS is started in
 * the data folder (MAPSYNC_DATA_DIR, else ./.data). Either way the rest of mapsync sees the same knex.
 */
export async function openDatabase(logger: Logger, env: NodeJS.ProcessEnv = process.env, options: OpenDatabaseOptions = {}): Promise<Database> {
  let embedded: EmbeddedPostgis | null = null;
  let url = env.DATABASE_URL;
  if (!url) {
    const dataDir = embeddedDataDir(env);
    logger.info({ dataDir }, 'DATABASE_URL is unset: starting the embedded PostGIS');
    options.onEmbedded?.(dataDir);
    embedded = await startEmbeddedPostgis({ dataDir });
    url = embedded.url;
  }
  const knex = createKnex({
    url,
    embedded: embedded !== null,
    schema: env.DATABASE_SCHEMA || undefined,
    poolMax: env.DATABASE_POOL_MAX?.trim() ? integerFromEnv(env, 'DATABASE_POOL_MAX', { min: 1, max: 200, fallback: 10 }) : undefined,
  });
  try {
    const postgisVersion = await ensurePostgis(knex, url);
    logger.info({ postgis: postgisVersion, embedded: embedded !== null }, 'database ready');
    return {
      knex,
      url,
      embedded,
      postgisVersion,
      async close() {
        await knex.destroy();
        await embedded?.close();
      },
    };
  } catch (error) {
    await knex.destroy();
    await embedded?.close();
    throw error;
  }
}

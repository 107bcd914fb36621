/**
 * Gauges read from the database when Prometheus scrapes /metrics, so every process of a
 * deployment reports the same state and nothing has to be kept in step in memory. Each is
 * one small aggregate query on indexed or small tables; a failing query leaves its gauge
 * empty for that scrape (logged) rather than failing /metrics.
 */
import type { Knex } from 'knex';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from './logger.ts';

type Rows<T> = { rows: T[] };

/** Registers the database-read gauges on `registry`. */
export function registerDatabaseMetrics(registry: Registry, knex: Knex, logger: Logger): void {
  const read = async <T>(what: string, sql: string): Promise<T[] | null> => {
    try {
      return ((await knex.raw(sql)) as Rows<T>).rows;
    } catch (error) {
      logger.warn({ err: error, metric: what }, 'could not read a metric from the database');
      return null;
    }
  };

  new Gauge({
    name: 'mapsync_last_successful_sync_timestamp_seconds',
    help: 'When the last successful sync run of the integration finished (Unix time, seconds)',
    labelNames: ['integration'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await read<{ integration_id: string; at: number }>(
        'last successful sync',
        `SELECT integration_id, extract(epoch FROM max(finished_at))::float8 AS at
           FROM sync_runs WHERE status = 'succeeded' GROUP BY integration_id`,
      );
      for (const row of rows ?? []) this.set({ integration: row.integration_id }, Number(row.at));
    },
  });

  new Gauge({
    name: 'mapsync_last_sync_run_duration_seconds',
    help: 'Duration of the last finished sync run of the integration, by its status',
    labelNames: ['integration', 'status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await read<{ integration_id: string; status: string; seconds: number }>(
        'last run duration',
        `SELECT DISTINCT ON (integration_id) integration_id, status,
                extract(epoch FROM finished_at - started_at)::float8 AS seconds
           FROM sync_runs WHERE finished_at IS NOT NULL AND started_at IS NOT NULL
          ORDER BY integration_id, finished_at DESC`,
      );
      for (const row of rows ?? []) this.set({ integration: row.integration_id, status: row.status }, Number(row.seconds));
    },
  });

  new Gauge({
    name: 'mapsync_network_elements',
    help: 'Elements of each kind present on the platform, as of the last successful sync run (created + updated + unchanged)',
    labelNames: ['integration', 'kind'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await read<{ integration_id: string; kind: string; n: number }>(
        'network elements',
        `SELECT r.integration_id, c.key AS kind,
                (coalesce((c.value->>'created')::bigint, 0) + coalesce((c.value->>'updated')::bigint, 0)
                 + coalesce((c.value->>'unchanged')::bigint, 0))::float8 AS n
           FROM (SELECT DISTINCT ON (integration_id) integration_id, counts FROM sync_runs
                  WHERE status = 'succeeded' ORDER BY integration_id, finished_at DESC) r,
                jsonb_each(r.counts) c
          WHERE jsonb_typeof(c.value) = 'object'`,
      );
      for (const row of rows ?? []) this.set({ integration: row.integration_id, kind: row.kind }, Number(row.n));
    },
  });

  new Gauge({
    name: 'mapsync_platform_customers',
    help: "Platform customers present on the platform, by link status (linked, linked_by_document, document_mismatch, ambiguous, unmatched)",
    labelNames: ['integration', 'link_status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await read<{ integration_id: string; link_status: string; n: number }>(
        'customers by link status',
        `SELECT integration_id, link_status, count(*)::float8 AS n
           FROM platform_customers WHERE removed_at IS NULL GROUP BY integration_id, link_status`,
      );
      for (const row of rows ?? []) this.set({ integration: row.integration_id, link_status: row.link_status }, Number(row.n));
    },
  });

  // Both outbox gauges come from one query, shared by the two collects of a scrape.
  type OutboxRow = { integration_id: string; status: string; n: number; oldest_age: number | null };
  let outboxRead: { at: number; rows: Promise<OutboxRow[] | null> } | null = null;
  const outboxRows = () => {
    if (!outboxRead || Date.now() - outboxRead.at > 1_000) {
      outboxRead = {
        at: Date.now(),
        rows: read<OutboxRow>(
          'outbox',
          `SELECT integration_id, status, count(*)::float8 AS n,
                  extract(epoch FROM now() - min(created_at))::float8 AS oldest_age
             FROM push_outbox GROUP BY integration_id, status`,
        ),
      };
    }
    return outboxRead.rows;
  };

  new Gauge({
    name: 'mapsync_outbox_pushes',
    help: 'Push outbox rows by status (pending, in_progress, done, failed, cancelled)',
    labelNames: ['integration', 'status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of (await outboxRows()) ?? []) this.set({ integration: row.integration_id, status: row.status }, Number(row.n));
    },
  });

  new Gauge({
    name: 'mapsync_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest push still waiting for delivery (pending or in_progress); 0 when none waits',
    labelNames: ['integration'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const oldest = new Map<string, number>();
      for (const row of (await outboxRows()) ?? []) {
        const age = (row.status === 'pending' || row.status === 'in_progress') && row.oldest_age !== null ? Number(row.oldest_age) : 0;
        oldest.set(row.integration_id, Math.max(oldest.get(row.integration_id) ?? 0, age));
      }
      for (const [integration, age] of oldest) this.set({ integration }, age);
    },
  });
}

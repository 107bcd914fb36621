import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per service instance, so tests can start several side by side. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mapsync_' });
  return {
    registry,
    syncRuns: new Counter({
      name: 'mapsync_sync_runs_total',
      help: 'Sync runs finished, by integration and status',
      labelNames: ['integration', 'status'] as const,
      registers: [registry],
    }),
    syncDuration: new Histogram({
      name: 'mapsync_sync_run_duration_seconds',
      help: 'Duration of finished sync runs',
      labelNames: ['integration'] as const,
      buckets: [1, 5, 15, 60, 300, 900, 3600],
      registers: [registry],
    }),
    platformRequests: new Counter({
      name: 'mapsync_platform_requests_total',
      help: 'HTTP attempts made to mapping platforms (a retry is one more), by integration, endpoint family (ids as :id) and HTTP status (or timeout / network_error)',
      labelNames: ['integration', 'endpoint', 'status'] as const,
      registers: [registry],
    }),
    platformRetries: new Counter({
      name: 'mapsync_platform_retries_total',
      help: 'Platform attempts that were retries of a failed one, by integration and endpoint family',
      labelNames: ['integration', 'endpoint'] as const,
      registers: [registry],
    }),
    syncPlatformRequests: new Counter({
      name: 'mapsync_sync_platform_requests_total',
      help: 'Platform HTTP attempts made by finished sync runs (retries included), by integration and endpoint family as the adapter names it (GeoGrid: postes, caixas, equipamentos, portas, portasLote, clientes…); the pusher is not counted here',
      labelNames: ['integration', 'family'] as const,
      registers: [registry],
    }),
    syncPlatformRetries: new Counter({
      name: 'mapsync_sync_platform_retries_total',
      help: 'Platform attempts of finished sync runs that repeated a failed one, by integration',
      labelNames: ['integration'] as const,
      registers: [registry],
    }),
    syncPlatformRateLimited: new Counter({
      name: 'mapsync_sync_platform_rate_limited_total',
      help: 'HTTP 429 answers met by finished sync runs, by integration',
      labelNames: ['integration'] as const,
      registers: [registry],
    }),
    syncOccupancyReads: new Counter({
      name: 'mapsync_sync_occupancy_reads_total',
      help: 'Finished sync runs by how they read port occupancy: batch (several containers per request) or per_item (the platform refused the batch read)',
      labelNames: ['integration', 'mode'] as const,
      registers: [registry],
    }),
    pushes: new Counter({
      name: 'mapsync_pushes_total',
      help: 'Outbox deliveries to platforms, by outcome',
      labelNames: ['integration', 'outcome'] as const,
      registers: [registry],
    }),
    runsInProgress: new Gauge({
      name: 'mapsync_sync_runs_in_progress',
      help: 'Sync runs this process is executing now (at most mapsync_sync_run_concurrency)',
      registers: [registry],
    }),
    runConcurrency: new Gauge({
      name: 'mapsync_sync_run_concurrency',
      help: 'Sync runs this process executes at most at once (config runs.concurrency)',
      registers: [registry],
    }),
    outboxPending: new Gauge({
      name: 'mapsync_outbox_pending',
      help: 'Outbox rows waiting for delivery',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

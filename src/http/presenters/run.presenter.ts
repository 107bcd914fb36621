import type { KindCounts, PlatformRequestCounts, RunRecord } from '../../sync/sync-runs.repository.ts';

export type { KindCounts };

/** The stable JSON shape of a run, shared by the HTTP API and `mapsync … --json`. */
export interface RunView {
  id: string;
  integrationId: string;
  trigger: string;
  status: string;
  options: { full: boolean; force: boolean };
  counts: Record<string, KindCounts>;
  progress: unknown;
  error: string | null;
  /** Process that ran it (host:pid). */
  owner: string | null;
  queuedAt: string | null;
  startedAt: string | null;
  heartbeatAt: string | null;
  finishedAt: string | null;
  scheduledFor: string | null;
  durationMs: number | null;
  /** What the run asked of the platform; null while it runs and for runs recorded before it was counted. */
  platformRequests: PlatformRequestCounts | null;
  /** The run this one re-runs because the process running that one died. */
  retryOf: string | null;
  /** 1 for a first run, one more for each re-run after a dead process. */
  attempt: number;
}

function isoTime(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function presentCounts(counts: unknown): Record<string, KindCounts> {
  const result: Record<string, KindCounts> = {};
  if (!counts || typeof counts !== 'object') return result;
  for (const [kind, value] of Object.entries(counts as Record<string, Partial<KindCounts> | undefined>)) {
    result[kind] = {
      created: Number(value?.created ?? 0),
      updated: Number(value?.updated ?? 0),
      unchanged: Number(value?.unchanged ?? 0),
      removed: Number(value?.removed ?? 0),
      rejected: Number(value?.rejected ?? 0),
    };
  }
  return result;
}

export function presentRun(run: RunRecord): RunView {
  const startedAt = isoTime(run.startedAt);
  const finishedAt = isoTime(run.finishedAt);
  return {
    id: run.id,
    integrationId: run.integrationId,
    trigger: run.trigger,
    status: run.status,
    options: { full: Boolean(run.options?.full), force: Boolean(run.options?.force) },
    counts: presentCounts(run.counts),
    progress: run.progress ?? null,
    error: run.error ?? null,
    owner: run.owner ?? null,
    queuedAt: isoTime(run.queuedAt),
    startedAt,
    heartbeatAt: isoTime(run.heartbeatAt),
    finishedAt,
    scheduledFor: isoTime(run.scheduledFor),
    durationMs: startedAt && finishedAt ? new Date(finishedAt).getTime() - new Date(startedAt).getTime() : null,
    platformRequests: presentPlatformRequests(run.platformRequests),
    retryOf: run.retryOf ?? null,
    attempt: run.attempt ?? 1,
  };
}

function presentPlatformRequests(value: PlatformRequestCounts | null | undefined): PlatformRequestCounts | null {
  if (!value || typeof value !== 'object') return null;
  const byFamily: Record<string, number> = {};
  for (const [family, n] of Object.entries(value.byFamily ?? {})) byFamily[family] = Number(n) || 0;
  return {
    requests: Number(value.requests) || 0,
    retries: Number(value.retries) || 0,
    rateLimited: Number(value.rateLimited) || 0,
    timeouts: Number(value.timeouts) || 0,
    byFamily,
    occupancyReads: value.occupancyReads === 'batch' || value.occupancyReads === 'per_item' ? value.occupancyReads : null,
  };
}

const countsSchema = {
  type: 'object',
  properties: {
    created: { type: 'integer' },
    updated: { type: 'integer' },
    unchanged: { type: 'integer' },
    removed: { type: 'integer' },
    rejected: { type: 'integer' },
  },
} as const;

const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

/** JSON schema of RunView, for the OpenAPI document and response serialisation. */
export const runViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    integrationId: { type: 'string' },
    trigger: { type: 'string', enum: ['schedule', 'catch_up', 'manual', 'cli'] },
    status: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed'] },
    options: { type: 'object', properties: { full: { type: 'boolean' }, force: { type: 'boolean' } } },
    counts: {
      type: 'object',
      description: 'per element kind',
      additionalProperties: countsSchema,
    },
    progress: { description: 'live progress while running: phase, per-kind fetched/rejected, message' },
    error: { type: ['string', 'null'] },
    owner: { type: ['string', 'null'], description: 'process that ran it (host:pid)' },
    queuedAt: nullableTime,
    startedAt: nullableTime,
    heartbeatAt: nullableTime,
    finishedAt: nullableTime,
    scheduledFor: nullableTime,
    durationMs: { type: ['integer', 'null'] },
    platformRequests: {
      type: ['object', 'null'],
      description:
        'what the run asked of the platform, recorded when it ends (null while it runs, and for runs recorded before this was counted); a retry is one more request',
      properties: {
        requests: { type: 'integer', description: 'HTTP attempts sent, retries included' },
        retries: { type: 'integer', description: 'attempts that repeated a failed one' },
        rateLimited: { type: 'integer', description: 'answers HTTP 429' },
        timeouts: { type: 'integer', description: 'attempts ended by the per-request wall-clock limit' },
        byFamily: {
          type: 'object',
          description: 'attempts per endpoint family, named by the platform adapter (GeoGrid: pastas, postes, caixas, equipamentos, portas, portasLote, viabilidade, clientes)',
          additionalProperties: { type: 'integer' },
        },
        occupancyReads: {
          type: ['string', 'null'],
          enum: ['batch', 'per_item', null],
          description: 'how port occupancy was read: several containers per request (batch), one request per container (per_item: the platform refused the batch read or has none), or not at all (null)',
        },
      },
    },
    retryOf: { type: ['string', 'null'], format: 'uuid', description: 'the run this one re-runs because the process running that one died' },
    attempt: { type: 'integer', minimum: 1, description: '1 for a first run, one more for each re-run after a dead process (at most 3)' },
  },
} as const;

import type { KindCounts, RunRecord } from '../../sync/sync-runs.repository.ts';

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
  },
} as const;

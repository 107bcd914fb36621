import { z } from 'zod';
import { DEFAULT_ELEMENT_KINDS, ELEMENT_KINDS } from '../domain/network.ts';
import { cronSyntaxProblem, scheduleProblem } from '../scheduler/cron-time.ts';
import { BRAZIL_EXTENT, areasOverlap, describeArea } from '../domain/positions.ts';

export const PLATFORMS = ['geogrid', 'ozmap', 'simulator'] as const;
export type PlatformName = (typeof PLATFORMS)[number];

/** Customer fields an admin may add to the minimal push payload. */
export const PUSH_FIELDS = ['name', 'document', 'serviceId', 'email', 'phone', 'address', 'city', 'state', 'zipCode'] as const;
export const DEFAULT_PUSH_FIELDS = ['name', 'document', 'serviceId'] as const;

/** Sync runs one `mapsync serve` process executes at once (config `runs.concurrency`). */
export const DEFAULT_RUN_CONCURRENCY = 2;
export const MAX_RUN_CONCURRENCY = 64;

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const httpsUrl = z
  .string({ error: 'must be a URL text' })
  .refine((value) => URL.canParse(value), { message: 'is not a valid URL' })
  .refine((value) => !URL.canParse(value) || new URL(value).protocol === 'https:', {
    message: 'must start with https:// (the platform token must never travel in clear text)',
  })
  .transform((value) => value.replace(/\/+$/, ''));

const projectSchema = z.union(
  [
    z.strictObject({ link: z.union([z.string().min(1), z.number()]).transform(String) }),
    z.strictObject({ create: z.string().min(1) }),
  ],
  { error: 'must be { link: "<existing project name or id>" } or { create: "<new project name>" }' },
);

const degrees = (limit: number) =>
  z.number({ error: 'must be a number of degrees' }).min(-limit, `must be between -${limit} and ${limit}`).max(limit, `must be between -${limit} and ${limit}`);

/** Optional bounding box (EPSG:4326 degrees) the integration's network lies in; positions outside are rejected. */
const areaSchema = z
  .strictObject(
    { minLon: degrees(180), minLat: degrees(90), maxLon: degrees(180), maxLat: degrees(90) },
    {
      error: (issue) =>
        issue.code === 'invalid_type'
          ? 'must be { minLon, minLat, maxLon, maxLat } in degrees (e.g. { minLon: -47.3, minLat: -23.1, maxLon: -46.8, maxLat: -22.7 })'
          : undefined,
    },
  )
  .superRefine((area, ctx) => {
    if (area.minLon >= area.maxLon) ctx.addIssue({ code: 'custom', path: ['maxLon'], message: `must be greater than minLon (${area.minLon})` });
    if (area.minLat >= area.maxLat) ctx.addIssue({ code: 'custom', path: ['maxLat'], message: `must be greater than minLat (${area.minLat}); south is negative` });
    if (area.minLon < area.maxLon && area.minLat < area.maxLat && !areasOverlap(area, BRAZIL_EXTENT)) {
      ctx.addIssue({ code: 'custom', message: `does not overlap Brazil (${describeArea(BRAZIL_EXTENT)}): are longitude and latitude swapped?` });
    }
  });

export const integrationSchema = z.strictObject({
  id: z
    .string({ error: 'is required' })
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lower-case letters, digits, "-" or "_" (max 63)'),
  platform: z.enum(PLATFORMS, { error: `must be one of: ${PLATFORMS.join(', ')}` }),
  apiUrl: httpsUrl,
  /** The platform's API key (GeoGrid `api-key`, OZmap `Authorization`); on OZmap, or `login` + `password`. */
  token: z.string({ error: 'must be text' }).min(1, 'is empty').optional(),
  /** OZmap only: a user whose login token replaces an API key (renewed when it expires). */
  login: z.string({ error: 'must be text' }).min(1, 'is empty').optional(),
  password: z.string({ error: 'must be text' }).min(1, 'is empty').optional(),
  project: projectSchema,
  scope: z
    .strictObject({ folders: z.array(z.union([z.string().min(1), z.number()]).transform(String)).default([]) })
    .default({ folders: [] }),
  area: areaSchema.optional(),
  elements: z
    .array(z.enum(ELEMENT_KINDS, { error: `must be one of: ${ELEMENT_KINDS.join(', ')}` }))
    .min(1, 'needs at least one element kind')
    .default([...DEFAULT_ELEMENT_KINDS])
    .transform((kinds) => [...new Set(kinds)]),
  schedule: z
    .string()
    .superRefine((value, ctx) => {
      const problem = cronSyntaxProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: `is not a valid cron expression (e.g. "0 4 * * *"): ${problem}` });
    })
    .default('0 4 * * *'),
  timezone: z
    .string()
    .refine(isValidTimeZone, { message: 'is not a known IANA time zone (e.g. "America/Sao_Paulo")' })
    .default('America/Sao_Paulo'),
  enabled: z.boolean().default(true),
  http: z
    .strictObject({
      concurrency: z.number().int().min(1).max(50).default(5),
      requestsPerMinute: z.number().int().min(1).max(100_000).default(300),
      timeoutMs: z.number().int().min(100).max(600_000).default(15_000),
      retries: z.number().int().min(0).max(10).default(4),
    })
    .default({ concurrency: 5, requestsPerMinute: 300, timeoutMs: 15_000, retries: 4 }),
  sync: z
    .strictObject({
      attachRadiusMeters: z.number().min(0).max(100).default(3),
      removalGuardPercent: z.number().min(0).max(100).default(30),
      removalGuardMinCount: z.number().int().min(0).default(10),
      issueRetentionDays: z.number().int().min(1).max(36_500).default(90),
      issueRetentionRuns: z.number().int().min(1).optional(),
      /**
       * How a normal run reads the port occupancy of known containers: `per_item`, one request
       * per container (which customer is on which port is exact every night); `batch`, the
       * platform's port counts of many containers per request, and one request per container
       * only where a count changed (a change that keeps every count waits for the container's
       * weekly full read). `batch` falls back to `per_item` when the platform refuses it.
       */
      occupancyReads: z.enum(['per_item', 'batch']).default('per_item'),
    })
    .default({ attachRadiusMeters: 3, removalGuardPercent: 30, removalGuardMinCount: 10, issueRetentionDays: 90, occupancyReads: 'per_item' }),
  runs: z
    .strictObject({
      /** A run still going after this many minutes (from its start) is stopped and failed. */
      deadlineMinutes: z.number().min(0.01).max(7 * 24 * 60).default(720),
      /** A run whose progress has not moved for this many minutes is stalled: stopped and failed. */
      stallMinutes: z.number().min(0.01).max(24 * 60).default(10),
    })
    .default({ deadlineMinutes: 720, stallMinutes: 10 }),
  push: z
    .strictObject({
      enabled: z.boolean().default(true),
      fields: z
        .array(z.enum(PUSH_FIELDS, { error: `must be one of: ${PUSH_FIELDS.join(', ')}` }))
        .default([...DEFAULT_PUSH_FIELDS])
        .transform((fields) => [...new Set([...DEFAULT_PUSH_FIELDS, ...fields])]),
    })
    .default({ enabled: true, fields: [...DEFAULT_PUSH_FIELDS] }),
});

/**
 * Credentials by platform: GeoGrid (and the simulator) take `token`; OZmap takes `token` (an API
 * key) or `login` and `password` (docs platforms/ozmap-v2.md, Connection), never both.
 */
function credentialProblems(integration: { platform: string; token?: string | undefined; login?: string | undefined; password?: string | undefined }): { path: string; message: string }[] {
  const { platform, token, login, password } = integration;
  if (platform !== 'ozmap') {
    const problems = token === undefined ? [{ path: 'token', message: 'is required' }] : [];
    for (const key of ['login', 'password'] as const) {
      if (integration[key] !== undefined) problems.push({ path: key, message: `is for platform ozmap only; ${platform} takes a token` });
    }
    return problems;
  }
  if (token !== undefined && (login !== undefined || password !== undefined)) {
    return [{ path: login !== undefined ? 'login' : 'password', message: 'cannot be given with token: ozmap takes a token (API key) or login and password, not both' }];
  }
  if (token !== undefined) return [];
  if (login === undefined && password === undefined) {
    return [{ path: 'token', message: 'is required (an ozmap API key), or give login and password instead' }];
  }
  if (login === undefined) return [{ path: 'login', message: 'is required with password' }];
  if (password === undefined) return [{ path: 'password', message: 'is required with login' }];
  return [];
}

export const configSchema = z
  .strictObject({
    integrations: z.array(integrationSchema).default([]),
    scheduler: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Run once at boot a scheduled run that was due while the service was down. */
        catchUpMissedRuns: z.boolean().default(true),
      })
      .default({ enabled: true, catchUpMissedRuns: true }),
    /** This process's share of the run queue; the fleet of `mapsync serve` on one database shares it. */
    runs: z
      .strictObject({
        /** Sync runs this process executes at the same time (each on an integration of its own). */
        concurrency: z
          .number({ error: `must be a whole number of runs from 1 to ${MAX_RUN_CONCURRENCY} (e.g. 2)` })
          .int(`must be a whole number of runs from 1 to ${MAX_RUN_CONCURRENCY} (e.g. 2)`)
          .min(1, 'must be at least 1: a process that runs no sync would only queue them (set scheduler.enabled: false to stop scheduling instead)')
          .max(MAX_RUN_CONCURRENCY, `must be at most ${MAX_RUN_CONCURRENCY}: each run holds a database connection of its own; add processes instead`)
          .default(DEFAULT_RUN_CONCURRENCY),
      })
      .default({ concurrency: DEFAULT_RUN_CONCURRENCY }),
    dashboard: z
      .strictObject({
        /**
         * A MapLibre style URL drawn under the network where the browser can reach it (e.g. an
         * OpenStreetMap-based style); without it, or offline, the map has a plain background.
         */
        basemap: z
          .url({ protocol: /^https?$/, error: 'must be an http(s) URL of a MapLibre style (style.json)' })
          .optional(),
      })
      .optional(),
  })
  .superRefine((config, ctx) => {
    const seenIds = new Map<string, number>();
    const seenProjects = new Map<string, number>();
    config.integrations.forEach((integration, index) => {
      for (const problem of credentialProblems(integration)) {
        ctx.addIssue({ code: 'custom', path: ['integrations', index, problem.path], message: problem.message });
      }
      const first = seenIds.get(integration.id);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['integrations', index, 'id'],
          message: `duplicate integration id "${integration.id}" (also at integrations[${first}])`,
        });
      } else seenIds.set(integration.id, index);

      // Needs the zone, and only once the syntax is known good (else that is the message).
      if (cronSyntaxProblem(integration.schedule) === null && isValidTimeZone(integration.timezone)) {
        const problem = scheduleProblem(integration.schedule, integration.timezone);
        if (problem) ctx.addIssue({ code: 'custom', path: ['integrations', index, 'schedule'], message: problem });
      }

      const projectName = 'link' in integration.project ? integration.project.link : integration.project.create;
      const projectKey = `${integration.apiUrl.toLowerCase()}|${projectName.toLowerCase()}`;
      const owner = seenProjects.get(projectKey);
      if (owner !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['integrations', index, 'project'],
          message: `project "${projectName}" on ${integration.apiUrl} is already claimed by integrations[${owner}]; each project belongs to one integration`,
        });
      } else seenProjects.set(projectKey, index);
    });
  });

export type MapsyncConfig = z.infer<typeof configSchema>;
export type IntegrationConfig = z.infer<typeof integrationSchema>;

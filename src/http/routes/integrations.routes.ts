import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../service/app-context.ts';
import { queueRun, RunAlreadyActiveError } from '../../sync/sync-runs.repository.ts';
import { errorResponses, errorSchema } from '../openapi.ts';
import { presentIntegration } from '../presenters/integration.presenter.ts';
import { runViewSchema } from '../presenters/run.presenter.ts';

const integrationViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    platform: { type: 'string' },
    apiUrl: { type: 'string' },
    enabled: { type: 'boolean' },
    project: {
      type: 'object',
      properties: {
        mode: {
          type: 'string',
          enum: ['link', 'create'],
          description: 'link: a platform project (GeoGrid folder), read with its sub-folders; create: a project in mapsync only, nothing is created on the platform',
        },
        name: { type: 'string' },
        id: { type: ['integer', 'null'], description: 'mapsync project id, once the first run linked or created it' },
        externalId: { type: ['string', 'null'], description: "the linked platform project/folder id; null for a project created in mapsync" },
      },
    },
    scope: { type: 'object', properties: { folders: { type: 'array', items: { type: 'string' } } } },
    elements: { type: 'array', items: { type: 'string' } },
    schedule: {
      type: 'object',
      properties: {
        cron: { type: 'string' },
        timezone: { type: 'string' },
        scheduled: { type: 'boolean', description: 'false when the integration or the scheduler is disabled, or the schedule can not run (see error)' },
        nextRunAt: { type: ['string', 'null'], format: 'date-time', description: 'UTC, computed in the integration time zone' },
        error: { type: ['string', 'null'], description: 'why the schedule can not run (bad syntax, or no run in the next 5 years); null when it is fine' },
      },
    },
    lastRun: { anyOf: [{ type: 'null' }, runViewSchema] },
  },
} as const;

/** Integration ids follow the config rule: lower-case letters, digits, "-" and "_". */
export const INTEGRATION_ID_PATTERN = '^[a-z0-9][a-z0-9_-]{0,62}$';

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: INTEGRATION_ID_PATTERN, description: 'integration id from config/' } },
} as const;

const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

export async function integrationsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/v1/integrations',
    {
      schema: {
        summary: 'configured integrations, their last run and next scheduled run',
        tags: ['integrations'],
        querystring: noQuery,
        response: {
          200: { type: 'object', properties: { integrations: { type: 'array', items: integrationViewSchema } } },
          400: errorResponses[400],
          401: errorResponses[401],
        },
      },
    },
    async () => ({
      integrations: await Promise.all([...ctx.integrations.values()].map((i) => presentIntegration(ctx.knex, ctx.config, i))),
    }),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/integrations/:id',
    {
      schema: {
        summary: 'one integration, its last run and next scheduled run',
        tags: ['integrations'],
        params: idParams,
        querystring: noQuery,
        response: { 200: integrationViewSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const integration = ctx.integrations.get(request.params.id);
      if (!integration) return reply.code(404).send(unknownIntegration(request.params.id));
      return presentIntegration(ctx.knex, ctx.config, integration);
    },
  );

  app.post<{ Params: { id: string }; Body: { full?: boolean; force?: boolean } | undefined }>(
    '/v1/integrations/:id/sync',
    {
      schema: {
        summary: 'queue a sync run now',
        description:
          'full: re-read everything even if unchanged; force: merge even when the run would remove more than the mass-removal guard allows, or replace a stored network synced from another platform, host or project. 409 when a run is already queued or running for that integration, with its id.',
        tags: ['sync runs'],
        params: idParams,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { full: { type: 'boolean' }, force: { type: 'boolean' } },
        },
        response: {
          202: {
            type: 'object',
            properties: { runId: { type: 'string', format: 'uuid' }, status: { type: 'string', enum: ['queued'] } },
          },
          409: {
            description: 'a run is already queued or running for this integration',
            type: 'object',
            properties: { ...errorSchema.properties, runId: { type: 'string', format: 'uuid' } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const integration = ctx.integrations.get(request.params.id);
      if (!integration) return reply.code(404).send(unknownIntegration(request.params.id));
      const body = request.body ?? {};
      try {
        const run = await queueRun(ctx.knex, {
          integrationId: integration.id,
          trigger: 'manual',
          options: { full: body.full === true, force: body.force === true },
        });
        ctx.wake.runs();
        return reply.code(202).header('location', `/v1/sync-runs/${run.id}`).send({ runId: run.id, status: 'queued' });
      } catch (error) {
        if (!(error instanceof RunAlreadyActiveError)) throw error;
        return reply.code(409).header('location', `/v1/sync-runs/${error.runId}`).send({
          error: 'run_active',
          message: `a sync run of ${integration.id} is already queued or running`,
          runId: error.runId,
        });
      }
    },
  );
}

function unknownIntegration(id: string) {
  return { error: 'not_found', message: `no integration "${id}" is configured` };
}

import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../service/app-context.ts';
import { cancelRun, getRun, listRuns } from '../../sync/sync-runs.repository.ts';
import { offsetSchema } from '../input-validation.ts';
import { errorResponses, errorSchema, UUID_PATTERN } from '../openapi.ts';
import { issueViewSchema, loadRunReport } from '../presenters/run-report.ts';
import { presentRun, runViewSchema } from '../presenters/run.presenter.ts';

const runIdParams = {
  type: 'object',
  required: ['runId'],
  properties: { runId: { type: 'string', pattern: UUID_PATTERN, description: 'run id (UUID)' } },
} as const;

const countMap = { type: 'object', additionalProperties: { type: 'integer' } } as const;

export async function syncRunsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: { integration?: string; limit: number; before?: string } }>(
    '/v1/sync-runs',
    {
      schema: {
        summary: 'run history, newest first',
        tags: ['sync runs'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            integration: { type: 'string', minLength: 1 },
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 20 },
            before: { type: 'string', format: 'date-time', description: 'only runs queued before this time (paging)' },
          },
        },
        response: { 200: { type: 'object', properties: { runs: { type: 'array', items: runViewSchema } } }, ...errorResponses },
      },
    },
    async (request) => {
      const { integration, limit, before } = request.query;
      const runs = await listRuns(ctx.knex, {
        ...(integration ? { integrationId: integration } : {}),
        limit,
        ...(before ? { before: new Date(before) } : {}),
      });
      return { runs: runs.map(presentRun) };
    },
  );

  app.get<{ Params: { runId: string } }>(
    '/v1/sync-runs/:runId',
    {
      schema: {
        summary: 'one run: status, trigger, times and counts per element kind',
        tags: ['sync runs'],
        params: runIdParams,
        response: { 200: runViewSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const run = await getRun(ctx.knex, request.params.runId);
      if (!run) return reply.code(404).send(unknownRun(request.params.runId));
      return presentRun(run);
    },
  );

  app.post<{ Params: { runId: string } }>(
    '/v1/sync-runs/:runId/cancel',
    {
      schema: {
        summary: 'cancel a queued or running run',
        description:
          'The run becomes `failed` with the error "cancelled by operator" at once, which frees the integration for a new run. A running run stops at its next checkpoint (within seconds) and commits nothing: the previous state stays. 409 when the run had already finished.',
        tags: ['sync runs'],
        params: runIdParams,
        response: {
          200: runViewSchema,
          409: {
            description: 'the run had already finished',
            type: 'object',
            properties: { ...errorSchema.properties, run: runViewSchema },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const result = await cancelRun(ctx.knex, request.params.runId);
      if (result.outcome === 'not_found') return reply.code(404).send(unknownRun(request.params.runId));
      if (result.outcome === 'already_finished') {
        return reply.code(409).send({
          error: 'run_finished',
          message: `sync run ${result.run.id} already finished (${result.run.status}); there is nothing to cancel`,
          run: presentRun(result.run),
        });
      }
      request.log.info({ runId: result.run.id, integration: result.run.integrationId, wasRunning: result.wasRunning }, 'sync run cancelled by operator');
      return presentRun(result.run);
    },
  );

  app.get<{ Params: { runId: string }; Querystring: { limit: number; offset: number; kind?: string; code?: string } }>(
    '/v1/sync-runs/:runId/report',
    {
      schema: {
        summary: "one run's issues: rejected elements and unlinked or ambiguous customers, each with a code and a reason",
        tags: ['sync runs'],
        params: runIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset: offsetSchema(),
            kind: { type: 'string', minLength: 1, description: 'only issues of this element kind' },
            code: { type: 'string', minLength: 1, description: 'only issues with this code' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              run: runViewSchema,
              summary: {
                type: 'object',
                properties: {
                  total: { type: 'integer' },
                  byCode: countMap,
                  byKind: countMap,
                  issuesPrunedAt: { type: ['string', 'null'], format: 'date-time', description: 'when the retention (sync.issueRetentionDays / issueRetentionRuns) deleted this run\'s issues' },
                },
              },
              issues: { type: 'array', items: issueViewSchema },
              page: {
                type: 'object',
                properties: {
                  limit: { type: 'integer' },
                  offset: { type: 'integer' },
                  total: { type: 'integer' },
                  nextOffset: { type: ['integer', 'null'] },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const run = await getRun(ctx.knex, request.params.runId);
      if (!run) return reply.code(404).send(unknownRun(request.params.runId));
      const report = await loadRunReport(ctx.knex, run.id, request.query);
      return { run: presentRun(run), ...report };
    },
  );
}

function unknownRun(runId: string) {
  return { error: 'not_found', message: `no sync run ${runId}` };
}

import type { FastifyInstance } from 'fastify';
import { toPushView } from '../../bindings/bindings.service.ts';
import { OUTBOX_STATUSES, getPush, listPushes, retryPush, type OutboxStatus } from '../../push/outbox.repository.ts';
import type { AppContext } from '../../service/app-context.ts';
import { idParamsSchema, idSchema } from '../input-validation.ts';
import { errorResponses, errorSchema } from '../openapi.ts';
import { pushViewSchema } from '../presenters/binding-view.schema.ts';

const idParams = idParamsSchema('push (outbox row) id');

export async function pushesRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: { status?: OutboxStatus; integration?: string; limit: number; after?: number } }>(
    '/v1/pushes',
    {
      schema: {
        summary: 'the push outbox, oldest first; ?status=failed lists the parked ones',
        tags: ['pushes'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: [...OUTBOX_STATUSES] },
            integration: { type: 'string', minLength: 1 },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
            after: { ...idSchema('only pushes with a greater id (paging: pass the last id seen)'), minimum: 0 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              pushes: { type: 'array', items: pushViewSchema },
              nextAfter: { type: ['integer', 'null'], description: 'pass as `after` for the next page; null on the last one' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { status, integration, limit, after } = request.query;
      const rows = await listPushes(ctx.knex, {
        limit,
        ...(status ? { status } : {}),
        ...(integration ? { integrationId: integration } : {}),
        ...(after !== undefined ? { afterId: after } : {}),
      });
      const pushes = rows.map(toPushView);
      return { pushes, nextAfter: rows.length === limit ? rows[rows.length - 1]!.id : null };
    },
  );

  app.get<{ Params: { id: number } }>(
    '/v1/pushes/:id',
    { schema: { summary: 'one push', tags: ['pushes'], params: idParams, response: { 200: { description: 'the push', ...pushViewSchema }, ...errorResponses } } },
    async (request, reply) => {
      const row = await getPush(ctx.knex, request.params.id);
      if (!row) return reply.code(404).send({ error: 'push_not_found', message: `no push ${request.params.id}` });
      return toPushView(row);
    },
  );

  app.post<{ Params: { id: number } }>(
    '/v1/pushes/:id/retry',
    {
      schema: {
        summary: 'put a failed push back in line now (after fixing the data), with a fresh attempt count',
        tags: ['pushes'],
        params: idParams,
        response: { 200: { description: 'the push, back in line', ...pushViewSchema }, ...errorResponses, 409: { description: 'the push is done, cancelled or being delivered', ...errorSchema } },
      },
    },
    async (request, reply) => {
      const id = request.params.id;
      const row = await ctx.knex.transaction(async (trx) => {
        const retried = await retryPush(trx, id);
        if (retried) {
          await trx('bindings')
            .where({ id: retried.binding_id })
            .whereNot('status', 'cancelled')
            .update({ sync_state: 'queued', updated_at: trx.fn.now() });
        }
        return retried;
      });
      if (!row) {
        const existing = await getPush(ctx.knex, id);
        if (!existing) return reply.code(404).send({ error: 'push_not_found', message: `no push ${id}` });
        return reply.code(409).send({ error: `push_${existing.status}`, message: `push ${id} is ${existing.status}; only failed or pending pushes can be retried` });
      }
      ctx.wake.pushes();
      return toPushView(row);
    },
  );
}

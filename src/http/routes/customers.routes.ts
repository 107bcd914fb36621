import type { FastifyInstance } from 'fastify';
import { MAX_ITEMS_PER_REQUEST, upsertCustomers } from '../../customers/customers.service.ts';
import type { AppContext } from '../../service/app-context.ts';
import type { InputGuardRouteConfig } from '../input-validation.ts';
import { errorResponses, errorSchema } from '../openapi.ts';

/** 1000 items of a few hundred bytes each, with room for long addresses. */
const BODY_LIMIT_BYTES = 10 * 1024 * 1024;

const countsSchema = {
  type: 'object',
  properties: { created: { type: 'integer' }, updated: { type: 'integer' }, unchanged: { type: 'integer' } },
} as const;

const itemNotesSchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      index: { type: 'integer' },
      serviceId: { type: ['string', 'null'] },
      field: { type: 'string' },
      message: { type: 'string' },
    },
  },
} as const;

export async function customersRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post(
    '/v1/customers',
    {
      bodyLimit: BODY_LIMIT_BYTES,
      // Bad text in one item is that item's error; the others are still saved.
      config: { bodyCheckedPerItem: true } satisfies InputGuardRouteConfig,
      schema: {
        summary: 'bulk upsert of ERP service contracts and their holders (at most 1000 items a request)',
        description:
          'Body: `{"items": [...]}` or a bare array. One item is one service contract with its holder: ' +
          '`serviceId` (id_cliente_servico, required), `document` (CPF or CNPJ, numeric or alphanumeric, any punctuation; required), ' +
          '`name` (required), `personType` (person|company, derived from the document when left out), ' +
          '`status` (active|inactive|suspended|cancelled, default active), `address`, `lat`+`lon` (WGS 84), ' +
          '`email`, `phone`, `city`, `state`, `zipCode`. Optional fields left out keep the stored value. ' +
          'Two keys for one field (`cpf` and `cnpj`, `telefone` and `celular`) are merged: the non-empty one is taken; ' +
          'two different documents, service ids or statuses refuse the item; other differences keep the first key and are listed in `warnings`. ' +
          'Bad items are reported in `errors` (index, serviceId, field, message) and the others are saved. ' +
          'Counts are of contracts; `customers` counts their holders by document. ' +
          'The links of the platform customers these contracts concern (by document, or by an id in the observation) are decided again at once.',
        tags: ['customers'],
        response: {
          200: {
            type: 'object',
            properties: {
              created: { type: 'integer' },
              updated: { type: 'integer' },
              unchanged: { type: 'integer' },
              customers: countsSchema,
              errors: itemNotesSchema,
              warnings: itemNotesSchema,
            },
          },
          413: { description: 'more than 1000 items', ...errorSchema },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const body = request.body as unknown;
      const items = Array.isArray(body) ? body : body && typeof body === 'object' ? (body as { items?: unknown }).items : undefined;
      if (!Array.isArray(items)) {
        return reply.code(400).send({ error: 'bad_request', message: 'send {"items": [...]} (or a JSON array) of service contracts' });
      }
      if (items.length > MAX_ITEMS_PER_REQUEST) {
        return reply.code(413).send({
          error: 'too_many_items',
          message: `at most ${MAX_ITEMS_PER_REQUEST} items a request; this one has ${items.length}. Split it into several requests.`,
        });
      }
      const result = await upsertCustomers(ctx.knex, items);
      request.log.info(
        { created: result.created, updated: result.updated, unchanged: result.unchanged, errors: result.errors.length },
        'ERP customers upserted',
      );
      return result;
    },
  );
}

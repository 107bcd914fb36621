import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../service/app-context.ts';
import { loadBoxPorts } from '../../map/box-ports.repository.ts';
import { SEARCH_LIMIT, searchMap } from '../../map/map-search.repository.ts';
import { idParamsSchema } from '../input-validation.ts';
import { errorResponses } from '../openapi.ts';
import { INTEGRATION_ID_PATTERN } from './integrations.routes.ts';

const nullableString = { type: 'string', nullable: true } as const;
const nullableNumber = { type: 'number', nullable: true } as const;

/** What the map page asks besides tiles: a search box, and the ports of a clicked box. */
export async function mapRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: { integration: string; q: string; limit?: number } }>(
    '/v1/search',
    {
      schema: {
        summary: 'find a customer (name or service id) or a box (name) on the map',
        description:
          'A service id (`id_cliente_servico`) matches exactly: its platform customer, or the ERP contract itself when no customer on the map is linked to it. ' +
          'Otherwise the text is looked for in customer and box names, names that start with it first. Each hit has its position (EPSG:4326).',
        tags: ['map'],
        querystring: {
          type: 'object',
          required: ['integration', 'q'],
          additionalProperties: false,
          properties: {
            integration: { type: 'string', pattern: INTEGRATION_ID_PATTERN, description: 'integration id from config/' },
            q: { type: 'string', minLength: 2, maxLength: 100, description: 'at least 2 characters' },
            limit: { type: 'integer', minimum: 1, maximum: SEARCH_LIMIT.max, default: SEARCH_LIMIT.default },
          },
        },
        response: {
          200: {
            description: 'hits, best first',
            type: 'object',
            properties: {
              results: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    kind: { type: 'string', enum: ['customer', 'box', 'contract'] },
                    id: { type: 'integer' },
                    integrationId: nullableString,
                    name: nullableString,
                    externalId: nullableString,
                    serviceId: nullableString,
                    linkStatus: nullableString,
                    lat: nullableNumber,
                    lon: nullableNumber,
                  },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { integration, q, limit } = request.query;
      if (q.trim().length < 2) return reply.code(400).send({ error: 'bad_request', message: 'q must hold at least 2 characters besides spaces' });
      if (!ctx.integrations.has(integration)) return reply.code(404).send({ error: 'not_found', message: `no integration "${integration}" in config/` });
      return { results: await searchMap(ctx.knex, { integrationId: integration, q, ...(limit !== undefined ? { limit } : {}) }) };
    },
  );

  const portSchema = {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      externalId: { type: 'string' },
      number: { type: 'integer' },
      label: nullableString,
      state: { type: 'string', enum: ['free', 'taken', 'held', 'unavailable', 'planned'] },
      customer: {
        type: 'object',
        nullable: true,
        properties: { id: { type: 'integer', nullable: true }, externalId: { type: 'string' }, name: nullableString, linkStatus: nullableString, serviceId: nullableString },
      },
      binding: {
        type: 'object',
        nullable: true,
        properties: { id: { type: 'integer' }, status: { type: 'string' }, syncState: { type: 'string' }, serviceId: { type: 'string' } },
      },
    },
  } as const;

  app.get<{ Params: { id: number } }>(
    '/v1/boxes/:id/ports',
    {
      schema: {
        summary: "a box's splitters, their ports and who is on each",
        description:
          '`state` of a port: `free` (can be offered: what viability lists), `taken` (a customer is on it on the platform), `held` (a mapsync binding holds it), ' +
          '`unavailable` (reserved or blocked on the platform), `planned` (not built yet).',
        tags: ['map'],
        params: idParamsSchema('mapsync box id (the feature id in the boxes tile layer)'),
        response: {
          200: {
            description: 'the box and its splitters',
            type: 'object',
            properties: {
              box: {
                type: 'object',
                properties: {
                  id: { type: 'integer' },
                  integrationId: { type: 'string' },
                  externalId: { type: 'string' },
                  name: nullableString,
                  boxKind: { type: 'string' },
                  auto: { type: 'boolean' },
                  planned: { type: 'boolean' },
                  lat: { type: 'number' },
                  lon: { type: 'number' },
                },
              },
              splitters: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'integer' },
                    externalId: { type: 'string' },
                    name: nullableString,
                    role: { type: 'string' },
                    ratio: { type: 'string' },
                    planned: { type: 'boolean' },
                    ports: { type: 'array', items: portSchema },
                  },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const found = await loadBoxPorts(ctx.knex, request.params.id);
      if (!found) return reply.code(404).send({ error: 'not_found', message: `no box ${request.params.id} (or it was removed from the platform)` });
      return found;
    },
  );
}

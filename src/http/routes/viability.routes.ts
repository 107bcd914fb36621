import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../service/app-context.ts';
import { findViableBoxes, VIABILITY_LIMIT, VIABILITY_RADIUS_METRES, ViabilityError } from '../../map/viability.service.ts';
import { errorResponses, errorSchema } from '../openapi.ts';
import { INTEGRATION_ID_PATTERN } from './integrations.routes.ts';

interface ViabilityQuerystring {
  integration?: string;
  lat?: number;
  lon?: number;
  serviceId?: string;
  radius?: number;
  limit?: number;
}

const portSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer', description: 'mapsync port id (POST /v1/bindings portId)' },
    externalId: { type: 'string' },
    number: { type: 'integer' },
    label: { type: 'string', nullable: true },
    splitter: {
      type: 'object',
      properties: { id: { type: 'integer' }, externalId: { type: 'string' }, name: { type: 'string', nullable: true }, ratio: { type: 'string' } },
    },
  },
} as const;

export const viabilitySchema = {
  type: 'object',
  properties: {
    origin: {
      type: 'object',
      properties: {
        lat: { type: 'number' },
        lon: { type: 'number' },
        source: { type: 'string', enum: ['point', 'contract'] },
        serviceId: { type: 'string' },
        address: { type: 'string', nullable: true },
      },
    },
    radiusMetres: { type: 'number' },
    boxes: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          integrationId: { type: 'string' },
          id: { type: 'integer', description: 'mapsync box id' },
          externalId: { type: 'string' },
          name: { type: 'string', nullable: true },
          boxKind: { type: 'string' },
          lat: { type: 'number' },
          lon: { type: 'number' },
          distanceMetres: { type: 'number' },
          freePortCount: { type: 'integer' },
          freePorts: { type: 'array', items: portSchema },
        },
      },
    },
  },
} as const;

/** `GET /v1/viability`: which service boxes can serve a point or a contract's address, from PostGIS. */
export async function viabilityRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: ViabilityQuerystring }>(
    '/v1/viability',
    {
      schema: {
        summary: 'viability: the nearest service boxes with free ports, in metres',
        description:
          'Give `lat` and `lon` (EPSG:4326), or `serviceId` to use the location stored with that ERP contract. ' +
          'Lists boxes within `radius` metres that have at least one port that can be offered (never planned, reserved, blocked, taken or held by a binding), nearest first, each with those ports. ' +
          'Answered from the synced data alone, with no platform call. Without `integration`, every configured integration is searched.',
        tags: ['map'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            integration: { type: 'string', pattern: INTEGRATION_ID_PATTERN, description: 'integration id from config/ (default: all)' },
            lat: { type: 'number', minimum: -90, maximum: 90, description: 'latitude, EPSG:4326' },
            lon: { type: 'number', minimum: -180, maximum: 180, description: 'longitude, EPSG:4326' },
            serviceId: { type: 'string', minLength: 1, maxLength: 200, description: "an ERP contract's id_cliente_servico: its stored location is used" },
            radius: {
              type: 'number',
              exclusiveMinimum: 0,
              maximum: VIABILITY_RADIUS_METRES.max,
              default: VIABILITY_RADIUS_METRES.default,
              description: `metres (default ${VIABILITY_RADIUS_METRES.default}, at most ${VIABILITY_RADIUS_METRES.max})`,
            },
            limit: { type: 'integer', minimum: 1, maximum: VIABILITY_LIMIT.max, default: VIABILITY_LIMIT.default, description: 'how many boxes' },
          },
        },
        response: {
          200: { description: 'nearest boxes with free ports (an empty list when none is within the radius)', ...viabilitySchema },
          ...errorResponses,
          422: { description: 'the contract has no stored location', ...errorSchema },
        },
      },
    },
    async (request, reply) => {
      const { integration, lat, lon, serviceId, radius, limit } = request.query;
      const hasPoint = lat !== undefined || lon !== undefined;
      if (serviceId !== undefined && hasPoint) {
        return reply.code(400).send({ error: 'bad_request', message: 'give either lat and lon, or serviceId, not both' });
      }
      if (serviceId === undefined && (lat === undefined || lon === undefined)) {
        return reply.code(400).send({ error: 'bad_request', message: 'give lat and lon (EPSG:4326), or serviceId' });
      }
      if (integration !== undefined && !ctx.integrations.has(integration)) {
        return reply.code(404).send({ error: 'not_found', message: `no integration "${integration}" in config/` });
      }
      try {
        return await findViableBoxes(ctx.knex, {
          at: serviceId !== undefined ? { serviceId } : { lat: lat!, lon: lon! },
          ...(radius !== undefined ? { radiusMetres: radius } : {}),
          ...(limit !== undefined ? { limit } : {}),
          integrationIds: integration !== undefined ? [integration] : [...ctx.integrations.keys()],
        });
      } catch (error) {
        if (error instanceof ViabilityError) return reply.code(error.statusCode).send({ error: error.code, message: error.message });
        throw error;
      }
    },
  );
}

import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';

/**
 * Collects the route schemas into an OpenAPI document (served at /openapi.json). Must be
 * registered on the root instance before any route, so it sees every route.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'mapsync',
        version: '1',
        description:
          "Keeps an ISP's ERP in step with its fibre-network mapping platform. Every route but health, the dashboard and this document needs `Authorization: Bearer $MAPSYNC_API_TOKEN`. Times are UTC.",
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
}

export const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
  },
} as const;

/** Standard error responses, for the OpenAPI document. */
export const errorResponses = {
  400: { description: 'bad input', ...errorSchema },
  401: { description: 'missing or wrong bearer token', ...errorSchema },
  404: { description: 'not found', ...errorSchema },
} as const;

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

import type { FastifyInstance } from 'fastify';

/** The OpenAPI document of the whole API (public, like the dashboard). */
export async function openapiRoutes(app: FastifyInstance): Promise<void> {
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

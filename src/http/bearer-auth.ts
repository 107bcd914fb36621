import bearerAuth from '@fastify/bearer-auth';
import type { FastifyInstance } from 'fastify';

const PUBLIC_ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/', '/openapi.json']);

/**
 * `Authorization: Bearer $MAPSYNC_API_TOKEN` on every route but the public ones (health,
 * metrics, the OpenAPI document, the dashboard's files). @fastify/bearer-auth compares the
 * token in constant time; it is registered without its own hook so the public routes can
 * be left out, and the scheme name is matched without case (RFC 6749).
 */
export async function registerBearerAuth(app: FastifyInstance, apiToken: string): Promise<void> {
  await app.register(bearerAuth, { keys: [apiToken], addHook: false, specCompliance: 'rfc6749', verifyErrorLogLevel: 'info' });
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url ?? request.url.split('?')[0]!;
    if (PUBLIC_ROUTES.has(route) || route.startsWith('/dashboard/')) return done();
    app.verifyBearerAuth!(request, reply, (error?: Error) => {
      if (!error) return done();
      reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', message: 'Send Authorization: Bearer <MAPSYNC_API_TOKEN>' });
    });
  });
}

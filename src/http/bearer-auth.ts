import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

const PUBLIC_ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/', '/openapi.json']);

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Compares in constant time; hashing first makes the lengths equal too. */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

export function registerBearerAuth(app: FastifyInstance, apiToken: string): void {
  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url ?? request.url.split('?')[0]!;
    if (PUBLIC_ROUTES.has(route) || route.startsWith('/dashboard/')) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !tokenMatches(match[1]!.trim(), apiToken)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', message: 'Send Authorization: Bearer <MAPSYNC_API_TOKEN>' });
    }
  });
}

import type { FastifyInstance } from 'fastify';
import { pendingMigrations } from '../../db/migrator.ts';
import type { AppContext } from '../../service/app-context.ts';

export async function healthRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const checks: Record<string, string> = {};
    try {
      await ctx.knex.raw('SELECT 1');
      checks.database = 'ok';
      const pending = await pendingMigrations(ctx.knex);
      checks.migrations = pending.length === 0 ? 'ok' : `${pending.length} pending: run \`mapsync migrate\``;
    } catch (error) {
      checks.database = `unreachable: ${error instanceof Error ? error.message : String(error)}`;
    }
    const ready = Object.values(checks).every((value) => value === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    return reply.header('content-type', ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
}

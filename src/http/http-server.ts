import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AppContext } from '../service/app-context.ts';
import { registerBearerAuth } from './bearer-auth.ts';
import { registerInputValidation } from './input-validation.ts';
import { registerOpenApi } from './openapi.ts';
import { routeModules } from './routes/index.ts';

export interface HttpServerOptions {
  apiToken: string;
}

export async function buildHttpServer(ctx: AppContext, options: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Unknown keys in a body or query are an error (400), not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
    // A malformed or over-long URL gets the API's own error shape, like every other refusal.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      return reply.code(status).send({ error: 'bad_request', message: error.message });
    },
  });
  await registerBearerAuth(app, options.apiToken);
  await registerOpenApi(app);
  registerInputValidation(app);
  for (const routes of routeModules) {
    await app.register(async (scope) => routes(scope, ctx));
  }
  return app;
}

/**
 * The one validation layer every route shares, so bad input is a 400 naming the field
 * and never reaches SQL as a 500:
 * - ids and offsets are integers PostgreSQL `bigint` can hold (schema fragments below);
 * - no string anywhere in the path, query or body holds text PostgreSQL cannot store
 *   (NUL, unpaired surrogates), checked by a hook before any handler runs;
 * - an empty body sent as application/json means "no body", as curl sends it;
 * - the error handler maps what still slips through: PostgreSQL data exceptions (class 22,
 *   e.g. 22003 out of range, 22021 bad byte, 22P02 bad number) become 400 as a last
 *   resort, and a 500 shows a generic message with the request id, never SQL.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findUnstorableText } from '../domain/storable-text.ts';

/**
 * Largest id or offset accepted: JavaScript integers are exact up to 2^53 - 1, well inside
 * `bigint` (2^63 - 1), so an accepted number is the one the client sent.
 */
export const MAX_INTEGER_INPUT = Number.MAX_SAFE_INTEGER;

/** A database row id in a path or body: 1 ≤ id ≤ 2^53 - 1. */
export function idSchema(description: string) {
  return { type: 'integer', minimum: 1, maximum: MAX_INTEGER_INPUT, description } as const;
}

/** `:id` path parameters of a row id. */
export function idParamsSchema(description: string) {
  return { type: 'object', required: ['id'], properties: { id: idSchema(description) } } as const;
}

/** A paging offset or "after this id" cursor: 0 ≤ n ≤ 2^53 - 1. */
export function offsetSchema(description?: string) {
  return { type: 'integer', minimum: 0, maximum: MAX_INTEGER_INPUT, default: 0, ...(description ? { description } : {}) } as const;
}

/** Routes whose body is checked item by item by the route itself (e.g. POST /v1/customers). */
export interface InputGuardRouteConfig {
  bodyCheckedPerItem?: boolean;
}

export class BadInputError extends Error {
  readonly statusCode = 400;
  constructor(message: string) {
    super(message);
    this.name = 'BadInputError';
  }
}

/**
 * Ajv coerces a query or path value such as `1e400` or `Infinity` to Infinity (JSON.parse
 * reads a body's 1e400 so too), and then
 * accepts it as an integer within any maximum; it would reach a handler and fail later.
 * A value a route types as a number must be a finite one.
 */
function refuseInfiniteNumbers(request: FastifyRequest): void {
  const schema = request.routeOptions.schema as { params?: unknown; querystring?: unknown; body?: unknown } | undefined;
  const sources: [string, unknown, unknown][] = [
    ['params', request.params, schema?.params],
    ['querystring', request.query, schema?.querystring],
    // JSON.parse reads 1e400 as Infinity too.
    ['body', request.body, schema?.body],
  ];
  for (const [where, values, declared] of sources) {
    const properties = (declared as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties;
    if (!properties || values === null || typeof values !== 'object') continue;
    for (const [name, property] of Object.entries(properties)) {
      if (property.type !== 'integer' && property.type !== 'number') continue;
      const raw = (values as Record<string, unknown>)[name];
      if (raw === undefined || raw === null || raw === '') continue;
      if (!Number.isFinite(Number(raw))) throw new BadInputError(`${where}/${name} must be a finite number`);
    }
  }
}

function refuseUnstorableText(request: FastifyRequest): void {
  const sources: [string, unknown][] = [
    ['params', request.params],
    ['querystring', request.query],
  ];
  const config = request.routeOptions.config as InputGuardRouteConfig | undefined;
  if (!config?.bodyCheckedPerItem) sources.push(['body', request.body]);
  for (const [where, value] of sources) {
    const found = findUnstorableText(value);
    if (found) throw new BadInputError(`${where}/${found.path} ${found.problem}`);
  }
}

/** The PostgreSQL SQLSTATE of an error thrown by pg (through knex), if it is one. */
function sqlState(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

/** Registers the shared checks on the root instance, before any route. */
export function registerInputValidation(app: FastifyInstance): void {
  // fastify's own JSON parser (it refuses __proto__ and constructor.prototype keys), except for an empty body.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (String(body).trim() === '') return done(null, undefined);
    jsonParser(request, String(body), done);
  });

  app.addHook('preValidation', async (request) => {
    refuseUnstorableText(request);
    refuseInfiniteNumbers(request);
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}; the routes are listed at /openapi.json` }),
  );

  app.setErrorHandler((error: FastifyError & { validation?: unknown }, request: FastifyRequest, reply: FastifyReply) => {
    if (error.validation) {
      return reply.code(400).send({ error: 'bad_request', message: error.message });
    }
    const state = sqlState(error);
    if (state?.startsWith('22')) {
      // Only reached when a route's own checks missed a case; the SQL text stays in the log.
      request.log.warn({ err: error, sqlState: state }, 'bad input reached the database');
      return reply.code(400).send({
        error: 'bad_request',
        message: `a value in the request cannot be stored (out of range or not valid text; PostgreSQL ${state})`,
      });
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 && !state ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(status).send({
        error: 'internal_error',
        message: `internal error; the log has the details under request id ${request.id}`,
        requestId: request.id,
      });
    }
    return reply.code(status).send({ error: 'bad_request', message: error.message });
  });
}

import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../service/app-context.ts';
import { cancelRun, getRun, listRuns } from '../../sync/sync-runs.repository.ts';
import { offsetSchema } from '../input-validation.ts';
import { errorResponses, errorSchema, UUID_PATTERN } from '../openapi.ts';
import { issueViewSchema, loadRunReport } from '../presenters/run-report.ts';
import { REPORT_CSV_COLUMNS, runReportCsvChunks } from '../presenters/run-report-csv.ts';
import { streamedBody } from '../streamed-body.ts';
import { presentRun, runViewSchema } from '../presenters/run.presenter.ts';

const runIdParams = {
  type: 'object',
  required: ['runId'],
  properties: { runId: { type: 'string', pattern: UUID_PATTERN, description: 'run id (UUID)' } },
} as const;

/** Filters shared by the JSON and CSV reports. */
const issueFilterProperties = {
  kind: { type: 'string', minLength: 1, maxLength: 200, description: 'only issues of this element kind (or a comma-separated list of kinds)' },
  code: { type: 'string', minLength: 1, maxLength: 500, description: 'only issues with this code (or a comma-separated list, e.g. unmatched,ambiguous)' },
  q: { type: 'string', minLength: 1, maxLength: 200, description: "text anywhere in the platform id, the reason or the customer's name, any case" },
} as const;

const countMap = { type: 'object', additionalProperties: { type: 'integer' } } as const;

export async function syncRunsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: { integration?: string; limit: number; before?: string } }>(
    '/v1/sync-runs',
    {
      schema: {
        summary: 'run history, newest first',
        tags: ['sync runs'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            integration: { type: 'string', minLength: 1 },
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 20 },
            before: { type: 'string', format: 'date-time', description: 'only runs queued before this time (paging)' },
          },
        },
        response: { 200: { type: 'object', properties: { runs: { type: 'array', items: runViewSchema } } }, ...errorResponses },
      },
    },
    async (request) => {
      const { integration, limit, before } = request.query;
      const runs = await listRuns(ctx.knex, {
        ...(integration ? { integrationId: integration } : {}),
        limit,
        ...(before ? { before: new Date(before) } : {}),
      });
      return { runs: runs.map(presentRun) };
    },
  );

  app.get<{ Params: { runId: string } }>(
    '/v1/sync-runs/:runId',
    {
      schema: {
        summary: 'one run: status, trigger, times and counts per element kind',
        tags: ['sync runs'],
        params: runIdParams,
        response: { 200: runViewSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const run = await getRun(ctx.knex, request.params.runId);
      if (!run) return reply.code(404).send(unknownRun(request.params.runId));
      return presentRun(run);
    },
  );

  app.post<{ Params: { runId: string } }>(
    '/v1/sync-runs/:runId/cancel',
    {
      schema: {
        summary: 'cancel a queued or running run',
        description:
          'The run becomes `failed` with the error "cancelled by operator" at once, which frees the integration for a new run. A running run stops at its next checkpoint (within seconds) and commits nothing: the previous state stays. 409 when the run had already finished.',
        tags: ['sync runs'],
        params: runIdParams,
        response: {
          200: runViewSchema,
          409: {
            description: 'the run had already finished',
            type: 'object',
            properties: { ...errorSchema.properties, run: runViewSchema },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const result = await cancelRun(ctx.knex, request.params.runId);
      if (result.outcome === 'not_found') return reply.code(404).send(unknownRun(request.params.runId));
      if (result.outcome === 'already_finished') {
        return reply.code(409).send({
          error: 'run_finished',
          message: `sync run ${result.run.id} already finished (${result.run.status}); there is nothing to cancel`,
          run: presentRun(result.run),
        });
      }
      request.log.info({ runId: result.run.id, integration: result.run.integrationId, wasRunning: result.wasRunning }, 'sync run cancelled by operator');
      return presentRun(result.run);
    },
  );

  app.get<{ Params: { runId: string }; Querystring: { limit: number; offset: number; kind?: string; code?: string; q?: string } }>(
    '/v1/sync-runs/:runId/report',
    {
      schema: {
        summary: "one run's issues: rejected elements and unlinked or ambiguous customers, each with a code and a reason",
        tags: ['sync runs'],
        params: runIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset: offsetSchema(),
            ...issueFilterProperties,
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              run: runViewSchema,
              summary: {
                type: 'object',
                properties: {
                  total: { type: 'integer' },
                  byCode: countMap,
                  byKind: countMap,
                  issuesPrunedAt: { type: ['string', 'null'], format: 'date-time', description: 'when the retention (sync.issueRetentionDays / issueRetentionRuns) deleted this run\'s issues' },
                },
              },
              issues: { type: 'array', items: issueViewSchema },
              page: {
                type: 'object',
                properties: {
                  limit: { type: 'integer' },
                  offset: { type: 'integer' },
                  total: { type: 'integer' },
                  nextOffset: { type: ['integer', 'null'] },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const run = await getRun(ctx.knex, request.params.runId);
      if (!run) return reply.code(404).send(unknownRun(request.params.runId));
      const report = await loadRunReport(ctx.knex, run.id, request.query);
      return { run: presentRun(run), ...report };
    },
  );

  app.get<{ Params: { runId: string }; Querystring: { kind?: string; code?: string; q?: string; delimiter: 'comma' | 'semicolon'; bom: boolean } }>(
    '/v1/sync-runs/:runId/report.csv',
    {
      schema: {
        summary: "one run's issues as CSV (e.g. its unmatched and ambiguous customers: code=unmatched,ambiguous)",
        description:
          `Columns: ${REPORT_CSV_COLUMNS.join(', ')}. A customer's issue carries its name, masked document, box and port as mapsync has them now. ` +
          'RFC 4180: CRLF line ends; a field holding the delimiter, a quote or a line break is quoted, with quotes doubled. ' +
          'UTF-8 with a byte order mark (bom=false leaves it out). `delimiter=semicolon` gives the file Excel splits into columns on a double-click ' +
          'where the decimal mark is a comma (pt-BR). A text starting with = + - @ or a tab is prefixed with \' (no formula runs in a spreadsheet). ' +
          'Streamed: any number of issues.',
        tags: ['sync runs'],
        params: runIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...issueFilterProperties,
            delimiter: { type: 'string', enum: ['comma', 'semicolon'], default: 'comma' },
            bom: { type: 'boolean', default: true, description: 'start with a UTF-8 byte order mark (Excel reads accents right with it)' },
          },
        },
        response: {
          200: { description: 'the issues, one per line after the header', content: { 'text/csv': { schema: { type: 'string' } } } },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const run = await getRun(ctx.knex, request.params.runId);
      if (!run) return reply.code(404).send(unknownRun(request.params.runId));
      reply
        .header('content-type', 'text/csv; charset=utf-8; header=present')
        .header('content-disposition', `attachment; filename="mapsync-run-${run.id}-report.csv"`)
        .header('cache-control', 'no-store');
      if (request.method === 'HEAD') return reply.send();
      const { kind, code, q, delimiter, bom } = request.query;
      const body = streamedBody(
        runReportCsvChunks(ctx.knex, run.id, { ...(kind ? { kind } : {}), ...(code ? { code } : {}), ...(q ? { q } : {}) }, { delimiter: delimiter === 'semicolon' ? ';' : ',', bom }),
      );
      body.on('error', (error) => request.log.error({ err: error, runId: run.id }, 'report CSV stream failed; the response was cut short'));
      return reply.send(body);
    },
  );
}

function unknownRun(runId: string) {
  return { error: 'not_found', message: `no sync run ${runId}` };
}

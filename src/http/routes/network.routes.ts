import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import type { AppContext } from '../../service/app-context.ts';
import { errorResponses } from '../openapi.ts';
import { INTEGRATION_ID_PATTERN } from './integrations.routes.ts';

export const NETWORK_LAYERS = ['poles', 'boxes', 'splitters', 'customers'] as const;
export type NetworkLayer = (typeof NETWORK_LAYERS)[number];

interface FeatureRow {
  id: number;
  external_id: string;
  geometry: unknown;
  properties: Record<string, unknown>;
}

/** Rows of each layer, still present on the platform (removed rows are left out). */
const LAYER_SQL: Record<NetworkLayer, string> = {
  poles: `SELECT id, external_id, ST_AsGeoJSON(geom, 7)::json AS geometry,
                 json_build_object('name', name, 'selected', selected, 'planned', planned) AS properties
            FROM poles WHERE integration_id = ? AND removed_at IS NULL ORDER BY id`,
  boxes: `SELECT id, external_id, ST_AsGeoJSON(geom, 7)::json AS geometry,
                 json_build_object('name', name, 'boxKind', kind, 'auto', auto, 'poleId', pole_id, 'selected', selected, 'planned', planned) AS properties
            FROM boxes WHERE integration_id = ? AND removed_at IS NULL ORDER BY id`,
  // A splitter has no position of its own: it is drawn where its box is. Planned equipment
  // (not built yet) has no free port to offer.
  splitters: `SELECT s.id, s.external_id, ST_AsGeoJSON(b.geom, 7)::json AS geometry,
                     json_build_object('name', s.name, 'role', s.role, 'ratio', s.ratio_in || 'x' || s.ratio_out,
                                       'boxId', s.box_id, 'planned', s.planned OR b.planned,
                                       'ports', (SELECT count(*) FROM ports p WHERE p.splitter_id = s.id AND p.removed_at IS NULL),
                                       'freePorts', (SELECT count(*) FROM ports p WHERE p.splitter_id = s.id AND p.removed_at IS NULL AND p.available
                                                       AND NOT p.planned AND NOT s.planned AND NOT b.planned)) AS properties
                FROM splitters s JOIN boxes b ON b.id = s.box_id
               WHERE s.integration_id = ? AND s.removed_at IS NULL ORDER BY s.id`,
  // No document here: the map is for locating customers, not identifying them.
  customers: `SELECT id, external_id, ST_AsGeoJSON(geom, 7)::json AS geometry,
                     json_build_object('name', name, 'linkStatus', link_status, 'linkReason', link_reason,
                                       'portExternalId', port_external_id) AS properties
                FROM platform_customers WHERE integration_id = ? AND removed_at IS NULL AND geom IS NOT NULL ORDER BY id`,
};

const LAYER_KIND: Record<NetworkLayer, string> = { poles: 'pole', boxes: 'box', splitters: 'splitter', customers: 'customer' };

/**
 * `:id` is an integration id (each integration syncs into exactly one project) or a
 * mapsync project id (all digits, from `GET /v1/integrations/:id` → project.id).
 */
async function resolveIntegration(knex: Knex, ctx: AppContext, id: string): Promise<{ integrationId: string; projectId: number | null } | null> {
  if (/^\d{1,18}$/.test(id)) {
    const project = await knex('projects').where({ id }).first<{ id: number; integration_id: string } | undefined>('id', 'integration_id');
    if (project) return { integrationId: project.integration_id, projectId: Number(project.id) };
  }
  if (!ctx.integrations.has(id)) return null;
  const project = await knex('projects').where({ integration_id: id }).first<{ id: number } | undefined>('id');
  return { integrationId: id, projectId: project ? Number(project.id) : null };
}

export function parseLayers(value: string | undefined): { layers: NetworkLayer[] } | { error: string } {
  if (value === undefined || value.trim() === '') return { layers: [...NETWORK_LAYERS] };
  const requested = value.split(',').map((part) => part.trim().toLowerCase()).filter(Boolean);
  const unknown = requested.filter((part) => !(NETWORK_LAYERS as readonly string[]).includes(part));
  if (unknown.length > 0 || requested.length === 0) {
    return { error: `kinds: unknown ${unknown.map((k) => `"${k}"`).join(', ') || 'value'}; use a comma-separated list of ${NETWORK_LAYERS.join(', ')}` };
  }
  return { layers: [...new Set(requested)] as NetworkLayer[] };
}

export async function networkRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Params: { id: string }; Querystring: { kinds?: string } }>(
    '/v1/projects/:id/network.geojson',
    {
      schema: {
        summary: 'the synced network as a GeoJSON FeatureCollection (EPSG:4326)',
        description:
          '`:id` is an integration id, or a mapsync project id (digits). `kinds` is a comma-separated list of poles, boxes, splitters, customers (default all). Removed elements are left out. Splitters are placed at their box.',
        tags: ['network'],
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', pattern: INTEGRATION_ID_PATTERN, description: 'integration id or mapsync project id' } },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { kinds: { type: 'string', maxLength: 200, description: 'e.g. poles,boxes,splitters,customers' } },
        },
        response: {
          200: {
            description: 'GeoJSON FeatureCollection; each feature has properties.kind, id (mapsync row id) and externalId (platform id)',
            content: {
              'application/geo+json': {
                schema: {
                  type: 'object',
                  additionalProperties: true,
                  properties: { type: { type: 'string', enum: ['FeatureCollection'] }, features: { type: 'array', items: { type: 'object', additionalProperties: true } } },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const parsed = parseLayers(request.query.kinds);
      if ('error' in parsed) return reply.code(400).send({ error: 'bad_request', message: parsed.error });
      const target = await resolveIntegration(ctx.knex, ctx, request.params.id);
      if (!target) {
        return reply.code(404).send({ error: 'not_found', message: `no project or integration "${request.params.id}"` });
      }
      const features: unknown[] = [];
      for (const layer of parsed.layers) {
        const result = await ctx.knex.raw<{ rows: FeatureRow[] }>(LAYER_SQL[layer], [target.integrationId]);
        for (const row of result.rows) {
          features.push({
            type: 'Feature',
            id: `${LAYER_KIND[layer]}:${row.id}`,
            geometry: row.geometry,
            properties: { kind: LAYER_KIND[layer], id: Number(row.id), externalId: row.external_id, ...row.properties },
          });
        }
      }
      return reply.header('content-type', 'application/geo+json; charset=utf-8').send(
        JSON.stringify({
          type: 'FeatureCollection',
          mapsync: { integrationId: target.integrationId, projectId: target.projectId, kinds: parsed.layers },
          features,
        }),
      );
    },
  );
}

import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import {
  NETWORK_LAYERS,
  layerOf,
  networkGeoJsonChunks,
  parseFeatureId,
  type BoundingBox,
  type FeatureCursor,
  type NetworkLayer,
} from '../../network/network-geojson.ts';
import type { AppContext } from '../../service/app-context.ts';
import { errorResponses } from '../openapi.ts';
import { streamedBody } from '../streamed-body.ts';
import { INTEGRATION_ID_PATTERN } from './integrations.routes.ts';

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

export { NETWORK_LAYERS, type NetworkLayer };

const DEGREES = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/**
 * `bbox=minLon,minLat,maxLon,maxLat` in degrees (EPSG:4326, west,south,east,north as in
 * RFC 7946 §5 and OGC API Features). A box crossing the antimeridian (west > east) is refused.
 */
export function parseBbox(value: string): { bbox: BoundingBox } | { error: string } {
  const usage = `bbox: expected minLon,minLat,maxLon,maxLat in degrees (EPSG:4326), e.g. bbox=-47.10,-22.95,-47.00,-22.85; got "${value}"`;
  const parts = value.split(',').map((part) => part.trim());
  if (parts.length !== 4 || parts.some((part) => !DEGREES.test(part))) return { error: usage };
  const [minLon, minLat, maxLon, maxLat] = parts.map(Number) as BoundingBox;
  if ([minLon, maxLon].some((lon) => lon < -180 || lon > 180)) return { error: `${usage}: longitudes lie between -180 and 180` };
  if ([minLat, maxLat].some((lat) => lat < -90 || lat > 90)) return { error: `${usage}: latitudes lie between -90 and 90` };
  if (minLon > maxLon) return { error: `${usage}: minLon is east of maxLon` };
  if (minLat > maxLat) return { error: `${usage}: minLat is north of maxLat` };
  return { bbox: [minLon, minLat, maxLon, maxLat] };
}

/** Features in one page at most (`limit`); without `limit` the whole network is streamed. */
export const GEOJSON_MAX_PAGE = 100_000;

interface NetworkQuerystring {
  kinds?: string;
  bbox?: string;
  limit?: number;
  after?: string;
}

export async function networkRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Params: { id: string }; Querystring: NetworkQuerystring }>(
    '/v1/projects/:id/network.geojson',
    {
      schema: {
        summary: 'the synced network as a GeoJSON FeatureCollection (EPSG:4326), streamed',
        description:
          '`:id` is an integration id, or a mapsync project id (digits). `kinds` is a comma-separated list of poles, boxes, splitters, customers (default all). ' +
          'Removed elements are left out. Splitters are placed at their box. The body is written as it is read, in batches, so any size of network ' +
          'streams in constant memory. Each feature\'s `id` (and `properties.id`) is "kind:rowId", e.g. "pole:123", unique across kinds; ' +
          '`properties.rowId` is the mapsync row id within its kind. `bbox` keeps features inside the box. `limit` pages: the collection ' +
          'then ends with `numberReturned` and, when more features follow, a `links` entry with `rel: "next"` whose `href` carries ' +
          '`after` (the id of the last feature of the page). Without `limit` the whole network comes in one response.',
        tags: ['network'],
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', pattern: INTEGRATION_ID_PATTERN, description: 'integration id or mapsync project id' } },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            kinds: { type: 'string', maxLength: 200, description: 'e.g. poles,boxes,splitters,customers' },
            bbox: { type: 'string', maxLength: 200, description: 'minLon,minLat,maxLon,maxLat in degrees (EPSG:4326)' },
            limit: { type: 'integer', minimum: 1, maximum: GEOJSON_MAX_PAGE, description: 'features per page; absent: all of them' },
            after: { type: 'string', maxLength: 40, description: 'paging cursor: the id of the last feature seen, e.g. "box:42"' },
          },
        },
        response: {
          200: {
            description: 'GeoJSON FeatureCollection; each feature has id "kind:rowId", and properties.kind, id, rowId (mapsync row id) and externalId (platform id)',
            content: {
              'application/geo+json': {
                schema: {
                  type: 'object',
                  additionalProperties: true,
                  properties: {
                    type: { type: 'string', enum: ['FeatureCollection'] },
                    features: { type: 'array', items: { type: 'object', additionalProperties: true } },
                    numberReturned: { type: 'integer' },
                    links: {
                      type: 'array',
                      items: { type: 'object', properties: { rel: { type: 'string' }, type: { type: 'string' }, href: { type: 'string' } } },
                    },
                  },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const bad = (message: string) => reply.code(400).send({ error: 'bad_request', message });
      const parsed = parseLayers(request.query.kinds);
      if ('error' in parsed) return bad(parsed.error);
      let bbox: BoundingBox | undefined;
      if (request.query.bbox !== undefined) {
        const box = parseBbox(request.query.bbox);
        if ('error' in box) return bad(box.error);
        bbox = box.bbox;
      }
      let after: FeatureCursor | undefined;
      if (request.query.after !== undefined) {
        const cursor = parseFeatureId(request.query.after);
        if (!cursor) return bad(`after: expected a feature id such as "box:42" (kind:rowId), as in the previous page's last feature; got "${request.query.after}"`);
        if (!parsed.layers.includes(layerOf(cursor.kind))) return bad(`after: "${request.query.after}" is not of the kinds asked for (${parsed.layers.join(', ')})`);
        after = cursor;
      }
      const target = await resolveIntegration(ctx.knex, ctx, request.params.id);
      if (!target) {
        return reply.code(404).send({ error: 'not_found', message: `no project or integration "${request.params.id}"` });
      }
      reply.header('content-type', 'application/geo+json; charset=utf-8').header('cache-control', 'no-store');
      // A HEAD (GDAL's /vsicurl asks one first) gets the headers only: Fastify would read the whole stream to drop it.
      if (request.method === 'HEAD') return reply.send();
      const base = `${request.protocol}://${request.host}${request.url.split('?')[0]}`;
      const nextHref = (cursor: string) => {
        const params = new URLSearchParams();
        if (request.query.kinds !== undefined) params.set('kinds', request.query.kinds);
        if (request.query.bbox !== undefined) params.set('bbox', request.query.bbox);
        if (request.query.limit !== undefined) params.set('limit', String(request.query.limit));
        params.set('after', cursor);
        return `${base}?${params.toString()}`;
      };
      const chunks = networkGeoJsonChunks(
        ctx.knex,
        {
          integrationId: target.integrationId,
          projectId: target.projectId,
          layers: parsed.layers,
          ...(bbox ? { bbox } : {}),
          ...(request.query.limit !== undefined ? { limit: request.query.limit } : {}),
          ...(after ? { after } : {}),
        },
        nextHref,
      );
      const body = streamedBody(chunks);
      body.on('error', (error) => request.log.error({ err: error }, 'network GeoJSON stream failed; the response was cut short'));
      return reply.send(body);
    },
  );
}

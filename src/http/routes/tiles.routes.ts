import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../service/app-context.ts';
import { buildTile, DETAIL_ZOOM, MAX_TILE_ZOOM, networkBounds, networkVersion, tileAddressProblem, TILESET_MAX_ZOOM, VECTOR_LAYERS } from '../../map/tiles.repository.ts';
import { TileCache, tileCacheBytes } from '../../map/tile-cache.ts';
import { errorResponses } from '../openapi.ts';
import { INTEGRATION_ID_PATTERN } from './integrations.routes.ts';

export const MVT_CONTENT_TYPE = 'application/vnd.mapbox-vector-tile';

/** True when an If-None-Match header names this ETag (a list, weak or strong, or `*`). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

/** `:z/:x/:y.mvt` → numbers, or a message naming what is wrong. */
function parseTileAddress(params: { z: string; x: string; y: string }): { z: number; x: number; y: number } | { error: string } {
  for (const key of ['z', 'x', 'y'] as const) {
    if (!/^\d{1,8}$/.test(params[key])) return { error: `${key} must be a whole number (tile address /v1/tiles/{z}/{x}/{y}.mvt), got "${params[key]}"` };
  }
  const [z, x, y] = [Number(params.z), Number(params.x), Number(params.y)];
  const problem = tileAddressProblem(z, x, y);
  return problem ? { error: problem } : { z, x, y };
}

/**
 * `GET /v1/tiles/{z}/{x}/{y}.mvt?integration=`: the network of one integration as Mapbox
 * Vector Tiles, built by PostGIS (ST_AsMVT), or encoded here from the same PostGIS rows where
 * PostGIS lacks MVT support (the embedded database). Cacheable: the ETag changes with the network
 * (last merge, binding or link), and a matching If-None-Match gets 304 with no body. Built
 * tiles are kept in memory per network version (MAPSYNC_TILE_CACHE_MB, default 64; 0: off).
 */
export async function tilesRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const cache = new TileCache(tileCacheBytes(process.env));
  app.get<{ Params: { z: string; x: string; y: string }; Querystring: { integration: string; v?: string } }>(
    '/v1/tiles/:z/:x/:y.mvt',
    {
      schema: {
        summary: 'vector tile of the network (Mapbox Vector Tile, EPSG:3857)',
        description:
          `Layers: \`poles\`, \`boxes\` (\`servicePorts\`, \`freePorts\`: ports that can be offered), \`splitters\`, \`customers\` (\`linkStatus\`); every element carries \`planned\`, \`externalId\` and its mapsync row id as the feature id. ` +
          `Below zoom ${DETAIL_ZOOM.boxes} (boxes), ${DETAIL_ZOOM.poles} (poles) and ${DETAIL_ZOOM.customers} (customers) features are grid clusters with \`cluster\` and \`count\`; splitters appear from zoom ${DETAIL_ZOOM.splitters}. ` +
          'Removed elements are left out. Send If-None-Match with the ETag for a 304.',
        tags: ['map'],
        params: {
          type: 'object',
          required: ['z', 'x', 'y'],
          properties: {
            z: { type: 'string', maxLength: 10, description: `zoom, 0 to ${MAX_TILE_ZOOM}` },
            x: { type: 'string', maxLength: 10, description: 'column, 0 to 2^z - 1' },
            y: { type: 'string', maxLength: 10, description: 'row from the north, 0 to 2^z - 1 (XYZ scheme)' },
          },
        },
        querystring: {
          type: 'object',
          required: ['integration'],
          additionalProperties: false,
          properties: {
            integration: { type: 'string', pattern: INTEGRATION_ID_PATTERN, description: 'integration id from config/' },
            v: { type: 'string', maxLength: 64, description: 'ignored; a client may change it to skip its own cache' },
          },
        },
        response: {
          200: { description: 'the tile (empty when nothing is in it)', content: { [MVT_CONTENT_TYPE]: { schema: { type: 'string', format: 'binary' } } } },
          304: { description: 'not modified since the ETag sent in If-None-Match', type: 'null' },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const tile = parseTileAddress(request.params);
      if ('error' in tile) return reply.code(400).send({ error: 'bad_request', message: tile.error });
      const integrationId = request.query.integration;
      if (!ctx.integrations.has(integrationId)) {
        return reply.code(404).send({ error: 'not_found', message: `no integration "${integrationId}" in config/` });
      }
      const version = await networkVersion(ctx.knex, integrationId);
      const etag = `W/"${version}"`;
      // Private: the token decides who may see it. Revalidated on every use, which costs one
      // small query when nothing changed.
      reply.header('etag', etag).header('cache-control', 'private, no-cache').header('vary', 'authorization');
      if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
      const address = `${tile.z}/${tile.x}/${tile.y}`;
      let body = cache.get(integrationId, version, address);
      reply.header('x-tile-cache', body ? 'hit' : 'miss');
      if (!body) {
        body = await buildTile(ctx.knex, integrationId, tile);
        cache.set(integrationId, version, address, body);
      }
      return reply.header('content-type', MVT_CONTENT_TYPE).send(body);
    },
  );

  // The extent only changes with the network: kept per integration until its version moves.
  const boundsCache = new Map<string, { version: string; bounds: [number, number, number, number] | null }>();

  app.get<{ Querystring: { integration: string } }>(
    '/v1/tiles.json',
    {
      schema: {
        summary: "TileJSON of an integration's network tiles: URL template, bounds, layers and version",
        description:
          '`version` changes whenever the tiles may have (a merge, a binding, a link); the `tiles` URL carries it, so a map that reloads this document after a sync gets fresh tiles. ' +
          '`bounds` is the extent of the poles and boxes (EPSG:4326); absent for an empty network.',
        tags: ['map'],
        querystring: {
          type: 'object',
          required: ['integration'],
          additionalProperties: false,
          properties: { integration: { type: 'string', pattern: INTEGRATION_ID_PATTERN, description: 'integration id from config/' } },
        },
        response: {
          200: {
            description: 'TileJSON 3.0.0',
            type: 'object',
            additionalProperties: true,
            properties: {
              tilejson: { type: 'string' },
              version: { type: 'string' },
              tiles: { type: 'array', items: { type: 'string' } },
              minzoom: { type: 'integer' },
              maxzoom: { type: 'integer' },
              bounds: { type: 'array', items: { type: 'number' } },
              center: { type: 'array', items: { type: 'number' } },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const integrationId = request.query.integration;
      if (!ctx.integrations.has(integrationId)) {
        return reply.code(404).send({ error: 'not_found', message: `no integration "${integrationId}" in config/` });
      }
      const version = await networkVersion(ctx.knex, integrationId);
      let cached = boundsCache.get(integrationId);
      if (!cached || cached.version !== version) {
        cached = { version, bounds: await networkBounds(ctx.knex, integrationId) };
        boundsCache.set(integrationId, cached);
      }
      const bounds = cached.bounds;
      reply.header('cache-control', 'private, no-cache');
      return {
        tilejson: '3.0.0',
        name: `mapsync ${integrationId}`,
        version,
        scheme: 'xyz',
        // Relative to this document, so it works behind any proxy; the version skips stale caches.
        tiles: [`/v1/tiles/{z}/{x}/{y}.mvt?integration=${encodeURIComponent(integrationId)}&v=${version}`],
        minzoom: 0,
        maxzoom: TILESET_MAX_ZOOM,
        ...(bounds
          ? { bounds, center: [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, 14] }
          : {}),
        vector_layers: VECTOR_LAYERS,
      };
    },
  );
}

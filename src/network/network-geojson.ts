import type { Knex } from 'knex';

export const NETWORK_LAYERS = ['poles', 'boxes', 'splitters', 'customers'] as const;
export type NetworkLayer = (typeof NETWORK_LAYERS)[number];

/** The `kind` of a layer's features, and the prefix of their ids ("pole:123"). */
export const LAYER_KIND: Record<NetworkLayer, FeatureKind> = { poles: 'pole', boxes: 'box', splitters: 'splitter', customers: 'customer' };
export type FeatureKind = 'pole' | 'box' | 'splitter' | 'customer';
const KIND_LAYER: Record<FeatureKind, NetworkLayer> = { pole: 'poles', box: 'boxes', splitter: 'splitters', customer: 'customers' };

/** West, south, east, north in degrees (EPSG:4326). */
export type BoundingBox = [minLon: number, minLat: number, maxLon: number, maxLat: number];

/** A feature id as written in the output: `kind:rowId`, e.g. "box:42". */
export interface FeatureCursor {
  kind: FeatureKind;
  rowId: number;
}

export interface NetworkGeoJsonQuery {
  integrationId: string;
  projectId: number | null;
  layers: NetworkLayer[];
  bbox?: BoundingBox;
  /** Features of this page at most; absent: the whole (bbox-filtered) network. */
  limit?: number;
  /** Resume after this feature (keyset paging): layers in `layers` order, rows by id. */
  after?: FeatureCursor;
}

interface LayerSql {
  from: string;
  geom: string;
  where: string;
  /** The select list of the properties after kind, id, rowId and externalId; each name as written in the output. */
  properties: string;
}

/**
 * Rows of each layer still present on the platform (removed rows are left out). `t` is the
 * layer's own table, whose `id` orders the keyset.
 */
const LAYERS: Record<NetworkLayer, LayerSql> = {
  poles: {
    from: 'poles t',
    geom: 't.geom',
    where: 't.removed_at IS NULL',
    properties: `t.name AS name, t.selected AS selected, t.planned AS planned`,
  },
  boxes: {
    from: 'boxes t',
    geom: 't.geom',
    where: 't.removed_at IS NULL',
    properties: `t.name AS name, t.kind AS "boxKind", t.auto AS auto, t.pole_id AS "poleId", t.selected AS selected, t.planned AS planned`,
  },
  // A splitter has no position of its own: it is drawn where its box is. Planned equipment
  // (not built yet) has no free port to offer.
  splitters: {
    from: 'splitters t JOIN boxes b ON b.id = t.box_id',
    geom: 'b.geom',
    where: 't.removed_at IS NULL',
    properties: `t.name AS name, t.role AS role, t.ratio_in || 'x' || t.ratio_out AS ratio, t.box_id AS "boxId", t.planned OR b.planned AS planned,
                 (SELECT count(*) FROM ports p WHERE p.splitter_id = t.id AND p.removed_at IS NULL) AS ports,
                 (SELECT count(*) FROM ports p WHERE p.splitter_id = t.id AND p.removed_at IS NULL AND p.available
                    AND NOT p.planned AND NOT t.planned AND NOT b.planned) AS "freePorts"`,
  },
  // No document here: the map is for locating customers, not identifying them.
  customers: {
    from: 'platform_customers t',
    geom: 't.geom',
    where: 't.removed_at IS NULL AND t.geom IS NOT NULL',
    properties: `t.name AS name, t.link_status AS "linkStatus", t.link_reason AS "linkReason", t.port_external_id AS "portExternalId"`,
  },
};

/** Rows per query: about 0.3–1 MB of text, so the event loop never holds a large string for long. */
export const GEOJSON_BATCH_ROWS = 2000;

/**
 * One batch of a layer as ready-made GeoJSON text, built by PostgreSQL (row_to_json writes
 * no blanks): Node only passes the text on. The feature `id` and `properties.id` are
 * "kind:rowId", unique across kinds: GDAL (3.6) takes an integer `properties.id` as the FID
 * when the feature's own id is a string, and row ids repeated between poles and boxes made
 * `ogr2ogr -f GPKG` fail with "UNIQUE constraint failed". `properties.rowId` is the mapsync
 * row id within its kind.
 */
function batchSql(layer: NetworkLayer, withBbox: boolean): string {
  const sql = LAYERS[layer];
  const kind = LAYER_KIND[layer];
  const feature = `'{"type":"Feature","id":"${kind}:' || t.id || '","geometry":' || ST_AsGeoJSON(${sql.geom}, 7) || ',"properties":' ||
      (SELECT row_to_json(p)::text FROM (SELECT '${kind}' AS kind, '${kind}:' || t.id AS id, t.id AS "rowId", t.external_id AS "externalId", ${sql.properties}) p) || '}'`;
  return `SELECT count(*)::int AS n, max(id) AS last_id, string_agg(feature, ',' ORDER BY id) AS body
            FROM (SELECT t.id, ${feature} AS feature
                    FROM ${sql.from}
                   WHERE ${rowsAfter(layer, withBbox)}
                   ORDER BY t.id
                   LIMIT ?) batch`;
}

/** The layer's rows with `lastId < id <= upper`; bindings: integration id, lastId, upper, then the bbox's four numbers. */
function rowsAfter(layer: NetworkLayer, withBbox: boolean): string {
  const sql = LAYERS[layer];
  return `t.integration_id = ? AND ${sql.where} AND t.id > ? AND t.id <= ?${withBbox ? ` AND ${sql.geom} && ST_MakeEnvelope(?, ?, ?, ?, 4326)` : ''}`;
}

/**
 * The largest row id of the layer inside the bbox, or null when none is. Batches stop their
 * id-ordered scan there instead of reading on to the end of the table for the few rows of a
 * small box. `t.id + 0` keeps PostgreSQL from answering max() with a backward scan of the
 * primary key, which would read the whole table past the box; the GiST index finds the box.
 */
async function upperIdInBox(knex: Knex, layer: NetworkLayer, integrationId: string, bbox: BoundingBox): Promise<number | null> {
  const sql = LAYERS[layer];
  const result = await knex.raw<{ rows: { upper: string | number | null }[] }>(
    `SELECT max(t.id + 0) AS upper FROM ${sql.from} WHERE t.integration_id = ? AND ${sql.where} AND ${sql.geom} && ST_MakeEnvelope(?, ?, ?, ?, 4326)`,
    [integrationId, ...bbox],
  );
  const upper = result.rows[0]?.upper;
  return upper === null || upper === undefined ? null : Number(upper);
}

/** "box:42" → { kind: 'box', rowId: 42 }; null when it is not a feature id. */
export function parseFeatureId(value: string): FeatureCursor | null {
  const match = /^(pole|box|splitter|customer):([1-9][0-9]{0,15})$/.exec(value);
  if (!match) return null;
  const rowId = Number(match[2]);
  return Number.isSafeInteger(rowId) ? { kind: match[1] as FeatureKind, rowId } : null;
}

export function layerOf(kind: FeatureKind): NetworkLayer {
  return KIND_LAYER[kind];
}

/**
 * The network as one GeoJSON FeatureCollection (EPSG:4326), in pieces of text to write as
 * they come: the opening (sent before any query runs), one piece per batch of
 * GEOJSON_BATCH_ROWS features, read by keyset (`id > last`, no connection held between
 * batches), and the closing with `numberReturned` and, when `limit` cut the page short of
 * the end, a `links` entry `rel: "next"` built by `nextHref(cursor)`.
 *
 * Each batch sees the data committed when it runs, so a sync merged during a long export
 * shows in its later batches only; a page never repeats or skips a feature that stayed.
 * Errors from PostgreSQL are thrown from the iterator (the response is then cut short).
 */
export async function* networkGeoJsonChunks(
  knex: Knex,
  query: NetworkGeoJsonQuery,
  nextHref: (after: string) => string,
  options: { batchRows?: number } = {},
): AsyncGenerator<string> {
  const batchRows = options.batchRows ?? GEOJSON_BATCH_ROWS;
  const header = {
    type: 'FeatureCollection',
    mapsync: {
      integrationId: query.integrationId,
      projectId: query.projectId,
      kinds: query.layers,
      ...(query.bbox ? { bbox: query.bbox } : {}),
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
      ...(query.after ? { after: `${query.after.kind}:${query.after.rowId}` } : {}),
    },
  };
  yield `${JSON.stringify(header).slice(0, -1)},"features":[\n`;

  const bboxArgs = query.bbox ?? [];
  const withBbox = query.bbox !== undefined;
  let remaining = query.limit ?? Number.POSITIVE_INFINITY;
  let returned = 0;
  let next: string | null = null;
  const startLayer = query.after ? query.layers.indexOf(layerOf(query.after.kind)) : 0;

  const upperIds = new Map<NetworkLayer, number | null>();
  const upperOf = async (layer: NetworkLayer): Promise<number | null> => {
    if (!query.bbox) return Number.MAX_SAFE_INTEGER;
    if (!upperIds.has(layer)) upperIds.set(layer, await upperIdInBox(knex, layer, query.integrationId, query.bbox));
    return upperIds.get(layer)!;
  };

  for (let index = Math.max(startLayer, 0); index < query.layers.length && remaining > 0; index += 1) {
    const layer = query.layers[index]!;
    const upper = await upperOf(layer);
    if (upper === null) continue;
    let lastId = query.after && index === startLayer ? query.after.rowId : 0;
    for (;;) {
      const size = Math.min(batchRows, remaining);
      const batch = await readBatch(knex, batchSql(layer, withBbox), [query.integrationId, lastId, upper, ...bboxArgs, size]);
      if (batch.n > 0 && batch.body !== null) {
        yield returned === 0 ? batch.body : `,\n${batch.body}`;
        returned += batch.n;
        remaining -= batch.n;
        lastId = Number(batch.last_id);
      }
      if (remaining <= 0) {
        if (await moreAfter(knex, query, index, lastId, upperOf)) next = `${LAYER_KIND[layer]}:${lastId}`;
        break;
      }
      if (batch.n < size) break;
    }
  }

  const links = next === null ? '' : `,"links":[${JSON.stringify({ rel: 'next', type: 'application/geo+json', href: nextHref(next) })}]`;
  yield `\n],"numberReturned":${returned}${links}}\n`;
}

interface Batch {
  n: number;
  last_id: string | number | null;
  body: string | null;
}

/**
 * One batch query, planned without parallel workers: starting them costs more (~50 ms) than
 * a batch of 2000 rows takes to read, so a parallel plan only slows each batch down.
 */
async function readBatch(knex: Knex, sql: string, bindings: (string | number)[]): Promise<Batch> {
  return knex.transaction(async (trx) => {
    await trx.raw('SET LOCAL max_parallel_workers_per_gather = 0');
    const result = await trx.raw<{ rows: Batch[] }>(sql, bindings);
    return result.rows[0]!;
  });
}

/** Whether a feature follows `lastId` of layer `index` (in that layer or a later one). */
async function moreAfter(
  knex: Knex,
  query: NetworkGeoJsonQuery,
  index: number,
  lastId: number,
  upperOf: (layer: NetworkLayer) => Promise<number | null>,
): Promise<boolean> {
  for (let i = index; i < query.layers.length; i += 1) {
    const layer = query.layers[i]!;
    const upper = await upperOf(layer);
    if (upper === null) continue;
    const result = await knex.raw<{ rows: { more: boolean }[] }>(
      `SELECT EXISTS (SELECT 1 FROM ${LAYERS[layer].from} WHERE ${rowsAfter(layer, query.bbox !== undefined)}) AS more`,
      [query.integrationId, i === index ? lastId : 0, upper, ...(query.bbox ?? [])],
    );
    if (result.rows[0]!.more) return true;
  }
  return false;
}

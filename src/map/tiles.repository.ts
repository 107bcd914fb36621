import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import vtpbf from 'vt-pbf';
import { containerSideSql, portSideSql, SERVICE_PORT_SQL } from './offered-ports.sql.ts';

/** Deepest zoom served; past it a map over-zooms the z22 tile. */
export const MAX_TILE_ZOOM = 22;

/** Tile extent and the margin (in extent units) kept around it, so symbols at an edge are not cut. */
const EXTENT = 4096;
const BUFFER = 64;
/** Clusters below a layer's detail zoom: a grid of CLUSTER_GRID × CLUSTER_GRID cells per tile. */
const CLUSTER_GRID = 32;

/**
 * The zoom from which each layer is drawn element by element; below it, elements are grouped
 * per grid cell with a count. Splitters sit inside their box, so they appear only close up.
 */
export const DETAIL_ZOOM = { poles: 15, boxes: 14, splitters: 16, customers: 16 } as const;

/** Bump when a layer's properties change shape, so cached tiles are not reused. */
const TILE_SCHEMA = 'tiles-v1';

/** Customers of one box share its position: they are drawn on rings of this many around it. */
const CUSTOMERS_PER_RING = 8;

/** SQL of a point's position in a layer row, from an EPSG:3857 geometry expression. */
type PositionSql = (expr3857: string) => string;

export interface TileAddress {
  z: number;
  x: number;
  y: number;
}

/** Why a z/x/y is not a tile, or null when it is one (Web Mercator, XYZ scheme). */
export function tileAddressProblem(z: number, x: number, y: number): string | null {
  if (!Number.isInteger(z) || z < 0 || z > MAX_TILE_ZOOM) return `z must be a whole number from 0 to ${MAX_TILE_ZOOM}`;
  const last = 2 ** z - 1;
  if (!Number.isInteger(x) || x < 0 || x > last) return `x must be a whole number from 0 to ${last} at zoom ${z}`;
  if (!Number.isInteger(y) || y < 0 || y > last) return `y must be a whole number from 0 to ${last} at zoom ${z}`;
  return null;
}

function poleLayerSql(z: number, geom: PositionSql): string {
  if (z >= DETAIL_ZOOM.poles) {
    return `SELECT ${geom(`ST_Transform(t.geom, 3857)`)} AS geom,
                   t.id, t.external_id AS "externalId", t.name, t.planned
              FROM poles t, bounds
             WHERE t.integration_id = :integration AND t.removed_at IS NULL AND t.geom && bounds.area`;
  }
  return clusterSql(geom, 'poles t', `count(*) FILTER (WHERE t.planned)::int AS planned`, 't.integration_id = :integration AND t.removed_at IS NULL');
}

/**
 * Members of one grid cell become one point at their mean position, with `count` and
 * `cluster = true`; CLUSTER_GRID cells across the tile. The cells are laid in degrees over
 * the tile's extent, so no row is transformed before it is grouped (within one tile a
 * degree of latitude is as good as uniform on the screen); only the centroids are.
 */
function clusterSql(position: PositionSql, from: string, aggregates: string, where: string, geom = 't.geom'): string {
  const names = [...aggregates.matchAll(/ AS ("?\w+"?)\s*(?:,|$)/g)].map((match) => `g.${match[1]}`);
  return `SELECT ${position(`ST_Transform(ST_SetSRID(ST_MakePoint(g.lon, g.lat), 4326), 3857)`)} AS geom,
                 true AS cluster, g.count, ${names.join(', ')}
            FROM (SELECT avg(ST_X(${geom})) AS lon, avg(ST_Y(${geom})) AS lat, count(*)::int AS count, ${aggregates}
                    FROM ${from} CROSS JOIN bounds
                   WHERE ${where} AND ${geom} && bounds.area
                   GROUP BY floor((ST_X(${geom}) - bounds.west) / bounds.dlon), floor((ST_Y(${geom}) - bounds.south) / bounds.dlat)) g
            CROSS JOIN bounds`;
}

/**
 * Service ports and offered ports (offered-ports.sql.ts) of the splitters matching `which`, as
 * `c.total` and `c.free`. The box's own part of the rule is the same for all its ports, so it
 * is applied once per box (by the caller, through `c.free`), not once per port.
 */
function portCountsSql(which: string): string {
  return `LEFT JOIN LATERAL (
    SELECT count(*)::int AS total,
           CASE WHEN ${containerSideSql()} THEN count(*) FILTER (WHERE ${portSideSql()})::int ELSE 0 END AS free
      FROM splitters s JOIN ports p ON p.splitter_id = s.id
     WHERE ${which} AND ${SERVICE_PORT_SQL}
  ) c ON true`;
}

function boxLayerSql(z: number, geom: PositionSql): string {
  const where = 'b.integration_id = :integration AND b.removed_at IS NULL';
  if (z >= DETAIL_ZOOM.boxes) {
    return `SELECT ${geom(`ST_Transform(b.geom, 3857)`)} AS geom,
                   b.id, b.external_id AS "externalId", b.name, b.kind AS "boxKind", b.auto,
                   (b.planned OR COALESCE(pl.planned, false)) AS planned,
                   c.total AS "servicePorts", c.free AS "freePorts"
              FROM boxes b LEFT JOIN poles pl ON pl.id = b.pole_id ${portCountsSql('s.box_id = b.id')} CROSS JOIN bounds
             WHERE ${where} AND b.geom && bounds.area`;
  }
  // Port counts would read every port under a low-zoom tile: clusters count boxes only.
  return clusterSql(geom, 'boxes b LEFT JOIN poles pl ON pl.id = b.pole_id', `count(*) FILTER (WHERE b.planned OR COALESCE(pl.planned, false))::int AS planned`, where, 'b.geom');
}

function splitterLayerSql(z: number, geom: PositionSql): string | null {
  if (z < DETAIL_ZOOM.splitters) return null;
  return `SELECT ${geom(`ST_Transform(b.geom, 3857)`)} AS geom,
                 sp.id, sp.external_id AS "externalId", sp.name, sp.role, sp.ratio_in || 'x' || sp.ratio_out AS ratio,
                 b.id AS "boxId", (sp.planned OR b.planned OR COALESCE(pl.planned, false)) AS planned,
                 c.total AS "servicePorts", c.free AS "freePorts"
            FROM splitters sp
            JOIN boxes b ON b.id = sp.box_id
            LEFT JOIN poles pl ON pl.id = b.pole_id
            ${portCountsSql('s.id = sp.id')}
            CROSS JOIN bounds
           WHERE b.integration_id = :integration AND b.removed_at IS NULL AND sp.removed_at IS NULL AND b.geom && bounds.area`;
}

function customerLayerSql(z: number, geom: PositionSql): string {
  const where = 'pc.integration_id = :integration AND pc.removed_at IS NULL AND pc.geom IS NOT NULL';
  if (z >= DETAIL_ZOOM.customers) {
    // Customers have their box's position; drawn on rings around it (9 m out and more, by
    // rank) so each one can be seen and clicked. Their stored position is unchanged.
    return `SELECT ${geom(`ST_Transform(ST_Project(pc.geom::geography, 9 + 6 * floor(pc.rank / ${CUSTOMERS_PER_RING}),
                                                        radians(360.0 / ${CUSTOMERS_PER_RING} * (pc.rank % ${CUSTOMERS_PER_RING}) + 22.5 * floor(pc.rank / ${CUSTOMERS_PER_RING})))::geometry, 3857)`)} AS geom,
                   pc.id, pc.external_id AS "externalId", pc.name, pc.link_status AS "linkStatus", sc.service_id AS "serviceId"
              FROM (SELECT pc.*, (row_number() OVER (PARTITION BY pc.geom ORDER BY pc.id) - 1) AS rank
                      FROM platform_customers pc, bounds WHERE ${where} AND pc.geom && bounds.area) pc
              LEFT JOIN service_contracts sc ON sc.id = pc.service_contract_id
              CROSS JOIN bounds`;
  }
  return clusterSql(
    geom,
    'platform_customers pc',
    `count(*) FILTER (WHERE pc.link_status IN ('linked', 'linked_by_document'))::int AS linked,
     count(*) FILTER (WHERE pc.link_status NOT IN ('linked', 'linked_by_document'))::int AS unlinked`,
    where,
    'pc.geom',
  );
}

/**
 * One Mapbox Vector Tile (EPSG:3857, extent 4096) of an integration's network, with the layers
 * `poles`, `boxes`, `splitters` and `customers`; removed elements are left out.
 *
 * Element features carry `id` (mapsync row id, also the feature id), `externalId` (platform
 * id), `name` and `planned`; boxes add `boxKind`, `auto`, `servicePorts` and `freePorts`
 * (ports that can be offered, see offered-ports.sql.ts), splitters `role`, `ratio`, `boxId`
 * and their port counts, customers `linkStatus` and `serviceId`. Below a layer's
 * DETAIL_ZOOM, its features are grid clusters (`cluster`, `count`, and per layer `planned`
 * or `linked`/`unlinked` counts).
 *
 * Rows are found through the GiST index on `geom` (EPSG:4326) with the tile's envelope
 * transformed to 4326; only the matched rows are transformed to 3857.
 * @returns the tile bytes (empty when nothing is in the tile)
 */
export async function buildTile(knex: Knex, integrationId: string, tile: TileAddress, options: { encoder?: TileEncoder } = {}): Promise<Buffer> {
  const problem = tileAddressProblem(tile.z, tile.x, tile.y);
  if (problem) throw new RangeError(problem);
  const encoder = options.encoder ?? ((await postgisEncodesMvt(knex)) ? 'postgis' : 'node');
  const position: PositionSql = encoder === 'postgis' ? (expr) => `ST_AsMVTGeom(${expr}, bounds.env, ${EXTENT}, ${BUFFER}, true)` : (expr) => expr;
  // Element features have their row id as the MVT feature id; clusters have none.
  const layers = (
    [
      { name: 'customers', sql: customerLayerSql(tile.z, position) },
      { name: 'poles', sql: poleLayerSql(tile.z, position) },
      { name: 'boxes', sql: boxLayerSql(tile.z, position) },
      { name: 'splitters', sql: splitterLayerSql(tile.z, position) },
    ] as { name: keyof typeof DETAIL_ZOOM; sql: string | null }[]
  ).filter((layer): layer is { name: keyof typeof DETAIL_ZOOM; sql: string } => layer.sql !== null);
  const bounds = `WITH bounds AS (
      SELECT e.env, ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => ${BUFFER / EXTENT}), 4326) AS area,
             ST_XMin(e.deg) AS west, ST_YMin(e.deg) AS south,
             (ST_XMax(e.deg) - ST_XMin(e.deg)) / ${CLUSTER_GRID} AS dlon, (ST_YMax(e.deg) - ST_YMin(e.deg)) / ${CLUSTER_GRID} AS dlat
        FROM (SELECT env, ST_Transform(env, 4326) AS deg FROM (SELECT ST_TileEnvelope(:z, :x, :y) AS env) t) e
    )`;
  const bindings = { integration: integrationId, z: tile.z, x: tile.x, y: tile.y };
  try {
    if (encoder === 'postgis') {
      const parts = layers.map(({ name, sql }) => {
        const idColumn = tile.z >= DETAIL_ZOOM[name] ? ", 'id'" : '';
        return `(SELECT COALESCE(ST_AsMVT(q, '${name}', ${EXTENT}, 'geom'${idColumn}), ''::bytea) FROM (${sql}) q WHERE q.geom IS NOT NULL)`;
      });
      const result = await knex.raw<{ rows: { mvt: Buffer }[] }>(`${bounds} SELECT ${parts.join(' || ')} AS mvt`, bindings);
      return result.rows[0]?.mvt ?? Buffer.alloc(0);
    }
    // The same rows, with their position in tile units (as ST_AsMVTGeom snaps it: origin at the
    // north-west corner, y down), encoded here.
    const parts = layers.map(
      ({ name, sql }, index) => `SELECT ${index} AS layer, round((ST_X(q.geom) - ST_XMin(bounds.env)) * ${EXTENT} / (ST_XMax(bounds.env) - ST_XMin(bounds.env)))::int AS px,
             round((ST_YMax(bounds.env) - ST_Y(q.geom)) * ${EXTENT} / (ST_YMax(bounds.env) - ST_YMin(bounds.env)))::int AS py,
             to_jsonb(q) - 'geom' AS props, ${tile.z >= DETAIL_ZOOM[name] ? 'true' : 'false'} AS identified
        FROM (${sql}) q CROSS JOIN bounds WHERE q.geom IS NOT NULL`,
    );
    const result = await knex.raw<{ rows: { layer: number; px: number; py: number; props: Record<string, unknown>; identified: boolean }[] }>(
      `${bounds} ${parts.map((part) => `(${part})`).join(' UNION ALL ')}`,
      bindings,
    );
    return encodeTile(layers.map((layer) => layer.name), result.rows);
  } catch (error) {
    // The driver's message starts with the whole query (kilobytes): keep PostgreSQL's own words.
    const message = error instanceof Error ? error.message : String(error);
    const reason = message.includes(' - ') ? message.slice(message.lastIndexOf(' - ') + 3) : message;
    throw Object.assign(new Error(`tile ${tile.z}/${tile.x}/${tile.y} of "${integrationId}" (${encoder} encoder) failed: ${reason}`), { code: (error as { code?: string }).code });
  }
}

/** Which builds the tile bytes: PostGIS (ST_AsMVT) or this process (vt-pbf) from PostGIS's rows. */
export type TileEncoder = 'postgis' | 'node';

const mvtSupport = new WeakMap<Knex, Promise<boolean>>();

/**
 * Whether this PostGIS can build MVT (ST_AsMVT, ST_AsMVTGeom): builds without protobuf-c, such
 * as the embedded pglite-postgis, raise "Compiled without protobuf-c support". Asked once per
 * database handle.
 */
export function postgisEncodesMvt(knex: Knex): Promise<boolean> {
  let answer = mvtSupport.get(knex);
  if (!answer) {
    answer = knex
      .raw(`SELECT ST_AsMVT(q, 'probe') FROM (SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(0, 0), 3857), ST_TileEnvelope(0, 0, 0)) AS geom) q`)
      .then(
        () => true,
        () => false,
      );
    mvtSupport.set(knex, answer);
  }
  return answer;
}

/**
 * Mapbox Vector Tile (version 2, extent 4096) of point rows, as ST_AsMVT writes it: empty
 * layers left out, null properties left out, `id` as the feature id (not a property) where
 * `identified`, points beyond the tile's buffer dropped.
 */
function encodeTile(names: string[], rows: { layer: number; px: number; py: number; props: Record<string, unknown>; identified: boolean }[]): Buffer {
  const layers: Record<string, { features: { type: 1; geometry: [number, number][]; tags: Record<string, unknown>; id?: number }[] }> = {};
  for (const row of rows) {
    if (row.px < -BUFFER || row.px > EXTENT + BUFFER || row.py < -BUFFER || row.py > EXTENT + BUFFER) continue;
    const tags: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(row.props)) if (value !== null && !(row.identified && key === 'id')) tags[key] = value;
    const name = names[row.layer]!;
    (layers[name] ??= { features: [] }).features.push({ type: 1, geometry: [[row.px, row.py]], tags, ...(row.identified ? { id: Number(row.props.id) } : {}) });
  }
  const ordered = Object.fromEntries(names.filter((name) => layers[name]).map((name) => [name, layers[name]!]));
  if (Object.keys(ordered).length === 0) return Buffer.alloc(0);
  return Buffer.from(vtpbf.fromGeojsonVt(ordered, { version: 2, extent: EXTENT }));
}

/**
 * A short tag that changes whenever what the tiles of an integration show may have changed:
 * the last merge (a succeeded sync run), the last binding change (ports held or released) and
 * the last change to a platform customer (a link made by an import between runs). Each is one
 * index lookup. Used as the tiles' ETag and as the page's cue to redraw.
 */
export async function networkVersion(knex: Knex, integrationId: string): Promise<string> {
  const result = await knex.raw<{ rows: { merged: Date | null; bound: Date | null; linked: Date | null }[] }>(
    `SELECT (SELECT max(finished_at) FROM sync_runs WHERE integration_id = :id AND status = 'succeeded') AS merged,
            (SELECT max(updated_at) FROM bindings WHERE integration_id = :id) AS bound,
            (SELECT max(updated_at) FROM platform_customers WHERE integration_id = :id) AS linked`,
    { id: integrationId },
  );
  const row = result.rows[0]!;
  const stamp = [TILE_SCHEMA, integrationId, row.merged?.toISOString() ?? '-', row.bound?.toISOString() ?? '-', row.linked?.toISOString() ?? '-'].join('|');
  return createHash('sha1').update(stamp).digest('base64url').slice(0, 20);
}

/** Deepest zoom the tiles change at; a map over-zooms past it. */
export const TILESET_MAX_ZOOM = 18;

/**
 * The extent of an integration's network (poles and boxes still on the platform), as
 * [west, south, east, north] in EPSG:4326, or null for an empty network.
 */
export async function networkBounds(knex: Knex, integrationId: string): Promise<[number, number, number, number] | null> {
  const result = await knex.raw<{ rows: { w: number | null; s: number | null; e: number | null; n: number | null }[] }>(
    `WITH extent AS (
       SELECT ST_Extent(geom) AS box FROM (
         SELECT geom FROM boxes WHERE integration_id = :id AND removed_at IS NULL
         UNION ALL SELECT geom FROM poles WHERE integration_id = :id AND removed_at IS NULL
       ) g
     )
     SELECT ST_XMin(box) AS w, ST_YMin(box) AS s, ST_XMax(box) AS e, ST_YMax(box) AS n FROM extent`,
    { id: integrationId },
  );
  const row = result.rows[0];
  if (!row || row.w === null || row.s === null || row.e === null || row.n === null) return null;
  return [Number(row.w), Number(row.s), Number(row.e), Number(row.n)];
}

/** The fields of each layer, for a TileJSON `vector_layers` (and for QGIS or a style author). */
export const VECTOR_LAYERS = [
  { id: 'poles', description: 'poles; clusters below zoom ' + DETAIL_ZOOM.poles, fields: { externalId: 'String', name: 'String', planned: 'Boolean', cluster: 'Boolean', count: 'Number' } },
  {
    id: 'boxes',
    description: 'CTOs, splice closures and auto boxes; clusters below zoom ' + DETAIL_ZOOM.boxes,
    fields: { externalId: 'String', name: 'String', boxKind: 'String', auto: 'Boolean', planned: 'Boolean', servicePorts: 'Number', freePorts: 'Number', cluster: 'Boolean', count: 'Number' },
  },
  { id: 'splitters', description: 'splitters, at their box, from zoom ' + DETAIL_ZOOM.splitters, fields: { externalId: 'String', name: 'String', role: 'String', ratio: 'String', boxId: 'Number', planned: 'Boolean', servicePorts: 'Number', freePorts: 'Number' } },
  {
    id: 'customers',
    description: 'platform customers around their box; clusters below zoom ' + DETAIL_ZOOM.customers,
    fields: { externalId: 'String', name: 'String', linkStatus: 'String', serviceId: 'String', cluster: 'Boolean', count: 'Number', linked: 'Number', unlinked: 'Number' },
  },
] as const;

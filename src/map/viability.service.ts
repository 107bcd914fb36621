import type { Knex } from 'knex';
import { OFFERED_PORT_SQL } from './offered-ports.sql.ts';

/** Search radius in metres: the default, and the most a query may ask (a drop cable's reach, with room). */
export const VIABILITY_RADIUS_METRES = { default: 300, max: 3000 } as const;
/** How many boxes an answer lists. */
export const VIABILITY_LIMIT = { default: 5, max: 50 } as const;

/** Metres per degree of latitude (WGS 84, mean); a degree of longitude is this × cos(lat). */
const METRES_PER_DEGREE = 110_574;

export class ViabilityError extends Error {
  constructor(
    readonly statusCode: 400 | 404 | 422,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ViabilityError';
  }
}

export interface OfferedPort {
  /** mapsync port id (what POST /v1/bindings takes as `portId`). */
  id: number;
  externalId: string;
  number: number;
  label: string | null;
  splitter: { id: number; externalId: string; name: string | null; ratio: string };
}

export interface ViableBox {
  integrationId: string;
  /** mapsync box id. */
  id: number;
  externalId: string;
  name: string | null;
  boxKind: string;
  /** EPSG:4326. */
  lat: number;
  lon: number;
  /** Straight-line distance on the WGS 84 spheroid, metres, to 0.1 m. */
  distanceMetres: number;
  freePortCount: number;
  freePorts: OfferedPort[];
}

export interface ViabilityOrigin {
  lat: number;
  lon: number;
  source: 'point' | 'contract';
  serviceId?: string;
  address?: string | null;
}

export interface ViabilityAnswer {
  origin: ViabilityOrigin;
  radiusMetres: number;
  boxes: ViableBox[];
}

export interface ViabilityQuery {
  /** Either a point (EPSG:4326) or an ERP service contract whose stored location is used. */
  at: { lat: number; lon: number } | { serviceId: string };
  radiusMetres?: number;
  limit?: number;
  /** Only these integrations; undefined for every integration in the database. */
  integrationIds?: string[];
}

/**
 * Viability ("viabilidade"): the service boxes nearest a point that have at least one port
 * that can be offered (offered-ports.sql.ts: never planned, reserved, blocked, taken or held
 * by a binding), nearest first, within `radiusMetres`, each with its free ports. Answered
 * from PostGIS alone, with no platform call: as fresh as the last sync.
 *
 * Distances are geodesic (geography); candidates are first found through the GiST index on
 * `boxes.geom` with a lon/lat box a little larger than the radius.
 * @throws ViabilityError 400 for a point or radius out of range, 404 for an unknown service
 *   contract, 422 for a contract with no stored location (service_contracts.geom).
 */
export async function findViableBoxes(knex: Knex, query: ViabilityQuery): Promise<ViabilityAnswer> {
  const radius = query.radiusMetres ?? VIABILITY_RADIUS_METRES.default;
  if (!Number.isFinite(radius) || radius <= 0 || radius > VIABILITY_RADIUS_METRES.max) {
    throw new ViabilityError(400, 'bad_radius', `radius must be more than 0 and at most ${VIABILITY_RADIUS_METRES.max} metres`);
  }
  const limit = query.limit ?? VIABILITY_LIMIT.default;
  if (!Number.isInteger(limit) || limit < 1 || limit > VIABILITY_LIMIT.max) {
    throw new ViabilityError(400, 'bad_limit', `limit must be a whole number from 1 to ${VIABILITY_LIMIT.max}`);
  }
  const origin = 'serviceId' in query.at ? await contractOrigin(knex, query.at.serviceId) : pointOrigin(query.at.lat, query.at.lon);

  const latSpan = (radius / METRES_PER_DEGREE) * 1.01;
  const lonSpan = Math.min(180, latSpan / Math.max(Math.cos(((Math.abs(origin.lat) + latSpan) * Math.PI) / 180), 1e-6));
  const integrations = query.integrationIds;
  if (integrations && integrations.length === 0) return { origin, radiusMetres: radius, boxes: [] };
  const integrationFilter = integrations ? `AND b.integration_id IN (${integrations.map(() => '?').join(', ')})` : '';
  const result = await knex.raw<{ rows: Record<string, any>[] }>(
    `WITH here AS (SELECT ST_SetSRID(ST_MakePoint(?, ?), 4326) AS g)
     SELECT b.integration_id, b.id, b.external_id, b.name, b.kind, ST_Y(b.geom) AS lat, ST_X(b.geom) AS lon,
            ST_Distance(b.geom::geography, here.g::geography) AS metres, offered.ports
       FROM boxes b
       CROSS JOIN here
       LEFT JOIN poles pl ON pl.id = b.pole_id
       CROSS JOIN LATERAL (
         SELECT json_agg(json_build_object(
                  'id', p.id, 'externalId', p.external_id, 'number', p.number, 'label', p.label,
                  'splitter', json_build_object('id', s.id, 'externalId', s.external_id, 'name', s.name, 'ratio', s.ratio_in || 'x' || s.ratio_out))
                  ORDER BY s.id, p.number, p.id) AS ports
           FROM splitters s JOIN ports p ON p.splitter_id = s.id
          WHERE s.box_id = b.id AND ${OFFERED_PORT_SQL}
       ) offered
      WHERE b.removed_at IS NULL AND NOT b.planned AND NOT COALESCE(pl.planned, false) ${integrationFilter}
        AND b.geom && ST_Expand(here.g, ?, ?)
        AND ST_DWithin(b.geom::geography, here.g::geography, ?)
        AND offered.ports IS NOT NULL
      ORDER BY metres, b.id
      LIMIT ?`,
    [origin.lon, origin.lat, ...(integrations ?? []), lonSpan, latSpan, radius, limit],
  );
  const boxes = result.rows.map((row): ViableBox => {
    const ports = (row.ports as OfferedPort[]).map((port) => ({ ...port, id: Number(port.id), splitter: { ...port.splitter, id: Number(port.splitter.id) } }));
    return {
      integrationId: row.integration_id,
      id: Number(row.id),
      externalId: row.external_id,
      name: row.name,
      boxKind: row.kind,
      lat: Number(row.lat),
      lon: Number(row.lon),
      distanceMetres: Math.round(Number(row.metres) * 10) / 10,
      freePortCount: ports.length,
      freePorts: ports,
    };
  });
  return { origin, radiusMetres: radius, boxes };
}

/**
 * A box's offered ports grouped per splitter (by mapsync splitter id: a box may hold two
 * splitters with the same name), in the order given, with a label that tells same-named
 * splitters apart by their platform id.
 * @returns [{ splitter, label, numbers }], one entry per splitter
 */
export function freePortsBySplitter(ports: OfferedPort[]): { splitter: OfferedPort['splitter']; label: string; numbers: number[] }[] {
  const groups = new Map<number, { splitter: OfferedPort['splitter']; label: string; numbers: number[] }>();
  for (const port of ports) {
    const group = groups.get(port.splitter.id) ?? { splitter: port.splitter, label: port.splitter.name ?? port.splitter.externalId, numbers: [] };
    group.numbers.push(port.number);
    groups.set(port.splitter.id, group);
  }
  const all = [...groups.values()];
  const named = (splitter: OfferedPort['splitter']) => splitter.name ?? splitter.externalId;
  return all.map((group) =>
    all.some((other) => other !== group && named(other.splitter) === named(group.splitter)) ? { ...group, label: `${named(group.splitter)} (id ${group.splitter.externalId})` } : group,
  );
}

function pointOrigin(lat: number, lon: number): ViabilityOrigin {
  if (!Number.isFinite(lat) || lat < -90 || lat > 90) throw new ViabilityError(400, 'bad_position', 'lat must be a latitude from -90 to 90 (EPSG:4326, decimal degrees)');
  if (!Number.isFinite(lon) || lon < -180 || lon > 180) throw new ViabilityError(400, 'bad_position', 'lon must be a longitude from -180 to 180 (EPSG:4326, decimal degrees)');
  return { lat, lon, source: 'point' };
}

/** The service location stored with the ERP contract (service_contracts.geom, from the customer import). */
async function contractOrigin(knex: Knex, serviceId: string): Promise<ViabilityOrigin> {
  const row = await knex('service_contracts')
    .where({ service_id: serviceId })
    .first<{ address: string | null; lat: number | null; lon: number | null } | undefined>('address', knex.raw('ST_Y(geom) AS lat'), knex.raw('ST_X(geom) AS lon'));
  if (!row) throw new ViabilityError(404, 'contract_not_found', `no service contract with serviceId ${serviceId}`);
  if (row.lat === null || row.lon === null) {
    throw new ViabilityError(
      422,
      'contract_without_location',
      `service contract ${serviceId} has no stored location; import it with lat/lon (POST /v1/customers, mapsync customers import) or ask with lat and lon`,
    );
  }
  return { lat: Number(row.lat), lon: Number(row.lon), source: 'contract', serviceId, address: row.address };
}

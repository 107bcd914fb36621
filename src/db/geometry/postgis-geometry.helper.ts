import type { Knex } from 'knex';

/**
 * Geometry SQL for PostGIS (the embedded database speaks the same dialect).
 * Everything is EPSG:4326; distances in metres go through ::geography.
 */
export const SRID = 4326;

export function pointSql(knex: Knex, lon: number, lat: number): Knex.Raw {
  return knex.raw('ST_SetSRID(ST_MakePoint(?, ?), 4326)', [lon, lat]);
}

/** Selects a geometry column as parsed GeoJSON; pg cannot read the raw column. */
export function geoJsonColumn(knex: Knex, column: string, alias = column): Knex.Raw {
  return knex.raw('ST_AsGeoJSON(??)::json AS ??', [column, alias]);
}

export function gistIndexSql(table: string, column = 'geom'): string {
  return `CREATE INDEX IF NOT EXISTS ${table}_${column}_gist ON ${table} USING GIST (${column})`;
}

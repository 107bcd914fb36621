import type { PlatformBox, PlatformCustomer, PlatformPole, PlatformSplitter } from '../domain/network.ts';
import type { RunConnection } from './run-connection.ts';

/**
 * Staging: temporary tables of the run's own session, one set per run. They hold what the
 * platform returned until the merge; being temporary they cost no WAL and vanish with the
 * session when a run dies. Rows go in with one multi-row INSERT … SELECT FROM unnest(…)
 * per batch (one array parameter per column).
 */
export interface StagingTables {
  poles: string;
  boxes: string;
  splitters: string;
  ports: string;
  customers: string;
  links: string;
  occupancy: string;
  /** Containers the platform lists as holding service equipment (see serviceEquipmentHolders). */
  serviceHolders: string;
  /** Each container's port-count summary from the batch read (see port-count-summaries.ts). */
  portCounts: string;
}

/** What a pole's equipment check remembers of the pole (see sync_pole_checks), over staging row `p`. */
export const POLE_CHECK_HASH_SQL = 'md5(ROW(p.name, p.observation, p.lon, p.lat)::text)';

/**
 * Whether a container's listed record is the one its last equipment read saw, by digest
 * (`stored` a bookkeeping row, `staged` a staging row): unknown on either side counts as the same.
 */
export function sameListedDigestSql(stored: string, staged: string): string {
  return `(${stored}.listed_digest IS NULL OR ${staged}.listed_digest IS NULL OR ${stored}.listed_digest = ${staged}.listed_digest)`;
}

/** What a customer's link is decided from on the platform side, over staging row `s`. */
export const LINK_INPUT_HASH_SQL = 'md5(ROW(s.raw_document, s.observation, s.listed)::text)';

/**
 * What a container's full equipment read remembers of it (see sync_equipment_reads), over
 * staging row `c`: its listed record, and the kinds the integration syncs (a change of those
 * must not reuse what was stored under the old ones).
 */
export function equipmentReadHashSql(kind: 'box' | 'pole', selectionKey: string): string {
  const record = kind === 'box' ? 'c.project_external_id, c.name, c.kind, c.lon, c.lat, c.platform_pole_external_id' : 'c.project_external_id, c.name, c.observation, c.lon, c.lat';
  return `md5(ROW(${record}, '${selectionKey.replaceAll("'", "''")}')::text)`;
}

/**
 * How this run gets a container's equipment: 'diagram' (read it all, as --full does),
 * 'occupancy' (read the service ports only, reuse the stored equipment when they agree),
 * 'stored' (reuse the stored equipment, no read). Null: not read at all (a bare pole).
 */
export type ReadMode = 'diagram' | 'occupancy' | 'stored';

export function stagingTables(runId: string): StagingTables {
  const suffix = runId.replaceAll('-', '');
  return {
    poles: `stage_poles_${suffix}`,
    boxes: `stage_boxes_${suffix}`,
    splitters: `stage_splitters_${suffix}`,
    ports: `stage_ports_${suffix}`,
    customers: `stage_customers_${suffix}`,
    links: `stage_links_${suffix}`,
    occupancy: `stage_occupancy_${suffix}`,
    serviceHolders: `stage_service_holders_${suffix}`,
    portCounts: `stage_port_counts_${suffix}`,
  };
}

/**
 * Session settings for a run's staging work. Staging is ANALYZEd between steps so the joins
 * are planned on real sizes; a small sample is enough for that and costs a tenth of the
 * default. Hash joins and sorts over a million staged rows fit in memory instead of
 * spilling (only raised, never lowered below the server's setting).
 */
export async function prepareRunSession(db: RunConnection): Promise<void> {
  await db.query(`SET default_statistics_target = ${STAGING_STATISTICS_TARGET}`);
  await db.query(
    `SELECT set_config('work_mem', '${RUN_WORK_MEM_KB}kB', false) FROM pg_settings WHERE name = 'work_mem' AND setting::bigint < ${RUN_WORK_MEM_KB}`,
  );
}

const STAGING_STATISTICS_TARGET = 25;
const RUN_WORK_MEM_KB = 64 * 1024;

export async function createStaging(db: RunConnection, t: StagingTables, keep: { poles: boolean; boxes: boolean; customers: boolean }): Promise<void> {
  await db.query(`CREATE TEMP TABLE ${t.poles} (
    external_id text PRIMARY KEY,
    project_external_id text,
    name text,
    observation text,
    lon float8 NOT NULL,
    lat float8 NOT NULL,
    geom geometry(Point, 4326) NOT NULL,
    listed_digest text,
    keep boolean NOT NULL DEFAULT ${keep.poles},
    planned boolean NOT NULL DEFAULT false,
    equipment_read boolean NOT NULL DEFAULT false,
    read_mode text
  )`);
  await db.query(`CREATE TEMP TABLE ${t.boxes} (
    external_id text PRIMARY KEY,
    project_external_id text,
    name text,
    kind text NOT NULL,
    lon float8 NOT NULL,
    lat float8 NOT NULL,
    geom geometry(Point, 4326) NOT NULL,
    platform_pole_external_id text,
    listed_digest text,
    auto boolean NOT NULL DEFAULT false,
    pole_external_id text,
    pole_link text,
    keep boolean NOT NULL DEFAULT ${keep.boxes},
    planned boolean NOT NULL DEFAULT false,
    read_mode text
  )`);
  await db.query(`CREATE TEMP TABLE ${t.splitters} (
    external_id text PRIMARY KEY,
    container_external_id text NOT NULL,
    container_kind text NOT NULL,
    box_external_id text NOT NULL,
    name text,
    role text NOT NULL,
    ratio_in integer NOT NULL,
    ratio_out integer NOT NULL,
    keep boolean NOT NULL,
    -- staged from the stored equipment of a container not read in full
    reused boolean NOT NULL DEFAULT false,
    planned boolean NOT NULL DEFAULT false
  )`);
  await db.query(`CREATE INDEX ON ${t.splitters} (container_external_id)`);
  await db.query(`CREATE TEMP TABLE ${t.ports} (
    external_id text PRIMARY KEY,
    splitter_external_id text NOT NULL,
    number integer NOT NULL,
    label text,
    available boolean NOT NULL,
    customer_external_id text,
    customer_name text,
    keep boolean NOT NULL,
    planned boolean NOT NULL DEFAULT false
  )`);
  await db.query(`CREATE TEMP TABLE ${t.customers} (
    external_id text PRIMARY KEY,
    name text,
    raw_document text,
    observation text,
    integration_code text,
    listed boolean NOT NULL,
    keep boolean NOT NULL DEFAULT ${keep.customers},
    port_external_id text,
    lon float8,
    lat float8
  )`);
  // Service ports as the occupancy listing showed them, for containers read that way.
  await db.query(`CREATE TEMP TABLE ${t.occupancy} (
    container_kind text NOT NULL,
    container_external_id text NOT NULL,
    port_external_id text NOT NULL,
    splitter_external_id text,
    splitter_name text,
    number integer,
    label text,
    -- false when the record had no label field: then its label says nothing
    label_given boolean NOT NULL DEFAULT true,
    available boolean,
    customer_external_id text,
    customer_name text
  )`);
  await db.query(`CREATE TEMP TABLE ${t.serviceHolders} (external_id text PRIMARY KEY)`);
  // Link decisions go to a table of their own: appended, never updated in place.
  await db.query(`CREATE TEMP TABLE ${t.links} (
    external_id text PRIMARY KEY,
    document text,
    document_masked text,
    link_status text NOT NULL,
    link_reason text,
    service_id text,
    reused boolean NOT NULL DEFAULT false
  )`);
}

export async function dropStaging(db: RunConnection, t: StagingTables): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS ${Object.values(t).join(', ')}`);
}

/** Inserts a batch; returns the ids that were not inserted because they were staged already. */
async function insertReturningDuplicates(db: RunConnection, sql: string, params: unknown[], ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const inserted = await db.query<{ external_id: string }>(`${sql} RETURNING external_id`, params);
  if (inserted.length === ids.length) return [];
  const fresh = new Set(inserted.map((row) => row.external_id));
  const duplicates: string[] = [];
  for (const id of ids) {
    if (fresh.has(id)) fresh.delete(id);
    else duplicates.push(id);
  }
  return duplicates;
}

export async function stagePoles(db: RunConnection, table: string, poles: PlatformPole[]): Promise<string[]> {
  return insertReturningDuplicates(
    db,
    `INSERT INTO ${table} (external_id, project_external_id, name, observation, lon, lat, geom, listed_digest, planned)
     SELECT id, project, name, obs, lon, lat, ST_SetSRID(ST_MakePoint(lon, lat), 4326), digest, planned
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::text[], $8::bool[]) AS u(id, project, name, obs, lon, lat, digest, planned)
     ON CONFLICT (external_id) DO NOTHING`,
    [
      poles.map((p) => p.externalId),
      poles.map((p) => p.projectExternalId),
      poles.map((p) => p.name),
      poles.map((p) => p.observation),
      poles.map((p) => p.lon),
      poles.map((p) => p.lat),
      poles.map((p) => p.listedDigest ?? null),
      poles.map((p) => p.planned === true),
    ],
    poles.map((p) => p.externalId),
  );
}

export async function stageBoxes(db: RunConnection, table: string, boxes: PlatformBox[]): Promise<string[]> {
  return insertReturningDuplicates(
    db,
    `INSERT INTO ${table} (external_id, project_external_id, name, kind, lon, lat, geom, platform_pole_external_id, listed_digest, planned)
     SELECT id, project, name, kind, lon, lat, ST_SetSRID(ST_MakePoint(lon, lat), 4326), pole, digest, planned
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::text[], $8::text[], $9::bool[]) AS u(id, project, name, kind, lon, lat, pole, digest, planned)
     ON CONFLICT (external_id) DO NOTHING`,
    [
      boxes.map((b) => b.externalId),
      boxes.map((b) => b.projectExternalId),
      boxes.map((b) => b.name),
      boxes.map((b) => b.kind),
      boxes.map((b) => b.lon),
      boxes.map((b) => b.lat),
      boxes.map((b) => b.poleExternalId),
      boxes.map((b) => b.listedDigest ?? null),
      boxes.map((b) => b.planned === true),
    ],
    boxes.map((b) => b.externalId),
  );
}

export interface StagedSplitter {
  splitter: PlatformSplitter;
  boxExternalId: string;
  keep: boolean;
}

export async function stageSplitters(db: RunConnection, table: string, rows: StagedSplitter[]): Promise<string[]> {
  return insertReturningDuplicates(
    db,
    `INSERT INTO ${table} (external_id, container_external_id, container_kind, box_external_id, name, role, ratio_in, ratio_out, keep, planned)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::int[], $9::bool[], $10::bool[])
     ON CONFLICT (external_id) DO NOTHING`,
    [
      rows.map((r) => r.splitter.externalId),
      rows.map((r) => r.splitter.containerExternalId),
      rows.map((r) => r.splitter.containerKind),
      rows.map((r) => r.boxExternalId),
      rows.map((r) => r.splitter.name),
      rows.map((r) => r.splitter.role),
      rows.map((r) => r.splitter.ratioIn),
      rows.map((r) => r.splitter.ratioOut),
      rows.map((r) => r.keep),
      rows.map((r) => r.splitter.planned === true),
    ],
    rows.map((r) => r.splitter.externalId),
  );
}

export interface StagedPort {
  externalId: string;
  splitterExternalId: string;
  number: number;
  label: string | null;
  available: boolean;
  customerExternalId: string | null;
  customerName: string | null;
  keep: boolean;
  /** The port or its splitter is still being designed. */
  planned?: boolean;
}

export async function stagePorts(db: RunConnection, table: string, rows: StagedPort[]): Promise<string[]> {
  return insertReturningDuplicates(
    db,
    `INSERT INTO ${table} (external_id, splitter_external_id, number, label, available, customer_external_id, customer_name, keep, planned)
     SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::bool[], $6::text[], $7::text[], $8::bool[], $9::bool[])
     ON CONFLICT (external_id) DO NOTHING`,
    [
      rows.map((r) => r.externalId),
      rows.map((r) => r.splitterExternalId),
      rows.map((r) => r.number),
      rows.map((r) => r.label),
      rows.map((r) => r.available),
      rows.map((r) => r.customerExternalId),
      rows.map((r) => r.customerName),
      rows.map((r) => r.keep),
      rows.map((r) => r.planned === true),
    ],
    rows.map((r) => r.externalId),
  );
}

export async function stageCustomers(db: RunConnection, table: string, customers: PlatformCustomer[]): Promise<string[]> {
  return insertReturningDuplicates(
    db,
    `INSERT INTO ${table} (external_id, name, raw_document, observation, integration_code, listed)
     SELECT id, name, doc, obs, code, true FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(id, name, doc, obs, code)
     ON CONFLICT (external_id) DO NOTHING`,
    [
      customers.map((c) => c.externalId),
      customers.map((c) => c.name),
      customers.map((c) => c.rawDocument),
      customers.map((c) => c.observation),
      customers.map((c) => c.integrationCode),
    ],
    customers.map((c) => c.externalId),
  );
}

export interface StagedOccupancy {
  containerKind: 'box' | 'pole';
  containerExternalId: string;
  portExternalId: string;
  splitterExternalId: string | null;
  splitterName: string | null;
  number: number | null;
  label: string | null;
  labelGiven: boolean;
  available: boolean | null;
  customerExternalId: string | null;
  customerName: string | null;
}

export async function stageOccupancy(db: RunConnection, table: string, rows: StagedOccupancy[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO ${table} (container_kind, container_external_id, port_external_id, splitter_external_id, splitter_name, number, label, label_given, available, customer_external_id, customer_name)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::bool[], $9::bool[], $10::text[], $11::text[])`,
    [
      rows.map((r) => r.containerKind),
      rows.map((r) => r.containerExternalId),
      rows.map((r) => r.portExternalId),
      rows.map((r) => r.splitterExternalId),
      rows.map((r) => r.splitterName),
      rows.map((r) => r.number),
      rows.map((r) => r.label),
      rows.map((r) => r.labelGiven),
      rows.map((r) => r.available),
      rows.map((r) => r.customerExternalId),
      rows.map((r) => r.customerName),
    ],
  );
}

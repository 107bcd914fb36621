import type { PlatformBox, PlatformCustomer, PlatformPole, PlatformSplitter } from '../domain/network.ts';
import type { RunConnection } from './run-connection.ts';

/**
 * Staging: temporary tables of the run's own session, one set per run. They hold what the
 * platform returned until the merge; being temporary they cost no WAL and vanish with the
 * session when a run dies. Rows go in with one `COPY … FROM STDIN` per batch, or, where the
 * server does not take COPY (the embedded database), one multi-row INSERT … SELECT FROM
 * unnest(…) per batch (one array parameter per column).
 *
 * The tables a platform listing streams into (poles, boxes, splitters, ports, customers) get
 * their key on `external_id` once the stream is in (see keyStaging): an id the platform
 * returned twice is found there, set-wise, instead of in a set of every id held in memory.
 * Each streamed row carries its `arrival` (its order in the stream), so the first one is kept.
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
/** A staged position's point, kept from its lon/lat by the server whichever way the row came in. */
const GEOM_OF_LON_LAT = 'GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED';
const RUN_WORK_MEM_KB = 64 * 1024;

export async function createStaging(db: RunConnection, t: StagingTables, keep: { poles: boolean; boxes: boolean; customers: boolean }): Promise<void> {
  await db.query(`CREATE TEMP TABLE ${t.poles} (
    external_id text NOT NULL,
    arrival integer,
    project_external_id text,
    name text,
    observation text,
    lon float8 NOT NULL,
    lat float8 NOT NULL,
    geom geometry(Point, 4326) ${GEOM_OF_LON_LAT},
    listed_digest text,
    keep boolean NOT NULL DEFAULT ${keep.poles},
    planned boolean NOT NULL DEFAULT false,
    equipment_read boolean NOT NULL DEFAULT false,
    read_mode text
  )`);
  await db.query(`CREATE TEMP TABLE ${t.boxes} (
    external_id text NOT NULL,
    arrival integer,
    project_external_id text,
    name text,
    kind text NOT NULL,
    lon float8 NOT NULL,
    lat float8 NOT NULL,
    geom geometry(Point, 4326) ${GEOM_OF_LON_LAT},
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
    external_id text NOT NULL,
    arrival integer,
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
    external_id text NOT NULL,
    arrival integer,
    splitter_external_id text NOT NULL,
    -- the arrival of the splitter row the port came with (a diagram read)
    splitter_arrival integer,
    number integer NOT NULL,
    label text,
    available boolean NOT NULL,
    customer_external_id text,
    customer_name text,
    keep boolean NOT NULL,
    planned boolean NOT NULL DEFAULT false
  )`);
  await db.query(`CREATE TEMP TABLE ${t.customers} (
    external_id text NOT NULL,
    arrival integer,
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

type Cell = string | number | boolean | null | undefined;
type ColumnType = 'text' | 'float8' | 'int' | 'bool';
/** A staging column: its name, its type, and its value in a row. */
type Column<R> = readonly [name: string, type: ColumnType, value: (row: R) => Cell];

const ARRAY_TYPE: Record<ColumnType, string> = { text: 'text[]', float8: 'float8[]', int: 'int[]', bool: 'bool[]' };

/** COPY's text format: `\N` is null, and a backslash, tab, newline or carriage return is escaped. */
function copyText(value: Cell): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return String(value);
  return COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c] as string) : value;
}
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIAL_ALL = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * Writes rows to a staging table: one COPY where the session takes it (see
 * RunConnection.copies), else one INSERT … SELECT FROM unnest(…) with an array per column.
 */
async function writeRows<R>(db: RunConnection, table: string, columns: readonly Column<R>[], rows: readonly R[]): Promise<void> {
  if (rows.length === 0) return;
  const names = columns.map(([name]) => name);
  if (db.copies) {
    const lines: string[] = new Array<string>(rows.length);
    for (let i = 0; i < rows.length; i += 1) {
      const row = rows[i] as R;
      lines[i] = columns.map(([, , value]) => copyText(value(row))).join('\t');
    }
    await db.copyIn(table, names, `${lines.join('\n')}\n`);
    return;
  }
  await db.query(
    `INSERT INTO ${table} (${names.join(', ')})
     SELECT * FROM unnest(${columns.map(([, type], i) => `$${i + 1}::${ARRAY_TYPE[type]}`).join(', ')})`,
    columns.map(([, , value]) => rows.map((row) => value(row) ?? null)),
  );
}

/** A row of a streamed kind, numbered in the order it arrived. */
type Arrived<T> = { item: T; arrival: number };

/**
 * Writes what the platform streams into staging, numbering the rows of each table in the order
 * they arrive, so that of an id returned twice the first is kept (see keyStaging). One per run.
 */
export class StagingWriter {
  private readonly arrived = new Map<string, number>();

  constructor(
    private readonly db: RunConnection,
    private readonly tables: StagingTables,
  ) {}

  private number<T>(table: string, items: readonly T[]): Arrived<T>[] {
    const first = this.arrived.get(table) ?? 0;
    this.arrived.set(table, first + items.length);
    return items.map((item, i) => ({ item, arrival: first + i + 1 }));
  }

  async poles(poles: readonly PlatformPole[]): Promise<void> {
    await writeRows(this.db, this.tables.poles, POLE_COLUMNS, this.number(this.tables.poles, poles));
  }

  async boxes(boxes: readonly PlatformBox[]): Promise<void> {
    await writeRows(this.db, this.tables.boxes, BOX_COLUMNS, this.number(this.tables.boxes, boxes));
  }

  async customers(customers: readonly PlatformCustomer[]): Promise<void> {
    await writeRows(this.db, this.tables.customers, CUSTOMER_COLUMNS, this.number(this.tables.customers, customers));
  }

  /** Splitters read from diagrams, and the ports that came with them (see StagedPort.splitter). */
  async equipment(splitters: readonly StagedSplitter[], ports: readonly StagedPort[]): Promise<void> {
    const numbered = this.number(this.tables.splitters, splitters);
    const arrivalOf = new Map<StagedSplitter, number>(numbered.map((s) => [s.item, s.arrival]));
    await writeRows(this.db, this.tables.splitters, SPLITTER_COLUMNS, numbered);
    await writeRows(
      this.db,
      this.tables.ports,
      PORT_COLUMNS,
      this.number(this.tables.ports, ports).map((p) => ({ ...p, splitterArrival: p.item.splitter ? (arrivalOf.get(p.item.splitter) ?? null) : null })),
    );
  }

  async occupancy(rows: readonly StagedOccupancy[]): Promise<void> {
    await writeRows(this.db, this.tables.occupancy, OCCUPANCY_COLUMNS, rows);
  }
}

const POLE_COLUMNS: readonly Column<Arrived<PlatformPole>>[] = [
  ['external_id', 'text', (r) => r.item.externalId],
  ['arrival', 'int', (r) => r.arrival],
  ['project_external_id', 'text', (r) => r.item.projectExternalId],
  ['name', 'text', (r) => r.item.name],
  ['observation', 'text', (r) => r.item.observation],
  ['lon', 'float8', (r) => r.item.lon],
  ['lat', 'float8', (r) => r.item.lat],
  ['listed_digest', 'text', (r) => r.item.listedDigest ?? null],
  ['planned', 'bool', (r) => r.item.planned === true],
];

const BOX_COLUMNS: readonly Column<Arrived<PlatformBox>>[] = [
  ['external_id', 'text', (r) => r.item.externalId],
  ['arrival', 'int', (r) => r.arrival],
  ['project_external_id', 'text', (r) => r.item.projectExternalId],
  ['name', 'text', (r) => r.item.name],
  ['kind', 'text', (r) => r.item.kind],
  ['lon', 'float8', (r) => r.item.lon],
  ['lat', 'float8', (r) => r.item.lat],
  ['platform_pole_external_id', 'text', (r) => r.item.poleExternalId],
  ['listed_digest', 'text', (r) => r.item.listedDigest ?? null],
  ['planned', 'bool', (r) => r.item.planned === true],
];

const CUSTOMER_COLUMNS: readonly Column<Arrived<PlatformCustomer>>[] = [
  ['external_id', 'text', (r) => r.item.externalId],
  ['arrival', 'int', (r) => r.arrival],
  ['name', 'text', (r) => r.item.name],
  ['raw_document', 'text', (r) => r.item.rawDocument],
  ['observation', 'text', (r) => r.item.observation],
  ['integration_code', 'text', (r) => r.item.integrationCode],
  ['listed', 'bool', () => true],
];

export interface StagedSplitter {
  splitter: PlatformSplitter;
  boxExternalId: string;
  keep: boolean;
}

const SPLITTER_COLUMNS: readonly Column<Arrived<StagedSplitter>>[] = [
  ['external_id', 'text', (r) => r.item.splitter.externalId],
  ['arrival', 'int', (r) => r.arrival],
  ['container_external_id', 'text', (r) => r.item.splitter.containerExternalId],
  ['container_kind', 'text', (r) => r.item.splitter.containerKind],
  ['box_external_id', 'text', (r) => r.item.boxExternalId],
  ['name', 'text', (r) => r.item.splitter.name],
  ['role', 'text', (r) => r.item.splitter.role],
  ['ratio_in', 'int', (r) => r.item.splitter.ratioIn],
  ['ratio_out', 'int', (r) => r.item.splitter.ratioOut],
  ['keep', 'bool', (r) => r.item.keep],
  ['planned', 'bool', (r) => r.item.splitter.planned === true],
];

export interface StagedPort {
  externalId: string;
  splitterExternalId: string;
  /** The staged splitter the port came with, written in the same batch. */
  splitter?: StagedSplitter;
  number: number;
  label: string | null;
  available: boolean;
  customerExternalId: string | null;
  customerName: string | null;
  keep: boolean;
  /** The port or its splitter is still being designed. */
  planned?: boolean;
}

const PORT_COLUMNS: readonly Column<Arrived<StagedPort> & { splitterArrival: number | null }>[] = [
  ['external_id', 'text', (r) => r.item.externalId],
  ['arrival', 'int', (r) => r.arrival],
  ['splitter_external_id', 'text', (r) => r.item.splitterExternalId],
  ['splitter_arrival', 'int', (r) => r.splitterArrival],
  ['number', 'int', (r) => r.item.number],
  ['label', 'text', (r) => r.item.label],
  ['available', 'bool', (r) => r.item.available],
  ['customer_external_id', 'text', (r) => r.item.customerExternalId],
  ['customer_name', 'text', (r) => r.item.customerName],
  ['keep', 'bool', (r) => r.item.keep],
  ['planned', 'bool', (r) => r.item.planned === true],
];

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

const OCCUPANCY_COLUMNS: readonly Column<StagedOccupancy>[] = [
  ['container_kind', 'text', (r) => r.containerKind],
  ['container_external_id', 'text', (r) => r.containerExternalId],
  ['port_external_id', 'text', (r) => r.portExternalId],
  ['splitter_external_id', 'text', (r) => r.splitterExternalId],
  ['splitter_name', 'text', (r) => r.splitterName],
  ['number', 'int', (r) => r.number],
  ['label', 'text', (r) => r.label],
  ['label_given', 'bool', (r) => r.labelGiven],
  ['available', 'bool', (r) => r.available],
  ['customer_external_id', 'text', (r) => r.customerExternalId],
  ['customer_name', 'text', (r) => r.customerName],
];

/** A row dropped by keyStaging: an id staged again after its first arrival. */
export interface StagedDuplicate {
  externalId: string;
  arrival: number;
}

/**
 * Gives a streamed staging table its key on `external_id`, once its stream is in; a no-op for
 * a table keyed already. An id staged more than once keeps its first arrival: the later rows
 * are deleted and returned (in arrival order) for the caller to report. Building the key after
 * the load costs one index build, and nothing more when no id repeats (the usual case).
 */
export async function keyStaging(db: RunConnection, table: string): Promise<StagedDuplicate[]> {
  const [keyed] = await db.query<{ keyed: boolean }>(`SELECT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = $1::regclass AND indisprimary) AS keyed`, [table]);
  if (keyed?.keyed) return [];
  try {
    await db.query(`ALTER TABLE ${table} ADD PRIMARY KEY (external_id)`);
    return [];
  } catch (error) {
    if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
  }
  const dropped = await db.query<{ external_id: string; arrival: number }>(
    `DELETE FROM ${table} t
      USING (SELECT external_id, arrival, row_number() OVER (PARTITION BY external_id ORDER BY arrival) AS nth
               FROM ${table} WHERE external_id IN (SELECT external_id FROM ${table} GROUP BY external_id HAVING count(*) > 1)) d
      WHERE d.nth > 1 AND t.external_id = d.external_id AND t.arrival = d.arrival
     RETURNING t.external_id, t.arrival`,
  );
  await db.query(`ALTER TABLE ${table} ADD PRIMARY KEY (external_id)`);
  return dropped.map((row) => ({ externalId: row.external_id, arrival: row.arrival })).sort((a, b) => a.arrival - b.arrival);
}

const UNIQUE_VIOLATION = '23505';

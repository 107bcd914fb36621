/**
 * Everything tied to the shape of OZmap API v2 lives here: paths, the query (paging in the
 * query string, filter and sort as a JSON body on the GET), zod schemas of the JSON, and the
 * mapping between the JSON and the domain types. The source is the official SDK
 * (`@ozmap/ozmap-sdk` 1.1.8, see docs `platforms/ozmap-v2.md`); the SDK validates request
 * bodies only, so every answer here is read tolerantly: a record in a shape nobody reads
 * becomes a rejection naming the endpoint with a masked sample, a page that cannot be read
 * at all is an OzmapShapeError and fails the run.
 *
 * Call pattern:
 *   - `GET projects` (and `projects/{id}` for the linked project's hierarchy levels);
 *   - `GET poles` filtered `within {model:'project', id}` (a pole has no project field);
 *   - `GET boxes`, `GET splitters` (populate `splitterType`, which says `isDrop`) and
 *     `GET properties` (populate `client`) filtered by `project`;
 *   - `GET ftth-clients` filtered by `code` to find a customer before writing one.
 *   Each list is paged with `page`/`limit` by mapsync itself: the SDK's `findAll` follows
 *   `nextUrl` and can loop for ever.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type {
  BoxKind,
  PlatformBox,
  PlatformCustomer,
  PlatformPole,
  PlatformPort,
  PlatformProject,
  PlatformSplitter,
  Rejection,
} from '../../domain/network.ts';
import type { CustomerPayload, PortTie, RemoteCustomer } from '../platform-adapter.ts';
import { DuplicateIdGuard, canonicalJson, checkCoordinates, externalIdOf, isRecord, numberOf, reject, textOf } from '../record-validation.ts';
import { describeBody, maskedSample } from '../wire-sample.ts';

// ---------------------------------------------------------------------------------------
// Connection
// ---------------------------------------------------------------------------------------

export const OZMAP_API_PREFIX = '/api/v2';
/** The API key goes raw, with no "Bearer" (SDK `Api`). */
export const OZMAP_AUTH_HEADER = 'Authorization';
export const DEFAULT_PAGE_SIZE = 500;

export function ozmapBaseUrl(apiUrl: string): string {
  return `${apiUrl.replace(/\/+$/, '')}${OZMAP_API_PREFIX}`;
}

export function ozmapHeaders(token: string | null): Record<string, string> {
  return token ? { [OZMAP_AUTH_HEADER]: token, Accept: 'application/json' } : { Accept: 'application/json' };
}

// ---------------------------------------------------------------------------------------
// Paths and queries
// ---------------------------------------------------------------------------------------

export const paths = {
  login: () => '/users/login',
  projects: () => '/projects',
  project: (id: string) => `/projects/${encodeURIComponent(id)}`,
  poles: () => '/poles',
  boxes: () => '/boxes',
  box: (id: string) => `/boxes/${encodeURIComponent(id)}`,
  splitters: () => '/splitters',
  ftthClients: () => '/ftth-clients',
  ftthClient: (id: string) => `/ftth-clients/${encodeURIComponent(id)}`,
  properties: () => '/properties',
  property: (id: string) => `/properties/${encodeURIComponent(id)}`,
} as const;

/**
 * The endpoint family each request is counted under (run record, metrics): OZmap's own route
 * names. Properties are read for two purposes and counted apart: `properties` (customers, and
 * the ties of customers to ports) and `property` (one client's property, around a push).
 */
export const FAMILY = {
  login: 'login',
  projects: 'projects',
  poles: 'poles',
  boxes: 'boxes',
  splitters: 'splitters',
  properties: 'properties',
  property: 'property',
  ftthClients: 'ftth-clients',
} as const;

/** `POST users/login?type=API` (SDK `Api.login`). */
export const LOGIN_PARAMS = { type: 'API' } as const;

export function loginBody(login: string, password: string): { login: string; password: string } {
  return { login, password };
}

/** The token of a login answer (`{authorization}`); throws OzmapShapeError when it has none. */
export function toLoginToken(body: unknown): string {
  const token = isRecord(body) ? textOf(body.authorization) : null;
  if (!token) throw new OzmapShapeError('POST /users/login', isRecord(body) ? { ...body, authorization: undefined } : body);
  return token;
}

/** A filter as the SDK sends it (`ApiFilterSchema`): `{property, operator, value}`. */
export interface OzmapFilter {
  property: string;
  operator: '=' | '!=' | 'like' | '<' | '<=' | '>' | '>=' | 'in' | 'notin' | 'all' | 'exists' | 'near' | 'within' | 'point-intersect';
  value: unknown;
}

export interface OzmapSort {
  property: string;
  direction: 1 | -1;
}

export interface OzmapQuery {
  /** Every entry must hold; an entry that is a list holds when any of its filters does (SDK ApiFilterSchema). */
  filter?: Array<OzmapFilter | OzmapFilter[]>;
  sort?: OzmapSort[];
  /** Fields to return, space separated (a Mongoose projection), e.g. `"id"`. */
  select?: string;
  populate?: string;
}

/**
 * The axios parts of a list request, as the SDK's `Api.get` builds them: `page`, `limit`,
 * `select` and `populate` in the query; `filter` and `sort` in a JSON body on the GET.
 */
export function listRequest(query: OzmapQuery, page: number, limit: number): { params: Record<string, unknown>; data: Record<string, unknown> } {
  const params: Record<string, unknown> = { page, limit };
  if (query.select !== undefined) params.select = query.select;
  if (query.populate !== undefined) params.populate = query.populate;
  const data: Record<string, unknown> = {};
  if (query.filter !== undefined && query.filter.length > 0) data.filter = query.filter;
  if (query.sort !== undefined) data.sort = query.sort;
  return { params, data };
}

export const filters = {
  /** Poles carry no project: the API places them by the project's area. */
  withinProject: (projectId: string): OzmapFilter => ({ property: 'coords', operator: 'within', value: { model: 'project', id: projectId } }),
  project: (projectId: string): OzmapFilter => ({ property: 'project', operator: '=', value: projectId }),
  projectIn: (projectIds: string[]): OzmapFilter =>
    projectIds.length === 1 ? filters.project(projectIds[0]!) : { property: 'project', operator: 'in', value: projectIds },
  /** As OZmap's own ERP integrations poll: records updated after a time (ISO 8601, UTC). */
  updatedAfter: (since: Date): OzmapFilter => ({ property: 'updatedAt', operator: '>', value: since.toISOString() }),
  parentIn: (ids: string[]): OzmapFilter => ({ property: 'parent', operator: 'in', value: ids }),
  /** Properties connected to any of these splitters (`connections.id`). */
  connectedTo: (splitterIds: string[]): OzmapFilter =>
    splitterIds.length === 1 ? { property: 'connections.id', operator: '=', value: splitterIds[0]! } : { property: 'connections.id', operator: 'in', value: splitterIds },
  client: (id: string): OzmapFilter => ({ property: 'client', operator: '=', value: id }),
  code: (code: string): OzmapFilter => ({ property: 'code', operator: '=', value: code }),
} as const;

/** Listed in id order, so pages do not shift while records are being edited. */
export const ID_ORDER: OzmapSort[] = [{ property: '_id', direction: 1 }];

// ---------------------------------------------------------------------------------------
// Envelopes
// ---------------------------------------------------------------------------------------

export class OzmapShapeError extends Error {
  readonly endpoint: string;
  readonly sample: string;

  constructor(endpoint: string, body: unknown) {
    const sample = maskedSample(body);
    super(`ozmap answered an unexpected shape for ${endpoint}: ${describeBody(body)}; sample (masked): ${sample}`);
    this.name = 'OzmapShapeError';
    this.endpoint = endpoint;
    this.sample = sample;
  }
}

export const pageSchema = z.looseObject({
  rows: z.array(z.unknown()),
  total: z.union([z.number(), z.string()]).nullish(),
  hasNextPage: z.boolean().nullish(),
});

export interface WirePage {
  records: unknown[];
  /** Records matching the query on every page; null when the answer does not say. */
  total: number | null;
  hasNextPage: boolean | null;
}

/**
 * A list answer. Known: `{total, count, start, limit, rows, hasNextPage, nextUrl}` (SDK
 * `Pagination`). Alternative: a bare array (no total). Throws OzmapShapeError otherwise.
 */
export function parsePage(body: unknown, endpoint: string): WirePage {
  const parsed = pageSchema.safeParse(body);
  if (parsed.success) {
    const total = numberOf(parsed.data.total);
    return { records: parsed.data.rows, total: total === null ? null : Math.trunc(total), hasNextPage: parsed.data.hasNextPage ?? null };
  }
  if (Array.isArray(body)) return { records: body, total: null, hasNextPage: null };
  throw new OzmapShapeError(endpoint, body);
}

/** Id of a record or of a reference: `id`, else `_id`; a reference may be the id itself or the populated record. */
export function refId(value: unknown): string | null {
  if (isRecord(value)) return externalIdOf(value.id) ?? externalIdOf(value._id);
  return externalIdOf(value);
}


/** Digest of a whole listed record: any field changing (one mapsync does not store included) changes it. */
export function listedDigestOf(record: Record<string, unknown>): string {
  return createHash('md5').update(canonicalJson(record)).digest('hex');
}

/** Whether the record was created after `since` (its `createdAt`); false when it does not say. */
export function createdAfter(record: unknown, since: Date | undefined): boolean {
  if (!since || !isRecord(record)) return false;
  const at = typeof record.createdAt === 'string' ? Date.parse(record.createdAt) : NaN;
  return Number.isFinite(at) && at > since.getTime();
}

/** Still being designed: `draft: true` or `implanted: false` (DESIGN.md, planned items). */
export function isPlanned(record: Record<string, unknown>): boolean {
  return record.draft === true || record.implanted === false;
}

/**
 * Position of a record: `coords` `[lng, lat]` (GeoJSON order), else `lat`/`lng`, else a
 * GeoJSON Point in `coords.coordinates`.
 */
function positionOf(record: Record<string, unknown>): { lat: unknown; lon: unknown } {
  const coords = record.coords;
  if (Array.isArray(coords) && coords.length === 2) return { lon: coords[0], lat: coords[1] };
  if (isRecord(coords) && Array.isArray(coords.coordinates) && coords.coordinates.length === 2) {
    return { lon: coords.coordinates[0], lat: coords.coordinates[1] };
  }
  return { lat: record.lat, lon: record.lng };
}

interface RecordRead {
  id: string;
  record: Record<string, unknown>;
}

/** The record and its id, or a rejection (not an object, no id, a repeated id). */
function readRecord(raw: unknown, kind: Rejection['kind'], endpoint: string, guard: DuplicateIdGuard): RecordRead | Rejection {
  if (!isRecord(raw)) return reject(kind, null, 'unreadable_record', `${endpoint}: a record that is not an object; sample (masked): ${maskedSample(raw)}`);
  const id = refId(raw);
  if (!id) return reject(kind, null, 'missing_id', `${endpoint}: a ${kind} without an id; sample (masked): ${maskedSample(raw)}`);
  if (!guard.firstTime(id)) return reject(kind, id, 'duplicate_id', `${kind} id ${id} appears twice`);
  return { id, record: raw };
}

const isRejection = (value: RecordRead | Rejection): value is Rejection => 'code' in value;

/** How many of the listed records were created after `since` (items and rejections alike). */
export function countCreated(records: unknown[], since: Date | undefined): number {
  if (!since) return 0;
  let created = 0;
  for (const record of records) if (createdAfter(record, since)) created += 1;
  return created;
}

// ---------------------------------------------------------------------------------------
// Projects
// ---------------------------------------------------------------------------------------

export const projectSchema = z.looseObject({
  name: z.string().nullish(),
  identifier: z.string().nullish(),
  hierarchyLevels: z.looseObject({ box: z.unknown().optional() }).nullish(),
});

export function toProjects(records: unknown[]): { items: PlatformProject[]; rejected: Rejection[] } {
  const items: PlatformProject[] = [];
  const rejected: Rejection[] = [];
  const guard = new DuplicateIdGuard();
  for (const raw of records) {
    const read = readRecord(raw, 'project', 'GET /projects', guard);
    if (isRejection(read)) {
      rejected.push(read);
      continue;
    }
    const parents = Array.isArray(read.record.parents) ? read.record.parents : [];
    const parentId = parents.length > 0 && isRecord(parents[0]) ? refId(parents[0].project) : null;
    items.push({
      externalId: read.id,
      name: textOf(read.record.name) ?? textOf(read.record.identifier) ?? `#${read.id}`,
      parentName: null,
      ...(parentId ? { parentExternalId: parentId } : {}),
    });
  }
  return { items, rejected };
}

/** What the adapter needs to know of the linked project to read its boxes. */
export interface ProjectFacts {
  externalId: string;
  /** The hierarchy level of a CTO (`hierarchyLevels.box`); null when the project does not say. */
  ctoLevel: number | null;
}

/**
 * `GET projects/{id}`: the record, or `{rows:[record]}`. The CTO level is `hierarchyLevels.box`
 * when it is a number, or the level named CTO when it lists the levels (`[{id: 1, name: 'POP'},
 * {id: 2, name: 'CE'}, {id: 3, name: 'CTO'}]`). Throws OzmapShapeError when unreadable.
 */
export function toProjectFacts(body: unknown, endpoint: string): ProjectFacts {
  const record = isRecord(body) && Array.isArray(body.rows) ? body.rows[0] : body;
  const id = refId(record);
  if (!isRecord(record) || !id) throw new OzmapShapeError(endpoint, body);
  const levels = isRecord(record.hierarchyLevels) ? record.hierarchyLevels.box : undefined;
  let level = numberOf(levels);
  if (Array.isArray(levels)) {
    const cto = levels.find((l) => isRecord(l) && typeof l.name === 'string' && /\bCTO\b/i.test(l.name));
    level = isRecord(cto) ? (numberOf(cto.id) ?? numberOf(cto.level) ?? numberOf(cto.value)) : null;
  }
  return { externalId: id, ctoLevel: level !== null && Number.isInteger(level) ? level : null };
}

// ---------------------------------------------------------------------------------------
// Poles and boxes
// ---------------------------------------------------------------------------------------

export interface ListContext {
  guard: DuplicateIdGuard;
  endpoint: string;
  since?: Date;
}

function positioned(kind: 'pole' | 'box', read: RecordRead): { lat: number; lon: number } | Rejection {
  const at = positionOf(read.record);
  const check = checkCoordinates(at.lat, at.lon);
  if (!check.ok) return reject(kind, read.id, 'bad_coordinates', `${kind} ${read.id}: ${check.reason}`);
  return { lat: check.lat, lon: check.lon };
}

/** Poles of `GET poles`; `projectExternalId` is the project whose area they were listed in. */
export function toPoles(records: unknown[], context: ListContext & { projectExternalId: string | null }): { items: PlatformPole[]; rejected: Rejection[] } {
  const items: PlatformPole[] = [];
  const rejected: Rejection[] = [];
  for (const raw of records) {
    const read = readRecord(raw, 'pole', context.endpoint, context.guard);
    if (isRejection(read)) {
      rejected.push(read);
      continue;
    }
    const at = positioned('pole', read);
    if ('code' in at) {
      rejected.push(at);
      continue;
    }
    items.push({
      externalId: read.id,
      projectExternalId: context.projectExternalId,
      name: textOf(read.record.name),
      lon: at.lon,
      lat: at.lat,
      observation: textOf(read.record.observation),
      listedDigest: listedDigestOf(read.record),
      planned: isPlanned(read.record),
    });
  }
  return { items, rejected };
}

/**
 * Box kind from its hierarchy level (OZmap numbers the levels from the POP: e.g. POP 1, CE 2,
 * CTO 3, the CTO level being the project's `hierarchyLevels.box`): the CTO level is `cto`, a
 * level above it (a smaller number) a `splice` box, anything else or unknown `other`.
 */
export function boxKindOf(level: number | null, ctoLevel: number | null): BoxKind {
  if (level === null || ctoLevel === null) return 'other';
  if (level === ctoLevel) return 'cto';
  return level < ctoLevel ? 'splice' : 'other';
}

export function toBoxes(records: unknown[], context: ListContext & { ctoLevels: Map<string, number | null> }): { items: PlatformBox[]; rejected: Rejection[] } {
  const items: PlatformBox[] = [];
  const rejected: Rejection[] = [];
  for (const raw of records) {
    const read = readRecord(raw, 'box', context.endpoint, context.guard);
    if (isRejection(read)) {
      rejected.push(read);
      continue;
    }
    const at = positioned('box', read);
    if ('code' in at) {
      rejected.push(at);
      continue;
    }
    const project = refId(read.record.project);
    const level = numberOf(read.record.hierarchyLevel);
    items.push({
      externalId: read.id,
      projectExternalId: project,
      name: textOf(read.record.name),
      kind: boxKindOf(level, project ? (context.ctoLevels.get(project) ?? null) : null),
      lon: at.lon,
      lat: at.lat,
      poleExternalId: refId(read.record.pole),
      listedDigest: listedDigestOf(read.record),
      planned: isPlanned(read.record),
    });
  }
  return { items, rejected };
}

// ---------------------------------------------------------------------------------------
// Splitters and ports
// ---------------------------------------------------------------------------------------

/** A port's id on OZmap: the splitter and the 1-based position, as a property's `connections[].port` names it. */
export function portExternalId(splitterId: string, number: number): string {
  return `${splitterId}:${number}`;
}

/** The splitter and 1-based position of a port id made by portExternalId; null when it is not one. */
export function parsePortExternalId(portId: string): { splitterId: string; port: number } | null {
  const at = portId.lastIndexOf(':');
  if (at <= 0) return null;
  const port = Number(portId.slice(at + 1));
  if (!Number.isInteger(port) || port < 1) return null;
  return { splitterId: portId.slice(0, at), port };
}

export const splitterTypeSchema = z.looseObject({
  isDrop: z.boolean().nullish(),
  ratio: z.looseObject({ input: z.unknown(), output: z.unknown() }).nullish(),
});

/**
 * Splitters of `GET splitters` (populated `splitterType` and `parent`), in their `parent`: a
 * box, or a pole when the populated parent is one (`kind: 'Pole'`). Role: `service` when the splitter type
 * says `isDrop` (the splitter's own `isDrop` when the type is not populated), else
 * `distribution`. Ratio: the type's, else the splitter's own, else the number of ports.
 * Ports: `ports[]` by `index` (0-based when some index is 0, else 1-based), `blocked` meaning
 * not free; an output with a fibre (`connectables.output[i]`) and no customer is not free
 * either (unknown is never free). Customers are put on the ports by applyPortTies.
 */
export function toSplitters(records: unknown[], context: ListContext): { items: PlatformSplitter[]; rejected: Rejection[] } {
  const items: PlatformSplitter[] = [];
  const rejected: Rejection[] = [];
  for (const raw of records) {
    const read = readRecord(raw, 'splitter', context.endpoint, context.guard);
    if (isRejection(read)) {
      rejected.push(read);
      continue;
    }
    const { id, record } = read;
    const parent = refId(record.parent);
    // A populated parent says what it is; OZmap hangs equipment in boxes, so a bare id is a box.
    const containerKind = isRecord(record.parent) && record.parent.kind === 'Pole' ? 'pole' : 'box';
    if (!parent) {
      rejected.push(reject('splitter', id, 'missing_field', `splitter ${id} has no parent box`));
      continue;
    }
    const type = isRecord(record.splitterType) ? splitterTypeSchema.safeParse(record.splitterType) : null;
    const isDrop = type?.success && typeof type.data.isDrop === 'boolean' ? type.data.isDrop : typeof record.isDrop === 'boolean' ? record.isDrop : null;
    if (isDrop === null) {
      rejected.push(
        reject('splitter', id, 'missing_field', `${context.endpoint}: splitter ${id} says neither through its type nor itself whether it is a drop splitter; sample (masked): ${maskedSample(record)}`),
      );
      continue;
    }
    const ratio = (type?.success ? type.data.ratio : null) ?? (isRecord(record.ratio) ? record.ratio : null);
    const rawPorts = Array.isArray(record.ports) ? record.ports : [];
    const ratioIn = numberOf(ratio?.input) ?? 1;
    const ratioOut = numberOf(ratio?.output) ?? rawPorts.length;
    const planned = isPlanned(record);
    const outputs = isRecord(record.connectables) && Array.isArray(record.connectables.output) ? record.connectables.output : [];
    const ports = portsOf(id, rawPorts, ratioOut, outputs, planned, context.endpoint, rejected);
    items.push({
      externalId: id,
      containerExternalId: parent,
      containerKind,
      name: textOf(record.name) ?? textOf(record.label),
      role: isDrop ? 'service' : 'distribution',
      ratioIn,
      ratioOut,
      ports,
      planned,
    });
  }
  return { items, rejected };
}

function portsOf(
  splitterId: string,
  rawPorts: unknown[],
  ratioOut: number,
  outputs: unknown[],
  splitterPlanned: boolean,
  endpoint: string,
  rejected: Rejection[],
): PlatformPort[] {
  const indexes = rawPorts.map((p) => (isRecord(p) ? numberOf(p.index) : null));
  const zeroBased = indexes.some((i) => i === 0);
  const byNumber = new Map<number, Record<string, unknown>>();
  rawPorts.forEach((raw, position) => {
    if (!isRecord(raw)) {
      rejected.push(reject('port', null, 'unreadable_record', `${endpoint}: port ${position + 1} of splitter ${splitterId} is not an object; sample (masked): ${maskedSample(raw)}`));
      return;
    }
    const index = indexes[position];
    const number = index === null || index === undefined || !Number.isInteger(index) ? position + 1 : zeroBased ? index + 1 : index;
    if (number < 1 || byNumber.has(number)) {
      rejected.push(reject('port', portExternalId(splitterId, number), 'duplicate_id', `${endpoint}: splitter ${splitterId} lists port ${number} twice or out of range`));
      return;
    }
    byNumber.set(number, raw);
  });
  const count = Math.max(Number.isInteger(ratioOut) ? ratioOut : 0, ...byNumber.keys(), 0);
  const ports: PlatformPort[] = [];
  for (let number = 1; number <= count; number += 1) {
    const raw = byNumber.get(number);
    const fibre = outputs[number - 1];
    ports.push({
      externalId: portExternalId(splitterId, number),
      number,
      label: raw ? textOf(raw.label) ?? textOf(raw.observation) : null,
      available: !(raw?.blocked === true) && (fibre === undefined || fibre === null),
      customer: null,
      planned: splitterPlanned || (raw !== undefined && raw.implanted === false),
    });
  }
  return ports;
}

/**
 * Properties of `GET properties` as port ties: `connections[] {id: <splitter>, kind:
 * 'Splitter', port (1-based)}` with the `client` (populated, or its id alone).
 */
export function toPortTies(records: unknown[], context: ListContext): { items: PortTie[]; rejected: Rejection[] } {
  const items: PortTie[] = [];
  const rejected: Rejection[] = [];
  for (const raw of records) {
    const read = readRecord(raw, 'customer', context.endpoint, context.guard);
    if (isRejection(read)) {
      rejected.push(read);
      continue;
    }
    const clientId = refId(read.record.client);
    const client = isRecord(read.record.client) ? read.record.client : null;
    const ports: string[] = [];
    const connections = Array.isArray(read.record.connections) ? read.record.connections : [];
    for (const connection of connections) {
      if (!isRecord(connection)) continue;
      if (connection.kind !== undefined && connection.kind !== 'Splitter') continue;
      const splitter = refId(connection.id);
      const port = numberOf(connection.port);
      if (!splitter || port === null || !Number.isInteger(port) || port < 1) {
        rejected.push(reject('port', null, 'bad_value', `${context.endpoint}: property ${read.id} has a connection without a splitter or a port ≥ 1; sample (masked): ${maskedSample(connection)}`));
        continue;
      }
      ports.push(portExternalId(splitter, port));
    }
    items.push({
      externalId: read.id,
      boxExternalId: refId(read.record.box),
      customer: clientId ? { externalId: clientId, name: client ? textOf(client.name) : null } : null,
      ports,
    });
  }
  return { items, rejected };
}

/**
 * Puts each tie's customer on its ports, and takes those ports as not free. A port tied to two
 * customers keeps the first and reports the second (`duplicate_id`).
 */
export function applyPortTies(splitters: PlatformSplitter[], ties: PortTie[], rejected: Rejection[] = []): void {
  const ports = new Map<string, PlatformPort>();
  for (const splitter of splitters) for (const port of splitter.ports) ports.set(port.externalId, port);
  for (const tie of ties) {
    if (!tie.customer) continue;
    for (const portId of tie.ports) {
      const port = ports.get(portId);
      if (!port) continue;
      if (port.customer && port.customer.externalId !== tie.customer.externalId) {
        rejected.push(reject('port', portId, 'duplicate_id', `port ${portId} is tied to customer ${port.customer.externalId} and to customer ${tie.customer.externalId} (property ${tie.externalId}); the first is kept`));
        continue;
      }
      port.customer = { ...tie.customer };
      port.available = false;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Customers (FTTH clients)
// ---------------------------------------------------------------------------------------

export const ftthClientSchema = z.looseObject({
  code: z.union([z.string(), z.number()]).nullish(),
  name: z.union([z.string(), z.number()]).nullish(),
  observation: z.union([z.string(), z.number()]).nullish(),
});

function customerOf(id: string, client: Record<string, unknown>): PlatformCustomer {
  return {
    externalId: id,
    name: textOf(client.name),
    // OZmap clients carry no document: linking leans on the observation and the code.
    rawDocument: null,
    observation: typeof client.observation === 'string' && client.observation.trim() !== '' ? client.observation : textOf(client.observation),
    integrationCode: textOf(client.code),
  };
}

/**
 * Customers of `GET properties` (populated `client`): one per property with a client. A
 * property whose client is only an id (not populated) gives a customer with nothing but its
 * id, and an issue: its observation and code could not be read.
 */
export function toCustomers(records: unknown[], context: ListContext): { items: PlatformCustomer[]; rejected: Rejection[] } {
  const items: PlatformCustomer[] = [];
  const rejected: Rejection[] = [];
  const propertyGuard = new DuplicateIdGuard();
  for (const raw of records) {
    const read = readRecord(raw, 'customer', context.endpoint, propertyGuard);
    if (isRejection(read)) {
      rejected.push(read);
      continue;
    }
    const client = read.record.client;
    if (client === null || client === undefined) continue;
    const clientId = refId(client);
    if (!clientId) {
      rejected.push(reject('customer', null, 'missing_id', `${context.endpoint}: property ${read.id} has a client without an id; sample (masked): ${maskedSample(client)}`));
      continue;
    }
    if (!isRecord(client)) {
      rejected.push(reject('customer', clientId, 'unreadable_record', `${context.endpoint}: property ${read.id} gives client ${clientId} as an id only (not populated); its name, code and observation are unknown`));
      continue;
    }
    const parsed = ftthClientSchema.safeParse(client);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      rejected.push(reject('customer', clientId, 'bad_value', `customer ${clientId}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`.trim()));
      continue;
    }
    if (!context.guard.firstTime(clientId)) {
      rejected.push(reject('customer', clientId, 'duplicate_id', `customer id ${clientId} appears in two properties`));
      continue;
    }
    items.push(customerOf(clientId, client));
  }
  return { items, rejected };
}

/**
 * A customer looked up with `GET ftth-clients` filtered by code: null when none, the one found,
 * and an OzmapShapeError when the answer cannot be read or holds two (an unreadable answer is
 * never taken for "not found", which would make the pusher create a twin).
 */
export function toLookedUpCustomer(body: unknown, endpoint: string): RemoteCustomer | null {
  const page = parsePage(body, endpoint);
  if (page.records.length === 0) return null;
  if (page.records.length > 1) throw new OzmapShapeError(endpoint, body);
  const record = page.records[0];
  const id = refId(record);
  if (!isRecord(record) || !id) throw new OzmapShapeError(endpoint, body);
  return customerOf(id, record);
}

/** What mapsync writes in `observation`: the form the linking rules read back. */
export function observationFor(serviceId: string): string {
  return `id_cliente_servico: ${serviceId}`;
}

/**
 * `PATCH ftth-clients/{id}` body: the minimal whitelisted record (SDK UpdateFTTHClientDTO).
 * OZmap clients have no document, e-mail or address fields: nothing else is written.
 */
export function customerPatchBody(payload: CustomerPayload): { name: string; code: string; observation: string } {
  return { name: payload.name, code: payload.serviceId, observation: observationFor(payload.serviceId) };
}

/** The nested client of a new property (SDK CreateFTTHClientDTO, whose `implanted` defaults to false). */
export function newClientBody(payload: CustomerPayload): { name: string; code: string; observation: string; implanted: boolean } {
  return { ...customerPatchBody(payload), implanted: false };
}

export function remoteCustomerFromPayload(externalId: string, payload: CustomerPayload): RemoteCustomer {
  return { externalId, name: payload.name, rawDocument: null, observation: observationFor(payload.serviceId), integrationCode: payload.serviceId };
}

// ---------------------------------------------------------------------------------------
// Binding (properties)
// ---------------------------------------------------------------------------------------

export interface PropertyTarget {
  project: string;
  box: string;
  splitter: string;
  port: number;
  /** [lng, lat] */
  coords: [number, number] | null;
}

/**
 * `POST properties` body (SDK CreatePropertyDTO): the client (an id, or a new client nested),
 * the box, the connector (the splitter) and its 1-based port, and `auto_connect` so OZmap
 * draws the drop itself.
 */
export function propertyCreateBody(target: PropertyTarget, client: string | ReturnType<typeof newClientBody>): Record<string, unknown> {
  return {
    project: target.project,
    box: target.box,
    ...(target.coords ? { coords: target.coords } : {}),
    client,
    connector: target.splitter,
    port: target.port,
    auto_connect: true,
  };
}

/** `PATCH properties/{id}` body tying its client to another port (SDK UpdatePropertyDTO). */
export function propertyBindBody(target: PropertyTarget): Record<string, unknown> {
  return {
    box: target.box,
    ...(target.coords ? { coords: target.coords } : {}),
    connector: target.splitter,
    port: target.port,
    auto_connect: true,
  };
}

/** `PATCH properties/{id}` body that unties its client from the splitter (the client and the property stay). */
export const PROPERTY_UNBIND_BODY = { connector: null } as const;

/** A property found by its client: its id, box, project and the ports it is tied to. */
export interface PropertyRead {
  externalId: string;
  project: string | null;
  box: string | null;
  ports: string[];
}

/** Properties of a filtered `GET properties`. Throws OzmapShapeError when the page is unreadable. */
export function toProperties(body: unknown, endpoint: string): PropertyRead[] {
  const page = parsePage(body, endpoint);
  const ties = toPortTies(page.records, { guard: new DuplicateIdGuard(), endpoint });
  const projects = new Map(page.records.filter(isRecord).map((r) => [refId(r), refId(r.project)] as const));
  return ties.items.map((tie) => ({ externalId: tie.externalId, project: projects.get(tie.externalId) ?? null, box: tie.boxExternalId, ports: tie.ports }));
}

/** The client id of a property create/patch answer, when it carries one. */
export function clientIdOfProperty(body: unknown): string | null {
  if (!isRecord(body)) return null;
  return refId(body.client);
}

/** The project and position of a `GET boxes/{id}` answer. Throws OzmapShapeError when unreadable. */
export function toBoxPlace(body: unknown, endpoint: string): { project: string; coords: [number, number] | null } {
  const project = isRecord(body) ? refId(body.project) : null;
  if (!isRecord(body) || !project) throw new OzmapShapeError(endpoint, body);
  const at = positionOf(body);
  const check = checkCoordinates(at.lat, at.lon);
  return { project, coords: check.ok ? [check.lon, check.lat] : null };
}

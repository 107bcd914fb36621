/**
 * Everything tied to the shape of GeoGrid API v3 lives here: paths, query parameters,
 * zod schemas of the JSON, and the mapping between the JSON and the domain types.
 * GeoGrid publishes no specification (see docs `platforms/geogrid-v3.md`); a line
 * marked [guess] below is not confirmed by several working clients. If the real API
 * differs, this module and its fixtures change and nothing else.
 *
 * Call pattern for splitters (fewest calls that are still correct):
 *   1. `GET /diagrama/equipamentos/{item}` once per container (box or pole). It lists the
 *      equipment, its kind (`tipo.dados.descricao`, e.g. "1x8"), the service flag and
 *      the port ids (`portas[]`).
 *   2. Only for a container that holds at least one service splitter:
 *      `GET /equipamentos/itemRede/{item}/portas?atendimento[]=S&tipo[]=S`, which answers
 *      the service ports of every equipment in that item with the customer on each port.
 *      Ports are matched to splitters by port id (from step 1), so no per-splitter call.
 *   Distribution splitters never carry customers, so they need only step 1.
 *   A container without service equipment costs one call; one with it costs two.
 *   A sync that already knows a container's equipment may call step 2 alone (`portOccupancy`)
 *   and compare its port and equipment ids with what it stored (see src/sync/pull.ts).
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
  SplitterRole,
} from '../../domain/network.ts';
import { describeBody, maskedSample } from '../wire-sample.ts';
import type { ContainerRef, CustomerPayload, RemoteCustomer } from '../platform-adapter.ts';
import { documentTextOfJsonNumber } from '../../domain/documents.ts';
import {
  DuplicateIdGuard,
  canonicalJson,
  checkCoordinates,
  externalIdOf,
  isRecord,
  numberOf,
  reject,
  textOf,
} from '../record-validation.ts';

// ---------------------------------------------------------------------------------------
// Connection
// ---------------------------------------------------------------------------------------

export const GEOGRID_API_PREFIX = '/api/v3';
export const GEOGRID_AUTH_HEADER = 'api-key';
export const DEFAULT_PAGE_SIZE = 500;

export function geogridBaseUrl(apiUrl: string): string {
  return `${apiUrl.replace(/\/+$/, '')}${GEOGRID_API_PREFIX}`;
}

export function geogridHeaders(token: string): Record<string, string> {
  return { [GEOGRID_AUTH_HEADER]: token, Accept: 'application/json' };
}

// ---------------------------------------------------------------------------------------
// Paths and query parameters
// ---------------------------------------------------------------------------------------

export const ITEM_TYPE = { pole: 'poste', cto: 'terminal', splice: 'caixa' } as const;
/** [guess] Sending the folder filter in the query is unconfirmed, so scope is applied client-side only. */
export const SEND_FOLDER_FILTER = false;

export const paths = {
  folders: () => '/pastas',
  items: () => '/itensRede',
  equipment: (itemId: string) => `/diagrama/equipamentos/${encodeURIComponent(itemId)}`,
  servicePorts: (itemId: string) => `/equipamentos/itemRede/${encodeURIComponent(itemId)}/portas`,
  /** [seen, 1] Port counts of several items in one call (`itensRede[]=<id>` repeated). */
  portCounts: () => '/equipamentos/itemRede/portas',
  /** [guess] The paged customer list. */
  customers: () => '/clientes',
  customer: (id: string) => `/clientes/${encodeURIComponent(id)}`,
  customerByIntegrationCode: (code: string) => `/clientes/integrado/${encodeURIComponent(code)}`,
  createCustomer: () => '/clientes',
  serviceViability: () => '/viabilidade/raio',
  bind: () => '/integracao/atender',
  unbind: (portId: string, customerId: string) =>
    `/integracao/atender/${encodeURIComponent(portId)}/${encodeURIComponent(customerId)}`,
} as const;

/**
 * The endpoint family each request is counted under (run record, metrics): GeoGrid's own
 * words, one per kind of read or write. Poles and boxes share `GET /itensRede` but are
 * counted apart.
 */
export const FAMILY = {
  folders: 'pastas',
  poles: 'postes',
  boxes: 'caixas',
  equipment: 'equipamentos',
  servicePorts: 'portas',
  portCounts: 'portasLote',
  serviceViability: 'viabilidade',
  customers: 'clientes',
  customer: 'cliente',
  bind: 'atender',
} as const;

export function pageParams(page: number, pageSize: number): Record<string, unknown> {
  return { pagina: page, registrosPorPagina: pageSize };
}

/**
 * Query of `GET /itensRede`. Unlike other clients, mapsync does not pass `modoProjeto=N`:
 * planned items are read and stored with their flag, so they show on the map and are refused
 * for bindings, rather than vanishing (and being removed) while they are designed.
 */
export function itemsParams(types: string[], folderIds: string[]): Record<string, unknown> {
  return {
    'item[]': types,
    ...(SEND_FOLDER_FILTER && folderIds.length > 0 ? { 'pasta[]': folderIds } : {}),
  };
}

export const SERVICE_PORTS_PARAMS = { 'atendimento[]': 'S', 'tipo[]': 'S' } as const;

/** Items per batch port-count read: about the 60 ids per call public clients send to batch reads. */
export const PORT_COUNTS_BATCH = 50;

export function portCountsParams(itemIds: string[]): Record<string, unknown> {
  return { 'itensRede[]': itemIds };
}

/**
 * `GET /equipamentos/itemRede/portas?itensRede[]=…` ([seen, 1]):
 * `{itensRede: [{idItemRede, equipamentos: [{viabilidade: {saidas, ocupadasTotal, livres,
 * reservadas, reservadasCliente, entradas}}]}]}`. Answers, per item shown, a summary of its
 * equipment and port counts: a digest of every equipment record as given (every field, in
 * any order of the equipment), so any count or field that changes changes it. An item left
 * out of the answer is not in the map; an item holding no equipment has the empty summary ''. Throws GeogridShapeError when the body or an item is
 * in another shape: the run then reads one item at a time.
 */
const EMPTY_CONTAINER_SUMMARY = '';

export function toPortCountSummaries(body: unknown, endpoint = 'GET /equipamentos/itemRede/portas'): Map<string, string> {
  const items = isRecord(body) ? body.itensRede : undefined;
  if (!Array.isArray(items)) throw new GeogridShapeError(endpoint, body);
  const summaries = new Map<string, string>();
  for (const item of items) {
    const id = isRecord(item) ? externalIdOf(item.idItemRede ?? item.id) : null;
    const equipment = isRecord(item) ? item.equipamentos : undefined;
    if (!id || !Array.isArray(equipment) || !equipment.every((e) => isRecord(e) && isRecord(e.viabilidade))) throw new GeogridShapeError(endpoint, item);
    const parts = equipment.map((e) => canonicalJson(e)).sort();
    summaries.set(id, parts.length === 0 ? EMPTY_CONTAINER_SUMMARY : createHash('md5').update(parts.join('\n')).digest('hex'));
  }
  return summaries;
}

/** `GET /viabilidade/raio`: items holding service equipment within `raio` ([guess]: metres) of a point. */
export function serviceViabilityParams(area: { lat: number; lon: number; radiusMeters: number }): Record<string, unknown> {
  return { latitude: area.lat, longitude: area.lon, raio: Math.ceil(area.radiusMeters), 'equipamentosAtendimento[]': 'S' };
}

/** Item ids of a `/viabilidade/raio` page: `dados.id`, `id` or `idItemRede` of each record. */
export function toServiceViabilityItemIds(records: unknown[]): string[] {
  const ids: string[] = [];
  for (const record of records) {
    if (!isRecord(record)) continue;
    const data = isRecord(record.dados) ? record.dados : record;
    const id = externalIdOf(data.id) ?? externalIdOf(data.idItemRede) ?? externalIdOf(record.idItemRede);
    if (id) ids.push(id);
  }
  return ids;
}

export { maskedSample };

// ---------------------------------------------------------------------------------------
// Envelopes
// ---------------------------------------------------------------------------------------

const idSchema = z.union([z.string(), z.number()]);
const totalSchema = z.union([z.number(), z.string()]).nullish();

export const pageSchema = z.looseObject({
  registros: z.array(z.unknown()),
  totalRegistros: totalSchema,
});

/**
 * How a body or record was read. Every reader here tells apart the shape the clients agree
 * on (`known`), an alternative seen in real clients (`alternative`, e.g. `{dados: [...]}`
 * for `GET /clientes`), and anything else (`unreadable`): that is never guessed at, it is
 * reported with the endpoint and a masked sample (a body as a GeogridShapeError, a record
 * as a rejection, which the run records as an issue).
 */
export type WireShape = 'known' | 'alternative';

export interface WirePage {
  records: unknown[];
  total: number | null;
  shape: WireShape;
}

export class GeogridShapeError extends Error {
  readonly endpoint: string;
  readonly sample: string;

  constructor(endpoint: string, body: unknown) {
    const sample = maskedSample(body);
    super(`geogrid answered an unexpected shape for ${endpoint}: ${describeBody(body)}; sample (masked): ${sample}`);
    this.name = 'GeogridShapeError';
    this.endpoint = endpoint;
    this.sample = sample;
  }
}

/**
 * A paged body. Known: `{registros, totalRegistros}` (the total may be a string).
 * Alternatives: a bare array; `{dados: [...]}` (seen on `GET /clientes`).
 * Throws GeogridShapeError (endpoint + masked sample) on anything else.
 */
export function parsePage(body: unknown, endpoint: string): WirePage {
  const parsed = pageSchema.safeParse(body);
  if (parsed.success) {
    const total = numberOf(parsed.data.totalRegistros);
    return { records: parsed.data.registros, total: total === null ? null : Math.trunc(total), shape: 'known' };
  }
  if (Array.isArray(body)) return { records: body, total: null, shape: 'alternative' };
  if (isRecord(body) && Array.isArray(body.dados)) {
    const total = numberOf(body.totalRegistros ?? body.total);
    return { records: body.dados, total: total === null ? null : Math.trunc(total), shape: 'alternative' };
  }
  throw new GeogridShapeError(endpoint, body);
}

/**
 * The record itself, whether wrapped in `{dados: {...}}` or not; null when unreadable
 * (not an object, a `dados` that is not an object, or neither `dados` nor an `id`).
 */
export function unwrapDados(record: unknown): Record<string, unknown> | null {
  if (!isRecord(record)) return null;
  if ('dados' in record) return isRecord(record.dados) ? record.dados : null;
  return 'id' in record ? record : null;
}

/**
 * A list body. Known: `{registros: [...]}`. Alternatives: a bare array, `{equipamentos}`,
 * `{portas}`, `{dados: [...]}`, and `{}` (nothing). Throws GeogridShapeError otherwise.
 */
export function listOf(body: unknown, endpoint: string): unknown[] {
  if (isRecord(body) && Array.isArray(body.registros)) return body.registros;
  if (Array.isArray(body)) return body;
  if (isRecord(body)) {
    for (const key of ['equipamentos', 'portas', 'dados']) {
      const value = body[key];
      if (Array.isArray(value)) return value;
    }
    if (Object.keys(body).length === 0) return [];
  }
  throw new GeogridShapeError(endpoint, body);
}

// ---------------------------------------------------------------------------------------
// Folders (projects)
// ---------------------------------------------------------------------------------------

export const folderSchema = z.looseObject({
  id: idSchema,
  nome: z.string().nullish(),
  nomePai: z.string().nullish(),
});

export function toProjects(records: unknown[]): { items: PlatformProject[]; rejected: Rejection[] } {
  const items: PlatformProject[] = [];
  const rejected: Rejection[] = [];
  const guard = new DuplicateIdGuard();
  for (const record of records) {
    const data = unwrapDados(record);
    if (!data) {
      rejected.push(reject('project', null, 'unreadable_record', `GET /pastas: folder record is not an object; sample (masked): ${maskedSample(record)}`));
      continue;
    }
    const id = externalIdOf(data.id);
    if (!id) {
      rejected.push(reject('project', null, 'missing_id', 'folder has no id'));
      continue;
    }
    if (!guard.firstTime(id)) {
      rejected.push(reject('project', id, 'duplicate_id', `folder id ${id} appears twice`));
      continue;
    }
    // [guess] A parent id (`idPai`) is not documented; when absent the parent is found by `nomePai`.
    const parentId = externalIdOf(data.idPai);
    items.push({ externalId: id, name: textOf(data.nome) ?? `#${id}`, parentName: textOf(data.nomePai), ...(parentId ? { parentExternalId: parentId } : {}) });
  }
  return { items, rejected };
}

// ---------------------------------------------------------------------------------------
// Network items: poles and boxes
// ---------------------------------------------------------------------------------------

export const itemSchema = z.looseObject({
  id: idSchema.nullish(),
  item: z.string().nullish(),
  sigla: z.union([z.string(), z.number()]).nullish(),
  latitude: z.unknown().optional(),
  longitude: z.unknown().optional(),
  status: z.unknown().optional(),
  observacao: z.union([z.string(), z.number()]).nullish(),
});

/** Folder of a record: `pasta.{id}` beside `dados` (seen), or inside it. */
function folderIdOf(record: Record<string, unknown>, data: Record<string, unknown>): string | null {
  for (const holder of [record, data]) {
    const folder = holder.pasta;
    if (isRecord(folder)) {
      const id = externalIdOf(folder.id);
      if (id) return id;
    }
  }
  return externalIdOf(data.idPasta);
}

/** [guess] The pole a box hangs on: `dados.idPoste`, or `dados.poste.id`. */
function poleIdOf(data: Record<string, unknown>): string | null {
  const direct = externalIdOf(data.idPoste);
  if (direct) return direct;
  return isRecord(data.poste) ? externalIdOf(data.poste.id) : null;
}

export function boxKindOf(item: unknown): BoxKind {
  if (item === ITEM_TYPE.cto) return 'cto';
  if (item === ITEM_TYPE.splice) return 'splice';
  return 'other';
}

interface ItemCommon {
  externalId: string;
  projectExternalId: string | null;
  name: string | null;
  lon: number;
  lat: number;
  planned: boolean;
  data: Record<string, unknown>;
  listedDigest: string;
}


/**
 * Digest of an item's whole listed record (its `dados` and folder): any field of the listing
 * changing (`status`, `modoProjeto`, an observation mapsync does not store…) changes it.
 */
export function listedDigestOf(data: Record<string, unknown>, folder: string | null): string {
  return createHash('md5').update(canonicalJson({ dados: data, pasta: folder })).digest('hex');
}

/**
 * [seen, 2] `modoProjeto: "S"` marks an item still being designed (not built). Read on the
 * record, inside `dados` or beside it; absent means built.
 */
export function isPlanned(record: unknown, data: Record<string, unknown> | null): boolean {
  const flag = data?.modoProjeto ?? (isRecord(record) ? record.modoProjeto : undefined);
  return isYes(flag);
}

/**
 * How network items are mapped. An id listed twice is mapped twice: the sync keeps the first
 * and reports the others (duplicate_id) from its staging key, so no page of a stream needs a
 * set of every id before it.
 */
export interface ItemMappingContext {
  /** Folder ids in scope; empty means all. */
  folders: ReadonlySet<string>;
}

function toItem(
  record: unknown,
  kind: 'pole' | 'box',
  context: ItemMappingContext,
): { item: ItemCommon | null; rejection: Rejection | null } {
  const data = unwrapDados(record);
  if (!data || !isRecord(record)) {
    return {
      item: null,
      rejection: reject(kind, null, 'unreadable_record', `GET /itensRede: ${kind} record has no readable "dados" object; sample (masked): ${maskedSample(record)}`),
    };
  }
  const parsed = itemSchema.safeParse(data);
  const id = externalIdOf(data.id);
  if (!id) return { item: null, rejection: reject(kind, null, 'missing_id', `${kind} has no id`) };
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { item: null, rejection: reject(kind, id, 'bad_value', `${kind} ${id}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`) };
  }
  const folder = folderIdOf(record, data);
  if (context.folders.size > 0 && (folder === null || !context.folders.has(folder))) return { item: null, rejection: null };
  const coordinates = checkCoordinates(data.latitude, data.longitude);
  if (!coordinates.ok) return { item: null, rejection: reject(kind, id, 'bad_coordinates', `${kind} ${id}: ${coordinates.reason}`) };
  return {
    item: {
      externalId: id,
      projectExternalId: folder,
      name: textOf(data.sigla),
      lon: coordinates.lon,
      lat: coordinates.lat,
      planned: isPlanned(record, data),
      data,
      listedDigest: listedDigestOf(data, folder),
    },
    rejection: null,
  };
}

/** Maps a page of network items of one kind; a bad record becomes a rejection, never a stop. */
function mapItems<T>(
  records: unknown[],
  kind: 'pole' | 'box',
  context: ItemMappingContext,
  build: (item: ItemCommon) => T,
): { items: T[]; rejected: Rejection[] } {
  const items: T[] = [];
  const rejected: Rejection[] = [];
  for (const record of records) {
    const { item, rejection } = toItem(record, kind, context);
    if (rejection) rejected.push(rejection);
    if (item) items.push(build(item));
  }
  return { items, rejected };
}

export function toPoles(records: unknown[], context: ItemMappingContext): { items: PlatformPole[]; rejected: Rejection[] } {
  return mapItems(records, 'pole', context, (item) => ({
    externalId: item.externalId,
    projectExternalId: item.projectExternalId,
    name: item.name,
    lon: item.lon,
    lat: item.lat,
    observation: textOf(item.data.observacao),
    listedDigest: item.listedDigest,
    planned: item.planned,
  }));
}

export function toBoxes(records: unknown[], context: ItemMappingContext): { items: PlatformBox[]; rejected: Rejection[] } {
  return mapItems(records, 'box', context, (item) => ({
    externalId: item.externalId,
    projectExternalId: item.projectExternalId,
    name: item.name,
    kind: boxKindOf(item.data.item),
    lon: item.lon,
    lat: item.lat,
    poleExternalId: poleIdOf(item.data),
    listedDigest: item.listedDigest,
    planned: item.planned,
  }));
}

// ---------------------------------------------------------------------------------------
// Equipment (splitters) and ports
// ---------------------------------------------------------------------------------------

export const equipmentRowSchema = z.looseObject({
  id: idSchema.nullish(),
  nome: z.string().nullish(),
  sigla: z.union([z.string(), z.number()]).nullish(),
  /** [guess] The service flag's field name. */
  atendimento: z.union([z.string(), z.boolean()]).nullish(),
  portas: z.array(z.unknown()).nullish(),
});

/** "1x8", "Splitter 1X16", "1:4" → [1, 8]; null when the equipment is not a splitter. */
export function ratioOf(description: unknown): [number, number] | null {
  if (typeof description !== 'string') return null;
  const match = /(\d{1,3})\s*[xX:]\s*(\d{1,3})/.exec(description);
  if (!match) return null;
  const ratioIn = Number(match[1]);
  const ratioOut = Number(match[2]);
  if (!(ratioIn >= 1 && ratioOut >= 2)) return null;
  return [ratioIn, ratioOut];
}

/** Flags are "S"/"N" strings; a boolean is accepted too. */
export function isYes(flag: unknown): boolean {
  if (flag === true) return true;
  return typeof flag === 'string' && flag.trim().toUpperCase() === 'S';
}

/** A field of an equipment row, read from `dados` first and then from the row itself. */
function rowField(row: Record<string, unknown>, data: Record<string, unknown>, key: string): unknown {
  return data[key] !== undefined ? data[key] : row[key];
}

function typeDescriptionOf(row: Record<string, unknown>, data: Record<string, unknown>): unknown {
  const tipo = rowField(row, data, 'tipo');
  if (typeof tipo === 'string') return tipo;
  if (!isRecord(tipo)) return undefined;
  const inner = isRecord(tipo.dados) ? tipo.dados : tipo;
  return inner.descricao ?? inner.nome;
}

/**
 * Splitters of one container from its `/diagrama/equipamentos` body. Non-splitter equipment is
 * skipped. An id seen twice is mapped twice: the sync keeps the first (see ItemMappingContext).
 */
export function toSplitters(body: unknown, container: ContainerRef): { items: PlatformSplitter[]; rejected: Rejection[] } {
  const items: PlatformSplitter[] = [];
  const rejected: Rejection[] = [];
  const endpoint = `GET /diagrama/equipamentos/${container.externalId}`;
  for (const row of listOf(body, endpoint)) {
    if (!isRecord(row)) {
      rejected.push(reject('splitter', null, 'unreadable_record', `${endpoint}: equipment in ${container.kind} ${container.externalId} is not an object; sample (masked): ${maskedSample(row)}`));
      continue;
    }
    const data = isRecord(row.dados) ? row.dados : row;
    const description = typeDescriptionOf(row, data);
    if (typeof description !== 'string') {
      // Without its kind, a splitter cannot be told from a tray: reported, never skipped quietly.
      const id = externalIdOf(rowField(row, data, 'id'));
      rejected.push(reject('splitter', id, 'unreadable_record', `${endpoint}: equipment${id ? ` ${id}` : ''} has no readable kind (tipo.dados.descricao); sample (masked): ${maskedSample(row)}`));
      continue;
    }
    const ratio = ratioOf(description);
    // A known kind that is not a splitter (a splice tray, a DIO): not synced.
    if (!ratio) continue;
    const id = externalIdOf(rowField(row, data, 'id'));
    if (!id) {
      rejected.push(reject('splitter', null, 'missing_id', `splitter in ${container.kind} ${container.externalId} has no id`));
      continue;
    }
    const role: SplitterRole = isYes(rowField(row, data, 'atendimento')) ? 'service' : 'distribution';
    const planned = isPlanned(row, data);
    const rawPorts = rowField(row, data, 'portas');
    const ports: PlatformPort[] = [];
    if (Array.isArray(rawPorts)) {
      rawPorts.forEach((rawPort, index) => {
        const port = toDiagramPort(rawPort, index, id, planned, rejected);
        if (port) ports.push(port);
      });
    }
    items.push({
      externalId: id,
      containerExternalId: container.externalId,
      containerKind: container.kind,
      name: textOf(rowField(row, data, 'sigla')) ?? textOf(rowField(row, data, 'nome')),
      role,
      ratioIn: ratio[0],
      ratioOut: ratio[1],
      ports,
      planned,
    });
  }
  return { items, rejected };
}

/**
 * [seen, 1] A reserved port is not free. Markers: `portaReservada` or `reservada` as a flag
 * (on the record or in `dados`), a positive `reservadas` count, or a comment that starts
 * with "Reservada".
 */
export function isReservedPort(record: Record<string, unknown>, data: Record<string, unknown>): boolean {
  for (const holder of [record, data]) {
    for (const key of ['portaReservada', 'reservada']) {
      const flag = holder[key];
      if (flag === true || (typeof flag === 'string' && flag.trim() !== '' && !/^(n|nao|não|false|0)$/i.test(flag.trim()))) return true;
    }
    const count = numberOf(holder.reservadas);
    if (count !== null && count > 0) return true;
  }
  const comment = textOf(data.comentario);
  return comment !== null && /^reservad[ao]/i.test(comment);
}

function toDiagramPort(
  rawPort: unknown,
  index: number,
  splitterId: string,
  splitterPlanned: boolean,
  rejected: Rejection[],
): PlatformPort | null {
  const data = unwrapDados(rawPort);
  if (!data || !isRecord(rawPort)) {
    rejected.push(reject('port', null, 'unreadable_record', `port ${index + 1} of splitter ${splitterId} is not an object; sample (masked): ${maskedSample(rawPort)}`));
    return null;
  }
  const id = externalIdOf(data.id);
  if (!id) {
    rejected.push(reject('port', null, 'missing_id', `port ${index + 1} of splitter ${splitterId} has no id`));
    return null;
  }
  const number = numberOf(data.porta);
  const available = rawPort.disponivel ?? data.disponivel;
  return {
    externalId: id,
    number: number !== null && Number.isInteger(number) && number >= 1 ? number : index + 1,
    label: textOf(data.label),
    available: !isReservedPort(rawPort, data) && (available === undefined || available === null ? true : isYes(available)),
    customer: null,
    planned: splitterPlanned || isPlanned(rawPort, data),
  };
}

export const servicePortSchema = z.looseObject({
  dados: z.looseObject({
    id: idSchema,
    porta: z.unknown().optional(),
    label: z.unknown().optional(),
    comentario: z.unknown().optional(),
  }),
  disponivel: z.unknown().optional(),
  cliente: z.looseObject({ id: idSchema, nome: z.string().nullish() }).nullish(),
});

export interface ServicePortState {
  portExternalId: string;
  /** The port's equipment: the outer record of the nested form, else `equipamento.id` or `dados.idEquipamento` [guess]. */
  splitterExternalId: string | null;
  /** `equipamento.sigla`, when the record carries it. */
  splitterName: string | null;
  number: number | null;
  label: string | null;
  /** Whether the record has a label field at all (a missing field says nothing; an empty one clears). */
  labelGiven: boolean;
  /** false when taken or reserved; null when the platform does not say. */
  available: boolean | null;
  reserved: boolean;
  /** true when the port or its equipment is still being designed (`modoProjeto`). */
  planned: boolean;
  customer: { externalId: string; name: string | null } | null;
}

export interface ServicePortsRead {
  /** Records in the body (a nested record holds several ports): what paging counts. */
  records: number;
  states: ServicePortState[];
  /** Records that are neither form (each names the endpoint and shows a masked sample). */
  rejected: Rejection[];
}

/** Keys only a port record carries (an equipment record carries `portas`, `tipo`, `atendimento`). */
const PORT_RECORD_KEYS = ['disponivel', 'cliente', 'equipamento', 'portaReservada', 'reservada'];
/** Fields of a port's own `dados` (its position, label, the equipment it belongs to). */
const PORT_DATA_KEYS = ['porta', 'label', 'idEquipamento'];

/**
 * Records of `GET /equipamentos/itemRede/{id}/portas`, in either form seen in real clients:
 * - known, flat: `{dados:{id,porta,label,tipo,comentario}, disponivel, cliente, equipamento:{id,atendimento,sigla}}`;
 * - alternative, nested: the equipment first and its ports inside,
 *   `{dados:{id:<equipment>}, portas:[{dados:{id,porta}, cliente}]}`.
 * A record that is neither (e.g. `{dados:{id}}` alone, which may well be an equipment) is
 * rejected, never read as a port: an equipment id is never taken for a port id.
 * Throws GeogridShapeError when the body itself is unreadable.
 */
export function toServicePorts(body: unknown, itemId: string): ServicePortsRead {
  const endpoint = `GET /equipamentos/itemRede/${itemId}/portas`;
  const states: ServicePortState[] = [];
  const rejected: Rejection[] = [];
  const unreadable = (record: unknown, why: string) =>
    rejected.push(reject('port', null, 'unreadable_record', `${endpoint}: ${why}; sample (masked): ${maskedSample(record)}`));
  const records = listOf(body, endpoint);
  for (const record of records) {
    const data = unwrapDados(record);
    if (!data || !isRecord(record)) {
      unreadable(record, 'a record that is not an object with "dados"');
      continue;
    }
    const nested = record.portas ?? data.portas;
    if (Array.isArray(nested)) {
      const equipmentId = externalIdOf(data.id);
      const equipmentName = textOf(data.sigla ?? record.sigla);
      const equipmentPlanned = isPlanned(record, data);
      for (const port of nested) {
        const state = toPortState(port, equipmentId, equipmentName, equipmentPlanned);
        if (state) states.push(state);
        else unreadable(port, `a port of equipment ${equipmentId ?? '(no id)'} without a readable id`);
      }
      continue;
    }
    if (!PORT_DATA_KEYS.some((key) => key in data) && !PORT_RECORD_KEYS.some((key) => key in record || key in data)) {
      unreadable(record, 'a record that is neither a port (no "porta", "disponivel" or "cliente") nor an equipment with "portas"');
      continue;
    }
    const state = toPortState(record, null, null, false);
    if (state) states.push(state);
    else unreadable(record, 'a port without an id');
  }
  return { records: records.length, states, rejected };
}

function toPortState(raw: unknown, equipmentId: string | null, equipmentName: string | null, equipmentPlanned: boolean): ServicePortState | null {
  const data = unwrapDados(raw);
  if (!data || !isRecord(raw)) return null;
  const id = externalIdOf(data.id);
  if (!id) return null;
  const customerData = unwrapDados(raw.cliente ?? data.cliente);
  const customerId = customerData ? externalIdOf(customerData.id) : null;
  const equipmentData = unwrapDados(raw.equipamento ?? data.equipamento);
  const reserved = isReservedPort(raw, data);
  const disponivel = raw.disponivel ?? data.disponivel;
  const number = numberOf(data.porta);
  let available: boolean | null = disponivel === undefined || disponivel === null ? null : isYes(disponivel);
  if (reserved || customerId) available = false;
  const equipment = raw.equipamento ?? data.equipamento;
  return {
    portExternalId: id,
    splitterExternalId: equipmentId ?? (equipmentData ? externalIdOf(equipmentData.id) : null) ?? externalIdOf(data.idEquipamento),
    splitterName: equipmentName ?? (isRecord(equipment) ? textOf((equipmentData ?? equipment).sigla) : null),
    number: number !== null && Number.isInteger(number) ? number : null,
    label: textOf(data.label),
    labelGiven: 'label' in data,
    available,
    reserved,
    planned: equipmentPlanned || isPlanned(raw, data) || (equipmentData !== null && isPlanned(null, equipmentData)),
    customer: customerId ? { externalId: customerId, name: textOf(customerData?.nome) } : null,
  };
}

/**
 * Puts each service port's customer, availability and planned flag on the splitter port with
 * the same id. When the listing was not read in full (`complete: false`: some record was
 * unreadable), a service port it did not show is taken as not available: unknown is never free.
 */
export function applyServicePorts(splitters: PlatformSplitter[], states: ServicePortState[], options: { complete?: boolean } = {}): void {
  const byPortId = new Map<string, PlatformPort>();
  for (const splitter of splitters) for (const port of splitter.ports) byPortId.set(port.externalId, port);
  const serviceWithoutPorts = splitters.filter((s) => s.role === 'service' && s.ports.length === 0);
  const seen = new Set<string>();
  for (const state of states) {
    let port = byPortId.get(state.portExternalId);
    if (!port) {
      // The diagram listed no ports for this splitter: fall back on the port's own equipment link.
      const owner =
        serviceWithoutPorts.find((s) => s.externalId === state.splitterExternalId) ??
        (serviceWithoutPorts.length === 1 ? serviceWithoutPorts[0] : undefined);
      if (!owner) continue;
      port = {
        externalId: state.portExternalId,
        number: state.number ?? owner.ports.length + 1,
        label: state.label,
        available: true,
        customer: null,
        planned: owner.planned === true,
      };
      owner.ports.push(port);
    }
    seen.add(state.portExternalId);
    port.customer = state.customer;
    if (state.available !== null) port.available = state.available;
    else if (state.customer) port.available = false;
    if (state.label !== null) port.label = state.label;
    if (state.planned) port.planned = true;
  }
  if (options.complete === false) {
    for (const splitter of splitters) {
      if (splitter.role !== 'service') continue;
      for (const port of splitter.ports) if (!seen.has(port.externalId)) port.available = false;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Customers
// ---------------------------------------------------------------------------------------

export const customerSchema = z.looseObject({
  id: idSchema.nullish(),
  nome: z.string().nullish(),
  cpfCnpj: z.union([z.string(), z.number()]).nullish(),
  tipo: z.string().nullish(),
  observacao: z.union([z.string(), z.number()]).nullish(),
  codigoIntegracao: z.union([z.string(), z.number()]).nullish(),
});

/** Customers of a `/clientes` page. An id seen twice is mapped twice: the sync keeps the first (see ItemMappingContext). */
export function toCustomers(records: unknown[]): { items: PlatformCustomer[]; rejected: Rejection[] } {
  const items: PlatformCustomer[] = [];
  const rejected: Rejection[] = [];
  for (const record of records) {
    const data = unwrapDados(record);
    if (!data) {
      rejected.push(reject('customer', null, 'unreadable_record', `GET /clientes: customer record has no readable "dados" object; sample (masked): ${maskedSample(record)}`));
      continue;
    }
    const id = externalIdOf(data.id);
    if (!id) {
      rejected.push(reject('customer', null, 'missing_id', 'customer has no id'));
      continue;
    }
    const parsed = customerSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      rejected.push(reject('customer', id, 'bad_value', `customer ${id}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`.trim()));
      continue;
    }
    items.push(customerOf(id, data));
  }
  return { items, rejected };
}

function customerOf(id: string, data: Record<string, unknown>): PlatformCustomer {
  return {
    externalId: id,
    name: textOf(data.nome),
    // A JSON number lost all its leading zeros: it keeps that fact until normaliseDocument.
    rawDocument: typeof data.cpfCnpj === 'number' ? documentTextOfJsonNumber(data.cpfCnpj) : textOf(data.cpfCnpj),
    observation: typeof data.observacao === 'string' && data.observacao.trim() !== '' ? data.observacao : textOf(data.observacao),
    integrationCode: textOf(data.codigoIntegracao),
  };
}

/**
 * A customer looked up (`GET /clientes/integrado/{code}`, `GET /clientes/{id}`). Known:
 * `{dados: {...}}` when found, a body with `naoEncontrado` when not. Alternatives: the record
 * unwrapped, or a list of at most one (`{registros}`, `{dados: [...]}`, as a filtered
 * `GET /clientes` answers); an empty body or empty list is "not found". Throws
 * GeogridShapeError on anything else: an unreadable answer is never taken for "not found",
 * which would make the pusher create a twin.
 */
export function toLookedUpCustomer(body: unknown, endpoint = 'GET /clientes/integrado/{codigo}'): RemoteCustomer | null {
  if (body === null || body === undefined || body === '') return null;
  if (isRecord(body) && 'naoEncontrado' in body) return null;
  const list = isRecord(body) && Array.isArray(body.registros) ? body.registros : isRecord(body) && Array.isArray(body.dados) ? body.dados : Array.isArray(body) ? body : null;
  if (list !== null) {
    if (list.length === 0) return null;
    if (list.length > 1) throw new GeogridShapeError(endpoint, body);
    return toLookedUpCustomer(list[0], endpoint);
  }
  const data = unwrapDados(body);
  const id = data ? externalIdOf(data.id) : null;
  if (!data || !id) throw new GeogridShapeError(endpoint, body);
  return customerOf(id, data);
}

/**
 * A create/update answer: the record when it carries one, else null (the caller re-reads it
 * by its integration code, which is how an answer like `{mensagem: "Cliente cadastrado"}` is
 * still understood).
 */
export function toSavedCustomer(body: unknown): RemoteCustomer | null {
  if (!isRecord(body) || 'naoEncontrado' in body) return null;
  const data = unwrapDados(body);
  const id = data ? externalIdOf(data.id) : null;
  return data && id ? customerOf(id, data) : null;
}

/** What mapsync writes in `observacao`: the form the linking rules read back. */
export function observationFor(serviceId: string): string {
  return `id_cliente_servico: ${serviceId}`;
}

/** Extra fields an admin may whitelist, by mapsync name → GeoGrid field. */
export const CUSTOMER_EXTRA_FIELDS: Readonly<Record<string, string>> = {
  email: 'email',
  phone: 'telefone',
  mobile: 'celular',
  zipCode: 'cep',
  address: 'endereco',
  district: 'bairro',
  city: 'cidade',
  state: 'estado',
};

/** `POST /clientes` and `PUT /clientes/{id}` body: the minimal whitelisted record. */
export function customerBody(payload: CustomerPayload): { dados: Record<string, string | null> } {
  const dados: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(payload.extra ?? {})) {
    const field = CUSTOMER_EXTRA_FIELDS[key] ?? (Object.values(CUSTOMER_EXTRA_FIELDS).includes(key) ? key : undefined);
    if (field) dados[field] = value;
  }
  dados.nome = payload.name;
  dados.cpfCnpj = payload.document;
  dados.tipo = payload.personType === 'company' ? 'J' : 'F';
  dados.observacao = observationFor(payload.serviceId);
  dados.codigoIntegracao = payload.serviceId;
  return { dados };
}

export function remoteCustomerFromPayload(externalId: string, payload: CustomerPayload): RemoteCustomer {
  return {
    externalId,
    name: payload.name,
    rawDocument: payload.document,
    observation: observationFor(payload.serviceId),
    integrationCode: payload.serviceId,
  };
}

// ---------------------------------------------------------------------------------------
// Binding
// ---------------------------------------------------------------------------------------

/** GeoGrid ids are integers; send numbers when they look like one. */
function wireId(id: string): string | number {
  return /^\d{1,15}$/.test(id) ? Number(id) : id;
}

export function bindBody(portId: string, customerId: string, lat: number | null, lon: number | null): unknown {
  return {
    idPorta: wireId(portId),
    idCliente: wireId(customerId),
    ...(lat !== null && lon !== null ? { local: { latitude: lat, longitude: lon } } : {}),
  };
}

export const RESERVED_PORT_FIELD = 'portaReservada';
export const DUPLICATE_INTEGRATION_CODE_FIELD = 'codigoIntegracao';

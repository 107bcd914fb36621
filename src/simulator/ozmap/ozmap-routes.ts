import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { addApiCustomer, type SimCustomer } from '../network-generator.ts';
import { HttpAnswer, malformedVariantOf, ok, type MalformedRecord, type PlatformWire, type WireContext } from '../platform-wire.ts';
import { bodyErrors, clientUpdateBody, propertyCreateBody, propertyUpdateBody, type ClientBody, type PropertyUpdateBody } from './ozmap-bodies.ts';
import { numericIdOf, objectIdOf, type OzmapKind } from './ozmap-ids.ts';
import { applyFilters, applySelect, applySorts, pageOf, parseListQuery, QueryError } from './ozmap-query.ts';
import { OzmapRecords, type OzCollection, type OzRecord, type PropertyState } from './ozmap-records.ts';

/**
 * The OZmap v2 routes the simulator serves, under `/api/v2`: reads of projects, poles,
 * boxes, splitters, splitter types, FTTH clients and properties with OZmap's paging,
 * filters, `select` and `populate`; the writes an ERP integration makes (update a client;
 * create, update, delete a property, which binds a client to a splitter port); and auth by
 * API key (raw `Authorization`) or by a token from `POST users/login?type=API`.
 */

export interface OzmapAuthOptions {
  /** Login and password `users/login` accepts. */
  login?: string;
  password?: string;
  /** A login token stops working after this many API requests (default: never), so renewal on 401 can be tested. */
  tokenRequests?: number;
}

export interface OzmapWire extends PlatformWire {
  readonly records: OzmapRecords;
  readonly credentials: { login: string; password: string };
  setTokenRequests(requests: number | null): void;
}

type Collection = 'projects' | 'poles' | 'boxes' | 'splitters' | 'splitter-types' | 'ftth-clients' | 'properties';

/** Per route: its collection, the fields `populate` may fill (and from which collection), and its malformed-record kind. */
const COLLECTIONS: Record<Collection, { collection: OzCollection; populate: Record<string, OzCollection>; malformed?: MalformedRecord['kind'] }> = {
  projects: { collection: 'projects', populate: {} },
  poles: { collection: 'poles', populate: {}, malformed: 'pole' },
  boxes: { collection: 'boxes', populate: { project: 'projects', pole: 'poles' }, malformed: 'box' },
  splitters: { collection: 'splitters', populate: { splitterType: 'splitterTypes', parent: 'boxes', project: 'projects' }, malformed: 'splitter' },
  'splitter-types': { collection: 'splitterTypes', populate: {} },
  'ftth-clients': { collection: 'clients', populate: {}, malformed: 'customer' },
  // A property carries its client: a malformed one is counted as a malformed customer (same id, same pick).
  properties: { collection: 'properties', populate: { client: 'clients', box: 'boxes', pole: 'poles', project: 'projects' }, malformed: 'customer' },
};

const message = (status: number, text: string) => new HttpAnswer(status, { message: text });

export function createOzmapWire(context: WireContext, apiKey: string, auth: OzmapAuthOptions = {}): OzmapWire {
  const { network, writes } = context;
  const records = new OzmapRecords(network, context.seed);
  context.onTouch(() => records.changed());
  records.warm(context.version());
  const credentials = { login: auth.login ?? 'mapsync', password: auth.password ?? 'sim-password' };
  let tokenRequests: number | null = auth.tokenRequests ?? null;
  /** Login tokens and the API requests each has left (Infinity: no expiry). */
  const tokens = new Map<string, number>();

  const listOf = (collection: OzCollection) => records.list(collection, context.version());

  const areaOf = (model: string, id: string) => {
    if (model !== 'project') return null;
    const folderId = numericIdOf('project', id);
    return folderId === null || !records.folderOfProject(folderId) ? null : records.areaOf(folderId);
  };

  const populated = (record: OzRecord, fields: string[], allowed: Record<string, OzCollection>): OzRecord => {
    if (fields.length === 0) return record;
    const out: Record<string, unknown> = { ...record };
    for (const field of fields) {
      const from = allowed[field];
      if (!from) throw new QueryError(`populate: ${field} cannot be populated here`);
      const ref = out[field];
      if (typeof ref === 'string') out[field] = listOf(from).byId.get(ref) ?? ref;
    }
    return out as OzRecord;
  };

  const corrupt = (kind: MalformedRecord['kind'] | undefined, numeric: number | undefined, row: unknown): unknown => {
    if (!kind || numeric === undefined || !row || typeof row !== 'object') return row;
    const variant = malformedVariantOf(context, kind, numeric, kind === 'pole' || kind === 'box' ? ['not_an_object', 'text', 'bad_coordinates', 'missing_id'] : ['not_an_object', 'text', 'missing_id']);
    const record = row as Record<string, unknown>;
    switch (variant) {
      case null:
        return row;
      case 'not_an_object':
        return null;
      case 'text':
        return `registro ${numeric} corrompido`;
      case 'bad_coordinates': {
        const { lat: _lat, lng: _lng, ...rest } = record;
        return { ...rest, coords: ['sem coordenada', null] };
      }
      default: {
        const { id: _id, _id: _oid, ...rest } = record;
        return rest;
      }
    }
  };

  const list = (collection: Collection, params: URLSearchParams, body: unknown): HttpAnswer => {
    const spec = COLLECTIONS[collection];
    const query = parseListQuery(params, body);
    const list = listOf(spec.collection);
    const key = `ozmap:${collection}:${JSON.stringify(query.filters)}:${JSON.stringify(query.sorts)}`;
    // `hideAllPoles` empties the pole listing, as on GeoGrid.
    const rows = collection === 'poles' && context.polesHidden() ? [] : list.rows;
    const matching = context.cachedList(key, () => applySorts(applyFilters(rows, query.filters, areaOf), query.sorts)) as OzRecord[];
    const page = pageOf(matching, query, collection, params);
    page.rows = page.rows.map((row) => {
      const record = row as OzRecord;
      return corrupt(spec.malformed, list.numericId.get(record), applySelect(populated(record, query.populate, spec.populate), query.select));
    });
    return ok(page);
  };

  const one = (collection: Collection, kind: OzmapKind, id: string, params: URLSearchParams, body: unknown): HttpAnswer => {
    const spec = COLLECTIONS[collection];
    const query = parseListQuery(params, body);
    const record = numericIdOf(kind, id) === null ? undefined : listOf(spec.collection).byId.get(id.toLowerCase());
    if (!record) return message(404, `${collection}/${id} não encontrado`);
    return ok(applySelect(populated(record, query.populate, spec.populate), query.select));
  };

  const customerOf = (clientId: string): SimCustomer | undefined => {
    const numeric = numericIdOf('client', clientId);
    return numeric === null ? undefined : network.customers.get(numeric);
  };

  const codeTaken = (code: string, except: SimCustomer | null) => {
    for (const customer of network.customers.values()) if (customer !== except && records.codeOf(customer) === code) return true;
    return false;
  };

  const applyClient = (customer: SimCustomer, body: ClientBody) => {
    if (body.name !== undefined) customer.nome = body.name;
    if (body.observation !== undefined) customer.observacao = body.observation;
    if (body.code !== undefined) customer.codigoIntegracao = body.code;
    const state = records.clientState(customer.id);
    if (body.status !== undefined) state.status = body.status;
    if (body.implanted !== undefined) state.implanted = body.implanted;
    if (body.certified !== undefined) state.certified = body.certified;
    if (body.onu !== undefined) state.onu = { ...state.onu, ...body.onu };
  };

  const freshRecord = (collection: OzCollection, id: string) => listOf(collection).byId.get(id) ?? null;

  const patchClient = (id: string, body: unknown): HttpAnswer => {
    const record = (answer: HttpAnswer) => {
      writes.ftthClientsUpdated.push({ id, body, status: answer.status });
      return answer;
    };
    const parsed = clientUpdateBody.safeParse(body ?? {});
    if (!parsed.success) return record(message(400, bodyErrors(parsed.error)));
    const customer = customerOf(id);
    if (!customer) return record(message(404, `ftth-clients/${id} não encontrado`));
    if (parsed.data.code !== undefined && codeTaken(parsed.data.code, customer)) return record(message(409, `code ${parsed.data.code} já pertence a outro cliente`));
    applyClient(customer, parsed.data);
    context.touch();
    return record(ok(freshRecord('clients', id.toLowerCase())));
  };

  /**
   * Checks and resolves the port a property is to be connected to: the splitter (`connector`)
   * must exist, be built, sit in `box` when one is given, and the 1-based `port` must exist,
   * not be blocked, and hold no other client.
   */
  const portFor = (connector: string, portNumber: number | undefined, boxId: number | null, customer: SimCustomer | null): { portId: number; boxId: number | null } | HttpAnswer => {
    const splitterId = numericIdOf('splitter', connector);
    const splitter = splitterId === null ? undefined : network.splitters.get(splitterId);
    if (!splitter) return message(400, `connector ${connector}: splitter não encontrado`);
    if (portNumber === undefined) return message(400, 'port: informe a porta do splitter (1 a N)');
    if (boxId !== null && splitter.containerId !== boxId) return message(400, `connector ${connector} não está na caixa informada`);
    const port = splitter.ports.find((p) => p.number === portNumber);
    if (!port) return message(400, `port ${portNumber}: o splitter tem as portas 1 a ${splitter.ratioOut}`);
    const container = network.boxes.get(splitter.containerId) ?? network.poles.get(splitter.containerId);
    if (splitter.planned || port.planned || container?.planned) return message(400, `connector ${connector} não está implantado (projeto)`);
    if (port.reserved) return message(409, `port ${portNumber} do splitter ${connector} está bloqueada`);
    if (port.customerId !== null && port.customerId !== customer?.id) return message(409, `port ${portNumber} do splitter ${connector} já atende outro cliente`);
    return { portId: port.id, boxId: splitter.containerId };
  };

  const connect = (customer: SimCustomer, portId: number | null) => {
    if (customer.portId !== null && customer.portId !== portId) {
      const previous = network.ports.get(customer.portId);
      if (previous && previous.customerId === customer.id) previous.customerId = null;
      customer.portId = null;
    }
    if (portId !== null) {
      network.ports.get(portId)!.customerId = customer.id;
      customer.portId = portId;
    }
  };

  const boxOf = (id: string | null | undefined): number | null | HttpAnswer => {
    if (id === undefined || id === null) return null;
    const boxId = numericIdOf('box', id);
    if (boxId === null || !records.boxAt(boxId)) return message(400, `box ${id} não encontrada`);
    return boxId;
  };

  const createProperty = (body: unknown): HttpAnswer => {
    let createdId: string | null = null;
    const record = (answer: HttpAnswer) => {
      writes.propertiesCreated.push({ id: createdId, body, status: answer.status });
      return answer;
    };
    const parsed = propertyCreateBody.safeParse(body ?? {});
    if (!parsed.success) return record(message(400, bodyErrors(parsed.error)));
    const input = parsed.data;
    const folderId = numericIdOf('project', input.project);
    if (folderId === null || !records.folderOfProject(folderId)) return record(message(400, `project ${input.project} não encontrado`));
    const boxId = boxOf(input.box);
    if (boxId instanceof HttpAnswer) return record(boxId);
    let customer: SimCustomer | null = null;
    if (typeof input.client === 'string') {
      customer = customerOf(input.client) ?? null;
      if (!customer) return record(message(400, `client ${input.client} não encontrado`));
      if (records.propertyOf(customer)) return record(message(409, `o cliente ${input.client} já tem uma propriedade`));
    } else if (input.client && input.client.code !== undefined && codeTaken(input.client.code, null)) {
      return record(message(409, `code ${input.client.code} já pertence a outro cliente`));
    }
    let target: { portId: number; boxId: number | null } | null = null;
    if (input.connector && input.auto_connect !== false) {
      const resolved = portFor(input.connector, input.port, boxId, customer);
      if (resolved instanceof HttpAnswer) return record(resolved);
      target = resolved;
    }
    const placeBox = boxId ?? target?.boxId ?? null;
    const box = placeBox !== null ? records.boxAt(placeBox) : undefined;
    const coords = input.coords ?? (box ? ([box.lon, box.lat] as [number, number]) : undefined);
    if (!coords) return record(message(400, 'coords: informe a posição [lng, lat] ou a caixa'));

    if (!customer) {
      customer = addApiCustomer(network);
      if (input.client && typeof input.client === 'object') applyClient(customer, input.client);
    }
    const state: PropertyState = { project: folderId, coords, boxId: placeBox, address: input.address ?? null, observation: input.observation ?? null };
    records.properties.set(customer.id, state);
    records.propertyDeleted.delete(customer.id);
    connect(customer, target?.portId ?? null);
    context.touch();
    const id = objectIdOf('property', customer.id);
    createdId = id;
    if (target && context.takeBindFailureAfterSuccess()) return record(message(500, 'Erro interno'));
    return record(new HttpAnswer(201, freshRecord('properties', id)));
  };

  const propertyCustomer = (id: string): SimCustomer | null => {
    const numeric = numericIdOf('property', id);
    const customer = numeric === null ? undefined : network.customers.get(numeric);
    return customer && records.propertyOf(customer) ? customer : null;
  };

  const patchProperty = (id: string, body: unknown): HttpAnswer => {
    const record = (answer: HttpAnswer) => {
      writes.propertiesUpdated.push({ id, body, status: answer.status });
      return answer;
    };
    const parsed = propertyUpdateBody.safeParse(body ?? {});
    if (!parsed.success) return record(message(400, bodyErrors(parsed.error)));
    const input: PropertyUpdateBody = parsed.data;
    const customer = propertyCustomer(id);
    if (!customer) return record(message(404, `properties/${id} não encontrada`));
    const current = records.propertyOf(customer)!;
    if (typeof input.client === 'string' && numericIdOf('client', input.client) !== customer.id) {
      return record(message(400, 'client: a propriedade já pertence a outro cliente; remova-a e crie outra'));
    }
    if (input.client === null) return record(message(400, 'client: uma propriedade de cliente FTTH não pode ficar sem cliente'));
    if (input.client && typeof input.client === 'object' && input.client.code !== undefined && codeTaken(input.client.code, customer)) {
      return record(message(409, `code ${input.client.code} já pertence a outro cliente`));
    }
    const boxId = input.box === undefined ? current.boxId : boxOf(input.box);
    if (boxId instanceof HttpAnswer) return record(boxId);
    let target: { portId: number; boxId: number | null } | null | undefined;
    if (input.connector === null) target = null;
    else if (input.connector !== undefined && input.auto_connect !== false) {
      const resolved = portFor(input.connector, input.port, input.box === undefined ? null : boxId, customer);
      if (resolved instanceof HttpAnswer) return record(resolved);
      target = resolved;
    }
    if (input.client && typeof input.client === 'object') applyClient(customer, input.client);
    const state: PropertyState = {
      project: current.project,
      coords: input.coords ?? current.coords,
      boxId: target ? (target.boxId ?? boxId) : boxId,
      address: input.address === undefined ? current.address : input.address,
      observation: input.observation === undefined ? current.observation : input.observation,
    };
    records.properties.set(customer.id, state);
    if (target !== undefined) connect(customer, target?.portId ?? null);
    context.touch();
    if (target && context.takeBindFailureAfterSuccess()) return record(message(500, 'Erro interno'));
    return record(ok(freshRecord('properties', id.toLowerCase())));
  };

  const deleteProperty = (id: string): HttpAnswer => {
    const customer = propertyCustomer(id);
    let answer: HttpAnswer;
    if (!customer) {
      answer = message(404, `properties/${id} não encontrada`);
    } else {
      connect(customer, null);
      records.properties.delete(customer.id);
      records.propertyDeleted.add(customer.id);
      context.touch();
      answer = ok({ id: id.toLowerCase() });
    }
    writes.propertiesDeleted.push({ id, status: answer.status });
    return answer;
  };

  const login = (body: unknown): HttpAnswer => {
    const input = (body ?? {}) as Record<string, unknown>;
    if (input.login !== credentials.login || input.password !== credentials.password) return message(401, 'Usuário ou senha inválidos');
    const token = randomBytes(24).toString('hex');
    tokens.set(token, tokenRequests ?? Number.POSITIVE_INFINITY);
    return ok({ authorization: token });
  };

  const KINDS: Record<Collection, OzmapKind> = {
    projects: 'project',
    poles: 'pole',
    boxes: 'box',
    splitters: 'splitter',
    'splitter-types': 'splitterType',
    'ftth-clients': 'client',
    properties: 'property',
  };

  const route = (method: string, path: string, params: URLSearchParams, body: unknown): [string, HttpAnswer] => {
    const parts = path.split('/').filter(Boolean);
    const [a, b] = parts;
    if (a === 'users' && b === 'login' && parts.length === 2 && method === 'POST') return ['POST /users/login', login(body)];
    if (a && a in COLLECTIONS) {
      const collection = a as Collection;
      try {
        if (parts.length === 1 && method === 'GET') return [`GET /${collection}`, list(collection, params, body)];
        if (parts.length === 2 && method === 'GET') return [`GET /${collection}/:id`, one(collection, KINDS[collection], b!, params, body)];
      } catch (error) {
        if (!(error instanceof QueryError)) throw error;
        return [`GET /${collection}${parts.length === 2 ? '/:id' : ''}`, message(400, error.message)];
      }
      if (collection === 'ftth-clients' && parts.length === 2 && method === 'PATCH') return ['PATCH /ftth-clients/:id', patchClient(b!, body)];
      if (collection === 'properties' && parts.length === 1 && method === 'POST') return ['POST /properties', createProperty(body)];
      if (collection === 'properties' && parts.length === 2 && method === 'PATCH') return ['PATCH /properties/:id', patchProperty(b!, body)];
      if (collection === 'properties' && parts.length === 2 && method === 'DELETE') return ['DELETE /properties/:id', deleteProperty(b!)];
    }
    const unknown = message(404, `Rota não encontrada: ${method} ${path}`);
    if (method !== 'GET' && method !== 'HEAD') writes.otherWrites.push({ method, path, status: unknown.status });
    return [`${method} (unknown)`, unknown];
  };

  const authorized = (req: http.IncomingMessage): boolean => {
    const header = req.headers.authorization;
    if (typeof header !== 'string' || header === '') return false;
    if (header === apiKey) return true;
    const left = tokens.get(header);
    if (left === undefined || left <= 0) return false;
    tokens.set(header, left - 1);
    return true;
  };

  return {
    apiMarker: '/api/v2',
    apiUrl: (origin) => origin,
    isPublic: (method, path) => method === 'POST' && path.replace(/\/+$/, '') === '/users/login',
    authorized,
    unauthorized: () => message(401, 'Não autorizado'),
    message: (text) => ({ message: text }),
    bodyMethods: new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
    route,
    records,
    credentials,
    setTokenRequests(requests) {
      tokenRequests = requests;
    },
  };
}

import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import {
  countNetwork,
  erpContractsFor,
  generateNetwork,
  type SimBox,
  type SimCustomer,
  type SimItemBase,
  type SimNetwork,
  type SimPort,
  type SimSplitter,
} from './network-generator.ts';
import { SeededRandom, hashUnit } from './seeded-random.ts';
import { createSimulatorCertificate } from './simulator-tls.ts';
import { equipmentOfPort, serviceEquipmentHolders } from './simulated-viability.ts';

/**
 * A local GeoGrid v3 look-alike over real HTTP(S): the same subset of endpoints and
 * shapes that `src/platforms/geogrid/geogrid.wire.ts` reads, with the platform's habits
 * (rate limits answered with 429 + Retry-After, slow or hung calls, 500s, malformed
 * records, a 500 on a bind that did succeed), state changed by writes, and an
 * in-process and HTTP (`/__sim/`) control surface for tests, the demo and benchmarks.
 */

export interface SimulatorLimits {
  /** Requests in flight before answering 429. */
  concurrency: number;
  /** Accepted requests in any sliding 60 s window before answering 429. */
  requestsPerMinute: number;
  /**
   * Length of the sliding window (default 60000). Tests shorten it to see the budget act
   * within seconds; the budget is then `requestsPerMinute * windowMs / 60000`.
   */
  windowMs: number;
}

export interface SimulatorFaults {
  /** Added before every API answer: a fixed delay or a [min, max] range in ms. */
  latencyMs?: number | [number, number];
  /** Share of API requests answered with 500 before doing anything. */
  errorRate?: number;
  /** Share of API requests never answered. */
  hangRate?: number;
  /** Share of records (items, equipment rows, customers) served malformed, stable per record. */
  malformedRate?: number;
  /**
   * Share of API answers whose body drips in: headers at once, then `chunkBytes` (default 16)
   * every `everyMs`, so no gap is ever long enough for an idle timeout to fire.
   */
  drip?: { rate: number; everyMs: number; chunkBytes?: number };
}

export interface SimulatorOptions {
  seed?: number;
  /** See `generateNetwork` for what size counts. Ignored when `network` is given. */
  size?: number;
  network?: SimNetwork;
  port?: number;
  host?: string;
  token?: string;
  https?: boolean;
  /** With `https`, where the certificate (PEM) is written for clients to trust. */
  caFile?: string;
  limits?: Partial<SimulatorLimits>;
  faults?: SimulatorFaults;
}

export type MalformedVariant = 'not_an_object' | 'text' | 'no_dados' | 'bad_coordinates' | 'missing_id';

export interface MalformedRecord {
  kind: 'pole' | 'box' | 'splitter' | 'customer';
  id: number;
  variant: MalformedVariant;
}

export interface SimulatorWrites {
  customersCreated: Array<{ id: number; body: unknown }>;
  customersUpdated: Array<{ id: number; body: unknown }>;
  binds: Array<{ body: unknown; status: number }>;
  unbinds: Array<{ portId: string; customerId: string; status: number }>;
  /** Any other POST, PUT, PATCH or DELETE (GeoGrid has more write routes than mapsync may use, e.g. `POST /pastas`). */
  otherWrites: Array<{ method: string; path: string; status: number }>;
}

/** Every write the simulator received, whatever its answer: a sync must leave this at 0. */
export function countWrites(writes: SimulatorWrites): number {
  return writes.customersCreated.length + writes.customersUpdated.length + writes.binds.length + writes.unbinds.length + writes.otherWrites.length;
}

export interface SimulatorStats {
  requests: number;
  inFlight: number;
  maxInFlight: number;
  rateLimited: number;
  unauthorized: number;
  injectedErrors: number;
  injectedHangs: number;
  injectedDrips: number;
  downAnswers: number;
  /** API requests other than GET/HEAD, counted on arrival (even those answered 429 or 503). */
  writeRequests: number;
  byRoute: Record<string, number>;
}

export type DownMode = '503' | 'reset';

export interface RunningSimulator {
  /** The panel URL to configure as `apiUrl` (the API is under `/api/v3`). */
  url: string;
  /** The server origin; admin endpoints are under `/__sim/`. */
  origin: string;
  token: string;
  /** The certificate (PEM) clients must trust in https mode. */
  ca: string | null;
  network: SimNetwork;
  writes: SimulatorWrites;
  readonly stats: SimulatorStats;
  limits: SimulatorLimits;
  faults: SimulatorFaults;
  setFaults(faults: SimulatorFaults): void;
  setLimits(limits: Partial<SimulatorLimits>): void;
  /** The next `count` API requests get 503 (or a reset connection). */
  setDown(count: number, mode?: DownMode): void;
  /** The next `count` binds are applied and then answered with 500. */
  failBindsAfterSuccess(count: number): void;
  resetStats(): void;
  malformedRecords(): MalformedRecord[];
  /** How the ports listing of a container is shaped: flat port records, or nested in their equipment. */
  portShapeOf(containerId: number): 'flat' | 'nested';
  hideAllPoles(hidden?: boolean): void;
  removeEquipmentFromPole(poleId: number): void;
  moveElement(itemId: number, lat: number, lon: number): void;
  deleteElement(itemId: number): void;
  setCustomerDocument(customerId: number, document: string | null): void;
  setCustomerObservation(customerId: number, observation: string | null): void;
  addCustomerOnPort(portId: number, customer: { nome: string; cpfCnpj: string | null; observacao?: string | null; tipo?: 'F' | 'J' }): SimCustomer;
  reservePort(portId: number): void;
  /** Takes the customer off a port (the customer stays on the platform). */
  unbindPort(portId: number): void;
  /** Moves a customer to another (free) port, as a technician re-patching a drop would. */
  moveCustomerToPort(customerId: number, portId: number): void;
  /** Deletes a customer from the platform, taking it off its port. */
  deleteCustomer(customerId: number): void;
  /** Adds a 1xN splitter to a box or pole; returns it with its ports. */
  addSplitter(containerId: number, input: { service: boolean; ratioOut: number; sigla?: string }): SimSplitter;
  removeSplitter(splitterId: number): void;
  /** Flags a splitter as service equipment or not ("atendimento"). */
  setSplitterService(splitterId: number, service: boolean): void;
  /** Tells the simulator that `network` was edited directly (see network-mutations.ts). */
  touch(): void;
  close(): Promise<void>;
}

const DEFAULT_LIMITS: SimulatorLimits = { concurrency: 5, requestsPerMinute: 300, windowMs: 60_000 };
const API_MARKER = '/api/v3';
/** How far `local` of a bind may be from the equipment's container. */
const LOCAL_TOLERANCE_METRES = 2;
const ADMIN_MARKER = '/__sim/';

class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

const ok = (body: unknown) => new HttpAnswer(200, body);
const fieldError = (status: number, fields: Record<string, string>) => new HttpAnswer(status, fields);

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const seed = options.seed ?? 1;
  const network = options.network ?? generateNetwork({ seed, size: options.size ?? 10_000 });
  const token = options.token ?? 'sim-token';
  const limits: SimulatorLimits = { ...DEFAULT_LIMITS, ...(options.limits ?? {}) };
  let faults: SimulatorFaults = { ...(options.faults ?? {}) };
  const faultRandom = new SeededRandom(seed ^ 0x5eed);
  const writes: SimulatorWrites = { customersCreated: [], customersUpdated: [], binds: [], unbinds: [], otherWrites: [] };
  const emptyStats = (): SimulatorStats => ({
    requests: 0,
    inFlight: 0,
    maxInFlight: 0,
    rateLimited: 0,
    unauthorized: 0,
    injectedErrors: 0,
    injectedHangs: 0,
    injectedDrips: 0,
    downAnswers: 0,
    writeRequests: 0,
    byRoute: {},
  });
  let stats = emptyStats();
  let inFlight = 0;
  const window: number[] = [];
  let windowHead = 0;
  let down = { remaining: 0, mode: '503' as DownMode };
  let bindFailuresAfterSuccess = 0;
  let polesHidden = false;
  let version = 0;
  const listCache = new Map<string, { version: number; records: unknown[] }>();
  const malformed = new Map<string, MalformedRecord>();
  const sockets = new Set<Socket>();

  // ---------------------------------------------------------------- record shapes

  const coordinate = (id: number, value: number): number | string => {
    // Some records carry coordinates as strings, a few with a decimal comma, as real exports do.
    if (id % 50 === 0) return String(value).replace('.', ',');
    if (id % 5 === 0) return String(value);
    return value;
  };

  const corrupt = (kind: MalformedRecord['kind'], id: number, record: Record<string, unknown>): unknown => {
    const rate = faults.malformedRate ?? 0;
    if (rate <= 0 || hashUnit(seed, `${kind}:${id}`) >= rate) return record;
    const variants: MalformedVariant[] =
      kind === 'pole' || kind === 'box'
        ? ['not_an_object', 'text', 'no_dados', 'bad_coordinates', 'missing_id']
        : ['not_an_object', 'text', 'missing_id'];
    const variant = variants[Math.floor(hashUnit(seed + 1, `${kind}:${id}`) * variants.length)]!;
    malformed.set(`${kind}:${id}`, { kind, id, variant });
    const dados = (record.dados ?? {}) as Record<string, unknown>;
    switch (variant) {
      case 'not_an_object':
        return null;
      case 'text':
        return `registro ${id} corrompido`;
      case 'no_dados':
        return { pasta: record.pasta };
      case 'bad_coordinates':
        return { ...record, dados: { ...dados, latitude: 'sem coordenada', longitude: null } };
      case 'missing_id': {
        const { id: _id, ...rest } = dados;
        return { ...record, dados: rest };
      }
    }
  };

  const itemRecord = (item: SimItemBase, type: string, extra: Record<string, unknown> = {}) => ({
    dados: {
      id: item.id,
      item: type,
      sigla: item.sigla,
      latitude: coordinate(item.id, item.lat),
      longitude: coordinate(item.id, item.lon),
      status: item.status,
      observacao: item.observacao,
      modoProjeto: item.planned ? 'S' : 'N',
      ...extra,
    },
    pasta: { id: item.folderId },
  });

  const customerRecord = (customer: SimCustomer) => ({
    dados: {
      ...customer.extra,
      id: customer.id,
      nome: customer.nome,
      cpfCnpj: customer.cpfCnpj,
      tipo: customer.tipo,
      observacao: customer.observacao,
      codigoIntegracao: customer.codigoIntegracao,
    },
  });

  const equipmentRow = (splitter: SimSplitter) => ({
    dados: { id: splitter.id, sigla: splitter.sigla, atendimento: splitter.service ? 'S' : 'N', modoProjeto: splitter.planned ? 'S' : 'N' },
    tipo: { dados: { descricao: `${splitter.ratioIn}x${splitter.ratioOut}` } },
    portas: splitter.ports.map((port) => ({ dados: { id: port.id, porta: port.number, label: port.label } })),
  });

  /**
   * A port as the ports listing shows it. Real clients see two reserved markers: a comment
   * with `disponivel: "N"`, or `portaReservada: "S"` beside a `disponivel` still "S".
   */
  const portData = (port: SimPort) => {
    const customer = port.customerId !== null ? network.customers.get(port.customerId) : undefined;
    const flagged = port.reserved && hashUnit(seed, `reserved-flag:${port.id}`) < 0.5;
    return {
      dados: { id: port.id, porta: port.number, label: port.label, comentario: port.reserved && !flagged ? 'Reservada' : null },
      disponivel: (port.reserved && !flagged) || customer ? 'N' : 'S',
      ...(flagged ? { portaReservada: 'S' } : {}),
      cliente: customer ? { id: customer.id, nome: customer.nome } : null,
    };
  };

  const portShapeOf = (containerId: number): 'flat' | 'nested' => (hashUnit(seed, `nested-ports:${containerId}`) < 0.3 ? 'nested' : 'flat');

  const portRecord = (port: SimPort) => ({ ...portData(port), equipamento: equipmentOfPort(network, port) });

  /**
   * The ports of a container in the flat form, or (for about a third of the containers, stable
   * per container) nested: the equipment first, its ports inside. Both are seen in real clients.
   */
  const portRecords = (containerId: number, splitters: SimSplitter[]): unknown[] => {
    if (portShapeOf(containerId) === 'nested') {
      return splitters.map((splitter) => ({
        dados: { id: splitter.id, sigla: splitter.sigla, atendimento: splitter.service ? 'S' : 'N', modoProjeto: splitter.planned ? 'S' : 'N' },
        portas: splitter.ports.map(portData),
      }));
    }
    return splitters.flatMap((splitter) => splitter.ports.map(portRecord));
  };

  const cachedList = (key: string, build: () => unknown[]): unknown[] => {
    const cached = listCache.get(key);
    if (cached && cached.version === version) return cached.records;
    const records = build();
    listCache.set(key, { version, records });
    return records;
  };

  const itemsOf = (types: string[]): unknown[] =>
    cachedList(`items:${[...types].sort().join(',')}:${faults.malformedRate ?? 0}`, () => {
      const out: unknown[] = [];
      if (types.includes('poste') && !polesHidden) {
        for (const pole of network.poles.values()) out.push(corrupt('pole', pole.id, itemRecord(pole, 'poste')));
      }
      const boxTypes = types.filter((t) => t === 'terminal' || t === 'caixa');
      if (boxTypes.length > 0) {
        for (const box of network.boxes.values()) {
          if (!boxTypes.includes(box.item)) continue;
          out.push(corrupt('box', box.id, itemRecord(box, box.item, box.poleId !== null ? { idPoste: box.poleId } : {})));
        }
      }
      return out;
    });

  const customersList = (): unknown[] =>
    cachedList(`customers:${faults.malformedRate ?? 0}`, () =>
      [...network.customers.values()].map((c) => corrupt('customer', c.id, customerRecord(c))),
    );

  /** `modoProjeto=N` (or `modoProjeto[]=N`): leave planned items out. */
  const builtOnly = (params: URLSearchParams) => [...params.getAll('modoProjeto'), ...params.getAll('modoProjeto[]')].includes('N');

  const paged = (records: unknown[], params: URLSearchParams) => {
    const page = Math.max(1, Number(params.get('pagina') ?? '1') || 1);
    const perPage = Math.min(1000, Math.max(1, Number(params.get('registrosPorPagina') ?? '200') || 200));
    return { registros: records.slice((page - 1) * perPage, page * perPage), totalRegistros: String(records.length) };
  };

  // ---------------------------------------------------------------- mutations

  const touch = () => {
    version += 1;
  };

  const detachPort = (port: SimPort) => {
    if (port.customerId !== null) {
      const customer = network.customers.get(port.customerId);
      if (customer && customer.portId === port.id) customer.portId = null;
    }
    network.ports.delete(port.id);
  };

  const removeSplittersOf = (containerId: number) => {
    for (const splitter of network.splittersByContainer.get(containerId) ?? []) {
      for (const port of splitter.ports) detachPort(port);
      network.splitters.delete(splitter.id);
    }
    network.splittersByContainer.delete(containerId);
  };

  const saveCustomer = (customer: SimCustomer, dados: Record<string, unknown>) => {
    const { id: _id, nome, cpfCnpj, tipo, observacao, codigoIntegracao, ...extra } = dados;
    if (typeof nome === 'string') customer.nome = nome;
    if (cpfCnpj !== undefined) customer.cpfCnpj = cpfCnpj === null ? null : String(cpfCnpj);
    if (tipo === 'F' || tipo === 'J') customer.tipo = tipo;
    if (observacao !== undefined) customer.observacao = observacao === null ? null : String(observacao);
    if (codigoIntegracao !== undefined) customer.codigoIntegracao = codigoIntegracao === null ? null : String(codigoIntegracao);
    customer.extra = { ...customer.extra, ...extra };
    touch();
  };

  const validateCustomer = (dados: Record<string, unknown>, existing: SimCustomer | null): Record<string, string> | null => {
    const errors: Record<string, string> = {};
    const nome = dados.nome ?? existing?.nome;
    if (typeof nome !== 'string' || nome.trim() === '') errors.nome = 'Nome é obrigatório';
    const tipo = dados.tipo ?? existing?.tipo;
    if (tipo !== 'F' && tipo !== 'J') errors.tipo = 'Tipo de cliente é obrigatório';
    if (dados.estado !== undefined && dados.estado !== null && !/^[A-Za-z]{2}$/.test(String(dados.estado))) {
      errors.estado = 'UF deve ter 2 letras';
    }
    const code = dados.codigoIntegracao;
    if (code !== undefined && code !== null && String(code) !== '') {
      for (const other of network.customers.values()) {
        if (other.codigoIntegracao === String(code) && other !== existing) {
          errors.codigoIntegracao = 'Código de integração já está cadastrado';
          break;
        }
      }
    }
    return Object.keys(errors).length > 0 ? errors : null;
  };

  // ---------------------------------------------------------------- API routes

  const route = async (method: string, path: string, params: URLSearchParams, body: unknown): Promise<[string, HttpAnswer]> => {
    const parts = path.split('/').filter(Boolean);
    const [a, b, c, d] = parts;
    if (a === 'pastas' && parts.length === 1 && method === 'GET') {
      return ['GET /pastas', ok(paged(network.folders.map((f) => ({ ...f })), params))];
    }
    if (a === 'itensRede' && parts.length === 1 && method === 'GET') {
      const types = [...params.getAll('item[]'), ...params.getAll('item')];
      if (types.length === 0) return ['GET /itensRede', fieldError(400, { item: 'Informe o tipo de item' })];
      const items = itemsOf(types);
      // Clients that want only built items pass modoProjeto=N.
      const listed = builtOnly(params) ? items.filter((record) => (record as { dados?: { modoProjeto?: unknown } } | null)?.dados?.modoProjeto !== 'S') : items;
      return ['GET /itensRede', ok(paged(listed, params))];
    }
    if (a === 'diagrama' && b === 'equipamentos' && c && parts.length === 3 && method === 'GET') {
      const id = Number(c);
      if (!network.poles.has(id) && !network.boxes.has(id)) {
        return ['GET /diagrama/equipamentos/:id', new HttpAnswer(404, { naoEncontrado: 'Item de rede não encontrado' })];
      }
      const rows: unknown[] = (network.splittersByContainer.get(id) ?? []).map((s) => corrupt('splitter', s.id, equipmentRow(s)));
      if (network.boxes.get(id)?.item === 'caixa') {
        rows.push({ dados: { id: 9_000_000_000 + id, sigla: 'BANDEJA' }, tipo: { dados: { descricao: 'Bandeja de emenda 12F' } }, portas: [] });
      }
      return ['GET /diagrama/equipamentos/:id', ok({ registros: rows, totalRegistros: String(rows.length) })];
    }
    if (a === 'equipamentos' && b === 'itemRede' && c && d === 'portas' && parts.length === 4 && method === 'GET') {
      const id = Number(c);
      if (!network.poles.has(id) && !network.boxes.has(id)) {
        return ['GET /equipamentos/itemRede/:id/portas', new HttpAnswer(404, { naoEncontrado: 'Item de rede não encontrado' })];
      }
      const onlyService = params.getAll('atendimento[]').includes('S');
      const onlyBuilt = builtOnly(params);
      const container = findItem(id);
      const splitters = (network.splittersByContainer.get(id) ?? []).filter(
        (splitter) => (!onlyService || splitter.service) && (!onlyBuilt || (!splitter.planned && !container?.planned)),
      );
      return ['GET /equipamentos/itemRede/:id/portas', ok(paged(portRecords(id, splitters), params))];
    }
    if (a === 'clientes') {
      if (parts.length === 1 && method === 'GET') return ['GET /clientes', ok(paged(customersList(), params))];
      if (parts.length === 1 && method === 'POST') {
        const dados = (body as { dados?: unknown } | null)?.dados;
        if (!dados || typeof dados !== 'object') return ['POST /clientes', fieldError(400, { dados: 'Dados do cliente são obrigatórios' })];
        const errors = validateCustomer(dados as Record<string, unknown>, null);
        if (errors) return ['POST /clientes', fieldError(400, errors)];
        const customer: SimCustomer = {
          id: network.nextIds.customer++,
          nome: '',
          cpfCnpj: null,
          tipo: 'F',
          observacao: null,
          codigoIntegracao: null,
          extra: {},
          portId: null,
          scenario: null,
          serviceId: null,
          cleanDocument: null,
        };
        network.customers.set(customer.id, customer);
        saveCustomer(customer, dados as Record<string, unknown>);
        writes.customersCreated.push({ id: customer.id, body });
        return ['POST /clientes', new HttpAnswer(201, customerRecord(customer))];
      }
      if (b === 'integrado' && c && parts.length === 3 && method === 'GET') {
        const code = decodeURIComponent(c);
        const found = [...network.customers.values()].find((x) => x.codigoIntegracao === code);
        return ['GET /clientes/integrado/:codigo', ok(found ? customerRecord(found) : { naoEncontrado: 'Cliente não encontrado' })];
      }
      if (b && parts.length === 2) {
        const customer = network.customers.get(Number(b));
        if (method === 'GET') {
          return ['GET /clientes/:id', customer ? ok(customerRecord(customer)) : new HttpAnswer(404, { naoEncontrado: 'Cliente não encontrado' })];
        }
        if (method === 'PUT') {
          if (!customer) return ['PUT /clientes/:id', new HttpAnswer(404, { naoEncontrado: 'Cliente não encontrado' })];
          const dados = (body as { dados?: unknown } | null)?.dados;
          if (!dados || typeof dados !== 'object') return ['PUT /clientes/:id', fieldError(400, { dados: 'Dados do cliente são obrigatórios' })];
          const errors = validateCustomer(dados as Record<string, unknown>, customer);
          if (errors) return ['PUT /clientes/:id', fieldError(400, errors)];
          saveCustomer(customer, dados as Record<string, unknown>);
          writes.customersUpdated.push({ id: customer.id, body });
          return ['PUT /clientes/:id', ok(customerRecord(customer))];
        }
      }
    }
    if (a === 'integracao' && b === 'atender') {
      if (parts.length === 2 && method === 'POST') return ['POST /integracao/atender', bind(body)];
      if (c && d && parts.length === 4 && method === 'DELETE') {
        const port = network.ports.get(Number(c));
        let answer: HttpAnswer;
        if (!port || port.customerId !== Number(d)) {
          answer = new HttpAnswer(404, { naoEncontrado: 'Atendimento não encontrado' });
        } else {
          const customer = network.customers.get(port.customerId);
          if (customer && customer.portId === port.id) customer.portId = null;
          port.customerId = null;
          touch();
          answer = ok({ mensagem: 'Atendimento removido' });
        }
        writes.unbinds.push({ portId: c, customerId: d, status: answer.status });
        return ['DELETE /integracao/atender/:porta/:cliente', answer];
      }
    }
    if (a === 'viabilidade' && b === 'raio' && parts.length === 2 && method === 'GET') {
      const query = ['latitude', 'longitude', 'raio', 'equipamentosAtendimento[]'].map((k) => params.getAll(k).join(',')).join('|');
      try {
        return ['GET /viabilidade/raio', ok(paged(cachedList(`viability:${query}`, () => serviceEquipmentHolders(network, params)), params))];
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        return ['GET /viabilidade/raio', fieldError(400, { raio: error.message })];
      }
    }
    const unknown = new HttpAnswer(404, { mensagem: `Rota não encontrada: ${method} ${path}` });
    if (method !== 'GET' && method !== 'HEAD') writes.otherWrites.push({ method, path, status: unknown.status });
    return [`${method} (unknown)`, unknown];
  };

  /** Metres between two EPSG:4326 points (equirectangular: exact enough at a few metres). */
  const metresBetween = (a: { lat: number; lon: number }, b: { lat: number; lon: number }) => {
    const cosLat = Math.cos((((a.lat + b.lat) / 2) * Math.PI) / 180);
    return Math.hypot((a.lat - b.lat) * 111_320, (a.lon - b.lon) * 111_320 * cosLat);
  };

  const bind = (body: unknown): HttpAnswer => {
    const request = (body ?? {}) as Record<string, unknown>;
    const record = (status: number, answer: HttpAnswer) => {
      writes.binds.push({ body, status });
      return answer;
    };
    const errors: Record<string, string> = {};
    if (request.idPorta === undefined || request.idPorta === null) errors.idPorta = 'Porta é obrigatória';
    if (request.idCliente === undefined || request.idCliente === null) errors.idCliente = 'Cliente é obrigatório';
    if (Object.keys(errors).length > 0) return record(400, fieldError(400, errors));
    const port = network.ports.get(Number(request.idPorta));
    if (!port) return record(404, fieldError(404, { idPorta: 'Porta não encontrada' }));
    const customer = network.customers.get(Number(request.idCliente));
    if (!customer) return record(404, fieldError(404, { idCliente: 'Cliente não encontrado' }));
    if (port.reserved) return record(400, fieldError(400, { portaReservada: 'A porta está reservada' }));
    if (port.customerId !== null && port.customerId !== customer.id) {
      // [seen, 1] 409 when the port is already taken.
      return record(409, fieldError(409, { idPorta: 'A porta já está em uso por outro cliente' }));
    }
    const container = findItem(port.containerId);
    const splitter = network.splitters.get(port.splitterId);
    if (port.planned || splitter?.planned || container?.planned) {
      return record(400, fieldError(400, { modoProjeto: 'O equipamento está em modo projeto e não pode atender clientes' }));
    }
    // [seen, 1] The platform binds straight to the port only when `local` is at the equipment
    // (about 2 m); the simulator refuses anything else, so a client sending the house shows.
    const local = request.local as { latitude?: unknown; longitude?: unknown } | undefined;
    if (local !== undefined && container) {
      const lat = Number(local?.latitude);
      const lon = Number(local?.longitude);
      if (!Number.isFinite(lat) || !Number.isFinite(lon)) return record(400, fieldError(400, { local: 'Local inválido' }));
      const distance = metresBetween({ lat, lon }, container);
      if (distance > LOCAL_TOLERANCE_METRES) {
        return record(
          400,
          fieldError(400, { local: `O local está a ${distance.toFixed(1)} m do equipamento; para atender direto na porta informe a posição da caixa` }),
        );
      }
    }
    port.customerId = customer.id;
    customer.portId = port.id;
    touch();
    if (bindFailuresAfterSuccess > 0) {
      bindFailuresAfterSuccess -= 1;
      return record(500, new HttpAnswer(500, { mensagem: 'Erro interno' }));
    }
    return record(200, ok({ mensagem: 'Cliente atendido com sucesso' }));
  };

  // ---------------------------------------------------------------- admin routes

  const admin = async (method: string, path: string, body: unknown): Promise<HttpAnswer> => {
    const input = (body ?? {}) as Record<string, unknown>;
    switch (`${method} ${path}`) {
      case 'GET stats':
        return ok(stats);
      case 'GET writes':
        return ok(writes);
      case 'GET counts':
        return ok(countNetwork(network));
      case 'GET erp-contracts':
        return ok(erpContractsFor(network));
      case 'GET malformed':
        return ok([...malformed.values()]);
      case 'GET faults':
        return ok(faults);
      case 'POST faults':
        api.setFaults(input as SimulatorFaults);
        return ok(faults);
      case 'POST limits':
        api.setLimits(input as Partial<SimulatorLimits>);
        return ok(limits);
      case 'POST down':
        api.setDown(Number(input.count ?? 0), input.mode === 'reset' ? 'reset' : '503');
        return ok({ down: down.remaining });
      case 'POST bind-fail-after-success':
        api.failBindsAfterSuccess(Number(input.count ?? 1));
        return ok({ remaining: bindFailuresAfterSuccess });
      case 'POST reset-stats':
        api.resetStats();
        return ok(stats);
      default:
        return new HttpAnswer(404, { mensagem: `unknown admin route ${method} /__sim/${path}` });
    }
  };

  // ---------------------------------------------------------------- HTTP plumbing

  const send = (res: http.ServerResponse, answer: HttpAnswer) => {
    if (res.destroyed || res.writableEnded) return;
    const payload = JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(payload),
      ...answer.headers,
    });
    res.end(payload);
  };

  const readBody = (req: http.IncomingMessage): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (chunks.length === 0) return resolve(undefined);
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reject(new Error('invalid JSON'));
        }
      });
      req.on('error', reject);
    });

  const overBudget = (now: number): number | null => {
    const windowMs = limits.windowMs;
    const budget = Math.max(1, Math.floor((limits.requestsPerMinute * windowMs) / 60_000));
    while (windowHead < window.length && window[windowHead]! <= now - windowMs) windowHead += 1;
    if (windowHead > 10_000) {
      window.splice(0, windowHead);
      windowHead = 0;
    }
    if (window.length - windowHead < budget) return null;
    return Math.max(1, Math.ceil((window[windowHead]! + windowMs - now) / 1000));
  };

  const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const method = (req.method ?? 'GET').toUpperCase();
    const adminAt = url.pathname.indexOf(ADMIN_MARKER);
    if (adminAt >= 0) {
      let body: unknown;
      try {
        body = method === 'GET' ? undefined : await readBody(req);
      } catch {
        return send(res, new HttpAnswer(400, { mensagem: 'JSON inválido' }));
      }
      return send(res, await admin(method, url.pathname.slice(adminAt + ADMIN_MARKER.length), body));
    }

    stats.requests += 1;
    if (method !== 'GET' && method !== 'HEAD') stats.writeRequests += 1;
    inFlight += 1;
    stats.inFlight = inFlight;
    if (inFlight > stats.maxInFlight) stats.maxInFlight = inFlight;
    let released = false;
    res.on('close', () => {
      if (released) return;
      released = true;
      inFlight -= 1;
      stats.inFlight = inFlight;
    });

    if (down.remaining > 0) {
      down.remaining -= 1;
      stats.downAnswers += 1;
      if (down.mode === 'reset') {
        req.socket.destroy();
        return;
      }
      return send(res, new HttpAnswer(503, { mensagem: 'Serviço indisponível' }, { 'retry-after': '1' }));
    }
    if (req.headers['api-key'] !== token) {
      stats.unauthorized += 1;
      return send(res, new HttpAnswer(401, { mensagem: 'Chave de API inválida' }));
    }
    const now = Date.now();
    if (inFlight > limits.concurrency) {
      stats.rateLimited += 1;
      return send(res, new HttpAnswer(429, { mensagem: 'Muitas requisições simultâneas' }, { 'retry-after': '1' }));
    }
    const retryAfter = overBudget(now);
    if (retryAfter !== null) {
      stats.rateLimited += 1;
      return send(res, new HttpAnswer(429, { mensagem: 'Limite de requisições por minuto excedido' }, { 'retry-after': String(retryAfter) }));
    }
    window.push(now);

    const apiAt = url.pathname.indexOf(API_MARKER);
    if (apiAt < 0) return send(res, new HttpAnswer(404, { mensagem: 'Rota não encontrada' }));
    if (faults.hangRate && faultRandom.chance(faults.hangRate)) {
      stats.injectedHangs += 1;
      return; // never answered: the client's timeout has to end it
    }
    if (faults.errorRate && faultRandom.chance(faults.errorRate)) {
      stats.injectedErrors += 1;
      return send(res, new HttpAnswer(500, { mensagem: 'Erro interno do servidor' }));
    }
    const latency = faults.latencyMs;
    if (latency !== undefined) {
      const ms = Array.isArray(latency) ? latency[0] + faultRandom.next() * (latency[1] - latency[0]) : latency;
      if (ms > 0) await delay(ms);
    }
    let body: unknown;
    try {
      body = method === 'POST' || method === 'PUT' ? await readBody(req) : undefined;
    } catch {
      return send(res, new HttpAnswer(400, { mensagem: 'JSON inválido' }));
    }
    const [routeName, answer] = await route(method, url.pathname.slice(apiAt + API_MARKER.length), url.searchParams, body);
    stats.byRoute[routeName] = (stats.byRoute[routeName] ?? 0) + 1;
    const drip = faults.drip;
    if (drip && drip.rate > 0 && faultRandom.chance(drip.rate)) {
      stats.injectedDrips += 1;
      return sendDripping(res, answer, drip.everyMs, drip.chunkBytes ?? 16);
    }
    send(res, answer);
  };

  const sendDripping = async (res: http.ServerResponse, answer: HttpAnswer, everyMs: number, chunkBytes: number) => {
    if (res.destroyed || res.writableEnded) return;
    const payload = Buffer.from(JSON.stringify(answer.body));
    res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': payload.length, ...answer.headers });
    res.flushHeaders();
    for (let at = 0; at < payload.length; at += chunkBytes) {
      if (res.destroyed) return;
      res.write(payload.subarray(at, at + chunkBytes));
      await delay(everyMs);
    }
    if (!res.destroyed) res.end();
  };

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      send(res, new HttpAnswer(500, { mensagem: error instanceof Error ? error.message : 'erro' }));
    });
  };

  let ca: string | null = null;
  let server: http.Server | https.Server;
  if (options.https) {
    const certificate = await createSimulatorCertificate(options.caFile);
    ca = certificate.cert;
    server = https.createServer({ key: certificate.key, cert: certificate.cert }, listener);
  } else {
    server = http.createServer(listener);
  }
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const origin = `${options.https ? 'https' : 'http'}://${host}:${address.port}`;

  const findItem = (id: number): SimItemBase | SimBox | undefined => network.poles.get(id) ?? network.boxes.get(id);

  const api: RunningSimulator = {
    url: `${origin}/isp`,
    origin,
    token,
    ca,
    network,
    writes,
    get stats() {
      return stats;
    },
    limits,
    get faults() {
      return faults;
    },
    set faults(value: SimulatorFaults) {
      faults = { ...value };
      touch();
    },
    setFaults(value) {
      faults = { ...value };
      touch();
    },
    setLimits(value) {
      Object.assign(limits, value);
    },
    setDown(count, mode = '503') {
      down = { remaining: Math.max(0, Math.floor(count)), mode };
    },
    failBindsAfterSuccess(count) {
      bindFailuresAfterSuccess = Math.max(0, Math.floor(count));
    },
    resetStats() {
      stats = emptyStats();
      stats.inFlight = inFlight;
    },
    malformedRecords() {
      return [...malformed.values()];
    },
    portShapeOf,
    hideAllPoles(hidden = true) {
      polesHidden = hidden;
      touch();
    },
    removeEquipmentFromPole(poleId) {
      removeSplittersOf(poleId);
      touch();
    },
    moveElement(itemId, lat, lon) {
      const item = findItem(itemId);
      if (!item) throw new Error(`no pole or box ${itemId}`);
      item.lat = lat;
      item.lon = lon;
      touch();
    },
    deleteElement(itemId) {
      if (network.poles.delete(itemId)) {
        for (const box of network.boxes.values()) if (box.poleId === itemId) box.poleId = null;
      } else if (!network.boxes.delete(itemId)) {
        throw new Error(`no pole or box ${itemId}`);
      }
      removeSplittersOf(itemId);
      touch();
    },
    setCustomerDocument(customerId, document) {
      const customer = network.customers.get(customerId);
      if (!customer) throw new Error(`no customer ${customerId}`);
      customer.cpfCnpj = document;
      touch();
    },
    setCustomerObservation(customerId, observation) {
      const customer = network.customers.get(customerId);
      if (!customer) throw new Error(`no customer ${customerId}`);
      customer.observacao = observation;
      touch();
    },
    addCustomerOnPort(portId, input) {
      const port = network.ports.get(portId);
      if (!port) throw new Error(`no port ${portId}`);
      const customer: SimCustomer = {
        id: network.nextIds.customer++,
        nome: input.nome,
        cpfCnpj: input.cpfCnpj,
        tipo: input.tipo ?? 'F',
        observacao: input.observacao ?? null,
        codigoIntegracao: null,
        extra: {},
        portId,
        scenario: null,
        serviceId: null,
        cleanDocument: null,
      };
      network.customers.set(customer.id, customer);
      port.customerId = customer.id;
      touch();
      return customer;
    },
    reservePort(portId) {
      const port = network.ports.get(portId);
      if (!port) throw new Error(`no port ${portId}`);
      port.reserved = true;
      touch();
    },
    unbindPort(portId) {
      const port = network.ports.get(portId);
      if (!port) throw new Error(`no port ${portId}`);
      if (port.customerId !== null) {
        const customer = network.customers.get(port.customerId);
        if (customer && customer.portId === port.id) customer.portId = null;
      }
      port.customerId = null;
      touch();
    },
    moveCustomerToPort(customerId, portId) {
      const customer = network.customers.get(customerId);
      if (!customer) throw new Error(`no customer ${customerId}`);
      const target = network.ports.get(portId);
      if (!target) throw new Error(`no port ${portId}`);
      if (target.customerId !== null && target.customerId !== customerId) throw new Error(`port ${portId} already holds customer ${target.customerId}`);
      for (const port of network.ports.values()) if (port.customerId === customerId) port.customerId = null;
      target.customerId = customerId;
      customer.portId = portId;
      touch();
    },
    deleteCustomer(customerId) {
      if (!network.customers.delete(customerId)) throw new Error(`no customer ${customerId}`);
      for (const port of network.ports.values()) if (port.customerId === customerId) port.customerId = null;
      touch();
    },
    addSplitter(containerId, input) {
      const container = findItem(containerId);
      if (!container) throw new Error(`no pole or box ${containerId}`);
      const splitter: SimSplitter = {
        id: network.nextIds.equipment++,
        containerId,
        containerKind: network.poles.has(containerId) ? 'pole' : 'box',
        sigla: input.sigla ?? `SPL-${input.service ? 'AT' : 'DS'}-1x${input.ratioOut}`,
        ratioIn: 1,
        ratioOut: input.ratioOut,
        service: input.service,
        ports: [],
        planned: false,
      };
      for (let n = 1; n <= input.ratioOut; n += 1) {
        const port: SimPort = { id: network.nextIds.port++, splitterId: splitter.id, containerId, number: n, label: null, reserved: false, customerId: null, planned: false };
        splitter.ports.push(port);
        network.ports.set(port.id, port);
      }
      network.splitters.set(splitter.id, splitter);
      network.splittersByContainer.set(containerId, [...(network.splittersByContainer.get(containerId) ?? []), splitter]);
      touch();
      return splitter;
    },
    removeSplitter(splitterId) {
      const splitter = network.splitters.get(splitterId);
      if (!splitter) throw new Error(`no splitter ${splitterId}`);
      for (const port of splitter.ports) detachPort(port);
      network.splitters.delete(splitterId);
      const rest = (network.splittersByContainer.get(splitter.containerId) ?? []).filter((s) => s.id !== splitterId);
      if (rest.length > 0) network.splittersByContainer.set(splitter.containerId, rest);
      else network.splittersByContainer.delete(splitter.containerId);
      touch();
    },
    setSplitterService(splitterId, service) {
      const splitter = network.splitters.get(splitterId);
      if (!splitter) throw new Error(`no splitter ${splitterId}`);
      splitter.service = service;
      touch();
    },
    touch,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
  return api;
}

import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { countNetwork, erpContractsFor, generateNetwork, type SimBox, type SimCustomer, type SimItemBase, type SimNetwork, type SimPort, type SimSplitter } from './network-generator.ts';
import { SeededRandom } from './seeded-random.ts';
import { createSimulatorCertificate } from './simulator-tls.ts';
import { createGeoGridWire, type GeoGridWire } from './geogrid/geogrid-routes.ts';
import { createOzmapWire, type OzmapAuthOptions, type OzmapWire } from './ozmap/ozmap-routes.ts';
import {
  emptyWrites,
  HttpAnswer,
  ok,
  type MalformedRecord,
  type PlatformWire,
  type SimulatorFaults,
  type SimulatorWrites,
  type WireContext,
} from './platform-wire.ts';

export {
  countWrites,
  type MalformedRecord,
  type MalformedVariant,
  type SimulatorFaults,
  type SimulatorWrites,
} from './platform-wire.ts';

/**
 * The simulator's server core: a local look-alike of a mapping platform over real HTTP(S),
 * serving one generated network in the wire shapes of the platform asked for (GeoGrid v3 by
 * default; see `geogrid/` and the other wire modules), with the platforms' habits (rate
 * limits answered with 429 + Retry-After, slow or hung calls, 500s, malformed records, a 500
 * on a bind that did succeed, down for N requests), state changed by writes, and an
 * in-process and HTTP (`/__sim/`) control surface for tests, the demo and benchmarks.
 */

export type SimulatedPlatform = 'geogrid' | 'ozmap';

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
  /** The wire shapes served (default `geogrid`). */
  platform?: SimulatedPlatform;
  /** OZmap only: the login `users/login` accepts, and how long its tokens last. */
  ozmapAuth?: OzmapAuthOptions;
  /** Answer GeoGrid's batch port-count read (`GET /equipamentos/itemRede/portas?itensRede[]=…`; default true). */
  batchReads?: boolean;
}

/** One API request as the simulator received it. */
export interface RecordedRequest {
  method: string;
  /** The path under the API root, e.g. `/properties`. */
  path: string;
  /** Query parameters in the order sent. */
  query: Array<[string, string]>;
  body: unknown;
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
  /** The wire shapes served. */
  platform: SimulatedPlatform;
  /** The URL to configure as `apiUrl` (GeoGrid: the panel URL, the API under `/api/v3`; OZmap: the origin, the API under `/api/v2`). */
  url: string;
  /** OZmap only (null on GeoGrid): the login and password `users/login` accepts. */
  credentials: { login: string; password: string } | null;
  /** OZmap only: login tokens issued from now on stop working after `requests` API requests (null: never). */
  setLoginTokenRequests(requests: number | null): void;
  /** The server origin; admin endpoints are under `/__sim/`. */
  origin: string;
  token: string;
  /** The certificate (PEM) clients must trust in https mode. */
  ca: string | null;
  network: SimNetwork;
  writes: SimulatorWrites;
  /**
   * Every API request answered by a route, as received (method, API path, query, JSON body),
   * while `recordRequests(true)`: what a client sent, to compare two clients' requests.
   */
  recordedRequests: RecordedRequest[];
  /** Starts (true) or stops recording API requests; starting clears what was recorded. */
  recordRequests(on: boolean): void;
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
  /** Answer (true) or refuse with 404 (false) GeoGrid's batch port-count read. */
  setBatchReads(answered: boolean): void;
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
const ADMIN_MARKER = '/__sim/';

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const seed = options.seed ?? 1;
  const platform: SimulatedPlatform = options.platform ?? 'geogrid';
  const network = options.network ?? generateNetwork({ seed, size: options.size ?? 10_000 });
  const token = options.token ?? 'sim-token';
  const limits: SimulatorLimits = { ...DEFAULT_LIMITS, ...(options.limits ?? {}) };
  let faults: SimulatorFaults = { ...(options.faults ?? {}) };
  const faultRandom = new SeededRandom(seed ^ 0x5eed);
  const writes: SimulatorWrites = emptyWrites();
  let recording = false;
  const recorded: RecordedRequest[] = [];
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

  const touchListeners: Array<() => void> = [];
  const touch = () => {
    version += 1;
    for (const listener of touchListeners) listener();
  };

  const context: WireContext = {
    seed,
    network,
    writes,
    faults: () => faults,
    malformed,
    polesHidden: () => polesHidden,
    takeBindFailureAfterSuccess: () => {
      if (bindFailuresAfterSuccess <= 0) return false;
      bindFailuresAfterSuccess -= 1;
      return true;
    },
    cachedList: (key, build) => {
      const cached = listCache.get(key);
      if (cached && cached.version === version) return cached.records;
      const records = build();
      listCache.set(key, { version, records });
      return records;
    },
    touch: () => touch(),
    version: () => version,
    onTouch: (listener) => {
      touchListeners.push(listener);
    },
  };
  const geogrid: GeoGridWire = createGeoGridWire(context, token, { batchReads: options.batchReads ?? true });
  const ozmap: OzmapWire | null = platform === 'ozmap' ? createOzmapWire(context, token, options.ozmapAuth) : null;
  const wire: PlatformWire = ozmap ?? geogrid;

  // ---------------------------------------------------------------- mutations

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
      case 'POST login-token-requests':
        api.setLoginTokenRequests(input.requests === null || input.requests === undefined ? null : Number(input.requests));
        return ok({ requests: input.requests ?? null });
      case 'POST batch-reads':
        geogrid.setBatchReads(input.answered !== false);
        return ok({ answered: input.answered !== false });
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
      return send(res, new HttpAnswer(503, wire.message('Serviço indisponível'), { 'retry-after': '1' }));
    }
    const apiAt = url.pathname.indexOf(wire.apiMarker);
    const apiPath = apiAt < 0 ? null : url.pathname.slice(apiAt + wire.apiMarker.length);
    if (!(apiPath !== null && wire.isPublic(method, apiPath)) && !wire.authorized(req)) {
      stats.unauthorized += 1;
      return send(res, wire.unauthorized());
    }
    const now = Date.now();
    if (inFlight > limits.concurrency) {
      stats.rateLimited += 1;
      return send(res, new HttpAnswer(429, wire.message('Muitas requisições simultâneas'), { 'retry-after': '1' }));
    }
    const retryAfter = overBudget(now);
    if (retryAfter !== null) {
      stats.rateLimited += 1;
      return send(res, new HttpAnswer(429, wire.message('Limite de requisições por minuto excedido'), { 'retry-after': String(retryAfter) }));
    }
    window.push(now);

    if (apiPath === null) return send(res, new HttpAnswer(404, wire.message('Rota não encontrada')));
    if (faults.hangRate && faultRandom.chance(faults.hangRate)) {
      stats.injectedHangs += 1;
      return; // never answered: the client's timeout has to end it
    }
    if (faults.errorRate && faultRandom.chance(faults.errorRate)) {
      stats.injectedErrors += 1;
      return send(res, new HttpAnswer(500, wire.message('Erro interno do servidor')));
    }
    const latency = faults.latencyMs;
    if (latency !== undefined) {
      const ms = Array.isArray(latency) ? latency[0] + faultRandom.next() * (latency[1] - latency[0]) : latency;
      if (ms > 0) await delay(ms);
    }
    let body: unknown;
    try {
      body = wire.bodyMethods.has(method) ? await readBody(req) : undefined;
    } catch {
      return send(res, new HttpAnswer(400, wire.message('JSON inválido')));
    }
    if (recording) recorded.push({ method, path: apiPath, query: [...url.searchParams.entries()], body: body === undefined ? undefined : structuredClone(body) });
    const [routeName, answer] = await wire.route(method, apiPath, url.searchParams, body);
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
      send(res, new HttpAnswer(500, wire.message(error instanceof Error ? error.message : 'erro')));
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
    recordedRequests: recorded,
    recordRequests(on) {
      recording = on;
      if (on) recorded.length = 0;
    },
    platform,
    url: wire.apiUrl(origin),
    credentials: ozmap ? { ...ozmap.credentials } : null,
    setLoginTokenRequests(requests) {
      if (!ozmap) throw new Error('login tokens are an OZmap simulator feature');
      ozmap.setTokenRequests(requests);
    },
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
    portShapeOf: (containerId) => geogrid.portShapeOf(containerId),
    setBatchReads: (answered) => geogrid.setBatchReads(answered),
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

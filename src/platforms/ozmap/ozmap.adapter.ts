import type { Page, PlatformBox, PlatformCustomer, PlatformPole, PlatformProject, PlatformSplitter, Rejection } from '../../domain/network.ts';
import {
  PlatformHttpClient,
  type CallOptions,
  type PlatformCallScope,
  type PlatformConnectionOptions,
  type PlatformResponse,
} from '../http/platform-http-client.ts';
import { PlatformError } from '../http/platform-error.ts';
import {
  CustomerCreationUnsupportedError,
  eachContainer,
  type BindRequest,
  type ChangeTracking,
  type ContainerRef,
  type CustomerPayload,
  type ListOptions,
  type PlatformAdapter,
  type PlatformScope,
  type PortTie,
  type RemoteCustomer,
  type TrackedKind,
} from '../platform-adapter.ts';
import { DuplicateIdGuard } from '../record-validation.ts';
import {
  DEFAULT_PAGE_SIZE,
  FAMILY,
  ID_ORDER,
  LOGIN_PARAMS,
  OzmapShapeError,
  PROPERTY_UNBIND_BODY,
  applyPortTies,
  clientIdOfProperty,
  countCreated,
  customerPatchBody,
  filters,
  listRequest,
  loginBody,
  newClientBody,
  ozmapBaseUrl,
  ozmapHeaders,
  parsePage,
  parsePortExternalId,
  paths,
  propertyBindBody,
  propertyCreateBody,
  refId,
  remoteCustomerFromPayload,
  toBoxPlace,
  toBoxes,
  toCustomers,
  toLoginToken,
  toLookedUpCustomer,
  toPoles,
  toPortTies,
  toProjectFacts,
  toProjects,
  toProperties,
  toSplitters,
  type OzmapFilter,
  type OzmapQuery,
  type ProjectFacts,
  type PropertyTarget,
  type WirePage,
} from './ozmap.wire.ts';

/** How the adapter authenticates: an API key, or a login whose token it renews on a 401. */
export type OzmapCredentials = { token: string } | { login: string; password: string };

export interface OzmapAdapterOptions extends PlatformConnectionOptions {
  credentials: OzmapCredentials;
  /** Records per page (`limit`, default 500). */
  pageSize?: number;
  /** Boxes per `parent in [...]` read of their splitters (default 100). */
  containerChunk?: number;
}

/**
 * OZmap API v2. All wire shapes are in `ozmap.wire.ts`; every call goes through mapsync's own
 * PlatformHttpClient (limiter, retries, timeouts, redaction). The official SDK is never used
 * here: importing it starts a logger server and it logs request bodies (docs platforms/ozmap-v2.md).
 */
export class OzmapAdapter implements PlatformAdapter {
  readonly platform: string;
  /** An FTTH client has no document field: customers link by observation id and code. */
  readonly customersCarryDocuments = false;
  readonly client: PlatformHttpClient;
  readonly changeTracking: ChangeTracking;
  private readonly pageSize: number;
  private readonly containerChunk: number;
  private readonly shared: SharedState;

  constructor(private readonly options: OzmapAdapterOptions) {
    this.platform = options.platformName ?? 'ozmap';
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.containerChunk = options.containerChunk ?? 100;
    const credentials = options.credentials;
    this.shared = { token: null, loggingIn: null, projectFacts: new Map() };
    this.client = new PlatformHttpClient({
      platform: this.platform,
      baseURL: ozmapBaseUrl(options.apiUrl),
      headers: ozmapHeaders('token' in credentials ? credentials.token : null),
      ...('password' in credentials ? { secrets: [credentials.password] } : {}),
      ...(options.http ?? {}),
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.adapter ? { adapter: options.adapter } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
      ...(options.onResponse ? { onResponse: options.onResponse } : {}),
    });
    this.changeTracking = this.trackingOf();
  }

  /** ChangeTracking calling this adapter (its client: a run's view, see forRun). */
  private trackingOf(): ChangeTracking {
    return {
      count: (kind, scope) => this.count(kind, scope),
      ids: (kind, scope) => this.ids(kind, scope),
      splitters: (scope, listOptions) => this.allSplitters(scope, listOptions),
      portTies: (scope, listOptions) => this.allPortTies(scope, listOptions),
    };
  }

  /**
   * The same adapter for one sync run: its requests carry the run's signal and are counted in
   * its tally; the login is shared. Derived from `this`, not built anew: whatever a caller
   * changed on the adapter it holds (a capability taken away) holds for the run too.
   */
  forRun(scope: PlatformCallScope): OzmapAdapter {
    const run = Object.create(this) as OzmapAdapter;
    Object.defineProperty(run, 'client', { value: this.client.withScope(scope) });
    if (this.changeTracking) Object.defineProperty(run, 'changeTracking', { value: run.trackingOf() });
    return run;
  }

  async listProjects(): Promise<PlatformProject[]> {
    const projects: PlatformProject[] = [];
    for await (const page of this.pages(paths.projects(), { sort: ID_ORDER }, 'GET /projects', FAMILY.projects)) projects.push(...toProjects(page.records).items);
    // A sub-project names its parent by id (`parents`): its name too, for `mapsync projects`.
    const names = new Map(projects.map((p) => [p.externalId, p.name]));
    return projects.map((p) => (p.parentExternalId && names.has(p.parentExternalId) ? { ...p, parentName: names.get(p.parentExternalId)! } : p));
  }

  /**
   * Poles inside the scope projects' areas (`within`, one listing for all of them): a pole has
   * no project field, so its project is said only when the scope is one project.
   */
  async *poles(scope: PlatformScope, options: ListOptions = {}): AsyncIterable<Page<PlatformPole>> {
    const guard = new DuplicateIdGuard();
    const projectExternalId = scope.projectExternalIds.length === 1 ? scope.projectExternalIds[0]! : null;
    const query = { filter: [...poleAreaFilter(scope), ...changedFilter(options)], sort: ID_ORDER };
    for await (const page of this.pages(paths.poles(), query, 'GET /poles', FAMILY.poles)) {
      yield withChanges(toPoles(page.records, { guard, endpoint: 'GET /poles', projectExternalId }), page.records, options);
    }
  }

  async *boxes(scope: PlatformScope, options: ListOptions = {}): AsyncIterable<Page<PlatformBox>> {
    const guard = new DuplicateIdGuard();
    const query = { filter: [...projectFilter(scope), ...changedFilter(options)], sort: ID_ORDER };
    for await (const page of this.pages(paths.boxes(), query, 'GET /boxes', FAMILY.boxes)) {
      const ctoLevels = await this.ctoLevels(page.records);
      yield withChanges(toBoxes(page.records, { guard, endpoint: 'GET /boxes', ctoLevels }), page.records, options);
    }
  }

  /**
   * The splitters of the given containers, with the customer on each port: one `parent in [...]`
   * listing per chunk of containers and one listing of the properties tied to those splitters.
   */
  async *splitters(containers: AsyncIterable<ContainerRef[]> | ContainerRef[]): AsyncIterable<Page<PlatformSplitter>> {
    const guard = new DuplicateIdGuard();
    let chunk: string[] = [];
    const read = async (boxes: string[]): Promise<Page<PlatformSplitter>> => {
      const page: Page<PlatformSplitter> = { items: [], rejected: [] };
      const splitterQuery = { filter: [filters.parentIn(boxes)], sort: ID_ORDER, populate: SPLITTER_POPULATE };
      for await (const wire of this.pages(paths.splitters(), splitterQuery, 'GET /splitters', FAMILY.splitters)) {
        const mapped = toSplitters(wire.records, { guard, endpoint: 'GET /splitters' });
        page.items.push(...mapped.items);
        page.rejected.push(...mapped.rejected);
      }
      const ties: PortTie[] = [];
      const splitterIds = page.items.filter((s) => s.role === 'service').map((s) => s.externalId);
      // A property names the splitter it is connected to; its box may be unset.
      const tieQuery = { filter: [filters.connectedTo(splitterIds)], sort: ID_ORDER, populate: 'client' };
      for await (const wire of splitterIds.length === 0 ? noPages() : this.pages(paths.properties(), tieQuery, 'GET /properties', FAMILY.properties)) {
        const mapped = toPortTies(wire.records, { guard: new DuplicateIdGuard(), endpoint: 'GET /properties' });
        ties.push(...mapped.items);
        page.rejected.push(...mapped.rejected);
      }
      applyPortTies(page.items, ties, page.rejected);
      return page;
    };
    for await (const ref of eachContainer(containers)) {
      chunk.push(ref.externalId);
      if (chunk.length >= this.containerChunk) {
        const boxes = chunk;
        chunk = [];
        yield await read(boxes);
      }
    }
    if (chunk.length > 0) yield await read(chunk);
  }

  /** Customers: the client of every property of the scope (OZmap clients live in properties). */
  async *customers(scope: PlatformScope, options: ListOptions = {}): AsyncIterable<Page<PlatformCustomer>> {
    const guard = new DuplicateIdGuard();
    const query = { filter: [...projectFilter(scope), ...changedFilter(options)], sort: ID_ORDER, populate: 'client' };
    for await (const page of this.pages(paths.properties(), query, 'GET /properties', FAMILY.properties)) {
      yield withChanges(toCustomers(page.records, { guard, endpoint: 'GET /properties' }), page.records, options);
    }
  }

  async findCustomerByIntegrationCode(code: string): Promise<RemoteCustomer | null> {
    const { params, data } = listRequest({ filter: [filters.code(code)] }, 1, 2);
    const response = await this.call('GET', paths.ftthClients(), { params, data, family: FAMILY.ftthClients });
    return toLookedUpCustomer(response.data, 'GET /ftth-clients');
  }

  /** Always throws CustomerCreationUnsupportedError: OZmap creates a client only inside a property (bindNewCustomer). */
  async createCustomer(_payload: CustomerPayload): Promise<RemoteCustomer> {
    throw new CustomerCreationUnsupportedError(this.platform);
  }

  /** `PATCH ftth-clients/{id}` with name, code (the service id) and observation only. */
  async updateCustomer(externalId: string, payload: CustomerPayload): Promise<RemoteCustomer> {
    // The same fields written twice give the same record: safe to retry.
    await this.call('PATCH', paths.ftthClient(externalId), { data: customerPatchBody(payload), retryUnsafe: true, family: FAMILY.ftthClients });
    return remoteCustomerFromPayload(externalId, payload);
  }

  /**
   * `POST properties` with the client nested: OZmap's only way to create a client. The answer's
   * client id when it carries one, else the client found by its code (the service id).
   */
  async bindNewCustomer(payload: CustomerPayload, request: Omit<BindRequest, 'customerExternalId'>): Promise<RemoteCustomer> {
    const target = await this.propertyTarget(request);
    const response = await this.call('POST', paths.properties(), { data: propertyCreateBody(target, newClientBody(payload)), family: FAMILY.property });
    const clientId = clientIdOfProperty(response.data);
    if (clientId) return remoteCustomerFromPayload(clientId, payload);
    const found = await this.findCustomerByIntegrationCode(payload.serviceId);
    if (found) return found;
    throw new PlatformError({
      platform: this.platform,
      endpoint: 'POST /properties',
      status: response.status,
      platformMessage: 'the property was accepted but its client cannot be found by its code',
      retryable: true,
    });
  }

  /**
   * Ties the client to the port: patches the client's property (`PATCH properties/{id}` with box,
   * connector, port, auto_connect), or creates one for it (`POST properties`) when it has none.
   */
  async bind(request: BindRequest): Promise<void> {
    const target = await this.propertyTarget(request);
    const [property] = await this.propertiesOf(request.customerExternalId);
    if (property) {
      await this.call('PATCH', paths.property(property.externalId), { data: propertyBindBody(target), retryUnsafe: true, family: FAMILY.property });
      return;
    }
    await this.call('POST', paths.properties(), { data: propertyCreateBody(target, request.customerExternalId), family: FAMILY.property });
  }

  /** Unties the client from the splitter (`PATCH properties/{id}` with `connector: null`); the client and its property stay. */
  async unbind(portExternalId: string, customerExternalId: string): Promise<void> {
    for (const property of await this.propertiesOf(customerExternalId)) {
      if (!property.ports.includes(portExternalId)) continue;
      await this.call('PATCH', paths.property(property.externalId), { data: PROPERTY_UNBIND_BODY, retryUnsafe: true, family: FAMILY.property });
    }
  }

  /** The client tied to the port now, from the properties connected to its splitter. Throws when the port id is not an OZmap port id. */
  async portCustomer(_containerExternalId: string, portExternalId: string): Promise<string | null> {
    const port = parsePortExternalId(portExternalId);
    if (!port) throw new Error(`"${portExternalId}" is not an OZmap port id (<splitter id>:<port number>)`);
    for await (const page of this.pages(paths.properties(), { filter: [filters.connectedTo([port.splitterId])], sort: ID_ORDER }, 'GET /properties', FAMILY.property)) {
      const ties = toPortTies(page.records, { guard: new DuplicateIdGuard(), endpoint: 'GET /properties' });
      const tie = ties.items.find((t) => t.ports.includes(portExternalId));
      if (tie) return tie.customer?.externalId ?? null;
    }
    return null;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async count(kind: TrackedKind, scope: PlatformScope): Promise<number | null> {
    let total = 0;
    for (const { path, query, family } of this.trackedQueries(kind, scope)) {
      const { params, data } = listRequest({ ...query, select: '_id' }, 1, 1);
      const response = await this.call('GET', path, { params, data, family });
      const page = parsePage(response.data, `GET ${path}`);
      if (page.total === null) return null;
      total += page.total;
    }
    return total;
  }

  private async *ids(kind: TrackedKind, scope: PlatformScope): AsyncIterable<string[]> {
    const field = kind === 'customers' ? 'client' : '_id';
    for (const { path, query, family } of this.trackedQueries(kind, scope)) {
      for await (const page of this.pages(path, { ...query, select: field }, `GET ${path}`, family)) {
        const ids: string[] = [];
        for (const record of page.records) {
          const id = kind === 'customers' ? (record !== null && typeof record === 'object' ? refId((record as { client?: unknown }).client) : null) : refId(record);
          if (id) ids.push(id);
        }
        yield ids;
      }
    }
  }

  private trackedQueries(kind: TrackedKind, scope: PlatformScope): { path: string; query: OzmapQuery; family: string }[] {
    switch (kind) {
      case 'poles':
        return [{ path: paths.poles(), query: { filter: poleAreaFilter(scope), sort: ID_ORDER }, family: FAMILY.poles }];
      case 'boxes':
        return [{ path: paths.boxes(), query: { filter: projectFilter(scope), sort: ID_ORDER }, family: FAMILY.boxes }];
      case 'splitters':
        return [{ path: paths.splitters(), query: { filter: projectFilter(scope), sort: ID_ORDER }, family: FAMILY.splitters }];
      case 'customers':
      case 'portTies':
        return [{ path: paths.properties(), query: { filter: projectFilter(scope), sort: ID_ORDER }, family: FAMILY.properties }];
    }
  }

  private async *allSplitters(scope: PlatformScope, options: ListOptions = {}): AsyncIterable<Page<PlatformSplitter>> {
    const guard = new DuplicateIdGuard();
    const query = { filter: [...projectFilter(scope), ...changedFilter(options)], sort: ID_ORDER, populate: SPLITTER_POPULATE };
    for await (const page of this.pages(paths.splitters(), query, 'GET /splitters', FAMILY.splitters)) {
      yield withChanges(toSplitters(page.records, { guard, endpoint: 'GET /splitters' }), page.records, options);
    }
  }

  private async *allPortTies(scope: PlatformScope, options: ListOptions = {}): AsyncIterable<Page<PortTie>> {
    const guard = new DuplicateIdGuard();
    const query = { filter: [...projectFilter(scope), ...changedFilter(options)], sort: ID_ORDER, populate: 'client' };
    for await (const page of this.pages(paths.properties(), query, 'GET /properties', FAMILY.properties)) {
      yield withChanges(toPortTies(page.records, { guard, endpoint: 'GET /properties' }), page.records, options);
    }
  }

  private async propertiesOf(clientId: string) {
    const { params, data } = listRequest({ filter: [filters.client(clientId)], sort: ID_ORDER }, 1, this.pageSize);
    const response = await this.call('GET', paths.properties(), { params, data, family: FAMILY.property });
    return toProperties(response.data, 'GET /properties');
  }

  /** Project, box, splitter, port and position of a binding (the box read for its project). */
  private async propertyTarget(request: Omit<BindRequest, 'customerExternalId'>): Promise<PropertyTarget> {
    const port = parsePortExternalId(request.portExternalId);
    if (!port) throw new Error(`"${request.portExternalId}" is not an OZmap port id (<splitter id>:<port number>)`);
    if (!request.containerExternalId) throw new Error(`port ${request.portExternalId}: the box holding it is not known, and OZmap needs it to tie a client`);
    const response = await this.call('GET', paths.box(request.containerExternalId), { family: FAMILY.boxes });
    const place = toBoxPlace(response.data, 'GET /boxes/{id}');
    const coords: [number, number] | null = request.lon !== null && request.lat !== null ? [request.lon, request.lat] : place.coords;
    return { project: place.project, box: request.containerExternalId, splitter: port.splitterId, port: port.port, coords };
  }

  /** CTO level of each project the boxes of a page belong to (`projects/{id}`, read once per project). */
  private async ctoLevels(records: unknown[]): Promise<Map<string, number | null>> {
    const levels = new Map<string, number | null>();
    for (const record of records) {
      const project = record !== null && typeof record === 'object' ? refId((record as { project?: unknown }).project) : null;
      if (!project || levels.has(project)) continue;
      let facts = this.shared.projectFacts.get(project);
      if (!facts) {
        facts = this.call('GET', paths.project(project), { family: FAMILY.projects }).then((response) => toProjectFacts(response.data, 'GET /projects/{id}'));
        facts.catch(() => this.shared.projectFacts.delete(project));
        this.shared.projectFacts.set(project, facts);
      }
      levels.set(project, (await facts).ctoLevel);
    }
    return levels;
  }

  /**
   * Every page of a list, `page` by `page`. Stops at a short page, at `hasNextPage: false`, at the
   * announced total, and when a page repeats the first id of an earlier one (a server ignoring
   * `page` would otherwise answer the same page for ever, as the SDK's findAll does).
   */
  private async *pages(path: string, query: OzmapQuery, endpoint: string, family: string): AsyncGenerator<WirePage> {
    const firstIds = new Set<string>();
    for (let page = 1; page < 10_000_000; page += 1) {
      const { params, data } = listRequest(query, page, this.pageSize);
      const response = await this.call('GET', path, { params, data, family });
      const read = parsePage(response.data, endpoint);
      const first = read.records.length > 0 ? refId(read.records[0]) : null;
      if (first !== null) {
        if (firstIds.has(first)) return;
        firstIds.add(first);
      }
      yield read;
      if (read.records.length < this.pageSize || read.hasNextPage === false) return;
      if (read.total !== null && page * this.pageSize >= read.total) return;
    }
  }

  /**
   * One call, logged in first in login mode. A 401 renews the login token once for this call
   * (never a loop): a second 401 is the answer. With an API key a 401 is the answer at once
   * (re-sending the same key, as the SDK does, cannot pass).
   */
  private async call<T = unknown>(method: string, path: string, options: CallOptions = {}): Promise<PlatformResponse<T>> {
    const credentials = this.options.credentials;
    if (!('login' in credentials)) return this.client.request<T>(method, path, options);
    const used = this.shared.token ?? (await this.login(null));
    try {
      return await this.client.request<T>(method, path, options);
    } catch (error) {
      if (!(error instanceof PlatformError) || error.status !== 401) throw error;
      await this.login(used);
      return this.client.request<T>(method, path, options);
    }
  }

  /**
   * Logs in (`POST users/login?type=API`) unless another call already renewed the token that
   * failed (`stale`), and puts the token in the Authorization header. Concurrent calls share one login.
   */
  private login(stale: string | null): Promise<string> {
    if (this.shared.token !== null && this.shared.token !== stale) return Promise.resolve(this.shared.token);
    if (this.shared.loggingIn) return this.shared.loggingIn;
    const credentials = this.options.credentials as { login: string; password: string };
    this.shared.loggingIn = this.client
      .post(paths.login(), loginBody(credentials.login, credentials.password), { params: LOGIN_PARAMS, retryUnsafe: true, family: FAMILY.login })
      .then((response) => {
        const token = toLoginToken(response.data);
        this.client.setHeader('Authorization', token);
        this.shared.token = token;
        return token;
      })
      .finally(() => {
        this.shared.loggingIn = null;
      });
    return this.shared.loggingIn;
  }
}

/** What the adapters made for runs share with the one they came from (through the prototype): the login, and what is known of projects. */
interface SharedState {
  /** The login token in use (login mode), and the login in flight. */
  token: string | null;
  loggingIn: Promise<string> | null;
  projectFacts: Map<string, Promise<ProjectFacts>>;
}

/** A splitter's type says whether it is a drop splitter; its parent, whether it hangs in a box or on a pole. */
const SPLITTER_POPULATE = 'splitterType parent';

async function* noPages(): AsyncGenerator<WirePage> {}

/** Inside any of the scope projects' areas: a list inside the filter list is an "any of" (SDK ApiFilterSchema). */
function poleAreaFilter(scope: PlatformScope): Array<OzmapFilter | OzmapFilter[]> {
  const areas = scope.projectExternalIds.map((project) => filters.withinProject(project));
  if (areas.length <= 1) return areas;
  return [areas];
}

function projectFilter(scope: PlatformScope): OzmapFilter[] {
  return scope.projectExternalIds.length > 0 ? [filters.projectIn(scope.projectExternalIds)] : [];
}

function changedFilter(options: ListOptions): OzmapFilter[] {
  return options.changedSince ? [filters.updatedAfter(options.changedSince)] : [];
}

function withChanges<T>(page: { items: T[]; rejected: Rejection[] }, records: unknown[], options: ListOptions): Page<T> {
  return options.changedSince ? { ...page, changes: { created: countCreated(records, options.changedSince) } } : page;
}

export { OzmapShapeError };

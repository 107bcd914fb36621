import type {
  Page,
  PlatformBox,
  PlatformCustomer,
  PlatformPole,
  PlatformProject,
  PlatformSplitter,
  Rejection,
} from '../../domain/network.ts';
import { PlatformHttpClient, type PlatformCallScope, type PlatformConnectionOptions } from '../http/platform-http-client.ts';
import { PlatformError } from '../http/platform-error.ts';
import type {
  BindRequest,
  ContainerOccupancy,
  ContainerRef,
  CustomerPayload,
  PlatformAdapter,
  PlatformScope,
  RemoteCustomer,
} from '../platform-adapter.ts';
import { eachContainer } from '../platform-adapter.ts';
import { reject } from '../record-validation.ts';
import {
  DEFAULT_PAGE_SIZE,
  FAMILY,
  PORT_COUNTS_BATCH,
  portCountsParams,
  toPortCountSummaries,
  GeogridShapeError,
  ITEM_TYPE,
  SERVICE_PORTS_PARAMS,
  applyServicePorts,
  bindBody,
  customerBody,
  geogridBaseUrl,
  geogridHeaders,
  itemsParams,
  pageParams,
  parsePage,
  paths,
  remoteCustomerFromPayload,
  toBoxes,
  toCustomers,
  toLookedUpCustomer,
  toPoles,
  toProjects,
  toSavedCustomer,
  toServicePorts,
  toSplitters,
  serviceViabilityParams,
  toServiceViabilityItemIds,
  type ServicePortState,
  type WirePage,
} from './geogrid.wire.ts';

export interface GeogridAdapterOptions extends PlatformConnectionOptions {
  token: string;
  pageSize?: number;
  /** Splitters per yielded page (default 500). */
  splitterPageSize?: number;
}

/** GeoGrid API v3. All wire shapes are in `geogrid.wire.ts`. */
export class GeogridAdapter implements PlatformAdapter {
  readonly platform: string;
  readonly client: PlatformHttpClient;
  /** `GET /clientes` takes no folder filter (platforms/geogrid-v3.md): it lists the whole account. */
  readonly customersFollowScope = false;
  private readonly pageSize: number;
  private readonly splitterPageSize: number;
  /** Whether the platform answers the batch port-count read: unknown until asked (once per run, see forRun). */
  private portCountsAnswered: boolean | null = null;

  /** `client`: a view of an existing adapter's client (see forRun); made from `options` when absent. */
  constructor(
    private readonly options: GeogridAdapterOptions,
    client?: PlatformHttpClient,
  ) {
    this.platform = options.platformName ?? 'geogrid';
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.splitterPageSize = options.splitterPageSize ?? 500;
    this.client = client ?? new PlatformHttpClient({
      platform: this.platform,
      baseURL: geogridBaseUrl(options.apiUrl),
      headers: geogridHeaders(options.token),
      ...(options.http ?? {}),
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.adapter ? { adapter: options.adapter } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
      ...(options.onResponse ? { onResponse: options.onResponse } : {}),
    });
  }

  /**
   * Derived from `this`, not built anew: whatever a caller changed on the adapter it holds
   * (e.g. a method taken away) holds for the run too. What is learnt about the platform
   * during a run (whether it answers the batch read) starts afresh.
   */
  forRun(scope: PlatformCallScope): GeogridAdapter {
    const run = Object.create(this) as GeogridAdapter;
    Object.defineProperty(run, 'client', { value: this.client.withScope(scope) });
    Object.defineProperty(run, 'portCountsAnswered', { value: null, writable: true });
    return run;
  }

  async listProjects(): Promise<PlatformProject[]> {
    const projects: PlatformProject[] = [];
    for await (const records of this.pagedRecords(paths.folders(), {}, 'GET /pastas', FAMILY.folders)) {
      projects.push(...toProjects(records).items);
    }
    return projects;
  }

  async *poles(scope: PlatformScope): AsyncIterable<Page<PlatformPole>> {
    const context = { folders: new Set(scope.projectExternalIds) };
    const params = itemsParams([ITEM_TYPE.pole], scope.projectExternalIds);
    for await (const records of this.pagedRecords(paths.items(), params, 'GET /itensRede', FAMILY.poles)) {
      yield toPoles(records, context);
    }
  }

  async *boxes(scope: PlatformScope): AsyncIterable<Page<PlatformBox>> {
    const context = { folders: new Set(scope.projectExternalIds) };
    const params = itemsParams([ITEM_TYPE.cto, ITEM_TYPE.splice], scope.projectExternalIds);
    for await (const records of this.pagedRecords(paths.items(), params, 'GET /itensRede', FAMILY.boxes)) {
      yield toBoxes(records, context);
    }
  }

  async *splitters(containers: AsyncIterable<ContainerRef[]> | ContainerRef[]): AsyncIterable<Page<PlatformSplitter>> {
    // More workers than the cap keeps the limiter's queue fed, so the cap is reached while there is work.
    const workers = this.client.limiter.concurrency * 3;
    const pending = new Set<Promise<void>>();
    let failure: unknown = null;
    let page: Page<PlatformSplitter> = { items: [], rejected: [] };

    for await (const ref of eachContainer(containers)) {
      if (failure) break;
      const task: Promise<void> = this.containerSplitters(ref)
        .then((result) => {
          page.items.push(...result.items);
          page.rejected.push(...result.rejected);
        })
        .catch((error: unknown) => {
          failure ??= error;
        })
        .finally(() => pending.delete(task));
      pending.add(task);
      if (pending.size >= workers) await Promise.race(pending);
      if (page.items.length + page.rejected.length >= this.splitterPageSize) {
        const full = page;
        page = { items: [], rejected: [] };
        yield full;
      }
    }
    await Promise.all(pending);
    if (failure) throw failure;
    if (page.items.length > 0 || page.rejected.length > 0) yield page;
  }

  /** One `GET /equipamentos/itemRede/{id}/portas` per container (more only past a page). */
  async *portOccupancy(containers: AsyncIterable<ContainerRef[]> | ContainerRef[]): AsyncIterable<ContainerOccupancy[]> {
    const workers = this.client.limiter.concurrency * 3;
    const pending = new Set<Promise<void>>();
    let failure: unknown = null;
    let batch: ContainerOccupancy[] = [];
    for await (const ref of eachContainer(containers)) {
      if (failure) break;
      const task: Promise<void> = this.servicePortsOrNull(ref.externalId)
        // An unreadable listing: read the diagram instead, which reports it (containerSplitters).
        .catch((error: unknown) => {
          if (error instanceof GeogridShapeError) return null;
          throw error;
        })
        .then((read) => {
          // A listing not read in full says nothing reliable: the sync then reads the
          // container's diagram, and that read reports the unreadable records.
          const states = read && read.rejected.length === 0 ? read.states : null;
          batch.push({
            container: ref,
            ports:
              states?.map((s) => ({
                portExternalId: s.portExternalId,
                splitterExternalId: s.splitterExternalId,
                splitterName: s.splitterName,
                number: s.number,
                label: s.labelGiven ? s.label : undefined,
                available: s.available,
                customer: s.customer,
              })) ?? null,
          });
        })
        .catch((error: unknown) => {
          failure ??= error;
        })
        .finally(() => pending.delete(task));
      pending.add(task);
      if (pending.size >= workers) await Promise.race(pending);
      if (batch.length >= this.splitterPageSize) {
        const full = batch;
        batch = [];
        yield full;
      }
    }
    await Promise.all(pending);
    if (failure) throw failure;
    if (batch.length > 0) yield batch;
  }

  /**
   * `GET /equipamentos/itemRede/portas?itensRede[]=…`, PORT_COUNTS_BATCH items per request.
   * The first request asks alone whether the platform answers it; refused (a 4xx, or a body
   * in another shape) the adapter does not ask again (a run gets an adapter of its own, so
   * that is once per run) and answers null.
   */
  async portCountSummaries(containers: ContainerRef[]): Promise<Map<string, string> | null> {
    if (this.portCountsAnswered === false) return null;
    const ids = [...new Set(containers.map((c) => c.externalId))];
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += PORT_COUNTS_BATCH) chunks.push(ids.slice(i, i + PORT_COUNTS_BATCH));
    const read = async (chunk: string[]): Promise<Map<string, string> | null> => {
      const response = await this.client.get(paths.portCounts(), {
        params: portCountsParams(chunk),
        acceptStatus: [400, 403, 404, 405, 414, 422, 501],
        family: FAMILY.portCounts,
      });
      if (response.status >= 400) return null;
      try {
        return toPortCountSummaries(response.data);
      } catch (error) {
        if (error instanceof GeogridShapeError) return null;
        throw error;
      }
    };
    const summaries = new Map<string, string>();
    const first = this.portCountsAnswered === null ? chunks.shift() : undefined;
    if (first) {
      const answer = await read(first);
      this.portCountsAnswered = answer !== null;
      if (!answer) return null;
      for (const [id, summary] of answer) summaries.set(id, summary);
    }
    const answers = await Promise.all(chunks.map(read));
    if (answers.some((answer) => answer === null)) {
      this.portCountsAnswered = false;
      return null;
    }
    for (const answer of answers) for (const [id, summary] of answer!) summaries.set(id, summary);
    return summaries;
  }

  /**
   * Pages through `GET /viabilidade/raio` for the area. null when the platform refuses the
   * query (400, 404, 405, 501): a run then does without it.
   */
  async serviceEquipmentHolders(area: { lat: number; lon: number; radiusMeters: number }): Promise<string[] | null> {
    const ids = new Set<string>();
    for (let pageNumber = 1; ; pageNumber += 1) {
      const response = await this.client.get(paths.serviceViability(), {
        params: { ...serviceViabilityParams(area), ...pageParams(pageNumber, this.pageSize) },
        acceptStatus: [400, 404, 405, 501],
        family: FAMILY.serviceViability,
      });
      if (response.status >= 400) return null;
      const page = parsePage(response.data, 'GET /viabilidade/raio');
      const found = toServiceViabilityItemIds(page.records);
      // An endpoint that ignores `pagina` would answer the same page forever.
      if (pageNumber > 1 && found[0] !== undefined && ids.has(found[0])) break;
      for (const id of found) ids.add(id);
      if (page.records.length < this.pageSize || (page.total !== null && pageNumber * this.pageSize >= page.total)) break;
    }
    return [...ids];
  }

  async *customers(_scope: PlatformScope): AsyncIterable<Page<PlatformCustomer>> {
    for await (const records of this.pagedRecords(paths.customers(), {}, 'GET /clientes', FAMILY.customers)) {
      yield toCustomers(records);
    }
  }

  async findCustomerByIntegrationCode(code: string): Promise<RemoteCustomer | null> {
    const response = await this.client.get(paths.customerByIntegrationCode(code), { acceptStatus: [404], family: FAMILY.customer });
    if (response.status === 404) return null;
    return toLookedUpCustomer(response.data, 'GET /clientes/integrado/{codigo}');
  }

  async getCustomer(externalId: string): Promise<RemoteCustomer | null> {
    const response = await this.client.get(paths.customer(externalId), { acceptStatus: [404], family: FAMILY.customer });
    if (response.status === 404) return null;
    return toLookedUpCustomer(response.data, 'GET /clientes/{id}');
  }

  async createCustomer(payload: CustomerPayload): Promise<RemoteCustomer> {
    const response = await this.client.post(paths.createCustomer(), customerBody(payload), { family: FAMILY.customer });
    const saved = toSavedCustomer(response.data);
    if (saved) return saved;
    // The answer did not carry the record: read it back by the integration code just written.
    const found = await this.findCustomerByIntegrationCode(payload.serviceId);
    if (found) return found;
    throw new PlatformError({
      platform: this.platform,
      endpoint: 'POST /clientes',
      status: response.status,
      platformMessage: 'customer was accepted but cannot be found by its integration code',
      retryable: true,
    });
  }

  async updateCustomer(externalId: string, payload: CustomerPayload): Promise<RemoteCustomer> {
    const response = await this.client.put(paths.customer(externalId), customerBody(payload), { family: FAMILY.customer });
    return toSavedCustomer(response.data) ?? remoteCustomerFromPayload(externalId, payload);
  }

  /**
   * Throws (GeogridShapeError, or an Error quoting the unreadable record) when the listing could
   * not be read and does not show the port: "no customer" must never be a guess, since the
   * pusher skips an unbind, or repeats a bind, on that answer.
   */
  async portCustomer(containerExternalId: string, portExternalId: string): Promise<string | null> {
    const read = await this.servicePortsOrNull(containerExternalId);
    const state = read?.states.find((s) => s.portExternalId === portExternalId);
    if (!state && read && read.rejected.length > 0) {
      throw new Error(`cannot tell who is on port ${portExternalId}: ${read.rejected[0]!.reason}`);
    }
    return state?.customer?.externalId ?? null;
  }

  async bind(request: BindRequest): Promise<void> {
    try {
      await this.client.post(paths.bind(), bindBody(request.portExternalId, request.customerExternalId, request.lat, request.lon), { family: FAMILY.bind });
    } catch (error) {
      // GeoGrid sometimes answers 500 (or nothing) on a bind that did happen: look before failing.
      if (!(error instanceof PlatformError) || !error.retryable || request.containerExternalId === null) throw error;
      const bound = await this.portCustomer(request.containerExternalId, request.portExternalId);
      if (bound === request.customerExternalId) {
        this.options.logger?.warn(
          { platform: this.platform, endpoint: error.endpoint, status: error.status },
          'bind answered an error but the port shows the customer: taken as done',
        );
        return;
      }
      throw error;
    }
  }

  async unbind(portExternalId: string, customerExternalId: string): Promise<void> {
    await this.client.delete(paths.unbind(portExternalId, customerExternalId), { family: FAMILY.bind });
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async containerSplitters(ref: ContainerRef): Promise<{ items: PlatformSplitter[]; rejected: Rejection[] }> {
    const diagram = await this.client.get(paths.equipment(ref.externalId), { acceptStatus: [404], family: FAMILY.equipment });
    // The container vanished between listing and reading: it holds nothing now.
    if (diagram.status === 404) return { items: [], rejected: [] };
    const result = toSplitters(diagram.data, ref);
    if (result.items.some((s) => s.role === 'service')) {
      const read = await this.servicePortsOrNull(ref.externalId).catch((error: unknown) => {
        // One container's ports listing in a shape nobody reads: an issue naming the endpoint,
        // and its service ports taken as not free (unknown is never free); the run goes on.
        if (!(error instanceof GeogridShapeError)) throw error;
        return { states: [], rejected: [reject('port', null, 'unreadable_record', error.message)] };
      });
      const complete = read !== null && read.rejected.length === 0;
      applyServicePorts(result.items, read?.states ?? [], { complete });
      if (read) result.rejected.push(...read.rejected);
    }
    return result;
  }

  /**
   * The service ports of a container, every page; null when the container is unknown to the
   * platform (404 on the first page).
   */
  private async servicePortsOrNull(containerExternalId: string): Promise<{ states: ServicePortState[]; rejected: Rejection[] } | null> {
    const states: ServicePortState[] = [];
    const rejected: Rejection[] = [];
    const path = paths.servicePorts(containerExternalId);
    for (let pageNumber = 1; ; pageNumber += 1) {
      const response = await this.client.get(path, {
        params: { ...SERVICE_PORTS_PARAMS, ...pageParams(pageNumber, this.pageSize) },
        acceptStatus: [404],
        family: FAMILY.servicePorts,
      });
      if (response.status === 404) {
        if (pageNumber === 1) return null;
        break;
      }
      const found = toServicePorts(response.data, containerExternalId);
      // An endpoint that ignores `pagina` would answer the same page forever.
      if (pageNumber > 1 && found.states[0] && states.some((s) => s.portExternalId === found.states[0]!.portExternalId)) break;
      states.push(...found.states);
      rejected.push(...found.rejected);
      if (found.records < this.pageSize) break;
    }
    return { states, rejected };
  }

  /**
   * Record arrays of a paged list. Once the first page gives the total, the next pages are
   * fetched ahead (up to the concurrency cap) and still yielded in order.
   */
  private async *pagedRecords(path: string, params: Record<string, unknown>, what: string, family: string): AsyncGenerator<unknown[]> {
    const fetchPage = async (pageNumber: number): Promise<WirePage> => {
      const response = await this.client.get(path, { params: { ...params, ...pageParams(pageNumber, this.pageSize) }, family });
      return parsePage(response.data, what);
    };
    const first = await fetchPage(1);
    yield first.records;
    if (first.records.length === 0 || first.records.length < this.pageSize) return;

    let next = 2;
    if (first.total !== null) {
      const lastPage = Math.ceil(first.total / this.pageSize);
      const ahead = this.client.limiter.concurrency;
      const inFlight = new Map<number, Promise<WirePage>>();
      const schedule = (n: number) => {
        if (n > lastPage || inFlight.has(n)) return;
        const promise = fetchPage(n);
        promise.catch(() => undefined); // awaited below; avoids an unhandled rejection meanwhile
        inFlight.set(n, promise);
      };
      for (; next <= lastPage; next += 1) {
        for (let k = next; k < next + ahead; k += 1) schedule(k);
        const current = await inFlight.get(next)!;
        inFlight.delete(next);
        if (current.records.length === 0) return;
        yield current.records;
        if (current.records.length < this.pageSize) return;
      }
      // Every page up to the announced total was full: the total may be stale, so read on.
    }

    for (; next < 10_000_000; next += 1) {
      const current = await fetchPage(next);
      if (current.records.length === 0) return;
      yield current.records;
      if (current.records.length < this.pageSize) return;
    }
  }
}

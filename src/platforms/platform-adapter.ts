import type {
  Page,
  PlatformBox,
  PlatformCustomer,
  PlatformPole,
  PlatformProject,
  PlatformSplitter,
} from '../domain/network.ts';
import type { PlatformCallScope } from './http/platform-http-client.ts';

/** Which part of the platform account an integration reads (config `scope`). */
export interface PlatformScope {
  /** Platform folders/projects to restrict to; empty means the whole account. */
  projectExternalIds: string[];
}

/** The minimal customer record mapsync writes to a platform (DESIGN.md, Push rules). */
export interface CustomerPayload {
  name: string;
  /** Normalised document (digits, or [0-9A-Z] for the alphanumeric CNPJ). */
  document: string;
  personType: 'person' | 'company';
  /** The ERP's id_cliente_servico: goes to the observation field and the integration code. */
  serviceId: string;
  /** Extra fields an admin whitelisted in `push.fields`. */
  extra?: Record<string, string | null>;
}

export interface RemoteCustomer {
  externalId: string;
  name: string | null;
  rawDocument: string | null;
  observation: string | null;
  integrationCode: string | null;
}

/**
 * Thrown by `createCustomer` on a platform that creates a customer only together with its tie to
 * a port (OZmap v2: the ftth-clients route reads, updates and deletes, but never creates). The
 * pusher uses `bindNewCustomer` there instead; meeting this error means a caller skipped it.
 */
export class CustomerCreationUnsupportedError extends Error {
  readonly platform: string;

  constructor(platform: string) {
    super(`${platform} cannot create a customer on its own: it is created together with its port binding (bindNewCustomer)`);
    this.name = 'CustomerCreationUnsupportedError';
    this.platform = platform;
  }
}

export interface BindRequest {
  /** The box or pole holding the port: needed to re-read the port after an unclear answer. */
  containerExternalId: string | null;
  portExternalId: string;
  customerExternalId: string;
  lon: number | null;
  lat: number | null;
}

/**
 * What the sync engine and the pusher need from a mapping platform. The sync only reads;
 * the pusher's customer records, binds and unbinds are the only writes (DESIGN.md). Each platform
 * implements it in `src/platforms/<name>/`, with all of its wire shapes in one module.
 */
export interface PlatformAdapter {
  readonly platform: string;
  /**
   * False when the platform's customers have no document field (OZmap v2 FTTH clients): linking
   * then goes by the observation id and the integration code alone (`decideLinkWithoutDocument`).
   * Absent means true.
   */
  readonly customersCarryDocuments?: boolean;
  /**
   * False when the customer listing cannot be filtered by project (GeoGrid `GET /clientes` has
   * no folder filter) and answers the whole account: a run linked to a project then keeps only
   * the customers bound to a port of that project's equipment, the rest of the account is
   * neither stored nor reported. Absent means true (`customers(scope)` honours the scope).
   */
  readonly customersFollowScope?: boolean;

  /**
   * The same adapter (same client, limiter and budget) for one sync run: every request it
   * makes carries the run's abort signal (broken off when the run stops) and is counted in
   * the run's tally (PlatformHttpClient.withScope). Optional: without it a run's requests are
   * not counted, and a stopped run waits for the calls it has in flight.
   */
  forRun?(scope: PlatformCallScope): PlatformAdapter;

  /**
   * The platform's projects (GeoGrid folders). There is no way to create one: the platform is
   * read-only for the sync, and `project: { create }` names a project in mapsync only.
   */
  listProjects(): Promise<PlatformProject[]>;

  /** The scope's poles. `options.changedSince`: see ListOptions. */
  poles(scope: PlatformScope, options?: ListOptions): AsyncIterable<Page<PlatformPole>>;
  /** The scope's boxes. `options.changedSince`: see ListOptions. */
  boxes(scope: PlatformScope, options?: ListOptions): AsyncIterable<Page<PlatformBox>>;
  /**
   * Equipment in the given containers (boxes, and poles that carry equipment
   * directly), with ports and the customer on each port.
   */
  splitters(containers: AsyncIterable<ContainerRef[]> | ContainerRef[]): AsyncIterable<Page<PlatformSplitter>>;
  /**
   * The service ports of each container with the customer on each, without the equipment
   * diagram: one read per container where the platform allows it. Optional: without it the
   * sync reads the equipment of every container it needs.
   */
  portOccupancy?(containers: AsyncIterable<ContainerRef[]> | ContainerRef[]): AsyncIterable<ContainerOccupancy[]>;
  /**
   * A summary of each container's equipment and port counts, for many containers per request
   * where the platform has such a read: equal summaries on two nights mean no equipment or
   * port count changed (a port taken, freed or reserved, a splitter added or removed). It
   * cannot show a change that keeps every count (one customer leaving a box and another
   * arriving the same day). Keyed by container id; a container the platform did not show is
   * absent; a container holding no equipment at all has the empty summary `''`. null when the platform refuses the read (the sync then reads one container at a
   * time). Optional.
   */
  portCountSummaries?(containers: ContainerRef[]): Promise<Map<string, string> | null>;
  /**
   * The ids of every box and pole holding service equipment within a circle (centre in
   * EPSG:4326, radius in metres), from one paged listing. Optional; null when the platform
   * does not answer it. It tells a run which containers it does not read every night gained
   * service equipment.
   */
  serviceEquipmentHolders?(area: { lat: number; lon: number; radiusMeters: number }): Promise<string[] | null>;
  /** The scope's customers. `options.changedSince`: see ListOptions. */
  customers(scope: PlatformScope, options?: ListOptions): AsyncIterable<Page<PlatformCustomer>>;
  /**
   * Optional: what a platform that filters on update time offers so that a run reads only what
   * changed (src/sync/incremental-listing.ts). An adapter with it honours
   * `ListOptions.changedSince` in poles, boxes and customers.
   */
  readonly changeTracking?: ChangeTracking;

  /**
   * The platform customer whose integration code (GeoGrid `codigoIntegracao`, OZmap `code`) is
   * exactly `code` (the ERP's id_cliente_servico), or null when there is none.
   */
  findCustomerByIntegrationCode(code: string): Promise<RemoteCustomer | null>;
  /**
   * Creates a customer on its own, unbound. Platforms that only create a customer together with
   * its tie to a port (OZmap: an FTTH client is created nested in a property) implement
   * `bindNewCustomer` and throw `CustomerCreationUnsupportedError` here.
   */
  createCustomer(payload: CustomerPayload): Promise<RemoteCustomer>;
  /** Rewrites the whitelisted fields of an existing customer (name, integration code, observation). */
  updateCustomer(externalId: string, payload: CustomerPayload): Promise<RemoteCustomer>;
  /**
   * Creates a customer and binds it to the port in one write, for platforms that cannot create a
   * customer on its own (OZmap: POST properties with a nested client). Optional: when absent the
   * pusher calls `createCustomer` then `bind`. Resolves to the created customer, whose
   * `externalId` the pusher records. Raises PlatformError as the other writes do; an unclear
   * answer is settled by `findCustomerByIntegrationCode(payload.serviceId)` and `portCustomer`.
   */
  bindNewCustomer?(payload: CustomerPayload, request: Omit<BindRequest, 'customerExternalId'>): Promise<RemoteCustomer>;
  /** The customer bound to a port now, re-read from the platform. */
  portCustomer(containerExternalId: string, portExternalId: string): Promise<string | null>;
  bind(request: BindRequest): Promise<void>;
  unbind(portExternalId: string, customerExternalId: string): Promise<void>;

  close?(): Promise<void>;
}

/** Options of a listing. */
export interface ListOptions {
  /**
   * List only the records created or updated after this time. An adapter that can marks every
   * page with `changes` (Page); one that cannot ignores it and lists everything. Removals are
   * never in such a listing: ChangeTracking counts and ids find them.
   */
  changedSince?: Date;
}

/** The listings a run can read incrementally. `portTies`: customers tied to ports (see PortTie). */
export type TrackedKind = 'poles' | 'boxes' | 'customers' | 'splitters' | 'portTies';

/** A customer's tie to service ports, as a platform that keeps it apart from the splitter shows it. */
export interface PortTie {
  /** The tie's own id (OZmap: the property). */
  externalId: string;
  /** The box the tie names, when it does. */
  boxExternalId: string | null;
  customer: { externalId: string; name: string | null } | null;
  /** The ports the customer is tied to (PlatformPort.externalId). */
  ports: string[];
}

/**
 * Reads for a run that lists only what changed: a listing filtered on update time cannot show
 * a removal, so the run compares counts, and reads ids only when they disagree. Equipment is a
 * flat listing here (every splitter of the scope, and every tie of a customer to its ports),
 * so it can be read by change too. Errors: PlatformError, and a shape error when a page cannot
 * be read.
 */
export interface ChangeTracking {
  /** How many records of the kind the platform holds in the scope now (one request); null when it does not say. */
  count(kind: TrackedKind, scope: PlatformScope): Promise<number | null>;
  /** Every id of the kind in the scope, a page at a time, ids only (the customers' ids for `customers`). */
  ids(kind: TrackedKind, scope: PlatformScope): AsyncIterable<string[]>;
  /** Every splitter of the scope with its ports; no customer is set on the ports (see portTies). */
  splitters(scope: PlatformScope, options?: ListOptions): AsyncIterable<Page<PlatformSplitter>>;
  portTies(scope: PlatformScope, options?: ListOptions): AsyncIterable<Page<PortTie>>;
}

export interface ContainerRef {
  externalId: string;
  kind: 'box' | 'pole';
}

/** The containers an adapter is handed (a list, or a stream of chunks), one at a time. */
export async function* eachContainer(containers: AsyncIterable<ContainerRef[]> | ContainerRef[]): AsyncGenerator<ContainerRef> {
  if (Array.isArray(containers)) {
    yield* containers;
    return;
  }
  for await (const chunk of containers) yield* chunk;
}

/** A service port as the occupancy listing shows it. */
export interface PortOccupancy {
  portExternalId: string;
  /** The equipment the port belongs to, when the platform says. */
  splitterExternalId: string | null;
  /** The equipment's name, when the platform says (null: not said). */
  splitterName?: string | null;
  /** 1-based position on the splitter; null when the platform does not say. */
  number?: number | null;
  /** undefined when the record has no label field; null when the label is empty. */
  label: string | null | undefined;
  /** null when the platform does not say. */
  available: boolean | null;
  customer: { externalId: string; name: string | null } | null;
}

export interface ContainerOccupancy {
  container: ContainerRef;
  /**
   * null when the platform no longer knows the container, or when its listing could not be
   * read in full (the sync then reads the container's diagram, which reports what was unreadable).
   */
  ports: PortOccupancy[] | null;
}

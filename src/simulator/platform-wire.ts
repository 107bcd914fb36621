import type http from 'node:http';
import type { SimNetwork } from './network-generator.ts';
import { hashUnit } from './seeded-random.ts';

/**
 * What the simulator's server core shares with the wire module of each platform it
 * imitates: answers, faults, recorded writes and the context a wire module reads and
 * mutates the generated network through. The core owns the HTTP server, auth order,
 * rate limits and injected faults; a wire module owns its routes and record shapes.
 */

export class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

export const ok = (body: unknown) => new HttpAnswer(200, body);
export const fieldError = (status: number, fields: Record<string, string>) => new HttpAnswer(status, fields);

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
  /** OZmap `PATCH ftth-clients/:id`. */
  ftthClientsUpdated: Array<{ id: string; body: unknown; status: number }>;
  /** OZmap `POST properties` (`id` is the created property's, null when none was made). */
  propertiesCreated: Array<{ id: string | null; body: unknown; status: number }>;
  /** OZmap `PATCH properties/:id`. */
  propertiesUpdated: Array<{ id: string; body: unknown; status: number }>;
  /** OZmap `DELETE properties/:id`. */
  propertiesDeleted: Array<{ id: string; status: number }>;
}

export function emptyWrites(): SimulatorWrites {
  return {
    customersCreated: [],
    customersUpdated: [],
    binds: [],
    unbinds: [],
    otherWrites: [],
    ftthClientsUpdated: [],
    propertiesCreated: [],
    propertiesUpdated: [],
    propertiesDeleted: [],
  };
}

/** Every write the simulator received, whatever its answer: a sync must leave this at 0. */
export function countWrites(writes: SimulatorWrites): number {
  return (
    writes.customersCreated.length +
    writes.customersUpdated.length +
    writes.binds.length +
    writes.unbinds.length +
    writes.otherWrites.length +
    writes.ftthClientsUpdated.length +
    writes.propertiesCreated.length +
    writes.propertiesUpdated.length +
    writes.propertiesDeleted.length
  );
}

/** The simulator state a wire module reads and changes. */
export interface WireContext {
  readonly seed: number;
  readonly network: SimNetwork;
  readonly writes: SimulatorWrites;
  /** The faults in force now (they change at run time). */
  faults(): SimulatorFaults;
  /** Records that a record is served malformed, for `malformedRecords()`. */
  readonly malformed: Map<string, MalformedRecord>;
  /** Poles left out of every listing (`hideAllPoles`). */
  polesHidden(): boolean;
  /** Consumes one "apply the bind, then answer 500" token; true when the bind must fail so. */
  takeBindFailureAfterSuccess(): boolean;
  /** A list built once per network version and fault set. */
  cachedList(key: string, build: () => unknown[]): unknown[];
  /** The network changed: cached lists are rebuilt. */
  touch(): void;
  /** A number that moves on every change of the network. */
  version(): number;
  /** Calls `listener` on every change of the network (`touch`). */
  onTouch(listener: () => void): void;
}

/**
 * The malformed variant a record is served with, or null when it is served whole: stable per
 * `kind:id` and seed, drawn from `variants`, and recorded in `context.malformed`.
 */
export function malformedVariantOf(context: WireContext, kind: MalformedRecord['kind'], id: number, variants: MalformedVariant[]): MalformedVariant | null {
  const rate = context.faults().malformedRate ?? 0;
  if (rate <= 0 || hashUnit(context.seed, `${kind}:${id}`) >= rate) return null;
  const variant = variants[Math.floor(hashUnit(context.seed + 1, `${kind}:${id}`) * variants.length)]!;
  context.malformed.set(`${kind}:${id}`, { kind, id, variant });
  return variant;
}

/** One platform's API as the server core serves it. */
export interface PlatformWire {
  /** The path segment the API lives under, e.g. `/api/v3`. */
  readonly apiMarker: string;
  /** The URL clients configure as `apiUrl`, from the server origin. */
  apiUrl(origin: string): string;
  /** Requests that need no credentials (a login route). */
  isPublic(method: string, path: string): boolean;
  /** Whether the request carries valid credentials. */
  authorized(req: http.IncomingMessage): boolean;
  /** The answer to a request without valid credentials. */
  unauthorized(): HttpAnswer;
  /** The answers the core gives itself (503, 429, 500, 400) in this platform's words. */
  message(text: string): unknown;
  /** Methods whose JSON body is read and handed to `route`. */
  readonly bodyMethods: ReadonlySet<string>;
  /** Answers one API request; returns the route name for `stats.byRoute`. */
  route(method: string, path: string, params: URLSearchParams, body: unknown): Promise<[string, HttpAnswer]> | [string, HttpAnswer];
}

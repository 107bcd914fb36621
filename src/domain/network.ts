/**
 * The platform-neutral network model. Every adapter maps its wire shapes to these
 * types, and the sync engine only ever sees these.
 */

/** Element kinds an admin can choose to sync (config `elements`). */
export const ELEMENT_KINDS = [
  'service_splitters',
  'poles',
  'boxes',
  'distribution_splitters',
  'customers',
] as const;
export type ElementKind = (typeof ELEMENT_KINDS)[number];

export const DEFAULT_ELEMENT_KINDS: ElementKind[] = ['service_splitters'];

export type SplitterRole = 'service' | 'distribution';

export interface PlatformProject {
  externalId: string;
  name: string;
  parentName: string | null;
  /** The parent folder's id, when the platform gives it (else the parent is found by name). */
  parentExternalId?: string | null;
}

export interface PlatformPole {
  externalId: string;
  projectExternalId: string | null;
  name: string | null;
  lon: number;
  lat: number;
  observation: string | null;
  /**
   * Digest of the whole record the platform listed, fields mapsync does not store included;
   * a change sends the pole's equipment to a full read. Undefined when the adapter has none.
   */
  listedDigest?: string | null;
  /** Still being designed on the platform (GeoGrid `modoProjeto`): never bindable. Absent = built. */
  planned?: boolean;
}

/** `cto` serves customers; `splice` (CEO) holds distribution splitters and fusions. */
export type BoxKind = 'cto' | 'splice' | 'other';

export interface PlatformBox {
  externalId: string;
  projectExternalId: string | null;
  name: string | null;
  kind: BoxKind;
  lon: number;
  lat: number;
  /** The pole the platform says the box hangs on, when it says so. */
  poleExternalId: string | null;
  /** As for PlatformPole: digest of the whole listed record. */
  listedDigest?: string | null;
  /** Still being designed on the platform: never bindable. Absent = built. */
  planned?: boolean;
}

export interface PlatformPortCustomer {
  externalId: string;
  name: string | null;
}

export interface PlatformPort {
  externalId: string;
  /** 1-based position on the splitter. */
  number: number;
  label: string | null;
  /** False when taken, reserved or out of service: a reserved port is never free. */
  available: boolean;
  customer: PlatformPortCustomer | null;
  /** Still being designed (on the port, or its splitter): never bindable. Absent = built. */
  planned?: boolean;
}

export interface PlatformSplitter {
  externalId: string;
  /** The box or pole the equipment sits in. */
  containerExternalId: string;
  containerKind: 'box' | 'pole';
  name: string | null;
  role: SplitterRole;
  ratioIn: number;
  ratioOut: number;
  ports: PlatformPort[];
  /** Still being designed on the platform: never bindable. Absent = built. */
  planned?: boolean;
}

export interface PlatformCustomer {
  externalId: string;
  name: string | null;
  /**
   * As typed on the platform: normalised and validated by the domain rules. A document the
   * platform sent as a JSON number comes as `documentTextOfJsonNumber(n)`, since it lost every
   * leading zero (see `normaliseDocument`).
   */
  rawDocument: string | null;
  observation: string | null;
  integrationCode: string | null;
}

/** Why a record from the platform was not accepted. Codes are stable: reports and tests rely on them. */
export type RejectionCode =
  | 'missing_id'
  | 'duplicate_id'
  | 'bad_coordinates'
  /** A valid point outside Brazil or the integration's `area` (src/domain/positions.ts). */
  | 'implausible_coordinates'
  /** Implausible as given, plausible with latitude and longitude swapped. */
  | 'coordinates_swapped'
  /** An id holding a NUL or a lone surrogate: cleaning it would name another element. */
  | 'unstorable_text'
  | 'missing_field'
  | 'bad_value'
  | 'unreadable_record';

export interface Rejection {
  kind: ElementKind | 'pole' | 'box' | 'splitter' | 'port' | 'customer' | 'project';
  externalId: string | null;
  code: RejectionCode;
  reason: string;
}

/** One page of a stream: what was accepted, and what was rejected with reasons. */
export interface Page<T> {
  items: T[];
  rejected: Rejection[];
  /**
   * Set on every page of a listing that honoured `changedSince` (ListOptions): the records it
   * does not list are unchanged since then, not removed. `created`: how many of the page's
   * records (rejected ones included) were created after `changedSince`.
   */
  changes?: { created: number };
}

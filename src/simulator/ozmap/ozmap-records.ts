import { gridLayout, type SimCustomer, type SimFolder, type SimNetwork, type SimPole, type SimSplitter } from '../network-generator.ts';
import { hashUnit } from '../seeded-random.ts';
import { objectIdOf } from './ozmap-ids.ts';

const BOX_TYPES = { terminal: 1, caixa: 2 } as const;

/**
 * OZmap v2 record shapes of the shared network, as `@ozmap/ozmap-sdk` 1.1.8 types them
 * (`dist/index.d.ts`): projects (one per folder, with a GeoJSON area), poles (no project
 * field), boxes, splitters with their ports, splitter types, FTTH clients and the properties
 * that tie a client to a splitter port. Coordinates are `[lng, lat]` (EPSG:4326).
 */

export type OzRecord = Record<string, unknown> & { id: string; _id: string };

/** What OZmap keeps of a property that the shared model does not (set through the API). */
export interface PropertyState {
  project: number;
  coords: [number, number];
  boxId: number | null;
  address: string | null;
  observation: string | null;
}

/** Client fields OZmap has and GeoGrid's model does not. */
export interface ClientState {
  status: 0 | 1;
  implanted: boolean;
  certified: boolean;
  onu: { user_PPPoE: string; serial_number: string; mac_address: string };
}

export const BOX_LEVELS = { POP: 1, CE: 2, CTO: 3 } as const;
/**
 * A project's box hierarchy: `box`, the level of its CTOs (what a box's `hierarchyLevel` is
 * compared with), and `boxes`, every level by name, as OZmap's system config lists them.
 */
const HIERARCHY_LEVELS = { box: BOX_LEVELS.CTO, boxes: Object.entries(BOX_LEVELS).map(([name, id]) => ({ id, name })) };

/** A box as OZmap has it: a box of the shared model, or the box a pole-mounted splitter sits in. */
export interface OzBox {
  id: number;
  folderId: number;
  name: string;
  lat: number;
  lon: number;
  poleId: number | null;
  level: number;
  boxType: number;
  observation: string | null;
  planned: boolean;
}

/**
 * The boxes of the shared network as OZmap shows them. OZmap equipment always sits in a box,
 * so a splitter that the shared model hangs straight on a pole is served inside a box on that
 * pole, with the pole's id (poles and boxes share the id space, so it names no other box).
 */
export function ozmapBoxes(network: SimNetwork): Map<number, OzBox> {
  const boxes = new Map<number, OzBox>();
  for (const box of network.boxes.values()) {
    boxes.set(box.id, {
      id: box.id,
      folderId: box.folderId,
      name: box.sigla,
      lat: box.lat,
      lon: box.lon,
      poleId: box.poleId,
      level: box.item === 'terminal' ? BOX_LEVELS.CTO : BOX_LEVELS.CE,
      boxType: BOX_TYPES[box.item],
      observation: box.observacao,
      planned: Boolean(box.planned),
    });
  }
  for (const [containerId, splitters] of network.splittersByContainer) {
    const pole = network.poles.get(containerId);
    if (!pole || splitters.length === 0) continue;
    const serves = splitters.some((s) => s.service);
    boxes.set(pole.id, {
      id: pole.id,
      folderId: pole.folderId,
      name: `${serves ? 'CTO' : 'CEO'}-${pole.sigla}`,
      lat: pole.lat,
      lon: pole.lon,
      poleId: pole.id,
      level: serves ? BOX_LEVELS.CTO : BOX_LEVELS.CE,
      boxType: serves ? BOX_TYPES.terminal : BOX_TYPES.caixa,
      observation: null,
      planned: Boolean(pole.planned),
    });
  }
  return boxes;
}

/** Element counts of the network as the OZmap simulator serves it (boxes include pole-mounted splitters' boxes). */
export function ozmapCounts(network: SimNetwork) {
  return {
    poles: network.poles.size,
    boxes: ozmapBoxes(network).size,
    splitters: network.splitters.size,
    ports: network.ports.size,
    customers: network.customers.size,
  };
}

export const OZ_COLLECTIONS = ['projects', 'poles', 'boxes', 'splitters', 'splitterTypes', 'clients', 'properties'] as const;
export type OzCollection = (typeof OZ_COLLECTIONS)[number];

/** One collection's records as of a network version. */
export interface OzList {
  version: number;
  rows: OzRecord[];
  byId: Map<string, OzRecord>;
  /** The numeric shared-model id behind each record, for malformed-record picks. */
  numericId: Map<OzRecord, number>;
}

/** A rectangle-comb polygon in grid metres → a GeoJSON ring in EPSG:4326. */
function ringOf(points: Array<[number, number]>, layout: ReturnType<typeof gridLayout>): Array<[number, number]> {
  const ring = points.map(([x, y]) => {
    const p = layout.position(x, y);
    return [p.lon, p.lat] as [number, number];
  });
  ring.push(ring[0]!);
  return ring;
}

/**
 * Each folder's project area: the blocks its poles stand in, as one polygon. A folder's blocks
 * come in bands of rows over one half of the columns; the bands are joined by a spine outside
 * the grid, so the polygon holds the folder's poles and no other folder's.
 */
export function projectAreas(network: SimNetwork): Map<number, { type: 'Polygon'; coordinates: Array<Array<[number, number]>> }> {
  const layout = gridLayout(network.size);
  const B = layout.blockMetres;
  const areas = new Map<number, { type: 'Polygon'; coordinates: Array<Array<[number, number]>> }>();
  const rowsOf = new Map<number, Set<number>>();
  const colsOf = new Map<number, { min: number; max: number }>();
  let maxRow = 0;
  for (const pole of network.poles.values()) {
    const { x, y } = layout.metres(pole);
    const row = Math.floor(y / B);
    const col = Math.floor(x / B);
    maxRow = Math.max(maxRow, row);
    const rows = rowsOf.get(pole.folderId) ?? new Set<number>();
    rows.add(row);
    rowsOf.set(pole.folderId, rows);
    const cols = colsOf.get(pole.folderId) ?? { min: col, max: col };
    cols.min = Math.min(cols.min, col);
    cols.max = Math.max(cols.max, col);
    colsOf.set(pole.folderId, cols);
  }
  const gridEast = layout.streets * B;
  for (const [folderId, rows] of rowsOf) {
    const cols = colsOf.get(folderId)!;
    const sorted = [...rows].sort((a, b) => a - b);
    const bands: Array<[number, number]> = [];
    for (const row of sorted) {
      const last = bands.at(-1);
      if (last && last[1] === row - 1) last[1] = row;
      else bands.push([row, row]);
    }
    const westSide = cols.min === 0;
    const outer = westSide ? -20 : gridEast + 20;
    const inner = westSide ? -10 : gridEast + 10;
    const end = westSide ? cols.max * B + 100 : cols.min * B - 5;
    const points: Array<[number, number]> = [];
    const bottom = (band: [number, number]) => band[0] * B - 5;
    const top = (band: [number, number]) => band[1] * B + 100;
    points.push([outer, bottom(bands[0]!)]);
    bands.forEach((band, i) => {
      if (i > 0) points.push([inner, bottom(band)]);
      points.push([end, bottom(band)], [end, top(band)]);
      if (i < bands.length - 1) points.push([inner, top(band)]);
    });
    points.push([outer, top(bands.at(-1)!)]);
    areas.set(folderId, { type: 'Polygon', coordinates: [ringOf(points, layout)] });
  }
  const wholeGrid = ringOf([[-30, -30], [gridEast + 30, -30], [gridEast + 30, (maxRow + 1) * B + 30], [-30, (maxRow + 1) * B + 30]], layout);
  const north = ringOf([[0, (maxRow + 1) * B + 500], [gridEast, (maxRow + 1) * B + 500], [gridEast, (maxRow + 1) * B + 1500], [0, (maxRow + 1) * B + 1500]], layout);
  for (const folder of network.folders) {
    if (areas.has(folder.id)) continue;
    areas.set(folder.id, { type: 'Polygon', coordinates: [folder.nomePai === null ? wholeGrid : north] });
  }
  return areas;
}

/** Builds the OZmap records of the shared network, with timestamps kept across versions. */
export class OzmapRecords {
  /** Per ObjectId: the record's content as last seen, and when it was created and last changed. */
  private readonly stamps = new Map<string, { content: string; createdAt: string; updatedAt: string }>();
  private areas: ReturnType<typeof projectAreas> | null = null;
  private readonly lists = new Map<OzCollection, OzList>();
  /** Per collection, the time of the first network change not yet reflected in its stamps. */
  private readonly dirtySince = new Map<OzCollection, number>();
  /** The latest `updatedAt` ever served (ms): a new stamp is always later. */
  private lastStamp = 0;
  /** The boxes as of the last build of the properties. */
  private boxes = new Map<number, OzBox>();
  readonly properties = new Map<number, PropertyState>();
  /** Customers whose property was deleted through the API: no property until one is created. */
  readonly propertyDeleted = new Set<number>();
  readonly clientStates = new Map<number, ClientState>();
  /** The ERP's extra contracts by holder's document, built on first use. */
  private extrasByDocument: Map<string, string[]> | null = null;
  private extrasCounted = 0;

  constructor(
    private readonly network: SimNetwork,
    private readonly seed: number,
  ) {}

  /** Called on every network change: the next build of each collection stamps what changed since. */
  changed(): void {
    const now = Date.now();
    for (const collection of OZ_COLLECTIONS) if (!this.dirtySince.has(collection)) this.dirtySince.set(collection, now);
  }

  /**
   * Builds every collection, so that the first request does not wait for it and the records
   * there at start keep the age of the data (createdAt in 2025).
   */
  warm(version: number): void {
    for (const collection of OZ_COLLECTIONS) this.list(collection, version);
  }

  projectOfFolder(folderId: number): string {
    return objectIdOf('project', folderId);
  }

  folderOfProject(projectFolderId: number): SimFolder | undefined {
    return this.network.folders.find((folder) => folder.id === projectFolderId);
  }

  areaOf(folderId: number) {
    this.areas ??= projectAreas(this.network);
    return this.areas.get(folderId) ?? null;
  }

  /** A box by its numeric id, as of now (a box of the model, or a pole carrying splitters). */
  boxAt(id: number): OzBox | undefined {
    return ozmapBoxes(this.network).get(id);
  }

  /**
   * The OZmap `code` of a client: its integration code, else one that makes the customer's
   * linking scenario true on a platform without documents (src/domain/customer-linking.ts,
   * decideLinkWithoutDocument), else a platform-made one:
   * - linked by document on GeoGrid: its service id (how OZmap integrations keep the ERP id);
   * - document mismatch: an ERP-only contract, of another holder than the one its observation names;
   * - ambiguous: the holder's other active contract (its observation names the first: `observationOf`).
   */
  codeOf(customer: SimCustomer): string {
    if (customer.codigoIntegracao) return customer.codigoIntegracao;
    if (customer.scenario === 'linked_by_document' && customer.serviceId) return customer.serviceId;
    if (customer.scenario === 'document_mismatch' && this.network.erpOnly.length > 0) {
      return this.network.erpOnly[customer.id % this.network.erpOnly.length]!.serviceId;
    }
    if (customer.scenario === 'ambiguous') {
      const other = this.otherContractOf(customer);
      if (other) return other;
    }
    return `CLI-${customer.id}`;
  }

  /** The OZmap `observation` of a client: GeoGrid's, plus the service id of an ambiguous one (see codeOf). */
  observationOf(customer: SimCustomer): string | null {
    if (customer.scenario === 'ambiguous' && !customer.codigoIntegracao && customer.serviceId && this.otherContractOf(customer)) {
      return `${customer.observacao ?? ''}<p>ID ${customer.serviceId}</p>`;
    }
    return customer.observacao;
  }

  private otherContractOf(customer: SimCustomer): string | null {
    if (!customer.cleanDocument) return null;
    if (this.extrasByDocument === null || this.extrasCounted !== this.network.erpExtras.length) {
      this.extrasByDocument = new Map();
      this.extrasCounted = this.network.erpExtras.length;
      for (const contract of this.network.erpExtras) {
        const list = this.extrasByDocument.get(contract.document) ?? [];
        list.push(contract.serviceId);
        this.extrasByDocument.set(contract.document, list);
      }
    }
    return this.extrasByDocument.get(customer.cleanDocument)?.find((serviceId) => serviceId !== customer.serviceId) ?? null;
  }

  clientState(customerId: number): ClientState {
    let state = this.clientStates.get(customerId);
    if (!state) {
      state = { status: 0, implanted: true, certified: false, onu: { user_PPPoE: '', serial_number: '', mac_address: '' } };
      this.clientStates.set(customerId, state);
    }
    return state;
  }

  /** The property of a customer, or null when it has none. */
  propertyOf(customer: SimCustomer): PropertyState | null {
    const stored = this.properties.get(customer.id);
    if (stored) return stored;
    if (this.propertyDeleted.has(customer.id) || customer.portId === null) return null;
    const port = this.network.ports.get(customer.portId);
    if (!port) return null;
    const container = this.network.boxes.get(port.containerId) ?? this.network.poles.get(port.containerId);
    if (!container) return null;
    // The house stands 15 to 40 m from the box, in a direction stable per customer.
    const angle = hashUnit(this.seed, `house-angle:${customer.id}`) * 2 * Math.PI;
    const metres = 15 + hashUnit(this.seed, `house-distance:${customer.id}`) * 25;
    const lat = container.lat + (metres * Math.sin(angle)) / 111_320;
    const lon = container.lon + (metres * Math.cos(angle)) / (111_320 * Math.cos((container.lat * Math.PI) / 180));
    return {
      project: container.folderId,
      coords: [Math.round(lon * 1e7) / 1e7, Math.round(lat * 1e7) / 1e7],
      boxId: container.id,
      address: null,
      observation: null,
    };
  }

  /**
   * A collection's records as of network `version`, rebuilt when it moved. A record whose
   * content changed since its last build gets `updatedAt` = the time of the first change
   * since (always after any `updatedAt` served before); a new record gets it as `createdAt`.
   */
  list(collection: OzCollection, version: number): OzList {
    const cached = this.lists.get(collection);
    if (cached && cached.version === version) return cached;
    const stampAt = Math.max(this.dirtySince.get(collection) ?? Date.now(), this.lastStamp + 1);
    let stampUsed = false;
    const byId = new Map<string, OzRecord>();
    const numericId = new Map<OzRecord, number>();
    const initial = (id: string) => new Date(Date.UTC(2025, 0, 1) + Math.floor(hashUnit(this.seed, `created:${id}`) * 300 * 86_400_000)).toISOString();
    const stamped = (record: { id: string; _id: string } & object, numeric: number): OzRecord => {
      const content = JSON.stringify(record);
      const seen = this.stamps.get(record.id);
      let createdAt: string;
      let updatedAt: string;
      if (!seen) {
        // A record there at the collection's first build is as old as the data; a later one is new.
        createdAt = cached === undefined ? initial(record.id) : new Date(stampAt).toISOString();
        if (cached !== undefined) stampUsed = true;
        updatedAt = createdAt;
      } else if (seen.content !== content) {
        createdAt = seen.createdAt;
        updatedAt = new Date(stampAt).toISOString();
        stampUsed = true;
      } else {
        createdAt = seen.createdAt;
        updatedAt = seen.updatedAt;
      }
      this.stamps.set(record.id, { content, createdAt, updatedAt });
      const full = { ...record, createdAt, updatedAt } as unknown as OzRecord;
      byId.set(full.id, full);
      numericId.set(full, numeric);
      return full;
    };
    const rows = this.build(collection, stamped);
    if (stampUsed) this.lastStamp = Math.max(this.lastStamp, stampAt);
    this.dirtySince.delete(collection);
    const list = { version, rows, byId, numericId };
    this.lists.set(collection, list);
    return list;
  }

  private build(collection: OzCollection, stamped: (record: { id: string; _id: string } & object, numeric: number) => OzRecord): OzRecord[] {
    switch (collection) {
      case 'projects':
        return this.network.folders.map((folder) => stamped(this.project(folder), folder.id));
      case 'poles':
        return [...this.network.poles.values()].map((pole) => stamped(this.pole(pole), pole.id));
      case 'boxes':
        return [...ozmapBoxes(this.network).values()].map((box) => stamped(this.box(box), box.id));
      case 'splitters':
        return [...this.network.splitters.values()].map((splitter) => stamped(this.splitter(splitter), splitter.id));
      case 'splitterTypes': {
        const types = new Map<number, { ratioOut: number; service: boolean }>();
        for (const splitter of this.network.splitters.values()) types.set(splitterTypeKey(splitter), { ratioOut: splitter.ratioOut, service: splitter.service });
        return [...types.entries()].sort(([a], [b]) => a - b).map(([key, type]) => stamped(splitterTypeRecord(key, type.ratioOut, type.service), key));
      }
      case 'clients':
        return [...this.network.customers.values()].map((customer) => stamped(this.client(customer), customer.id));
      case 'properties': {
        this.boxes = ozmapBoxes(this.network);
        const rows: OzRecord[] = [];
        for (const customer of this.network.customers.values()) {
          const property = this.propertyOf(customer);
          if (property) rows.push(stamped(this.property(customer, property), customer.id));
        }
        return rows;
      }
    }
  }

  private project(folder: SimFolder) {
    const area = this.areaOf(folder.id)!;
    const ring = area.coordinates[0]!;
    const lng = ring.slice(0, -1).reduce((sum, p) => sum + p[0], 0) / (ring.length - 1);
    const lat = ring.slice(0, -1).reduce((sum, p) => sum + p[1], 0) / (ring.length - 1);
    const parent = folder.nomePai === null ? undefined : this.network.folders.find((f) => f.nome === folder.nomePai);
    const id = objectIdOf('project', folder.id);
    return {
      _id: id,
      id,
      name: folder.nome,
      identifier: `PRJ-${folder.id}`,
      parents: parent ? [{ project: objectIdOf('project', parent.id) }] : [],
      lat: round7(lat),
      lng: round7(lng),
      defaultPonPotency: -20,
      hasLogo: false,
      area,
      hierarchyLevels: HIERARCHY_LEVELS,
    };
  }

  private pole(pole: SimPole) {
    const id = objectIdOf('pole', pole.id);
    return {
      _id: id,
      id,
      kind: 'Pole',
      name: pole.sigla,
      poleType: objectIdOf('poleType', 1),
      coords: [pole.lon, pole.lat],
      lat: pole.lat,
      lng: pole.lon,
      observation: pole.observacao ?? '',
      usable: true,
      implanted: !pole.planned,
      adjacents: [],
      tags: [],
      licensing: { status: 0, protocol: null },
    };
  }

  private box(box: OzBox) {
    const id = objectIdOf('box', box.id);
    return {
      _id: id,
      id,
      kind: 'Box',
      project: this.projectOfFolder(box.folderId),
      ...(box.poleId !== null ? { pole: objectIdOf('pole', box.poleId) } : {}),
      boxType: objectIdOf('boxType', box.boxType),
      hierarchyLevel: box.level,
      name: box.name,
      coords: [box.lon, box.lat],
      ...(box.observation !== null ? { observation: box.observation } : {}),
      implanted: !box.planned,
      // Of the planned boxes, about half are still drafts (never published), the rest drawn but not built.
      draft: box.planned && hashUnit(this.seed, `draft:${box.id}`) < 0.5,
      shared: false,
      certified: false,
      underground: false,
      default_reserve: 0,
      tags: [],
      cables: [],
    };
  }

  private splitter(splitter: SimSplitter) {
    const id = objectIdOf('splitter', splitter.id);
    const container = this.network.boxes.get(splitter.containerId) ?? this.network.poles.get(splitter.containerId);
    const output: Array<string | null> = Array.from({ length: Math.max(splitter.ratioOut, ...splitter.ports.map((p) => p.number)) }, () => null);
    for (const port of splitter.ports) {
      if (port.customerId !== null && port.number >= 1) output[port.number - 1] = objectIdOf('fiber', port.id);
    }
    return {
      _id: id,
      id,
      kind: 'Splitter',
      name: splitter.sigla,
      label: '',
      parent: objectIdOf('box', splitter.containerId),
      project: container ? this.projectOfFolder(container.folderId) : null,
      splitterType: objectIdOf('splitterType', splitterTypeKey(splitter)),
      isDrop: splitter.service,
      implanted: !splitter.planned,
      ratio: { input: splitter.ratioIn, output: splitter.ratioOut },
      attenuation: [],
      ports: [...splitter.ports]
        .sort((a, b) => a.number - b.number)
        .map((port) => ({ index: port.number, blocked: port.reserved, tags: [], ...(port.label !== null ? { observation: port.label } : {}) })),
      connectables: { input: [objectIdOf('fiber', 10_000_000 + splitter.id)], output },
    };
  }

  client(customer: SimCustomer) {
    const id = objectIdOf('client', customer.id);
    const state = this.clientState(customer.id);
    return {
      _id: id,
      id,
      kind: 'FTTHClient',
      code: this.codeOf(customer),
      name: customer.nome,
      ...(this.observationOf(customer) !== null ? { observation: this.observationOf(customer) } : {}),
      status: state.status,
      implanted: state.implanted,
      certified: state.certified,
      onu: { ...state.onu },
      tags: [],
    };
  }

  private property(customer: SimCustomer, state: PropertyState) {
    const id = objectIdOf('property', customer.id);
    const port = customer.portId !== null ? this.network.ports.get(customer.portId) : undefined;
    const splitter = port ? this.network.splitters.get(port.splitterId) : undefined;
    const box = state.boxId !== null ? this.boxes.get(state.boxId) : undefined;
    return {
      _id: id,
      id,
      kind: 'Property',
      project: this.projectOfFolder(state.project),
      coords: state.coords,
      ...(box ? { box: objectIdOf('box', box.id) } : {}),
      ...(box?.poleId != null ? { pole: objectIdOf('pole', box.poleId) } : {}),
      client: objectIdOf('client', customer.id),
      address: state.address,
      observation: state.observation,
      tags: [],
      connections:
        port && splitter
          ? [{ id: objectIdOf('splitter', splitter.id), name: splitter.sigla, kind: 'Splitter', port: port.number, implanted: true, fiber: objectIdOf('fiber', port.id) }]
          : [],
    };
  }
}

/** One splitter type per ratio and role: `2 * ratioOut + (drop ? 1 : 0)`. */
export function splitterTypeKey(splitter: { ratioOut: number; service: boolean }): number {
  return splitter.ratioOut * 2 + (splitter.service ? 1 : 0);
}

function splitterTypeRecord(key: number, ratioOut: number, isDrop: boolean) {
  const id = objectIdOf('splitterType', key);
  return {
    _id: id,
    id,
    code: `1x${ratioOut}${isDrop ? ' ATENDIMENTO' : ''}`,
    description: isDrop ? `Splitter 1x${ratioOut} de atendimento` : `Splitter 1x${ratioOut} de distribuição`,
    isDrop,
    ratio: { input: 1, output: ratioOut },
    isBalanced: true,
    prefix: 'Splitter ',
    size: 0,
    inputConnectionType: 0,
    outputConnectionType: 1,
    attenuation: [],
  };
}

function round7(value: number): number {
  return Math.round(value * 1e7) / 1e7;
}

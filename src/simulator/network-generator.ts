import { SeededRandom, hashUnit } from './seeded-random.ts';
import { randomDocument, randomCpf, type SimulatedDocument } from './simulated-documents.ts';

/**
 * A deterministic fibre network around Campinas-SP, built from `seed` and `size`.
 *
 * `size` is the approximate total of poles + boxes + splitters + ports + customers
 * (the platform elements a sync reads). Generation stops at the first pole after
 * which that total reaches `size`; then ~3% customers without a port are added, so the
 * total is `size` plus about 3% of the customers.
 *
 * Layout: a street grid of ~110 m blocks; poles along the top and left edge of every
 * block, ~37 m apart. About a quarter of poles carry a CTO (`terminal`) with a service
 * splitter (1x8 or 1x16, `atendimento: "S"`); some poles carry a splice box (`caixa`)
 * with distribution splitters (1x2, 1x4, `"N"`); a few poles carry a splitter directly,
 * without a box. About half of the service ports have a customer; a few ports are reserved.
 * A few poles, boxes and splitters are planned (GeoGrid `modoProjeto: "S"`, still being
 * designed): nothing on them serves a customer (see `markPlanned`).
 */

export const CITY_CENTRE = { lat: -22.9056, lon: -47.0608, name: 'Campinas', state: 'SP' } as const;
const BLOCK_METRES = 110;
const POLES_PER_EDGE = 3;
const METRES_PER_DEGREE = 111_320;

export type CustomerScenario =
  | 'linked'
  | 'linked_by_document'
  | 'document_mismatch'
  | 'ambiguous'
  | 'unmatched';

export interface SimFolder {
  id: number;
  nome: string;
  nomePai: string | null;
}

export interface SimItemBase {
  id: number;
  folderId: number;
  sigla: string;
  lat: number;
  lon: number;
  observacao: string | null;
  status: string;
  /** Still being designed (`modoProjeto: "S"`). */
  planned?: boolean;
}

export type SimPole = SimItemBase;

export interface SimBox extends SimItemBase {
  item: 'terminal' | 'caixa';
  poleId: number | null;
}

export interface SimPort {
  id: number;
  splitterId: number;
  containerId: number;
  number: number;
  label: string | null;
  reserved: boolean;
  customerId: number | null;
  /** Still being designed (`modoProjeto: "S"`). */
  planned?: boolean;
}

export interface SimSplitter {
  id: number;
  containerId: number;
  containerKind: 'box' | 'pole';
  sigla: string;
  ratioIn: number;
  ratioOut: number;
  service: boolean;
  ports: SimPort[];
  /** Still being designed (`modoProjeto: "S"`). */
  planned?: boolean;
}

export interface SimCustomer {
  id: number;
  nome: string;
  cpfCnpj: string | null;
  tipo: 'F' | 'J';
  observacao: string | null;
  codigoIntegracao: string | null;
  /** Extra fields written through the API (email, estado, …). */
  extra: Record<string, unknown>;
  portId: number | null;
  /** What the linking rules should conclude against `erpContractsFor` (generated customers only). */
  scenario: CustomerScenario | null;
  serviceId: string | null;
  cleanDocument: string | null;
}

export interface SimNetwork {
  seed: number;
  size: number;
  folders: SimFolder[];
  poles: Map<number, SimPole>;
  boxes: Map<number, SimBox>;
  splitters: Map<number, SimSplitter>;
  ports: Map<number, SimPort>;
  customers: Map<number, SimCustomer>;
  splittersByContainer: Map<number, SimSplitter[]>;
  /** ERP-side contracts that have no platform customer (ERP-only), for `erpContractsFor`. */
  erpOnly: ErpContract[];
  /** Contracts that make a scenario true (other contract of an ambiguous customer, mismatching document). */
  erpExtras: ErpContract[];
  nextIds: { item: number; equipment: number; port: number; customer: number; folder: number };
}

export interface ErpContract {
  /** Normal form: digits for CPF/numeric CNPJ, upper-case alphanumeric CNPJ. */
  document: string;
  name: string;
  serviceId: string;
  status: 'active' | 'suspended' | 'cancelled';
}

export interface NetworkCounts {
  poles: number;
  boxes: number;
  splitters: number;
  ports: number;
  customers: number;
  total: number;
}

const FIRST_NAMES = ['Ana', 'João', 'Maria', 'José', 'Paulo', 'Carla', 'Lucas', 'Fernanda', 'Rafael', 'Juliana', 'Marcos', 'Patrícia', 'Bruno', 'Aline', 'Gustavo', 'Camila'];
const LAST_NAMES = ['Silva', 'Santos', 'Oliveira', 'Souza', 'Rodrigues', 'Ferreira', 'Alves', 'Pereira', 'Lima', 'Gomes', 'Costa', 'Ribeiro', 'Martins', 'Carvalho'];
const COMPANY_WORDS = ['Padaria', 'Mercado', 'Oficina', 'Clínica', 'Escritório', 'Farmácia', 'Pet Shop', 'Academia'];
const PLANS = ['100M', '300M', '500M', '1G'];

export function folderName(index: number): string {
  return ['Centro', 'Cambuí', 'Taquaral', 'Barão Geraldo'][index] ?? `Setor ${index + 1}`;
}

export interface GridLayout {
  /** Side of a block, in metres. */
  blockMetres: number;
  /** Blocks per row; rows go on until the network reaches its size. */
  streets: number;
  /** EPSG:4326 position of a point `x` metres east and `y` metres north of the grid's corner. */
  position(x: number, y: number): { lat: number; lon: number };
  /** The inverse of `position`: metres east (`x`) and north (`y`) of the grid's corner. */
  metres(point: { lat: number; lon: number }): { x: number; y: number };
}

/**
 * The street grid a network of `size` elements is laid on (see `generateNetwork`): poles of
 * block row `r` and column `c` lie within `[c*B, c*B + 80)` east and `[r*B, r*B + 80)` north
 * of the corner, B = `blockMetres`, so areas drawn between blocks never cut through a pole.
 */
export function gridLayout(size: number): GridLayout {
  const polesEstimate = Math.max(1, Math.ceil(Math.max(1, Math.floor(size)) / 6));
  const streets = Math.max(1, Math.ceil(Math.sqrt(polesEstimate / (2 * POLES_PER_EDGE))));
  const cosLat = Math.cos((CITY_CENTRE.lat * Math.PI) / 180);
  const half = (streets * BLOCK_METRES) / 2;
  return {
    blockMetres: BLOCK_METRES,
    streets,
    position: (x, y) => ({
      lat: round7(CITY_CENTRE.lat + (y - half) / METRES_PER_DEGREE),
      lon: round7(CITY_CENTRE.lon + (x - half) / (METRES_PER_DEGREE * cosLat)),
    }),
    metres: (point) => ({
      x: (point.lon - CITY_CENTRE.lon) * METRES_PER_DEGREE * cosLat + half,
      y: (point.lat - CITY_CENTRE.lat) * METRES_PER_DEGREE + half,
    }),
  };
}

export function generateNetwork(options: { seed: number; size: number }): SimNetwork {
  const random = new SeededRandom(options.seed);
  const size = Math.max(1, Math.floor(options.size));
  const network: SimNetwork = {
    seed: options.seed,
    size,
    folders: [],
    poles: new Map(),
    boxes: new Map(),
    splitters: new Map(),
    ports: new Map(),
    customers: new Map(),
    splittersByContainer: new Map(),
    erpOnly: [],
    erpExtras: [],
    nextIds: { item: 100_001, equipment: 500_001, port: 900_001, customer: 70_001, folder: 101 },
  };
  network.folders.push({ id: network.nextIds.folder++, nome: CITY_CENTRE.name, nomePai: null });
  for (let i = 0; i < 4; i += 1) {
    network.folders.push({ id: network.nextIds.folder++, nome: folderName(i), nomePai: CITY_CENTRE.name });
  }
  network.folders.push({ id: network.nextIds.folder++, nome: 'Rede Norte (projeto)', nomePai: CITY_CENTRE.name });

  const layout = gridLayout(size);
  const { streets } = layout;
  let elements = 0;
  let serviceIdCounter = 10_000;
  const documents = new DocumentPool(random);

  const place = layout.position;

  /** A terminal box (CTO) or splice box (CEO) hanging on a pole, at the pole's position. */
  const boxOnPole = (pole: SimPole, folderId: number, item: SimBox['item']): SimBox => {
    const box: SimBox = {
      id: network.nextIds.item++,
      folderId,
      sigla: `${item === 'terminal' ? 'CTO' : 'CEO'}-${network.boxes.size + 1}`,
      lat: pole.lat,
      lon: pole.lon,
      observacao: null,
      status: 'Implantado',
      planned: false,
      item,
      poleId: pole.id,
    };
    network.boxes.set(box.id, box);
    elements += 1;
    return box;
  };

  const addSplitter = (containerId: number, containerKind: 'box' | 'pole', ratioOut: number, service: boolean) => {
    const splitter: SimSplitter = {
      id: network.nextIds.equipment++,
      containerId,
      containerKind,
      sigla: `SPL-${service ? 'AT' : 'DS'}-1x${ratioOut}`,
      ratioIn: 1,
      ratioOut,
      service,
      ports: [],
      planned: false,
    };
    elements += 1;
    for (let n = 1; n <= ratioOut; n += 1) {
      const port: SimPort = {
        id: network.nextIds.port++,
        splitterId: splitter.id,
        containerId,
        number: n,
        label: random.chance(0.3) ? `P${n}` : null,
        reserved: false,
        customerId: null,
        planned: false,
      };
      elements += 1;
      splitter.ports.push(port);
      network.ports.set(port.id, port);
      if (!service) continue;
      if (random.chance(0.015)) {
        port.reserved = true;
        continue;
      }
      if (random.chance(0.5)) {
        const customer = makeCustomer(network, random, documents, () => String(serviceIdCounter++), port.id);
        port.customerId = customer.id;
        elements += 1;
      }
    }
    network.splitters.set(splitter.id, splitter);
    const list = network.splittersByContainer.get(containerId);
    if (list) list.push(splitter);
    else network.splittersByContainer.set(containerId, [splitter]);
  };

  outer: for (let row = 0; row < streets * 4; row += 1) {
    for (let col = 0; col < streets; col += 1) {
      const folderId = network.folders[1 + ((row % streets) * 2 >= streets ? 2 : 0) + (col * 2 >= streets ? 1 : 0)]!.id;
      for (let edge = 0; edge < 2; edge += 1) {
        for (let k = 0; k < POLES_PER_EDGE; k += 1) {
          const along = (k * BLOCK_METRES) / POLES_PER_EDGE + random.next() * 3;
          const x = col * BLOCK_METRES + (edge === 0 ? along : random.next() * 2);
          const y = row * BLOCK_METRES + (edge === 0 ? random.next() * 2 : along);
          const pole: SimPole = {
            id: network.nextIds.item++,
            folderId,
            sigla: `PT-${row}-${col}-${edge}${k}`,
            ...place(x, y),
            observacao: random.chance(0.1) ? '<p>Poste de concreto</p>' : null,
            status: 'Implantado',
            planned: false,
          };
          network.poles.set(pole.id, pole);
          elements += 1;

          const roll = random.next();
          if (roll < 0.25) {
            const box = boxOnPole(pole, folderId, 'terminal');
            addSplitter(box.id, 'box', random.chance(0.7) ? 8 : 16, true);
            if (random.chance(0.05)) addSplitter(box.id, 'box', 8, true);
          } else if (roll < 0.3) {
            const box = boxOnPole(pole, folderId, 'caixa');
            const count = random.chance(0.5) ? 1 : 2;
            for (let s = 0; s < count; s += 1) addSplitter(box.id, 'box', random.chance(0.5) ? 2 : 4, false);
          } else if (roll < 0.34) {
            const service = random.chance(0.7);
            addSplitter(pole.id, 'pole', service ? 8 : 4, service);
          }
          if (elements >= size) break outer;
        }
      }
    }
  }

  markPlanned(network);
  // Customers not bound to any port (e.g. waiting for installation), and ERP-only contracts.
  const unbound = Math.floor(network.customers.size * 0.03);
  for (let i = 0; i < unbound; i += 1) makeCustomer(network, random, documents, () => String(serviceIdCounter++), null);
  const erpOnly = Math.max(1, Math.floor(network.customers.size * 0.02));
  for (let i = 0; i < erpOnly; i += 1) {
    network.erpOnly.push({ document: documents.cpf(), name: personName(random), serviceId: String(serviceIdCounter++), status: 'active' });
  }
  return network;
}

/** Shares of planned items, picked by a hash of the id so the rest of the network is unchanged. */
export const PLANNED_SHARE = { pole: 0.02, box: 0.04, splitter: 0.03 } as const;

/**
 * Marks a few poles, boxes and splitters as planned, and takes the customers off their ports
 * (a customer cannot be served from equipment that is not built): those customers stay on the
 * platform without a port. Equipment in a planned container counts as planned through it.
 */
function markPlanned(network: SimNetwork): void {
  const seed = network.seed;
  for (const pole of network.poles.values()) if (hashUnit(seed, `planned-pole:${pole.id}`) < PLANNED_SHARE.pole) pole.planned = true;
  for (const box of network.boxes.values()) {
    const pole = box.poleId !== null ? network.poles.get(box.poleId) : undefined;
    if (pole?.planned || hashUnit(seed, `planned-box:${box.id}`) < PLANNED_SHARE.box) box.planned = true;
  }
  for (const splitter of network.splitters.values()) {
    const container = network.poles.get(splitter.containerId) ?? network.boxes.get(splitter.containerId);
    const planned = hashUnit(seed, `planned-splitter:${splitter.id}`) < PLANNED_SHARE.splitter;
    if (planned) splitter.planned = true;
    if (!planned && !container?.planned) continue;
    for (const port of splitter.ports) {
      if (port.customerId === null) continue;
      const customer = network.customers.get(port.customerId);
      if (customer && customer.portId === port.id) customer.portId = null;
      port.customerId = null;
    }
  }
}

/**
 * Hands out valid documents no one else in the network holds, so a scenario cannot be
 * undone by chance: a random CPF equal to another customer's would turn `linked_by_document`
 * into `ambiguous`, or give an `unmatched` customer someone's contract.
 */
class DocumentPool {
  private readonly used = new Set<string>();

  constructor(private readonly random: SeededRandom) {}

  document(allowInvalid: boolean): SimulatedDocument {
    let document = randomDocument(this.random, allowInvalid);
    while (document.clean !== null && this.used.has(document.clean)) document = randomDocument(this.random, allowInvalid);
    if (document.clean !== null) this.used.add(document.clean);
    return document;
  }

  cpf(): string {
    let cpf = randomCpf(this.random);
    while (this.used.has(cpf)) cpf = randomCpf(this.random);
    this.used.add(cpf);
    return cpf;
  }
}

function makeCustomer(network: SimNetwork, random: SeededRandom, documents: DocumentPool, nextServiceId: () => string, portId: number | null): SimCustomer {
  const roll = random.next();
  const scenario: CustomerScenario =
    roll < 0.6 ? 'linked' : roll < 0.75 ? 'linked_by_document' : roll < 0.8 ? 'document_mismatch' : roll < 0.85 ? 'ambiguous' : 'unmatched';
  let document: SimulatedDocument = documents.document(scenario === 'unmatched');
  if (scenario !== 'unmatched' && document.clean === null) document = documents.document(false);
  const nome = document.personType === 'J' ? `${random.pick(COMPANY_WORDS)} ${random.pick(LAST_NAMES)} Ltda` : personName(random);
  const serviceId = nextServiceId();
  const customer: SimCustomer = {
    id: network.nextIds.customer++,
    nome,
    cpfCnpj: document.raw,
    tipo: document.personType,
    observacao: null,
    codigoIntegracao: null,
    extra: {},
    portId,
    scenario,
    serviceId,
    cleanDocument: document.clean,
  };
  switch (scenario) {
    case 'linked':
      customer.observacao = observationWithId(random, serviceId);
      break;
    case 'document_mismatch': {
      customer.observacao = observationWithId(random, serviceId);
      // The contract the observation names belongs to someone else's document.
      network.erpExtras.push({ document: documents.cpf(), name: personName(random), serviceId, status: 'active' });
      customer.serviceId = serviceId;
      break;
    }
    case 'ambiguous':
      customer.observacao = observationWithoutId(random);
      network.erpExtras.push({ document: document.clean!, name: nome, serviceId: nextServiceId(), status: 'active' });
      break;
    case 'linked_by_document':
    case 'unmatched':
      customer.observacao = observationWithoutId(random);
      break;
  }
  network.customers.set(customer.id, customer);
  return customer;
}

function observationWithId(random: SeededRandom, serviceId: string): string {
  const plan = random.pick(PLANS);
  switch (random.int(0, 4)) {
    case 0:
      return `ID: ${serviceId} - plano ${plan}`;
    case 1:
      return `<p>id_cliente_servico: ${serviceId}</p>`;
    case 2:
      return `id_cliente_servico=${serviceId}`;
    case 3:
      return `<p>Cliente plano ${plan}</p><p>ID:${serviceId}</p>`;
    default:
      return `  ID ${serviceId}  `;
  }
}

function observationWithoutId(random: SeededRandom): string | null {
  return random.pick([null, '', '<p></p>', 'Cliente antigo, ver com suporte', '<p>Instalado pela equipe B</p>']);
}

function personName(random: SeededRandom): string {
  return `${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)} ${random.pick(LAST_NAMES)}`;
}

function round7(value: number): number {
  return Math.round(value * 1e7) / 1e7;
}

/** Adds a customer written through a platform's API (no port, no scenario) and returns it. */
export function addApiCustomer(network: SimNetwork): SimCustomer {
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
  return customer;
}

export function countNetwork(network: SimNetwork): NetworkCounts {
  const counts = {
    poles: network.poles.size,
    boxes: network.boxes.size,
    splitters: network.splitters.size,
    ports: network.ports.size,
    customers: network.customers.size,
  };
  return { ...counts, total: counts.poles + counts.boxes + counts.splitters + counts.ports + counts.customers };
}

/**
 * The ERP side of a generated network: one contract per generated customer (with its
 * clean document and the service id its observation names), the extra contracts that
 * make `ambiguous` and `document_mismatch` true, and ERP-only contracts. `unmatched`
 * customers have no contract.
 */
export function erpContractsFor(network: SimNetwork): ErpContract[] {
  const contracts: ErpContract[] = [];
  for (const customer of network.customers.values()) {
    if (!customer.scenario || customer.scenario === 'unmatched' || customer.scenario === 'document_mismatch') continue;
    if (!customer.cleanDocument || !customer.serviceId) continue;
    contracts.push({ document: customer.cleanDocument, name: customer.nome, serviceId: customer.serviceId, status: 'active' });
  }
  contracts.push(...network.erpExtras, ...network.erpOnly);
  return contracts;
}

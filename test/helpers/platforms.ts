/**
 * The mapping platforms the end-to-end tests run against, each through its own simulator wire
 * over HTTPS and its real adapter. A test written once loops over `PLATFORMS`; what differs
 * between platforms (ids on the wire, the shape of recorded writes, what linking can conclude
 * without a document) is answered here.
 */
import type { LinkStatus } from '../../src/domain/customer-linking.ts';
import type { SimCustomer, SimNetwork, SimPort, SimSplitter } from '../../src/simulator/network-generator.ts';
import type { RunningSimulator, SimulatorOptions } from '../../src/simulator/simulator.server.ts';
import { numericIdOf, objectIdOf, ozmapPortId } from '../../src/simulator/ozmap/ozmap-ids.ts';

export type PlatformName = 'geogrid' | 'ozmap';

/** A customer record the pusher wrote (created or updated), as plain fields. */
export interface WrittenCustomer {
  /** The integration code written (GeoGrid `codigoIntegracao`, OZmap `code`). */
  code: string | null;
  /** Every field of the record the platform received. */
  fields: Record<string, unknown>;
}

export interface PlatformUnderTest {
  name: PlatformName;
  /** The integration's `platform` in config for this simulator. */
  configPlatform: 'simulator' | 'ozmap';
  /** Extra options of `startSimulator`. */
  simulator: Pick<SimulatorOptions, 'platform'>;
  /** The id mapsync stores for a simulated element. */
  poleId(id: number): string;
  boxId(id: number): string;
  splitterId(id: number): string;
  portId(port: SimPort): string;
  customerId(id: number): string;
  /**
   * Where a pole's own equipment is stored: GeoGrid hangs it on the pole, and mapsync makes an
   * auto box (`auto:pole:<pole id>`); OZmap serves it in a box on the pole, an ordinary box.
   */
  autoBoxes: boolean;
  /** The external id of the box holding a pole's equipment. */
  poleEquipmentBox(poleId: number): string;
  /** The container a pole's splitters name. */
  poleEquipmentContainer(poleId: number): string;
  /** The simulated pole whose equipment a box holds, or null when the box is no such box. */
  poleOfEquipmentBox(externalId: string, network: SimNetwork): number | null;
  /** The listed record whose malformation makes a splitter unreadable (`kind:id`, as `malformedRecords` names it). */
  containerRecordOf(splitter: SimSplitter): string;
  /** Customer records the pusher created with this integration code. */
  customersCreated(sim: RunningSimulator, code: string): WrittenCustomer[];
  /** Every customer record the pusher wrote, created or updated. */
  customersWritten(sim: RunningSimulator): WrittenCustomer[];
  /** The fields of a customer record the pusher creates, with these `push.fields` extras. */
  whitelistFields(extras: string[]): string[];
  /** Whether `push.fields` extras (email, phone, …) have a field to go to on this platform. */
  writesExtras: boolean;
  /** Successful ties of a customer to this port. */
  bindsTo(sim: RunningSimulator, port: SimPort): number;
  /** The link the rules must reach for a generated customer, from its scenario and this platform's data. */
  expectedLink(customer: SimCustomer, network: SimNetwork): LinkStatus | null;
  /** The link outcomes the generated network shows on this platform. */
  linkOutcomes: LinkStatus[];
}

const geogrid: PlatformUnderTest = {
  name: 'geogrid',
  configPlatform: 'simulator',
  simulator: {},
  poleId: String,
  boxId: String,
  splitterId: String,
  portId: (port) => String(port.id),
  customerId: String,
  autoBoxes: true,
  poleEquipmentBox: (poleId) => `auto:pole:${poleId}`,
  poleEquipmentContainer: String,
  poleOfEquipmentBox: (externalId) => (externalId.startsWith('auto:pole:') ? Number(externalId.slice('auto:pole:'.length)) : null),
  containerRecordOf: (splitter) => `${splitter.containerKind}:${splitter.containerId}`,
  customersCreated: (sim, code) => geogridCustomers(sim.writes.customersCreated).filter((c) => c.code === code),
  customersWritten: (sim) => [...geogridCustomers(sim.writes.customersCreated), ...geogridCustomers(sim.writes.customersUpdated)],
  whitelistFields: (extras) => ['codigoIntegracao', 'cpfCnpj', 'nome', 'observacao', 'tipo', ...extras].sort(),
  writesExtras: true,
  bindsTo: (sim, port) => sim.writes.binds.filter((w) => w.status < 300 && String((w.body as { idPorta: unknown }).idPorta) === String(port.id)).length,
  expectedLink: (customer) => customer.scenario,
  linkOutcomes: ['linked', 'linked_by_document', 'document_mismatch', 'ambiguous', 'unmatched'],
};

function geogridCustomers(writes: Array<{ body: unknown }>): WrittenCustomer[] {
  return writes.map((w) => {
    const fields = ((w.body as { dados?: Record<string, unknown> }).dados ?? {}) as Record<string, unknown>;
    return { code: typeof fields.codigoIntegracao === 'string' ? fields.codigoIntegracao : null, fields };
  });
}

type Write = { body: unknown; status: number };
const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The clients written through OZmap: nested in a property created, or patched on their own. */
function ozmapClients(sim: RunningSimulator, created: boolean, updated: boolean): WrittenCustomer[] {
  const out: WrittenCustomer[] = [];
  const add = (fields: Record<string, unknown>) => out.push({ code: typeof fields.code === 'string' ? fields.code : null, fields });
  if (created) for (const w of sim.writes.propertiesCreated as Write[]) if (w.status < 300 && isRecord(w.body) && isRecord(w.body.client)) add(w.body.client);
  if (updated) for (const w of sim.writes.ftthClientsUpdated as Write[]) if (w.status < 300 && isRecord(w.body)) add(w.body);
  return out;
}

const ozmap: PlatformUnderTest = {
  name: 'ozmap',
  configPlatform: 'ozmap',
  simulator: { platform: 'ozmap' },
  poleId: (id) => objectIdOf('pole', id),
  boxId: (id) => objectIdOf('box', id),
  splitterId: (id) => objectIdOf('splitter', id),
  portId: (port) => ozmapPortId(port.splitterId, port.number),
  customerId: (id) => objectIdOf('client', id),
  autoBoxes: false,
  poleEquipmentBox: (poleId) => objectIdOf('box', poleId),
  poleEquipmentContainer: (poleId) => objectIdOf('box', poleId),
  // The simulator gives a pole's box the pole's number.
  poleOfEquipmentBox: (externalId, network) => {
    const id = numericIdOf('box', externalId);
    return id !== null && network.poles.has(id) ? id : null;
  },
  // Every splitter is in a box; a pole's box is listed apart from the pole.
  containerRecordOf: (splitter) => `box:${splitter.containerId}`,
  customersCreated: (sim, code) => ozmapClients(sim, true, false).filter((c) => c.code === code),
  customersWritten: (sim) => ozmapClients(sim, true, true),
  // An FTTH client has name, code and observation (and flags), and no document or contact field.
  whitelistFields: () => ['code', 'implanted', 'name', 'observation'],
  writesExtras: false,
  bindsTo: (sim, port) =>
    [...(sim.writes.propertiesCreated as Write[]), ...(sim.writes.propertiesUpdated as Write[])].filter(
      (w) => w.status < 300 && isRecord(w.body) && w.body.connector === objectIdOf('splitter', port.splitterId) && Number(w.body.port) === port.number,
    ).length,
  // Without documents the simulator's OZmap data names the contract in `code` where GeoGrid's
  // document decides (ozmap-records.ts, codeOf): linked by document there is linked here.
  expectedLink: (customer) => (customer.scenario === 'linked_by_document' ? 'linked' : customer.scenario),
  linkOutcomes: ['linked', 'document_mismatch', 'ambiguous', 'unmatched'],
};

/** Every platform the end-to-end tests cover. */
export const PLATFORMS: PlatformUnderTest[] = [geogrid, ozmap];

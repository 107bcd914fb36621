/**
 * The mapping platforms the end-to-end tests run against, each through its own simulator wire
 * over HTTPS and its real adapter. A test written once loops over `PLATFORMS`; what differs
 * between platforms (ids on the wire, the shape of recorded writes, what linking can conclude
 * without a document) is answered here.
 */
import type { LinkStatus } from '../../src/domain/customer-linking.ts';
import type { SimCustomer, SimNetwork, SimPort } from '../../src/simulator/network-generator.ts';
import type { RunningSimulator, SimulatorOptions } from '../../src/simulator/simulator.server.ts';

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
  /** The simulated pole behind an auto box's external id (`auto:pole:<pole id>`). */
  poleOfAutoBox(externalId: string): number;
  /** Customer records the pusher created with this integration code. */
  customersCreated(sim: RunningSimulator, code: string): WrittenCustomer[];
  /** Every customer record the pusher wrote, created or updated. */
  customersWritten(sim: RunningSimulator): WrittenCustomer[];
  /** The fields of a customer record the pusher creates, with these `push.fields` extras. */
  whitelistFields(extras: string[]): string[];
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
  poleOfAutoBox: (externalId) => Number(externalId.replace('auto:pole:', '')),
  customersCreated: (sim, code) => geogridCustomers(sim.writes.customersCreated).filter((c) => c.code === code),
  customersWritten: (sim) => [...geogridCustomers(sim.writes.customersCreated), ...geogridCustomers(sim.writes.customersUpdated)],
  whitelistFields: (extras) => ['codigoIntegracao', 'cpfCnpj', 'nome', 'observacao', 'tipo', ...extras].sort(),
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

/** Every platform the end-to-end tests cover. */
export const PLATFORMS: PlatformUnderTest[] = [geogrid];

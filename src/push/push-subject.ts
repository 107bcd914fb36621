import type { Knex } from 'knex';
import type { PersonType } from '../domain/documents.ts';

/** Everything a push needs about one binding, read fresh at each attempt so fixed ERP data is what goes out. */
export interface PushSubject {
  bindingId: number;
  integrationId: string;
  bindingStatus: 'pending' | 'confirmed' | 'cancelled';
  syncState: string;
  platformCustomerExternalId: string | null;
  serviceId: string;
  contractStatus: string;
  address: string | null;
  city: string | null;
  state: string | null;
  zipCode: string | null;
  document: string;
  name: string;
  personType: PersonType;
  email: string | null;
  phone: string | null;
  portId: number;
  portExternalId: string;
  portRemoved: boolean;
  splitterRole: string;
  splitterRemoved: boolean;
  containerExternalId: string;
  /** Where the customer is: the contract's location, else the box holding the splitter. */
  lat: number | null;
  lon: number | null;
}

export async function loadPushSubject(knex: Knex | Knex.Transaction, bindingId: number): Promise<PushSubject | null> {
  const row = await knex('bindings as b')
    .join('service_contracts as sc', 'sc.id', 'b.service_contract_id')
    .join('erp_customers as c', 'c.id', 'sc.erp_customer_id')
    .join('ports as p', 'p.id', 'b.port_id')
    .join('splitters as s', 's.id', 'p.splitter_id')
    .leftJoin('boxes as bx', 'bx.id', 's.box_id')
    .where('b.id', bindingId)
    .first(
      'b.id as bindingId',
      'b.integration_id as integrationId',
      'b.status as bindingStatus',
      'b.sync_state as syncState',
      'b.platform_customer_external_id as platformCustomerExternalId',
      'sc.service_id as serviceId',
      'sc.status as contractStatus',
      'sc.address',
      'sc.city',
      'sc.state',
      'sc.zip_code as zipCode',
      'c.document',
      'c.name',
      'c.person_type as personType',
      'c.email',
      'c.phone',
      'p.id as portId',
      'p.external_id as portExternalId',
      knex.raw('p.removed_at IS NOT NULL AS "portRemoved"'),
      's.role as splitterRole',
      knex.raw('s.removed_at IS NOT NULL AS "splitterRemoved"'),
      's.container_external_id as containerExternalId',
      knex.raw('COALESCE(ST_Y(sc.geom), ST_Y(bx.geom)) AS lat'),
      knex.raw('COALESCE(ST_X(sc.geom), ST_X(bx.geom)) AS lon'),
    );
  return (row as PushSubject | undefined) ?? null;
}

/**
 * The codes portProblem() parks a push with (as the prefix of its last_error): a push parked
 * with one of them is put back in line by the sync that sees its port fit again.
 */
export const PORT_PROBLEM_CODES: readonly string[] = ['port_removed', 'not_a_service_port'];

/** Why a port can no longer take a push, or null when it can. */
export function portProblem(subject: Pick<PushSubject, 'portRemoved' | 'splitterRemoved' | 'splitterRole'>): { code: string; message: string } | null {
  if (subject.portRemoved || subject.splitterRemoved) {
    return { code: 'port_removed', message: 'the port (or its splitter) no longer exists on the platform' };
  }
  if (subject.splitterRole !== 'service') {
    return { code: 'not_a_service_port', message: 'the port belongs to a distribution splitter, not a service splitter' };
  }
  return null;
}

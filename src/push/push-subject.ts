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
  /** Still being designed on the platform (modoProjeto): the port, its splitter, its box or the box's pole. */
  portPlanned: boolean;
  splitterPlanned: boolean;
  boxPlanned: boolean;
  containerExternalId: string;
  /**
   * The `local` of the bind: the position of the box holding the splitter (for equipment on
   * a pole, its auto box, at the pole), EPSG:4326. Never the customer's house: GeoGrid binds
   * straight to the port only when `local` is at the equipment (within about 2 m;
   * platforms/geogrid-v3.md, second survey). Null when the splitter has no box.
   */
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
    .leftJoin('poles as pl', 'pl.id', 'bx.pole_id')
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
      knex.raw('p.planned AS "portPlanned"'),
      knex.raw('s.planned AS "splitterPlanned"'),
      knex.raw('(COALESCE(bx.planned, false) OR COALESCE(pl.planned, false)) AS "boxPlanned"'),
      's.container_external_id as containerExternalId',
      knex.raw('ST_Y(bx.geom) AS lat'),
      knex.raw('ST_X(bx.geom) AS lon'),
    );
  return (row as PushSubject | undefined) ?? null;
}

/**
 * The codes portProblem() parks a push with (as the prefix of its last_error): a push parked
 * with one of them is put back in line by the sync that sees its port fit again.
 */
export const PORT_PROBLEM_CODES: readonly string[] = ['port_removed', 'not_a_service_port', 'port_planned', 'splitter_planned', 'box_planned'];

/**
 * Why a port cannot take a binding or a push, or null when it can. Planned items
 * (DESIGN.md, Sync rules) are never bindable: `port_planned`, `splitter_planned`,
 * `box_planned` (the box, or the pole it hangs on).
 */
export function portProblem(
  subject: Pick<PushSubject, 'portRemoved' | 'splitterRemoved' | 'splitterRole'> & Partial<Pick<PushSubject, 'portPlanned' | 'splitterPlanned' | 'boxPlanned'>>,
): { code: string; message: string } | null {
  if (subject.portRemoved || subject.splitterRemoved) {
    return { code: 'port_removed', message: 'the port (or its splitter) no longer exists on the platform' };
  }
  if (subject.splitterRole !== 'service') {
    return { code: 'not_a_service_port', message: 'the port belongs to a distribution splitter, not a service splitter' };
  }
  if (subject.boxPlanned) {
    return { code: 'box_planned', message: 'its box (or the pole it hangs on) is still being designed on the platform (modoProjeto): not built yet, so not bindable' };
  }
  if (subject.splitterPlanned) {
    return { code: 'splitter_planned', message: 'its splitter is still being designed on the platform (modoProjeto): not built yet, so not bindable' };
  }
  if (subject.portPlanned) {
    return { code: 'port_planned', message: 'the port is still being designed on the platform (modoProjeto): not built yet, so not bindable' };
  }
  return null;
}

import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export interface BindingRow {
  id: number;
  integration_id: string;
  service_contract_id: number;
  port_id: number;
  status: 'pending' | 'confirmed' | 'cancelled';
  sync_state: 'not_pushed' | 'queued' | 'pushed' | 'in_sync' | 'failed';
  platform_customer_external_id: string | null;
  confirmed_at: Date | null;
  cancelled_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface ContractRow {
  id: number;
  service_id: string;
  status: string;
}

export interface PortRow {
  id: number;
  integration_id: string;
  external_id: string;
  available: boolean;
  platform_customer_external_id: string | null;
  removed: boolean;
  splitter_role: string;
  splitter_removed: boolean;
  /** Still being designed on the platform: the port, its splitter, its box or the box's pole. */
  port_planned: boolean;
  splitter_planned: boolean;
  box_planned: boolean;
  /** The ERP contract the platform's customer on this port is linked to, if any. */
  shown_contract_id: number | null;
  shown_integration_code: string | null;
}

export async function findContract(db: Db, serviceId: string): Promise<ContractRow | null> {
  return ((await db('service_contracts').where({ service_id: serviceId }).first('id', 'service_id', 'status')) as ContractRow | undefined) ?? null;
}

export async function findPort(
  db: Db,
  ref: { portId: number } | { integrationId: string; portExternalId: string },
  options: { forUpdate?: boolean } = {},
): Promise<PortRow | null> {
  const query = db('ports as p')
    .join('splitters as s', 's.id', 'p.splitter_id')
    .leftJoin('boxes as bx', 'bx.id', 's.box_id')
    .leftJoin('poles as pl', 'pl.id', 'bx.pole_id')
    .leftJoin('platform_customers as pc', function () {
      this.on('pc.integration_id', '=', 'p.integration_id')
        .andOn('pc.external_id', '=', 'p.platform_customer_external_id')
        .andOnNull('pc.removed_at');
    })
    .first(
      'p.id',
      'p.integration_id',
      'p.external_id',
      'p.available',
      'p.platform_customer_external_id',
      db.raw('p.removed_at IS NOT NULL AS removed'),
      's.role as splitter_role',
      db.raw('s.removed_at IS NOT NULL AS splitter_removed'),
      'p.planned as port_planned',
      's.planned as splitter_planned',
      db.raw('(COALESCE(bx.planned, false) OR COALESCE(pl.planned, false)) AS box_planned'),
      'pc.service_contract_id as shown_contract_id',
      'pc.integration_code as shown_integration_code',
    );
  if ('portId' in ref) query.where('p.id', ref.portId);
  else query.where({ 'p.integration_id': ref.integrationId, 'p.external_id': ref.portExternalId });
  if (options.forUpdate) query.forUpdate('p');
  return ((await query) as PortRow | undefined) ?? null;
}

export async function activeBindingOfPort(db: Db, portId: number): Promise<BindingRow | null> {
  return ((await db('bindings').where({ port_id: portId }).whereNot('status', 'cancelled').first()) as BindingRow | undefined) ?? null;
}

export async function activeBindingOfContract(db: Db, contractId: number): Promise<BindingRow | null> {
  return (
    ((await db('bindings').where({ service_contract_id: contractId }).whereNot('status', 'cancelled').first()) as BindingRow | undefined) ??
    null
  );
}

export async function getBinding(db: Db, id: number, options: { forUpdate?: boolean } = {}): Promise<BindingRow | null> {
  const query = db('bindings').where({ id }).first();
  if (options.forUpdate) query.forUpdate();
  return ((await query) as BindingRow | undefined) ?? null;
}

export async function insertBinding(
  db: Db,
  row: { integrationId: string; contractId: number; portId: number; syncState: BindingRow['sync_state']; platformCustomerExternalId: string | null },
): Promise<BindingRow> {
  const [created] = await db('bindings')
    .insert({
      integration_id: row.integrationId,
      service_contract_id: row.contractId,
      port_id: row.portId,
      status: 'pending',
      sync_state: row.syncState,
      platform_customer_external_id: row.platformCustomerExternalId,
    })
    .returning('*');
  return created as BindingRow;
}

/** Column changes; values may be SQL (`db.fn.now()`). */
export async function updateBinding(db: Db, id: number, changes: Partial<Record<keyof Omit<BindingRow, 'id'>, unknown>>): Promise<BindingRow> {
  const [row] = await db('bindings')
    .where({ id })
    .update({ ...changes, updated_at: db.fn.now() })
    .returning('*');
  return row as BindingRow;
}

/** The binding with what the API shows next to it: the service id and the port's platform id. */
export async function describeBinding(db: Db, id: number): Promise<(BindingRow & { service_id: string; port_external_id: string }) | null> {
  const row = await db('bindings as b')
    .join('service_contracts as sc', 'sc.id', 'b.service_contract_id')
    .join('ports as p', 'p.id', 'b.port_id')
    .where('b.id', id)
    .first('b.*', 'sc.service_id', 'p.external_id as port_external_id');
  return (row as (BindingRow & { service_id: string; port_external_id: string }) | undefined) ?? null;
}

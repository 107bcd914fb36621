/**
 * Bindings as operators look for them: by integration, status, push state, contract or
 * box, newest first, with what locates each one (box, splitter, port) and its last push.
 */
import type { Knex } from 'knex';
import { containsPattern } from '../db/text-search.ts';
import type { BindingRow } from './bindings.repository.ts';
import { bindingViewFields, type BindingView } from './bindings.service.ts';

export const BINDING_STATUSES = ['pending', 'confirmed', 'cancelled'] as const;
export const BINDING_SYNC_STATES = ['not_pushed', 'queued', 'pushed', 'in_sync', 'failed'] as const;

export interface BindingListFilter {
  integrationId?: string;
  status?: BindingRow['status'];
  syncState?: BindingRow['sync_state'];
  /** The ERP's id_cliente_servico, exactly. */
  serviceId?: string;
  /** Part of the box name, any case ("cto-12" finds "CTO-12" and "CTO-120"). */
  box?: string;
  boxId?: number;
  /** Only bindings with a smaller id (paging, newest first). */
  beforeId?: number;
  limit: number;
}

/** A binding as GET /v1/bindings/:id shows it, less its pushes, with where it is and its last push. */
export interface BindingListItem extends Omit<BindingView, 'pushes'> {
  customerName: string | null;
  port: { number: number; label: string | null };
  splitter: { id: number; name: string | null };
  box: { id: number; name: string | null } | null;
  /** The binding's latest push (bind or unbind), null when none was queued. */
  lastPush: { id: number; action: string; status: string; attempts: number; lastError: string | null; updatedAt: string } | null;
}

interface ListRow extends BindingRow {
  service_id: string;
  customer_name: string | null;
  port_external_id: string;
  port_number: number;
  port_label: string | null;
  splitter_id: number;
  splitter_name: string | null;
  box_id: number | null;
  box_name: string | null;
  push_id: number | null;
  push_action: string | null;
  push_status: string | null;
  push_attempts: number | null;
  push_last_error: string | null;
  push_updated_at: Date | null;
}

/** One page of bindings, newest first; `limit` + 1 rows are read to know whether another page follows. */
export async function listBindings(knex: Knex, filter: BindingListFilter): Promise<{ bindings: BindingListItem[]; nextBefore: number | null }> {
  const query = knex('bindings as b')
    .join('service_contracts as sc', 'sc.id', 'b.service_contract_id')
    .leftJoin('erp_customers as ec', 'ec.id', 'sc.erp_customer_id')
    .join('ports as p', 'p.id', 'b.port_id')
    .join('splitters as s', 's.id', 'p.splitter_id')
    .leftJoin('boxes as bx', 'bx.id', 's.box_id')
    .joinRaw(
      `LEFT JOIN LATERAL (SELECT o.id, o.action, o.status, o.attempts, o.last_error, o.updated_at
                            FROM push_outbox o WHERE o.binding_id = b.id ORDER BY o.id DESC LIMIT 1) lp ON true`,
    )
    .select(
      'b.*',
      'sc.service_id',
      'ec.name as customer_name',
      'p.external_id as port_external_id',
      'p.number as port_number',
      'p.label as port_label',
      's.id as splitter_id',
      's.name as splitter_name',
      'bx.id as box_id',
      'bx.name as box_name',
      'lp.id as push_id',
      'lp.action as push_action',
      'lp.status as push_status',
      'lp.attempts as push_attempts',
      'lp.last_error as push_last_error',
      'lp.updated_at as push_updated_at',
    )
    .orderBy('b.id', 'desc')
    .limit(filter.limit + 1);
  if (filter.integrationId) query.where('b.integration_id', filter.integrationId);
  if (filter.status) query.where('b.status', filter.status);
  if (filter.syncState) query.where('b.sync_state', filter.syncState);
  if (filter.serviceId) query.where('sc.service_id', filter.serviceId);
  if (filter.boxId !== undefined) query.where('bx.id', filter.boxId);
  if (filter.box) query.whereRaw(`bx.name ILIKE ? ESCAPE '\\'`, [containsPattern(filter.box)]);
  if (filter.beforeId !== undefined) query.where('b.id', '<', filter.beforeId);
  const rows = (await query) as ListRow[];
  const page = rows.slice(0, filter.limit);
  return {
    bindings: page.map(toListItem),
    nextBefore: rows.length > filter.limit ? Number(page[page.length - 1]!.id) : null,
  };
}

function toListItem(row: ListRow): BindingListItem {
  return {
    ...bindingViewFields(row),
    customerName: row.customer_name,
    port: { number: row.port_number, label: row.port_label },
    splitter: { id: Number(row.splitter_id), name: row.splitter_name },
    box: row.box_id === null ? null : { id: Number(row.box_id), name: row.box_name },
    lastPush:
      row.push_id === null
        ? null
        : {
            id: Number(row.push_id),
            action: row.push_action!,
            status: row.push_status!,
            attempts: row.push_attempts!,
            lastError: row.push_last_error,
            updatedAt: new Date(row.push_updated_at!).toISOString(),
          },
  };
}

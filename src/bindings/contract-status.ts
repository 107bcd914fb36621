/**
 * What a change of a service contract's status in the ERP does to its binding.
 *
 * - `cancelled` ends the binding: it is cancelled, and an unbind is queued when it reached
 *   (or may have reached) the platform, as `DELETE /v1/bindings/:id` would.
 * - `suspended` and `inactive` may come back: the binding is kept, and a bind not yet delivered
 *   waits (the pusher parks it as `contract_not_active`); it is queued again as soon as the
 *   contract is `active` again. A binding already on the platform stays there.
 *
 * Applied right after an import of contracts (POST /v1/customers, `mapsync customers import`)
 * and by the pusher, which re-reads the status before each bind.
 */
import type { Knex } from 'knex';
import { cancelBindingInTransaction } from './bindings.service.ts';
import type { BindingRow } from './bindings.repository.ts';

/** Contract statuses after which a binding has no reason to be. */
export const ENDING_CONTRACT_STATUSES: readonly string[] = ['cancelled'];

/** The code (prefix of last_error) of a bind parked because its contract is not active. */
export const CONTRACT_NOT_ACTIVE = 'contract_not_active';

export function contractEnded(status: string): boolean {
  return ENDING_CONTRACT_STATUSES.includes(status);
}

export interface ContractStatusReconciliation {
  /** Bindings cancelled because their contract ended. */
  cancelled: number[];
  /** Of those, the ones that got an unbind queued. */
  unbindsQueued: number[];
  /** Bindings whose parked bind was queued again because their contract is active again. */
  requeued: number[];
}

/**
 * Reconciles the live bindings of the contracts with these service ids with the contracts'
 * current status, inside the caller's transaction (the one that changed the statuses).
 * An unbind is queued whatever the integration's `push.enabled`: a pusher delivers only the
 * integrations it pushes for, so it waits there until pushing is enabled.
 */
export async function reconcileBindingsWithContractStatus(trx: Knex.Transaction, serviceIds: readonly string[]): Promise<ContractStatusReconciliation> {
  const outcome: ContractStatusReconciliation = { cancelled: [], unbindsQueued: [], requeued: [] };
  if (serviceIds.length === 0) return outcome;

  const ended = (await trx('bindings as b')
    .join('service_contracts as sc', 'sc.id', 'b.service_contract_id')
    .whereIn('sc.service_id', [...serviceIds])
    .whereIn('sc.status', [...ENDING_CONTRACT_STATUSES])
    .whereNot('b.status', 'cancelled')
    .orderBy('b.id')
    .forUpdate('b')
    .select('b.*', 'sc.service_id', 'sc.status as contract_status')) as (BindingRow & { service_id: string; contract_status: string })[];
  for (const binding of ended) {
    const unbind = await cancelBindingInTransaction(trx, binding, {
      pushEnabled: true,
      reason: `service contract ${binding.service_id} was ${binding.contract_status} in the ERP before delivery`,
    });
    outcome.cancelled.push(binding.id);
    if (unbind) outcome.unbindsQueued.push(binding.id);
  }

  const back = (await trx('push_outbox as o')
    .join('bindings as b', 'b.id', 'o.binding_id')
    .join('service_contracts as sc', 'sc.id', 'b.service_contract_id')
    .whereIn('sc.service_id', [...serviceIds])
    .where({ 'sc.status': 'active', 'b.status': 'confirmed', 'o.action': 'bind', 'o.status': 'failed' })
    .where('o.last_error', 'like', `${CONTRACT_NOT_ACTIVE}:%`)
    .select('o.id', 'o.binding_id')) as { id: number; binding_id: number }[];
  for (const row of back) {
    await trx('push_outbox')
      .where({ id: row.id })
      .update({ status: 'pending', attempts: 0, next_attempt_at: trx.fn.now(), last_error: 're-queued: the service contract is active again', updated_at: trx.fn.now() });
    await trx('bindings').where({ id: row.binding_id }).update({ sync_state: 'queued', updated_at: trx.fn.now() });
    outcome.requeued.push(row.binding_id);
  }
  return outcome;
}

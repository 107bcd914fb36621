/**
 * Bindings of an ERP service contract to a service port (vínculos): created `pending`,
 * `confirmed` (which queues the push in the same transaction) or `cancelled` (which
 * queues an unbind when the platform may already show it).
 */
import type { Knex } from 'knex';
import { enqueuePush, pushesOfBinding, type OutboxRow } from '../push/outbox.repository.ts';
import { buildPushPayload, maskedPayload } from '../push/push-payload.ts';
import { loadPushSubject, portProblem } from '../push/push-subject.ts';
import { BindingError } from './binding-error.ts';
import {
  activeBindingOfContract,
  activeBindingOfPort,
  describeBinding,
  findContract,
  findPort,
  getBinding,
  insertBinding,
  updateBinding,
  type BindingRow,
} from './bindings.repository.ts';

/** A port named by mapsync's id, or by the platform's port id within an integration. */
export type PortRef = { portId: number } | { integrationId: string; portExternalId: string };

export interface PushSettings {
  /** `push.enabled` and `push.fields` of an integration; null when it is not configured here. */
  settingsFor(integrationId: string): { enabled: boolean; fields: readonly string[] } | null;
}

export interface BindingView {
  id: number;
  integrationId: string;
  serviceId: string;
  portId: number;
  portExternalId: string;
  status: BindingRow['status'];
  syncState: BindingRow['sync_state'];
  platformCustomerExternalId: string | null;
  confirmedAt: string | null;
  cancelledAt: string | null;
  createdAt: string;
  updatedAt: string;
  pushes: PushView[];
}

export interface PushView {
  id: number;
  integrationId: string;
  bindingId: number;
  action: OutboxRow['action'];
  status: OutboxRow['status'];
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  lastStatus: number | null;
  doneAt: string | null;
  createdAt: string;
  updatedAt: string;
  payload: unknown;
}

const PG_UNIQUE_VIOLATION = '23505';

export async function createBinding(knex: Knex, input: { serviceId: string; port: PortRef }): Promise<{ binding: BindingView; created: boolean }> {
  const result = await knex.transaction(async (trx) => {
    const contract = await findContract(trx, input.serviceId);
    if (!contract) throw new BindingError(404, 'contract_not_found', `no service contract with serviceId ${input.serviceId}`);
    if (contract.status !== 'active') {
      throw new BindingError(422, 'contract_not_active', `service contract ${input.serviceId} is ${contract.status}; only active contracts can be bound`);
    }

    const port = await findPort(trx, input.port, { forUpdate: true });
    if (!port) throw new BindingError(404, 'port_not_found', `no synced port ${describePortRef(input.port)}`);
    const problem = portProblem({
      portRemoved: port.removed,
      splitterRemoved: port.splitter_removed,
      splitterRole: port.splitter_role,
      portPlanned: port.port_planned,
      splitterPlanned: port.splitter_planned,
      boxPlanned: port.box_planned,
    });
    if (problem) throw new BindingError(422, problem.code, `port ${port.id}: ${problem.message}`);

    const onPort = await activeBindingOfPort(trx, port.id);
    if (onPort && onPort.service_contract_id === contract.id) return { id: onPort.id, created: false };
    if (onPort) {
      throw new BindingError(409, 'port_taken', `port ${port.id} already has binding ${onPort.id} (${onPort.status})${stalled(onPort)}`, { bindingId: onPort.id });
    }
    const ofContract = await activeBindingOfContract(trx, contract.id);
    if (ofContract) {
      throw new BindingError(409, 'contract_already_bound', `service contract ${input.serviceId} is already bound (binding ${ofContract.id}, ${ofContract.status})${stalled(ofContract)}; cancel it first`, {
        bindingId: ofContract.id,
      });
    }

    const shownHere = port.platform_customer_external_id !== null;
    const shownIsThisContract = shownHere && (port.shown_contract_id === contract.id || port.shown_integration_code === contract.service_id);
    if (shownHere && !shownIsThisContract) {
      throw new BindingError(409, 'port_taken', `port ${port.id}: the platform shows another customer (${port.platform_customer_external_id}) on it`);
    }
    if (!shownHere && !port.available) {
      throw new BindingError(409, 'port_unavailable', `port ${port.id} is not available on the platform (reserved or out of service)`);
    }

    const row = await insertBinding(trx, {
      integrationId: port.integration_id,
      contractId: contract.id,
      portId: port.id,
      syncState: shownIsThisContract ? 'in_sync' : 'not_pushed',
      platformCustomerExternalId: shownIsThisContract ? port.platform_customer_external_id : null,
    });
    return { id: row.id, created: true };
  }).catch((error: unknown) => {
    throw uniqueViolationAsConflict(error);
  });
  return { binding: (await getBindingView(knex, result.id))!, created: result.created };
}

/**
 * Confirms a pending binding and writes its outbox row in the same transaction.
 * Confirming again returns the binding as it is and queues nothing more.
 */
export async function confirmBinding(knex: Knex, id: number, push: PushSettings): Promise<{ binding: BindingView; queued: boolean }> {
  const queued = await knex.transaction(async (trx) => {
    const binding = await getBinding(trx, id, { forUpdate: true });
    if (!binding) throw new BindingError(404, 'binding_not_found', `no binding ${id}`);
    if (binding.status === 'cancelled') throw new BindingError(409, 'binding_cancelled', `binding ${id} was cancelled; create a new one`);
    if (binding.status === 'confirmed') return false;

    const subject = await loadPushSubject(trx, id);
    if (!subject) throw new BindingError(404, 'binding_not_found', `no binding ${id}`);
    if (subject.contractStatus !== 'active') {
      throw new BindingError(422, 'contract_not_active', `service contract ${subject.serviceId} is ${subject.contractStatus}; only active contracts can be bound`);
    }
    const problem = portProblem(subject);
    if (problem) throw new BindingError(422, problem.code, `port ${subject.portId}: ${problem.message}`);

    const settings = push.settingsFor(binding.integration_id);
    const willPush = settings !== null && settings.enabled;
    await updateBinding(trx, id, {
      status: 'confirmed',
      confirmed_at: trx.fn.now(),
      ...(willPush && binding.sync_state !== 'in_sync' ? { sync_state: 'queued' as const } : {}),
    });
    if (!willPush) return false;
    await enqueuePush(trx, {
      integrationId: binding.integration_id,
      bindingId: id,
      action: 'bind',
      payload: buildPushPayload(subject, settings.fields),
    });
    return true;
  });
  return { binding: (await getBindingView(knex, id))!, queued };
}

/**
 * Cancels a binding. A bind not yet delivered is withdrawn; one that reached (or may have
 * reached) the platform gets an unbind queued. Cancelling twice is a no-op.
 */
export async function cancelBinding(knex: Knex, id: number, push: PushSettings): Promise<{ binding: BindingView; unbindQueued: boolean }> {
  const unbindQueued = await knex.transaction(async (trx) => {
    const binding = await getBinding(trx, id, { forUpdate: true });
    if (!binding) throw new BindingError(404, 'binding_not_found', `no binding ${id}`);
    return cancelBindingInTransaction(trx, binding, { pushEnabled: push.settingsFor(binding.integration_id)?.enabled ?? false });
  });
  return { binding: (await getBindingView(knex, id))!, unbindQueued };
}

/**
 * cancelBinding's work inside the caller's transaction, on a binding row it read (locked).
 * `reachedPlatform` overrides the guess from the bind's outbox row (the pusher knows better
 * for a row it holds). Returns whether an unbind was queued.
 */
export async function cancelBindingInTransaction(
  trx: Knex.Transaction,
  binding: BindingRow,
  options: { pushEnabled: boolean; reachedPlatform?: boolean; reason?: string },
): Promise<boolean> {
  const id = binding.id;
  if (binding.status === 'cancelled') return false;

  const wasConfirmed = binding.status === 'confirmed';
  await updateBinding(trx, id, { status: 'cancelled', cancelled_at: trx.fn.now() });
  if (!wasConfirmed) return false;

  const bind = (await trx('push_outbox').where({ binding_id: id, action: 'bind' }).first('id', 'status', 'attempts')) as
    | Pick<OutboxRow, 'id' | 'status' | 'attempts'>
    | undefined;
  if (bind && (bind.status === 'pending' || bind.status === 'failed')) {
    await trx('push_outbox')
      .where({ id: bind.id })
      .update({ status: 'cancelled', last_error: options.reason ?? 'binding cancelled before delivery', updated_at: trx.fn.now() });
  }
  // An attempt that failed may still have landed (a 5xx on a bind that succeeded), so any
  // tried bind gets an unbind; the pusher re-reads the port before unbinding anything.
  const reachedPlatform =
    options.reachedPlatform ??
    ((bind !== undefined && (bind.status === 'in_progress' || bind.status === 'done' || bind.attempts > 0)) || binding.sync_state === 'in_sync');
  if (!reachedPlatform || !options.pushEnabled) {
    if (binding.sync_state === 'queued') await updateBinding(trx, id, { sync_state: 'not_pushed' });
    return false;
  }
  await enqueuePush(trx, { integrationId: binding.integration_id, bindingId: id, action: 'unbind', payload: {} });
  await updateBinding(trx, id, { sync_state: 'queued' });
  return true;
}

export async function getBindingView(knex: Knex | Knex.Transaction, id: number): Promise<BindingView | null> {
  const row = await describeBinding(knex, id);
  if (!row) return null;
  const pushes = await pushesOfBinding(knex, id);
  return { ...bindingViewFields(row), pushes: pushes.map(toPushView) };
}

/** A binding row, with its contract's service id and its port's platform id, as the API shows it (without pushes). */
export function bindingViewFields(row: BindingRow & { service_id: string; port_external_id: string }): Omit<BindingView, 'pushes'> {
  return {
    id: Number(row.id),
    integrationId: row.integration_id,
    serviceId: row.service_id,
    portId: Number(row.port_id),
    portExternalId: row.port_external_id,
    status: row.status,
    syncState: row.sync_state,
    platformCustomerExternalId: row.platform_customer_external_id,
    confirmedAt: iso(row.confirmed_at),
    cancelledAt: iso(row.cancelled_at),
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
  };
}

export function toPushView(row: OutboxRow): PushView {
  return {
    id: row.id,
    integrationId: row.integration_id,
    bindingId: row.binding_id,
    action: row.action,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: iso(row.next_attempt_at)!,
    lastError: row.last_error,
    lastStatus: row.last_status,
    doneAt: iso(row.done_at),
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    payload: maskedPayload(row.payload),
  };
}

function iso(value: Date | string | null): string | null {
  if (value === null) return null;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** Says so when a confirmed binding in the way is not (or no longer) on the platform. */
function stalled(binding: BindingRow): string {
  if (binding.status !== 'confirmed' || binding.sync_state !== 'failed') return '';
  return `, which is not on the platform (sync_state failed: its push is parked, see GET /v1/pushes?status=failed): retry that push or cancel the binding`;
}

function describePortRef(ref: PortRef): string {
  return 'portId' in ref ? `with id ${ref.portId}` : `${ref.portExternalId} in integration ${ref.integrationId}`;
}

function uniqueViolationAsConflict(error: unknown): unknown {
  const pgError = error as { code?: string; constraint?: string };
  if (pgError?.code !== PG_UNIQUE_VIOLATION) return error;
  if (pgError.constraint === 'bindings_one_per_contract') {
    return new BindingError(409, 'contract_already_bound', 'the service contract was bound by another request at the same moment');
  }
  return new BindingError(409, 'port_taken', 'the port was bound by another request at the same moment');
}

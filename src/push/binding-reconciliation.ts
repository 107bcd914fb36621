import type { Knex } from 'knex';
import { loadPushSubject, portProblem, PORT_PROBLEM_CODES } from './push-subject.ts';

type Db = Knex | Knex.Transaction;

/**
 * The prefix of `last_error` of a delivered bind that a sync parked again because the platform
 * no longer shows it: `POST /v1/pushes/:id/retry` binds it again.
 */
export const PLATFORM_DIVERGED = 'platform_diverged';

/** An issue of the run about one binding (`sync_issues.kind = 'bindings'`, external id = the port's platform id). */
export interface BindingIssue {
  kind: 'bindings';
  externalId: string | null;
  code: string;
  reason: string;
}

export interface BindingReconciliation {
  /** Bindings found in sync (the platform shows their customer on their port). */
  inSync: number;
  /** Bindings moved to the port their customer was moved to on the platform. */
  followed: number;
  /** Bindings the platform no longer shows, demoted (sync_state failed or not_pushed). */
  demoted: number;
  /** Parked pushes put back in line because their port is fit again. */
  requeued: number;
  issues: BindingIssue[];
}

/**
 * Makes the live bindings of an integration agree with what a sync just merged (ports and
 * customers), inside the sync's merge transaction. The rules (README "Push rules"):
 *
 * - a bind parked because its port was removed (or not a service port) is queued again once
 *   the port is back and fit;
 * - a binding that reached the platform (`pushed`, `in_sync`) whose customer the platform now
 *   shows on another synced service port follows it there, when no other binding holds that
 *   port; the move is reported (`binding_followed_customer`);
 * - otherwise, when its live port no longer shows its customer (nobody, someone else, the
 *   customer deleted or moved where it cannot follow), it is demoted, never cancelled: its
 *   delivered bind is parked as `failed` (`platform_diverged: …`) and the binding's sync_state
 *   becomes `failed` (`not_pushed` when it has no bind), with an issue saying what the
 *   platform shows now. Nothing is pushed again by itself, so a technician's change on the
 *   platform is never undone silently; retrying the push binds it again, cancelling it frees
 *   the port and the contract;
 * - a binding whose port shows its customer is `in_sync`; a bind parked as diverged is then
 *   done again.
 *
 * Bindings changed after the run started (a push delivered while the run was reading) are
 * left to the next run, which read the platform after the change. A binding on a removed port
 * only follows its customer; otherwise it keeps the `removed_port_with_binding` issue.
 * `stagedCustomers` names the run's customer staging table, to tell a customer still on the
 * platform from one deleted when customers are not a synced kind.
 */
export async function reconcileBindingsAfterSync(
  trx: Db,
  integrationId: string,
  options: { runId?: string; stagedCustomers?: string } = {},
): Promise<BindingReconciliation> {
  const outcome: BindingReconciliation = { inSync: 0, followed: 0, demoted: 0, requeued: 0, issues: [] };
  const startedAt = options.runId ? await runStartedAt(trx, options.runId) : null;

  await requeueParkedOnPortsBack(trx, integrationId, outcome);
  await followOrDemoteDiverged(trx, integrationId, startedAt, options.stagedCustomers ?? null, outcome);
  outcome.inSync = await markInSync(trx, integrationId);
  return outcome;
}

async function runStartedAt(trx: Db, runId: string): Promise<Date | null> {
  const row = (await trx('sync_runs').where({ id: runId }).first('started_at')) as { started_at: Date | null } | undefined;
  return row?.started_at ?? null;
}

async function requeueParkedOnPortsBack(trx: Db, integrationId: string, outcome: BindingReconciliation): Promise<void> {
  const parked = (await trx('push_outbox as o')
    .join('bindings as b', 'b.id', 'o.binding_id')
    .where({ 'o.action': 'bind', 'o.status': 'failed', 'b.integration_id': integrationId, 'b.status': 'confirmed' })
    .whereNull('o.last_status')
    .whereRaw(`split_part(o.last_error, ':', 1) = ANY(?::text[])`, [[...PORT_PROBLEM_CODES]])
    .orderBy('o.id')
    .select('o.id', 'o.binding_id', 'o.last_error')) as { id: number; binding_id: number; last_error: string }[];
  for (const row of parked) {
    const subject = await loadPushSubject(trx, row.binding_id);
    if (!subject || portProblem(subject)) continue;
    const port = (await describePorts(trx, [subject.portId])).get(subject.portId) ?? `port ${subject.portExternalId}`;
    const reason = `${port} is back on the platform: the push of binding ${row.binding_id} (service ${subject.serviceId}), parked as "${row.last_error}", is queued again`;
    await trx('push_outbox')
      .where({ id: row.id, status: 'failed' })
      .update({ status: 'pending', attempts: 0, next_attempt_at: trx.fn.now(), last_error: `re-queued: ${reason}`, updated_at: trx.fn.now() });
    await trx('bindings').where({ id: row.binding_id }).update({ sync_state: 'queued', updated_at: trx.fn.now() });
    outcome.requeued += 1;
    outcome.issues.push({ kind: 'bindings', externalId: subject.portExternalId, code: 'push_requeued', reason });
  }
}

interface DivergedBinding {
  id: number;
  status: 'pending' | 'confirmed';
  service_contract_id: number;
  port_id: number;
  port_external_id: string;
  port_removed: boolean;
  known_customer: string | null;
  service_id: string;
  shown_customer: string | null;
  bind_push_id: number | null;
  bind_push_status: string | null;
}

interface CustomerPlace {
  port_id: number;
  port_external_id: string;
  customer: string;
  held_by: number | null;
  /** The port, its splitter or its box is still being designed (modoProjeto): never bindable. */
  planned: boolean;
}

async function followOrDemoteDiverged(
  trx: Db,
  integrationId: string,
  startedAt: Date | null,
  stagedCustomers: string | null,
  outcome: BindingReconciliation,
): Promise<void> {
  const diverged = (
    await trx.raw(
      `SELECT b.id, b.status, b.service_contract_id, b.port_id, p.external_id AS port_external_id,
              (p.removed_at IS NOT NULL OR s.removed_at IS NOT NULL) AS port_removed,
              b.platform_customer_external_id AS known_customer, sc.service_id,
              p.platform_customer_external_id AS shown_customer, o.id AS bind_push_id, o.status AS bind_push_status
         FROM bindings b
         JOIN service_contracts sc ON sc.id = b.service_contract_id
         JOIN ports p ON p.id = b.port_id
         JOIN splitters s ON s.id = p.splitter_id
         LEFT JOIN push_outbox o ON o.binding_id = b.id AND o.action = 'bind'
        WHERE b.integration_id = ?
          AND b.status <> 'cancelled'
          AND b.sync_state IN ('pushed', 'in_sync')
          AND b.updated_at < COALESCE(?::timestamptz, now())
          AND (o.status IS NULL OR o.status NOT IN ('pending', 'in_progress'))
          AND (p.removed_at IS NOT NULL OR s.removed_at IS NOT NULL OR NOT EXISTS (
                SELECT 1 FROM platform_customers pc
                 WHERE pc.integration_id = b.integration_id AND pc.removed_at IS NULL
                   AND pc.external_id = p.platform_customer_external_id
                   AND (pc.external_id = b.platform_customer_external_id OR pc.integration_code = sc.service_id
                        OR pc.service_contract_id = b.service_contract_id)))
        ORDER BY b.id`,
      [integrationId, startedAt],
    )
  ).rows as DivergedBinding[];

  for (const binding of diverged) {
    const places = (
      await trx.raw(
        `SELECT p.id AS port_id, p.external_id AS port_external_id, pc.external_id AS customer,
                (SELECT ob.id FROM bindings ob WHERE ob.port_id = p.id AND ob.status <> 'cancelled' AND ob.id <> ? LIMIT 1) AS held_by,
                (p.planned OR s.planned OR coalesce(bx.planned, false)) AS planned
           FROM platform_customers pc
           JOIN ports p ON p.integration_id = pc.integration_id AND p.platform_customer_external_id = pc.external_id AND p.removed_at IS NULL
           JOIN splitters s ON s.id = p.splitter_id AND s.removed_at IS NULL AND s.role = 'service'
           LEFT JOIN boxes bx ON bx.id = s.box_id
          WHERE pc.integration_id = ? AND pc.removed_at IS NULL AND p.id <> ?
            AND (pc.external_id = ? OR pc.integration_code = ? OR pc.service_contract_id = ?)
          ORDER BY p.id`,
        [binding.id, integrationId, binding.port_id, binding.known_customer, binding.service_id, binding.service_contract_id],
      )
    ).rows as CustomerPlace[];
    const ports = await describePorts(trx, [binding.port_id, ...places.map((p) => p.port_id)]);
    const here = ports.get(binding.port_id) ?? `port ${binding.port_external_id}`;
    const who = `binding ${binding.id} (service ${binding.service_id}${binding.known_customer ? `, platform customer ${binding.known_customer}` : ''})`;

    const target = places.length === 1 ? places[0]! : null;
    if (target && target.held_by === null && !target.planned) {
      await trx('bindings')
        .where({ id: binding.id })
        .update({ port_id: target.port_id, sync_state: 'in_sync', platform_customer_external_id: target.customer, updated_at: trx.fn.now() });
      outcome.followed += 1;
      const now = binding.port_removed ? `${here} is gone from the platform` : `${here} shows ${binding.shown_customer ? `customer ${binding.shown_customer}` : 'nobody'}`;
      outcome.issues.push({
        kind: 'bindings',
        externalId: target.port_external_id,
        code: 'binding_followed_customer',
        reason: `${now}; the customer of ${who} is now on ${ports.get(target.port_id)}: the binding moved there with it`,
      });
      continue;
    }
    // A removed port keeps its binding and its removed_port_with_binding issue.
    if (binding.port_removed) continue;

    const shows = binding.shown_customer ? `customer ${binding.shown_customer}` : 'nobody';
    let code: string;
    let where: string;
    if (places.length > 0) {
      code = 'binding_customer_moved';
      where =
        places.length > 1
          ? `its customer is on several ports: ${places.map((p) => ports.get(p.port_id)).join('; ')}`
          : target!.planned
            ? `its customer is now on ${ports.get(target!.port_id)}, which is still being designed on the platform (planned), so no binding can follow it there`
            : `its customer is now on ${ports.get(target!.port_id)}, which binding ${target!.held_by} holds`;
    } else if (binding.shown_customer) {
      code = 'binding_port_taken_on_platform';
      where = await customerWhereabouts(trx, integrationId, binding.known_customer, stagedCustomers);
    } else {
      where = await customerWhereabouts(trx, integrationId, binding.known_customer, stagedCustomers);
      code = where.includes('no longer on the platform') ? 'binding_customer_deleted' : 'binding_unbound_on_platform';
    }
    const parked = binding.bind_push_id !== null && binding.bind_push_status !== 'cancelled';
    const remedy = parked
      ? `retry push ${binding.bind_push_id} (POST /v1/pushes/${binding.bind_push_id}/retry) to bind it again, or cancel the binding`
      : binding.status === 'pending'
        ? 'confirm it to push it, or cancel it'
        : 'bind the customer on the platform again (push is off for this integration), or cancel the binding';
    const reason = `${here} shows ${shows}, not ${who}; ${where}. The binding is kept but no longer in sync: ${remedy}`;
    if (parked) {
      await trx('push_outbox')
        .where({ id: binding.bind_push_id! })
        .update({ status: 'failed', last_error: `${PLATFORM_DIVERGED}: ${reason}`, last_status: null, locked_by: null, locked_at: null, updated_at: trx.fn.now() });
    }
    await trx('bindings')
      .where({ id: binding.id })
      .update({ sync_state: parked ? 'failed' : 'not_pushed', updated_at: trx.fn.now() });
    outcome.demoted += 1;
    outcome.issues.push({ kind: 'bindings', externalId: binding.port_external_id, code, reason });
  }
}

/** Where a platform customer is, in words, when it is on no synced service port. */
async function customerWhereabouts(trx: Db, integrationId: string, customer: string | null, stagedCustomers: string | null): Promise<string> {
  if (!customer) return 'its customer is on no synced service port';
  const stored = (await trx('platform_customers').where({ integration_id: integrationId, external_id: customer }).first('removed_at')) as
    | { removed_at: Date | null }
    | undefined;
  let listed = stored !== undefined && stored.removed_at === null;
  if (!listed && stagedCustomers) {
    const staged = await trx.raw(`SELECT 1 FROM ${stagedCustomers} WHERE external_id = ? AND listed`, [customer]);
    listed = staged.rows.length > 0;
  }
  return listed ? `customer ${customer} is on no synced service port` : `customer ${customer} is no longer on the platform`;
}

/** `port 3 (id 9001) of splitter SPL-1x8 (id 77) in box CTO-12`, by mapsync port id. */
async function describePorts(trx: Db, portIds: number[]): Promise<Map<number, string>> {
  const rows = (
    await trx.raw(
      `SELECT p.id, p.external_id, p.number, s.external_id AS splitter_external_id, s.name AS splitter_name, bx.name AS box_name
         FROM ports p JOIN splitters s ON s.id = p.splitter_id LEFT JOIN boxes bx ON bx.id = s.box_id
        WHERE p.id = ANY(?::bigint[])`,
      [portIds],
    )
  ).rows as { id: number | string; external_id: string; number: number; splitter_external_id: string; splitter_name: string | null; box_name: string | null }[];
  return new Map(
    rows.map((r) => [
      Number(r.id),
      `port ${r.number} (id ${r.external_id}) of splitter ${r.splitter_name ?? r.splitter_external_id} (id ${r.splitter_external_id})${r.box_name ? ` in box ${r.box_name}` : ''}`,
    ]),
  );
}

/**
 * Every live binding whose port the platform shows holding that binding's customer is
 * `in_sync`, and remembers the platform customer's id (a later push then updates that customer
 * instead of creating one). The customer is recognised by the id mapsync knows, its link to
 * the contract, or the integration code a push wrote. A bind parked as diverged is done again.
 */
async function markInSync(trx: Db, integrationId: string): Promise<number> {
  const result = await trx.raw(
    `UPDATE bindings b
        SET sync_state = 'in_sync', platform_customer_external_id = pc.external_id, updated_at = now()
       FROM ports p, splitters s, platform_customers pc, service_contracts sc
      WHERE b.integration_id = ?
        AND b.status <> 'cancelled'
        AND p.id = b.port_id
        AND p.removed_at IS NULL
        AND s.id = p.splitter_id
        AND s.removed_at IS NULL
        AND sc.id = b.service_contract_id
        AND pc.integration_id = b.integration_id
        AND pc.external_id = p.platform_customer_external_id
        AND pc.removed_at IS NULL
        AND (pc.external_id = b.platform_customer_external_id OR pc.service_contract_id = b.service_contract_id OR pc.integration_code = sc.service_id)
        AND (b.sync_state <> 'in_sync' OR b.platform_customer_external_id IS DISTINCT FROM pc.external_id)
      RETURNING b.id`,
    [integrationId],
  );
  const ids = (result.rows as { id: number }[]).map((r) => r.id);
  if (ids.length > 0) {
    await trx('push_outbox')
      .whereIn('binding_id', ids)
      .where({ action: 'bind', status: 'failed' })
      .where('last_error', 'like', `${PLATFORM_DIVERGED}:%`)
      .update({ status: 'done', last_error: null, updated_at: trx.fn.now() });
  }
  return ids.length;
}

/**
 * Delivers the push outbox to the platforms. At least once, and idempotently:
 *   bind:   (0) the contract must still be active in the ERP: cancelled cancels the binding,
 *               suspended or inactive parks the push until an import makes it active again;
 *           (1) find the platform customer by its integration code (= service id);
 *           (2) update it when found, else create it; (3) bind it to the port.
 *           A platform that creates a customer only together with its tie to a port (OZmap:
 *           a property with a nested client) does (2) and (3) in one `bindNewCustomer` write.
 *           An unclear answer to that write (a timeout, a 5xx: it may have gone through) is
 *           settled by looking the customer up by its code again before anything is retried.
 *   unbind: remove the customer from the port, if the port still shows it.
 * A crash anywhere leaves the row in_progress; once its lease runs out another pusher (or
 * this one after a restart) claims it again, and step (1) finds a customer created by the
 * crashed attempt instead of creating a second one. Several processes share the work
 * through `FOR UPDATE SKIP LOCKED`. Transient failures come back with exponential backoff
 * and jitter, forever; answers that can never succeed are parked as `failed` with the
 * platform's message until someone fixes the data and retries.
 */
import { hostname } from 'node:os';
import type { Knex } from 'knex';
import { cancelBindingInTransaction } from '../bindings/bindings.service.ts';
import { getBinding } from '../bindings/bindings.repository.ts';
import { CONTRACT_NOT_ACTIVE, contractEnded } from '../bindings/contract-status.ts';
import type { IntegrationConfig } from '../config/config.schema.ts';
import { maskDocument } from '../domain/documents.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { PlatformError } from '../platforms/http/platform-error.ts';
import type { BindRequest, CustomerPayload, PlatformAdapter } from '../platforms/platform-adapter.ts';
import { DEFAULT_BACKOFF, backoffDelayMs, type BackoffOptions } from './backoff.ts';
import {
  cancelClaimedPush,
  claimDuePushes,
  countPendingPushes,
  markPushDone,
  nextDueAt,
  parkPush,
  reschedulePush,
  type OutboxRow,
} from './outbox.repository.ts';
import { PusherSession } from './pusher-session.ts';
import { buildPushPayload, scrubDocument, type PushPayload } from './push-payload.ts';
import { loadPushSubject, portProblem, type PushSubject } from './push-subject.ts';

export interface PusherDependencies {
  knex: Knex;
  logger: Logger;
  metrics?: Pick<Metrics, 'pushes' | 'outboxPending'>;
  integrations: Map<string, IntegrationConfig>;
  adapterFor(integration: IntegrationConfig): PlatformAdapter;
}

export interface PusherOptions {
  /** Names this process in `locked_by` (default host:pid:n). */
  owner?: string;
  /** How often due rows are looked for without a wake() (default 5 s). */
  pollMs?: number;
  /** A row in_progress longer than this is taken to be abandoned by a dead process (default 5 min). */
  leaseMs?: number;
  backoff?: BackoffOptions;
  /** Rows in delivery at once (default twice the integrations' summed http.concurrency). */
  capacity?: number;
  /** How long an unbind waits for its bind still being delivered (default 2 s). */
  unbindWaitMs?: number;
}

export type DeliveryOutcome = 'delivered' | 'retry' | 'parked' | 'cancelled' | 'lost_lease';

type Attempt =
  | { kind: 'done'; payload: PushPayload | null; customerId: string | null }
  | { kind: 'cancel'; reason: string }
  | { kind: 'contract_ended'; reason: string; reachedPlatform: boolean }
  | { kind: 'park'; error: string; status: number | null }
  | { kind: 'wait'; reason: string };

let pusherCount = 0;

export class Pusher {
  readonly owner: string;
  private readonly logger: Logger;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly backoff: BackoffOptions;
  private readonly capacity: number;
  private readonly unbindWaitMs: number;
  private readonly inFlight = new Set<Promise<DeliveryOutcome>>();
  /** Rows this pusher holds now; their lease is renewed while they are in hand. */
  private readonly inHand = new Set<number>();
  private heartbeat: NodeJS.Timeout | null = null;
  private session: Promise<PusherSession | null> | null = null;
  private stopping = false;
  private started = false;
  private polling: Promise<void> | null = null;
  private pollAgain = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: PusherDependencies,
    options: PusherOptions = {},
  ) {
    pusherCount += 1;
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${pusherCount}`;
    this.logger = deps.logger.child({ component: 'pusher' });
    this.pollMs = options.pollMs ?? 5_000;
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.unbindWaitMs = options.unbindWaitMs ?? 2_000;
    const concurrency = [...deps.integrations.values()].reduce((sum, i) => sum + (i.http?.concurrency ?? 5), 0);
    this.capacity = options.capacity ?? Math.max(4, 2 * concurrency);
  }

  /** Integrations whose outbox this pusher delivers: configured here, with push enabled. */
  get integrationIds(): string[] {
    return [...this.deps.integrations.values()].filter((i) => i.push.enabled).map((i) => i.id);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.startHeartbeat();
    void this.poll();
  }

  wake(): void {
    if (this.started && !this.stopping) void this.poll();
  }

  /** Stops claiming; deliveries in hand finish (or are rescheduled) before it resolves. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.polling;
    await Promise.allSettled([...this.inFlight]);
    this.stopHeartbeat();
    this.started = false;
    const session = this.session;
    this.session = null;
    await (await session)?.close();
  }

  /** Delivers everything due now, batch after batch, and resolves when nothing is left due. */
  async drain(): Promise<Record<DeliveryOutcome, number>> {
    const tally: Record<DeliveryOutcome, number> = { delivered: 0, retry: 0, parked: 0, cancelled: 0, lost_lease: 0 };
    const ownHeartbeat = this.heartbeat === null;
    if (ownHeartbeat) this.startHeartbeat();
    try {
      for (;;) {
        const rows = await this.claim(this.capacity);
        if (rows.length === 0) return tally;
        const outcomes = await Promise.all(rows.map((row) => this.deliver(row)));
        for (const outcome of outcomes) tally[outcome] += 1;
      }
    } finally {
      if (ownHeartbeat) this.stopHeartbeat();
    }
  }

  /** This pusher's liveness session, opened on first claim; null where none can be held. */
  private sessionKey(): Promise<number | null> {
    this.session ??= PusherSession.open(this.deps.knex).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'no pusher session: rows of this process are taken over only after the lease');
      return null;
    });
    return this.session.then((session) => session?.key ?? null);
  }

  private async claim(limit: number): Promise<OutboxRow[]> {
    const session = await this.sessionKey();
    const rows = await claimDuePushes(this.deps.knex, { owner: this.owner, integrationIds: this.integrationIds, limit, leaseMs: this.leaseMs, session });
    for (const row of rows) this.inHand.add(row.id);
    return rows;
  }

  /** A slow platform must not make a live pusher's rows look abandoned. */
  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      if (this.inHand.size === 0) return;
      this.deps.knex('push_outbox')
        .whereIn('id', [...this.inHand])
        .where({ locked_by: this.owner, status: 'in_progress' })
        .update({ locked_at: this.deps.knex.fn.now() })
        .catch((error: unknown) => this.logger.warn({ err: error }, 'could not renew the lease of pushes in hand'));
    }, Math.max(50, this.leaseMs / 3));
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private poll(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.polling) {
      this.pollAgain = true;
      return this.polling;
    }
    this.polling = (async () => {
      let delay = this.pollMs;
      try {
        do {
          this.pollAgain = false;
          while (!this.stopping && this.inFlight.size < this.capacity) {
            const rows = await this.claim(this.capacity - this.inFlight.size);
            for (const row of rows) this.track(this.deliver(row));
            if (rows.length === 0) break;
          }
        } while (this.pollAgain && !this.stopping);
        if (this.inFlight.size < this.capacity) {
          const due = await nextDueAt(this.deps.knex, this.integrationIds);
          if (due) delay = Math.min(this.pollMs, Math.max(10, due.getTime() - Date.now()));
        }
        this.deps.metrics?.outboxPending.set(await countPendingPushes(this.deps.knex));
      } catch (error) {
        this.logger.error({ err: error }, 'could not look for due pushes');
      } finally {
        this.polling = null;
        this.schedule(delay);
      }
    })();
    return this.polling;
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), delayMs);
    this.timer.unref();
  }

  private track(delivery: Promise<DeliveryOutcome>): void {
    this.inFlight.add(delivery);
    void delivery.finally(() => {
      this.inFlight.delete(delivery);
      // Refill in batches rather than one claim query per finished row.
      if (!this.stopping && this.inFlight.size <= this.capacity / 2) void this.poll();
    });
  }

  /** One attempt at one claimed row; never throws. */
  async deliver(row: OutboxRow): Promise<DeliveryOutcome> {
    const integration = this.deps.integrations.get(row.integration_id);
    const log = this.logger.child({ pushId: row.id, bindingId: row.binding_id, action: row.action, integration: row.integration_id, attempt: row.attempts });
    let subject: PushSubject | null = null;
    let outcome: DeliveryOutcome;
    try {
      if (!integration) throw new Error(`integration ${row.integration_id} is not configured`);
      const adapter = this.deps.adapterFor(integration);
      subject = await loadPushSubject(this.deps.knex, row.binding_id);
      const attempt =
        row.action === 'bind' ? await this.attemptBind(row, subject, integration, adapter) : await this.attemptUnbind(row, subject, adapter);
      outcome = await this.settle(row, subject, attempt);
      log[outcome === 'parked' ? 'warn' : 'info'](
        { serviceId: subject?.serviceId, document: maskDocument(subject?.document), outcome, ...(attempt.kind === 'park' ? { error: attempt.error } : {}) },
        `push ${outcome}`,
      );
    } catch (error) {
      const message = scrubDocument(errorText(error), subject?.document);
      const status = error instanceof PlatformError ? error.status : null;
      try {
        if (error instanceof PlatformError && error.permanent) {
          outcome = await this.park(row, message, status);
          log.warn({ serviceId: subject?.serviceId, document: maskDocument(subject?.document), status, error: message }, 'push refused by the platform: parked as failed');
        } else {
          const delayMs = backoffDelayMs(row.attempts, this.backoff);
          outcome = (await reschedulePush(this.deps.knex, row.id, this.owner, { delayMs, error: message, status })) ? 'retry' : 'lost_lease';
          log.warn({ serviceId: subject?.serviceId, status, error: message, retryInMs: delayMs }, 'push failed, will retry');
        }
      } catch (dbError) {
        // The row stays in_progress and is claimed again once its lease runs out.
        log.error({ err: dbError }, 'could not record the outcome of a push');
        outcome = 'lost_lease';
      }
    }
    this.inHand.delete(row.id);
    this.deps.metrics?.pushes.inc({ integration: row.integration_id, outcome });
    return outcome;
  }

  private async attemptBind(row: OutboxRow, subject: PushSubject | null, integration: IntegrationConfig, adapter: PlatformAdapter): Promise<Attempt> {
    if (!subject) return { kind: 'cancel', reason: 'the binding no longer exists' };
    if (subject.bindingStatus === 'cancelled') return { kind: 'cancel', reason: 'the binding was cancelled' };
    // The status was checked at confirmation; the ERP may have changed it since.
    if (contractEnded(subject.contractStatus)) {
      const reason = `service contract ${subject.serviceId} was ${subject.contractStatus} in the ERP before delivery`;
      return { kind: 'contract_ended', reason, reachedPlatform: row.attempts > 1 || subject.syncState === 'in_sync' };
    }
    if (subject.contractStatus !== 'active') {
      return {
        kind: 'park',
        error: `${CONTRACT_NOT_ACTIVE}: service contract ${subject.serviceId} is ${subject.contractStatus}; the push waits until the ERP makes it active again`,
        status: null,
      };
    }
    const problem = portProblem(subject);
    if (problem) return { kind: 'park', error: `${problem.code}: ${problem.message}`, status: null };

    const payload = buildPushPayload(subject, integration.push.fields);
    const port = payload.port;
    const target: Omit<BindRequest, 'customerExternalId'> = {
      portExternalId: port.externalId,
      containerExternalId: port.containerExternalId,
      lat: payload.location.lat,
      lon: payload.location.lon,
    };
    const saved = await this.saveRemoteCustomer(adapter, payload.customer, subject.platformCustomerExternalId, target);
    const customerId = saved.externalId;
    if (customerId !== subject.platformCustomerExternalId) {
      // Remembered before binding: an unbind after a crash here knows whom to remove.
      await this.deps.knex('bindings').where({ id: subject.bindingId }).update({ platform_customer_external_id: customerId, updated_at: this.deps.knex.fn.now() });
    }
    if (saved.bound) return { kind: 'done', payload, customerId };
    try {
      await adapter.bind({ ...target, customerExternalId: customerId });
    } catch (error) {
      // A bind repeated after a crash may be refused because it is already there.
      if (!(error instanceof PlatformError && error.permanent)) throw error;
      const onPort = await adapter.portCustomer(port.containerExternalId, port.externalId).catch(() => null);
      if (onPort !== customerId) throw error;
    }
    return { kind: 'done', payload, customerId };
  }

  /**
   * Finds the platform customer by integration code and updates it, or creates it: never two.
   * `bound` is true when the customer was created already tied to the port (`bindNewCustomer`).
   */
  private async saveRemoteCustomer(
    adapter: PlatformAdapter,
    customer: CustomerPayload,
    knownId: string | null,
    target: Omit<BindRequest, 'customerExternalId'>,
  ): Promise<{ externalId: string; bound: boolean }> {
    const found = await adapter.findCustomerByIntegrationCode(customer.serviceId);
    if (found) {
      await adapter.updateCustomer(found.externalId, customer);
      return { externalId: found.externalId, bound: false };
    }
    if (knownId) {
      // A customer the platform already shows on this port (seen by a sync) gets our record
      // and integration code rather than a twin.
      try {
        await adapter.updateCustomer(knownId, customer);
        return { externalId: knownId, bound: false };
      } catch (error) {
        if (!(error instanceof PlatformError && error.status === 404)) throw error;
      }
    }
    if (adapter.bindNewCustomer) return this.createBound(adapter, adapter.bindNewCustomer.bind(adapter), customer, target);
    try {
      return { externalId: (await adapter.createCustomer(customer)).externalId, bound: false };
    } catch (error) {
      if (!(error instanceof PlatformError && error.hasField('codigoIntegracao'))) throw error;
      // Someone created it between our look-up and our create.
      const externalId = await this.updateFoundAgain(adapter, customer, error);
      // The write went through: the port may show the customer already, and a second tie is a twin too.
      const onPort = target.containerExternalId
        ? await adapter.portCustomer(target.containerExternalId, target.portExternalId).catch(() => null)
        : null;
      return { externalId, bound: onPort === externalId };
    }
  }

  /**
   * Creates the customer tied to the port in one write. An answer that does not say whether the
   * write went through (no answer, a timeout, a 5xx) or a refusal naming the code (someone
   * created it meanwhile) is settled by looking the customer up by its code again: found, it is
   * updated and then bound like any existing customer; not found, the error stands and the push
   * is retried later, starting with that same look-up. Never a twin: a customer found so is
 * bound only when its port does not show it yet.
   */
  private async createBound(
    adapter: PlatformAdapter,
    bindNewCustomer: NonNullable<PlatformAdapter['bindNewCustomer']>,
    customer: CustomerPayload,
    target: Omit<BindRequest, 'customerExternalId'>,
  ): Promise<{ externalId: string; bound: boolean }> {
    try {
      return { externalId: (await bindNewCustomer(customer, target)).externalId, bound: true };
    } catch (error) {
      const unclear = !(error instanceof PlatformError) || !error.permanent;
      const codeTaken = error instanceof PlatformError && error.permanent && error.hasField('code');
      if (!unclear && !codeTaken) throw error;
      this.logger.warn(
        { serviceId: customer.serviceId, error: scrubDocument(errorText(error), customer.document) },
        'creating the customer with its binding got an unclear answer: looking it up by code before any retry',
      );
      const externalId = await this.updateFoundAgain(adapter, customer, error);
      // The write went through: the port may show the customer already, and a second tie is a twin too.
      const onPort = target.containerExternalId
        ? await adapter.portCustomer(target.containerExternalId, target.portExternalId).catch(() => null)
        : null;
      return { externalId, bound: onPort === externalId };
    }
  }

  /** The customer another write created after our look-up, updated; else `cause` is thrown. */
  private async updateFoundAgain(adapter: PlatformAdapter, customer: CustomerPayload, cause: unknown): Promise<string> {
    const again = await adapter.findCustomerByIntegrationCode(customer.serviceId).catch(() => null);
    if (!again) throw cause;
    await adapter.updateCustomer(again.externalId, customer);
    return again.externalId;
  }

  private async attemptUnbind(row: OutboxRow, subject: PushSubject | null, adapter: PlatformAdapter): Promise<Attempt> {
    if (!subject) return { kind: 'done', payload: null, customerId: null };
    const bind = await this.deps.knex('push_outbox').where({ binding_id: row.binding_id, action: 'bind' }).first('status');
    if (bind?.status === 'in_progress') return { kind: 'wait', reason: 'waiting for the bind still being delivered' };
    const successor = await this.deps.knex('bindings')
      .where({ port_id: subject.portId })
      .whereNot('status', 'cancelled')
      .whereNot('id', subject.bindingId)
      .first('service_contract_id');
    const customerId =
      subject.platformCustomerExternalId ?? (await adapter.findCustomerByIntegrationCode(subject.serviceId))?.externalId ?? null;
    if (!customerId) return { kind: 'done', payload: null, customerId: null };
    if (successor) {
      // A newer binding of the same port owns it now: removing the customer there could undo it.
      const successorContract = await this.deps.knex('service_contracts').where({ id: successor.service_contract_id }).first('service_id');
      if (successorContract?.service_id === subject.serviceId) return { kind: 'done', payload: null, customerId };
    }
    const onPort = await adapter.portCustomer(subject.containerExternalId, subject.portExternalId);
    if (onPort !== customerId) return { kind: 'done', payload: null, customerId };
    try {
      await adapter.unbind(subject.portExternalId, customerId);
    } catch (error) {
      if (!(error instanceof PlatformError && error.status === 404)) throw error;
    }
    return { kind: 'done', payload: null, customerId };
  }

  private async settle(row: OutboxRow, subject: PushSubject | null, attempt: Attempt): Promise<DeliveryOutcome> {
    const knex = this.deps.knex;
    switch (attempt.kind) {
      case 'cancel':
        return (await cancelClaimedPush(knex, row.id, this.owner, attempt.reason)) ? 'cancelled' : 'lost_lease';
      case 'contract_ended':
        return knex.transaction(async (trx) => {
          if (!(await cancelClaimedPush(trx, row.id, this.owner, attempt.reason))) return 'lost_lease';
          const binding = await getBinding(trx, row.binding_id, { forUpdate: true });
          if (binding) await cancelBindingInTransaction(trx, binding, { pushEnabled: true, reachedPlatform: attempt.reachedPlatform });
          return 'cancelled';
        });
      case 'wait':
        return (await reschedulePush(knex, row.id, this.owner, { delayMs: this.unbindWaitMs, error: attempt.reason, status: null, countAttempt: false }))
          ? 'retry'
          : 'lost_lease';
      case 'park':
        return this.park(row, scrubDocument(attempt.error, subject?.document), attempt.status);
      case 'done':
        return knex.transaction(async (trx) => {
          const marked = await markPushDone(trx, row.id, this.owner, attempt.payload);
          if (row.action === 'bind') {
            await trx('bindings')
              .where({ id: row.binding_id })
              .update({
                sync_state: trx.raw(`CASE WHEN sync_state = 'in_sync' THEN 'in_sync' ELSE 'pushed' END`),
                platform_customer_external_id: attempt.customerId,
                updated_at: trx.fn.now(),
              });
          } else {
            await trx('bindings').where({ id: row.binding_id }).update({ sync_state: 'not_pushed', updated_at: trx.fn.now() });
          }
          return marked ? 'delivered' : 'lost_lease';
        });
    }
  }

  /** Parks the row as failed and marks its binding failed, together. */
  private park(row: OutboxRow, error: string, status: number | null): Promise<DeliveryOutcome> {
    return this.deps.knex.transaction(async (trx) => {
      if (!(await parkPush(trx, row.id, this.owner, { error, status }))) return 'lost_lease';
      await trx('bindings').where({ id: row.binding_id }).whereNot('status', 'cancelled').update({ sync_state: 'failed', updated_at: trx.fn.now() });
      return 'parked';
    });
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

import type { IntegrationConfig } from '../config/config.schema.ts';
import type { AppContext } from '../service/app-context.ts';
import type { BackgroundWorker } from '../service/background-worker.ts';
import { nextRunAt, previousRunAt, scheduleJob, scheduleProblem, type ScheduledJob } from './cron-time.ts';
import { catchUpMissedRun, queueScheduledRun, type SlotOutcome } from './scheduled-runs.ts';

export interface SchedulerOptions {
  /** The clock, for tests. */
  now?: () => Date;
}

export interface Scheduler extends BackgroundWorker {
  /** Next scheduled run of an integration, or null when it is not scheduled here. */
  nextRun(integrationId: string): Date | null;
  /** Why an integration has no timer although it should (its schedule failed), else null. */
  scheduleError(integrationId: string): string | null;
  /** Queues the run for a slot (default: the last one), as a timer tick does. Exposed for tests. */
  tick(integration: IntegrationConfig, slot?: Date): Promise<SlotOutcome>;
}

/**
 * One croner job per enabled integration, on its own expression and time zone. The jobs
 * only queue runs; the run worker executes them. Jobs are built from the config at start
 * and stopped at stop, so a changed config takes effect on restart. An integration whose
 * schedule can not be used gets no job and keeps its reason (shown by the API); the
 * others are scheduled all the same.
 */
export function createScheduler(ctx: AppContext, options: SchedulerOptions = {}): Scheduler {
  const now = options.now ?? (() => new Date());
  const logger = ctx.logger.child({ component: 'scheduler' });
  const tasks = new Map<string, ScheduledJob>();
  const failures = new Map<string, string>();
  const inFlight = new Set<Promise<unknown>>();

  const track = <T>(promise: Promise<T>): Promise<T> => {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise)).catch(() => undefined);
    return promise;
  };

  const enabledIntegrations = () => [...ctx.integrations.values()].filter((integration) => integration.enabled);

  async function tick(integration: IntegrationConfig, firedFor?: Date): Promise<SlotOutcome> {
    const slot = firedFor ?? previousRunAt(integration.schedule, integration.timezone, now());
    if (!slot) return { outcome: 'no_slot' };
    const result = await queueScheduledRun(ctx.knex, integration, slot);
    logSlot(integration, 'schedule', result);
    if (result.outcome === 'queued') ctx.wake.runs();
    return result;
  }

  function logSlot(integration: IntegrationConfig, reason: string, result: SlotOutcome): void {
    const slot = 'slot' in result ? result.slot.toISOString() : null;
    const runId = 'runId' in result ? result.runId : null;
    logger.info({ integration: integration.id, reason, outcome: result.outcome, slot, runId }, `scheduled run: ${result.outcome}`);
  }

  return {
    name: 'scheduler',

    async start() {
      if (!ctx.config.scheduler.enabled) {
        logger.info('scheduler disabled in config (scheduler.enabled: false)');
        return;
      }
      if (ctx.config.scheduler.catchUpMissedRuns) {
        for (const integration of enabledIntegrations()) {
          try {
            const result = await catchUpMissedRun(ctx.knex, integration, now());
            logSlot(integration, 'catch_up', result);
            if (result.outcome === 'queued') ctx.wake.runs();
          } catch (error) {
            logger.error({ integration: integration.id, err: error }, 'could not check for a missed run');
          }
        }
      }
      for (const integration of enabledIntegrations()) {
        try {
          const job = scheduleJob(
            integration.schedule,
            integration.timezone,
            (slot) =>
              void track(
                tick(integration, slot).catch((error) =>
                  logger.error({ integration: integration.id, err: error }, 'could not queue the scheduled run'),
                ),
              ),
            now(),
          );
          tasks.set(integration.id, job);
          logger.info(
            {
              integration: integration.id,
              schedule: integration.schedule,
              timezone: integration.timezone,
              nextRunAt: job.nextRun(now())?.toISOString() ?? null,
            },
            'sync scheduled',
          );
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          failures.set(integration.id, reason);
          logger.error({ integration: integration.id, schedule: integration.schedule, timezone: integration.timezone, reason }, 'sync NOT scheduled');
        }
      }
    },

    async stop() {
      for (const task of tasks.values()) task.stop();
      tasks.clear();
      failures.clear();
      await Promise.allSettled([...inFlight]);
    },

    nextRun(integrationId) {
      const integration = ctx.integrations.get(integrationId);
      if (!integration || !integration.enabled || !ctx.config.scheduler.enabled || failures.has(integrationId)) return null;
      if (scheduleProblem(integration.schedule, integration.timezone, now())) return null;
      return nextRunAt(integration.schedule, integration.timezone, now());
    },

    scheduleError(integrationId) {
      return failures.get(integrationId) ?? null;
    },

    tick,
  };
}

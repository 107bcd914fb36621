import { Cron } from 'croner';

/**
 * The one reading of a schedule's cron expression, shared by `config check`, the API's
 * next run, the catch-up at boot and the timers themselves (croner), so that none of them
 * can call a schedule valid, or name a slot, that another disagrees with.
 *
 * Syntax: 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first;
 * names (jan, mon), ranges, steps, `?`, and `L`, `W`, `LW` (day of month), `5L`, `1#2`
 * (day of week). Day of month AND day of week must both match, as in node-cron, which
 * mapsync used before: `0 4 13 * 5` is Friday the 13th, not every 13th and every Friday.
 *
 * A fixed wall time that does not exist in the zone (skipped when DST starts) fires when
 * the clock jumps, so a daily run is not lost; one that occurs twice (DST ends) fires
 * once. America/Sao_Paulo has had no DST since 2019.
 */

/** A schedule must fire within this horizon, else it is a config error (issue 11 §6). */
export const SCHEDULE_HORIZON_YEARS = 5;

export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

export type ScheduledJob = Cron;

function cronOptions(timeZone: string) {
  return { timezone: timeZone, domAndDow: true, mode: '5-or-6-parts' as const };
}

/**
 * The parsed schedule, paused (no timer). Throws ScheduleError with croner's reason for
 * bad syntax or an unknown zone.
 */
function parse(expression: string, timeZone: string): Cron {
  try {
    return new Cron(expression, { ...cronOptions(timeZone), paused: true });
  } catch (error) {
    throw new ScheduleError(reasonOf(error));
  }
}

function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/^CronPattern:\s*/, '');
}

/**
 * Why this schedule can not be used, or null when it fires within the next
 * SCHEDULE_HORIZON_YEARS years from `now`: bad syntax (`0 4 * *`, `61 4 * * *`), or a date
 * that never comes (`0 4 30 2 *`, `0 4 30W 2 *`, `0 4 31 4 *`).
 */
export function scheduleProblem(expression: string, timeZone: string, now: Date = new Date()): string | null {
  let job: Cron;
  try {
    job = parse(expression, timeZone);
  } catch (error) {
    return `is not a valid cron expression (e.g. "0 4 * * *"): ${(error as Error).message}`;
  }
  const next = job.nextRun(now);
  const horizon = new Date(now);
  horizon.setUTCFullYear(horizon.getUTCFullYear() + SCHEDULE_HORIZON_YEARS);
  if (!next || next > horizon) {
    return `never fires in the next ${SCHEDULE_HORIZON_YEARS} years in ${timeZone} (a date that does not exist, such as 30 February?)`;
  }
  return null;
}

/** The syntax alone (no zone): null when croner reads it, else the reason. */
export function cronSyntaxProblem(expression: string): string | null {
  try {
    parse(expression, 'UTC');
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The first instant strictly after `from` at which the expression fires in `timeZone`; null if never. Throws ScheduleError. */
export function nextRunAt(expression: string, timeZone: string, from: Date = new Date()): Date | null {
  return parse(expression, timeZone).nextRun(from);
}

/** The last instant at or before `at` at which the expression fired in `timeZone`; null if never. Throws ScheduleError. */
export function previousRunAt(expression: string, timeZone: string, at: Date = new Date()): Date | null {
  // croner looks strictly before its reference, at whole seconds: one second past `at`
  // (rounded down) makes the slot at `at` itself count.
  const reference = new Date(Math.floor(at.getTime() / 1000) * 1000 + 1000);
  return parse(expression, timeZone).previousRuns(1, reference)[0] ?? null;
}

/**
 * Starts the timer of a schedule: `onSlot` gets the slot it fires for. Throws
 * ScheduleError when the schedule can not be read or never fires (the caller keeps the
 * other integrations' timers going).
 */
export function scheduleJob(expression: string, timeZone: string, onSlot: (slot: Date) => void, now: Date = new Date()): ScheduledJob {
  const problem = scheduleProblem(expression, timeZone, now);
  if (problem) throw new ScheduleError(`schedule "${expression}" ${problem}`);
  try {
    return new Cron(expression, { ...cronOptions(timeZone), unref: true }, (job: Cron) => {
      // croner calls at or after the slot's instant (never before), so the last slot at
      // or before the call is the one it fires for.
      const slot = previousRunAt(expression, timeZone, job.currentRun() ?? new Date());
      if (slot) onSlot(slot);
    });
  } catch (error) {
    throw new ScheduleError(reasonOf(error));
  }
}

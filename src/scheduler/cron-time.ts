import { parse as parseCron, type ParsedFields } from 'node-cron';

/**
 * When a cron expression fires, computed in a given IANA time zone with node-cron's own
 * parser and matching rules (day of month AND day of week must both match, as node-cron
 * does). node-cron 4 only tells the next run from "now"; the scheduler also needs the
 * next run from any instant and the last slot before boot, hence this module.
 *
 * Wall times that do not exist in the zone (the hour skipped when DST starts) never fire,
 * as in node-cron; a wall time that occurs twice (DST ends) fires at both instants.
 */

const MAX_DAYS = 366 * 8;
const DAY_MS = 86_400_000;

interface LocalDate {
  year: number;
  month: number; // 1-12
  day: number;
}

interface Schedule {
  seconds: number[];
  minutes: number[];
  hours: number[];
  fields: ParsedFields;
}

const schedules = new Map<string, Schedule>();

function compile(expression: string): Schedule {
  let schedule = schedules.get(expression);
  if (!schedule) {
    const fields = parseCron(expression);
    const ascending = (values: number[]) => [...values].sort((a, b) => a - b);
    schedule = { seconds: ascending(fields.second), minutes: ascending(fields.minute), hours: ascending(fields.hour), fields };
    schedules.set(expression, schedule);
  }
  return schedule;
}

/** The first instant strictly after `from` at which the expression fires in `timeZone`. */
export function nextRunAt(expression: string, timeZone: string, from: Date = new Date()): Date | null {
  const schedule = compile(expression);
  const fromMs = from.getTime();
  let date = localDateOf(fromMs, timeZone);
  // Start a day early: the local date of `from` may lag behind an instant already on the next day.
  date = addDays(date, -1);
  for (let i = 0; i < MAX_DAYS; i++, date = addDays(date, 1)) {
    if (!dayMatches(schedule.fields, date)) continue;
    for (const instant of instantsOnDay(schedule, date, timeZone)) {
      if (instant > fromMs) return new Date(instant);
    }
  }
  return null;
}

/** The last instant at or before `at` at which the expression fired in `timeZone`. */
export function previousRunAt(expression: string, timeZone: string, at: Date = new Date()): Date | null {
  const schedule = compile(expression);
  const atMs = at.getTime();
  let date = addDays(localDateOf(atMs, timeZone), 1);
  for (let i = 0; i < MAX_DAYS; i++, date = addDays(date, -1)) {
    if (!dayMatches(schedule.fields, date)) continue;
    const instants = instantsOnDay(schedule, date, timeZone);
    for (let j = instants.length - 1; j >= 0; j--) {
      if (instants[j]! <= atMs) return new Date(instants[j]!);
    }
  }
  return null;
}

/** Every firing instant on one local date, ascending. */
function instantsOnDay(schedule: Schedule, date: LocalDate, timeZone: string): number[] {
  const instants: number[] = [];
  for (const hour of schedule.hours) {
    for (const minute of schedule.minutes) {
      for (const second of schedule.seconds) {
        instants.push(...wallTimeToInstants(date, hour, minute, second, timeZone));
      }
    }
  }
  return instants.sort((a, b) => a - b);
}

/** The UTC instants showing this wall time in the zone: none in a DST gap, two in an overlap. */
function wallTimeToInstants(date: LocalDate, hour: number, minute: number, second: number, timeZone: string): number[] {
  const asUtc = Date.UTC(date.year, date.month - 1, date.day, hour, minute, second);
  const offsets = new Set([offsetMs(asUtc - DAY_MS, timeZone), offsetMs(asUtc, timeZone), offsetMs(asUtc + DAY_MS, timeZone)]);
  const found = new Set<number>();
  for (const offset of offsets) {
    const candidate = asUtc - offset;
    if (offsetMs(candidate, timeZone) === offset) found.add(candidate);
  }
  return [...found];
}

const partFormatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = partFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    partFormatters.set(timeZone, formatter);
  }
  return formatter;
}

function wallClock(instant: number, timeZone: string) {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour === 24 ? 0 : parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  };
}

/** The zone's UTC offset at an instant (local minus UTC), in ms, whole seconds. */
function offsetMs(instant: number, timeZone: string): number {
  const whole = Math.floor(instant / 1000) * 1000;
  const c = wallClock(whole, timeZone);
  return Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second) - whole;
}

function localDateOf(instant: number, timeZone: string): LocalDate {
  const { year, month, day } = wallClock(instant, timeZone);
  return { year, month, day };
}

function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function dayMatches(fields: ParsedFields, date: LocalDate): boolean {
  if (!fields.month.includes(date.month)) return false;
  const weekday = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
  return dayOfMonthMatches(fields.dayOfMonth, date) && dayOfWeekMatches(fields.dayOfWeek, date, weekday);
}

function lastDayOfMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function nearestWeekday(year: number, month: number, target: number): number {
  const last = lastDayOfMonth(year, month);
  if (target < 1 || target > last) return -1;
  const weekday = new Date(Date.UTC(year, month - 1, target)).getUTCDay();
  if (weekday === 6) return target === 1 ? target + 2 : target - 1;
  if (weekday === 0) return target === last ? target - 2 : target + 1;
  return target;
}

function dayOfMonthMatches(values: (number | string)[], { year, month, day }: LocalDate): boolean {
  const last = lastDayOfMonth(year, month);
  return values.some((value) => {
    if (value === day) return true;
    if (typeof value !== 'string') return false;
    if (value === 'L') return day === last;
    const weekdayToken = /^(\d{1,2}|L)W$/.exec(value);
    if (weekdayToken) {
      const target = weekdayToken[1] === 'L' ? last : Number(weekdayToken[1]);
      return nearestWeekday(year, month, target) === day;
    }
    const offsetToken = /^L-(\d{1,2})$/.exec(value);
    return offsetToken !== null && last - Number(offsetToken[1]) === day;
  });
}

function dayOfWeekMatches(values: (number | string)[], { month, day, year }: LocalDate, weekday: number): boolean {
  return values.some((value) => {
    if (value === weekday || (value === 7 && weekday === 0)) return true;
    if (typeof value !== 'string') return false;
    const nth = /^([0-7])#([1-5])$/.exec(value);
    if (nth) return Number(nth[1]) % 7 === weekday && Math.floor((day - 1) / 7) + 1 === Number(nth[2]);
    const lastOf = /^([0-7])L$/i.exec(value);
    return lastOf !== null && Number(lastOf[1]) % 7 === weekday && day + 7 > lastDayOfMonth(year, month);
  });
}

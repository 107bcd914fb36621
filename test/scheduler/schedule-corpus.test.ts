import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema } from '../../src/config/config.schema.ts';
import { nextRunAt, scheduleProblem } from '../../src/scheduler/cron-time.ts';

/**
 * Schedules as an admin may write them, and what mapsync makes of each: the next run
 * (UTC) after FROM, a config error because the date never comes, or a syntax error. The
 * same table drives `scheduleProblem`, the next-run computation and the config schema,
 * so they can not disagree. Add a row for every new case.
 */
const FROM = new Date('2026-11-24T05:13:00Z'); // 02:13 in São Paulo, a Tuesday

type Expected = { next: string } | { never: true } | { invalid: RegExp };

const CORPUS: Array<[expression: string, timezone: string, expected: Expected]> = [
  // valid
  ['0 4 * * *', 'America/Sao_Paulo', { next: '2026-11-24T07:00:00.000Z' }],
  ['0 4 * * 1-5', 'America/Sao_Paulo', { next: '2026-11-24T07:00:00.000Z' }],
  ['30 3 * * sun', 'America/Sao_Paulo', { next: '2026-11-29T06:30:00.000Z' }],
  ['0 4 * * MON-FRI', 'America/Sao_Paulo', { next: '2026-11-24T07:00:00.000Z' }],
  ['0 4 * * 7', 'America/Sao_Paulo', { next: '2026-11-29T07:00:00.000Z' }],
  ['*/15 * * * *', 'America/Sao_Paulo', { next: '2026-11-24T05:15:00.000Z' }],
  ['0 */6 * * *', 'UTC', { next: '2026-11-24T06:00:00.000Z' }],
  ['0 4 ? * *', 'America/Sao_Paulo', { next: '2026-11-24T07:00:00.000Z' }],
  ['0 0 4 * * *', 'America/Sao_Paulo', { next: '2026-11-24T07:00:00.000Z' }],
  ['0 4 1 jan *', 'America/Sao_Paulo', { next: '2027-01-01T07:00:00.000Z' }],
  ['0 4 L * *', 'America/Sao_Paulo', { next: '2026-11-30T07:00:00.000Z' }],
  ['0 4 LW * *', 'America/Sao_Paulo', { next: '2026-11-30T07:00:00.000Z' }],
  ['0 4 15W * *', 'America/Sao_Paulo', { next: '2026-12-15T07:00:00.000Z' }],
  ['0 4 28W 2 *', 'America/Sao_Paulo', { next: '2027-02-26T07:00:00.000Z' }], // 28 Feb 2027 is a Sunday
  ['0 4 * * 5L', 'America/Sao_Paulo', { next: '2026-11-27T07:00:00.000Z' }],
  ['0 12 * * 1#2', 'America/Sao_Paulo', { next: '2026-12-14T15:00:00.000Z' }],
  ['0 0 29 2 *', 'UTC', { next: '2028-02-29T00:00:00.000Z' }],
  ['0 4 13 * 5', 'America/Sao_Paulo', { next: '2027-08-13T07:00:00.000Z' }], // Friday the 13th: both fields must match
  ['0 4 * * *', 'Asia/Kolkata', { next: '2026-11-24T22:30:00.000Z' }],
  // never fires: a date that does not exist
  ['0 4 30W 2 *', 'America/Sao_Paulo', { never: true }],
  ['0 4 30 2 *', 'America/Sao_Paulo', { never: true }],
  ['0 4 31 2 *', 'America/Sao_Paulo', { never: true }],
  ['0 4 31 4 *', 'America/Sao_Paulo', { never: true }],
  ['0 4 31 4,6,9,11 *', 'America/Sao_Paulo', { never: true }],
  ['0 4 31W 11 *', 'America/Sao_Paulo', { never: true }],
  ['0 4 30-31 2 *', 'America/Sao_Paulo', { never: true }],
  // fires, but not within five years: 29 Feb on a Monday is next in 2044
  ['0 4 29 2 1', 'UTC', { never: true }],
  // invalid syntax
  ['0 4 * *', 'America/Sao_Paulo', { invalid: /five, six, or seven/ }],
  ['61 4 * * *', 'America/Sao_Paulo', { invalid: /minute: 61/ }],
  ['0 24 * * *', 'America/Sao_Paulo', { invalid: /hour: 24/ }],
  ['0 4 32 * *', 'America/Sao_Paulo', { invalid: /day/ }],
  ['0 4 * 13 *', 'America/Sao_Paulo', { invalid: /month/ }],
  ['0 4 * * 8', 'America/Sao_Paulo', { invalid: /dayOfWeek/ }],
  ['0 4 L-2 * *', 'America/Sao_Paulo', { invalid: /L has to be a value of its own/ }],
  ['5/5 4 * * *', 'America/Sao_Paulo', { invalid: /numeric prefix/ }],
  ['every day at 4', 'America/Sao_Paulo', { invalid: /illegal characters|five, six, or seven/ }],
  ['0 4 * * * 2030', 'America/Sao_Paulo', { invalid: /dayOfWeek|parts/ }],
  ['', 'America/Sao_Paulo', { invalid: /five, six, or seven/ }],
];

function configWith(schedule: string, timezone: string) {
  return configSchema.safeParse({
    integrations: [{ id: 'centro', platform: 'geogrid', apiUrl: 'https://isp.example.com', token: 't', project: { link: 'Centro' }, schedule, timezone }],
  });
}

describe('schedule corpus', () => {
  for (const [expression, timezone, expected] of CORPUS) {
    test(`"${expression}" in ${timezone}`, () => {
      const problem = scheduleProblem(expression, timezone, FROM);
      const parsed = configWith(expression, timezone);
      const configProblems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
      if ('next' in expected) {
        assert.equal(problem, null);
        assert.equal(nextRunAt(expression, timezone, FROM)?.toISOString(), expected.next);
        assert.deepEqual(configProblems, []);
      } else if ('never' in expected) {
        assert.match(problem ?? '', /never fires in the next 5 years/);
        assert.ok(nextRunAt(expression, timezone, FROM) === null || nextRunAt(expression, timezone, FROM)! > new Date('2031-11-24T05:13:00Z'));
        // `config check` now refuses it (it passed before, yet could never fire).
        assert.deepEqual(configProblems, [`integrations.0.schedule: ${problem}`]);
      } else {
        assert.match(problem ?? '', /^is not a valid cron expression/);
        assert.match(problem ?? '', expected.invalid);
        assert.equal(configProblems.length, 1, configProblems.join('\n'));
        assert.match(configProblems[0]!, /^integrations\.0\.schedule: is not a valid cron expression/);
      }
    });
  }
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nextRunAt, previousRunAt } from '../../src/scheduler/cron-time.ts';

const iso = (date: Date | null) => date?.toISOString() ?? null;

describe('nextRunAt / previousRunAt', () => {
  test('04:00 America/Sao_Paulo is 07:00Z (no DST since 2019), in summer and winter', () => {
    assert.equal(iso(nextRunAt('0 4 * * *', 'America/Sao_Paulo', new Date('2026-11-24T05:13:00Z'))), '2026-11-24T07:00:00.000Z');
    assert.equal(iso(nextRunAt('0 4 * * *', 'America/Sao_Paulo', new Date('2026-07-01T12:00:00Z'))), '2026-07-02T07:00:00.000Z');
    // Strictly after: at the slot itself, the next one is tomorrow.
    assert.equal(iso(nextRunAt('0 4 * * *', 'America/Sao_Paulo', new Date('2026-11-24T07:00:00Z'))), '2026-11-25T07:00:00.000Z');
    // Local date differs from the UTC date late in the evening.
    assert.equal(iso(nextRunAt('0 4 * * *', 'America/Sao_Paulo', new Date('2026-12-31T23:30:00Z'))), '2027-01-01T07:00:00.000Z');
    assert.equal(iso(nextRunAt('0 4 * * *', 'America/Sao_Paulo', new Date('2027-01-01T02:30:00Z'))), '2027-01-01T07:00:00.000Z');
  });

  test('previous slot is inclusive and in the zone', () => {
    assert.equal(iso(previousRunAt('0 4 * * *', 'America/Sao_Paulo', new Date('2026-11-24T07:00:00Z'))), '2026-11-24T07:00:00.000Z');
    assert.equal(iso(previousRunAt('0 4 * * *', 'America/Sao_Paulo', new Date('2026-11-24T06:59:59Z'))), '2026-11-23T07:00:00.000Z');
    assert.equal(iso(previousRunAt('0 4 * * 1', 'America/Sao_Paulo', new Date('2026-11-24T12:00:00Z'))), '2026-11-23T07:00:00.000Z');
    assert.equal(iso(previousRunAt('0 4 1 1 *', 'America/Sao_Paulo', new Date('2026-11-24T12:00:00Z'))), '2026-01-01T07:00:00.000Z');
  });

  test('America/New_York across DST start and end', () => {
    // DST starts 2026-03-08 02:00 EST -> 03:00 EDT.
    assert.equal(iso(nextRunAt('0 4 * * *', 'America/New_York', new Date('2026-03-07T00:00:00Z'))), '2026-03-07T09:00:00.000Z');
    assert.equal(iso(nextRunAt('0 4 * * *', 'America/New_York', new Date('2026-03-07T09:00:00Z'))), '2026-03-08T08:00:00.000Z');
    // 02:30 does not exist on 2026-03-08: a daily run fires when the clock jumps (03:00 EDT), not a day later.
    assert.equal(iso(nextRunAt('30 2 * * *', 'America/New_York', new Date('2026-03-08T00:00:00Z'))), '2026-03-08T07:00:00.000Z');
    // DST ends 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 happens twice, a daily run fires once.
    const first = nextRunAt('30 1 * * *', 'America/New_York', new Date('2026-11-01T00:00:00Z'));
    assert.equal(iso(first), '2026-11-01T05:30:00.000Z');
    assert.equal(iso(nextRunAt('30 1 * * *', 'America/New_York', first!)), '2026-11-02T06:30:00.000Z');
    // A schedule that is not one fixed time of day fires in both hours.
    assert.equal(iso(nextRunAt('*/30 1 * * *', 'America/New_York', new Date('2026-11-01T05:30:00Z'))), '2026-11-01T06:00:00.000Z');
    assert.equal(iso(previousRunAt('0 4 * * *', 'America/New_York', new Date('2026-03-08T12:00:00Z'))), '2026-03-08T08:00:00.000Z');
  });

  test('Europe/Lisbon across DST start', () => {
    // WEST starts 2026-03-29 01:00Z.
    assert.equal(iso(nextRunAt('0 4 * * *', 'Europe/Lisbon', new Date('2026-03-28T00:00:00Z'))), '2026-03-28T04:00:00.000Z');
    assert.equal(iso(nextRunAt('0 4 * * *', 'Europe/Lisbon', new Date('2026-03-28T04:00:00Z'))), '2026-03-29T03:00:00.000Z');
  });

  test('the timer fires for the slot that previousRunAt names, and nextRunAt walks the same slots', () => {
    const expressions = ['*/15 * * * *', '0 4 * * 1-5', '0 0 L * *', '0 3 1 1 *', '0 4 * * *', '5 4 * * sun', '0 0 29 2 *', '0 12 * * 1#2'];
    const zones = ['America/Sao_Paulo', 'America/New_York', 'Europe/Lisbon', 'Asia/Kolkata', 'UTC'];
    for (const expression of expressions) {
      for (const timezone of zones) {
        let from: Date = new Date('2026-11-24T05:13:00Z');
        for (let i = 0; i < 3; i++) {
          const next = nextRunAt(expression, timezone, from)!;
          assert.ok(next > from, `${expression} in ${timezone}`);
          // At the slot, and a while after it (a late timer), the slot is still the previous one.
          assert.equal(iso(previousRunAt(expression, timezone, next)), iso(next));
          assert.equal(iso(previousRunAt(expression, timezone, new Date(next.getTime() + 999))), iso(next));
          assert.equal(iso(nextRunAt(expression, timezone, new Date(next.getTime() - 1000))), iso(next));
          from = next;
        }
      }
    }
  });

  test('a rare slot is found years ahead and behind', () => {
    assert.equal(iso(nextRunAt('0 0 29 2 *', 'UTC', new Date('2026-01-01T00:00:00Z'))), '2028-02-29T00:00:00.000Z');
    assert.equal(iso(previousRunAt('0 0 29 2 *', 'UTC', new Date('2026-01-01T00:00:00Z'))), '2024-02-29T00:00:00.000Z');
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { integrationSchema } from '../../src/config/config.schema.ts';
import { loadPositionRule, type GeoArea, type PositionRule } from '../../src/domain/positions.ts';
import { checkCoordinates, screenPosition } from '../../src/platforms/record-validation.ts';
import { COORDINATE_CASES } from './corpus/coordinates.corpus.ts';

/** What the sync does with a record's latitude and longitude: the wire check, then the plausibility screen. */
function outcome(rule: PositionRule, lat: unknown, lon: unknown): { code: string; reason: string } {
  const checked = checkCoordinates(lat, lon);
  if (!checked.ok) return { code: 'bad_coordinates', reason: checked.reason };
  const rejection = screenPosition(rule, 'pole', '1', checked.lat, checked.lon);
  return rejection ? { code: rejection.code, reason: rejection.reason } : { code: 'ok', reason: '' };
}

describe('coordinates: every case of the corpus gets its outcome', async () => {
  const rules = new Map<GeoArea | undefined, PositionRule>();
  for (const area of new Set(COORDINATE_CASES.map((c) => c.area))) rules.set(area, await loadPositionRule(area));

  for (const c of COORDINATE_CASES) {
    test(`${c.name}: ${c.expected}`, () => {
      const got = outcome(rules.get(c.area) as PositionRule, c.lat, c.lon);
      assert.equal(got.code, c.expected, got.reason);
      if (c.hint) assert.match(got.reason, c.hint);
    });
  }
});

describe('config: an integration area', () => {
  const base = { id: 'a', platform: 'geogrid', apiUrl: 'https://x.example', token: 't', project: { link: 'Centro' } };
  const errorsOf = (area: unknown): string[] => {
    const parsed = integrationSchema.safeParse({ ...base, area });
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  const cases: [string, unknown, RegExp | null][] = [
    ['a box around Campinas', { minLon: -47.3, minLat: -23.1, maxLon: -46.8, maxLat: -22.7 }, null],
    ['the whole of Brazil', { minLon: -74, minLat: -34, maxLon: -28, maxLat: 6 }, null],
    ['min and max latitude inverted', { minLon: -47.3, minLat: -22.7, maxLon: -46.8, maxLat: -23.1 }, /area\.maxLat: must be greater than minLat \(-22\.7\); south is negative/],
    ['min and max longitude inverted', { minLon: -46.8, minLat: -23.1, maxLon: -47.3, maxLat: -22.7 }, /area\.maxLon: must be greater than minLon/],
    ['longitude and latitude swapped', { minLon: -23.1, minLat: -47.3, maxLon: -22.7, maxLat: -46.8 }, /area: does not overlap Brazil .*swapped\?/],
    ['latitude out of range', { minLon: -47.3, minLat: -123.1, maxLon: -46.8, maxLat: -22.7 }, /area\.minLat: must be between -90 and 90/],
    ['a missing corner', { minLon: -47.3, minLat: -23.1, maxLon: -46.8 }, /area\.maxLat: must be a number of degrees/],
    ['a number as text', { minLon: '-47.3', minLat: -23.1, maxLon: -46.8, maxLat: -22.7 }, /area\.minLon: must be a number of degrees/],
    ['an array', [-47.3, -23.1, -46.8, -22.7], /area: must be \{ minLon, minLat, maxLon, maxLat \}/],
    ['an unknown key', { minLon: -47.3, minLat: -23.1, maxLon: -46.8, maxLat: -22.7, srid: 4326 }, /srid/],
  ];
  for (const [name, area, error] of cases) {
    test(`${name}: ${error ? 'rejected' : 'accepted'}`, () => {
      const errors = errorsOf(area);
      if (error === null) assert.deepEqual(errors, []);
      else assert.ok(errors.some((e) => error.test(e)), errors.join('\n'));
    });
  }

  test('no area is fine', () => {
    assert.equal(integrationSchema.parse(base).area, undefined);
  });
});

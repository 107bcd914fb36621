import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  OzmapShapeError,
  applyPortTies,
  boxKindOf,
  countCreated,
  parsePage,
  parsePortExternalId,
  portExternalId,
  toBoxes,
  toCustomers,
  toLoginToken,
  toLookedUpCustomer,
  toPoles,
  toPortTies,
  toProjectFacts,
  toProjects,
  toSplitters,
} from '../../src/platforms/ozmap/ozmap.wire.ts';
import { DuplicateIdGuard } from '../../src/platforms/record-validation.ts';

/**
 * Response shapes of OZmap API v2 (the SDK's model schemas, docs platforms/ozmap-v2.md): each
 * record is read in its known form or in a known alternative (populated reference or bare id,
 * `id` or `_id`, `coords` or `lat`/`lng`), or reported as a rejection naming the endpoint with
 * a masked sample. Add a row to a table to add a case.
 */

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/ozmap/${name}`, import.meta.url), 'utf8'));
const rows = (name: string): unknown[] => parsePage(fixture(name), `GET /${name}`).records;
const context = (endpoint: string) => ({ guard: new DuplicateIdGuard(), endpoint });

const P = (n: number) => `65a0000000000000000000p${n}`;
const B = (n: number) => `65b0000000000000000000b${n}`;
const S = (n: number) => `65c0000000000000000000s${n}`;
const C = (n: number) => `65e0000000000000000000c${n}`;
const PROJECT = '6553a1f0c2e4b9a1d0000001';

describe('ozmap pages', () => {
  const PAGES: Array<{ name: string; body: unknown; records: number | null; total: number | null }> = [
    { name: 'known: {total, count, start, limit, rows, hasNextPage, nextUrl}', body: fixture('poles.json'), records: 6, total: 6 },
    { name: 'a total sent as text', body: { rows: [], total: '12' }, records: 0, total: 12 },
    { name: 'alternative: a bare array, no total', body: [{ id: 'a' }], records: 1, total: null },
    { name: 'unreadable: {data: [...]} fails with the endpoint and a masked sample', body: fixture('unreadable-page.json'), records: null, total: null },
    { name: 'unreadable: an HTML error page', body: '<html>502 Bad Gateway</html>', records: null, total: null },
  ];
  for (const row of PAGES) {
    test(row.name, () => {
      if (row.records === null) {
        assert.throws(
          () => parsePage(row.body, 'GET /poles'),
          (error: unknown) => {
            assert.ok(error instanceof OzmapShapeError);
            assert.match(error.message, /GET \/poles/);
            assert.ok(!error.message.includes('123.456.789-09'), 'a document in the sample is masked');
            return true;
          },
        );
        return;
      }
      const page = parsePage(row.body, 'GET /poles');
      assert.equal(page.records.length, row.records);
      assert.equal(page.total, row.total);
    });
  }
});

describe('ozmap projects', () => {
  test('projects: name, sub-project parent, hierarchy level of a CTO', () => {
    const { items, rejected } = toProjects(rows('projects.json'));
    assert.deepEqual(rejected, []);
    assert.deepEqual(items, [
      { externalId: PROJECT, name: 'Centro', parentName: null },
      { externalId: '6553a1f0c2e4b9a1d0000002', name: 'Centro - Expansão', parentName: null, parentExternalId: PROJECT },
    ]);
    assert.deepEqual(toProjectFacts(fixture('project.json'), 'GET /projects/{id}'), { externalId: PROJECT, ctoLevel: 3 });
    assert.deepEqual(toProjectFacts({ rows: [{ id: 'x' }] }, 'GET /projects/{id}'), { externalId: 'x', ctoLevel: null });
    assert.throws(() => toProjectFacts({ message: 'not found' }, 'GET /projects/{id}'), OzmapShapeError);
  });
});

describe('ozmap poles and boxes', () => {
  test('poles: coords [lng, lat] or lat/lng; bad coordinates, no id, not an object and a repeat are rejections', () => {
    const { items, rejected } = toPoles(rows('poles.json'), { ...context('GET /poles'), projectExternalId: PROJECT });
    assert.deepEqual(
      items.map((p) => [p.externalId, p.name, p.lon, p.lat, p.observation, p.projectExternalId, p.planned]),
      [
        [P(1), 'P-001', -47.061, -22.901, 'esquina', PROJECT, false],
        [P(2), 'P-002', -47.062, -22.902, null, PROJECT, false],
      ],
    );
    assert.deepEqual(
      rejected.map((r) => [r.code, r.externalId]),
      [
        ['bad_coordinates', P(3)],
        ['missing_id', null],
        ['unreadable_record', null],
        ['duplicate_id', P(1)],
      ],
    );
    assert.ok(rejected.every((r) => r.code === 'duplicate_id' || r.code === 'bad_coordinates' || r.reason.includes('GET /poles')));
    assert.match(items[0]!.listedDigest!, /^[0-9a-f]{32}$/);
  });

  const KINDS: Array<[number | null, number | null, string]> = [
    [3, 3, 'cto'],
    [2, 3, 'splice'],
    [1, 3, 'splice'],
    [4, 3, 'other'],
    [3, null, 'other'],
    [null, 3, 'other'],
  ];
  for (const [level, ctoLevel, kind] of KINDS) {
    test(`box at hierarchy level ${level} in a project whose CTO level is ${ctoLevel}: ${kind}`, () => {
      assert.equal(boxKindOf(level, ctoLevel), kind);
    });
  }

  test('boxes: pole link (id or populated), kind by level, draft and not implanted are planned', () => {
    const { items, rejected } = toBoxes(rows('boxes.json'), { ...context('GET /boxes'), ctoLevels: new Map([[PROJECT, 3]]) });
    assert.deepEqual(
      items.map((b) => [b.externalId, b.kind, b.poleExternalId, b.projectExternalId, b.planned]),
      [
        [B(1), 'cto', P(1), PROJECT, false],
        [B(2), 'splice', P(2), PROJECT, false],
        [B(3), 'cto', null, PROJECT, true],
        [B(4), 'cto', null, PROJECT, true],
      ],
    );
    assert.deepEqual(rejected.map((r) => [r.code, r.externalId]), [['bad_coordinates', B(5)]]);
  });
});

describe('ozmap splitters, ports and their customers', () => {
  const splitters = () => toSplitters(rows('splitters.json'), context('GET /splitters'));

  test('role from the splitter type (isDrop), else the splitter; no box, no drop flag, no id are rejections', () => {
    const { items, rejected } = splitters();
    assert.deepEqual(
      items.map((s) => [s.externalId, s.containerExternalId, s.containerKind, s.role, s.ratioIn, s.ratioOut, s.ports.length, s.planned]),
      [
        [S(1), B(1), 'box', 'service', 1, 8, 8, false],
        [S(2), B(2), 'box', 'distribution', 1, 2, 2, false],
        [S(3), B(1), 'box', 'service', 1, 4, 4, true],
      ],
    );
    assert.deepEqual(
      rejected.map((r) => [r.code, r.externalId]),
      [
        ['missing_field', S(4)],
        ['missing_field', S(5)],
        ['missing_id', null],
      ],
    );
  });

  /** [port, number, available, customer] after the properties are applied */
  const PORTS: Array<[string, number, boolean, string | null, string]> = [
    [portExternalId(S(1), 1), 1, true, null, 'free: not blocked, no fibre, no customer'],
    [portExternalId(S(1), 2), 2, false, C(1), 'taken: a property connects customer c1 to port 2 (1-based, as connections[].port)'],
    [portExternalId(S(1), 3), 3, false, null, 'blocked: never free'],
    [portExternalId(S(1), 4), 4, false, C(2), 'taken by c2, whose client record has `_id`'],
    [portExternalId(S(1), 5), 5, true, null, 'free'],
    [portExternalId(S(3), 1), 1, true, null, '1-based indexes are read as they are'],
  ];
  const applied = () => {
    const { items } = splitters();
    const ties = toPortTies(rows('properties.json'), context('GET /properties'));
    applyPortTies(items, ties.items);
    return { ports: new Map(items.flatMap((s) => s.ports).map((p) => [p.externalId, p])), ties };
  };
  for (const [id, number, available, customer, why] of PORTS) {
    test(`port ${id}: ${why}`, () => {
      const port = applied().ports.get(id);
      assert.ok(port, `port ${id} exists`);
      assert.deepEqual([port.number, port.available, port.customer?.externalId ?? null], [number, available, customer]);
    });
  }

  test('a port with a fibre and no property is not free (unknown is never free)', () => {
    const { items } = toSplitters(
      [{ id: 's', parent: 'b', splitterType: { isDrop: true, ratio: { input: 1, output: 2 } }, ports: [{ index: 0, blocked: false }, { index: 1, blocked: false }], connectables: { output: ['f', null] } }],
      context('GET /splitters'),
    );
    assert.deepEqual(items[0]!.ports.map((p) => p.available), [false, true]);
  });

  test('ports of a planned splitter are planned; port ids round-trip', () => {
    const { ports } = applied();
    assert.equal(ports.get(portExternalId(S(3), 2))?.planned, true);
    assert.equal(ports.get(portExternalId(S(1), 2))?.planned, false);
    assert.deepEqual(parsePortExternalId(portExternalId(S(1), 8)), { splitterId: S(1), port: 8 });
    assert.equal(parsePortExternalId('91'), null);
    assert.equal(parsePortExternalId('x:0'), null);
  });

  test('port ties: a connection without a port ≥ 1 is a rejection naming the endpoint; a client given as an id still ties', () => {
    const { ties } = applied();
    assert.deepEqual(
      ties.items.map((t) => [t.externalId.slice(-2), t.customer?.externalId ?? null, t.ports]),
      [
        ['r1', C(1), [portExternalId(S(1), 2)]],
        ['r2', C(2), [portExternalId(S(1), 4)]],
        ['r3', C(3), []],
        ['r4', null, []],
      ],
    );
    assert.equal(ties.rejected.length, 1);
    assert.equal(ties.rejected[0]!.code, 'bad_value');
    assert.match(ties.rejected[0]!.reason, /GET \/properties: property 65d0000000000000000000r3/);
  });

  test('a port tied to two customers keeps the first and says so', () => {
    const { items } = splitters();
    const rejected: Parameters<typeof applyPortTies>[2] = [];
    applyPortTies(items, [
      { externalId: 'r1', boxExternalId: null, customer: { externalId: 'a', name: null }, ports: [portExternalId(S(1), 1)] },
      { externalId: 'r2', boxExternalId: null, customer: { externalId: 'b', name: null }, ports: [portExternalId(S(1), 1)] },
    ], rejected);
    assert.equal(items[0]!.ports[0]!.customer?.externalId, 'a');
    assert.equal(rejected[0]?.code, 'duplicate_id');
  });
});

describe('ozmap customers', () => {
  test('customers: the client of each property; no document; an unpopulated client is an issue; a property without client is skipped', () => {
    const { items, rejected } = toCustomers(rows('properties.json'), context('GET /properties'));
    assert.deepEqual(items, [
      { externalId: C(1), name: 'Maria da Silva', rawDocument: null, observation: 'id_cliente_servico: 20417', integrationCode: '20417' },
      { externalId: C(2), name: 'João Souza', rawDocument: null, observation: 'contrato 30991 - rua das flores 12', integrationCode: null },
    ]);
    assert.deepEqual(rejected.map((r) => [r.code, r.externalId]), [['unreadable_record', C(3)]]);
    assert.match(rejected[0]!.reason, /not populated/);
  });

  const LOOKUPS: Array<{ name: string; body: unknown; found: string | null | 'error' }> = [
    { name: 'found by code', body: fixture('ftth-clients-by-code.json'), found: C(1) },
    { name: 'none', body: { total: 0, rows: [] }, found: null },
    { name: 'two clients with one code: an error, never a guess', body: fixture('ftth-clients-twins.json'), found: 'error' },
    { name: 'unreadable answer: an error, never "not found" (the pusher would create a twin)', body: { message: 'ok' }, found: 'error' },
  ];
  for (const row of LOOKUPS) {
    test(`customer look-up: ${row.name}`, () => {
      if (row.found === 'error') {
        assert.throws(() => toLookedUpCustomer(row.body, 'GET /ftth-clients'), OzmapShapeError);
        return;
      }
      assert.equal(toLookedUpCustomer(row.body, 'GET /ftth-clients')?.externalId ?? null, row.found);
    });
  }

  test('login answer: the authorization token; none is an error that never shows a token', () => {
    assert.equal(toLoginToken(fixture('login.json')), 'eyJhbGciOiJIUzI1NiJ9.login-token-1');
    assert.throws(() => toLoginToken({ message: 'wrong password' }), /POST \/users\/login/);
  });

  test('created records are counted by createdAt against the time listed from', () => {
    assert.equal(countCreated(rows('poles.json'), new Date('2025-02-01T00:00:00Z')), 3);
    assert.equal(countCreated(rows('poles.json'), new Date('2025-04-01T00:00:00Z')), 0);
    assert.equal(countCreated(rows('poles.json'), undefined), 0);
  });
});

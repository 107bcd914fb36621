import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  GeogridShapeError,
  applyServicePorts,
  listOf,
  maskedSample,
  parsePage,
  toBoxes,
  toCustomers,
  toLookedUpCustomer,
  toPoles,
  toServicePorts,
  toSplitters,
} from '../../src/platforms/geogrid/geogrid.wire.ts';

/**
 * Response shapes seen in real GeoGrid clients (docs platforms/geogrid-v3.md, second survey):
 * each body is read in its known form, in a known alternative, or reported as unreadable
 * with the endpoint and a masked sample. Add a row to a table to add a case.
 */

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/geogrid/${name}`, import.meta.url), 'utf8'));

/** [port id, equipment id, available, reserved, planned, customer id] */
type PortRow = [string, string | null, boolean | null, boolean, boolean, string | null];

const PORT_BODIES: Array<{ name: string; body: unknown; ports: PortRow[]; unreadable: number }> = [
  {
    name: 'issue example: nested, equipment first, its port inside, taken by customer 70001 (not a port 500)',
    body: fixture('equipamentos-portas-aninhadas.json'),
    ports: [['91', '500', false, false, false, '70001']],
    unreadable: 0,
  },
  {
    name: 'nested, complete: taken, reserved by comment, free, reserved by flag, planned equipment',
    body: fixture('equipamentos-portas-aninhadas-completo.json'),
    ports: [
      ['91', '9001', false, false, false, '70001'],
      ['92', '9001', false, true, false, null],
      ['93', '9001', true, false, false, null],
      ['94', '9001', false, true, false, null],
      ['191', '9004', true, false, true, null],
    ],
    unreadable: 0,
  },
  {
    name: 'flat form: {dados:{id,porta,tipo,comentario}, disponivel, equipamento:{atendimento,sigla}}',
    body: fixture('equipamentos-portas-plana.json'),
    ports: [
      ['91', null, false, false, false, '70001'],
      ['92', null, true, false, false, null],
      ['93', null, false, true, false, null],
      ['94', '9001', true, false, true, null],
    ],
    unreadable: 0,
  },
  {
    name: 'flat form of the first survey (known shape)',
    body: fixture('equipamentos-portas-cto.json'),
    ports: [
      ['91', null, false, false, false, '70001'],
      ['92', null, false, true, false, null],
      ['93', null, true, false, false, null],
    ],
    unreadable: 0,
  },
  {
    name: 'an equipment record without ports is never read as a port; other records survive',
    body: fixture('equipamentos-portas-ilegivel.json'),
    ports: [['93', null, true, false, false, null]],
    unreadable: 3,
  },
  {
    name: 'a customer on a port marked available: taken wins',
    body: { registros: [{ dados: { id: 1, porta: 1 }, disponivel: 'S', cliente: { dados: { id: 5, nome: 'X' } } }] },
    ports: [['1', null, false, false, false, '5']],
    unreadable: 0,
  },
  {
    name: 'reserved markers: reservada flag in dados, portaReservada true, reservadas count; "N" is not reserved',
    body: {
      registros: [
        { dados: { id: 1, porta: 1, reservada: 'S' }, disponivel: 'S' },
        { dados: { id: 2, porta: 2 }, portaReservada: true, disponivel: 'S' },
        { dados: { id: 3, porta: 3, reservadas: '1' }, disponivel: 'S' },
        { dados: { id: 4, porta: 4, reservada: 'N' }, disponivel: 'S' },
        { dados: { id: 5, porta: 5, comentario: 'Não reservada' }, disponivel: 'S' },
      ],
    },
    ports: [
      ['1', null, false, true, false, null],
      ['2', null, false, true, false, null],
      ['3', null, false, true, false, null],
      ['4', null, true, false, false, null],
      ['5', null, true, false, false, null],
    ],
    unreadable: 0,
  },
  {
    name: 'alternative envelopes: bare array, {portas}, {dados:[...]}, {}',
    body: [{ dados: { id: 7, porta: 1 }, disponivel: 'S' }],
    ports: [['7', null, true, false, false, null]],
    unreadable: 0,
  },
  { name: '{portas: [...]}', body: { portas: [{ dados: { id: 8, porta: 2 }, disponivel: 'N' }] }, ports: [['8', null, false, false, false, null]], unreadable: 0 },
  { name: '{dados: [...]}', body: { dados: [{ dados: { id: 9, porta: 3 } }] }, ports: [['9', null, null, false, false, null]], unreadable: 0 },
  { name: 'empty object', body: {}, ports: [], unreadable: 0 },
  {
    name: 'nested with a port without id: that port is reported, the others read',
    body: { registros: [{ dados: { id: 600 }, portas: [{ dados: { porta: 1 } }, { dados: { id: 61, porta: 2 } }] }] },
    ports: [['61', '600', null, false, false, null]],
    unreadable: 1,
  },
  { name: 'nested equipment with no ports', body: { registros: [{ dados: { id: 601 }, portas: [] }] }, ports: [], unreadable: 0 },
];

describe('service ports: known, alternative, unreadable', () => {
  for (const c of PORT_BODIES) {
    test(c.name, () => {
      const read = toServicePorts(c.body, '7001');
      assert.deepEqual(
        read.states.map((s): PortRow => [s.portExternalId, s.splitterExternalId, s.available, s.reserved, s.planned, s.customer?.externalId ?? null]),
        c.ports,
      );
      assert.equal(read.rejected.length, c.unreadable, JSON.stringify(read.rejected));
      for (const rejection of read.rejected) {
        assert.equal(rejection.code, 'unreadable_record');
        assert.match(rejection.reason, /GET \/equipamentos\/itemRede\/7001\/portas: .*sample \(masked\): /);
      }
      // Never an equipment id taken for a port id.
      assert.ok(!read.states.some((s) => s.portExternalId === '500' || s.portExternalId === '600'));
    });
  }

  test('an unreadable sample masks the customer: name to its first letter, document to its last digits', () => {
    const read = toServicePorts(fixture('equipamentos-portas-ilegivel.json'), '7001');
    const reasons = read.rejected.map((r) => r.reason).join('\n');
    assert.match(reasons, /"nome":"B\*\*\*"/);
    assert.match(reasons, /"cpfCnpj":"\*\*\*\.\*\*\*\.\*47-25"/);
    assert.doesNotMatch(reasons, /Bruno|529\.982/);
    assert.match(reasons, /\{"dados":\{"id":500\}\}/);
  });

  const UNREADABLE_BODIES: Array<[string, unknown]> = [
    ['html error page', '<html>Erro 502</html>'],
    ['null', null],
    ['a record instead of a list', { dados: { id: 91, porta: 1 } }],
    ['an error object', { mensagem: 'Sessão expirada' }],
  ];
  for (const [name, body] of UNREADABLE_BODIES) {
    test(`an unreadable body (${name}) is an error naming the endpoint, with a masked sample`, () => {
      assert.throws(
        () => toServicePorts(body, '7001'),
        (error: unknown) =>
          error instanceof GeogridShapeError && error.endpoint === 'GET /equipamentos/itemRede/7001/portas' && /sample \(masked\)/.test(error.message),
      );
    });
  }
});

describe('ports applied to the diagram', () => {
  const diagram = () =>
    toSplitters(fixture('diagrama-equipamentos-cto.json'), { externalId: '7001', kind: 'box' }).items;

  test('issue example: nested ports give port 91 taken by customer 70001; no port 500 appears', () => {
    const splitters = diagram();
    applyServicePorts(splitters, toServicePorts(fixture('equipamentos-portas-aninhadas.json'), '7001').states);
    const ports = splitters.flatMap((s) => s.ports);
    const port91 = ports.find((p) => p.externalId === '91')!;
    assert.equal(port91.available, false);
    assert.equal(port91.customer?.externalId, '70001');
    assert.ok(!ports.some((p) => p.externalId === '500'));
  });

  test('nested ports fill a service splitter whose diagram lists none, by the outer equipment id', () => {
    const splitters = toSplitters(
      { registros: [{ dados: { id: 500, atendimento: 'S' }, tipo: { dados: { descricao: '1x8' } }, portas: [] }] },
      { externalId: '7001', kind: 'box' },
    ).items;
    applyServicePorts(splitters, toServicePorts(fixture('equipamentos-portas-aninhadas.json'), '7001').states);
    assert.deepEqual(splitters[0]!.ports.map((p) => [p.externalId, p.available, p.customer?.externalId]), [['91', false, '70001']]);
  });

  test('a listing read only in part leaves every port it did not show not free', () => {
    const splitters = diagram();
    const read = toServicePorts(fixture('equipamentos-portas-ilegivel.json'), '7001');
    applyServicePorts(splitters, read.states, { complete: read.rejected.length === 0 });
    const service = splitters.find((s) => s.role === 'service')!;
    assert.deepEqual(service.ports.filter((p) => p.available).map((p) => p.externalId), ['93']);
  });

  test('planned equipment in the diagram makes its ports planned; reserved diagram ports are not free', () => {
    const { items } = toSplitters(
      {
        registros: [
          { dados: { id: 1, atendimento: 'S', modoProjeto: 'S' }, tipo: '1x2', portas: [{ dados: { id: 11, porta: 1 } }, { dados: { id: 12, porta: 2 } }] },
          { dados: { id: 2, atendimento: 'S', modoProjeto: 'N' }, tipo: '1x2', portas: [{ dados: { id: 21, porta: 1, modoProjeto: 'S' } }, { dados: { id: 22, porta: 2, reservada: 'S' } }] },
        ],
      },
      { externalId: '1', kind: 'box' },
    );
    assert.deepEqual(items.map((s) => [s.externalId, s.planned]), [['1', true], ['2', false]]);
    assert.deepEqual(items.flatMap((s) => s.ports.map((p) => [p.externalId, p.planned, p.available])), [
      ['11', true, true],
      ['12', true, true],
      ['21', true, true],
      ['22', false, false],
    ]);
  });
});

describe('equipment rows of the diagram', () => {
  const CASES: Array<[string, unknown, string[], Array<[string | null, string]>]> = [
    ['known: tipo.dados.descricao', { dados: { id: 1, atendimento: 'S' }, tipo: { dados: { descricao: '1x8' } }, portas: [] }, ['1'], []],
    ['alternative: tipo as text', { dados: { id: 2 }, tipo: 'Splitter 1X4', portas: [] }, ['2'], []],
    ['alternative: tipo.descricao, unwrapped row', { id: 3, tipo: { descricao: '1:16' }, portas: [] }, ['3'], []],
    ['alternative: tipo.nome', { dados: { id: 4 }, tipo: { nome: '1x2' } }, ['4'], []],
    ['known kind that is not a splitter: skipped', { dados: { id: 5 }, tipo: { dados: { descricao: 'Bandeja de emenda 12F' } } }, [], []],
    ['unreadable: no kind at all', { dados: { id: 6, sigla: 'SPL-X' }, portas: [] }, [], [['6', 'unreadable_record']]],
    ['unreadable: kind in an unknown field', { dados: { id: 7 }, tipoEquipamento: { descricao: '1x8' } }, [], [['7', 'unreadable_record']]],
  ];
  for (const [name, row, ids, rejected] of CASES) {
    test(name, () => {
      const read = toSplitters({ registros: [row] }, { externalId: '7001', kind: 'box' });
      assert.deepEqual(read.items.map((s) => s.externalId), ids);
      assert.deepEqual(read.rejected.map((r) => [r.externalId, r.code]), rejected);
      for (const r of read.rejected) assert.match(r.reason, /^GET \/diagrama\/equipamentos\/7001: .*sample \(masked\)/);
    });
  }
});

describe('lists and records', () => {
  test('GET /clientes may answer {dados:[...]}: read as an alternative, records wrapped or not', () => {
    const page = parsePage(fixture('clientes-dados.json'), 'GET /clientes');
    assert.equal(page.shape, 'alternative');
    assert.equal(page.total, 2);
    const { items, rejected } = toCustomers(page.records);
    assert.deepEqual(items.map((c) => [c.externalId, c.name, c.integrationCode]), [
      ['70001', 'Ana Silva', null],
      ['70002', 'Padaria Souza Ltda', '456'],
    ]);
    assert.deepEqual(rejected, []);
  });

  const PAGES: Array<[string, unknown, 'known' | 'alternative' | 'unreadable', number]> = [
    ['registros + string total', { registros: [1, 2], totalRegistros: '2' }, 'known', 2],
    ['registros, no total', { registros: [] }, 'known', 0],
    ['bare array', [1, 2, 3], 'alternative', 3],
    ['dados list', { dados: [1] }, 'alternative', 1],
    ['a single record', { dados: { id: 1 } }, 'unreadable', 0],
    ['html', '<html>Erro</html>', 'unreadable', 0],
    ['registros not a list', { registros: 'nenhum' }, 'unreadable', 0],
    ['an error message', { mensagem: 'Token inválido' }, 'unreadable', 0],
  ];
  for (const [name, body, shape, count] of PAGES) {
    test(`a paged body: ${name} → ${shape}`, () => {
      if (shape === 'unreadable') {
        assert.throws(() => parsePage(body, 'GET /clientes'), (error: unknown) => error instanceof GeogridShapeError && error.endpoint === 'GET /clientes');
        return;
      }
      const page = parsePage(body, 'GET /clientes');
      assert.equal(page.shape, shape);
      assert.equal(page.records.length, count);
    });
  }

  test('list bodies of equipment: {registros}, {equipamentos}, bare array; a record is unreadable', () => {
    assert.equal(listOf({ equipamentos: [1] }, 'x').length, 1);
    assert.equal(listOf([1, 2], 'x').length, 2);
    assert.throws(() => listOf({ dados: { id: 1 } }, 'GET /diagrama/equipamentos/1'), /unexpected shape for GET \/diagrama\/equipamentos\/1/);
  });

  test('unreadable item and customer records name the endpoint and show a masked sample', () => {
    const poles = toPoles([{ pasta: { id: 1 } }, 'texto'], { folders: new Set<string>() });
    assert.deepEqual(poles.rejected.map((r) => r.code), ['unreadable_record', 'unreadable_record']);
    assert.match(poles.rejected[0]!.reason, /^GET \/itensRede: .*sample \(masked\): \{"pasta":\{"id":1\}\}/);
    const customers = toCustomers([{ dados: 'Maria Souza 123.456.789-09' }]);
    assert.match(customers.rejected[0]!.reason, /^GET \/clientes: .*sample \(masked\)/);
    assert.doesNotMatch(customers.rejected[0]!.reason, /123\.456\.789-09/);
  });

  test('planned items (modoProjeto S/N, in dados or beside it, any case) carry the planned flag', () => {
    const { items } = toBoxes(parsePage(fixture('itensRede-modo-projeto.json'), 'x').records, { folders: new Set<string>() });
    assert.deepEqual(items.map((b) => [b.externalId, b.planned]), [
      ['7101', true],
      ['7102', false],
      ['7103', false],
      ['7104', true],
    ]);
    const poles = toPoles([{ dados: { id: 1, latitude: -22.9, longitude: -47.1, modoProjeto: 'S' } }], { folders: new Set<string>() });
    assert.equal(poles.items[0]!.planned, true);
  });

  const SAMPLES: Array<[unknown, RegExp, RegExp | null]> = [
    [{ cpfCnpj: 52998224725 }, /"cpfCnpj":"\*+4725"/, /52998224725/],
    [{ dados: { nome: 'Maria', telefone: '(19) 99876-5432' } }, /"nome":"M\*\*\*","telefone":"\(\*\*\*"/, /Maria|5432/],
    [{ observacao: 'ID 123 CPF 529.982.247-25' }, /"observacao":"I\*\*\*"/, /529/],
    ['cliente 529.982.247-25 sem porta', /\*\*\*\.\*\*\*\.\*47-25/, /529\.982/],
    [{ lista: [1, 2, 3, 4, 5] }, /\[1,2,3,"…\(\+2\)"\]/, null],
    [{ a: { b: { c: { d: { e: 1 } } } } }, /"d":"…"/, null],
  ];
  SAMPLES.forEach(([value, shows, hides], index) => {
    test(`masked sample ${index + 1}`, () => {
      const sample = maskedSample(value);
      assert.match(sample, shows);
      if (hides) assert.doesNotMatch(sample, hides);
    });
  });
});

describe('a customer looked up by integration code', () => {
  const FOUND = { dados: { id: 70002, nome: 'Padaria', cpfCnpj: '12ABC34501DE35', codigoIntegracao: '456' } };
  const CASES: Array<[string, unknown, string | null | 'unreadable']> = [
    ['known: {dados}', FOUND, '70002'],
    ['known: naoEncontrado', { naoEncontrado: 'Cliente não encontrado' }, null],
    ['alternative: unwrapped record', FOUND.dados, '70002'],
    ['alternative: a list of one', { registros: [FOUND] }, '70002'],
    ['alternative: {dados: [one]}', { dados: [FOUND.dados] }, '70002'],
    ['alternative: an empty list', { registros: [] }, null],
    ['alternative: an empty body', '', null],
    ['unreadable: a list of two is not "the" customer', { dados: [FOUND.dados, { ...FOUND.dados, id: 70003 }] }, 'unreadable'],
    ['unreadable: a record without id', { dados: { nome: 'Sem id', cpfCnpj: '52998224725' } }, 'unreadable'],
    ['unreadable: an error message', { mensagem: 'Token expirado' }, 'unreadable'],
    ['unreadable: html', '<html>502</html>', 'unreadable'],
  ];
  for (const [name, body, expected] of CASES) {
    test(`${name} → ${expected}`, () => {
      if (expected === 'unreadable') {
        assert.throws(
          () => toLookedUpCustomer(body, 'GET /clientes/integrado/{codigo}'),
          (error: unknown) => error instanceof GeogridShapeError && error.endpoint === 'GET /clientes/integrado/{codigo}' && !/52998224725/.test(error.message),
        );
        return;
      }
      assert.equal(toLookedUpCustomer(body)?.externalId ?? null, expected);
    });
  }
});

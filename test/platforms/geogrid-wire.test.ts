import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  applyServicePorts,
  customerBody,
  listedDigestOf,
  parsePage,
  ratioOf,
  toBoxes,
  toCustomers,
  toLookedUpCustomer,
  toPoles,
  toProjects,
  toServicePorts,
  toServiceViabilityItemIds,
  toSplitters,
} from '../../src/platforms/geogrid/geogrid.wire.ts';
import { checkCoordinates, numberOf } from '../../src/platforms/record-validation.ts';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/geogrid/${name}`, import.meta.url), 'utf8'));

const itemContext = (folders: string[] = []) => ({ folders: new Set(folders) });

test('folders map to projects, string and numeric ids alike', () => {
  const { items, rejected } = toProjects(parsePage(fixture('pastas.json'), 'pastas').records);
  assert.deepEqual(items, [
    { externalId: '101', name: 'Campinas', parentName: null },
    { externalId: '102', name: 'Centro', parentName: 'Campinas' },
    { externalId: '103', name: 'Cambuí', parentName: 'Campinas' },
  ]);
  assert.equal(rejected.length, 0);
});

test('a page total may be a string or a number', () => {
  assert.equal(parsePage(fixture('itensRede-poste-pagina1.json'), 'x').total, 5);
  assert.equal(parsePage(fixture('itensRede-caixas.json'), 'x').total, 6);
  assert.throws(() => parsePage('<html>erro</html>', 'GET /itensRede'), /unexpected shape for GET \/itensRede/);
});

test('poles: wrapped and unwrapped records, string and decimal-comma coordinates', () => {
  const context = itemContext();
  const first = toPoles(parsePage(fixture('itensRede-poste-pagina1.json'), 'x').records, context);
  assert.deepEqual(first.rejected, []);
  assert.deepEqual(
    first.items.map((p) => [p.externalId, p.projectExternalId, p.lat, p.lon]),
    [
      ['5001', '102', -22.9056, -47.0608],
      ['5002', '102', -22.9059, -47.0611],
      ['5003', '103', -22.9062, -47.0614],
    ],
  );
  assert.equal(first.items[0]!.observation, '<p>Poste de concreto</p>');

  const second = toPoles(parsePage(fixture('itensRede-poste-pagina2.json'), 'x').records, context);
  assert.equal(second.items.length, 0);
  assert.deepEqual(
    second.rejected.map((r) => [r.externalId, r.code]),
    [
      ['5004', 'bad_coordinates'],
      [null, 'missing_id'],
    ],
  );
});

test('poles outside the scoped folders are left out, not rejected', () => {
  const { items, rejected } = toPoles(parsePage(fixture('itensRede-poste-pagina1.json'), 'x').records, itemContext(['103']));
  assert.deepEqual(items.map((p) => p.externalId), ['5003']);
  assert.equal(rejected.length, 0);
});

test('boxes: kinds, pole link, bad coordinates and unreadable records; a repeated id is left to the sync', () => {
  const { items, rejected } = toBoxes(parsePage(fixture('itensRede-caixas.json'), 'x').records, itemContext());
  assert.deepEqual(
    items.map((b) => [b.externalId, b.kind, b.poleExternalId]),
    [
      ['7001', 'cto', '5001'],
      ['7002', 'splice', null],
      // The sync keeps the first 7001 and reports this one (duplicate_id, see keyStaging).
      ['7001', 'cto', null],
    ],
  );
  assert.deepEqual(
    rejected.map((r) => [r.externalId, r.code]),
    [
      ['7003', 'bad_coordinates'],
      [null, 'unreadable_record'],
      [null, 'unreadable_record'],
    ],
  );
  for (const r of rejected) assert.equal(r.kind, 'box');
});

test('equipment: splitters with roles and ratios, other equipment skipped, service ports get customers', () => {
  const container = { externalId: '7001', kind: 'box' as const };
  const { items, rejected } = toSplitters(fixture('diagrama-equipamentos-cto.json'), container);
  assert.equal(rejected.length, 0);
  assert.deepEqual(
    items.map((s) => [s.externalId, s.role, s.ratioIn, s.ratioOut, s.ports.length, s.containerExternalId]),
    [
      ['9001', 'service', 1, 8, 8, '7001'],
      ['9002', 'distribution', 1, 2, 2, '7001'],
    ],
  );
  applyServicePorts(items, toServicePorts(fixture('equipamentos-portas-cto.json'), '7001').states);
  const ports = items[0]!.ports;
  assert.deepEqual(ports[0], { externalId: '91', number: 1, label: 'P1', available: false, customer: { externalId: '70001', name: 'Ana Silva' }, planned: false });
  assert.equal(ports[1]!.available, false);
  assert.equal(ports[1]!.customer, null);
  assert.equal(ports[2]!.available, true);
  assert.equal(ports[7]!.customer, null);
});

test('equipment rows that are malformed are rejected without losing the others', () => {
  const body = {
    registros: [
      null,
      { tipo: { dados: { descricao: '1x8' } }, portas: [] },
      { dados: { id: 1, atendimento: 'S' }, tipo: { dados: { descricao: '1x16' } }, portas: ['x', { dados: {} }, { id: 5, porta: 1 }] },
    ],
  };
  const { items, rejected } = toSplitters(body, { externalId: '1', kind: 'pole' });
  assert.equal(items.length, 1);
  assert.equal(items[0]!.containerKind, 'pole');
  assert.deepEqual(items[0]!.ports.map((p) => p.externalId), ['5']);
  assert.deepEqual(rejected.map((r) => [r.kind, r.code]), [
    ['splitter', 'unreadable_record'],
    ['splitter', 'missing_id'],
    ['port', 'unreadable_record'],
    ['port', 'missing_id'],
  ]);
});

test('customers: mapping and missing id; a repeated id is left to the sync', () => {
  const { items, rejected } = toCustomers(parsePage(fixture('clientes-pagina1.json'), 'x').records);
  assert.deepEqual(items[1], {
    externalId: '70002',
    name: 'Padaria Souza Ltda',
    rawDocument: '12.abc.345/01de-35',
    observation: '<p>id_cliente_servico: 456</p>',
    integrationCode: '456',
  });
  assert.deepEqual(rejected.map((r) => [r.externalId, r.code]), [[null, 'missing_id']]);
  assert.deepEqual(items.map((c) => c.externalId).filter((id) => id === '70001').length, 2);
});

test('integration code lookup: found, and naoEncontrado', () => {
  assert.equal(toLookedUpCustomer(fixture('cliente-integrado.json'))?.externalId, '70002');
  assert.equal(toLookedUpCustomer(fixture('cliente-integrado-nao-encontrado.json')), null);
});

test('customer body is minimal and whitelisted', () => {
  const body = customerBody({
    name: 'Ana Silva',
    document: '12345678909',
    personType: 'person',
    serviceId: '123',
    extra: { email: 'ana@example.com', state: 'SP', password: 'nope' },
  });
  assert.deepEqual(body, {
    dados: {
      email: 'ana@example.com',
      estado: 'SP',
      nome: 'Ana Silva',
      cpfCnpj: '12345678909',
      tipo: 'F',
      observacao: 'id_cliente_servico: 123',
      codigoIntegracao: '123',
    },
  });
});

test('splitter ratios and coordinates are read robustly', () => {
  assert.deepEqual(ratioOf('1x8'), [1, 8]);
  assert.deepEqual(ratioOf('Splitter 1X16'), [1, 16]);
  assert.deepEqual(ratioOf('2:4'), [2, 4]);
  assert.equal(ratioOf('Bandeja 12F'), null);
  assert.equal(numberOf('-22,9'), -22.9);
  assert.equal(numberOf('12abc'), null);
  assert.equal(checkCoordinates('-22,9', '-47,06').ok, true);
  assert.equal(checkCoordinates(95, -47).ok, false);
  assert.equal(checkCoordinates('0', '0').ok, false);
  assert.equal(checkCoordinates(null, -47).ok, false);
});

test('the digest of a listed item covers every field of the record, in any key order', () => {
  const record = { dados: { id: 7, item: 'terminal', sigla: 'CTO-1', latitude: -22.9, longitude: -47.06, status: 'Implantado' }, pasta: { id: 102 } };
  const [item] = toBoxes([record], itemContext()).items;
  const reordered = { pasta: { id: 102 }, dados: { status: 'Implantado', longitude: -47.06, latitude: -22.9, sigla: 'CTO-1', item: 'terminal', id: 7 } };
  assert.equal(toBoxes([reordered], itemContext()).items[0]!.listedDigest, item!.listedDigest);
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['status', { ...record.dados, status: 'Em manutenção' }, '102'],
    ['an unmapped field', { ...record.dados, modoProjeto: 'S' }, '102'],
    ['the folder', record.dados, '103'],
  ];
  for (const [what, dados, folder] of cases) {
    assert.notEqual(listedDigestOf(dados, folder), item!.listedDigest, what);
  }
  assert.equal(listedDigestOf(record.dados, '102'), item!.listedDigest);
  const [pole] = toPoles([record], itemContext()).items;
  assert.equal(pole!.listedDigest, item!.listedDigest);
});

test('service ports: equipment name, position, and a label field that is empty or absent', () => {
  const { states } = toServicePorts(
    {
      registros: [
        { dados: { id: 1, porta: 3, label: 'P3' }, disponivel: 'N', equipamento: { id: 50, sigla: 'SPL-AT-1x8', atendimento: 'S' }, cliente: { id: 9, nome: 'Ana' } },
        { dados: { id: 2, porta: '4', label: null }, disponivel: 'S', equipamento: { atendimento: 'S', sigla: 'SPL-AT-1x8' } },
        { dados: { id: 3, porta: 5 }, equipamento: { dados: { id: 51, sigla: 'SPL-B' } } },
        { dados: { id: 4, idEquipamento: 52 } },
      ],
    },
    '700',
  );
  assert.deepEqual(
    states.map((s) => [s.portExternalId, s.splitterExternalId, s.splitterName, s.number, s.label, s.labelGiven]),
    [
      ['1', '50', 'SPL-AT-1x8', 3, 'P3', true],
      ['2', null, 'SPL-AT-1x8', 4, null, true],
      ['3', '51', 'SPL-B', 5, null, false],
      ['4', '52', null, null, null, false],
    ],
  );
});

test('the service-viability listing gives item ids, wrapped or not, and skips what has none', () => {
  assert.deepEqual(
    toServiceViabilityItemIds([
      { dados: { id: 7001, item: 'terminal' }, distancia: 12, portasLivres: 3 },
      { id: '7002', distancia: 40 },
      { idItemRede: 7003, portasLivres: 0 },
      { dados: { idItemRede: 7004 } },
      { distancia: 5 },
      'lixo',
      null,
    ]),
    ['7001', '7002', '7003', '7004'],
  );
});

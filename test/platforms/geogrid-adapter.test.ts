import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, test } from 'node:test';
import nock from 'nock';
import { createPlatformAdapter } from '../../src/platforms/adapter-factory.ts';
import { OzmapAdapter } from '../../src/platforms/ozmap/ozmap.adapter.ts';
import { GeogridAdapter } from '../../src/platforms/geogrid/geogrid.adapter.ts';
import { PlatformError } from '../../src/platforms/http/platform-error.ts';

const HOST = 'https://eros.geogrid.test';
const API = '/acme/api/v3';
const TOKEN = 'tok-abcdef-123456';
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/geogrid/${name}`, import.meta.url), 'utf8'));

const adapters: GeogridAdapter[] = [];
function adapter(pageSize = 3): GeogridAdapter {
  const a = new GeogridAdapter({
    apiUrl: `${HOST}/acme/`,
    token: TOKEN,
    adapter: 'http',
    pageSize,
    http: { requestsPerMinute: 60_000, retryBaseDelayMs: 5, timeoutMs: 2000 },
  });
  adapters.push(a);
  return a;
}

async function collect<T>(pages: AsyncIterable<{ items: T[]; rejected: unknown[] }>) {
  const items: T[] = [];
  const rejected: unknown[] = [];
  for await (const page of pages) {
    items.push(...page.items);
    rejected.push(...page.rejected);
  }
  return { items, rejected };
}

before(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
after(async () => {
  nock.enableNetConnect();
  for (const a of adapters) await a.close();
});

test('poles are read page by page until the last partial page, with string totals', async () => {
  const scope = nock(HOST, { reqheaders: { 'api-key': TOKEN } })
    .get(`${API}/itensRede`)
    .query({ 'item[]': 'poste', pagina: '1', registrosPorPagina: '3' })
    .reply(200, fixture('itensRede-poste-pagina1.json'))
    .get(`${API}/itensRede`)
    .query({ 'item[]': 'poste', pagina: '2', registrosPorPagina: '3' })
    .reply(200, fixture('itensRede-poste-pagina2.json'));
  const { items, rejected } = await collect(adapter().poles({ projectExternalIds: [] }));
  assert.deepEqual(items.map((p) => p.externalId), ['5001', '5002', '5003']);
  assert.equal(rejected.length, 2);
  scope.done();
});

test('paging without a total stops on an empty page', async () => {
  const page = (ids: number[]) => ({
    registros: ids.map((id) => ({ dados: { id, latitude: -22.9, longitude: -47.06 } })),
  });
  const scope = nock(HOST)
    .get(`${API}/itensRede`).query((q) => q.pagina === '1').reply(200, page([1, 2, 3]))
    .get(`${API}/itensRede`).query((q) => q.pagina === '2').reply(200, page([4, 5, 6]))
    .get(`${API}/itensRede`).query((q) => q.pagina === '3').reply(200, page([]));
  const { items } = await collect(adapter().poles({ projectExternalIds: [] }));
  assert.equal(items.length, 6);
  scope.done();
});

test('folders become projects', async () => {
  nock(HOST).get(`${API}/pastas`).query(true).reply(200, fixture('pastas.json'));
  const projects = await adapter(500).listProjects();
  assert.deepEqual(projects.map((p) => p.name), ['Campinas', 'Centro', 'Cambuí']);
});

test('splitters: one diagram call per container, one ports call only where there is service equipment', async () => {
  const scope = nock(HOST)
    .get(`${API}/diagrama/equipamentos/7001`).reply(200, fixture('diagrama-equipamentos-cto.json'))
    .get(`${API}/equipamentos/itemRede/7001/portas`)
    .query((q) => JSON.stringify(q['atendimento[]']) === '"S"' && JSON.stringify(q['tipo[]']) === '"S"')
    .reply(200, fixture('equipamentos-portas-cto.json'))
    .get(`${API}/diagrama/equipamentos/5001`).reply(200, { registros: [], totalRegistros: '0' })
    .get(`${API}/diagrama/equipamentos/5999`).reply(404, { naoEncontrado: 'Item não encontrado' });
  const { items } = await collect(
    adapter(500).splitters([
      { externalId: '7001', kind: 'box' },
      { externalId: '5001', kind: 'pole' },
      { externalId: '5999', kind: 'pole' },
    ]),
  );
  assert.deepEqual(items.map((s) => s.externalId).sort(), ['9001', '9002']);
  const service = items.find((s) => s.role === 'service')!;
  assert.equal(service.ports[0]!.customer?.externalId, '70001');
  scope.done();
});

test('customers stream with dados unwrapped and rejections; a repeated id is passed on for the sync to reject', async () => {
  nock(HOST).get(`${API}/clientes`).query(true).reply(200, fixture('clientes-pagina1.json'));
  const { items, rejected } = await collect(adapter(500).customers({ projectExternalIds: [] }));
  assert.deepEqual(items.map((c) => c.externalId), ['70001', '70002', '70001']);
  assert.deepEqual(rejected.map((r) => (r as { code: string }).code), ['missing_id']);
});

test('lookup by integration code: found, naoEncontrado with 200 or 404', async () => {
  nock(HOST)
    .get(`${API}/clientes/integrado/456`).reply(200, fixture('cliente-integrado.json'))
    .get(`${API}/clientes/integrado/999`).reply(200, fixture('cliente-integrado-nao-encontrado.json'))
    .get(`${API}/clientes/integrado/998`).reply(404, fixture('cliente-integrado-nao-encontrado.json'));
  const a = adapter();
  assert.equal((await a.findCustomerByIntegrationCode('456'))?.externalId, '70002');
  assert.equal(await a.findCustomerByIntegrationCode('999'), null);
  assert.equal(await a.findCustomerByIntegrationCode('998'), null);
});

test('createCustomer posts a wrapped minimal body; a duplicate integration code is a permanent error', async () => {
  let sent: unknown;
  nock(HOST)
    .post(`${API}/clientes`, (body) => {
      sent = body;
      return true;
    })
    .reply(201, { dados: { id: 80001, nome: 'Ana', cpfCnpj: '12345678909', codigoIntegracao: '123' } })
    .post(`${API}/clientes`)
    .reply(400, fixture('erro-codigo-integracao-duplicado.json'));
  const a = adapter();
  const payload = { name: 'Ana', document: '12345678909', personType: 'person' as const, serviceId: '123' };
  const created = await a.createCustomer(payload);
  assert.equal(created.externalId, '80001');
  assert.deepEqual(sent, {
    dados: { nome: 'Ana', cpfCnpj: '12345678909', tipo: 'F', observacao: 'id_cliente_servico: 123', codigoIntegracao: '123' },
  });
  await assert.rejects(a.createCustomer(payload), (error: unknown) => {
    assert.ok(error instanceof PlatformError);
    assert.equal(error.permanent, true);
    assert.ok(error.hasField('codigoIntegracao'));
    assert.match(error.message, /codigoIntegracao: Código de integração já está cadastrado/);
    return true;
  });
});

test('bind answered 500 but done: the port is re-read and the bind is taken as done', async () => {
  const scope = nock(HOST)
    .post(`${API}/integracao/atender`, { idPorta: 91, idCliente: 70001, local: { latitude: -22.9, longitude: -47.06 } })
    .reply(500, { mensagem: 'Erro interno' })
    .get(`${API}/equipamentos/itemRede/7001/portas`).query(true)
    .reply(200, fixture('equipamentos-portas-cto.json'));
  await adapter(500).bind({ containerExternalId: '7001', portExternalId: '91', customerExternalId: '70001', lat: -22.9, lon: -47.06 });
  scope.done();
});

test('bind answered 500 and not done: the error stays, and POST is not retried', async () => {
  const scope = nock(HOST)
    .post(`${API}/integracao/atender`).reply(500, { mensagem: 'Erro interno' })
    .get(`${API}/equipamentos/itemRede/7001/portas`).query(true)
    .reply(200, fixture('equipamentos-portas-cto.json'));
  await assert.rejects(
    adapter(500).bind({ containerExternalId: '7001', portExternalId: '93', customerExternalId: '70001', lat: null, lon: null }),
    (error: unknown) => error instanceof PlatformError && error.status === 500 && error.retryable,
  );
  scope.done();
});

test('a reserved port is a permanent refusal', async () => {
  nock(HOST).post(`${API}/integracao/atender`).reply(400, fixture('erro-porta-reservada.json'));
  await assert.rejects(
    adapter().bind({ containerExternalId: '7001', portExternalId: '92', customerExternalId: '70001', lat: null, lon: null }),
    (error: unknown) =>
      error instanceof PlatformError && error.permanent && error.hasField('portaReservada') && /A porta está reservada/.test(error.message),
  );
});

test('unbind deletes /integracao/atender/{porta}/{cliente}', async () => {
  const scope = nock(HOST).delete(`${API}/integracao/atender/91/70001`).reply(200, {});
  await adapter().unbind('91', '70001');
  scope.done();
});

test('adapter factory: geogrid and simulator use the GeoGrid adapter; ozmap its own', async () => {
  const base = { id: 'x', apiUrl: 'https://a.test', token: 't', http: { concurrency: 2, requestsPerMinute: 100, timeoutMs: 1000 } };
  const g = createPlatformAdapter({ ...base, platform: 'geogrid' });
  const s = createPlatformAdapter({ ...base, platform: 'simulator' });
  assert.ok(g instanceof GeogridAdapter);
  assert.ok(s instanceof GeogridAdapter);
  assert.equal((g as GeogridAdapter).client.limiter.concurrency, 2);
  await g.close?.();
  await s.close?.();
  const o = createPlatformAdapter({ ...base, platform: 'ozmap' });
  assert.ok(o instanceof OzmapAdapter);
  await o.close?.();
  const byLogin = createPlatformAdapter({ ...base, token: undefined, login: 'u', password: 'p', platform: 'ozmap' });
  assert.ok(byLogin instanceof OzmapAdapter);
  await byLogin.close?.();
  assert.throws(() => createPlatformAdapter({ ...base, token: undefined, platform: 'ozmap' }), /no credentials for the platform \(token, or login and password\)/);
});

test('nested ports through the adapter: port 91 taken by customer 70001, never a port 500', async () => {
  nock(HOST)
    .get(`${API}/diagrama/equipamentos/7001`).reply(200, fixture('diagrama-equipamentos-cto.json'))
    .get(`${API}/equipamentos/itemRede/7001/portas`).query(true).reply(200, fixture('equipamentos-portas-aninhadas.json'));
  const { items, rejected } = await collect(adapter(500).splitters([{ externalId: '7001', kind: 'box' }]));
  assert.deepEqual(rejected, []);
  const ports = items.flatMap((s) => s.ports);
  const port91 = ports.find((p) => p.externalId === '91')!;
  assert.deepEqual([port91.available, port91.customer?.externalId], [false, '70001']);
  assert.ok(!ports.some((p) => p.externalId === '500'));
});

test('a ports listing nobody can read is an issue for that container; its service ports are not free; the run goes on', async () => {
  nock(HOST)
    .get(`${API}/diagrama/equipamentos/7001`).reply(200, fixture('diagrama-equipamentos-cto.json'))
    .get(`${API}/equipamentos/itemRede/7001/portas`).query(true).reply(200, { mensagem: 'Sessão expirada para Maria Souza' });
  const { items, rejected } = await collect(adapter(500).splitters([{ externalId: '7001', kind: 'box' }]));
  const service = items.find((s) => s.role === 'service')!;
  assert.equal(service.ports.length, 8);
  assert.ok(service.ports.every((p) => !p.available));
  assert.equal(rejected.length, 1);
  const issue = rejected[0] as { code: string; reason: string };
  assert.equal(issue.code, 'unreadable_record');
  assert.match(issue.reason, /GET \/equipamentos\/itemRede\/7001\/portas.*sample \(masked\): \{"mensagem":"S/);
  assert.doesNotMatch(issue.reason, /Maria/);

  // The occupancy read says "cannot tell" (null), so the sync reads the diagram instead.
  nock(HOST).get(`${API}/equipamentos/itemRede/7001/portas`).query(true).reply(200, '<html>erro</html>');
  const batches = [];
  for await (const batch of adapter(500).portOccupancy([{ externalId: '7001', kind: 'box' }])) batches.push(...batch);
  assert.deepEqual(batches.map((b) => b.ports), [null]);
});

test('GET /clientes answering {dados:[...]} is read, not a stop', async () => {
  nock(HOST).get(`${API}/clientes`).query(true).reply(200, fixture('clientes-dados.json'));
  const { items, rejected } = await collect(adapter(500).customers({ projectExternalIds: [] }));
  assert.deepEqual(items.map((c) => c.externalId), ['70001', '70002']);
  assert.deepEqual(rejected, []);
});

test('a list page nobody can read stops the run with the endpoint and a masked sample', async () => {
  nock(HOST).get(`${API}/clientes`).query(true).reply(200, { cliente: { nome: 'Maria Souza', cpfCnpj: '529.982.247-25' } });
  await assert.rejects(collect(adapter(500).customers({ projectExternalIds: [] })), (error: unknown) => {
    assert.match(String((error as Error).message), /unexpected shape for GET \/clientes: .*sample \(masked\): \{"cliente":\{"nome":"M\*\*\*","cpfCnpj":"\*\*\*\.\*\*\*\.\*47-25"\}\}/);
    return true;
  });
});

test('who is on a port: never "nobody" when the listing could not be read in full', async () => {
  nock(HOST)
    .get(`${API}/equipamentos/itemRede/7001/portas`).query(true).reply(200, fixture('equipamentos-portas-ilegivel.json'))
    .get(`${API}/equipamentos/itemRede/7001/portas`).query(true).reply(200, fixture('equipamentos-portas-ilegivel.json'))
    .get(`${API}/equipamentos/itemRede/7001/portas`).query(true).reply(200, fixture('equipamentos-portas-aninhadas.json'));
  const a = adapter(500);
  assert.equal(await a.portCustomer('7001', '93'), null, 'a port the listing does show');
  await assert.rejects(a.portCustomer('7001', '94'), /cannot tell who is on port 94: GET \/equipamentos\/itemRede\/7001\/portas/);
  assert.equal(await a.portCustomer('7001', '91'), '70001');
});

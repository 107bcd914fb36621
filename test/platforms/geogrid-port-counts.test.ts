import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import nock from 'nock';
import { GeogridAdapter } from '../../src/platforms/geogrid/geogrid.adapter.ts';
import { GeogridShapeError, toPortCountSummaries } from '../../src/platforms/geogrid/geogrid.wire.ts';
import { PlatformRequestTally } from '../../src/platforms/http/request-tally.ts';

const HOST = 'http://geogrid.test';
const PATH = '/acme/api/v3/equipamentos/itemRede/portas';
const counts = (ocupadas: number, livres: number) => ({ viabilidade: { entradas: 1, saidas: 8, ocupadasTotal: ocupadas, livres, reservadas: 8 - ocupadas - livres, reservadasCliente: 0 } });

const adapters: GeogridAdapter[] = [];
function adapter(): GeogridAdapter {
  const a = new GeogridAdapter({ apiUrl: `${HOST}/acme`, token: 'token-123456', adapter: 'http', http: { requestsPerMinute: 60_000, retries: 0 } });
  adapters.push(a);
  return a;
}
const refs = (...ids: string[]) => ids.map((externalId) => ({ externalId, kind: 'box' as const }));

before(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
after(async () => {
  nock.enableNetConnect();
  for (const a of adapters) await a.close();
});

test('a summary per item shown, the same whatever the order of its equipment; an item left out is absent', () => {
  const one = toPortCountSummaries({ itensRede: [{ idItemRede: 7, equipamentos: [counts(2, 6), counts(0, 8)] }, { idItemRede: '8', equipamentos: [] }] });
  const swapped = toPortCountSummaries({ itensRede: [{ idItemRede: 7, equipamentos: [counts(0, 8), counts(2, 6)] }] });
  const taken = toPortCountSummaries({ itensRede: [{ idItemRede: 7, equipamentos: [counts(3, 5), counts(0, 8)] }] });
  assert.equal(one.get('7'), swapped.get('7'));
  assert.notEqual(one.get('7'), taken.get('7'));
  assert.ok(one.has('8'));
  assert.equal(one.has('9'), false);
  assert.throws(() => toPortCountSummaries({ registros: [] }), GeogridShapeError);
  assert.throws(() => toPortCountSummaries({ itensRede: [{ idItemRede: 7, equipamentos: [{ portas: [] }] }] }), GeogridShapeError);
});

test('50 items per request, counted as portasLote; the run view asks on its own', async () => {
  const ids = Array.from({ length: 120 }, (_, i) => String(1000 + i));
  const scope = nock(HOST)
    .get(PATH)
    .query(true)
    .times(3)
    .reply((uri) => {
      const asked = new URL(uri, HOST).searchParams.getAll('itensRede[]');
      assert.ok(asked.length <= 50);
      return [200, { itensRede: asked.map((id) => ({ idItemRede: Number(id), equipamentos: [counts(1, 7)] })) }];
    });
  const tally = new PlatformRequestTally();
  const summaries = await adapter().forRun({ tally }).portCountSummaries(refs(...ids));
  assert.equal(summaries?.size, 120);
  assert.deepEqual(tally.toJSON().byFamily, { portasLote: 3 });
  scope.done();
});

for (const [what, reply] of [
  ['404', () => nock(HOST).get(PATH).query(true).reply(404, { mensagem: 'Rota não encontrada' })],
  ['400', () => nock(HOST).get(PATH).query(true).reply(400, { itensRede: 'inválido' })],
  ['an unknown shape', () => nock(HOST).get(PATH).query(true).reply(200, { registros: [{ dados: { id: 1 } }] })],
] as const) {
  test(`refused (${what}): null, and the same run does not ask again`, async () => {
    const scope = reply();
    const run = adapter().forRun({});
    assert.equal(await run.portCountSummaries(refs('1', '2')), null);
    assert.equal(await run.portCountSummaries(refs('3')), null);
    scope.done();
  });
}

test('a 5xx is no refusal: it is retried, and fails the read when it persists', async () => {
  nock(HOST).get(PATH).query(true).reply(500, 'erro');
  await assert.rejects(adapter().forRun({}).portCountSummaries(refs('1')));
});

/**
 * The API behind the operator panes, on a real service, simulator and PostGIS: bindings
 * listed and filtered (GET /v1/bindings), and a run's issues as CSV (report.csv).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { REPORT_CSV_COLUMNS } from '../../src/http/presenters/run-report-csv.ts';
import { cpfFor, waitFor } from '../push/helpers/push-fixtures.ts';
import { bindOnFreePorts, syncWithErpContracts } from '../helpers/operator-fixtures.ts';
import { startTestService, type TestService } from '../helpers/test-service.ts';

async function csvOf(svc: TestService, path: string): Promise<{ status: number; headers: Headers; text: string; bytes: Buffer }> {
  const response = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${svc.apiToken}` } });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, text: bytes.toString('utf8'), bytes };
}

describe('operator panes: bindings list and run report CSV', () => {
  let svc: TestService;
  let runId: string;
  const bindingIds: Record<string, number> = {};
  const portsUsed: { id: number; box: string }[] = [];

  before(async () => {
    // `state` pushed: a customer whose state is not a UF is refused by the platform (a failed push).
    svc = await startTestService({ integration: { push: { fields: ['state'] } } });
    runId = await syncWithErpContracts(svc);
    const bound = await bindOnFreePorts(svc, [
      { serviceId: 'PANE-A', cpf: 901, name: 'Ana Pane', state: 'SP' },
      { serviceId: 'PANE-B', cpf: 902, name: 'Bruno Pane', state: 'Sao Paulo' },
      { serviceId: 'PANE-C', cpf: 903, name: 'Carla Pane', state: 'SP' },
      { serviceId: 'PANE-D', cpf: 904, name: 'Davi Pane', state: 'SP' },
    ]);
    Object.assign(bindingIds, bound.bindingIds);
    portsUsed.push(...bound.ports);
    for (const serviceId of ['PANE-A', 'PANE-B', 'PANE-D']) await svc.request('POST', `/v1/bindings/${bindingIds[serviceId]}/confirm`);
    await svc.request('DELETE', `/v1/bindings/${bindingIds['PANE-D']}`);
    await waitFor('the refused push to be parked', async () => (await svc.request('GET', `/v1/bindings/${bindingIds['PANE-B']}`)).body.syncState === 'failed');
  });
  after(async () => svc?.stop());

  describe('GET /v1/bindings', () => {
    test('newest first, each with its contract holder, box, splitter, port and last push', async () => {
      const answer = await svc.request('GET', '/v1/bindings');
      assert.equal(answer.status, 200);
      assert.deepEqual(
        answer.body.bindings.map((b: any) => b.serviceId),
        ['PANE-D', 'PANE-C', 'PANE-B', 'PANE-A'],
      );
      assert.equal(answer.body.nextBefore, null);
      const failed = answer.body.bindings.find((b: any) => b.serviceId === 'PANE-B');
      assert.equal(failed.customerName, 'Bruno Pane');
      assert.equal(failed.status, 'confirmed');
      assert.equal(failed.syncState, 'failed');
      assert.equal(failed.portId, portsUsed[1]!.id);
      assert.equal(failed.box.name, portsUsed[1]!.box);
      assert.equal(typeof failed.splitter.name, 'string');
      assert.ok(Number.isInteger(failed.port.number));
      assert.equal(failed.lastPush.status, 'failed');
      assert.equal(failed.lastPush.action, 'bind');
      assert.match(failed.lastPush.lastError, /UF deve ter 2 letras/);
      const pending = answer.body.bindings.find((b: any) => b.serviceId === 'PANE-C');
      assert.equal(pending.lastPush, null, 'a pending binding has queued nothing');
      assert.ok(!JSON.stringify(answer.body).includes(cpfFor(902)), 'no document in the list');
    });

    test('filters (table): query → service ids', async () => {
      const boxOfA = portsUsed[0]!.box;
      const boxIdOfA = (await svc.request('GET', `/v1/bindings?serviceId=PANE-A`)).body.bindings[0].box.id;
      const cases: [string, string[]][] = [
        ['status=confirmed', ['PANE-B', 'PANE-A']],
        ['status=pending', ['PANE-C']],
        ['status=cancelled', ['PANE-D']],
        ['syncState=failed', ['PANE-B']],
        ['serviceId=PANE-C', ['PANE-C']],
        ['serviceId=pane-c', []],
        [`integration=${svc.integrationId}&status=pending`, ['PANE-C']],
        [`integration=${svc.integrationId}&serviceId=PANE-Z`, []],
        [`box=${encodeURIComponent(boxOfA.toLowerCase())}&serviceId=PANE-A`, ['PANE-A']],
        [`boxId=${boxIdOfA}&serviceId=PANE-A`, ['PANE-A']],
        ['box=%25', []],
        ['box=_', []],
      ];
      for (const [query, expected] of cases) {
        const answer = await svc.request('GET', `/v1/bindings?${query}`);
        assert.equal(answer.status, 200, query);
        assert.deepEqual(answer.body.bindings.map((b: any) => b.serviceId), expected, query);
      }
    });

    test('an integration neither configured nor ever synced: 404; one only in the database: its (empty) list', async () => {
      const unknown = await svc.request('GET', '/v1/bindings?integration=elsewhere');
      assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
      assert.equal(unknown.body.error, 'not_found');
      assert.match(unknown.body.message, /elsewhere/);
      // Removed from config/ after it synced: its bindings stay listable.
      await svc.db.knex('integrations').insert({ id: 'retired', platform: 'geogrid', api_url: 'https://retired.example' });
      try {
        const retired = await svc.request('GET', '/v1/bindings?integration=retired');
        assert.equal(retired.status, 200, JSON.stringify(retired.body));
        assert.deepEqual(retired.body.bindings, []);
      } finally {
        await svc.db.knex('integrations').where({ id: 'retired' }).delete();
      }
    });

    test('pages by `before`: every binding once, the last page says null', async () => {
      const seen: string[] = [];
      let before: number | null | undefined;
      let pages = 0;
      do {
        const answer = await svc.request('GET', `/v1/bindings?limit=3${before ? `&before=${before}` : ''}`);
        assert.ok(answer.body.bindings.length <= 3);
        seen.push(...answer.body.bindings.map((b: any) => b.serviceId));
        before = answer.body.nextBefore;
        pages += 1;
      } while (before);
      assert.deepEqual(seen, ['PANE-D', 'PANE-C', 'PANE-B', 'PANE-A']);
      assert.equal(pages, 2);
      const exact = await svc.request('GET', '/v1/bindings?limit=4');
      assert.equal(exact.body.nextBefore, null, 'a full last page has no next one');
    });

    test('bad filters are a 400 naming the field; no token is a 401', async () => {
      for (const query of ['status=done', 'syncState=lost', 'limit=0', 'limit=501', 'before=abc', 'boxId=0']) {
        const answer = await svc.request('GET', `/v1/bindings?${query}`);
        assert.equal(answer.status, 400, query);
        assert.match(answer.body.message, new RegExp(query.split('=')[0]!), query);
      }
      const unknown = await svc.request('GET', '/v1/bindings?colour=red');
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.message, /additional properties/);
      assert.equal((await svc.request('GET', '/v1/bindings', undefined, { token: null })).status, 401);
    });
  });

  describe('GET /v1/sync-runs/:runId/report.csv', () => {
    test('the unmatched and ambiguous customers, as the JSON report has them, with their names', async () => {
      const json = await svc.request('GET', `/v1/sync-runs/${runId}/report?code=unmatched,ambiguous&limit=1000`);
      assert.equal(json.status, 200);
      const expected = (json.body.summary.byCode.unmatched ?? 0) + (json.body.summary.byCode.ambiguous ?? 0);
      assert.ok((json.body.summary.byCode.unmatched ?? 0) > 0 && (json.body.summary.byCode.ambiguous ?? 0) > 0, 'the simulator has both');
      assert.equal(json.body.page.total, expected);

      const csv = await csvOf(svc, `/v1/sync-runs/${runId}/report.csv?code=unmatched,ambiguous`);
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get('content-type')!, /^text\/csv; charset=utf-8/);
      assert.match(csv.headers.get('content-disposition')!, new RegExp(`attachment; filename="mapsync-run-${runId}-report.csv"`));
      assert.deepEqual([...csv.bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'starts with the UTF-8 byte order mark');
      assert.ok(csv.text.includes('\r\n') && !/[^\r]\n/.test(csv.text), 'CRLF line ends');
      const rows = parse(csv.text, { bom: true, columns: true }) as Record<string, string>[];
      assert.deepEqual(Object.keys(rows[0]!), [...REPORT_CSV_COLUMNS]);
      assert.equal(rows.length, expected);
      assert.deepEqual(
        rows.map((r) => [r.kind, r.platform_id, r.code, r.reason]),
        json.body.issues.map((i: any) => [i.kind, i.externalId ?? '', i.code, i.reason]),
      );
      const named = rows.filter((r) => r.customer_name !== '');
      assert.ok(named.length > 0, 'customer issues carry the name');
      const someone = named[0]!;
      const customer = await svc.db.knex('platform_customers').where({ integration_id: svc.integrationId, external_id: someone.platform_id }).first();
      assert.equal(someone.customer_name, customer.name);
      assert.equal(someone.document_masked, customer.document_masked ?? '');
      for (const row of rows) assert.ok(!/\d{11}/.test(row.document_masked!), 'documents stay masked');
    });

    test('quoting survives delimiters, quotes, line breaks and formulas; semicolon and no-BOM variants', async () => {
      const tricky = [
        { code: 'text_cleaned', reason: 'Rua "A"; nº 12, fundos\nsegunda linha', external_id: 'x;1' },
        { code: 'text_cleaned', reason: '=HYPERLINK("http://evil","clique")', external_id: '-2+3' },
        { code: 'text_cleaned', reason: 'João, Conceição & Ávila', external_id: null },
      ];
      await svc.db.knex('sync_issues').insert(tricky.map((t) => ({ run_id: runId, integration_id: svc.integrationId, kind: 'poles', ...t })));
      for (const [query, delimiter] of [['', ','], ['&delimiter=semicolon', ';']] as const) {
        const csv = await csvOf(svc, `/v1/sync-runs/${runId}/report.csv?kind=poles&code=text_cleaned${query}`);
        assert.equal(csv.status, 200);
        const rows = parse(csv.text, { bom: true, delimiter, columns: true }) as Record<string, string>[];
        const mine = rows.slice(-3);
        assert.deepEqual(mine.map((r) => r.reason), ['Rua "A"; nº 12, fundos\nsegunda linha', `'=HYPERLINK("http://evil","clique")`, 'João, Conceição & Ávila']);
        assert.deepEqual(mine.map((r) => r.platform_id), ['x;1', `'-2+3`, '']);
        assert.ok(csv.text.includes(`${delimiter}"Rua ""A""; nº 12, fundos\nsegunda linha"${delimiter}`), 'quoted, quotes doubled');
      }
      const plain = await csvOf(svc, `/v1/sync-runs/${runId}/report.csv?kind=poles&bom=false`);
      assert.ok(plain.text.startsWith('kind,platform_id,'), 'no byte order mark');
    });

    test('q finds text in the reason, the platform id or the name, in the JSON report and the CSV', async () => {
      const customer = await svc.db
        .knex('sync_issues as i')
        .join('platform_customers as pc', function () {
          this.on('pc.external_id', '=', 'i.external_id').andOn('pc.integration_id', '=', 'i.integration_id');
        })
        .where('i.run_id', runId)
        .whereNotNull('pc.name')
        .first('pc.name', 'i.external_id');
      const fragment = String(customer.name).slice(1, 6).toUpperCase();
      const json = await svc.request('GET', `/v1/sync-runs/${runId}/report?q=${encodeURIComponent(fragment)}&limit=1000`);
      assert.ok(json.body.issues.some((i: any) => i.externalId === customer.external_id));
      const csv = parse((await csvOf(svc, `/v1/sync-runs/${runId}/report.csv?q=${encodeURIComponent(fragment)}`)).text, { bom: true, columns: true }) as Record<string, string>[];
      assert.deepEqual(csv.map((r) => r.platform_id), json.body.issues.map((i: any) => i.externalId ?? ''));
      const none = await svc.request('GET', `/v1/sync-runs/${runId}/report?q=${encodeURIComponent('%_nothing_%')}`);
      assert.equal(none.body.page.total, 0);
    });

    test('404 for an unknown run, 400 for a bad option, 401 without a token', async () => {
      assert.equal((await csvOf(svc, '/v1/sync-runs/00000000-0000-4000-8000-000000000000/report.csv')).status, 404);
      const bad = await svc.request('GET', `/v1/sync-runs/${runId}/report.csv?delimiter=tab`);
      assert.equal(bad.status, 400);
      assert.match(bad.body.message, /delimiter/);
      assert.equal((await svc.request('GET', `/v1/sync-runs/${runId}/report.csv?bom=maybe`)).status, 400);
      assert.equal((await svc.request('GET', `/v1/sync-runs/${runId}/report.csv`, undefined, { token: null })).status, 401);
    });
  });
});

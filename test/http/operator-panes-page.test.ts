/**
 * The operator panes of the dashboard in a real browser (Debian chromium, offline): bindings
 * filtered, a failed push retried from its pane, a run's customers to fix filtered and
 * downloaded as CSV, and times shown in the integration's own time zone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { Browser } from 'playwright-core';
import { BROWSER_SKIP, launchBrowser, openDashboard, type DashboardPage } from '../helpers/browser.ts';
import { cpfFor, waitFor } from '../push/helpers/push-fixtures.ts';
import { bindOnFreePorts, syncWithErpContracts } from '../helpers/operator-fixtures.ts';
import { startTestService, type TestService } from '../helpers/test-service.ts';

// Nepal is UTC+05:45 all year: no other zone turns 15:00 UTC into 20:45.
const ZONE = 'Asia/Kathmandu';

describe('operator panes in the browser', { skip: BROWSER_SKIP }, () => {
  let svc: TestService;
  let browser: Browser;
  let dashboard: DashboardPage;
  let runId: string;
  const bindingIds: Record<string, number> = {};

  before(async () => {
    svc = await startTestService({ integration: { push: { fields: ['state'] }, timezone: ZONE } });
    runId = await syncWithErpContracts(svc);
    const bound = await bindOnFreePorts(svc, [
      { serviceId: 'WEB-A', cpf: 801, name: 'Alice Web', state: 'SP' },
      { serviceId: 'WEB-B', cpf: 802, name: 'Beto Web', state: 'Sao Paulo' },
      { serviceId: 'WEB-C', cpf: 803, name: 'Cida Web', state: 'SP' },
    ]);
    Object.assign(bindingIds, bound.bindingIds);
    for (const serviceId of ['WEB-A', 'WEB-B']) await svc.request('POST', `/v1/bindings/${bindingIds[serviceId]}/confirm`);
    await waitFor('the refused push to be parked', async () => (await svc.request('GET', `/v1/bindings/${bindingIds['WEB-B']}`)).body.syncState === 'failed');
    await svc.db.knex('bindings').where({ id: bindingIds['WEB-C'] }).update({ created_at: '2026-11-30T15:00:00Z' });

    browser = await launchBrowser();
    dashboard = await openDashboard(browser, svc.url, { token: svc.apiToken });
    await dashboard.page.waitForSelector('#bindings tbody tr[data-binding]');
  });
  after(async () => {
    await dashboard?.close();
    await browser?.close();
    await svc?.stop();
  });

  const rowsOf = (selector: string) => dashboard.page.$$eval(`${selector} tbody tr`, (rows) => rows.map((row) => (row as HTMLElement).innerText));
  /** Waits until the bindings pane shows exactly these service ids, in this order. */
  const shownBindings = (serviceIds: string[]) =>
    dashboard.page.waitForFunction(
      (expected) =>
        JSON.stringify([...document.querySelectorAll('#bindings tbody tr[data-binding] b')].map((b) => b.textContent)) === JSON.stringify(expected),
      serviceIds,
    );

  test('the bindings pane lists every binding and filters by status, push state and box', async () => {
    const { page } = dashboard;
    const all = await rowsOf('#bindings');
    assert.equal(all.length, 3, all.join('\n'));
    assert.match(all[0]!, /WEB-C[\s\S]*Cida Web/);
    assert.match(all[1]!, /WEB-B[\s\S]*failed[\s\S]*UF deve ter 2 letras/);

    await page.selectOption('#bindings-status', 'pending');
    await shownBindings(['WEB-C']);

    await page.selectOption('#bindings-status', '');
    await page.selectOption('#bindings-sync-state', 'failed');
    await shownBindings(['WEB-B']);

    await page.selectOption('#bindings-sync-state', '');
    await page.fill('#bindings-box', 'no box is named so');
    await page.click('#bindings-filters button[type=submit]');
    await page.waitForSelector('#bindings tbody >> text=no binding matches');
    await page.fill('#bindings-box', '');
    await page.click('#bindings-filters button[type=submit]');
    await shownBindings(['WEB-C', 'WEB-B', 'WEB-A']);
  });

  test("times are shown in the integration's time zone, with the UTC instant in the tooltip", async () => {
    const cell = dashboard.page.locator(`#bindings tr[data-binding="${bindingIds['WEB-C']}"] time`).first();
    const text = await cell.innerText();
    assert.match(text, /\b20:45:00\b/, text);
    assert.match(text, /\b30\b/, text);
    assert.equal(await cell.getAttribute('data-zone'), ZONE);
    assert.equal(await cell.getAttribute('datetime'), '2026-11-30T15:00:00.000Z');
    const runTime = dashboard.page.locator('#runs tbody time').first();
    assert.equal(await runTime.getAttribute('data-zone'), ZONE);
  });

  test('a failed push is retried from its pane once the data is fixed, and is delivered', async () => {
    const { page } = dashboard;
    const failed = await rowsOf('#failed-pushes');
    assert.equal(failed.length, 1, failed.join('\n'));
    assert.match(failed[0]!, /HTTP 400: .*UF deve ter 2 letras/);
    const fix = await svc.request('POST', '/v1/customers', { items: [{ serviceId: 'WEB-B', document: cpfFor(802), name: 'Beto Web', state: 'SP' }] });
    assert.equal(fix.body.updated, 1);
    await page.click('#failed-pushes button[data-retry]');
    await page.waitForSelector('#status >> text=/back in line/');
    await page.waitForSelector('#failed-pushes tbody >> text=no failed push');
    await waitFor('the retried push to be delivered', async () =>
      ['pushed', 'in_sync'].includes((await svc.request('GET', `/v1/bindings/${bindingIds['WEB-B']}`)).body.syncState),
    );
    // Offline, the page may be refused a resource from the internet (a base map); nothing else fails.
    assert.deepEqual(dashboard.errors.filter((error) => !/ERR_INTERNET_DISCONNECTED/.test(error)), []);
  });

  test("a run's customers to fix: filtered in the report pane, downloaded as CSV for Excel pt-BR", async () => {
    const { page } = dashboard;
    await page.click(`#runs button[data-report="${runId}"]`);
    await page.waitForSelector('#report-section:not([hidden]) #report tbody tr');
    await page.selectOption('#report-code', 'unmatched,ambiguous');
    const json = await svc.request('GET', `/v1/sync-runs/${runId}/report?code=unmatched,ambiguous&limit=1`);
    const expected = json.body.page.total;
    await page.waitForFunction((n) => {
      const codes = [...document.querySelectorAll('#report tbody tr td:nth-child(3)')].map((cell) => cell.textContent);
      return codes.length === Math.min(n, 200) && codes.every((code) => code === 'unmatched' || code === 'ambiguous');
    }, expected);
    const codes = await page.$$eval('#report tbody tr td:nth-child(3)', (cells) => [...new Set(cells.map((c) => c.textContent))].sort());
    assert.deepEqual(codes, ['ambiguous', 'unmatched']);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#report-csv-excel')]);
    assert.match(download.suggestedFilename(), new RegExp(`mapsync-run-${runId}-report-excel\\.csv`));
    const bytes = readFileSync((await download.path())!);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    const rows = parse(bytes.toString('utf8'), { bom: true, delimiter: ';', columns: true }) as Record<string, string>[];
    assert.equal(rows.length, expected);
    assert.ok(rows.every((r) => r.code === 'unmatched' || r.code === 'ambiguous'));

    const name = rows.find((r) => r.customer_name)!.customer_name!;
    await page.fill('#report-q', name.slice(0, 8));
    await page.click('#report-filters button[type=submit]');
    await page.waitForFunction(
      (fragment) => {
        const rows = [...document.querySelectorAll('#report tbody tr')].map((row) => (row as HTMLElement).innerText.toLowerCase());
        return rows.length > 0 && rows.every((row) => row.includes(fragment));
      },
      name.slice(0, 8).toLowerCase(),
    );
    const shown = await rowsOf('#report');
    assert.ok(shown.some((row) => row.includes(name)), shown.join('\n'));
  });
});

/**
 * The map page in a real browser (Debian chromium, headless, via playwright-core), against a
 * service synced from its simulator, with every request outside the service aborted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { BROWSER_SKIP, launchBrowser, openDashboard, type DashboardPage } from '../helpers/browser.ts';
import { startSyncedService } from '../helpers/synced-network.ts';
import type { TestService } from '../helpers/test-service.ts';

const WAIT = { timeout: 60_000 };

/** Moves the map without animation and waits until every tile in view is drawn. */
async function jumpTo(page: Page, lon: number, lat: number, zoom: number): Promise<void> {
  await page.evaluate(
    ([lon, lat, zoom]) =>
      new Promise<void>((resolve) => {
        const map = (window as any).mapsyncMap;
        map.jumpTo({ center: [lon, lat], zoom });
        map.once('idle', () => resolve());
        map.triggerRepaint();
      }),
    [lon, lat, zoom] as const,
  );
}

/** Where a position is on screen (page coordinates). */
async function screenPoint(page: Page, lon: number, lat: number): Promise<{ x: number; y: number }> {
  return page.evaluate(
    ([lon, lat]) => {
      const map = (window as any).mapsyncMap;
      const point = map.project([lon, lat]);
      const rect = map.getCanvas().getBoundingClientRect();
      return { x: rect.left + point.x, y: rect.top + point.y };
    },
    [lon, lat] as const,
  );
}

describe('the map page', { skip: BROWSER_SKIP }, () => {
  let svc: TestService;
  let browser: Browser;
  let dashboard: DashboardPage;
  let page: Page;
  const tileRequests: string[] = [];
  let box: { id: number; name: string; lon: number; lat: number; ports: number };

  before(async () => {
    svc = await startSyncedService({ simulator: { size: 600, seed: 11 } });
    const row = (
      await svc.db.knex.raw(
        `SELECT b.id, b.name, ST_X(b.geom) AS lon, ST_Y(b.geom) AS lat,
                (SELECT count(*) FROM splitters s JOIN ports p ON p.splitter_id = s.id WHERE s.box_id = b.id AND p.removed_at IS NULL AND s.removed_at IS NULL)::int AS ports
           FROM boxes b
          WHERE b.integration_id = ? AND b.removed_at IS NULL AND NOT b.planned AND b.name IS NOT NULL
            AND EXISTS (SELECT 1 FROM splitters s JOIN ports p ON p.splitter_id = s.id
                         WHERE s.box_id = b.id AND s.role = 'service' AND p.available AND NOT p.planned AND NOT s.planned AND p.platform_customer_external_id IS NULL)
          ORDER BY b.id LIMIT 1`,
        [svc.integrationId],
      )
    ).rows[0];
    box = { id: Number(row.id), name: row.name, lon: Number(row.lon), lat: Number(row.lat), ports: row.ports };
    browser = await launchBrowser();
    dashboard = await openDashboard(browser, svc.url, { token: svc.apiToken });
    page = dashboard.page;
    page.on('request', (request) => {
      if (request.url().includes('/v1/tiles/')) tileRequests.push(request.url());
    });
  });
  after(async () => {
    await dashboard?.close();
    await browser?.close();
    await svc?.stop();
  });

  test('draws the network from the vector tiles, with no request to the internet', async () => {
    await page.waitForFunction(() => {
      const map = (window as any).mapsyncMap;
      return map && map.loaded() && map.queryRenderedFeatures({ layers: ['boxes', 'boxes-planned', 'boxes-groups'] }).length > 0;
    }, undefined, WAIT);
    assert.ok(tileRequests.length > 0, 'the map fetched vector tiles');
    assert.ok(tileRequests.every((url) => url.startsWith(`${svc.url}/v1/tiles/`) && url.includes(`integration=${svc.integrationId}`)));
    assert.deepEqual(dashboard.blockedRequests, [], 'the page asks nothing of the internet');
    const legend = await page.textContent('#map-legend');
    assert.match(legend ?? '', /planned/);
    assert.match(legend ?? '', /document mismatch/);
    assert.deepEqual(dashboard.errors, []);
  });

  test('a search for a known customer flies to it', async () => {
    const customer = (
      await svc.db.knex.raw(
        `SELECT pc.name, ST_X(pc.geom) AS lon, ST_Y(pc.geom) AS lat FROM platform_customers pc
          WHERE pc.integration_id = ? AND pc.removed_at IS NULL AND pc.geom IS NOT NULL AND pc.name IS NOT NULL ORDER BY pc.id DESC LIMIT 1`,
        [svc.integrationId],
      )
    ).rows[0];
    await page.fill('#map-search', customer.name);
    await page.press('#map-search', 'Enter');
    await page.waitForSelector('#search-results li', WAIT);
    assert.match((await page.textContent('#search-results')) ?? '', new RegExp(customer.name));
    await page.waitForFunction(
      ([lon, lat]) => {
        const map = (window as any).mapsyncMap;
        const centre = map.getCenter();
        return !map.isMoving() && Math.abs(centre.lng - lon) < 1e-4 && Math.abs(centre.lat - lat) < 1e-4 && map.getZoom() > 17;
      },
      [Number(customer.lon), Number(customer.lat)] as const,
      WAIT,
    );
  });

  test('clicking a CTO lists its splitters, its ports and who is on each', async () => {
    await jumpTo(page, box.lon, box.lat, 17);
    const at = await screenPoint(page, box.lon, box.lat);
    await page.mouse.click(at.x, at.y);
    await page.waitForFunction((name) => document.querySelector('#box-title')?.textContent === name, box.name, WAIT);
    const rows = await page.$$eval('#map-panel table.ports tbody tr', (trs) => trs.map((tr) => tr.className));
    assert.equal(rows.length, box.ports);
    assert.ok(rows.includes('port-free'), 'its free ports are shown as free');
  });

  test('clicking elsewhere on the map gives the viability list of that point', async () => {
    await jumpTo(page, box.lon, box.lat, 17);
    // A spot near the box with nothing clickable on it (no box, splitter, customer or group).
    const spot = await page.evaluate(() => {
      const map = (window as any).mapsyncMap;
      const canvas = map.getCanvas().getBoundingClientRect();
      const layers = ['boxes', 'boxes-planned', 'customers', 'splitters', 'splitters-planned', 'customers-groups', 'poles-groups', 'boxes-groups'];
      const centre = map.project(map.getCenter());
      for (let r = 40; r < 200; r += 10) {
        for (let a = 0; a < 360; a += 30) {
          const x = centre.x + r * Math.cos((a * Math.PI) / 180);
          const y = centre.y + r * Math.sin((a * Math.PI) / 180);
          if (map.queryRenderedFeatures([[x - 12, y - 12], [x + 12, y + 12]], { layers }).length === 0) return { x: canvas.left + x, y: canvas.top + y };
        }
      }
      return null;
    });
    assert.ok(spot, 'an empty spot near the box');
    await page.mouse.click(spot.x, spot.y);
    await page.waitForSelector('#viability-list li', WAIT);
    const items = await page.$$eval('#viability-list li', (lis) => lis.map((li) => li.textContent ?? ''));
    assert.ok(items.some((text) => text.includes(box.name)), `the nearby box is offered: ${items.join(' | ')}`);
    assert.ok(items.every((text) => / \d+ m · \d+ free/.test(text)));
  });

  test('a sync started from the page shows on the map without a reload', async () => {
    const port = (
      await svc.db.knex.raw(
        `SELECT p.external_id FROM ports p JOIN splitters s ON s.id = p.splitter_id
          WHERE s.box_id = ? AND s.role = 'service' AND p.available AND NOT p.planned AND NOT s.planned AND p.platform_customer_external_id IS NULL
          ORDER BY p.id LIMIT 1`,
        [box.id],
      )
    ).rows[0];
    const newcomer = 'Zuleica Mapeada Teste';
    svc.simulator.addCustomerOnPort(Number(port.external_id), { nome: newcomer, cpfCnpj: null });
    await page.evaluate(() => ((window as any).__samePage = true));
    await jumpTo(page, box.lon, box.lat, 17);
    const onMap = (name: string) =>
      page.evaluate((name) => (window as any).mapsyncMap.querySourceFeatures('network', { sourceLayer: 'customers' }).some((f: any) => f.properties.name === name), name);
    assert.equal(await onMap(newcomer), false);

    await page.click(`button[data-sync="${svc.integrationId}"]`);
    await page.waitForFunction(
      (name) => (window as any).mapsyncMap.querySourceFeatures('network', { sourceLayer: 'customers' }).some((f: any) => f.properties.name === name),
      newcomer,
      { timeout: 120_000, polling: 500 },
    );
    assert.equal(await page.evaluate(() => (window as any).__samePage), true, 'the page was not reloaded');
  });
});

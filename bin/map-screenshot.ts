/**
 * Takes docs/map.png, the README's picture of the map: the demo network (the simulator's
 * seed 1, 3000 elements, as `npm start` shows it) synced into a fresh schema of
 * TEST_DATABASE_URL, drawn by the dashboard in headless chromium with no internet, one
 * box clicked to show its ports.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/mapsync node --import tsx bin/map-screenshot.ts
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openDashboard } from '../test/helpers/browser.ts';
import { startSyncedService } from '../test/helpers/synced-network.ts';

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/map.png');
const svc = await startSyncedService({
  simulator: { size: 3000, seed: 1 },
  integration: { elements: ['service_splitters', 'poles', 'boxes', 'distribution_splitters', 'customers'] },
});
const browser = await launchBrowser();
try {
  const { page, blockedRequests } = await openDashboard(browser, svc.url, { token: svc.apiToken, viewport: { width: 1280, height: 1000 } });
  await page.waitForFunction(() => {
    const map = (window as any).mapsyncMap;
    return map && map.loaded() && map.queryRenderedFeatures({ layers: ['boxes', 'boxes-groups'] }).length > 0;
  }, undefined, { timeout: 60_000 });
  // A box with customers and free ports, near the middle, clicked at zoom 17.
  const box = (
    await svc.db.knex.raw(
      `SELECT ST_X(b.geom) AS lon, ST_Y(b.geom) AS lat FROM boxes b
        WHERE b.integration_id = ? AND NOT b.planned AND b.removed_at IS NULL
          AND (SELECT count(*) FROM platform_customers pc WHERE pc.geom = b.geom) >= 3
        ORDER BY b.id LIMIT 1 OFFSET 5`,
      [svc.integrationId],
    )
  ).rows[0];
  await page.evaluate(([lon, lat]) => new Promise<void>((resolve) => {
    const map = (window as any).mapsyncMap;
    map.jumpTo({ center: [lon, lat], zoom: 17 });
    map.once('idle', () => resolve());
  }), [Number(box.lon), Number(box.lat)] as const);
  const at = await page.evaluate(([lon, lat]) => {
    const map = (window as any).mapsyncMap;
    const point = map.project([lon, lat]);
    const rect = map.getCanvas().getBoundingClientRect();
    return { x: rect.left + point.x, y: rect.top + point.y };
  }, [Number(box.lon), Number(box.lat)] as const);
  await page.mouse.click(at.x, at.y);
  await page.waitForSelector('#box-title');
  await page.evaluate(() => new Promise<void>((resolve) => {
    const map = (window as any).mapsyncMap;
    map.easeTo({ zoom: 16.3, duration: 0 });
    map.once('idle', () => resolve());
  }));
  await (await page.$('#map-section'))!.screenshot({ path: out });
  if (blockedRequests.length > 0) throw new Error(`the page asked the internet for ${blockedRequests.join(', ')}`);
  process.stdout.write(`${out}\n`);
} finally {
  await browser.close();
  await svc.stop();
}

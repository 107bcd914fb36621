import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { configSchema } from '../../src/config/config.schema.ts';
import { dashboardRoutes } from '../../src/http/routes/dashboard.routes.ts';
import type { AppContext } from '../../src/service/app-context.ts';

describe('dashboard.basemap', () => {
  test('takes an http(s) style URL and refuses anything else, saying what it must be', () => {
    const ok = configSchema.parse({ dashboard: { basemap: 'https://tiles.example.net/styles/streets/style.json' } });
    assert.equal(ok.dashboard?.basemap, 'https://tiles.example.net/styles/streets/style.json');
    assert.equal(configSchema.parse({}).dashboard, undefined);
    for (const basemap of ['ftp://example.net/style.json', 'streets', '']) {
      const result = configSchema.safeParse({ dashboard: { basemap } });
      assert.equal(result.success, false, basemap);
      assert.match(result.error!.issues[0]!.message, /MapLibre style/);
      assert.deepEqual(result.error!.issues[0]!.path, ['dashboard', 'basemap']);
    }
    assert.equal(configSchema.safeParse({ dashboard: { basemapp: 'https://x.example' } }).success, false);
  });

  test('the page names the configured base map, escaped, and names none without it', async () => {
    for (const [basemap, expected] of [
      ['https://tiles.example.net/style.json?key=a&b="c"', '<meta name="mapsync-basemap" content="https://tiles.example.net/style.json?key=a&#38;b=&#34;c&#34;">'],
      [undefined, null],
    ] as const) {
      const app = Fastify();
      await app.register(async (scope) => dashboardRoutes(scope, { demo: false, config: { integrations: [], scheduler: { enabled: false, catchUpMissedRuns: false }, ...(basemap ? { dashboard: { basemap } } : {}) } } as unknown as AppContext));
      const page = await app.inject({ method: 'GET', url: '/' });
      if (expected) assert.ok(page.body.includes(expected), page.body.slice(0, 600));
      else assert.ok(!page.body.includes('mapsync-basemap'));
      assert.ok(!/https?:\/\/(?!tiles\.example\.net)/.test(page.body.replace(/<a [^>]*>/g, '')), 'the page loads nothing from another site');
      await app.close();
    }
  });
});

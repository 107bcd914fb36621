import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../service/app-context.ts';

const DASHBOARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dashboard');
/** MapLibre GL JS, served from the installed package: the page never loads code from a CDN. */
const MAPLIBRE_DIR = path.dirname(createRequire(import.meta.url).resolve('maplibre-gl'));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** Only these files are served: no path from the request ever reaches the file system. */
const DASHBOARD_FILES = new Map<string, string>([
  ['app.js', path.join(DASHBOARD_DIR, 'app.js')],
  ['panes.js', path.join(DASHBOARD_DIR, 'panes.js')],
  ['panes.css', path.join(DASHBOARD_DIR, 'panes.css')],
  ['style.css', path.join(DASHBOARD_DIR, 'style.css')],
  ['map.js', path.join(DASHBOARD_DIR, 'map.js')],
  ['map.css', path.join(DASHBOARD_DIR, 'map.css')],
  ['vendor/maplibre/maplibre-gl.js', path.join(MAPLIBRE_DIR, 'maplibre-gl.js')],
  ['vendor/maplibre/maplibre-gl.css', path.join(MAPLIBRE_DIR, 'maplibre-gl.css')],
]);

function attribute(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * `GET /`: the dashboard (map of the network, runs, issues). The page itself is public; its
 * data comes from the API with the token the user types. In demo mode the page offers
 * the demo token ("demo", used when MAPSYNC_API_TOKEN is unset) as a first guess.
 */
export async function dashboardRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const page = await readFile(path.join(DASHBOARD_DIR, 'index.html'), 'utf8');
  const meta = [
    ...(ctx.demo ? ['<meta name="mapsync-demo" content="1">'] : []),
    // config dashboard.basemap: a style the map draws under the network when it is reachable.
    ...(ctx.config.dashboard?.basemap ? [`<meta name="mapsync-basemap" content="${attribute(ctx.config.dashboard.basemap)}">`] : []),
  ];
  const html = page.replace('<!--mapsync:meta-->', meta.join('\n  '));

  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply.header('content-type', CONTENT_TYPES['.html']).header('cache-control', 'no-cache').send(html),
  );

  app.get<{ Params: { '*': string } }>('/dashboard/*', { schema: { hide: true } }, async (request, reply) => {
    const file = DASHBOARD_FILES.get(request.params['*']);
    if (!file) return reply.code(404).send({ error: 'not_found', message: 'no such dashboard file' });
    const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
    return reply.header('content-type', type).header('cache-control', 'max-age=300').send(await readFile(file));
  });
}

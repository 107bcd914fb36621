/**
 * MAPSYNC_DEMO_PLATFORM picks the platform the demo's simulator imitates; the demo
 * integration then uses that platform's adapter.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../src/observability/logger.ts';
import { DemoPlatformError, demoPlatformFromEnv, startDemo } from '../../src/service/demo.ts';

test('MAPSYNC_DEMO_PLATFORM: geogrid by default, ozmap when asked, anything else refused with the choices', () => {
  assert.equal(demoPlatformFromEnv({}), 'geogrid');
  assert.equal(demoPlatformFromEnv({ MAPSYNC_DEMO_PLATFORM: '' }), 'geogrid');
  assert.equal(demoPlatformFromEnv({ MAPSYNC_DEMO_PLATFORM: ' OZmap ' }), 'ozmap');
  assert.equal(demoPlatformFromEnv({ MAPSYNC_DEMO_PLATFORM: 'geogrid' }), 'geogrid');
  assert.throws(() => demoPlatformFromEnv({ MAPSYNC_DEMO_PLATFORM: 'oz-map' }), (error: Error) => error instanceof DemoPlatformError && /geogrid, ozmap/.test(error.message));
});

test('the OZmap demo: an ozmap integration on the simulator serving OZmap v2 over https', async () => {
  const demo = await startDemo({ logger: silentLogger(), env: { MAPSYNC_DEMO_PLATFORM: 'ozmap', MAPSYNC_DEMO_SIZE: '500' } });
  try {
    assert.equal(demo.integration.platform, 'ozmap');
    assert.equal(demo.integration.id, 'demo-ozmap', 'an integration of its own: switching platform never replaces the GeoGrid demo');
    assert.ok(demo.integration.apiUrl.startsWith('https://127.0.0.1:'));
    assert.match(demo.ca, /BEGIN CERTIFICATE/);
    assert.ok(demo.erpContracts.length > 0);
    const https = await import('node:https');
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(`${demo.integration.apiUrl}/api/v2/projects?limit=10`, { ca: demo.ca, headers: { authorization: demo.integration.token } }, (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    const projects = JSON.parse(body) as { rows: Array<{ name: string }> };
    assert.ok(projects.rows.some((p) => 'link' in demo.integration.project && p.name === demo.integration.project.link));
  } finally {
    await demo.close();
  }
});

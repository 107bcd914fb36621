import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MAPSYNC_BIN, spawnNode } from '../helpers/child-process.ts';

/** `mapsync serve` on the embedded database, in its own process and data folder. */
function serveEmbedded(dataDir: string, configDir: string) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    MAPSYNC_DATA_DIR: dataDir,
    MAPSYNC_CONFIG_DIR: configDir,
    MAPSYNC_DEMO: '0',
    MAPSYNC_API_TOKEN: 'embedded-test-token',
    PORT: '0',
    LOG_LEVEL: 'info',
  };
  return spawnNode([MAPSYNC_BIN, 'serve'], env);
}

async function readyUrl(service: ReturnType<typeof serveEmbedded>): Promise<string> {
  const line = await service.waitForLine(/mapsync is serving/, 90_000);
  const url = (JSON.parse(line) as { url: string }).url;
  const ready = await fetch(`${url}/readyz`);
  assert.equal(ready.status, 200, await ready.text());
  return url;
}

describe('embedded PostGIS', { timeout: 240_000 }, () => {
  test('serves /readyz, closes cleanly on SIGTERM and SIGINT, and re-opens after a SIGKILL', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'mapsync-embedded-'));
    const dataDir = path.join(root, 'data');
    const configDir = path.join(root, 'config');
    // A config folder named by MAPSYNC_CONFIG_DIR must exist (an empty one: no integrations).
    mkdirSync(configDir);
    try {
      const first = serveEmbedded(dataDir, configDir);
      await readyUrl(first);
      first.child.kill('SIGTERM');
      const firstExit = await first.exited(30_000);
      assert.deepEqual(firstExit, { code: 0, signal: null }, first.output());
      assert.match(first.output(), /mapsync stopped/);

      const second = serveEmbedded(dataDir, configDir);
      await readyUrl(second);
      second.child.kill('SIGKILL');
      await second.exited(10_000);

      // An unclean exit leaves the data folder locked; the next start must not hang on it.
      const third = serveEmbedded(dataDir, configDir);
      const url = await readyUrl(third);
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      third.child.kill('SIGINT');
      assert.deepEqual(await third.exited(30_000), { code: 0, signal: null }, third.output());

      // A CLI command on the same folder says which database it works on.
      const migrate = spawnNode([MAPSYNC_BIN, 'migrate'], { PATH: process.env.PATH, HOME: process.env.HOME, MAPSYNC_DATA_DIR: dataDir });
      assert.deepEqual(await migrate.exited(120_000), { code: 0, signal: null }, migrate.output());
      assert.ok(migrate.output().includes(`using the embedded database in ${path.resolve(dataDir, 'pglite')}`), migrate.output());
      assert.match(migrate.output(), /Database is up to date/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { mapsync } from '../helpers/cli-runner.ts';

/** `mapsync projects` on an OZmap integration signed in with a login and password from the environment. */

let sim: RunningSimulator;
let dir: string;

before(async () => {
  sim = await startSimulator({ platform: 'ozmap', seed: 5, size: 300, https: true, limits: { concurrency: 10, requestsPerMinute: 100_000 } });
  dir = mkdtempSync(path.join(tmpdir(), 'mapsync-ozmap-projects-'));
  writeFileSync(path.join(dir, 'ca.pem'), sim.ca!);
  writeFileSync(
    path.join(dir, 'oz.yaml'),
    `integrations:\n  - id: oz-centro\n    platform: ozmap\n    apiUrl: ${sim.url}\n    login: \${OZ_LOGIN}\n    password: \${OZ_PASSWORD}\n    project: { link: Campinas }\n`,
  );
});
after(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

test('projects lists the OZmap projects, sub-projects under their parent, and marks the linked one', async () => {
  const env = { MAPSYNC_CONFIG_DIR: dir, MAPSYNC_PLATFORM_CA_FILE: path.join(dir, 'ca.pem'), OZ_LOGIN: sim.credentials!.login, OZ_PASSWORD: sim.credentials!.password };
  const result = await mapsync(['projects', 'oz-centro', '--json'], env);
  assert.equal(result.code, 0, result.stderr);
  const body = JSON.parse(result.stdout) as { projects: { name: string; parentName: string | null; linked: boolean; externalId: string }[] };
  assert.deepEqual(body.projects.filter((p) => p.linked).map((p) => p.name), ['Campinas']);
  assert.ok(body.projects.some((p) => p.name === 'Centro' && p.parentName === 'Campinas'));
  assert.ok(body.projects.every((p) => /^[0-9a-f]{24}$/.test(p.externalId)));
  assert.ok(!result.stdout.includes(sim.credentials!.password) && !result.stderr.includes(sim.credentials!.password));

  const refused = await mapsync(['projects', 'oz-centro'], { ...env, OZ_PASSWORD: 'wrong-password-123' });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /401/);
  assert.ok(!refused.stderr.includes('wrong-password-123'), 'the password is never shown');
});

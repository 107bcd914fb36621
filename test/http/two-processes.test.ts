import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAPSYNC_BIN, spawnNode, type Spawned } from '../helpers/child-process.ts';
import { NEEDS_REAL_POSTGRES } from '../helpers/test-database.ts';
import { waitForRunEnd } from '../helpers/run-waiting.ts';
import { startTestService, type TestService, TEST_INTEGRATION_ID } from '../helpers/test-service.ts';

// Unique per test process: sync locks are per integration id across the whole database.
const ID = TEST_INTEGRATION_ID;

// Two `mapsync serve` on one database: this one in-process, the other a child process
// with the same config, database schema and token.
let svc: TestService;
let other: Spawned | null = null;
let otherUrl = '';

before(async () => {
  if (NEEDS_REAL_POSTGRES) return;
  svc = await startTestService({ simulator: { size: 200, seed: 8 } });
  other = spawnNode([MAPSYNC_BIN, 'serve', '--port', '0'], { ...svc.env, LOG_LEVEL: 'info' });
  const line = await other.waitForLine(/mapsync is serving/, 30_000);
  otherUrl = JSON.parse(line).url;
});
after(async () => {
  if (other && other.child.exitCode === null) {
    other.child.kill('SIGTERM');
    await other.exited(15_000).catch(() => other!.child.kill('SIGKILL'));
  }
  await svc?.stop();
});

test('20 concurrent triggers across two service processes start exactly one run', { skip: NEEDS_REAL_POSTGRES }, async () => {
  const post = (base: string) =>
    fetch(`${base}/v1/integrations/${ID}/sync`, { method: 'POST', headers: { authorization: `Bearer ${svc.apiToken}` } }).then(
      async (response) => ({ status: response.status, body: (await response.json()) as { runId: string } }),
    );
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 ? otherUrl : svc.url)));
  const accepted = answers.filter((a) => a.status === 202);
  assert.equal(accepted.length, 1, JSON.stringify(answers.map((a) => a.status)));
  const runId = accepted[0]!.body.runId;
  const conflicts = answers.filter((a) => a.status === 409);
  assert.equal(conflicts.length, 19);
  for (const conflict of conflicts) assert.equal(conflict.body.runId, runId);

  const run = await waitForRunEnd(svc, runId);
  assert.equal(run.status, 'succeeded', run.error);
  const runs = await svc.db.knex('sync_runs').select('id');
  assert.deepEqual(runs.map((r) => r.id), [runId], 'one run, executed once');
});

test('the other process shuts down cleanly on SIGTERM', { skip: NEEDS_REAL_POSTGRES }, async () => {
  other!.child.kill('SIGTERM');
  const exit = await other!.exited(15_000);
  assert.equal(exit.code, 0, other!.output().slice(-2000));
  assert.match(other!.output(), /mapsync stopped/);
});

/**
 * A pusher process killed mid-push: its row stays in_progress, and a restarted service
 * takes it over at once (the dead process's database session, and so its lock, is gone)
 * instead of waiting out the 5-minute lease. A live pusher's rows are never taken.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { confirmBinding, createBinding } from '../../src/bindings/bindings.service.ts';
import type { IntegrationConfig } from '../../src/config/config.schema.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { spawnNode, type Spawned } from '../helpers/child-process.ts';
import { createTestDatabase, NEEDS_REAL_POSTGRES, testDatabaseUrl, type TestDatabase } from '../helpers/test-database.ts';
import { pusherFor, seedContracts, seedFreeServicePorts, seedIntegration, simulatorIntegration, waitFor } from './helpers/push-fixtures.ts';

const INTEGRATION = 'sim-liveness';

describe('owner liveness of the push outbox (real PostgreSQL, a killed process)', { skip: NEEDS_REAL_POSTGRES }, () => {
  let db: TestDatabase;
  let sim: RunningSimulator;
  let integration: IntegrationConfig;
  let workDir: string;
  let child: Spawned | null = null;

  before(async () => {
    db = await createTestDatabase();
    workDir = mkdtempSync(path.join(tmpdir(), 'mapsync-liveness-'));
    sim = await startSimulator({ size: 300, seed: 5, https: true, limits: { concurrency: 10, requestsPerMinute: 100_000 } });
    writeFileSync(path.join(workDir, 'ca.pem'), sim.ca ?? '');
    integration = simulatorIntegration(INTEGRATION, sim);
    await seedIntegration(db.knex, INTEGRATION, sim.url);
  });
  after(async () => {
    child?.child.kill('SIGKILL');
    await sim?.close();
    await db?.destroy();
    rmSync(workDir, { recursive: true, force: true });
  });

  test('killed mid-push (SIGKILL): the restarted pusher drains the row in seconds, with the 5-minute lease', { timeout: 60_000 }, async () => {
    const [contract] = await seedContracts(db.knex, 1, { prefix: 'KILL' });
    const [port] = await seedFreeServicePorts(db.knex, INTEGRATION, sim, 1);
    const { binding } = await createBinding(db.knex, { serviceId: contract!.serviceId, port: { portId: port!.id } });
    const settings = { settingsFor: () => ({ enabled: true, fields: integration.push.fields }) };
    await confirmBinding(db.knex, binding.id, settings);
    const row = () => db.knex('push_outbox').where({ binding_id: binding.id, action: 'bind' }).first();

    // The platform never answers: the child's delivery hangs mid-push.
    sim.setFaults({ hangRate: 1 });
    child = spawnNode(['--import', 'tsx', path.join('test', 'push', 'helpers', 'pusher-process.ts')], {
      ...process.env,
      DATABASE_URL: testDatabaseUrl(),
      DATABASE_SCHEMA: db.schema,
      SIM_URL: sim.url,
      SIM_TOKEN: sim.token,
      SIM_CA_FILE: path.join(workDir, 'ca.pem'),
      INTEGRATION_ID: INTEGRATION,
    });
    await child.waitForLine(/pusher started/, 30_000);
    const claimed = await waitFor('the child to claim the push', async () => {
      const current = await row();
      return current.status === 'in_progress' ? current : null;
    });
    assert.match(claimed.locked_by, /^child:/);
    assert.ok(claimed.locked_session, 'the claim names the session of its pusher');

    // While the child lives, nobody takes its row, even though the platform is back.
    sim.setFaults({});
    const bystander = pusherFor(db.knex, sim, integration);
    try {
      assert.equal((await bystander.pusher.drain()).delivered, 0, 'a live owner keeps its row');
    } finally {
      await bystander.close();
    }

    child.child.kill('SIGKILL');
    await child.exited(10_000);
    child = null;
    assert.equal((await row()).status, 'in_progress', 'the dead process left the row in_progress');

    // The restarted service: default lease (5 minutes), yet it drains at once.
    const restarted = pusherFor(db.knex, sim, integration);
    const started = Date.now();
    try {
      const tally = await waitFor(
        'the dead session to be gone and the row taken over',
        async () => {
          const outcome = await restarted.pusher.drain();
          return outcome.delivered > 0 ? outcome : null;
        },
        10_000,
      );
      assert.equal(tally.delivered, 1);
    } finally {
      await restarted.close();
    }
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 10_000, `drained in ${elapsed} ms`);
    const done = await row();
    assert.equal(done.status, 'done');
    assert.equal(done.attempts, 2);
    assert.match(done.locked_by ?? 'null', /null/);
  });
});

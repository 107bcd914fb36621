import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestService, type TestService, TEST_INTEGRATION_ID } from '../helpers/test-service.ts';
import { mapsync } from '../helpers/cli-runner.ts';

// Unique per test process: sync locks are per integration id across the whole database.
const ID = TEST_INTEGRATION_ID;


describe('mapsync sync / runs / projects', () => {
  // The service provides the simulator, config folder and database; its run worker leaves
  // runs queued by the CLI to the CLI.
  let svc: TestService;
  let cliRunId: string;

  before(async () => {
    svc = await startTestService({ simulator: { size: 300, seed: 3, faults: { malformedRate: 0.05 } } });
  });
  after(async () => svc?.stop());

  test('sync --json runs one sync in-process, prints the run record and exits 0', async () => {
    const result = await mapsync(['sync', ID, '--json'], svc.env);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const run = JSON.parse(result.stdout);
    assert.equal(run.status, 'succeeded');
    assert.equal(run.trigger, 'cli');
    assert.equal(run.integrationId, ID);
    assert.deepEqual(Object.keys(run).sort(), [
      'attempt', 'counts', 'durationMs', 'error', 'finishedAt', 'heartbeatAt', 'id', 'integrationId', 'options', 'owner',
      'platformRequests', 'progress', 'queuedAt', 'retryOf', 'scheduledFor', 'startedAt', 'status', 'trigger',
    ]);
    assert.ok(run.counts.poles.created > 0);
    // Not a terminal: progress is plain lines on stderr, stdout is only the JSON.
    assert.match(result.stderr, new RegExp(`sync ${ID} (pulling|validating|merging)`));
    cliRunId = run.id;
    const row = await svc.db.knex('sync_runs').where({ id: run.id }).first();
    assert.equal(row.status, 'succeeded');
  });

  test('sync without --json prints counts per kind; --full is recorded', async () => {
    const result = await mapsync(['sync', ID, '--full'], svc.env);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /SUCCEEDED/);
    assert.match(result.stdout, /poles\s+\d+\s+\d+\s+\d+/);
    const latest = await svc.db.knex('sync_runs').orderBy('queued_at', 'desc').first();
    assert.equal(latest.options.full, true);
  });

  test('a failed run exits 1 and still prints the record', async () => {
    svc.simulator.setDown(10_000);
    try {
      const result = await mapsync(['sync', ID, '--json'], svc.env);
      assert.equal(result.code, 1, result.stderr);
      const run = JSON.parse(result.stdout);
      assert.equal(run.status, 'failed');
      assert.ok(run.error);
    } finally {
      svc.simulator.setDown(0);
    }
  });

  test('usage and config errors exit 2', async () => {
    const unknown = await mapsync(['sync', 'nope'], svc.env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, new RegExp(`unknown integration "nope"; configured: ${ID}$`, 'm'));
    assert.equal((await mapsync(['sync'], svc.env)).code, 2, 'missing argument');
    assert.equal((await mapsync(['sync', ID, '--bogus'], svc.env)).code, 2, 'unknown option');

    const badConfig = mkdtempSync(path.join(tmpdir(), 'mapsync-bad-config-'));
    try {
      writeFileSync(path.join(badConfig, 'bad.yaml'), 'integrations:\n  - id: x\n    platform: geogrid\n    apiUrl: http://insecure\n');
      const result = await mapsync(['sync', 'x'], { ...svc.env, MAPSYNC_CONFIG_DIR: badConfig });
      assert.equal(result.code, 2);
      assert.match(result.stderr, /integrations\[0\]\.apiUrl/);
    } finally {
      rmSync(badConfig, { recursive: true, force: true });
    }
  });

  test('sync refuses while a run of the integration is active (exit 1, names the run)', async () => {
    const [active] = await svc.db.knex('sync_runs').insert({ integration_id: ID, trigger: 'cli', status: 'queued' }).returning('id');
    try {
      const result = await mapsync(['sync', ID, '--json'], svc.env);
      assert.equal(result.code, 1);
      assert.equal(JSON.parse(result.stdout).runId, active.id);
    } finally {
      await svc.db.knex('sync_runs').where({ id: active.id }).update({ status: 'failed', finished_at: new Date() });
    }
  });

  test('runs --json lists the history, newest first, filtered by integration', async () => {
    const result = await mapsync(['runs', '--json'], svc.env);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const { runs } = JSON.parse(result.stdout);
    assert.ok(runs.length >= 3);
    assert.ok(runs.some((run: { id: string }) => run.id === cliRunId));
    for (let i = 1; i < runs.length; i++) assert.ok(runs[i - 1].queuedAt >= runs[i].queuedAt);
    const unknown = await mapsync(['runs', '--integration', 'other', '--json'], svc.env);
    assert.equal(unknown.code, 2, unknown.stdout);
    assert.match(unknown.stderr, /unknown integration "other"/);
    // Known to the database only (it left config/): its history, empty here, is listed.
    await svc.db.knex('integrations').insert({ id: 'other', platform: 'geogrid', api_url: 'https://other.example' });
    try {
      const filtered = await mapsync(['runs', '--integration', 'other', '--json'], svc.env);
      assert.equal(filtered.code, 0, filtered.stderr);
      assert.deepEqual(JSON.parse(filtered.stdout).runs, []);
      const text = await mapsync(['runs', '--integration', 'other'], svc.env);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /No sync runs yet/);
    } finally {
      await svc.db.knex('integrations').where({ id: 'other' }).delete();
    }
    const text = await mapsync(['runs', '--limit', '2'], svc.env);
    assert.equal(text.code, 0);
    assert.equal(text.stdout.trim().split('\n').length, 3, 'header and two runs');
    assert.equal((await mapsync(['runs', '--limit', 'many'], svc.env)).code, 2);
  });

  test('runs show --json gives the run and its issues, each with code and reason', async () => {
    const result = await mapsync(['runs', 'show', cliRunId, '--json'], svc.env);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const report = JSON.parse(result.stdout);
    assert.equal(report.run.id, cliRunId);
    assert.ok(report.issues.length > 0, 'the malformed records are reported');
    assert.equal(report.summary.total, report.issues.length);
    for (const issue of report.issues) assert.ok(issue.code && issue.reason, JSON.stringify(issue));
    const text = await mapsync(['runs', 'show', cliRunId], svc.env);
    assert.match(text.stdout, /issue\(s\)/);
  });

  test('runs show exits 2 for a malformed or unknown run id', async () => {
    assert.equal((await mapsync(['runs', 'show', 'nope'], svc.env)).code, 2);
    const unknown = await mapsync(['runs', 'show', randomUUID()], svc.env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no sync run/);
  });

  test("projects --json lists the platform's folders and marks the linked one", async () => {
    const result = await mapsync(['projects', ID, '--json'], svc.env);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const body = JSON.parse(result.stdout);
    assert.ok(body.projects.length >= 5);
    const linked = body.projects.filter((project: { linked: boolean }) => project.linked);
    assert.equal(linked.length, 1);
    assert.equal(linked[0].name, 'Centro');
    const text = await mapsync(['projects', ID], svc.env);
    assert.match(text.stdout, /\* .*Centro/);
    assert.equal((await mapsync(['projects', 'nope'], svc.env)).code, 2);
  });

  test('projects exits 1 when the platform cannot be reached', async () => {
    svc.simulator.setDown(10_000);
    try {
      const result = await mapsync(['projects', ID], svc.env);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /mapsync:/);
    } finally {
      svc.simulator.setDown(0);
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadRunReport } from '../../src/http/presenters/run-report.ts';
import { pruneRunIssues } from '../../src/sync/issue-retention.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { FakePlatform } from './fixtures/fake-platform.ts';
import { sampleNetwork } from './fixtures/sample-network.ts';
import { createHarness, integrationConfig } from './fixtures/sync-harness.ts';

describe('retention of run issues', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db?.destroy());

  const issueCount = async (runId: string) => Number((await db.knex('sync_issues').where({ run_id: runId }).count({ n: '*' }))[0]!.n);

  /** A run of `integration` that finished `daysAgo` days ago with `issues` issues (or is still `status`). */
  async function run(integration: string, daysAgo: number, issues: number, status = 'succeeded'): Promise<string> {
    const [row] = await db.knex('sync_runs')
      .insert({
        integration_id: integration,
        trigger: 'manual',
        status,
        queued_at: db.knex.raw(`now() - make_interval(days => ?)`, [daysAgo]),
        finished_at: status === 'succeeded' || status === 'failed' ? db.knex.raw(`now() - make_interval(days => ?)`, [daysAgo]) : null,
      })
      .returning('id');
    const id = (row as { id: string }).id;
    for (let i = 0; i < issues; i += 1) {
      await db.knex('sync_issues').insert({ run_id: id, integration_id: integration, kind: 'customers', external_id: `C${i}`, code: 'unmatched', reason: 'no contract' });
    }
    return id;
  }

  test('issues older than the days, or beyond the last runs, are deleted; the runs stay and say so', async () => {
    await db.knex('integrations').insert([
      { id: 'keep-days', platform: 'simulator', api_url: 'https://x' },
      { id: 'keep-runs', platform: 'simulator', api_url: 'https://x' },
    ]);
    // [days ago, issues, status] → kept?
    const corpus: [number, number, string, boolean][] = [
      [400, 3, 'succeeded', false],
      [91, 2, 'failed', false],
      [89, 2, 'succeeded', true],
      [1, 1, 'succeeded', true],
      [200, 2, 'running', true],
    ];
    const ids: string[] = [];
    for (const [daysAgo, issues, status] of corpus) ids.push(await run('keep-days', daysAgo, issues, status));
    const other = await run('keep-runs', 400, 2);

    const pruned = await pruneRunIssues(db.knex, 'keep-days', { days: 90 });
    assert.deepEqual(pruned.sort(), [ids[0], ids[1]].sort());
    for (const [i, [, issues, , kept]] of corpus.entries()) {
      assert.equal(await issueCount(ids[i]!), kept ? issues : 0, `run ${i}`);
      const row = await db.knex('sync_runs').where({ id: ids[i] }).first('issues_pruned_at');
      assert.equal(row.issues_pruned_at !== null, !kept, `run ${i} pruned mark`);
    }
    assert.equal(await issueCount(other), 2, 'another integration keeps its own');
    const report = await loadRunReport(db.knex, ids[0]!, { limit: 10, offset: 0 });
    assert.equal(report.summary.total, 0);
    assert.match(report.summary.issuesPrunedAt ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.equal((await loadRunReport(db.knex, ids[3]!, { limit: 10, offset: 0 })).summary.issuesPrunedAt, null);
    assert.deepEqual(await pruneRunIssues(db.knex, 'keep-days', { days: 90 }), [], 'nothing more the second time');

    // The last N finished runs: of keep-days' three finished runs left with issues, keep two.
    const newest = await run('keep-days', 0, 1);
    const byRuns = await pruneRunIssues(db.knex, 'keep-days', { days: 90, runs: 2 });
    assert.deepEqual(byRuns, [ids[2]]);
    assert.equal(await issueCount(ids[3]!), 1);
    assert.equal(await issueCount(newest), 1);
    assert.equal(await issueCount(ids[4]!), 2, 'a running run is never touched');
  });

  test('applied after each sync run, from the integration settings', async () => {
    const h = await createHarness(db.knex, () => new FakePlatform(sampleNetwork()), integrationConfig({ id: 'after-runs', sync: { issueRetentionRuns: 2 } }));
    const first = await h.sync();
    assert.equal(first.status, 'succeeded', first.error ?? '');
    const perRun = await issueCount(first.id);
    assert.ok(perRun > 0, 'the sample network leaves customers unlinked');
    const second = await h.sync();
    assert.equal(await issueCount(first.id), perRun, 'two runs are kept');
    const third = await h.sync();
    assert.equal(await issueCount(first.id), 0, 'the oldest of three is pruned');
    assert.equal(await issueCount(second.id), perRun);
    assert.equal(await issueCount(third.id), perRun);

    // Days: a run finished long ago loses its issues at the next run.
    await h.setIntegration(integrationConfig({ id: 'after-runs', sync: { issueRetentionDays: 30 } }));
    await db.knex('sync_runs').where({ id: second.id }).update({ finished_at: db.knex.raw(`now() - interval '31 days'`) });
    await h.sync();
    assert.equal(await issueCount(second.id), 0);
    assert.equal(await issueCount(third.id), perRun);
  });
});

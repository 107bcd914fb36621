import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { executeRun } from '../../src/sync/sync-engine.ts';
import { queueRun, type RunProgress } from '../../src/sync/sync-runs.repository.ts';
import { startSimulatedSync, type SimulatedSync } from './fixtures/simulated-sync.ts';

/**
 * Issue 16: the live progress froze on "resolving the project" for most of a run, then jumped
 * to merging. Against a simulator that answers slowly, the progress hook must hear at least
 * once a second, with the current phase and counts that move.
 */
describe('live progress of a sync against a slow platform', () => {
  let setup: SimulatedSync | undefined;
  before(async () => {
    setup = await startSimulatedSync({ id: 'slow', seed: 5, faults: { latencyMs: [80, 160] } });
  });
  after(async () => {
    await setup?.close();
  });

  test('the hook hears at least once a second, with the phase, the counts and the containers being read', async () => {
    const { h } = setup as SimulatedSync;
    const events: { at: number; progress: RunProgress }[] = [];
    const run = await queueRun(h.ctx.knex, { integrationId: 'slow', trigger: 'manual', options: { full: true, force: false } });
    const started = Date.now();
    const done = await executeRun(h.ctx, run.id, { onProgress: (progress) => events.push({ at: Date.now(), progress }) });
    const ended = Date.now();
    assert.equal(done.status, 'succeeded', done.error ?? '');
    assert.ok(ended - started > 3000, `the run should take a few seconds to show anything (${ended - started} ms)`);

    const times = [started, ...events.map((e) => e.at), ended];
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    // A second, plus slack for a busy shared machine.
    assert.ok(Math.max(...gaps) <= 1500, `longest silence ${Math.max(...gaps)} ms; gaps: ${gaps.join(', ')}`);

    const phases = [...new Set(events.map((e) => e.progress.phase))];
    assert.deepEqual(phases, ['pulling', 'validating', 'linking', 'merging', 'done']);
    // The message says what is going on now: never the opening one once data flows.
    const firstData = events.findIndex((e) => Object.keys(e.progress.kinds).length > 0);
    const lastOpening = events.map((e) => e.progress.message).lastIndexOf('resolving the project');
    assert.ok(firstData > 0 && lastOpening < firstData, `"resolving the project" shown after data came (report ${lastOpening} of ${events.length})`);
    const messages = new Set(events.map((e) => (e.progress.message ?? '').replace(/\d+ of \d+/, 'N of M')));
    for (const step of ['resolving the project', 'reading equipment: N of M containers']) assert.ok(messages.has(step), [...messages].join(' | '));

    const handed = events
      .map((e) => /^reading equipment: (\d+) of (\d+) containers$/.exec(e.progress.message ?? ''))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]));
    assert.ok(new Set(handed).size >= 3, `containers read should move: ${handed.join(', ')}`);
    assert.deepEqual(handed, [...handed].sort((a, b) => a - b), 'never goes back');

    // Counts only grow. (Equipment counts come a page of splitters at a time: while the
    // equipment is read, the containers handed over are what moves.)
    const pulling = events.filter((e) => e.progress.phase === 'pulling');
    const total = (p: RunProgress) => Object.values(p.kinds).reduce((sum, k) => sum + k.fetched, 0);
    const totals = pulling.map((e) => total(e.progress));
    assert.deepEqual(totals, [...totals].sort((a, b) => a - b));
    assert.ok(new Set(totals).size >= 2, `fetched counts should move: ${totals.join(', ')}`);
    assert.ok((events.at(-1)?.progress.kinds.splitters?.fetched ?? 0) > 0);
  });
});

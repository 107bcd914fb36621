import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { configSchema } from '../../src/config/config.schema.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { ensureIntegrations } from '../../src/sync/sync-runs.repository.ts';
import { MAPSYNC_BIN, spawnNode, type Spawned } from '../helpers/child-process.ts';
import { createTestDatabase, NEEDS_REAL_POSTGRES, type TestDatabase } from '../helpers/test-database.ts';
import { serviceEnv } from '../helpers/test-service.ts';

/**
 * A fleet: three real `mapsync serve` processes on one database, each running at most
 * `runs.concurrency` syncs, sharing 12 integrations all due at the same instant, then one
 * process killed (SIGKILL) in the middle of a run. Everything is judged from the run records
 * (owner, started_at, finished_at), never from how fast the machine is.
 */
const PROCESSES = 3;
const LIMIT = 2;
const DUE = 12;
const SLOW = 'fleet-slow';
const MINUTE = 60_000;

let db: TestDatabase;
let simulator: RunningSimulator;
let configDir = '';
let slot: Date;
let apiToken = '';
const fleet: { spawned: Spawned; url: string; owner: string }[] = [];
const dueIds = Array.from({ length: DUE }, (_, i) => `fleet-${String(i + 1).padStart(2, '0')}`);

interface RunRow {
  id: string;
  integration_id: string;
  trigger: string;
  status: string;
  error: string | null;
  owner: string | null;
  started_at: Date | null;
  finished_at: Date | null;
  scheduled_for: Date | null;
  reaped_at: Date | null;
  retry_of: string | null;
  attempt: number;
}

const runsOf = (ids: string[]): Promise<RunRow[]> => db.knex('sync_runs').whereIn('integration_id', ids).orderBy('queued_at').select('*');

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s\n${fleet.map((f) => f.spawned.output().slice(-3000)).join('\n---\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The most runs an owner had going at once, from the records' [started_at, finished_at]. */
function peakConcurrency(runs: RunRow[]): Map<string, number> {
  const events = new Map<string, { at: number; delta: number }[]>();
  for (const run of runs) {
    if (!run.owner || !run.started_at) continue;
    const list = events.get(run.owner) ?? [];
    list.push({ at: new Date(run.started_at).getTime(), delta: 1 });
    list.push({ at: run.finished_at ? new Date(run.finished_at).getTime() : Number.POSITIVE_INFINITY, delta: -1 });
    events.set(run.owner, list);
  }
  const peaks = new Map<string, number>();
  for (const [owner, list] of events) {
    // At the same instant an end comes before a start: the slot was free again.
    list.sort((a, b) => a.at - b.at || a.delta - b.delta);
    let now = 0;
    let peak = 0;
    for (const event of list) peak = Math.max(peak, (now += event.delta));
    peaks.set(owner, peak);
  }
  return peaks;
}

before(async () => {
  if (NEEDS_REAL_POSTGRES) return;
  db = await createTestDatabase();
  configDir = mkdtempSync(path.join(tmpdir(), 'mapsync-fleet-'));
  const caFile = path.join(configDir, 'simulator-ca.pem');
  // Each request takes a little while, so runs overlap and every process fills its slots.
  simulator = await startSimulator({ size: 40, seed: 15, https: true, caFile, limits: { requestsPerMinute: 100_000, concurrency: 50 }, faults: { latencyMs: 60 } });

  // Due a little ahead, so the three processes are up when it comes (if one is not, the
  // boot catch-up of the integrations registered below still queues the slot once).
  slot = new Date(Math.ceil((Date.now() + 75_000) / 1000) * 1000);
  const at = `${slot.getUTCSeconds()} ${slot.getUTCMinutes()} ${slot.getUTCHours()} ${slot.getUTCDate()} ${slot.getUTCMonth() + 1} *`;
  const common = { platform: 'simulator', apiUrl: simulator.url, token: '${TEST_SIMULATOR_TOKEN}', elements: ['service_splitters', 'poles', 'boxes', 'customers'] };
  const integrations = [
    ...dueIds.map((id) => ({
      ...common,
      id,
      project: { create: `Rede ${id}` },
      schedule: at,
      timezone: 'UTC',
      http: { concurrency: 2, requestsPerMinute: 100_000, timeoutMs: 20_000, retries: 1 },
    })),
    // Never due in this test; a paced client keeps its manual run going long enough to kill it.
    { ...common, id: SLOW, project: { create: 'Rede lenta' }, http: { concurrency: 1, requestsPerMinute: 150, timeoutMs: 20_000, retries: 1 } },
  ];
  const config = { integrations, scheduler: { enabled: true, catchUpMissedRuns: true }, runs: { concurrency: LIMIT } };
  writeFileSync(path.join(configDir, 'mapsync.json'), JSON.stringify(config, null, 2));
  await ensureIntegrations(db.knex, configSchema.parse({ ...config, integrations: integrations.map((i) => ({ ...i, token: 't' })) }).integrations);

  apiToken = randomBytes(12).toString('hex');
  const env = { ...serviceEnv({ schema: db.schema, configDir, apiToken, caFile, simulatorToken: simulator.token }), LOG_LEVEL: 'info' };
  const spawned = Array.from({ length: PROCESSES }, () => spawnNode([MAPSYNC_BIN, 'serve', '--port', '0'], env));
  for (const child of spawned) {
    const line = await child.waitForLine(/mapsync is serving/, 3 * MINUTE);
    fleet.push({ spawned: child, url: JSON.parse(line).url, owner: `${hostname()}:${child.child.pid}` });
  }
});

after(async () => {
  for (const { spawned } of fleet) {
    if (spawned.child.exitCode !== null || spawned.child.signalCode !== null) continue;
    spawned.child.kill('SIGTERM');
    await spawned.exited(30_000).catch(() => spawned.child.kill('SIGKILL'));
  }
  await simulator?.close();
  await db?.destroy();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

test('12 integrations due at once on 3 processes: each runs exactly once, no process over runs.concurrency', { skip: NEEDS_REAL_POSTGRES, timeout: 15 * MINUTE }, async (t) => {
  const runs = await until('all 12 due runs ended', slot.getTime() - Date.now() + 10 * MINUTE, async () => {
    const rows = await runsOf(dueIds);
    return rows.length >= DUE && rows.every((row) => row.status === 'succeeded' || row.status === 'failed') && rows;
  });
  const perIntegration = new Map<string, RunRow[]>();
  for (const run of runs) perIntegration.set(run.integration_id, [...(perIntegration.get(run.integration_id) ?? []), run]);
  for (const id of dueIds) {
    const mine = perIntegration.get(id) ?? [];
    assert.equal(mine.length, 1, `${id} ran ${mine.length} times: ${JSON.stringify(mine)}`);
    const run = mine[0]!;
    assert.equal(run.status, 'succeeded', `${id}: ${run.error}`);
    assert.equal(new Date(run.scheduled_for!).toISOString(), slot.toISOString(), `${id} ran for its slot`);
    assert.ok(['schedule', 'catch_up'].includes(run.trigger));
    assert.ok(fleet.some((member) => member.owner === run.owner), `${id} was run by a process of the fleet (${run.owner})`);
  }

  const peaks = peakConcurrency(runs);
  for (const [owner, peak] of peaks) {
    t.diagnostic(`${owner}: ${runs.filter((run) => run.owner === owner).length} runs, at most ${peak} at once; triggers ${[...new Set(runs.map((run) => run.trigger))].join(', ')}`);
  }
  for (const [owner, peak] of peaks) assert.ok(peak <= LIMIT, `${owner} ran ${peak} at once (limit ${LIMIT})`);
  // Twelve runs, two at a time per process: one process alone could not have taken them all
  // before the others' next poll.
  assert.ok(peaks.size >= 2, `runs were shared by the fleet: ${JSON.stringify([...peaks])}`);

  const metrics = await fetch(`${fleet[0]!.url}/metrics`).then((response) => response.text());
  assert.match(metrics, /^mapsync_sync_run_concurrency 2$/m);
  assert.match(metrics, /^mapsync_sync_runs_in_progress \d+$/m);
});

test('a process killed (SIGKILL) mid-run: its run is re-run by a live process, never twice at once', { skip: NEEDS_REAL_POSTGRES, timeout: 15 * MINUTE }, async () => {
  const queued = await fetch(`${fleet[0]!.url}/v1/integrations/${SLOW}/sync`, { method: 'POST', headers: { authorization: `Bearer ${apiToken}` } });
  assert.equal(queued.status, 202);
  const { runId } = (await queued.json()) as { runId: string };

  const running = await until('the slow run started', 5 * MINUTE, async () => {
    const row = (await db.knex('sync_runs').where({ id: runId }).first()) as RunRow;
    return row.status === 'running' && row.owner ? row : null;
  });
  const victim = fleet.find((member) => member.owner === running.owner);
  assert.ok(victim, `the run is owned by a fleet process (${running.owner})`);
  victim.spawned.child.kill('SIGKILL');
  await victim.spawned.exited(60_000);

  const rerun = await until('the re-run ended', 10 * MINUTE, async () => {
    const row = (await db.knex('sync_runs').where({ retry_of: runId }).first()) as RunRow | undefined;
    return row && (row.status === 'succeeded' || row.status === 'failed') ? row : null;
  });
  const dead = (await db.knex('sync_runs').where({ id: runId }).first()) as RunRow;
  assert.equal(dead.status, 'failed', 'the killed run is not recorded as a success');
  assert.match(dead.error ?? '', /^reaped: the process running it is gone/);
  assert.ok(dead.reaped_at);
  assert.equal(rerun.status, 'succeeded', rerun.error ?? '');
  assert.equal(rerun.attempt, 2);
  assert.equal(rerun.trigger, 'manual');
  assert.notEqual(rerun.owner, victim.owner);
  assert.ok(fleet.some((member) => member !== victim && member.owner === rerun.owner));
  // Never two at once: the re-run was queued only once the dead one had been ended.
  assert.ok(new Date(rerun.started_at!).getTime() >= new Date(dead.finished_at!).getTime(), JSON.stringify({ dead, rerun }));
  const slowRuns = await runsOf([SLOW]);
  assert.deepEqual(slowRuns.map((run) => run.id).sort(), [runId, rerun.id].sort(), 'no third run');
  assert.ok((await db.knex('poles').where({ integration_id: SLOW }).count<{ n: string }[]>({ n: '*' }))[0]!.n !== '0', 'the re-run merged the network');

  // The due integrations still ran exactly once each.
  const due = await runsOf(dueIds);
  assert.equal(due.length, DUE);
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NEEDS_REAL_POSTGRES, type TestDatabase } from '../helpers/test-database.ts';
import { PLATFORMS } from '../helpers/platforms.ts';
import { countNetwork } from '../../src/simulator/network-generator.ts';
import type { RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { executeRun } from '../../src/sync/sync-engine.ts';
import { getRun, queueRun, runIssues } from '../../src/sync/sync-runs.repository.ts';
import { nonZero, type Harness } from './fixtures/sync-harness.ts';
import { startSimulatedSync, type SimulatedSync } from './fixtures/simulated-sync.ts';
import { killRunMidMerge } from './fixtures/killed-mid-merge.ts';

/** The sync against each platform's simulator over HTTPS, through the platform's real adapter. */
for (const platform of PLATFORMS) {
  describe(`sync against the ${platform.name} simulator`, () => {
    let db: TestDatabase;
    let sim: RunningSimulator;
    let h: Harness;
    const id = `sim-${platform.name}`;

    let setup: SimulatedSync | undefined;

    before(async () => {
      setup = await startSimulatedSync({ id, seed: 7, faults: { malformedRate: 0.01 }, platform });
      ({ db, sim, h } = setup);
    });
    after(async () => {
      await setup?.close();
    });

    test('a full network: every element stored or rejected with a code; roles and poles as drawn; customers linked as the platform data says', async () => {
      const run = await h.sync();
      assert.equal(run.status, 'succeeded', run.error ?? '');
      const counts = countNetwork(sim.network);
      const malformed = sim.malformedRecords();
      const rejected = (kind: string) => malformed.filter((m) => m.kind === kind).length;
      // Malformed poles/boxes are rejected; their equipment is then never read.
      assert.equal(run.counts.poles?.created, counts.poles - rejected('pole'));
      assert.equal(run.counts.poles?.rejected, rejected('pole'));
      assert.equal(run.counts.customers?.rejected, rejected('customer'));
      const bad = new Set(malformed.map((m) => `${m.kind}:${m.id}`));
      const readable = [...sim.network.splitters.values()].filter((s) => !bad.has(platform.containerRecordOf(s)) && !bad.has(`splitter:${s.id}`));
      assert.equal(run.counts.splitters?.created, readable.length, JSON.stringify({ counts, run: run.counts }));
      assert.equal(
        run.counts.ports?.created,
        readable.filter((s) => s.service).reduce((sum, s) => sum + s.ports.length, 0),
      );

      // Roles: a service splitter only where the platform marks it so.
      const roles = new Map(
        (await db.knex('splitters').where({ integration_id: id }).select('external_id', 'role')).map((r) => [r.external_id as string, r.role as string]),
      );
      for (const splitter of readable) {
        assert.equal(roles.get(platform.splitterId(splitter.id)), splitter.service ? 'service' : 'distribution', `splitter ${splitter.id}`);
      }

      // Attachment to poles: a box hangs on the pole the platform names; a pole carrying
      // equipment has it in a box on that pole (GeoGrid: an auto box mapsync makes).
      const boxes = await db.knex('boxes as b').leftJoin('poles as p', 'p.id', 'b.pole_id').where({ 'b.integration_id': id }).select('b.external_id', 'b.auto', 'p.external_id as pole');
      const poleOf = new Map(boxes.map((b) => [b.external_id as string, b.pole as string | null]));
      assert.equal(boxes.some((b) => b.auto), platform.autoBoxes);
      let onPoles = 0;
      for (const [poleId, splitters] of sim.network.splittersByContainer) {
        if (!sim.network.poles.has(poleId) || splitters.length === 0 || bad.has(`pole:${poleId}`)) continue;
        assert.equal(poleOf.get(platform.poleEquipmentBox(poleId)), platform.poleId(poleId), `the box of pole ${poleId}'s equipment`);
        onPoles += 1;
      }
      assert.ok(onPoles > 0, 'the simulated network has poles carrying equipment');
      let attached = 0;
      for (const box of sim.network.boxes.values()) {
        if (box.poleId === null || bad.has(`box:${box.id}`) || bad.has(`pole:${box.poleId}`) || !poleOf.has(platform.boxId(box.id))) continue;
        assert.equal(poleOf.get(platform.boxId(box.id)), platform.poleId(box.poleId), `box ${box.id}`);
        attached += 1;
      }
      assert.ok(attached > 0);

      // The simulator knows which linking outcome each customer should get on this platform.
      const rows = await db.knex('platform_customers').where({ integration_id: id }).select('external_id', 'link_status', 'link_reason');
      const statusOf = new Map(rows.map((r) => [r.external_id, r.link_status]));
      const reasonOf = new Map(rows.map((r) => [r.external_id, r.link_reason]));
      const disagreements: string[] = [];
      const seen = new Set<string>();
      let agree = 0;
      let total = 0;
      for (const c of sim.network.customers.values()) {
        const status = statusOf.get(platform.customerId(c.id));
        const expected = platform.expectedLink(c, sim.network);
        if (!status || !expected || bad.has(`customer:${c.id}`)) continue;
        total += 1;
        seen.add(status);
        if (status === expected) agree += 1;
        else disagreements.push(`${expected}->${status} doc=${JSON.stringify(c.cpfCnpj)} obs=${JSON.stringify(c.observacao)} ${reasonOf.get(platform.customerId(c.id))}`);
      }
      // A few generated documents drop more leading zeros than the document rules accept.
      assert.ok(total > 100);
      assert.ok(agree / total >= 0.99, `linking agrees with the scenario for ${agree}/${total}: ${disagreements.slice(0, 12).join('\n')}`);
      for (const outcome of platform.linkOutcomes) assert.ok(seen.has(outcome), `some customer is ${outcome} (seen: ${[...seen].join(', ')})`);

      const issues = await runIssues(db.knex, run.id);
      assert.ok(issues.some((i) => i.code === 'unmatched'));
      for (const issue of issues) assert.ok(issue.code.length > 0 && issue.reason.length > 0);
    });

    test('a second run writes nothing, on mapsync or on the platform; poles vanishing trips the guard; equipment leaving a pole removes the box that held it', async () => {
      const platformWrites = () => Object.values(sim.writes).reduce((sum, list: unknown[]) => sum + list.length, 0);
      const writesBefore = platformWrites();
      const second = await h.sync();
      assert.equal(second.status, 'succeeded', second.error ?? '');
      for (const [kind, c] of Object.entries(second.counts)) {
        assert.equal(c.created + c.updated + c.removed, 0, `${kind}: ${JSON.stringify(c)}`);
      }
      assert.equal(platformWrites(), writesBefore, 'a sync never writes to the platform');

      sim.hideAllPoles(true);
      const guarded = await h.sync();
      assert.equal(guarded.status, 'failed');
      assert.match(guarded.error ?? '', /mass-removal guard.*poles/);
      sim.hideAllPoles(false);

      // A pole with service equipment loses it: the next run removes the box that held it.
      const poleBoxes = (await db.knex('boxes').where({ integration_id: id }).whereNull('removed_at').orderBy('external_id')).filter((box) => platform.poleOfEquipmentBox(box.external_id, sim.network) !== null);
      const poleBox = poleBoxes.find((box) => (sim.network.splittersByContainer.get(platform.poleOfEquipmentBox(box.external_id, sim.network)!) ?? []).some((s) => s.service));
      assert.ok(poleBox, 'a pole carries service equipment');
      sim.removeEquipmentFromPole(platform.poleOfEquipmentBox(poleBox.external_id, sim.network)!);
      const run = await h.sync();
      assert.equal(run.status, 'succeeded', run.error ?? '');
      assert.equal(run.counts.boxes?.removed, 1, JSON.stringify(nonZero(run.counts)));
      const gone = await db.knex('boxes').where({ id: poleBox.id }).first();
      assert.notEqual(gone.removed_at, null);
    });

    test('a run killed (SIGKILL) in the middle of the merge leaves the previous state, and the next run succeeds', { skip: NEEDS_REAL_POSTGRES, timeout: 120_000 }, async () => {
      const snapshot = async () => {
        const out: Record<string, unknown[]> = {};
        for (const table of ['poles', 'boxes', 'splitters', 'ports', 'platform_customers']) out[table] = await db.knex(table).where({ integration_id: id }).orderBy('id').select('*');
        return out;
      };
      const before = await snapshot();
      // Something for the merge to change: a pole's service equipment leaves it.
      const pole = [...sim.network.poles.values()].find(
        (p) => (sim.network.splittersByContainer.get(p.id) ?? []).some((s) => s.service) && !sim.malformedRecords().some((m) => m.kind === 'pole' && m.id === p.id),
      );
      assert.ok(pole);
      sim.removeEquipmentFromPole(pole.id);

      const dir = mkdtempSync(path.join(tmpdir(), 'mapsync-kill-'));
      const caFile = path.join(dir, 'ca.pem');
      writeFileSync(caFile, sim.ca ?? '');
      let killed: Awaited<ReturnType<typeof killRunMidMerge>>;
      try {
        killed = await killRunMidMerge(db, id, {
          SIMULATOR_URL: sim.url,
          SIMULATOR_TOKEN: sim.token,
          SIMULATOR_CA_FILE: caFile,
          SIMULATOR_PLATFORM: platform.configPlatform,
          SIMULATOR_PROJECT: 'Campinas',
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      assert.equal(killed.statusWhenKilled, 'running');
      assert.equal(killed.signal, 'SIGKILL');

      assert.deepEqual(await snapshot(), before, 'the merge was rolled back with the dead session');
      const next = await queueRun(db.knex, { integrationId: id, trigger: 'cli' });
      const dead = await getRun(db.knex, killed.runId);
      assert.equal(dead?.status, 'failed');
      assert.match(dead?.error ?? '', /reaped/);
      const done = await executeRun(h.ctx, next.id);
      assert.equal(done.status, 'succeeded', done.error ?? '');
      assert.equal(done.counts.boxes?.removed, 1, JSON.stringify(nonZero(done.counts)));
    });
  });
}

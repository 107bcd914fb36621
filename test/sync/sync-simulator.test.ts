import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestDatabase } from '../helpers/test-database.ts';
import { countNetwork } from '../../src/simulator/network-generator.ts';
import type { RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { runIssues } from '../../src/sync/sync-runs.repository.ts';
import { nonZero, type Harness } from './fixtures/sync-harness.ts';
import { startSimulatedSync, type SimulatedSync } from './fixtures/simulated-sync.ts';

/** The sync against the GeoGrid simulator over HTTPS, through the real adapter. */
describe('sync against the simulator', () => {
  let db: TestDatabase;
  let sim: RunningSimulator;
  let h: Harness;

  let setup: SimulatedSync | undefined;

  before(async () => {
    setup = await startSimulatedSync({ id: 'sim', seed: 7, faults: { malformedRate: 0.01 } });
    ({ db, sim, h } = setup);
  });
  after(async () => {
    await setup?.close();
  });

  test('a full network: every element stored or rejected with a code; customers linked as the platform data says', async () => {
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
    const readable = [...sim.network.splitters.values()].filter((s) => !bad.has(`${s.containerKind}:${s.containerId}`) && !bad.has(`splitter:${s.id}`));
    assert.equal(run.counts.splitters?.created, readable.length, JSON.stringify({ counts, run: run.counts }));
    assert.equal(
      run.counts.ports?.created,
      readable.filter((s) => s.service).reduce((sum, s) => sum + s.ports.length, 0),
    );
    const autoBoxes = await db.knex('boxes').where({ integration_id: 'sim', auto: true }).count<{ n: number }[]>('* as n');
    assert.ok(Number(autoBoxes[0]?.n) > 0, 'the simulated network has poles carrying equipment');
    const attached = await db.knex('boxes').where({ integration_id: 'sim', auto: false }).whereNotNull('pole_id').count<{ n: number }[]>('* as n');
    assert.ok(Number(attached[0]?.n) > 0);

    // The simulator knows which linking outcome each customer should get.
    const rows = await db.knex('platform_customers').where({ integration_id: 'sim' }).select('external_id', 'link_status', 'link_reason');
    const statusOf = new Map(rows.map((r) => [r.external_id, r.link_status]));
    const reasonOf = new Map(rows.map((r) => [r.external_id, r.link_reason]));
    const disagreements: string[] = [];
    let agree = 0;
    let total = 0;
    for (const c of sim.network.customers.values()) {
      const status = statusOf.get(String(c.id));
      if (!status || !c.scenario || bad.has(`customer:${c.id}`)) continue;
      total += 1;
      if (status === c.scenario) agree += 1;
      else disagreements.push(`${c.scenario}->${status} doc=${JSON.stringify(c.cpfCnpj)} obs=${JSON.stringify(c.observacao)} ${reasonOf.get(String(c.id))}`);
    }
    // A few generated documents drop more leading zeros than the document rules accept.
    assert.ok(total > 100);
    assert.ok(agree / total >= 0.99, `linking agrees with the scenario for ${agree}/${total}: ${disagreements.slice(0, 12).join('\n')}`);

    const issues = await runIssues(db.knex, run.id);
    assert.ok(issues.some((i) => i.code === 'unmatched'));
    for (const issue of issues) assert.ok(issue.code.length > 0 && issue.reason.length > 0);
  });

  test('a second run writes nothing; poles vanishing trips the guard; equipment leaving a pole removes its auto box', async () => {
    const second = await h.sync();
    assert.equal(second.status, 'succeeded', second.error ?? '');
    for (const [kind, c] of Object.entries(second.counts)) {
      assert.equal(c.created + c.updated + c.removed, 0, `${kind}: ${JSON.stringify(c)}`);
    }

    sim.hideAllPoles(true);
    const guarded = await h.sync();
    assert.equal(guarded.status, 'failed');
    assert.match(guarded.error ?? '', /mass-removal guard.*poles/);
    sim.hideAllPoles(false);

    // A pole with service equipment: its port occupancy, read every run, shows the change.
    const autoBoxes = await db.knex('boxes').where({ integration_id: 'sim', auto: true }).whereNull('removed_at').orderBy('external_id');
    const autoBox = autoBoxes.find((box) => (sim.network.splittersByContainer.get(Number(String(box.external_id).replace('auto:pole:', ''))) ?? []).some((s) => s.service));
    assert.ok(autoBox, 'a pole carries service equipment');
    const poleId = String(autoBox.external_id).replace('auto:pole:', '');
    sim.removeEquipmentFromPole(Number(poleId));
    const run = await h.sync();
    assert.equal(run.status, 'succeeded', run.error ?? '');
    assert.equal(run.counts.boxes?.removed, 1, JSON.stringify(nonZero(run.counts)));
    const gone = await db.knex('boxes').where({ id: autoBox.id }).first();
    assert.notEqual(gone.removed_at, null);
  });
});

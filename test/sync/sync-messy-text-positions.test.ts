import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestDatabase } from '../helpers/test-database.ts';
import type { RunningSimulator } from '../../src/simulator/simulator.server.ts';
import { runIssues } from '../../src/sync/sync-runs.repository.ts';
import type { Harness } from './fixtures/sync-harness.ts';
import { startSimulatedSync, type SimulatedSync } from './fixtures/simulated-sync.ts';

/**
 * Issue 11 §5 end to end: platform records with a NUL byte or a lone surrogate in their text,
 * and poles placed outside Brazil, served by the simulator over HTTPS. The run succeeds; each
 * such record is stored cleaned or rejected, and an issue names it.
 */
describe('sync of messy text and implausible positions from the simulator', () => {
  let db: TestDatabase;
  let sim: RunningSimulator;
  let h: Harness;
  let setup: SimulatedSync | undefined;

  const picks = {
    customer: 0,
    customerObservation: 0,
    pole: 0,
    swappedPole: 0,
    nullIslandNeighbour: 0,
    box: 0,
    splitter: 0,
    port: 0,
  };

  before(async () => {
    setup = await startSimulatedSync({ id: 'messy', seed: 11 });
    ({ db, sim, h } = setup);
    const network = sim.network;
    const customers = [...network.customers.values()];
    const [first, second] = customers;
    assert.ok(first && second);
    picks.customer = first.id;
    first.nome = 'Nul\u0000Byte';
    picks.customerObservation = second.id;
    second.observacao = `${second.observacao ?? ''} half an emoji \ud83d`;

    const poles = [...network.poles.values()];
    const [pole, swapped, far] = poles;
    assert.ok(pole && swapped && far);
    picks.pole = pole.id;
    pole.sigla = 'POSTE\u0000-1 \udc00';
    picks.swappedPole = swapped.id;
    sim.moveElement(swapped.id, -46.63, -23.55); // São Paulo with latitude and longitude swapped
    picks.nullIslandNeighbour = far.id;
    sim.moveElement(far.id, 0.5, 0.5); // in the Gulf of Guinea

    const box = [...network.boxes.values()].find((b) => (network.splittersByContainer.get(b.id) ?? []).some((s) => s.service && s.ports.length > 0));
    assert.ok(box);
    picks.box = box.id;
    box.sigla = 'CTO\u0000';
    const splitter = (network.splittersByContainer.get(box.id) ?? []).find((s) => s.service && s.ports.length > 0);
    assert.ok(splitter);
    picks.splitter = splitter.id;
    splitter.sigla = '1x8 \ud800';
    const port = splitter.ports[0];
    assert.ok(port);
    picks.port = port.id;
    port.label = 'porta\u00001';
    // Bumps the simulator's listing version so every list is rebuilt with the edits above.
    sim.setCustomerObservation(second.id, second.observacao);
  });
  after(async () => {
    await setup?.close();
  });

  test('the run succeeds; text is stored cleaned with a text_cleaned issue; implausible poles are rejected with their code', async () => {
    const run = await h.sync();
    assert.equal(run.status, 'succeeded', run.error ?? '');

    const customer = await db.knex('platform_customers').where({ integration_id: 'messy', external_id: String(picks.customer) }).first();
    assert.equal(customer?.name, 'NulByte');
    const observed = await db.knex('platform_customers').where({ integration_id: 'messy', external_id: String(picks.customerObservation) }).first();
    assert.match(observed?.observation ?? '', /half an emoji \uFFFD$/);
    const pole = await db.knex('poles').where({ integration_id: 'messy', external_id: String(picks.pole) }).first();
    assert.equal(pole?.name, 'POSTE-1 \uFFFD');
    const box = await db.knex('boxes').where({ integration_id: 'messy', external_id: String(picks.box) }).first();
    assert.equal(box?.name, 'CTO');
    const splitter = await db.knex('splitters').where({ integration_id: 'messy', external_id: String(picks.splitter) }).first();
    assert.equal(splitter?.name, '1x8 \uFFFD');
    const port = await db.knex('ports').where({ integration_id: 'messy', external_id: String(picks.port) }).first();
    assert.equal(port?.label, 'porta1');

    const issues = await runIssues(db.knex, run.id);
    const codeOf = (kind: string, id: number) =>
      issues
        .filter((i) => i.kind === kind && i.externalId === String(id))
        .map((i) => i.code)
        .sort();
    assert.deepEqual(codeOf('customers', picks.customer), ['text_cleaned']);
    assert.deepEqual(codeOf('customers', picks.customerObservation), ['text_cleaned']);
    assert.deepEqual(codeOf('poles', picks.pole), ['text_cleaned']);
    assert.deepEqual(codeOf('boxes', picks.box), ['text_cleaned']);
    assert.deepEqual(codeOf('splitters', picks.splitter), ['text_cleaned']);
    assert.deepEqual(codeOf('ports', picks.port), ['text_cleaned']);
    const cleaned = issues.find((i) => i.kind === 'customers' && i.externalId === String(picks.customer));
    assert.match(cleaned?.reason ?? '', /name held a NUL byte/);

    assert.deepEqual(codeOf('poles', picks.swappedPole), ['coordinates_swapped']);
    const swapped = issues.find((i) => i.externalId === String(picks.swappedPole));
    assert.match(swapped?.reason ?? '', /swapped \(latitude -23\.55, longitude -46\.63\)/);
    assert.deepEqual(codeOf('poles', picks.nullIslandNeighbour), ['implausible_coordinates']);
    assert.equal(await db.knex('poles').where({ integration_id: 'messy', external_id: String(picks.swappedPole) }).first(), undefined);
    assert.equal(run.counts.poles?.rejected, 2);
  });

  test('a second run, reading port occupancy only, succeeds and stores the same cleaned text', async () => {
    const run = await h.sync();
    assert.equal(run.status, 'succeeded', run.error ?? '');
    assert.equal(run.counts.ports?.updated, 0, JSON.stringify(run.counts));
    const port = await db.knex('ports').where({ integration_id: 'messy', external_id: String(picks.port) }).first();
    assert.equal(port?.label, 'porta1');
  });
});

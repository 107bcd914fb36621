import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { runIssues } from '../../src/sync/sync-runs.repository.ts';
import { FakePlatform, box, customer, pole } from './fixtures/fake-platform.ts';
import { LAT, LON, sampleNetwork } from './fixtures/sample-network.ts';
import { createHarness, integrationConfig } from './fixtures/sync-harness.ts';

/** Records screened on their way from any adapter to staging: unstorable ids and implausible positions. */
describe('sync: record screening', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.destroy();
  });

  const issueCodes = async (runId: string) =>
    (await runIssues(db.knex, runId))
      .filter((i) => !['unmatched', 'document_mismatch', 'linked_by_document', 'ambiguous'].includes(i.code))
      .map((i) => `${i.kind}:${i.externalId}:${i.code}`)
      .sort();

  test('an id holding a NUL or a lone surrogate rejects that record only, with an issue naming it', async () => {
    const n = sampleNetwork();
    n.poles.push(pole('P\u00009', LON + 0.005, LAT));
    n.boxes.push(box('B8', LON + 0.006, LAT, { poleExternalId: 'P1\ud800' }));
    n.customers.push(customer('C\ud8007', null, null));
    const s1 = n.equipment.get('B1')?.[0];
    assert.ok(s1?.ports[2]);
    s1.ports[2] = { ...s1.ports[2], externalId: 'S1-3\u0000' };
    const h = await createHarness(db.knex, () => new FakePlatform(n), integrationConfig({ id: 'ids', elements: ['service_splitters', 'poles', 'boxes', 'customers'] }));
    const run = await h.sync();
    assert.equal(run.status, 'succeeded', run.error ?? '');
    assert.deepEqual(await issueCodes(run.id), ['boxes:B8:unstorable_text', 'customers:C\uFFFD7:unstorable_text', 'poles:P9:unstorable_text', 'ports:S1-3:unstorable_text']);
    const reason = (await runIssues(db.knex, run.id)).find((i) => i.externalId === 'B8')?.reason ?? '';
    assert.match(reason, /poleExternalId holds a NUL byte or a lone surrogate/);
    assert.equal(run.counts.poles?.rejected, 1);
    assert.equal(run.counts.ports?.rejected, 1);
    assert.equal(run.counts.poles?.created, 5);
    const ports = await db.knex('ports').where({ integration_id: 'ids' }).pluck('external_id');
    assert.ok(ports.length > 0 && !ports.some((id: string) => id.startsWith('S1-3')));
  });

  test('a project name holding a NUL is stored cleaned, and still found by name', async () => {
    const n = sampleNetwork();
    n.projects = [{ externalId: '10', name: 'Centro\u0000', parentName: 'Rede \ud800' }, { externalId: '11\u0000', name: 'Outro', parentName: null }];
    const h = await createHarness(db.knex, () => new FakePlatform(n), integrationConfig({ id: 'project-text', project: { link: 'Centro' } }));
    const run = await h.sync();
    assert.equal(run.status, 'succeeded', run.error ?? '');
    const project = await db.knex('projects').where({ integration_id: 'project-text' }).first();
    assert.equal(project?.name, 'Centro');
  });

    test("positions outside the integration's area are rejected; swapped ones say so", async () => {
    const n = sampleNetwork();
    n.poles.push(pole('PSP', -46.63, -23.55)); // São Paulo: Brazil, but outside the area
    n.poles.push(pole('PSW', LAT, LON)); // swapped
    n.boxes.push(box('BAR', -58.38, -34.6)); // Buenos Aires
    const area = { minLon: -47.3, minLat: -23.1, maxLon: -46.8, maxLat: -22.7 };
    const h = await createHarness(db.knex, () => new FakePlatform(n), integrationConfig({ id: 'area', area, elements: ['service_splitters', 'poles', 'boxes'] }));
    const run = await h.sync();
    assert.equal(run.status, 'succeeded', run.error ?? '');
    assert.deepEqual(await issueCodes(run.id), ['boxes:BAR:implausible_coordinates', 'poles:PSP:implausible_coordinates', 'poles:PSW:coordinates_swapped']);
    assert.equal(run.counts.poles?.created, 5);
    assert.equal(run.counts.poles?.rejected, 2);
    assert.equal(run.counts.boxes?.rejected, 1);
  });
});

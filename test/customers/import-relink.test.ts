import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { upsertCustomers } from '../../src/customers/customers.service.ts';
import { importContractsCsv } from '../../src/customers/customers-csv-import.ts';
import { documentTextOfJsonNumber } from '../../src/domain/documents.ts';
import { runIssues } from '../../src/sync/sync-runs.repository.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { FakePlatform, customer, emptyNetwork } from '../sync/fixtures/fake-platform.ts';
import { createHarness, integrationConfig } from '../sync/fixtures/sync-harness.ts';

/** Written from DOMAIN.md: a valid CPF from its 9-digit base. */
function cpf(base9: string): string {
  const digit = (chars: string, first: number) => {
    let sum = 0;
    for (let i = 0; i < chars.length; i++) sum += Number(chars[i]) * (first - i);
    const r = sum % 11;
    return r < 2 ? 0 : 11 - r;
  };
  const d1 = digit(base9, 10);
  return `${base9}${d1}${digit(`${base9}${d1}`, 11)}`;
}

const ANA = cpf('102030405');
const BIA = cpf('203040506');
const CIDA = cpf('304050607');
const DORA = cpf('405060708');
const EVA = cpf('506070809');
const LEO = '00041837207'; // sent by the platform as the JSON number 41837207

describe('linking when ERP data arrives: an import re-links at once', () => {
  let db: TestDatabase;
  let dir: string;
  before(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(path.join(tmpdir(), 'mapsync-relink-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.destroy();
  });

  test('documents and service ids an import touches are decided again, as the next sync would', async () => {
    const n = emptyNetwork();
    n.customers = [
      customer('ana', ANA, null), // no contract yet: unmatched, then linked by document
      customer('bia', BIA, 'instalado 12/03/2025 - contrato 9002'), // id unknown, then linked
      customer('cida', CIDA, null), // a second platform customer with Dora's contract's document, see below
      customer('cida-2', CIDA, 'cliente antigo'),
      customer('dora', DORA, null), // linked now; her contract moves to Eva
      customer('leo', documentTextOfJsonNumber(41837207), null),
      customer('nobody', cpf('999888777'), 'plano 300M'), // untouched
    ];
    await upsertCustomers(db.knex, [{ serviceId: '9004', document: DORA, name: 'Dora', status: 'active' }]);
    const platform = new FakePlatform(n);
    const h = await createHarness(db.knex, () => platform, integrationConfig({ id: 'relink', elements: ['customers'] }));
    const run = await h.sync();
    assert.equal(run.status, 'succeeded', run.error ?? '');

    const stored = async () =>
      Object.fromEntries(
        (await db.knex('platform_customers as pc').leftJoin('service_contracts as sc', 'sc.id', 'pc.service_contract_id').where('pc.integration_id', 'relink').select('pc.external_id', 'pc.link_status', 'pc.link_reason', 'sc.service_id')).map((row) => [row.external_id, row]),
      );
    let rows = await stored();
    assert.equal(rows.ana.link_status, 'unmatched');
    assert.equal(rows.bia.link_status, 'unmatched');
    assert.match(rows.bia.link_reason, /^unknown_id_document_not_found/);
    assert.equal(rows.dora.link_status, 'linked_by_document');
    assert.equal(rows.leo.link_status, 'unmatched');
    const before = await db.knex('platform_customers').where({ integration_id: 'relink', external_id: 'nobody' }).first();

    // The ERP import: Ana's and Bia's contracts arrive, one contract for Cida's document (claimed
    // twice on the platform), Dora's contract passes to Eva, and Leo's contract arrives.
    const result = await upsertCustomers(db.knex, [
      { serviceId: '9001', document: ANA, name: 'Ana', status: 'active' },
      { serviceId: '9002', document: BIA, name: 'Bia', status: 'active' },
      { serviceId: '9003', document: CIDA, name: 'Cida', status: 'active' },
      { serviceId: '9004', document: EVA, name: 'Eva', status: 'active' },
      { serviceId: '9005', document: LEO, name: 'Leo', status: 'active' },
    ]);
    assert.deepEqual(result.errors, []);

    rows = await stored();
    assert.equal(rows.ana.link_status, 'linked_by_document');
    assert.equal(rows.ana.service_id, '9001');
    assert.equal(rows.bia.link_status, 'linked');
    assert.equal(rows.bia.service_id, '9002');
    assert.equal(rows.cida.link_status, 'ambiguous');
    assert.match(rows.cida.link_reason, /^contract_claimed_by_document: .*platform customer cida-2/);
    assert.equal(rows['cida-2'].link_status, 'ambiguous');
    assert.equal(rows.dora.link_status, 'unmatched', "Dora's document has no contract any more");
    assert.equal(rows.dora.service_id, null);
    assert.equal(rows.leo.link_status, 'linked_by_document');
    assert.equal(rows.leo.service_id, '9005');
    assert.deepEqual(await db.knex('platform_customers').where({ integration_id: 'relink', external_id: 'nobody' }).first(), before, 'an untouched customer is left alone');

    // The last run's report says what is true now.
    const issues = Object.fromEntries((await runIssues(db.knex, run.id)).map((issue) => [issue.externalId, issue]));
    assert.equal(issues.ana?.code, 'linked_by_document');
    assert.equal(issues.bia, undefined, 'linked: no issue');
    assert.equal(issues.cida?.code, 'ambiguous');
    assert.equal(issues.dora?.code, 'unmatched');
    assert.equal(issues.nobody?.code, 'unmatched');

    // The next sync decides the same, and stores it as its own.
    const decided = await stored();
    const next = await h.sync();
    assert.equal(next.status, 'succeeded', next.error ?? '');
    assert.deepEqual(await stored(), decided);
    const again = await h.sync();
    assert.equal(again.counts.customers?.updated, 0);
  });

  test('mapsync customers import re-links too', async () => {
    const n = emptyNetwork();
    const FABIO = cpf('607080901');
    n.customers = [customer('fabio', FABIO, '<p>ID: 9101</p>')];
    const platform = new FakePlatform(n);
    const h = await createHarness(db.knex, () => platform, integrationConfig({ id: 'relink-csv', elements: ['customers'] }));
    assert.equal((await h.sync()).status, 'succeeded');
    const file = path.join(dir, 'erp.csv');
    writeFileSync(file, `serviceId;document;name\n9101;${FABIO};Fábio\n`);
    const result = await importContractsCsv(db.knex, file);
    assert.equal(result.created, 1);
    const row = await db.knex('platform_customers').where({ integration_id: 'relink-csv', external_id: 'fabio' }).first();
    assert.equal(row.link_status, 'linked');
    assert.match(row.link_reason, /^id_document_agrees/);
  });
});

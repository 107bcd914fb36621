import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { runIssues } from '../../src/sync/sync-runs.repository.ts';
import { FakePlatform, customer, emptyNetwork } from './fixtures/fake-platform.ts';
import { createHarness, integrationConfig } from './fixtures/sync-harness.ts';

/** ERP: three customers; Maria has one contract, João two active ones, the company one. */
async function seedErp(db: TestDatabase): Promise<Record<string, number>> {
  const [maria] = await db.knex('erp_customers').insert({ document: '52998224725', name: 'Maria', person_type: 'person' }).returning('id');
  const [joao] = await db.knex('erp_customers').insert({ document: '11144477735', name: 'João', person_type: 'person' }).returning('id');
  const [acme] = await db.knex('erp_customers').insert({ document: '12ABC34501DE35', name: 'ACME', person_type: 'company' }).returning('id');
  const [ana] = await db.knex('erp_customers').insert({ document: '12345678909', name: 'Ana', person_type: 'person' }).returning('id');
  const contracts = await db
    .knex('service_contracts')
    .insert([
      { service_id: '1001', erp_customer_id: maria.id, status: 'active' },
      { service_id: '2001', erp_customer_id: joao.id, status: 'active' },
      { service_id: '2002', erp_customer_id: joao.id, status: 'active' },
      { service_id: '3001', erp_customer_id: acme.id, status: 'active' },
      { service_id: '4001', erp_customer_id: ana.id, status: 'cancelled' },
    ])
    .returning(['id', 'service_id']);
  return Object.fromEntries(contracts.map((c: { id: number; service_id: string }) => [c.service_id, c.id]));
}

describe('customer linking during a sync', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.destroy();
  });

  test('each outcome, from messy documents and observation text', async () => {
    const contracts = await seedErp(db);
    const n = emptyNetwork();
    n.customers = [
      // linked: the id sits in HTML among other numbers, the document is spaced and dotted.
      customer('linked', ' 529 982.247-25 ', '<p>Plano 300M - tel (19) 99876-5432<br>ID cliente serviço: 1001</p>'),
      // document_mismatch: the id names Maria's contract, the document is João's.
      customer('mismatch', '111.444.777/35', 'id_cliente_servico=1001'),
      // linked_by_document: no id in the text, the alphanumeric CNPJ typed in lower case.
      customer('by-document', 'cnpj: 12.abc.345/01de-35', 'instalado em 12/05/2026, CEP 13000-000'),
      // ambiguous: no id, and João has two active contracts.
      customer('ambiguous', '11144477735', 'cliente antigo'),
      // unmatched: garbage document and no id.
      customer('garbage', 'não informado 123', null),
      // unmatched: only cancelled contracts.
      customer('cancelled', '123.456.789-09', ''),
      // linked: the id written with HTML entities.
      customer('entities', '52998224725', 'ID&#58; &#49;&#48;&#48;&#49;'),
      // unmatched: a valid CPF that the ERP does not know, leading zeros dropped.
      customer('unknown', '9876543229', null),
    ];
    const platform = new FakePlatform(n);
    const h = await createHarness(db.knex, () => platform, integrationConfig({ id: 'linking', elements: ['customers'] }));
    const run = await h.sync();
    assert.equal(run.status, 'succeeded', run.error ?? '');
    assert.equal(run.counts.customers?.created, 8);

    const rows = await db
      .knex('platform_customers')
      .where({ integration_id: 'linking' })
      .orderBy('external_id')
      .select('external_id', 'link_status', 'service_contract_id', 'document', 'document_masked', 'link_reason');
    const byId = Object.fromEntries(rows.map((r) => [r.external_id, r]));
    assert.equal(byId.linked.link_status, 'linked');
    assert.equal(byId.linked.service_contract_id, contracts['1001']);
    assert.equal(byId.linked.document, '52998224725');
    assert.equal(byId.entities.link_status, 'linked');
    assert.equal(byId.entities.service_contract_id, contracts['1001']);
    assert.equal(byId.mismatch.link_status, 'document_mismatch');
    assert.equal(byId.mismatch.service_contract_id, null);
    assert.equal(byId['by-document'].link_status, 'linked_by_document');
    assert.equal(byId['by-document'].service_contract_id, contracts['3001']);
    assert.equal(byId['by-document'].document, '12ABC34501DE35');
    assert.equal(byId.ambiguous.link_status, 'ambiguous');
    assert.equal(byId.garbage.link_status, 'unmatched');
    assert.equal(byId.garbage.document, null);
    assert.equal(byId.cancelled.link_status, 'unmatched');
    assert.match(byId.cancelled.link_reason, /only_inactive_contracts/);
    assert.equal(byId.unknown.link_status, 'unmatched');
    assert.equal(byId.unknown.document, '09876543229');
    for (const row of rows) {
      if (row.document_masked) assert.ok(!row.document_masked.includes('52998224725') && !/\d{6,}/.test(row.document_masked), row.document_masked);
    }

    const issues = await runIssues(db.knex, run.id);
    assert.deepEqual(
      issues.map((i) => `${i.externalId}:${i.code}`).sort(),
      ['ambiguous:ambiguous', 'by-document:linked_by_document', 'cancelled:unmatched', 'garbage:unmatched', 'mismatch:document_mismatch', 'unknown:unmatched'].sort(),
      'every outcome but linked is an issue',
    );
    for (const issue of issues) {
      assert.ok(!/\d{9,}/.test(issue.reason.replace(/\s/g, '')), `no whole document in the report: ${issue.reason}`);
      assert.ok(!issue.reason.includes('11144477735') && !issue.reason.includes('111.444.777'), issue.reason);
    }

    // Nothing changed: the links are kept without deciding again, and still reported.
    const same = await h.sync();
    assert.equal(same.status, 'succeeded', same.error ?? '');
    assert.deepEqual(same.counts.customers, { created: 0, updated: 0, unchanged: 8, removed: 0, rejected: 0 });
    const sameIssues = await runIssues(db.knex, same.id);
    assert.deepEqual(
      sameIssues.map((i) => `${i.externalId}:${i.code}:${i.reason}`).sort(),
      issues.map((i) => `${i.externalId}:${i.code}:${i.reason}`).sort(),
    );

    // The platform side of one customer changes: only that one is decided again.
    n.customers = n.customers.map((c) => (c.externalId === 'garbage' ? { ...c, observation: 'ID 1001' } : c));
    const edited = await h.sync();
    assert.equal(edited.counts.customers?.updated, 1);
    const garbage = await db.knex('platform_customers').where({ integration_id: 'linking', external_id: 'garbage' }).first();
    assert.equal(garbage.link_status, 'document_mismatch');
    assert.match(garbage.link_reason, /^id_document_invalid: /);

    // The ERP changes: João cancels a contract, so the ambiguous customer now links by document.
    await db.knex('service_contracts').where({ service_id: '2002' }).update({ status: 'cancelled' });
    const next = await h.sync();
    assert.equal(next.status, 'succeeded', next.error ?? '');
    assert.equal(next.counts.customers?.updated, 1);
    assert.equal(next.counts.customers?.unchanged, 7);
    assert.equal((await db.knex('sync_link_state').where({ integration_id: 'linking' }).first()).erp_fingerprint.split(':')[0], '5');
    const relinked = await db.knex('platform_customers').where({ integration_id: 'linking', external_id: 'ambiguous' }).first();
    assert.equal(relinked.link_status, 'linked_by_document');
    assert.equal(relinked.service_contract_id, contracts['2001']);
  });
});

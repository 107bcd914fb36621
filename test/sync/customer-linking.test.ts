import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { runIssues } from '../../src/sync/sync-runs.repository.ts';
import { FakePlatform, customer, emptyNetwork } from './fixtures/fake-platform.ts';
import { createHarness, integrationConfig } from './fixtures/sync-harness.ts';
import { toCustomers } from '../../src/platforms/geogrid/geogrid.wire.ts';
import { upsertCustomers } from '../../src/customers/customers.service.ts';

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

/** ERP: three customers; Maria has one contract, João two active ones, the company one. */
async function seedErp(db: TestDatabase): Promise<Record<string, number>> {
  const [maria] = await db.knex('erp_customers').insert({ document: '52998224725', name: 'Maria', person_type: 'person' }).returning('id');
  const [joao] = await db.knex('erp_customers').insert({ document: '11144477735', name: 'João', person_type: 'person' }).returning('id');
  const [acme] = await db.knex('erp_customers').insert({ document: '12ABC34501DE35', name: 'ACME', person_type: 'company' }).returning('id');
  const [ana] = await db.knex('erp_customers').insert({ document: '12345678909', name: 'Ana', person_type: 'person' }).returning('id');
  const [paula] = await db.knex('erp_customers').insert({ document: '98765432100', name: 'Paula', person_type: 'person' }).returning('id');
  const contracts = await db
    .knex('service_contracts')
    .insert([
      { service_id: '1001', erp_customer_id: maria.id, status: 'active' },
      { service_id: '2001', erp_customer_id: joao.id, status: 'active' },
      { service_id: '2002', erp_customer_id: joao.id, status: 'active' },
      { service_id: '3001', erp_customer_id: acme.id, status: 'active' },
      { service_id: '4001', erp_customer_id: ana.id, status: 'cancelled' },
      { service_id: '5001', erp_customer_id: paula.id, status: 'active' },
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
      customer('entities', '98765432100', 'ID&#58; &#53;&#48;&#48;&#49;'),
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
    assert.equal(byId.entities.service_contract_id, contracts['5001']);
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
    assert.equal((await db.knex('sync_link_state').where({ integration_id: 'linking' }).first()).erp_fingerprint.split(':')[0], '6');
    const relinked = await db.knex('platform_customers').where({ integration_id: 'linking', external_id: 'ambiguous' }).first();
    assert.equal(relinked.link_status, 'linked_by_document');
    assert.equal(relinked.service_contract_id, contracts['2001']);
  });

  test('one contract, one platform customer; weak guesses; documents sent as JSON numbers', async () => {
    const RITA = cpf('246813579');
    const CAIO = cpf('135792468');
    const NINA = cpf('314159265');
    const OTTO = cpf('271828182');
    const erpCustomer = async (document: string, name: string, serviceIds: string[]) => {
      const [row] = await db.knex('erp_customers').insert({ document, name, person_type: 'person' }).returning('id');
      await db.knex('service_contracts').insert(serviceIds.map((service_id) => ({ service_id, erp_customer_id: row.id, status: 'active' })));
    };
    await erpCustomer(RITA, 'Rita', ['7001']);
    await erpCustomer(CAIO, 'Caio', ['7101']);
    await erpCustomer('00041837207', 'Leo', ['7201']);
    await erpCustomer(NINA, 'Nina', ['7301']);
    await erpCustomer(OTTO, 'Otto', ['7401']);
    const contractId = async (serviceId: string) => (await db.knex('service_contracts').where({ service_id: serviceId }).first()).id;

    // The platform sends Leo's CPF 000.418.372-07 as a JSON number.
    const fromWire = toCustomers([{ dados: { id: 'leo', nome: 'Leo', cpfCnpj: 41837207, observacao: null } }]).items;
    const n = emptyNetwork();
    n.customers = [
      customer('r1', RITA, null), // two document-only claims on 7001
      customer('r2', `${RITA.slice(0, 3)}.${RITA.slice(3, 6)}.${RITA.slice(6, 9)}-${RITA.slice(9)}`, 'cliente antigo'),
      customer('c1', CAIO, null), // a document-only claim on 7101 ...
      customer('c2', CAIO, 'ID 7101'), // ... loses to an explicit id
      ...fromWire,
      customer('nina', NINA, 'instalado pelo Zé 7001'), // an unlabelled number of someone else's contract
      customer('otto', OTTO, 'contrato 7001'), // a labelled one
    ];
    const platform = new FakePlatform(n);
    const h = await createHarness(db.knex, () => platform, integrationConfig({ id: 'claims', elements: ['customers'] }));
    const stored = async () =>
      Object.fromEntries(
        (await db.knex('platform_customers').where({ integration_id: 'claims' }).whereNull('removed_at').select('external_id', 'link_status', 'link_reason', 'service_contract_id', 'document')).map((row) => [row.external_id, row]),
      );

    const run = await h.sync();
    assert.equal(run.status, 'succeeded', run.error ?? '');
    let rows = await stored();
    assert.equal(rows.r1.link_status, 'ambiguous');
    assert.equal(rows.r1.service_contract_id, null);
    assert.match(rows.r1.link_reason, /^contract_claimed_by_document: .*service 7001.*platform customer r2 \(Cliente r2\)/);
    assert.equal(rows.r2.link_status, 'ambiguous');
    assert.match(rows.r2.link_reason, /platform customer r1 \(Cliente r1\)/);
    assert.equal(rows.c2.link_status, 'linked');
    assert.equal(rows.c2.service_contract_id, await contractId('7101'));
    assert.equal(rows.c1.link_status, 'ambiguous');
    assert.match(rows.c1.link_reason, /^contract_claimed_by_id: .*platform customer c2 \(Cliente c2\)/);
    assert.equal(rows.leo.link_status, 'linked_by_document');
    assert.equal(rows.leo.service_contract_id, await contractId('7201'));
    assert.equal(rows.leo.document, '00041837207');
    assert.equal(rows.nina.link_status, 'linked_by_document');
    assert.equal(rows.nina.service_contract_id, await contractId('7301'));
    assert.match(rows.nina.link_reason, /^weak_id_ignored_single_active_contract: .*number 7001/);
    assert.equal(rows.otto.link_status, 'document_mismatch');
    assert.equal(rows.otto.service_contract_id, null);

    const issues = await runIssues(db.knex, run.id);
    const byCustomer = Object.fromEntries(issues.map((issue) => [issue.externalId, issue]));
    assert.equal(byCustomer.r1?.code, 'ambiguous');
    assert.equal(byCustomer.c1?.code, 'ambiguous');
    assert.equal(byCustomer.c2, undefined, 'the winner is linked: no issue');
    for (const issue of issues) {
      for (const document of [RITA, CAIO, NINA, OTTO, '00041837207', '41837207']) assert.ok(!issue.reason.replace(/[.\-/\s]/g, '').includes(document), issue.reason);
    }

    // Nothing changed: the same outcome, nothing rewritten.
    const again = await h.sync();
    assert.equal(again.status, 'succeeded', again.error ?? '');
    assert.deepEqual(again.counts.customers, { created: 0, updated: 0, unchanged: 7, removed: 0, rejected: 0 });
    assert.deepEqual(await stored(), rows);

    // r2 leaves the platform and c2 drops its id: the remaining claimants link by document.
    n.customers = n.customers.filter((c) => c.externalId !== 'r2').map((c) => (c.externalId === 'c2' ? { ...c, observation: null } : c));
    const third = await h.sync();
    assert.equal(third.status, 'succeeded', third.error ?? '');
    rows = await stored();
    assert.equal(rows.r1.link_status, 'linked_by_document');
    assert.equal(rows.r1.service_contract_id, await contractId('7001'));
    assert.equal(rows.c1.link_status, 'ambiguous', 'c1 and c2 now both claim 7101 by document');
    assert.equal(rows.c2.link_status, 'ambiguous');
    assert.match(rows.c2.link_reason, /^contract_claimed_by_document: .*platform customer c1/);
  });
  test('a platform whose customers carry no document (OZmap): the observation id and the code decide, in the same five outcomes', async () => {
    const erpCustomer = async (document: string, name: string, serviceIds: string[]) => {
      const [row] = await db.knex('erp_customers').insert({ document, name, person_type: 'person' }).returning('id');
      await db.knex('service_contracts').insert(serviceIds.map((service_id) => ({ service_id, erp_customer_id: row.id, status: 'active' })));
    };
    await erpCustomer(cpf('111222333'), 'Lia', ['8001']);
    await erpCustomer(cpf('222333444'), 'Rui', ['8101', '8102']);
    await erpCustomer(cpf('333444555'), 'Teo', ['8201']);
    const contractId = async (serviceId: string) => (await db.knex('service_contracts').where({ service_id: serviceId }).first()).id;
    const client = (id: string, observation: string | null, code: string | null) => ({ ...customer(id, null, observation), integrationCode: code });

    const n = emptyNetwork();
    n.customers = [
      client('by-id', '<p>ID: 8001</p>', null), // linked by the observation
      client('by-code', 'cliente antigo', '8201'), // linked by the code
      client('mismatch', 'ID 8001', '8201'), // the two ids name two people
      client('ambiguous', 'contrato 8101', '8102'), // two contracts of Rui
      client('unmatched', 'instalado pelo Zé 8001', 'OZ-77'), // a weak guess, a code that is no id
      client('later', 'ID 8301', null), // names a contract the ERP does not have yet
    ];
    const platform = new FakePlatform(n);
    const h = await createHarness(db.knex, () => Object.assign(platform, { customersCarryDocuments: false }), integrationConfig({ id: 'nodoc', elements: ['customers'] }));
    const stored = async () =>
      Object.fromEntries(
        (await db.knex('platform_customers').where({ integration_id: 'nodoc' }).whereNull('removed_at').select('external_id', 'link_status', 'link_reason', 'service_contract_id', 'document')).map((row) => [row.external_id, row]),
      );

    const run = await h.sync();
    assert.equal(run.status, 'succeeded', run.error ?? '');
    let rows = await stored();
    assert.equal(rows['by-id'].link_status, 'linked');
    assert.equal(rows['by-id'].service_contract_id, await contractId('8001'));
    assert.match(rows['by-id'].link_reason, /^id_no_document: .*carry no document/);
    assert.equal(rows['by-code'].link_status, 'linked');
    assert.equal(rows['by-code'].service_contract_id, await contractId('8201'));
    assert.match(rows['by-code'].link_reason, /^no_id_code_no_document: /);
    assert.equal(rows.mismatch.link_status, 'document_mismatch');
    assert.match(rows.mismatch.link_reason, /^id_code_differ_no_document: /);
    assert.equal(rows.ambiguous.link_status, 'ambiguous');
    assert.match(rows.ambiguous.link_reason, /^id_code_same_holder_no_document: /);
    assert.equal(rows.unmatched.link_status, 'unmatched');
    assert.match(rows.unmatched.link_reason, /^weak_id_ignored_no_document: /);
    assert.equal(rows.later.link_status, 'unmatched');
    assert.match(rows.later.link_reason, /^unknown_id_no_document: /);
    for (const id of Object.keys(rows)) assert.equal(rows[id].document, null);
    const issues = await runIssues(db.knex, run.id);
    assert.deepEqual(issues.map((i) => `${i.externalId}:${i.code}`).sort(), ['ambiguous:ambiguous', 'later:unmatched', 'mismatch:document_mismatch', 'unmatched:unmatched']);

    // Nothing changed: nothing rewritten.
    const again = await h.sync();
    assert.deepEqual(again.counts.customers, { created: 0, updated: 0, unchanged: 6, removed: 0, rejected: 0 });

    // Only the code changes: it is an input of the link, so that customer is decided again.
    n.customers = n.customers.map((c) => (c.externalId === 'mismatch' ? { ...c, integrationCode: '8001' } : c));
    const edited = await h.sync();
    // Both ids now name 8001, as by-id's observation does: one contract, one platform customer.
    assert.equal(edited.counts.customers?.updated, 2, JSON.stringify(edited.counts.customers));
    rows = await stored();
    for (const id of ['mismatch', 'by-id']) {
      assert.equal(rows[id].link_status, 'ambiguous');
      assert.match(rows[id].link_reason, /^contract_claimed_by_several_ids: /);
    }

    // The ERP gets contract 8301: the import re-links the customer naming it, by id alone.
    await upsertCustomers(db.knex, [{ serviceId: '8301', document: cpf('444555666'), name: 'Bel', status: 'active' }]);
    rows = await stored();
    assert.equal(rows.later.link_status, 'linked');
    assert.equal(rows.later.service_contract_id, await contractId('8301'));
    assert.match(rows.later.link_reason, /^id_no_document: /);
  });
});

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { upsertCustomers } from '../../src/customers/customers.service.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { cpfFor } from '../push/helpers/push-fixtures.ts';

describe('ERP customers and contracts upsert', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db?.destroy());

  const contract = (serviceId: string) => db.knex('service_contracts as s').join('erp_customers as c', 'c.id', 's.erp_customer_id').where('s.service_id', serviceId).first('s.*', 'c.document', 'c.name', 'c.person_type', 'c.email', db.knex.raw('ST_X(s.geom) AS lon'), db.knex.raw('ST_Y(s.geom) AS lat'));

  test('creates customers and contracts with documents in normal form and the person type derived', async () => {
    const result = await upsertCustomers(db.knex, [
      { serviceId: '1001', document: '529.982.247-25', name: 'Ana Silva', status: 'active', address: 'Rua A, 1', lat: -22.9, lon: -47.06 },
      { serviceId: '1002', document: '11.222.333/0001-81', name: 'Padaria Boa', status: 'suspenso' },
      { id_cliente_servico: 1003, cpf_cnpj: '12.abc.345/01de-35', nome: 'Nova Empresa', latitude: '-22,91', longitude: '-47,07' },
      { serviceId: '1004', document: '529.982.247-25', name: 'Ana Silva', status: 'active' },
    ]);
    assert.deepEqual(result.errors, []);
    assert.equal(result.created, 4);
    assert.deepEqual(result.customers, { created: 3, updated: 0, unchanged: 0 });
    const ana = await contract('1001');
    assert.equal(ana.document, '52998224725');
    assert.equal(ana.person_type, 'person');
    assert.equal(ana.lat, -22.9);
    assert.equal(ana.lon, -47.06);
    assert.equal((await contract('1002')).person_type, 'company');
    assert.equal((await contract('1002')).status, 'suspended');
    const alpha = await contract('1003');
    assert.equal(alpha.document, '12ABC34501DE35');
    assert.equal(alpha.person_type, 'company');
    assert.equal(alpha.status, 'active', 'status defaults to active');
    assert.equal(alpha.lat, -22.91);
    assert.equal((await contract('1004')).erp_customer_id, ana.erp_customer_id, 'one customer, two contracts');
  });

  test('the same data again writes nothing; a change is an update; empty optional fields keep what is stored', async () => {
    const items = [{ serviceId: '2001', document: cpfFor(2001), name: 'Bruno', email: 'b@example.com', address: 'Rua B', lat: -22.9, lon: -47 }];
    assert.equal((await upsertCustomers(db.knex, items)).created, 1);
    const before = await contract('2001');
    const again = await upsertCustomers(db.knex, items);
    assert.deepEqual([again.created, again.updated, again.unchanged], [0, 0, 1]);
    assert.deepEqual(again.customers, { created: 0, updated: 0, unchanged: 1 });
    assert.equal((await contract('2001')).updated_at.getTime(), before.updated_at.getTime());

    const renamed = await upsertCustomers(db.knex, [{ serviceId: '2001', document: cpfFor(2001), name: 'Bruno Lima', status: 'inactive' }]);
    assert.deepEqual([renamed.created, renamed.updated, renamed.unchanged], [0, 1, 0]);
    assert.deepEqual(renamed.customers, { created: 0, updated: 1, unchanged: 0 });
    const after = await contract('2001');
    assert.equal(after.name, 'Bruno Lima');
    assert.equal(after.status, 'inactive');
    assert.equal(after.email, 'b@example.com');
    assert.equal(after.address, 'Rua B');
    assert.equal(after.lat, -22.9);
  });

  test('a bad item is reported with index, serviceId and field; the others are saved', async () => {
    const result = await upsertCustomers(db.knex, [
      { serviceId: '3001', document: '529.982.247-26', name: 'Check digits wrong' },
      { serviceId: '3002', document: cpfFor(3002), name: 'Good' },
      { document: cpfFor(3003), name: 'No service id' },
      { serviceId: '3004', document: '111.111.111-11', name: 'Repeated' },
      { serviceId: '3005', document: cpfFor(3005), name: 'Bad status', status: 'paused' },
      { serviceId: '3006', document: cpfFor(3006), name: 'Company?', personType: 'company' },
      { serviceId: '3007', document: cpfFor(3007), name: 'Half a point', lat: -22.9 },
      { serviceId: '3002', document: cpfFor(3002), name: 'Twice' },
      'not an object',
      { serviceId: '3010', document: cpfFor(3010), name: '' },
    ]);
    assert.equal(result.created, 1);
    const byIndex = (i: number) => result.errors.filter((e) => e.index === i);
    assert.deepEqual(byIndex(0).map((e) => [e.serviceId, e.field]), [['3001', 'document']]);
    assert.match(byIndex(0)[0]!.message, /check digits/);
    assert.doesNotMatch(JSON.stringify(result.errors), /52998224726/, 'documents are masked in errors');
    assert.deepEqual(byIndex(2).map((e) => [e.serviceId, e.field]), [[null, 'serviceId']]);
    assert.match(byIndex(3)[0]!.message, /all digits equal/);
    assert.equal(byIndex(4)[0]!.field, 'status');
    assert.match(byIndex(5)[0]!.message, /CPF/);
    assert.equal(byIndex(6)[0]!.field, 'lon');
    assert.match(byIndex(7)[0]!.message, /appears again \(first at 1\)/);
    assert.equal(byIndex(8)[0]!.field, '(item)');
    assert.equal(byIndex(9)[0]!.field, 'name');
    assert.equal(await contract('3001'), undefined);
    assert.ok(await contract('3002'));
  });

  test('1000 items go in a few set-wise statements', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({
      serviceId: `B${i}`,
      document: cpfFor(50_000 + (i % 700)),
      name: `Cliente ${i % 700}`,
      status: 'active',
      address: `Rua ${i}`,
      lat: -22.9 + i / 10_000,
      lon: -47.06,
    }));
    const queries: string[] = [];
    const onQuery = (q: { sql: string }) => queries.push(q.sql);
    db.knex.on('query', onQuery);
    const startedAt = performance.now();
    const result = await upsertCustomers(db.knex, items);
    const ms = performance.now() - startedAt;
    db.knex.off('query', onQuery);
    assert.equal(result.created, 1000);
    assert.equal(result.customers.created, 700);
    // The upsert itself, the re-link of the customers it touches, and the bindings' status check:
    // a fixed number of statements, whatever the number of items.
    assert.ok(queries.length <= 8, `${queries.length} statements`);
    const again = await upsertCustomers(db.knex, items);
    assert.equal(again.unchanged, 1000);
    console.log(`# 1000 contracts upserted in ${ms.toFixed(0)} ms`);
  });
});

/**
 * POST /v1/customers keeps the rules of the CSV import (parseContractItem): each bad item is
 * refused on its own with the field named, two keys of one field are merged, and what a
 * spreadsheet did to a value is never stored as if it were the value.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService, type TestService } from '../helpers/test-service.ts';
import { cpfFor } from '../push/helpers/push-fixtures.ts';

describe('POST /v1/customers: the rules the CSV import shares', () => {
  let service: TestService;
  before(async () => {
    service = await startTestService();
  });
  after(async () => service?.stop());

  const contract = (serviceId: string) =>
    service.db
      .knex('service_contracts as s')
      .join('erp_customers as c', 'c.id', 's.erp_customer_id')
      .where('s.service_id', serviceId)
      .first('c.document', 'c.name', 'c.phone', 'c.email', 's.status', 's.zip_code', 's.address');

  // [item, refused field and message | null when saved, what is stored]
  const cases: [Record<string, unknown>, [string, RegExp] | null, Record<string, unknown>][] = [
    [{ serviceId: 'R1', document: cpfFor(1), name: 'Maria', email: 'maria-at-example' }, ['email', /is not an e-mail address \("maria-at-example"\)/], {}],
    [{ serviceId: 'R2', document: cpfFor(2), name: 'Nina', email: 'a@example.com, b@example.com' }, ['email', /must be one e-mail address/], {}],
    [{ serviceId: 'R3', document: cpfFor(3), name: 'Olga', email: ' olga@example.com.br ' }, null, { email: 'olga@example.com.br' }],
    [{ serviceId: 'R4', cpf: '', cnpj: '11.222.333/0001-81', name: 'Loja' }, null, { document: '11222333000181' }],
    [{ serviceId: 'R5', cpf: cpfFor(5), cnpj: '11.222.333/0001-81', name: 'Two' }, ['document', /"cpf" and "cnpj" hold different documents/], {}],
    [{ serviceId: 'R6', document: cpfFor(6), name: 'Pia', telefone: '', celular: '(11) 99999-0006' }, null, { phone: '(11) 99999-0006' }],
    [{ serviceId: 'R7', document: '1,23457E+13', name: 'Sci' }, ['document', /scientific notation/], {}],
    [{ serviceId: 'R8', document: cpfFor(8), name: 'Jo\uFFFDo' }, ['name', /a letter lost before the file reached mapsync/], {}],
    [{ serviceId: 'R9', document: cpfFor(9), name: 'Nul\u0000l' }, ['name', /control character|NUL character/], {}],
    [{ serviceId: 'R10', document: cpfFor(10), name: 'JoÃ£o' }, ['name', /looks decoded twice/], {}],
    [{ serviceId: '="R11"', document: `="${cpfFor(11)}"`, name: 'Formula', cep: '1310100' }, null, { zip_code: '01310100' }],
    [{ serviceId: '1.234', document: cpfFor(12), name: 'Thousands' }, ['serviceId', /looks like a number a spreadsheet reformatted/], {}],
    [{ serviceId: 'R14', document: cpfFor(14), name: 'Statuses', status: 'ativo', situacao: 'cancelado' }, ['status', /"status" and "situacao" hold different values \("ativo" and "cancelado"\); keep one/], {}],
    [{ serviceId: 'R15', contrato: 'R15b', document: cpfFor(15), name: 'Ids' }, ['serviceId', /"serviceId" and "contrato" hold different values/], {}],
    [{ serviceId: 'R16', document: cpfFor(16), name: 'Same status', status: 'cancelled', situacao: 'Cancelado' }, null, { status: 'cancelled' }],
    [{ serviceId: 'R17', cpf: `="${cpfFor(17)}"`, documento: cpfFor(17), name: 'Same document twice' }, null, { document: cpfFor(17) }],
    [{ serviceId: 'R13', document: cpfFor(13), name: 'Status', situacao: 'Cancelado', endereco: 'Rua A', numero: '5', bairro: 'Centro' }, null, { status: 'cancelled', address: 'Rua A, 5 - Centro' }],
  ];

  test('each bad item is refused on its own; the good ones are saved with what was meant', async () => {
    const response = await service.request('POST', '/v1/customers', { items: cases.map(([item]) => item) });
    assert.equal(response.status, 200);
    const refused = cases.filter(([, problem]) => problem !== null).length;
    assert.equal(response.body.created, cases.length - refused);
    for (const [index, [item, problem, stored]] of cases.entries()) {
      const errors = response.body.errors.filter((e: { index: number }) => e.index === index);
      const serviceId = String(item.serviceId).replace(/^="(.*)"$/, '$1');
      if (problem) {
        assert.equal(errors.length, 1, `${serviceId}: ${JSON.stringify(errors)}`);
        assert.equal(errors[0].field, problem[0], serviceId);
        assert.match(errors[0].message, problem[1], serviceId);
        assert.equal(await contract(serviceId), undefined, `${serviceId} is not saved`);
      } else {
        assert.deepEqual(errors, [], serviceId);
        const row = await contract(serviceId);
        assert.ok(row, `${serviceId} is saved`);
        for (const [key, value] of Object.entries(stored)) assert.equal(row[key], value, `${serviceId}.${key}`);
      }
    }
  });

  test('two different phones keep the first key and come back as a warning', async () => {
    const response = await service.request('POST', '/v1/customers', [
      { serviceId: 'W1', document: cpfFor(20), name: 'Two Phones', telefone: '(11) 3333-0020', celular: '(11) 99999-0020' },
    ]);
    assert.equal(response.status, 200);
    assert.equal(response.body.created, 1);
    assert.deepEqual(response.body.warnings, [
      { index: 0, serviceId: 'W1', field: 'phone', message: '"telefone" and "celular" differ; kept the value of "telefone"' },
    ]);
    assert.equal((await contract('W1')).phone, '(11) 3333-0020');
  });
});

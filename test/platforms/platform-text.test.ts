import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cleanRecordText, cleanText, needsCleaning } from '../../src/platforms/record-validation.ts';
import { TEXT_CASES } from './corpus/platform-text.corpus.ts';

describe('platform text: every case of the corpus is stored as expected', () => {
  for (const c of TEXT_CASES) {
    test(c.name, () => {
      assert.equal(cleanText(c.input), c.stored);
      assert.equal(needsCleaning(c.input), c.input !== c.stored);
      // What is stored survives a round trip through UTF-8 unchanged (no lone surrogate left).
      assert.equal(Buffer.from(c.stored, 'utf8').toString('utf8'), c.stored);
      assert.ok(!c.stored.includes('\u0000'));
    });
  }
});

describe('platform text: a record is cleaned field by field; ids are reported apart', () => {
  test('a clean record is returned as it is, not copied', () => {
    const record = { externalId: '7', name: 'CTO 7', ports: [{ externalId: '1', label: 'A' }] };
    const result = cleanRecordText(record);
    assert.equal(result.record, record);
    assert.deepEqual([result.cleaned, result.badIds], [[], []]);
  });

  test('every kind of text field, nested ones included, is cleaned and named by its path', () => {
    const customer = { externalId: '70001', name: 'Nul\u0000Byte', rawDocument: '\ud800', observation: 'ok', integrationCode: null };
    const result = cleanRecordText(customer);
    assert.deepEqual(result.record, { externalId: '70001', name: 'NulByte', rawDocument: '\uFFFD', observation: 'ok', integrationCode: null });
    assert.deepEqual(result.cleaned, ['name', 'rawDocument']);
    assert.deepEqual(result.badIds, []);
    assert.equal(customer.name, 'Nul\u0000Byte', 'the input is not changed');

    const port = { externalId: '91', number: 1, label: 'p\u0000', available: false, customer: { externalId: '70001', name: 'Jo\udc00' } };
    const cleanedPort = cleanRecordText(port);
    assert.deepEqual(cleanedPort.cleaned, ['label', 'customer.name']);
    assert.equal(cleanedPort.record.customer.name, 'Jo\uFFFD');
  });

  test('ids holding such characters are reported, whatever the depth', () => {
    const result = cleanRecordText({
      externalId: '5\u0000',
      containerExternalId: 'B1',
      poleExternalId: '\ud800',
      ports: [{ externalId: '1', customer: { externalId: '7\u0000', name: null } }],
    });
    assert.deepEqual(result.badIds, ['externalId', 'poleExternalId', 'ports[0].customer.externalId']);
    assert.deepEqual(result.cleaned, []);
  });
});

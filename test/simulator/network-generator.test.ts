import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countNetwork, erpContractsFor, generateNetwork, CITY_CENTRE } from '../../src/simulator/network-generator.ts';
import { cnpjCheckDigits, cpfCheckDigits } from '../../src/simulator/simulated-documents.ts';

test('the same seed and size give the same network; another seed a different one', () => {
  const a = generateNetwork({ seed: 42, size: 5000 });
  const b = generateNetwork({ seed: 42, size: 5000 });
  const c = generateNetwork({ seed: 43, size: 5000 });
  const digest = (n: typeof a) => JSON.stringify([[...n.poles.values()], [...n.splitters.values()], [...n.customers.values()]]);
  assert.equal(digest(a), digest(b));
  assert.notEqual(digest(a), digest(c));
});

test('size counts poles + boxes + splitters + ports + customers, and the layout is plausible', () => {
  const network = generateNetwork({ seed: 1, size: 20_000 });
  const counts = countNetwork(network);
  assert.ok(counts.total >= 20_000 && counts.total <= 20_000 * 1.05, `total ${counts.total}`);
  for (const pole of network.poles.values()) {
    assert.ok(Math.abs(pole.lat - CITY_CENTRE.lat) < 0.1 && Math.abs(pole.lon - CITY_CENTRE.lon) < 0.1);
  }
  const splitters = [...network.splitters.values()];
  assert.ok(splitters.some((s) => s.containerKind === 'pole'), 'some splitters sit directly on poles');
  assert.ok(splitters.filter((s) => s.service).every((s) => s.ratioOut === 8 || s.ratioOut === 16));
  assert.ok(splitters.filter((s) => !s.service).every((s) => s.ratioOut === 2 || s.ratioOut === 4));
  assert.ok([...network.ports.values()].some((p) => p.reserved), 'a few reserved ports');
  // Neighbouring poles along a street are 30–45 m apart.
  const poles = [...network.poles.values()];
  const metres = (i: number) => Math.hypot((poles[i + 1]!.lat - poles[i]!.lat) * 111_320, (poles[i + 1]!.lon - poles[i]!.lon) * 111_320 * Math.cos((CITY_CENTRE.lat * Math.PI) / 180));
  assert.ok(metres(0) > 30 && metres(0) < 45, `${metres(0)} m`);
});

test('a million-element network is generated in full (its speed is in npm run bench:domain)', () => {
  const network = generateNetwork({ seed: 1, size: 1_000_000 });
  assert.ok(countNetwork(network).total >= 1_000_000);
});

test('documents: valid check digits, including the alphanumeric CNPJ', () => {
  assert.equal(cnpjCheckDigits('12ABC34501DE'), '35');
  assert.equal(cpfCheckDigits('529982247'), '25');
  assert.equal(cnpjCheckDigits('112223330001'), '81');
});

test('the ERP side matches the customers with the intended scenarios', () => {
  const network = generateNetwork({ seed: 9, size: 30_000 });
  const contracts = erpContractsFor(network);
  const byService = new Map(contracts.map((c) => [c.serviceId, c]));
  const byDocument = new Map<string, number>();
  for (const c of contracts) byDocument.set(c.document, (byDocument.get(c.document) ?? 0) + 1);
  const scenarios = new Map<string, number>();
  const styles = new Set<string>();
  for (const customer of network.customers.values()) {
    scenarios.set(customer.scenario ?? 'none', (scenarios.get(customer.scenario ?? 'none') ?? 0) + 1);
    if (customer.cpfCnpj && /[a-z]/.test(customer.cpfCnpj)) styles.add('lowercase');
    if (customer.cpfCnpj && /[A-Z]/.test(customer.cpfCnpj)) styles.add('alphanumeric');
    const contract = customer.serviceId ? byService.get(customer.serviceId) : undefined;
    switch (customer.scenario) {
      case 'linked':
        assert.ok(customer.observacao?.includes(customer.serviceId!));
        assert.equal(contract?.document, customer.cleanDocument);
        break;
      case 'document_mismatch':
        assert.ok(customer.observacao?.includes(customer.serviceId!));
        assert.notEqual(contract?.document, customer.cleanDocument);
        break;
      case 'linked_by_document':
        assert.ok(!/\d/.test(customer.observacao ?? ''));
        assert.equal(byDocument.get(customer.cleanDocument!), 1);
        break;
      case 'ambiguous':
        assert.equal(byDocument.get(customer.cleanDocument!), 2);
        break;
      case 'unmatched':
        assert.equal(customer.cleanDocument === null || !byDocument.has(customer.cleanDocument), true);
        break;
    }
  }
  for (const scenario of ['linked', 'linked_by_document', 'document_mismatch', 'ambiguous', 'unmatched']) {
    assert.ok((scenarios.get(scenario) ?? 0) > 10, `scenario ${scenario}`);
  }
  assert.ok(styles.has('lowercase') && styles.has('alphanumeric'));
  for (const c of contracts) {
    assert.match(c.document, /^(\d{11}|[0-9A-Z]{12}\d{2})$/);
    const check = c.document.length === 11 ? cpfCheckDigits(c.document.slice(0, 9)) : cnpjCheckDigits(c.document.slice(0, 12));
    assert.equal(c.document.slice(-2), check, `check digits of ${c.document}`);
  }
});

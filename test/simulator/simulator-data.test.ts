import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideLink } from '../../src/domain/customer-linking.ts';
import { normaliseDocument } from '../../src/domain/documents.ts';
import { erpContractsFor, generateNetwork, type ErpContract } from '../../src/simulator/network-generator.ts';
import { hashUnit } from '../../src/simulator/seeded-random.ts';
import { randomCpf } from '../../src/simulator/simulated-documents.ts';
import { SeededRandom } from '../../src/simulator/seeded-random.ts';
import { startSimulator, type MalformedRecord } from '../../src/simulator/simulator.server.ts';

/** Four standard deviations of a share of `n` draws with probability `p`. */
const tolerance = (p: number, n: number) => 4 * Math.sqrt((p * (1 - p)) / n);

test('hashUnit is uniform over sequential keys, for several seeds and key prefixes', () => {
  const n = 100_000;
  for (const seed of [1, 7, 42]) {
    for (const prefix of ['pole', 'customer']) {
      const values = Array.from({ length: n }, (_, i) => hashUnit(seed, `${prefix}:${i + 1}`));
      assert.ok(values.every((v) => v >= 0 && v < 1));
      for (const threshold of [0.01, 0.1, 0.5, 0.9]) {
        const share = values.filter((v) => v < threshold).length / n;
        assert.ok(Math.abs(share - threshold) < tolerance(threshold, n), `seed ${seed}, ${prefix}: share below ${threshold} is ${share}`);
      }
      // Ten equal buckets, each within tolerance of a tenth.
      const buckets = new Array<number>(10).fill(0);
      for (const v of values) buckets[Math.floor(v * 10)]! += 1;
      for (const count of buckets) assert.ok(Math.abs(count / n - 0.1) < tolerance(0.1, n), `buckets ${buckets.join(',')}`);
    }
  }
});

test('hashUnit is stable per key, and seed + 1 gives an independent value', () => {
  assert.equal(hashUnit(3, 'box:100001'), hashUnit(3, 'box:100001'));
  const n = 100_000;
  // Of the keys under 0.1 for one seed, the next seed still spreads evenly (picks fault variants).
  const picked = Array.from({ length: n }, (_, i) => `splitter:${500_001 + i}`).filter((key) => hashUnit(9, key) < 0.1);
  const below = picked.filter((key) => hashUnit(10, key) < 0.5).length / picked.length;
  assert.ok(Math.abs(below - 0.5) < tolerance(0.5, picked.length), `share ${below} of ${picked.length}`);
});

test('malformedRate 0.01 corrupts about 1% of every record kind', async () => {
  const sim = await startSimulator({
    seed: 5,
    size: 60_000,
    limits: { concurrency: 50, requestsPerMinute: 10_000_000 },
    faults: { malformedRate: 0.01 },
  });
  try {
    const get = async (path: string): Promise<{ registros: unknown[]; totalRegistros: string }> => {
      const response = await fetch(`${sim.url}/api/v3/${path}`, { headers: { 'api-key': sim.token } });
      assert.equal(response.status, 200, path);
      return (await response.json()) as { registros: unknown[]; totalRegistros: string };
    };
    const readAll = async (path: string) => {
      for (let page = 1; ; page += 1) {
        const answer = await get(`${path}${path.includes('?') ? '&' : '?'}pagina=${page}&registrosPorPagina=1000`);
        if (page * 1000 >= Number(answer.totalRegistros)) return;
      }
    };
    await readAll('itensRede?item=poste&item=terminal&item=caixa');
    await readAll('clientes');
    const containers = [...sim.network.splittersByContainer.keys()];
    for (let i = 0; i < containers.length; i += 50) {
      await Promise.all(containers.slice(i, i + 50).map((id) => get(`diagrama/equipamentos/${id}`)));
    }

    const malformed = sim.malformedRecords();
    const totals: Record<MalformedRecord['kind'], number> = {
      pole: sim.network.poles.size,
      box: sim.network.boxes.size,
      splitter: sim.network.splitters.size,
      customer: sim.network.customers.size,
    };
    for (const kind of Object.keys(totals) as MalformedRecord['kind'][]) {
      const share = malformed.filter((m) => m.kind === kind).length / totals[kind];
      assert.ok(Math.abs(share - 0.01) < tolerance(0.01, totals[kind]), `${kind}: ${share} of ${totals[kind]} malformed`);
    }
    const poleVariants = new Set(malformed.filter((m) => m.kind === 'pole').map((m) => m.variant));
    assert.deepEqual([...poleVariants].sort(), ['bad_coordinates', 'missing_id', 'no_dados', 'not_an_object', 'text']);
  } finally {
    await sim.close();
  }
});

test('a CPF with dropped leading zeros keeps at least nine digits, as the domain rules need', () => {
  const random = new SeededRandom(3);
  for (let i = 0; i < 20_000; i += 1) {
    const cpf = randomCpf(random, true);
    const typed = cpf.replace(/^0+/, '');
    assert.equal(typed.length, 9, cpf);
    const result = normaliseDocument(typed);
    assert.ok(result.ok && result.value === cpf, `${typed} → ${JSON.stringify(result)}`);
  }
});

test('every generated document and every scenario agree with the domain rules', () => {
  for (const seed of [1, 2]) {
    const network = generateNetwork({ seed, size: 50_000 });
    const contracts = erpContractsFor(network);
    const byService = new Map(contracts.map((c) => [c.serviceId, c]));
    const byDocument = new Map<string, ErpContract[]>();
    for (const contract of contracts) byDocument.set(contract.document, [...(byDocument.get(contract.document) ?? []), contract]);
    assert.equal(byService.size, contracts.length, 'service ids are unique');

    const seen = { valid: 0, invalid: 0, leadingZeros: 0 };
    const statuses = new Map<string, number>();
    for (const customer of network.customers.values()) {
      if (!customer.scenario) continue;
      const document = normaliseDocument(customer.cpfCnpj);
      if (customer.cleanDocument === null) {
        assert.equal(document.ok, false, `customer ${customer.id}: meant invalid, the rules accept it`);
        seen.invalid += 1;
      } else {
        assert.ok(document.ok, `customer ${customer.id}: meant valid, rejected (${document.ok ? '' : document.reason})`);
        assert.equal(document.value, customer.cleanDocument, `customer ${customer.id}: normal form`);
        seen.valid += 1;
        if (/^\d{9,10}$/.test(customer.cpfCnpj ?? '')) seen.leadingZeros += 1;
      }

      const decision = decideLink({
        observation: customer.observacao,
        rawDocument: customer.cpfCnpj,
        contractById: (serviceId) => {
          const contract = byService.get(serviceId);
          return contract ? { serviceId, customerDocument: contract.document, active: contract.status === 'active' } : null;
        },
        contractsByDocument: (normal) => (byDocument.get(normal) ?? []).map((c) => ({ serviceId: c.serviceId, active: c.status === 'active' })),
      });
      assert.equal(decision.status, customer.scenario, `customer ${customer.id}: ${decision.reasonCode}`);
      if (decision.status === 'linked' || decision.status === 'linked_by_document') {
        assert.equal(decision.serviceId, customer.serviceId, `customer ${customer.id}: bound to its own contract`);
      }
      statuses.set(decision.status, (statuses.get(decision.status) ?? 0) + 1);
    }
    assert.ok(seen.valid > 5000 && seen.invalid > 50 && seen.leadingZeros > 300, JSON.stringify(seen));
    assert.equal(statuses.size, 5, `all five outcomes occur: ${[...statuses.keys()].join(', ')}`);
  }
});

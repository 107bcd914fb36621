/**
 * Throughput of the pure domain rules the sync runs once per record: reading an id out of an
 * observation, deciding a customer's link, generating a simulated network.
 *
 *   npm run bench:domain
 *
 * Env: DOMAIN_BENCH_ROUNDS (100000) observations and link decisions per measure;
 *      DOMAIN_BENCH_NETWORK (1000000) elements generated.
 * Prints one JSON line; the median of five measures per figure.
 */
import { decideLink } from '../src/domain/customer-linking.ts';
import { extractServiceId } from '../src/domain/observation.ts';
import { countNetwork, generateNetwork } from '../src/simulator/network-generator.ts';

const rounds = Number(process.env.DOMAIN_BENCH_ROUNDS ?? 100_000);
const networkSize = Number(process.env.DOMAIN_BENCH_NETWORK ?? 1_000_000);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function measure(times: number, work: () => void): number {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    work();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

const observations = ['ID: 123 - plano 300M', '<p>Cliente 321 / contrato</p>', 'Fone (11) 98765-4321, id 7', '', 'plano 300M 4567'];
const observationMs = measure(5, () => {
  for (let i = 0; i < rounds; i++) extractServiceId(observations[i % observations.length]);
});

const contracts = [
  { serviceId: '100', customerDocument: '12345678909', active: true },
  { serviceId: '999', customerDocument: '12345678000195', active: true },
  { serviceId: '555', customerDocument: '52998224725', active: true },
];
const byId = new Map(contracts.map((contract) => [contract.serviceId, contract]));
const byDocument = new Map(contracts.map((contract) => [contract.customerDocument, [{ serviceId: contract.serviceId, active: contract.active }]]));
const inputs: Array<[string | null, string | null]> = [
  ['ID: 100 - plano 300M', '123.456.789-09'],
  [null, '529.982.247-25'],
  ['<p>Cliente 999</p>', '12345678000195'],
  ['plano 300M', '12abc34501de35'],
  [null, null],
];
const linkMs = measure(5, () => {
  for (let i = 0; i < rounds; i++) {
    const [observation, rawDocument] = inputs[i % inputs.length]!;
    decideLink({ observation, rawDocument, contractById: (id) => byId.get(id) ?? null, contractsByDocument: (document) => byDocument.get(document) ?? [] });
  }
});

let generated = 0;
const generateMs = measure(3, () => {
  generated = countNetwork(generateNetwork({ seed: 1, size: networkSize })).total;
});

console.log(
  JSON.stringify({
    observationsPerSecond: Math.round((rounds / observationMs) * 1000),
    linkDecisionsPerSecond: Math.round((rounds / linkMs) * 1000),
    networkGeneration: { elements: generated, seconds: Number((generateMs / 1000).toFixed(2)) },
    node: process.version,
  }),
);

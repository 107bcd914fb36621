import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GeogridAdapter } from '../../src/platforms/geogrid/geogrid.adapter.ts';
import { countNetwork } from '../../src/simulator/network-generator.ts';
import { startSimulator } from '../../src/simulator/simulator.server.ts';
import { digestGenerated, digestRead, generatedContainers, readWholeNetwork } from './read-network.helper.ts';

test('the adapter reads a 10,000-element network over HTTP and never passes the concurrency cap', async () => {
  const concurrency = 10;
  const requestsPerMinute = 30_000;
  const sim = await startSimulator({
    seed: 7,
    size: 10_000,
    limits: { concurrency, requestsPerMinute },
    faults: { latencyMs: 25 },
  });
  const adapter = new GeogridAdapter({ apiUrl: sim.url, token: sim.token, http: { concurrency, requestsPerMinute } });
  try {
    assert.ok(countNetwork(sim.network).total >= 10_000);
    const read = await readWholeNetwork(adapter);

    assert.deepEqual(digestRead(read), digestGenerated(sim.network));
    assert.deepEqual(read.rejected, []);
    assert.equal(sim.stats.rateLimited, 0, 'no 429 in steady state');
    assert.equal(adapter.client.stats.rateLimited, 0);
    assert.equal(sim.stats.maxInFlight, concurrency, 'requests in flight reach the cap and never pass it');
    // One diagram call per container, plus one ports call per container with service equipment, plus list pages.
    const withService = new Set([...sim.network.splitters.values()].filter((s) => s.service).map((s) => s.containerId)).size;
    const containers = sim.network.poles.size + sim.network.boxes.size;
    assert.equal(sim.stats.byRoute['GET /diagrama/equipamentos/:id'], containers);
    assert.equal(sim.stats.byRoute['GET /equipamentos/itemRede/:id/portas'], withService);
  } finally {
    await adapter.close();
    await sim.close();
  }
});

test('the per-window budget is honoured: no 429 when the client budget fits, 429 + Retry-After recovered when it does not', async () => {
  // A 2 s window with a budget of 20 stands for a minute's budget, so the test takes seconds.
  const sim = await startSimulator({ seed: 3, size: 300, limits: { concurrency: 5, requestsPerMinute: 600, windowMs: 2000 } });
  const fitting = new GeogridAdapter({ apiUrl: sim.url, token: sim.token, http: { concurrency: 5, requestsPerMinute: 600 } });
  const greedy = new GeogridAdapter({ apiUrl: sim.url, token: sim.token, http: { concurrency: 5, requestsPerMinute: 6000 } });
  try {
    const ids = [...sim.network.poles.keys()].slice(0, 30).map((id) => ({ externalId: String(id), kind: 'pole' as const }));
    for await (const _ of fitting.splitters(ids)) {
      /* drain */
    }
    assert.equal(sim.stats.rateLimited, 0);

    await new Promise((resolve) => setTimeout(resolve, 2100));
    sim.resetStats();
    const pages = [];
    for await (const page of greedy.splitters(ids)) pages.push(page);
    assert.ok(sim.stats.rateLimited > 0, 'the greedy client met the budget');
    assert.equal(greedy.client.stats.rateLimited, sim.stats.rateLimited);
    assert.equal(sim.stats.byRoute['GET /diagrama/equipamentos/:id'], 30, 'every container read in the end');
  } finally {
    await fitting.close();
    await greedy.close();
    await sim.close();
  }
});

test('with 5% 500s, 2% hangs and 1% malformed records the read is still complete and correct', async () => {
  const sim = await startSimulator({
    seed: 11,
    size: 10_000,
    limits: { concurrency: 40, requestsPerMinute: 100_000 },
    faults: { errorRate: 0.05, hangRate: 0.02, malformedRate: 0.01 },
  });
  const adapter = new GeogridAdapter({
    apiUrl: sim.url,
    token: sim.token,
    http: { concurrency: 10, requestsPerMinute: 100_000, timeoutMs: 400, retries: 8, retryBaseDelayMs: 10 },
  });
  try {
    const read = await readWholeNetwork(adapter, generatedContainers(sim.network));
    const malformed = sim.malformedRecords();
    assert.ok(malformed.length > 30, `expected some malformed records, got ${malformed.length}`);
    assert.ok(sim.stats.injectedErrors > 50 && sim.stats.injectedHangs > 10);

    const skip = { pole: new Set<number>(), box: new Set<number>(), splitter: new Set<number>(), customer: new Set<number>() };
    for (const m of malformed) skip[m.kind].add(m.id);
    assert.deepEqual(digestRead(read), digestGenerated(sim.network, skip));

    // Every malformed record comes out as exactly one rejection with a reason code.
    const expectedCodes = malformed
      .map((m) => {
        const code = m.variant === 'bad_coordinates' ? 'bad_coordinates' : m.variant === 'missing_id' ? 'missing_id' : 'unreadable_record';
        const id = m.variant === 'bad_coordinates' ? String(m.id) : null;
        return `${m.kind}:${code}:${id}`;
      })
      .sort();
    const actualCodes = read.rejected.map((r) => `${r.kind}:${r.code}:${r.externalId}`).sort();
    assert.deepEqual(actualCodes, expectedCodes);
    for (const r of read.rejected) assert.ok(r.reason.length > 0);
    assert.ok(adapter.client.stats.timeouts > 0 && adapter.client.stats.retries > 0);
  } finally {
    await adapter.close();
    await sim.close();
  }
});

/**
 * A synced service with ERP contracts and a few bindings, for the operator panes' tests.
 */
import assert from 'node:assert/strict';
import { erpContractsFor } from '../../src/simulator/network-generator.ts';
import { cpfFor } from '../push/helpers/push-fixtures.ts';
import { waitForRunEnd } from './run-waiting.ts';
import type { TestService } from './test-service.ts';

/** Loads the simulator's ERP contracts, then syncs once: linking has every outcome. Returns the run id. */
export async function syncWithErpContracts(svc: TestService): Promise<string> {
  const contracts = erpContractsFor(svc.simulator.network);
  for (let i = 0; i < contracts.length; i += 1000) await svc.request('POST', '/v1/customers', { items: contracts.slice(i, i + 1000) });
  const queued = await svc.request('POST', `/v1/integrations/${svc.integrationId}/sync`);
  const run = await waitForRunEnd(svc, queued.body.runId, 60_000);
  assert.equal(run.status, 'succeeded', run.error);
  return run.id;
}

export interface NewContract {
  serviceId: string;
  name: string;
  /** Seed of a valid CPF (cpfFor). */
  cpf: number;
  /** `state` as pushed: one that is not a UF makes the platform refuse the push. */
  state: string;
}

/**
 * Upserts the contracts and binds each, in order, to a free service port (pending).
 * Returns the binding ids by service id and the ports used, with their box names.
 */
export async function bindOnFreePorts(
  svc: TestService,
  contracts: NewContract[],
): Promise<{ bindingIds: Record<string, number>; ports: { id: number; box: string }[] }> {
  await svc.request('POST', '/v1/customers', {
    items: contracts.map((c) => ({ serviceId: c.serviceId, document: cpfFor(c.cpf), name: c.name, status: 'active', state: c.state })),
  });
  const free = await svc.db
    .knex('ports as p')
    .join('splitters as s', 's.id', 'p.splitter_id')
    .join('boxes as b', 'b.id', 's.box_id')
    .where({ 's.role': 'service', 'p.available': true, 'p.planned': false, 's.planned': false, 'b.planned': false })
    .whereNull('p.removed_at')
    .whereNull('p.platform_customer_external_id')
    .orderBy('p.id')
    .limit(contracts.length)
    .select('p.id', 'b.name as box');
  const bindingIds: Record<string, number> = {};
  const ports: { id: number; box: string }[] = [];
  for (const [i, contract] of contracts.entries()) {
    const port = free[i]!;
    ports.push({ id: Number(port.id), box: port.box });
    const created = await svc.request('POST', '/v1/bindings', { serviceId: contract.serviceId, portId: Number(port.id) });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    bindingIds[contract.serviceId] = created.body.id;
  }
  return { bindingIds, ports };
}

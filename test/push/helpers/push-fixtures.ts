/**
 * Test data for the push: an integration row, service splitters and free ports copied
 * from a running simulator's network (as a sync would store them), ERP contracts, and
 * a pusher wired to the simulator over real HTTPS.
 */
import type { Knex } from 'knex';
import { integrationSchema, type IntegrationConfig } from '../../../src/config/config.schema.ts';
import { upsertCustomers } from '../../../src/customers/customers.service.ts';
import { silentLogger } from '../../../src/observability/logger.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { createPlatformAdapter } from '../../../src/platforms/adapter-factory.ts';
import type { PlatformAdapter } from '../../../src/platforms/platform-adapter.ts';
import { Pusher, type PusherOptions } from '../../../src/push/pusher.ts';
import { cpfCheckDigits } from '../../../src/simulator/simulated-documents.ts';
import type { RunningSimulator } from '../../../src/simulator/simulator.server.ts';
import type { SimPort } from '../../../src/simulator/network-generator.ts';
import { PLATFORMS, type PlatformUnderTest } from '../../helpers/platforms.ts';

export interface SeededPort {
  /** mapsync ports.id */
  id: number;
  externalId: string;
  sim: SimPort;
}

export async function seedIntegration(knex: Knex, id: string, apiUrl = 'https://platform.example', platform = 'simulator'): Promise<void> {
  await knex('integrations').insert({ id, platform, api_url: apiUrl }).onConflict('id').ignore();
}

/**
 * Free service ports of the simulator (no customer, not reserved, not planned), stored as a sync
 * of `platform` (default GeoGrid) would, with that platform's ids.
 */
export async function seedFreeServicePorts(knex: Knex, integrationId: string, sim: RunningSimulator, count: number, platform: PlatformUnderTest = PLATFORMS[0]!): Promise<SeededPort[]> {
  const picked: SimPort[] = [];
  for (const splitter of sim.network.splitters.values()) {
    if (!splitter.service) continue;
    for (const port of splitter.ports) {
      const container = sim.network.boxes.get(port.containerId) ?? sim.network.poles.get(port.containerId);
      if (splitter.planned || container?.planned) continue;
      if (picked.length < count && !port.reserved && port.customerId === null) picked.push(port);
    }
  }
  if (picked.length < count) throw new Error(`the simulator has only ${picked.length} free service ports; ${count} wanted`);
  return seedPorts(knex, integrationId, sim, picked, platform);
}

export async function seedPorts(knex: Knex, integrationId: string, sim: RunningSimulator, ports: SimPort[], platform: PlatformUnderTest = PLATFORMS[0]!): Promise<SeededPort[]> {
  const splitterIds = new Map<number, number>();
  const boxIds = new Map<number, number>();
  for (const port of ports) {
    if (splitterIds.has(port.splitterId)) continue;
    const splitter = sim.network.splitters.get(port.splitterId)!;
    if (!boxIds.has(splitter.containerId)) {
      // The box holding the splitter, where the sync puts it (a pole's equipment: its auto box, at the pole).
      const box = sim.network.boxes.get(splitter.containerId);
      const place = box ?? sim.network.poles.get(splitter.containerId)!;
      const [boxRow] = await knex('boxes')
        .insert({
          integration_id: integrationId,
          external_id: box ? platform.boxId(box.id) : platform.poleEquipmentBox(splitter.containerId),
          content_hash: 'seed',
          name: place.sigla,
          kind: 'cto',
          auto: !box && platform.autoBoxes,
          geom: knex.raw('ST_SetSRID(ST_MakePoint(?, ?), 4326)', [place.lon, place.lat]),
        })
        .onConflict(['integration_id', 'external_id'])
        .merge(['content_hash'])
        .returning('id');
      boxIds.set(splitter.containerId, (boxRow as { id: number }).id);
    }
    const [row] = await knex('splitters')
      .insert({
        integration_id: integrationId,
        external_id: platform.splitterId(splitter.id),
        content_hash: 'seed',
        box_id: boxIds.get(splitter.containerId)!,
        container_external_id: splitter.containerKind === 'box' ? platform.boxId(splitter.containerId) : platform.poleEquipmentContainer(splitter.containerId),
        name: splitter.sigla,
        role: splitter.service ? 'service' : 'distribution',
        ratio_in: splitter.ratioIn,
        ratio_out: splitter.ratioOut,
      })
      .onConflict(['integration_id', 'external_id'])
      .merge(['content_hash'])
      .returning('id');
    splitterIds.set(port.splitterId, (row as { id: number }).id);
  }
  const rows = await knex('ports')
    .insert(
      ports.map((port) => ({
        integration_id: integrationId,
        external_id: platform.portId(port),
        content_hash: 'seed',
        splitter_id: splitterIds.get(port.splitterId)!,
        number: port.number,
        label: port.label,
        available: !port.reserved && port.customerId === null,
        platform_customer_external_id: port.customerId === null ? null : platform.customerId(port.customerId),
      })),
    )
    .returning(['id', 'external_id']);
  const byExternal = new Map((rows as { id: number; external_id: string }[]).map((r) => [r.external_id, r.id]));
  return ports.map((port) => ({ id: byExternal.get(platform.portId(port))!, externalId: platform.portId(port), sim: port }));
}

/** A valid CPF made from a number, so tests get as many distinct documents as they need. */
export function cpfFor(n: number): string {
  const base = String(100_000_000 + n).slice(-9);
  return base + cpfCheckDigits(base);
}

export interface TestContract {
  serviceId: string;
  document: string;
  name: string;
}

/** `count` active contracts, each with its own holder. */
export async function seedContracts(knex: Knex, count: number, options: { prefix?: string; extra?: Record<string, unknown> } = {}): Promise<TestContract[]> {
  const prefix = options.prefix ?? 'SC';
  const contracts: TestContract[] = [];
  for (let i = 1; i <= count; i += 1) {
    contracts.push({ serviceId: `${prefix}${i}`, document: cpfFor(i + hash(prefix)), name: `Cliente ${prefix} ${i}` });
  }
  for (let start = 0; start < contracts.length; start += 1000) {
    const result = await upsertCustomers(
      knex,
      contracts.slice(start, start + 1000).map((c) => ({ ...c, status: 'active', lat: -22.9, lon: -47.06, ...options.extra })),
    );
    if (result.errors.length > 0) throw new Error(`seed contracts: ${JSON.stringify(result.errors.slice(0, 3))}`);
  }
  return contracts;
}

function hash(text: string): number {
  let h = 0;
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) % 100_000;
  return h * 1000;
}

/** An integration config pointing at the simulator, as config/ would declare it. */
export function simulatorIntegration(id: string, sim: RunningSimulator, overrides: Record<string, unknown> = {}, platform: PlatformUnderTest = PLATFORMS[0]!): IntegrationConfig {
  return integrationSchema.parse({
    id,
    platform: platform.configPlatform,
    apiUrl: sim.url,
    token: sim.token,
    project: { link: 'Centro' },
    http: { concurrency: 5, requestsPerMinute: 100_000, timeoutMs: 5_000, retries: 1 },
    ...overrides,
  });
}

export interface TestPusher {
  pusher: Pusher;
  adapter: PlatformAdapter;
  metrics: ReturnType<typeof createMetrics>;
  close(): Promise<void>;
}

/** A pusher on its own adapter (own HTTP client and rate limiter), like a second process would have. */
export function pusherFor(
  knex: Knex,
  sim: RunningSimulator,
  integration: IntegrationConfig,
  options: PusherOptions & { wrapAdapter?: (adapter: PlatformAdapter) => PlatformAdapter } = {},
): TestPusher {
  const base = createPlatformAdapter(integration, sim.ca ? { ca: sim.ca } : {});
  const adapter = options.wrapAdapter ? options.wrapAdapter(base) : base;
  const metrics = createMetrics();
  const pusher = new Pusher(
    { knex, logger: silentLogger(), metrics, integrations: new Map([[integration.id, integration]]), adapterFor: () => adapter },
    { backoff: { baseMs: 20, maxMs: 200 }, pollMs: 200, ...options },
  );
  return {
    pusher,
    adapter,
    metrics,
    async close() {
      await pusher.stop();
      await base.close?.();
    },
  };
}

export async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

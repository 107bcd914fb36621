import type { PlatformBox, PlatformCustomer, PlatformPole, PlatformSplitter, Rejection } from '../../src/domain/network.ts';
import type { GeogridAdapter } from '../../src/platforms/geogrid/geogrid.adapter.ts';
import type { ContainerRef } from '../../src/platforms/platform-adapter.ts';
import type { SimNetwork } from '../../src/simulator/network-generator.ts';

export interface ReadNetwork {
  poles: PlatformPole[];
  boxes: PlatformBox[];
  splitters: PlatformSplitter[];
  customers: PlatformCustomer[];
  rejected: Rejection[];
}

async function drain<T>(pages: AsyncIterable<{ items: T[]; rejected: Rejection[] }>, rejected: Rejection[]): Promise<T[]> {
  const items: T[] = [];
  for await (const page of pages) {
    items.push(...page.items);
    rejected.push(...page.rejected);
  }
  return items;
}

/** Reads the whole network the way a sync does: poles, boxes, then the equipment in every box and pole. */
export async function readWholeNetwork(adapter: GeogridAdapter, containers?: ContainerRef[]): Promise<ReadNetwork> {
  const rejected: Rejection[] = [];
  const scope = { projectExternalIds: [] };
  const [poles, boxes] = await Promise.all([drain(adapter.poles(scope), rejected), drain(adapter.boxes(scope), rejected)]);
  const refs: ContainerRef[] = containers ?? [
    ...boxes.map((b) => ({ externalId: b.externalId, kind: 'box' as const })),
    ...poles.map((p) => ({ externalId: p.externalId, kind: 'pole' as const })),
  ];
  const splitters = await drain(adapter.splitters(refs), rejected);
  const customers = await drain(adapter.customers(scope), rejected);
  return { poles, boxes, splitters, customers, rejected };
}

/** Every container of the generated network, as refs. */
export function generatedContainers(network: SimNetwork): ContainerRef[] {
  return [
    ...[...network.boxes.keys()].map((id) => ({ externalId: String(id), kind: 'box' as const })),
    ...[...network.poles.keys()].map((id) => ({ externalId: String(id), kind: 'pole' as const })),
  ];
}

/** Comparable digests of what was read and what was generated (minus ids listed as skipped). */
export function digestRead(read: ReadNetwork) {
  return {
    poles: read.poles.map((p) => `${p.externalId}@${p.lat},${p.lon}/${p.projectExternalId}`).sort(),
    boxes: read.boxes.map((b) => `${b.externalId}:${b.kind}@${b.lat},${b.lon}^${b.poleExternalId}`).sort(),
    splitters: read.splitters
      .map((s) => `${s.externalId}<${s.containerExternalId}:${s.containerKind}>${s.role}:${s.ratioIn}x${s.ratioOut}[${s.ports.map((p) => `${p.externalId}#${p.number}=${p.customer?.externalId ?? '-'}`).join(',')}]`)
      .sort(),
    customers: read.customers.map((c) => `${c.externalId}|${c.rawDocument}|${c.observation}`).sort(),
  };
}

export function digestGenerated(network: SimNetwork, skip: { pole?: Set<number>; box?: Set<number>; splitter?: Set<number>; customer?: Set<number> } = {}) {
  return {
    poles: [...network.poles.values()].filter((p) => !skip.pole?.has(p.id)).map((p) => `${p.id}@${p.lat},${p.lon}/${p.folderId}`).sort(),
    boxes: [...network.boxes.values()]
      .filter((b) => !skip.box?.has(b.id))
      .map((b) => `${b.id}:${b.item === 'terminal' ? 'cto' : 'splice'}@${b.lat},${b.lon}^${b.poleId}`)
      .sort(),
    splitters: [...network.splitters.values()]
      .filter((s) => !skip.splitter?.has(s.id))
      .map((s) => `${s.id}<${s.containerId}:${s.containerKind}>${s.service ? 'service' : 'distribution'}:${s.ratioIn}x${s.ratioOut}[${s.ports.map((p) => `${p.id}#${p.number}=${p.customerId ?? '-'}`).join(',')}]`)
      .sort(),
    customers: [...network.customers.values()]
      .filter((c) => !skip.customer?.has(c.id))
      .map((c) => `${c.id}|${c.cpfCnpj?.trim() || null}|${c.observacao?.trim() ? c.observacao : null}`)
      .sort(),
  };
}

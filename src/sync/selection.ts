import type { ElementKind } from '../domain/network.ts';

/**
 * What a run keeps, from the integration's element kinds. Poles and boxes are always read
 * (equipment is found inside them); those holding synced equipment are kept as containers
 * even when their own kind is not selected.
 */
export interface Selection {
  poles: boolean;
  boxes: boolean;
  serviceSplitters: boolean;
  distributionSplitters: boolean;
  /** Every platform customer; without it, only the customers on synced ports. */
  customers: boolean;
}

export function selectionOf(kinds: readonly ElementKind[]): Selection {
  const has = (kind: ElementKind) => kinds.includes(kind);
  return {
    poles: has('poles'),
    boxes: has('boxes'),
    serviceSplitters: has('service_splitters'),
    distributionSplitters: has('distribution_splitters'),
    customers: has('customers'),
  };
}

/** Whether the run reads the platform's customer list at all. */
export function readsCustomers(selection: Selection): boolean {
  return selection.customers || selection.serviceSplitters;
}

/** What of the selection decides which equipment is stored: part of each equipment read's hash. */
export function equipmentSelectionKey(selection: Selection): string {
  return `service=${selection.serviceSplitters},distribution=${selection.distributionSplitters}`;
}

/** Count keys of a run: one per table the run writes. */
export const COUNT_KINDS = ['poles', 'boxes', 'splitters', 'ports', 'customers'] as const;
export type CountKind = (typeof COUNT_KINDS)[number];

/** The count kind of an adapter rejection. */
export function countKindOf(kind: string): CountKind | 'projects' {
  switch (kind) {
    case 'pole':
    case 'poles':
      return 'poles';
    case 'box':
    case 'boxes':
      return 'boxes';
    case 'splitter':
    case 'service_splitters':
    case 'distribution_splitters':
      return 'splitters';
    case 'port':
    case 'ports':
      return 'ports';
    case 'project':
      return 'projects';
    default:
      return 'customers';
  }
}

/** Stable identity of the box mapsync creates for a pole that carries equipment directly. */
export function autoBoxExternalId(poleExternalId: string): string {
  return `auto:pole:${poleExternalId}`;
}
export const AUTO_BOX_PREFIX = 'auto:pole:';

/**
 * What a sync asks of the platform, beside the least the platform allows for the same network,
 * and what that count costs at GeoGrid's pace. Used by bench/run.ts.
 *
 * The minimum (issue "Performance where users feel it"): every list page (folders, poles,
 * boxes, customers) plus one read per container that holds equipment; the batch equivalent
 * replaces those reads by one per PORT_COUNTS_BATCH containers (what a re-sync whose
 * containers are all unchanged needs at least, with batch reads on).
 */
import { DEFAULT_PAGE_SIZE, PORT_COUNTS_BATCH } from '../src/platforms/geogrid/geogrid.wire.ts';
import type { SimNetwork } from '../src/simulator/network-generator.ts';

/** GeoGrid's pace as its public clients keep it: about 35 calls per 0.9 s (5 in flight). */
export const GEOGRID_CALLS_PER_SECOND = 35 / 0.9;

export interface PlatformMinimum {
  listPages: number;
  containersWithEquipment: number;
  /** List pages + one read per container holding equipment. */
  perContainer: number;
  /** List pages + one batch read per PORT_COUNTS_BATCH containers holding equipment. */
  batch: number;
}

export function platformMinimum(network: SimNetwork, pageSize = DEFAULT_PAGE_SIZE): PlatformMinimum {
  const pages = (n: number) => Math.max(1, Math.ceil(n / pageSize));
  const listPages = pages(network.folders.length) + pages(network.poles.size) + pages(network.boxes.size) + pages(network.customers.size);
  let containersWithEquipment = 0;
  for (const splitters of network.splittersByContainer.values()) if (splitters.length > 0) containersWithEquipment += 1;
  return {
    listPages,
    containersWithEquipment,
    perContainer: listPages + containersWithEquipment,
    batch: listPages + Math.ceil(containersWithEquipment / PORT_COUNTS_BATCH),
  };
}

/** Seconds `requests` take at GEOGRID_CALLS_PER_SECOND. */
export function atGeogridPace(requests: number): number {
  return requests / GEOGRID_CALLS_PER_SECOND;
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export interface RequestFigures {
  requests: number;
  /** The minimum this sync is compared with (perContainer for a first or --full sync, batch for a re-sync). */
  minimum: number;
  ratio: number;
  secondsAtGeogridPace: number;
}

export function requestFigures(requests: number, minimum: number): RequestFigures {
  return { requests, minimum, ratio: Number((requests / minimum).toFixed(2)), secondsAtGeogridPace: Math.round(atGeogridPace(requests)) };
}

/** One line for the bench log: `7,466 requests, minimum 5,210 (1.43×), 3.2 min at GeoGrid's pace`. */
export function requestLine(figures: RequestFigures): string {
  return `${figures.requests.toLocaleString('en')} requests, platform minimum ${figures.minimum.toLocaleString('en')} (${figures.ratio}×), ${duration(figures.secondsAtGeogridPace)} at GeoGrid's pace`;
}

/** A markdown table: per size and sync, the requests, the minimum, the ratio and the time at GeoGrid's pace. */
export function requestTable(rows: Array<{ size: number; sync: string; figures: RequestFigures }>): string {
  return [
    "| size | sync | requests | platform minimum | requests / minimum | at GeoGrid's pace |",
    '|---:|---|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.size.toLocaleString('en')} | ${r.sync} | ${r.figures.requests.toLocaleString('en')} | ${r.figures.minimum.toLocaleString('en')} | ${r.figures.ratio}× | ${duration(r.figures.secondsAtGeogridPace)} |`,
    ),
  ].join('\n');
}

import type { Rejection, RejectionCode } from '../domain/network.ts';

/**
 * Platform-neutral checks every adapter applies while normalising records: ids,
 * coordinates and duplicates. A bad record becomes a `Rejection` with a stable code;
 * it never throws and never stops the rest of the page.
 */

export type RejectionKind = Rejection['kind'];

export function reject(kind: RejectionKind, externalId: string | null, code: RejectionCode, reason: string): Rejection {
  return { kind, externalId, code, reason };
}

/** A platform id as a trimmed string; null for missing, blank or non-scalar values. */
export function externalIdOf(value: unknown): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return trimmed === '' ? null : trimmed;
  }
  return null;
}

/** A number from a JSON number or a numeric string, accepting a decimal comma ("-22,9"). */
export function numberOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const text = value.trim().replace(',', '.');
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

export type CoordinateCheck = { ok: true; lat: number; lon: number } | { ok: false; reason: string };

export function checkCoordinates(latValue: unknown, lonValue: unknown): CoordinateCheck {
  const lat = numberOf(latValue);
  const lon = numberOf(lonValue);
  if (lat === null || lon === null) {
    return { ok: false, reason: `coordinates are not numbers (latitude ${show(latValue)}, longitude ${show(lonValue)})` };
  }
  if (lat < -90 || lat > 90 || lon < -180 || lon > 180) {
    return { ok: false, reason: `coordinates out of range (latitude ${lat}, longitude ${lon})` };
  }
  if (lat === 0 && lon === 0) return { ok: false, reason: 'coordinates are 0,0 (not placed on the map)' };
  return { ok: true, lat, lon };
}

/** Remembers the ids seen in one stream, to reject a repeated one. */
export class DuplicateIdGuard {
  private readonly seen = new Set<string>();

  /** True the first time an id is seen. */
  firstTime(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    return true;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Trimmed text, or null when empty or not a scalar. */
export function textOf(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

function show(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

import type { PlatformProject, Rejection, RejectionCode } from '../domain/network.ts';
import { BRAZIL_EXTENT, areaContains, type PositionRule } from '../domain/positions.ts';

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

/**
 * A number from a JSON number or a numeric string, accepting a decimal comma ("-22,9") and
 * the typographic minus sign (U+2212) spreadsheets put in exports. Thousands separators are
 * not accepted: "-23,550,520" is not a number.
 */
export function numberOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const text = value.trim().replace(/^\u2212/, '-').replace(',', '.');
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
    return { ok: false, reason: `coordinates out of range (latitude ${lat}, longitude ${lon})${scaledHint(lat, lon)}` };
  }
  if (lat === 0 && lon === 0) return { ok: false, reason: 'coordinates are 0,0 (not placed on the map)' };
  return { ok: true, lat, lon };
}

/**
 * Degrees stored as integers (×1e5, ×1e6, ×1e7, as some GPS exports do) are out of range.
 * They are never scaled back silently: the factor is a guess. The reason names the factor
 * that would put the point in Brazil's bounding box, when one does.
 */
function scaledHint(lat: number, lon: number): string {
  for (const factor of [1e5, 1e6, 1e7]) {
    const [scaledLat, scaledLon] = [lat / factor, lon / factor];
    if (areaContains(BRAZIL_EXTENT, scaledLat, scaledLon)) {
      return `; they look like degrees multiplied by ${factor.toExponential().replace('e+', 'e')} (latitude ${scaledLat}, longitude ${scaledLon})`;
    }
  }
  return '';
}

/**
 * Rejects a position that is a valid point but not where the integration's network can be
 * (see src/domain/positions.ts): `coordinates_swapped` when the swapped pair would be
 * plausible, else `implausible_coordinates`. Null when the position is plausible.
 */
export function screenPosition(rule: PositionRule, kind: RejectionKind, externalId: string, lat: number, lon: number): Rejection | null {
  const verdict = rule.judge(lat, lon);
  if (verdict.plausible) return null;
  return reject(kind, externalId, verdict.code, `${kind} ${externalId}: ${verdict.reason}`);
}

/**
 * PostgreSQL text can hold neither a NUL character nor half of a UTF-16 surrogate pair (the
 * driver turns one into invalid UTF-8 or an invalid JSON escape, and the whole statement
 * fails). Either can come from a platform's free-text fields.
 */
const NUL = '\u0000';
const LONE_SURROGATE = '[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]';
const UNSTORABLE = new RegExp(`${NUL}|${LONE_SURROGATE}`);
/** Cheap first look: most text has neither a NUL nor any surrogate (emoji are pairs of them). */
const SUSPECT = /[\u0000\uD800-\uDFFF]/;

/** The text without NUL characters and with each lone surrogate replaced by U+FFFD. */
export function cleanText(text: string): string {
  return text.replaceAll(NUL, '').replace(new RegExp(LONE_SURROGATE, 'g'), '\uFFFD');
}

/** True when the text holds a NUL or a lone surrogate. */
export function needsCleaning(text: string): boolean {
  return SUSPECT.test(text) && UNSTORABLE.test(text);
}

/** What cleaning a record found: the paths of changed text fields, split by whether they are ids. */
export interface TextCleaning<T> {
  record: T;
  /** Text fields cleaned, as paths (`name`, `customer.name`). */
  cleaned: string[];
  /** Id fields (`externalId`, `…ExternalId`) holding such characters: the record cannot be trusted. */
  badIds: string[];
}

const isIdField = (key: string) => key === 'externalId' || key.endsWith('ExternalId');

/**
 * Cleans every string of a normalised platform record (nested objects and arrays included),
 * returning a copy only when something changed. Ids are cleaned too, but reported apart: a
 * changed id would point at another element, so the caller rejects such a record.
 */
export function cleanRecordText<T>(record: T): TextCleaning<T> {
  const cleaned: string[] = [];
  const badIds: string[] = [];
  const walk = (value: unknown, path: string, key: string): unknown => {
    if (typeof value === 'string') {
      if (!needsCleaning(value)) return value;
      (isIdField(key) ? badIds : cleaned).push(path);
      return cleanText(value);
    }
    if (Array.isArray(value)) {
      let changed = false;
      const out = value.map((item, index) => {
        const next = walk(item, `${path}[${index}]`, key);
        if (next !== item) changed = true;
        return next;
      });
      return changed ? out : value;
    }
    if (isRecord(value)) {
      let out: Record<string, unknown> | null = null;
      for (const k in value) {
        const v = value[k];
        // Clean text (nearly all of it) is checked without building its path.
        if (v === null || typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && !needsCleaning(v))) continue;
        const next = walk(v, path === '' ? k : `${path}.${k}`, k);
        if (next !== v) (out ??= { ...value })[k] = next;
      }
      return out ?? value;
    }
    return value;
  };
  return { record: walk(record, '', '') as T, cleaned, badIds };
}

/**
 * The platform's projects with storable names (see cleanText); a project whose id holds a NUL
 * or a lone surrogate is left out, as it could not be read back by that id.
 */
export function storableProjects(projects: PlatformProject[]): PlatformProject[] {
  return projects.flatMap((project) => {
    const { record, badIds } = cleanRecordText(project);
    return badIds.length > 0 ? [] : [record];
  });
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

/** JSON with object keys sorted at every level: the same record always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
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
